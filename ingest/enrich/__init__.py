"""Enrichers: OCR, objects, faces and colours/light, run over each image at ingest."""
