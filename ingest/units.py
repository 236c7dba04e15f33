"""Turning a work unit's ``ref`` into a validated item ready to embed.

Unit refs (JSON, small enough to live in a job row or a task):
- ``{"kind": "blob", "spec": ItemSpec}`` — content already in the blob store (uploads, reindex);
- ``{"kind": "file", "path": ...}`` — a file under an ingest root (bulk folder or manifest);
- ``{"kind": "zip", "archive": ..., "member": ...}`` — a member of a zip archive;
- ``{"kind": "raw", "blob": ..., "name": ...}`` — unvalidated bytes streamed from a tar archive;
- ``{"kind": "text", "text": ...}`` — a text line of a manifest.
Every ref may carry ``tags`` and ``metadata``. Failures raise LoupeError subclasses: they are
permanent for that item and recorded on the job.
"""

from __future__ import annotations

import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from PIL import Image

from loupe.ingest.blobs import BlobStore
from loupe.ingest.items import ItemSpec, Modality, item_id
from loupe.ingest.sources import TEXT_EXTENSIONS
from loupe.ingest.validate import ImageInfo, clean_text, decode_image, load_image
from loupe.search.errors import InvalidInput, NotFound, PayloadTooLarge


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int
    max_pixels: int
    max_text_chars: int


@dataclass(frozen=True, slots=True)
class Prepared:
    spec: ItemSpec
    image: Image.Image | None = None
    text: str | None = None


def store_image(
    data: bytes,
    info: ImageInfo,
    *,
    blobs: BlobStore,
    filename: str | None,
    tags: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    tenant: str | None = None,
) -> ItemSpec:
    """Store image bytes already checked (``info``) once and describe them."""
    key = blobs.put(data)
    return ItemSpec(
        id=item_id(Modality.IMAGE, key, tenant),
        modality=Modality.IMAGE,
        blob=key,
        filename=filename,
        mime=info.mime,
        width=info.width,
        height=info.height,
        size=len(data),
        tags=list(tags or []),
        metadata=dict(metadata or {}),
        created_at=time.time(),
        tenant=tenant,
        taken_at=info.taken_at,
    )


def text_spec(
    raw: str | bytes,
    *,
    blobs: BlobStore,
    limits: Limits,
    filename: str | None = None,
    tags: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    tenant: str | None = None,
) -> tuple[ItemSpec, str]:
    text = clean_text(raw, max_chars=limits.max_text_chars)
    data = text.encode("utf-8")
    key = blobs.put(data)
    spec = ItemSpec(
        id=item_id(Modality.TEXT, key, tenant),
        modality=Modality.TEXT,
        blob=key,
        filename=filename,
        mime="text/plain",
        size=len(data),
        tags=list(tags or []),
        metadata=dict(metadata or {}),
        created_at=time.time(),
        tenant=tenant,
    )
    return spec, text


def _read_bounded(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise NotFound("the file is gone") from None
    except OSError:
        raise InvalidInput("the file cannot be read") from None
    if len(data) > limit:
        raise PayloadTooLarge(f"the file is larger than the limit of {limit} bytes")
    return data


def _read_zip_member(archive: str, member: str, limit: int) -> bytes:
    try:
        with zipfile.ZipFile(archive) as zf, zf.open(member) as handle:
            data = handle.read(limit + 1)
    except (KeyError, zipfile.BadZipFile, OSError):
        raise InvalidInput("the archive member cannot be read") from None
    if len(data) > limit:
        raise PayloadTooLarge("the archive member is over the size limit")
    return data


def _from_bytes(
    data: bytes, name: str, ref: dict[str, Any], *, blobs: BlobStore, limits: Limits
) -> Prepared:
    tags, metadata = list(ref.get("tags") or []), dict(ref.get("metadata") or {})
    tenant = ref.get("tenant") or None
    filename = PurePosixPath(name).name
    if PurePosixPath(name).suffix.lower() in TEXT_EXTENSIONS:
        spec, text = text_spec(
            data,
            blobs=blobs,
            limits=limits,
            filename=filename,
            tags=tags,
            metadata=metadata,
            tenant=tenant,
        )
        return Prepared(spec=spec, text=text)
    info, image = load_image(
        data, filename=filename, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels
    )
    spec = store_image(
        data, info, blobs=blobs, filename=filename, tags=tags, metadata=metadata, tenant=tenant
    )
    return Prepared(spec=spec, image=image)


def materialize(ref: dict[str, Any], *, blobs: BlobStore, limits: Limits) -> Prepared:
    """The validated item behind a unit ref, decoded (image) or read (text)."""
    kind = ref.get("kind")
    if kind == "blob":
        spec = ItemSpec.from_json(ref["spec"])
        data = blobs.get(spec.blob)
        if spec.modality is Modality.TEXT:
            return Prepared(spec=spec, text=data.decode("utf-8"))
        return Prepared(spec=spec, image=decode_image(data))
    if kind == "file":
        path = str(ref["path"])
        return _from_bytes(
            _read_bounded(Path(path), limits.max_bytes), path, ref, blobs=blobs, limits=limits
        )
    if kind == "zip":
        data = _read_zip_member(str(ref["archive"]), str(ref["member"]), limits.max_bytes)
        return _from_bytes(data, str(ref["member"]), ref, blobs=blobs, limits=limits)
    if kind == "raw":
        data = blobs.get(str(ref["blob"]))
        return _from_bytes(data, str(ref["name"]), ref, blobs=blobs, limits=limits)
    if kind == "text":
        spec, text = text_spec(
            str(ref["text"]),
            blobs=blobs,
            limits=limits,
            tags=list(ref.get("tags") or []),
            metadata=dict(ref.get("metadata") or {}),
            tenant=ref.get("tenant") or None,
        )
        return Prepared(spec=spec, text=text)
    raise InvalidInput(f"unknown unit kind {kind!r}")
