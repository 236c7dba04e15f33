"""Storage upkeep for library admins: ``POST /v1/admin/fsck`` (check, optionally repair) and
``POST /v1/admin/backup`` (a copy under LOUPE_BACKUP_DIR while serving)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from pydantic import Field

from loupe.api.deps import IngestServiceDep, LibraryAdminDep
from loupe.api.schemas import Strict

router = APIRouter(prefix="/v1/admin", tags=["admin"])


class FsckRequest(Strict):
    repair: bool = Field(False, description="Re-link what can be, remove orphans and leftovers.")
    grace_s: float = Field(
        3600.0, ge=0, description="Files younger than this are left alone (writes in flight)."
    )


class FindingModel(Strict):
    count: int
    examples: list[str]


class FsckResponse(Strict):
    clean: bool
    blobs: int
    points: int
    checked_blobs: bool
    damaged_blobs: FindingModel
    points_without_blobs: FindingModel
    orphan_blobs: FindingModel
    leftovers: FindingModel
    jobs_with_missing_items: FindingModel
    repaired: dict[str, int]


@router.post("/fsck", response_model=FsckResponse)
def fsck(
    _: LibraryAdminDep, ingest: IngestServiceDep, body: FsckRequest | None = None
) -> FsckResponse:
    """Blobs against their sha256, points against blobs, jobs against blobs (see ``loupe fsck``)."""
    body = body or FsckRequest()
    report = ingest.fsck(repair=body.repair, grace_s=body.grace_s)
    return FsckResponse.model_validate({**asdict(report), "clean": report.clean})


class BackupRequest(Strict):
    name: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
        description="Folder name under LOUPE_BACKUP_DIR; default: loupe-<UTC time>.",
    )


class BackupResponse(Strict):
    name: str
    format: int
    created_at: float
    collections: list[str]
    aliases: dict[str, str]
    blobs: int
    blob_bytes: int
    blobs_linked: int
    databases: list[str]
    took_s: float


@router.post("/backup", response_model=BackupResponse)
def backup(
    _: LibraryAdminDep, ingest: IngestServiceDep, body: BackupRequest | None = None
) -> BackupResponse:
    """A consistent copy of index, blobs and job records while serving (``loupe restore``)."""
    name, report = ingest.backup(body.name if body else None)
    fields = {k: v for k, v in asdict(report).items() if k != "path"}
    return BackupResponse.model_validate({**fields, "name": name})
