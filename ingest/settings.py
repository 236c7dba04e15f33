"""Settings of ingestion: child processes, blobs, bulk roots, upload limits, enrichers, disk
guards and backups (``LOUPE_`` environment variables), on top of ``SearchSettings``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from loupe.search.settings import SearchSettings, split_list

DEFAULT_ENRICHERS = ("ocr", "faces", "colour")
KNOWN_ENRICHERS = frozenset({"ocr", "faces", "colour", "objects"})
_SPACE = r"(?i)^\s*\d+(\.\d+)?\s*(%|[KMGT]?B)?\s*$"


class IngestSettings(SearchSettings):
    """The knobs of ``ingest/`` (and of ``search/``, which it extends)."""

    ingest_processes: int | None = Field(
        None,
        ge=1,
        le=64,
        description="Child processes that decode and embed for the embedded server's bulk "
        "jobs and uploads (unset = one per core).",
    )
    ingest_prewarm: bool = Field(
        True,
        description="Start those child processes and load their models when the server starts "
        "(at their low priority), so the first upload does not wait for them.",
    )
    ingest_recycle_idle_s: float = Field(
        30.0,
        ge=0,
        description="Replace those child processes with fresh ones once they have been idle "
        "this long after a job (0 = never): their decoder and model arenas grow with a job "
        "and are never handed back (measured: ~400 to ~900 MB each after 400 photos).",
    )
    ingest_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="CPU priority (nice) of those child processes and of the embedded index's "
        "builder: queries go first.",
    )
    broker_url: str | None = Field(
        None, description="Celery broker (redis://...); unset = in-process runner."
    )
    blob_url: str | None = Field(
        None, description="s3://bucket/prefix for blobs; unset = <data_dir>/blobs."
    )
    s3_endpoint_url: str | None = Field(
        None, description="Endpoint of an S3-compatible store (MinIO, Ceph, ...)."
    )
    ingest_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated folders that bulk jobs may read; empty = bulk jobs refused.",
    )
    max_upload_bytes: int = Field(
        25 * 1024 * 1024, ge=1024, description="Largest accepted file, in bytes."
    )
    max_pixels: int = Field(
        64_000_000, ge=1024, description="Largest accepted image, in pixels (bomb guard)."
    )
    thumbnail_px: int = Field(256, ge=32, le=2048, description="Longest side of thumbnails.")
    enrichers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_ENRICHERS),
        description="What ingest looks for in each image, comma-separated: ocr (text), faces, "
        "colour (colours, brightness, night, black-and-white), objects (COCO; needs the optional "
        "extra loupe[objects], weights of unknown licence). Empty = none.",
    )
    ocr_min_score: float = Field(
        0.8, ge=0, le=1, description="Lines of text read with less confidence are dropped."
    )
    disk_low_free: str = Field(
        "2GB",
        pattern=_SPACE,
        description="Free space under which /readyz reports storage: low (e.g. 2GB or 10%).",
    )
    disk_flood_free: str = Field(
        "512MB",
        pattern=_SPACE,
        description="Free space under which new writes are refused with 507 and Loupe will not "
        "start (e.g. 512MB or 5%); keep it well above the index's 32 MB mmap chunks.",
    )
    backup_dir: Path | None = Field(
        None,
        description="Folder where POST /v1/admin/backup writes backups; unset = that route "
        "is refused (the `loupe backup DEST` command needs no setting).",
    )
    disk_check_interval_s: float = Field(
        1.0, ge=0, le=60, description="Seconds a free-space measurement is reused."
    )

    @field_validator("ingest_roots", "enrichers", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return split_list(value)

    @field_validator("enrichers")
    @classmethod
    def _known_enrichers(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - KNOWN_ENRICHERS)
        if unknown:
            raise ValueError(f"unknown enrichers {unknown}; known: {sorted(KNOWN_ENRICHERS)}")
        return list(dict.fromkeys(value))

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def jobs_db(self) -> Path:
        return self.data_dir / "jobs.sqlite3"

    def ingest_only(self) -> IngestSettings:
        """These settings as a plain ``IngestSettings`` (what child processes are handed: they
        need no class of a package above ``ingest``)."""
        return IngestSettings.model_construct(
            _fields_set=self.model_fields_set & set(IngestSettings.model_fields),
            **{name: getattr(self, name) for name in IngestSettings.model_fields},
        )
