"""Backfill: look at images already stored with the enrichers switched on now.

An ``enrich`` job holds one unit per live image whose payload was written with other enrichers
(or with none: before enrichers existed), or per live image with ``everything``. Its units go
through the ordinary pipeline (decode, embed, enrich, upsert over the same point id), into the
live collection and the shadow of a running reindex, so searches keep being answered from the
live collection the whole time and see each image's new fields as soon as its batch lands.
Progress is the job's (``GET /v1/jobs/{id}``, ``loupe jobs``).
"""

from __future__ import annotations

from typing import Any

from loupe.ingest.enrich.runner import ENRICH_KEY
from loupe.ingest.items import ItemSpec, Modality
from loupe.ingest.jobs import Job, JobKind, Unit
from loupe.ingest.pipeline import Pipeline
from loupe.search.errors import Unavailable

SCROLL_PAGE = 512


def stale(payload: dict[str, Any], enrichers: list[str]) -> bool:
    """Whether an image's payload was enriched with other enrichers than ``enrichers``."""
    enrich = payload.get(ENRICH_KEY)
    if not isinstance(enrich, dict) or "enrichers" not in enrich:
        return True
    return sorted(enrich.get("enrichers") or []) != sorted(enrichers)


def start(pipeline: Pipeline, *, everything: bool = False) -> Job:
    """Create the enrich job for the live collection (Unavailable when there is none)."""
    live = pipeline.index.resolve_alias(pipeline.alias)
    if live is None:
        raise Unavailable("there is no live collection")
    pipeline.check_space()
    wanted = pipeline.enrichers.names
    units: list[Unit] = []
    offset: str | None = None
    while True:
        hits, offset = pipeline.index.scroll(live, limit=SCROLL_PAGE, offset=offset)
        for hit in hits:
            if hit.payload.get("modality") != Modality.IMAGE.value:
                continue
            if everything or stale(hit.payload, wanted):
                spec = ItemSpec.from_payload(hit.id, hit.payload)
                ref = {"kind": "blob", "spec": spec.to_json()}
                units.append(Unit(seq=len(units), name=spec.filename or spec.id, ref=ref))
        if offset is None:
            break
    meta = {"collection": live, "enrichers": wanted, "everything": everything}
    return pipeline.jobs.create(JobKind.ENRICH, units, meta=meta)
