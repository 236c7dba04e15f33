"""What a server loads before it says ready, so that no user's request pays for it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = """
import jieba
from fastapi.testclient import TestClient
from loupe.api.app import create_app
from tests.api.conftest import make_settings
from pathlib import Path
assert not jieba.dt.initialized
with TestClient(create_app(make_settings(Path({data!r})))) as client:
    print(jieba.dt.initialized)
    lexicon = client.app.state.ingest.stores.live_encoder.concept_route.lexicon
    print(lexicon.load_segmenter() is jieba.dt)
"""


def test_the_chinese_segmenter_is_loaded_at_start_and_shared(tmp_path: Path) -> None:
    """The first Chinese query of a server stalled ~1.4 s loading jieba's dictionary (py-spy,
    during a bulk job), and the evidence and the concept route each held their own copy. In a
    fresh interpreter: loaded once the server is ready, and one tokenizer for both."""
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(data=str(tmp_path / "data"))],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parents[2],
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "True"]
