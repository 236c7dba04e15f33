"""API keys in Redis (when a broker is configured): shared by every API replica.

``loupe:key:<id>`` is a hash of the record; ``loupe:keyhash:<sha256>`` holds the record of a
working key as JSON (one GET per request; deleted on revoke, so a revoked key is unknown at once);
``loupe:keys`` is the set of all ids and ``loupe:keys:active`` of the working ones;
``loupe:keys:link-secret`` signs links to originals (set once, by whoever comes first).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import redis
from redis.typing import EncodableT, FieldT

from loupe.api.access.keys import ApiKey, Scope
from loupe.search.errors import NotFound, Unavailable

T = TypeVar("T")
_ALL = "loupe:keys"
_ACTIVE = "loupe:keys:active"
_LINK_SECRET = "loupe:keys:link-secret"


def _record(key: str) -> str:
    return f"loupe:key:{key}"


def _by_hash(secret_hash: str) -> str:
    return f"loupe:keyhash:{secret_hash}"


def _optional(value: str | None) -> str:
    return "" if value is None else value


def _strs(data: Mapping[Any, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in data.items()}


def _key(data: dict[str, str]) -> ApiKey:
    return ApiKey(
        id=data["id"],
        name=data["name"],
        scope=Scope(data["scope"]),
        tenant=data.get("tenant") or None,
        created_at=float(data["created_at"]),
        revoked_at=float(data["revoked_at"]) if data.get("revoked_at") else None,
        requests_per_s=float(data["requests_per_s"]) if data.get("requests_per_s") else None,
        upload_bytes_per_hour=(
            int(data["upload_bytes_per_hour"]) if data.get("upload_bytes_per_hour") else None
        ),
    )


class RedisKeyStore:
    remote = True  # a lookup is a network round trip: callers keep it off the event loop

    def __init__(self, url: str) -> None:
        self._r = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=5, socket_connect_timeout=2
        )

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except redis.RedisError as exc:
            raise Unavailable("the key store (Redis) is not answering") from exc

    def add(self, key: ApiKey, secret_hash: str) -> None:
        mapping: dict[FieldT, EncodableT] = {
            "id": key.id,
            "name": key.name,
            "scope": key.scope.value,
            "tenant": _optional(key.tenant),
            "created_at": repr(key.created_at),
            "revoked_at": "",
            "requests_per_s": _optional(
                None if key.requests_per_s is None else repr(key.requests_per_s)
            ),
            "upload_bytes_per_hour": _optional(
                None if key.upload_bytes_per_hour is None else str(key.upload_bytes_per_hour)
            ),
            "hash": secret_hash,
        }

        def write() -> None:
            pipe = self._r.pipeline(transaction=True)
            pipe.hset(_record(key.id), mapping=mapping)
            pipe.set(_by_hash(secret_hash), json.dumps({k: str(v) for k, v in mapping.items()}))
            pipe.sadd(_ALL, key.id)
            pipe.sadd(_ACTIVE, key.id)
            pipe.execute()

        self._call(write)

    def lookup(self, secret_hash: str) -> ApiKey | None:
        def read() -> ApiKey | None:
            raw = self._r.get(_by_hash(secret_hash))
            return _key(_strs(json.loads(raw))) if raw else None

        return self._call(read)

    def get(self, key_id: str) -> ApiKey | None:
        def read() -> ApiKey | None:
            data = _strs(self._r.hgetall(_record(key_id)))
            return _key(data) if data and not data.get("revoked_at") else None

        return self._call(read)

    def link_secret(self) -> bytes:
        def read() -> bytes:
            self._r.set(_LINK_SECRET, secrets.token_hex(32), nx=True)
            return bytes.fromhex(str(self._r.get(_LINK_SECRET)))

        return self._call(read)

    def list(self) -> list[ApiKey]:
        def read() -> list[ApiKey]:
            ids = sorted(str(i) for i in self._r.smembers(_ALL))
            pipe = self._r.pipeline(transaction=False)
            for key_id in ids:
                pipe.hgetall(_record(key_id))
            return [_key(_strs(d)) for d in pipe.execute() if d]

        return sorted(self._call(read), key=lambda k: k.created_at)

    def revoke(self, key_id: str) -> ApiKey:
        def write() -> dict[str, str]:
            data = _strs(self._r.hgetall(_record(key_id)))
            if not data:
                raise NotFound(f"no key {key_id}")
            if not data.get("revoked_at"):
                pipe = self._r.pipeline(transaction=True)
                pipe.delete(_by_hash(data["hash"]))
                pipe.hset(_record(key_id), "revoked_at", repr(time.time()))
                pipe.srem(_ACTIVE, key_id)
                pipe.execute()
            return _strs(self._r.hgetall(_record(key_id)))

        return _key(self._call(write))

    def active(self) -> int:
        return int(self._call(lambda: self._r.scard(_ACTIVE)))

    def close(self) -> None:
        self._r.close()
