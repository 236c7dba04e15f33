"""The wheel installs one namespace: build it from a copy of the checkout, install it (no
dependencies) into a fresh venv that borrows this environment's third-party packages, and check
that only ``loupe`` lands at the top level, that its data files came along, and that the
``loupe`` command runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".mypy_cache", "tests")


def run(*args: str | Path) -> str:
    """Run a command where only the installed files can be imported (no PYTHONPATH to the
    checkout), from a folder outside it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(a) for a in args],
        cwd=Path(tempfile.gettempdir()),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(*SKIP))
    run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "--wheel-dir", work / "dist", source,
    )  # fmt: skip
    (built,) = (work / "dist").glob("loupe-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path) -> Path:
    """A fresh venv with the wheel installed; a .pth line lends it this environment's
    site-packages (read after its own, and without running their .pth files, so the editable
    checkout of Loupe installed here is not visible)."""
    env = wheel.parent / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", env)
    python = env / "bin" / "python"
    pip = (sys.executable, "-m", "pip", "--python", python)
    run(*pip, "install", "--no-deps", "--no-index", wheel)
    own = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip())
    (own / "zz-borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return env


@pytest.mark.slow
def test_the_wheel_holds_only_the_loupe_namespace(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
        names = set(archive.namelist())
    assert tops == {"loupe", "loupe-0.1.0.dist-info"}
    for expected in (
        "loupe/search/data/imagenet_classes.json",
        "loupe/api/static/index.html",
        "loupe/bench/__init__.py",
    ):
        assert expected in names


@pytest.mark.slow
def test_installed_wheel_runs_from_its_own_files(venv: Path) -> None:
    python = venv / "bin" / "python"
    own = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip())
    tops = {p.name for p in own.iterdir()} - {"zz-borrowed.pth", "__pycache__"}
    assert tops == {"loupe", "loupe-0.1.0.dist-info"}
    where = run(
        python,
        "-c",
        "import loupe.api.app, loupe.search.encoders.imagenet_texts as t; "
        "from importlib.resources import files; "
        "print(loupe.api.app.__file__); print(len(t.load_classes())); "
        "print((files('loupe.api') / 'static' / 'index.html').is_file())",
    ).split()
    assert where[0].startswith(str(own / "loupe"))
    assert where[1:] == ["1000", "True"]
    assert "Start the HTTP API" in run(venv / "bin" / "loupe", "serve", "--help")
