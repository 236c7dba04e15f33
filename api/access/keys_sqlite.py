"""API keys in a SQLite file in the data dir (the embedded default)."""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from loupe.api.access.keys import ApiKey, Scope
from loupe.search.errors import NotFound, Unavailable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL, scope TEXT NOT NULL,
    tenant TEXT, created_at REAL NOT NULL, revoked_at REAL, requests_per_s REAL,
    upload_bytes_per_hour INTEGER
);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_COLUMNS = "id, name, scope, tenant, created_at, revoked_at, requests_per_s, upload_bytes_per_hour"


def _key(row: Sequence[Any]) -> ApiKey:
    return ApiKey(
        id=row[0],
        name=row[1],
        scope=Scope(row[2]),
        tenant=row[3],
        created_at=row[4],
        revoked_at=row[5],
        requests_per_s=row[6],
        upload_bytes_per_hour=row[7],
    )


class SqliteKeyStore:
    """One connection per store; a lookup is one indexed read, so another process's revoke is
    seen by the next request."""

    remote = False  # an indexed read of a local file: microseconds

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise Unavailable("the key database cannot be opened") from exc

    def _q(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise Unavailable("the key database cannot be read") from exc

    def add(self, key: ApiKey, secret_hash: str) -> None:
        self._q(
            f"INSERT INTO api_keys (hash, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                secret_hash,
                key.id,
                key.name,
                key.scope.value,
                key.tenant,
                key.created_at,
                key.revoked_at,
                key.requests_per_s,
                key.upload_bytes_per_hour,
            ),
        )

    def lookup(self, secret_hash: str) -> ApiKey | None:
        rows = self._q(
            f"SELECT {_COLUMNS} FROM api_keys WHERE hash = ? AND revoked_at IS NULL",
            (secret_hash,),
        )
        return _key(rows[0]) if rows else None

    def get(self, key_id: str) -> ApiKey | None:
        rows = self._q(
            f"SELECT {_COLUMNS} FROM api_keys WHERE id = ? AND revoked_at IS NULL", (key_id,)
        )
        return _key(rows[0]) if rows else None

    def link_secret(self) -> bytes:
        fresh = secrets.token_hex(32)
        self._q("INSERT OR IGNORE INTO secrets (name, value) VALUES ('links', ?)", (fresh,))
        return bytes.fromhex(self._q("SELECT value FROM secrets WHERE name = 'links'")[0][0])

    def list(self) -> list[ApiKey]:
        return [_key(r) for r in self._q(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at")]

    def revoke(self, key_id: str) -> ApiKey:
        self._q(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (time.time(), key_id),
        )
        rows = self._q(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?", (key_id,))
        if not rows:
            raise NotFound(f"no key {key_id}")
        return _key(rows[0])

    def active(self) -> int:
        return int(self._q("SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL")[0][0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
