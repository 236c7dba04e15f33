"""The one settings object of a Loupe process (environment variables with the ``LOUPE_`` prefix).

Build it once at the entry point (``Settings()``) and pass it down; nothing reads the
environment anywhere else.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_ENRICHERS = ("ocr", "faces", "colour")
KNOWN_ENRICHERS = frozenset({"ocr", "faces", "colour", "objects"})
_SPACE = r"(?i)^\s*\d+(\.\d+)?\s*(%|[KMGT]?B)?\s*$"
WEAK_TOKENS = frozenset({"changeme", "change-me", "admin", "secret", "password", "token", ""})


class Env(StrEnum):
    DEV = "dev"
    PROD = "prod"


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "loupe"


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every knob of Loupe. Each field is ``LOUPE_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="LOUPE_", extra="ignore", frozen=True)

    env: Env = Field(Env.DEV, description="dev or prod; prod refuses weak admin tokens.")
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Blobs, the embedded index, job records and caches live here.",
    )
    model: str = Field(
        "bundled", description="Encoder: 'bundled' (offline) or 'clip:<name or local folder>'."
    )
    clip_text_model: str | None = Field(
        None,
        description="Optional multilingual text tower for clip: models "
        "(e.g. clip-ViT-B-32-multilingual-v1 or a local folder).",
    )
    device: str = Field("auto", description="auto, cpu, cuda or cuda:N.")
    cpu_threads: int | None = Field(
        None, ge=1, le=256, description="Threads of the CPU image tower (unset = all cores)."
    )
    ingest_processes: int | None = Field(
        None,
        ge=1,
        le=64,
        description="Child processes that decode and embed for the embedded server's bulk "
        "jobs and uploads (unset = one per core).",
    )
    ingest_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="CPU priority (nice) of those child processes and of the embedded index's "
        "builder: queries go first.",
    )
    index_build_after: int = Field(
        10_000,
        ge=1,
        le=10_000_000,
        description="Embedded index: new points searched exactly before a child process "
        "builds them into the HNSW base.",
    )
    encode_batch_size: int = Field(32, ge=1, le=4096, description="Images per forward pass.")
    batch_wait_ms: float = Field(
        10.0, ge=0, le=1000, description="How long a micro-batch waits to fill up."
    )
    qdrant_url: str | None = Field(
        None, description="Qdrant server URL; unset = embedded store under data_dir."
    )
    qdrant_api_key: SecretStr | None = Field(None, description="API key for the Qdrant server.")
    qdrant_shards: int = Field(1, ge=1, le=256, description="shard_number of new collections.")
    qdrant_replicas: int = Field(
        1, ge=1, le=16, description="replication_factor of new collections."
    )
    task_visibility_timeout_s: int = Field(
        3600, ge=1, description="Seconds before a task taken by a lost worker is redelivered."
    )
    worker_threads: int = Field(
        4, ge=1, le=64, description="Concurrent tasks per worker (they share micro-batches)."
    )
    collection_alias: str = Field("loupe", description="The alias that searches read.")
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
    admin_token: SecretStr | None = Field(
        None, description="An admin API key given in the environment; unset = only stored keys."
    )
    allow_open: bool = Field(
        False,
        description="Serve with no API keys on a non-loopback address (anyone may read and write).",
    )
    key_requests_per_s: float = Field(
        0.0, ge=0, description="Requests per second per API key unless the key says; 0 = no limit."
    )
    key_upload_bytes_per_hour: int = Field(
        0, ge=0, description="Upload bytes per hour per API key unless the key says; 0 = no limit."
    )
    host: str = Field("127.0.0.1", description="Address `loupe serve` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `loupe serve` binds.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated allowed CORS origins; empty = closed."
    )
    max_upload_bytes: int = Field(
        25 * 1024 * 1024, ge=1024, description="Largest accepted file, in bytes."
    )
    max_pixels: int = Field(
        64_000_000, ge=1024, description="Largest accepted image, in pixels (bomb guard)."
    )
    max_files_per_request: int = Field(100, ge=1, description="Files in one upload request.")
    max_text_chars: int = Field(20_000, ge=1, description="Longest accepted text item or query.")
    search_concurrency: int = Field(
        32, ge=1, description="Searches in flight before 429 Too Many Requests."
    )
    query_cache_size: int = Field(2048, ge=0, description="Text query embeddings kept (LRU).")
    concept_weight: float = Field(
        0.3,
        ge=0.0,
        le=10.0,
        description="Weight of the concept route in fused text search (0 = dense route only).",
    )
    thumbnail_px: int = Field(256, ge=32, le=2048, description="Longest side of thumbnails.")
    log_level: str = Field("INFO", description="Python logging level.")
    enrichers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_ENRICHERS),
        description="What ingest looks for in each image, comma-separated: ocr (text), faces, "
        "colour (colours, brightness, night, black-and-white), objects (COCO; needs the optional "
        "extra loupe[objects], weights of unknown licence). Empty = none.",
    )
    search_evidence: bool = Field(
        True,
        description="Text searches also use what the enrichers saw (text read, people, objects, "
        "colours, light): one extra filtered search per piece of evidence a query names.",
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

    @field_validator("ingest_roots", "cors_origins", "enrichers", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("enrichers")
    @classmethod
    def _known_enrichers(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - KNOWN_ENRICHERS)
        if unknown:
            raise ValueError(f"unknown enrichers {unknown}; known: {sorted(KNOWN_ENRICHERS)}")
        return list(dict.fromkeys(value))

    @field_validator("admin_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _safe_admin_token(self) -> Settings:
        token = self.admin_token.get_secret_value() if self.admin_token else None
        weak = token is not None and (token.lower() in WEAK_TOKENS or len(token) < 16)
        if self.env is Env.PROD and weak:
            raise ValueError("LOUPE_ADMIN_TOKEN is weak: in prod use at least 16 random characters")
        return self

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def jobs_db(self) -> Path:
        return self.data_dir / "jobs.sqlite3"
