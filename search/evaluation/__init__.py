"""Measured quality: datasets, retrieval metrics and the ``loupe eval`` harness."""
