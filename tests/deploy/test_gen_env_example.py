"""deploy/.env.example is generated from Settings and must stay in sync with it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from types import ModuleType

from loupe.api.settings import Settings
from tests.deploy.conftest import DEPLOY


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_env_example", DEPLOY / "gen_env_example.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_file_is_in_sync_with_settings() -> None:
    committed = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    assert committed == generator().render(), "run python deploy/gen_env_example.py"


def test_every_setting_is_listed_with_its_description() -> None:
    text = generator().render()
    for name, info in Settings.model_fields.items():
        assert f"LOUPE_{name.upper()}=" in text
        assert info.description, f"Settings.{name} has no description"
        assert info.description in text


def test_defaults_are_the_real_defaults() -> None:
    lines = set(generator().render().splitlines())
    assert "# LOUPE_PORT=8000" in lines
    assert "# LOUPE_ENV=dev" in lines
    assert "# LOUPE_QDRANT_URL=" in lines
    assert "# LOUPE_MAX_UPLOAD_BYTES=26214400" in lines


def test_check_mode_reports_sync() -> None:
    result = subprocess.run(
        [sys.executable, str(DEPLOY / "gen_env_example.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
