"""Job records in Redis (when a broker is configured): shared by API replicas and workers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import redis
from redis.typing import EncodableT, FieldT

from loupe.ingest.jobs import (
    FINAL_STATES,
    MAX_ERRORS_SHOWN,
    Job,
    JobKind,
    JobState,
    Unit,
    UnitError,
    derive_state,
    new_job_id,
)
from loupe.search.errors import NotFound, Unavailable

T = TypeVar("T")
_PREFIX = "loupe:job:"
_INDEX = "loupe:jobs"


def _tenant_index(tenant: str) -> str:
    return f"{_INDEX}:tenant:{tenant}"


class RedisJobStore:
    def __init__(self, url: str) -> None:
        self._r = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=5, socket_connect_timeout=2
        )

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except redis.RedisError as exc:
            raise Unavailable("the job store (Redis) is not answering") from exc

    @staticmethod
    def _k(job_id: str, part: str = "") -> str:
        return f"{_PREFIX}{job_id}{':' + part if part else ''}"

    def create(
        self, kind: JobKind, units: Sequence[Unit], *, meta: Mapping[str, Any] | None = None
    ) -> Job:
        job_id = new_job_id()
        now = time.time()

        def write() -> None:
            pipe = self._r.pipeline(transaction=True)
            pipe.hset(
                self._k(job_id),
                mapping={
                    "kind": kind.value,
                    "state": JobState.QUEUED.value,
                    "total": len(units),
                    "created_at": now,
                    "meta": json.dumps(dict(meta or {})),
                },
            )
            for start in range(0, len(units), 1000):
                chunk = units[start : start + 1000]
                pipe.hset(
                    self._k(job_id, "units"),
                    mapping={str(u.seq): json.dumps({"name": u.name, "ref": u.ref}) for u in chunk},
                )
            pipe.zadd(_INDEX, {job_id: now})
            tenant = (meta or {}).get("tenant")
            if tenant:
                pipe.zadd(_tenant_index(str(tenant)), {job_id: now})
            pipe.execute()

        self._call(write)
        return self.get(job_id)

    def get(self, job_id: str) -> Job:
        def read() -> tuple[dict[str, str], int, dict[str, str]]:
            pipe = self._r.pipeline(transaction=False)
            pipe.hgetall(self._k(job_id))
            pipe.scard(self._k(job_id, "done"))
            pipe.hgetall(self._k(job_id, "failed"))
            head, done, failed = pipe.execute()
            return head, done, failed

        head, done, failed = self._call(read)
        if not head:
            raise NotFound(f"no job {job_id}")
        total = int(head["total"])
        started = float(head["started_at"]) if head.get("started_at") else None
        finished = float(head["finished_at"]) if head.get("finished_at") else None
        state = derive_state(
            stored=JobState(head["state"]),
            total=total,
            done=done,
            failed=len(failed),
            started=started is not None,
            kind=JobKind(head["kind"]),
        )
        if state in FINAL_STATES and finished is None:
            finished = time.time()
            self._call(lambda: self._r.hsetnx(self._k(job_id), "finished_at", finished))
        errors: list[UnitError] = []
        if failed:
            seqs = sorted(int(s) for s in failed)[:MAX_ERRORS_SHOWN]
            names = self._call(
                lambda: self._r.hmget(self._k(job_id, "units"), [str(s) for s in seqs])
            )
            errors = [
                UnitError(
                    seq=s, name=json.loads(n)["name"] if n else str(s), message=failed[str(s)]
                )
                for s, n in zip(seqs, names, strict=True)
            ]
        return Job(
            id=job_id,
            kind=JobKind(head["kind"]),
            state=state,
            total=total,
            done=done,
            failed=len(failed),
            created_at=float(head["created_at"]),
            started_at=started,
            finished_at=finished,
            meta=json.loads(head.get("meta") or "{}"),
            errors=errors,
        )

    def recent(self, *, limit: int = 50, tenant: str | None = None) -> list[Job]:
        index = _INDEX if tenant is None else _tenant_index(tenant)
        ids = self._call(lambda: self._r.zrevrange(index, 0, limit - 1))
        jobs = []
        for job_id in ids:
            try:
                jobs.append(self.get(str(job_id)))
            except NotFound:
                continue
        return jobs

    def units(self, job_id: str, seqs: Sequence[int]) -> list[Unit]:
        if not seqs:
            return []
        raw = self._call(lambda: self._r.hmget(self._k(job_id, "units"), [str(s) for s in seqs]))
        out = []
        for seq, item in zip(seqs, raw, strict=True):
            if item is not None:
                data = json.loads(item)
                out.append(Unit(seq=int(seq), name=data["name"], ref=data["ref"]))
        return sorted(out, key=lambda u: u.seq)

    def queued(self, job_id: str) -> list[int]:
        def read() -> tuple[list[str], set[str], list[str]]:
            pipe = self._r.pipeline(transaction=False)
            pipe.hkeys(self._k(job_id, "units"))
            pipe.smembers(self._k(job_id, "done"))
            pipe.hkeys(self._k(job_id, "failed"))
            keys, done, failed = pipe.execute()
            return keys, done, failed

        keys, done, failed = self._call(read)
        finished = set(done) | set(failed)
        return sorted(int(k) for k in keys if k not in finished)

    def mark_started(self, job_id: str) -> None:
        self._call(lambda: self._r.hsetnx(self._k(job_id), "started_at", time.time()))

    def mark(
        self, job_id: str, *, done: Sequence[int] = (), failed: Mapping[int, str] | None = None
    ) -> None:
        def write() -> None:
            pipe = self._r.pipeline(transaction=True)
            if done:
                pipe.sadd(self._k(job_id, "done"), *[str(s) for s in done])
                pipe.hdel(self._k(job_id, "failed"), *[str(s) for s in done])
            pipe.execute()
            if failed:
                already = self._r.smismember(self._k(job_id, "done"), [str(s) for s in failed])
                mapping: dict[FieldT, EncodableT] = {
                    str(s): m for (s, m), d in zip(failed.items(), already, strict=True) if not d
                }
                if mapping:
                    self._r.hset(self._k(job_id, "failed"), mapping=mapping)

        self._call(write)

    def retry_failed(self, job_id: str) -> list[int]:
        self.get(job_id)

        def write() -> list[int]:
            pipe = self._r.pipeline(transaction=True)
            pipe.hkeys(self._k(job_id, "failed"))
            pipe.delete(self._k(job_id, "failed"))
            keys, _ = pipe.execute()
            if keys:
                self._r.hset(self._k(job_id), mapping={"state": JobState.RUNNING.value})
                self._r.hdel(self._k(job_id), "finished_at")
            return sorted(int(k) for k in keys)

        return self._call(write)

    def set_state(self, job_id: str, state: JobState, *, reason: str | None = None) -> None:
        self.get(job_id)
        fields: dict[FieldT, EncodableT] = {"state": state.value}
        if state in FINAL_STATES:
            fields["finished_at"] = time.time()
        self._call(lambda: self._r.hset(self._k(job_id), mapping=fields))
        if state not in FINAL_STATES:
            self._call(lambda: self._r.hdel(self._k(job_id), "finished_at"))
        if reason is not None:
            self.update_meta(job_id, {"reason": reason})

    def update_meta(self, job_id: str, meta: Mapping[str, Any]) -> None:
        job = self.get(job_id)
        merged = json.dumps({**job.meta, **meta})
        self._call(lambda: self._r.hset(self._k(job_id), "meta", merged))

    def active(self) -> list[str]:
        ids = self._call(lambda: self._r.zrange(_INDEX, 0, -1))
        out = []
        for raw_id in ids:
            job_id = str(raw_id)
            try:
                if self.get(job_id).state not in FINAL_STATES:
                    out.append(job_id)
            except NotFound:
                continue
        return out

    def claim(self, job_id: str, step: str) -> bool:
        key = self._k(job_id, f"claim:{step}")
        return bool(self._call(lambda: self._r.set(key, "1", nx=True, ex=30 * 24 * 3600)))

    def ping(self) -> None:
        self._call(self._r.ping)

    def close(self) -> None:
        self._r.close()
