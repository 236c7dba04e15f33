"""The one settings object of a Loupe process (environment variables with the ``LOUPE_``
prefix): ``Settings`` adds the HTTP side's knobs (bind address, CORS, keys and their limits, the
admin token) to those of every package below (``WorkerSettings`` ← ``IngestSettings`` ←
``SearchSettings``).

Build it once at the entry point (``Settings()``: the CLI, the app, the Celery worker) and pass it
down; nothing reads the environment anywhere else. An admin token that is weak ("changeme",
under 16 characters, ...) is refused in prod.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from loupe.search.settings import split_list
from loupe.workers.settings import WorkerSettings

WEAK_TOKENS = frozenset({"changeme", "change-me", "admin", "secret", "password", "token", ""})


class Env(StrEnum):
    DEV = "dev"
    PROD = "prod"


class Settings(WorkerSettings):
    """Every knob of Loupe. Each field is ``LOUPE_<NAME>`` in the environment."""

    env: Env = Field(Env.DEV, description="dev or prod; prod refuses weak admin tokens.")
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
    max_files_per_request: int = Field(100, ge=1, description="Files in one upload request.")
    log_level: str = Field("INFO", description="Python logging level.")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _cors_list(cls, value: object) -> object:
        return split_list(value)

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
