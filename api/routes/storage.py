"""Storage upkeep for library admins: ``POST /v1/admin/fsck`` (check, optionally repair)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from pydantic import Field

from loupe.api.deps import LibraryAdminDep, RuntimeDep
from loupe.api.schemas import Strict
from loupe.ingest.blobs import LocalBlobStore
from loupe.ingest.fsck import Fsck

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
def fsck(_: LibraryAdminDep, runtime: RuntimeDep, body: FsckRequest | None = None) -> FsckResponse:
    """Blobs against their sha256, points against blobs, jobs against blobs (see ``loupe fsck``)."""
    body = body or FsckRequest()
    blobs = runtime.blobs if isinstance(runtime.blobs, LocalBlobStore) else None
    report = Fsck(
        blobs=blobs,
        index=runtime.index,
        jobs=runtime.jobs,
        thumbs_dir=runtime.settings.data_dir / "thumbs",
        grace_s=body.grace_s,
    ).run(repair=body.repair)
    return FsckResponse.model_validate({**asdict(report), "clean": report.clean})
