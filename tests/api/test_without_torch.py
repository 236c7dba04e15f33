"""The default install's path never reaches ``import torch``; the torch paths name the extra.

Each test runs ``tests/api/without_torch.py`` in a fresh interpreter where the torch stack
looks uninstalled and every attempt to import it is recorded (see that module), so these
checks hold in the dev environment too, where ``loupe[clip]`` is installed.
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


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.api.without_torch", *args],
        cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def _report(stdout: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return report


@pytest.mark.slow
def test_ingest_and_search_on_the_bundled_encoder_never_import_torch(tmp_path: Path) -> None:
    done = _run("app", str(tmp_path / "data"))
    assert done.returncode == 0, done.stderr[-3000:]
    report = _report(done.stdout)
    assert report["attempts"] == [] and report["loaded"] == []
    assert report["job"] == "succeeded"
    assert report["tops"] == {"a cat": ["cat"], "一只可爱的猫咪": ["cat"], "a rocket": ["rocket"]}
    assert report["ready"]["ready"] is True
    status, body = report["reindex"]
    assert status == 422 and body["error"]["type"] == "invalid_input"
    assert "clip:clip-ViT-B-32" in body["error"]["message"]
    assert EXTRA in body["error"]["message"]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"LOUPE_MODEL": "clip:clip-ViT-B-32"}, "clip:clip-ViT-B-32 needs torch"),
        ({"LOUPE_MODEL": "bundled:en"}, "bundled:en needs torch"),
        ({"LOUPE_DEVICE": "cuda"}, "LOUPE_DEVICE=cuda needs torch"),
    ],
)
def test_torch_settings_without_the_extra_fail_at_start_in_one_sentence(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    done = _run("cli", "serve", LOUPE_DATA_DIR=str(tmp_path / "data"), **env)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    assert lines[0].startswith(f"Error: {named}") and lines[0].endswith(EXTRA)
    assert _report(done.stdout)["attempts"] == []
