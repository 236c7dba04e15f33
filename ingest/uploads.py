"""Uploads from the API: validate every file first (all or nothing), store blobs, fold
duplicates, create one job and hand it to the dispatcher."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from loupe.ingest.items import ItemSpec
from loupe.ingest.jobs import Job, JobKind, Unit
from loupe.ingest.library import Change, change_items
from loupe.ingest.pipeline import Pipeline
from loupe.ingest.units import store_image, text_spec
from loupe.ingest.validate import inspect_image
from loupe.search.errors import InvalidInput, LoupeError


@dataclass(frozen=True, slots=True)
class UploadFile:
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True, slots=True)
class TextItem:
    text: str
    tags: list[str]
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Accepted:
    id: str | None  # None for a refused file
    status: str  # "queued" | "duplicate" | "refused"
    filename: str | None
    error: str | None = None  # why a file was refused


@dataclass(frozen=True, slots=True)
class Refused:
    """A file of an upload that was not accepted (the others were)."""

    filename: str | None
    message: str


def _prefixed(exc: LoupeError, name: str) -> LoupeError:
    return type(exc)(f"{name}: {exc.message}")


def image_specs(
    pipeline: Pipeline,
    files: Sequence[UploadFile],
    *,
    tags: list[str],
    metadata: dict[str, Any],
    tenant: str | None = None,
) -> list[ItemSpec | Refused]:
    """Check every file and store the good ones; a bad file is ``Refused`` (in its place) and
    the others still go in, so a batch is sent once. When no file is good the first refusal is
    raised (the request fails as a whole). The items are ``tenant``'s (None: the library without
    tenants)."""
    pipeline.check_space(sum(len(f.data) for f in files))
    outcomes: list[ItemSpec | Refused] = []
    first: LoupeError | None = None
    for number, upload in enumerate(files, start=1):
        try:
            info = inspect_image(
                upload.data,
                filename=upload.filename,
                content_type=upload.content_type,
                max_bytes=pipeline.limits.max_bytes,
                max_pixels=pipeline.limits.max_pixels,
            )
        except LoupeError as exc:
            first = first or _prefixed(exc, upload.filename or f"file {number}")
            outcomes.append(Refused(upload.filename, exc.message))
            continue
        outcomes.append(
            store_image(
                upload.data,
                info,
                blobs=pipeline.blobs,
                filename=upload.filename,
                tags=tags,
                metadata=metadata,
                tenant=tenant,
            )
        )
    if first is not None and all(isinstance(o, Refused) for o in outcomes):
        raise first
    return outcomes


def text_specs(
    pipeline: Pipeline, items: Sequence[TextItem], *, tenant: str | None = None
) -> list[ItemSpec]:
    pipeline.check_space(sum(len(i.text) * 4 for i in items))
    specs = []
    for number, item in enumerate(items, start=1):
        try:
            spec, _ = text_spec(
                item.text,
                blobs=pipeline.blobs,
                limits=pipeline.limits,
                tags=item.tags,
                metadata=item.metadata,
                tenant=tenant,
            )
        except LoupeError as exc:
            raise _prefixed(exc, f"item {number}") from None
        specs.append(spec)
    return specs


def submit(
    pipeline: Pipeline,
    outcomes: Sequence[ItemSpec | Refused],
    *,
    meta: dict[str, Any] | None = None,
) -> tuple[Job | None, list[Accepted]]:
    """Queue the specs not already stored (or earlier in this batch) as one upload job (with
    ``meta``); the tags of a spec already stored are added to the stored item."""
    specs = [o for o in outcomes if isinstance(o, ItemSpec)]
    if not specs:
        raise InvalidInput("nothing to upload")
    live = pipeline.index.resolve_alias(pipeline.alias)
    stored = set()
    if live is not None:
        stored = {hit.id for hit in pipeline.index.retrieve(live, [s.id for s in specs])}
    accepted: list[Accepted] = []
    fresh: list[ItemSpec] = []
    seen: set[str] = set()
    for spec in outcomes:
        if isinstance(spec, Refused):
            accepted.append(Accepted(None, "refused", spec.filename, spec.message))
            continue
        duplicate = spec.id in stored or spec.id in seen
        seen.add(spec.id)
        accepted.append(Accepted(spec.id, "duplicate" if duplicate else "queued", spec.filename))
        if not duplicate:
            fresh.append(spec)
        elif spec.id in stored and spec.tags and live is not None:
            # The same photo again with tags: they are added to the stored item.
            change_items(
                pipeline.index, [spec.id], Change(add_tags=spec.tags), tenant=spec.tenant, live=live
            )
    if not fresh:
        return None, accepted
    units = [
        Unit(seq=i, name=s.filename or s.id, ref={"kind": "blob", "spec": s.to_json()})
        for i, s in enumerate(fresh)
    ]
    job = pipeline.jobs.create(JobKind.UPLOAD, units, meta=meta)
    return job, accepted
