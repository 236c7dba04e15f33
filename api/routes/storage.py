"""Storage upkeep for library admins: ``POST /v1/admin/fsck`` (check, optionally repair)."""

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
