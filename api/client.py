"""A small HTTP client of the Loupe API, used by the CLI commands and the benchmarks."""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx


class ApiError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        message = body.get("error", {}).get("message") if isinstance(body, dict) else str(body)
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.body = body


class LoupeClient:
    def __init__(self, url: str, *, token: str | None = None, timeout: float = 60.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, headers=headers)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def _json(self, response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            raise ApiError(response.status_code, body)
        return body

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._json(self.http.request(method, path, **kwargs))

    def upload_files(
        self,
        paths: Sequence[Path],
        *,
        tags: Sequence[str] = (),
        metadata: str | None = None,
    ) -> Any:
        files = []
        for path in paths:
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            files.append(("files", (path.name, path.read_bytes(), mime)))
        data: dict[str, Any] = {}
        if tags:
            data["tags"] = ",".join(tags)
        if metadata:
            data["metadata"] = metadata
        return self.call("POST", "/v1/items", files=files, data=data)

    def upload_texts(self, texts: Sequence[str], *, tags: Sequence[str] = ()) -> Any:
        items = [{"text": t, "tags": list(tags)} for t in texts]
        return self.call("POST", "/v1/items", json={"items": items})

    def job(self, job_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.call("GET", f"/v1/jobs/{job_id}")
        return body

    def wait_job(
        self,
        job_id: str,
        *,
        poll_s: float = 0.25,
        timeout_s: float = 3600.0,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.job(job_id)
            if on_progress:
                on_progress(job)
            if job["state"] in ("succeeded", "partial", "failed", "cancelled"):
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job['state']} after {timeout_s}s")
            time.sleep(poll_s)

    def close(self) -> None:
        self.http.close()
