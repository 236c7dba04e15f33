"""Running the switched-on enrichers over one image and gathering their payload fields."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from PIL import Image

from loupe.ingest.enrich.alt import alt_text, people_count
from loupe.ingest.enrich.base import MIN_PX, Enricher, Frame
from loupe.search.errors import InvalidInput

log = logging.getLogger(__name__)

ENRICH_KEY = "enrich"


class Enrichers:
    """The enrichers a process runs, in a fixed order. ``run`` never raises for a bad image."""

    def __init__(self, enrichers: Sequence[Enricher]) -> None:
        self.enrichers = list(enrichers)

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.enrichers]

    def load(self) -> None:
        for enricher in self.enrichers:
            enricher.load()

    def empty(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "enrichers": self.names,
            "ran": [],
            "people": None,
            "alt": {"en": "", "zh": ""},
        }
        for enricher in self.enrichers:
            fields.update(enricher.empty())
        return fields

    def run(self, image: Image.Image) -> dict[str, Any]:
        """The ``enrich`` payload of an image: every enricher's fields, the names of those
        switched on (``enrichers``) and of those that looked (``ran``), and the alt text."""
        fields = self.empty()
        if not self.enrichers:
            return fields
        if min(image.size) < MIN_PX:
            return fields
        frame = Frame.of(image)
        for enricher in self.enrichers:
            try:
                fields.update(enricher(frame))
            except Exception:  # one enricher's failure must not fail the item
                log.warning("enricher %s failed on an image", enricher.name, exc_info=True)
                continue
            fields["ran"].append(enricher.name)
        if {"faces", "objects"} & set(fields["ran"]):
            fields["people"] = people_count(fields)
        fields["alt"] = alt_text(fields)
        return fields


def build_enrichers(names: Sequence[str], *, ocr_min_score: float = 0.8) -> Enrichers:
    """The enrichers named in ``LOUPE_ENRICHERS`` (InvalidInput for an unknown or missing one)."""
    from loupe.ingest.enrich.colour import ColourEnricher
    from loupe.ingest.enrich.faces import FaceEnricher
    from loupe.ingest.enrich.objects import ObjectEnricher, objects_available
    from loupe.ingest.enrich.ocr import OcrEnricher

    if names:
        import cv2

        cv2.setNumThreads(1)  # enrichers run on the ingest threads; no pool of OpenCV's own
    built: list[Enricher] = []
    for name in dict.fromkeys(names):
        if name == "ocr":
            built.append(OcrEnricher(min_score=ocr_min_score))
        elif name == "faces":
            built.append(FaceEnricher())
        elif name == "colour":
            built.append(ColourEnricher())
        elif name == "objects":
            if not objects_available():
                raise InvalidInput(
                    "LOUPE_ENRICHERS has 'objects' but its optional weights are not installed: "
                    "pip install 'loupe[objects]' (licence of those weights: unknown)"
                )
            built.append(ObjectEnricher())
        else:
            raise InvalidInput(f"unknown enricher {name!r} in LOUPE_ENRICHERS")
    return Enrichers(built)
