"""Bulk sources: a folder, a .zip / .tar(.gz) archive or a JSONL manifest under an ingest root,
planned into work units. Anything that escapes the roots (``..``, absolute names, symlinks out),
zip-slip members and zip bombs are refused before a job exists."""

from __future__ import annotations

import json
import os
import tarfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from loupe.ingest.blobs import BlobStore
from loupe.ingest.jobs import Unit
from loupe.ingest.validate import IMAGE_EXTENSIONS
from loupe.search.errors import Forbidden, InvalidInput, NotFound

TEXT_EXTENSIONS = frozenset({".txt", ".md"})
MAX_UNITS = 2_000_000
MAX_COMPRESSION_RATIO = 200


def _display(path: Path, roots: Sequence[Path]) -> str:
    for root in roots:
        try:
            return str(path.relative_to(root))
        except ValueError:
            continue
    return path.name


def resolve_under_roots(raw: str, roots: Sequence[Path]) -> Path:
    """The real path of ``raw`` if it lies (after following every link) under an ingest root."""
    if not roots:
        raise Forbidden("bulk ingestion is off: set LOUPE_INGEST_ROOTS to allow folders")
    if "\x00" in raw or not raw.strip():
        raise InvalidInput("the source path is empty or malformed")
    real_roots = [root.resolve() for root in roots]
    candidate = Path(raw)
    if not candidate.is_absolute():
        candidate = real_roots[0] / candidate
    if ".." in candidate.parts:
        raise Forbidden("the source path may not contain '..'")
    real = candidate.resolve()
    if not any(real == root or real.is_relative_to(root) for root in real_roots):
        raise Forbidden("the source path is outside LOUPE_INGEST_ROOTS")
    if not real.exists():
        raise NotFound("the source path does not exist")
    return real


def _kind_of(name: str) -> str | None:
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    if suffix in TEXT_EXTENSIONS:
        return "text"
    return None


def _walk(folder: Path, roots: Sequence[Path]) -> Iterator[Path]:
    real_roots = [root.resolve() for root in roots]
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or _kind_of(name) is None:
                continue
            path = Path(dirpath) / name
            real = path.resolve()
            if not any(real.is_relative_to(root) for root in real_roots):
                raise Forbidden(f"{_display(path, roots)} is a link that leads outside the roots")
            yield real


def _safe_member(name: str) -> None:
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (len(name) > 1 and name[1] == ":"):
        raise InvalidInput(f"archive member {name!r} escapes the archive (zip-slip)")


def _plan_zip(path: Path, max_bytes: int) -> list[Unit]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise InvalidInput("the archive is not a readable zip file") from None
    units: list[Unit] = []
    with archive:
        for info in archive.infolist():
            _safe_member(info.filename)
            if info.is_dir() or _kind_of(info.filename) is None:
                continue
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > max_bytes or ratio > MAX_COMPRESSION_RATIO:
                raise InvalidInput(f"archive member {info.filename!r} is a zip bomb or too large")
            units.append(
                Unit(
                    seq=len(units),
                    name=info.filename,
                    ref={
                        "kind": "zip",
                        "archive": str(path),
                        "member": info.filename,
                    },
                )
            )
    return units


def _plan_tar(path: Path, max_bytes: int, blobs: BlobStore) -> list[Unit]:
    """Tar members are streamed once into the blob store (tar has no random access)."""
    units: list[Unit] = []
    try:
        with tarfile.open(path, mode="r:*") as archive:
            for member in archive:
                _safe_member(member.name)
                if not member.isfile() or _kind_of(member.name) is None:
                    continue
                if member.size > max_bytes:
                    raise InvalidInput(f"archive member {member.name!r} is too large")
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                data = handle.read(max_bytes + 1)
                key = blobs.put(data)
                units.append(
                    Unit(
                        seq=len(units),
                        name=member.name,
                        ref={
                            "kind": "raw",
                            "blob": key,
                            "name": member.name,
                        },
                    )
                )
    except (tarfile.TarError, EOFError, OSError):
        raise InvalidInput("the archive is not a readable tar file") from None
    return units


def _plan_manifest(path: Path, roots: Sequence[Path]) -> list[Unit]:
    units: list[Unit] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                line: Any = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise InvalidInput(f"manifest line {number} is not valid JSON") from None
            if not isinstance(line, dict):
                raise InvalidInput(f"manifest line {number} is not a JSON object")
            units.append(_manifest_unit(len(units), number, line, path.parent, roots))
    return units


def _manifest_unit(
    seq: int, number: int, line: dict[str, Any], base: Path, roots: Sequence[Path]
) -> Unit:
    metadata = line.get("metadata") or {}
    tags = line.get("tags") or []
    text = line.get("text")
    if not isinstance(metadata, dict) or not isinstance(tags, list):
        raise InvalidInput(f"manifest line {number}: metadata must be an object, tags a list")
    if text is not None and not isinstance(text, str):
        raise InvalidInput(f"manifest line {number}: text must be a string")
    raw_path = line.get("path")
    if raw_path is None:
        if not text:
            raise InvalidInput(f"manifest line {number} has neither path nor text")
        return Unit(
            seq=seq,
            name=f"line {number}",
            ref={
                "kind": "text",
                "text": text,
                "metadata": metadata,
                "tags": tags,
            },
        )
    if not isinstance(raw_path, str):
        raise InvalidInput(f"manifest line {number}: path must be a string")
    target = raw_path if Path(raw_path).is_absolute() else str(base / raw_path)
    real = resolve_under_roots(target, roots)
    if text:
        metadata = {**metadata, "caption": text}
    return Unit(
        seq=seq,
        name=raw_path,
        ref={
            "kind": "file",
            "path": str(real),
            "metadata": metadata,
            "tags": tags,
        },
    )


def plan_source(
    raw_path: str,
    *,
    roots: Sequence[Path],
    blobs: BlobStore,
    max_bytes: int,
    tags: Sequence[str] = (),
    metadata: dict[str, Any] | None = None,
    tenant: str | None = None,
) -> tuple[Path, list[Unit]]:
    """Units for every image/text in the source, in a stable order; refusals raise 4xx errors.
    With a ``tenant`` every item becomes that tenant's."""
    path = resolve_under_roots(raw_path, roots)
    name = path.name.lower()
    if path.is_dir():
        units = [
            Unit(seq=i, name=_display(p, roots), ref={"kind": "file", "path": str(p)})
            for i, p in enumerate(_walk(path, roots))
        ]
    elif name.endswith(".zip"):
        units = _plan_zip(path, max_bytes)
    elif name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
        units = _plan_tar(path, max_bytes, blobs)
    elif name.endswith((".jsonl", ".ndjson")):
        units = _plan_manifest(path, roots)
    else:
        raise InvalidInput("the source must be a folder, a .zip/.tar(.gz) archive or a .jsonl")
    if not units:
        raise InvalidInput("the source holds no images or texts")
    if len(units) > MAX_UNITS:
        raise InvalidInput(f"the source holds more than {MAX_UNITS} items: split it")
    if tags or metadata:
        units = [_with_labels(u, tags, metadata or {}) for u in units]
    if tenant:
        units = [Unit(seq=u.seq, name=u.name, ref={**u.ref, "tenant": tenant}) for u in units]
    return path, units


def _with_labels(unit: Unit, tags: Sequence[str], metadata: dict[str, Any]) -> Unit:
    ref = dict(unit.ref)
    ref["tags"] = sorted({*ref.get("tags", []), *tags})
    ref["metadata"] = {**metadata, **ref.get("metadata", {})}
    return Unit(seq=unit.seq, name=unit.name, ref=ref)
