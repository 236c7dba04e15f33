"""Settings of the shared space and the query service: the encoder, the vector index, and the
search knobs (environment variables with the ``LOUPE_`` prefix).

``SearchSettings`` is the base that each package's settings extend: ``IngestSettings``
(``ingest/settings.py``) adds ingestion's, ``WorkerSettings`` (``workers/settings.py``) the Celery
worker's, and ``Settings`` (``api/settings.py``) the HTTP side's; that last one is the one
settings object of a process. Build it once at the entry point (``Settings()``) and pass it
down; a module takes the narrowest class it reads, and nothing reads the environment anywhere
else.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "loupe"


def split_list(value: object) -> object:
    """A comma- (or semicolon-) separated environment value as a list; other values as given."""
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


class SearchSettings(BaseSettings):
    """The knobs of ``search/``. Each field is ``LOUPE_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="LOUPE_", extra="ignore", frozen=True)

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
    index_build_after: int = Field(
        10_000,
        ge=1,
        le=10_000_000,
        description="Embedded index: new points searched exactly before a child process "
        "builds them into the HNSW base.",
    )
    index_pin_mb: int = Field(
        2048,
        ge=0,
        le=1_048_576,
        description="Embedded index: RAM (MB) each built base may lock for the files text "
        "searches read, so the kernel cannot page them out between searches (0 = none; "
        "needs RLIMIT_MEMLOCK or CAP_IPC_LOCK).",
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
    collection_alias: str = Field("loupe", description="The alias that searches read.")
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
    search_evidence: bool = Field(
        True,
        description="Text searches also use what the enrichers saw (text read, people, objects, "
        "colours, light): one extra filtered search per piece of evidence a query names.",
    )

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"
