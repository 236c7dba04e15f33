"""The default install's path never reaches ``import torch``; the torch paths name the extra.

Each test runs ``tests/api/without_torch.py`` in a fresh interpreter (and its children) where
the torch stack looks uninstalled and every attempt to import it is recorded (see
``torch_blocker/sitecustomize.py``), so these checks hold in the dev environment too, where
``loupe[clip]`` is installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
EXTRA = "pip install 'loupe[clip]'"


BLOCKER = Path(__file__).resolve().parent / "torch_blocker"


def _run(record: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(p for p in (str(BLOCKER), str(REPO), os.environ.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, "-m", "tests.api.without_torch", *args],
        cwd=REPO,
        env={
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": path,
            "LOUPE_TEST_BLOCK_TORCH": str(record),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def _attempts(record: Path) -> list[str]:
    return record.read_text("utf-8").splitlines() if record.exists() else []


def test_the_blocker_sees_an_import_that_an_except_clause_swallows(tmp_path: Path) -> None:
    record = tmp_path / "attempts"
    code = "try:\n import torch\nexcept ImportError:\n pass\nimport importlib.util as u\n"
    code += "assert u.find_spec('torch') is None and u.find_spec('numpy') is not None"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(BLOCKER), "LOUPE_TEST_BLOCK_TORCH": str(record)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [line.split()[1] for line in _attempts(record)] == ["torch"]


@pytest.mark.slow
def test_ingest_and_search_on_the_bundled_encoder_never_import_torch(tmp_path: Path) -> None:
    record = tmp_path / "attempts"
    done = _run(record, "app", str(tmp_path / "data"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert _attempts(record) == []
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["loaded"] == []
    assert report["job"] == "succeeded"
    assert report["tops"] == {"a cat": ["cat"], "一只可爱的猫咪": ["cat"], "a rocket": ["rocket"]}
    assert report["ready"]["ready"] is True
    status, body = report["reindex"]
    assert status == 422 and body["error"]["type"] == "invalid_input"
    assert "clip:clip-ViT-B-32" in body["error"]["message"]
    assert EXTRA in body["error"]["message"]


BROKER = {"LOUPE_BROKER_URL": "redis://127.0.0.1:1/0"}  # never reached: the check comes first


@pytest.mark.parametrize(
    ("command", "env", "named"),
    [
        ("serve", {"LOUPE_MODEL": "clip:clip-ViT-B-32"}, "clip:clip-ViT-B-32 needs torch"),
        ("serve", {"LOUPE_MODEL": "bundled:en"}, "bundled:en needs torch"),
        ("serve", {"LOUPE_DEVICE": "cuda"}, "LOUPE_DEVICE=cuda needs torch"),
        ("worker", {"LOUPE_MODEL": "clip:clip-ViT-B-32", **BROKER}, "clip:clip-ViT-B-32 needs"),
    ],
)
def test_torch_settings_without_the_extra_fail_at_start_in_one_sentence(
    tmp_path: Path, command: str, env: dict[str, str], named: str
) -> None:
    record = tmp_path / "attempts"
    done = _run(record, "cli", command, LOUPE_DATA_DIR=str(tmp_path / "data"), **env)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    assert lines[0].startswith(f"Error: {named}") and lines[0].endswith(EXTRA)
    assert _attempts(record) == []
