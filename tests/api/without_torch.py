"""Runs Loupe's default path for tests/api/test_without_torch.py, in a process started with the
torch stack blocked (``torch_blocker/sitecustomize.py``, which also covers its children).

``python -m tests.api.without_torch app DATA_DIR``: upload the sample gallery through the real
app (bundled encoder, embedded index, ingestion in child processes), search it, ask for a
reindex to a ``clip:`` model, and print one JSON line with what happened.
``... cli ARGS`` runs the ``loupe`` command line instead.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

TORCH_STACK = ("torch", "transformers", "sentence_transformers")


def _run_app(data_dir: Path) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from loupe.api.app import create_app
    from loupe.api.settings import Settings
    from loupe.ingest.samples import write_samples
    from tests.api.conftest import AUTH, make_settings, top_stems, wait_job

    settings: Settings = make_settings(data_dir, device="auto", ingest_processes=1)
    paths = write_samples(data_dir / "samples")
    files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in paths]
    with TestClient(create_app(settings), headers=AUTH) as client:
        upload = client.post("/v1/items", files=files).json()
        job = wait_job(client, upload["job_id"])
        tops = {
            query: top_stems(client.post("/v1/search", json={"text": query}).json())
            for query in ("a cat", "一只可爱的猫咪", "a rocket")
        }
        reindex = client.post("/v1/admin/reindex", json={"model": "clip:clip-ViT-B-32"})
        ready = client.get("/readyz").json()
    return {
        "job": job["state"],
        "tops": tops,
        "reindex": [reindex.status_code, reindex.json()],
        "ready": ready,
    }


def main(argv: list[str]) -> None:
    if argv[0] == "cli":
        from loupe.api.cli import main as cli

        cli(argv[1:], standalone_mode=True)
        return
    result = _run_app(Path(argv[1]))
    loaded = [name for name in TORCH_STACK if name in sys.modules]
    print(json.dumps({**result, "loaded": loaded}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
