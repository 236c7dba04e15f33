"""The data flows one way (api -> workers -> ingest -> search): each package's imports, read from
its source with ``ast`` (imports inside functions and under ``TYPE_CHECKING`` included), never
reach a package above it. ``bench`` (measurement) may import everything; nothing below ``api``
imports it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("search", "ingest", "workers", "api", "bench")
FORBIDDEN = {
    "search": {"ingest", "workers", "api", "bench"},
    "ingest": {"workers", "api", "bench"},
    "workers": {"api", "bench"},
}


def our_imports(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, package) for every import of one of our packages in ``path`` (a module of
    ``package``), whether written ``loupe.x``, plain ``x`` or relative; in line order."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            if node.level:
                names = [package]  # a relative import stays home
            elif node.module == "loupe":
                names = [f"loupe.{alias.name}" for alias in node.names]
            elif node.module:
                names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "loupe" and len(parts) > 1:
                parts = parts[1:]
            if parts[0] in PACKAGES:
                found.append((node.lineno, parts[0]))
    return sorted(found)


def violations(package: str, root: Path = ROOT) -> list[str]:
    forbidden = FORBIDDEN[package]
    return [
        f"{path.relative_to(root)}:{line} imports {target}"
        for path in sorted((root / package).rglob("*.py"))
        for line, target in our_imports(path, package)
        if target in forbidden
    ]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_climbs_up(package: str) -> None:
    assert violations(package) == []


def test_the_reader_sees_every_spelling(tmp_path: Path) -> None:
    (tmp_path / "search").mkdir()
    sample = tmp_path / "search" / "probe.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "import loupe.api.errors\n"
        "from loupe import workers\n"
        "if TYPE_CHECKING:\n"
        "    from loupe.ingest.jobs import Job\n"
        "def late() -> None:\n"
        "    from bench import report\n"
        "from .index import base\n",
        encoding="utf-8",
    )
    assert [target for _, target in our_imports(sample, "search")] == [
        "api",
        "workers",
        "ingest",
        "bench",
        "search",
    ]
    assert violations("search", tmp_path) == [
        "search/probe.py:2 imports api",
        "search/probe.py:3 imports workers",
        "search/probe.py:5 imports ingest",
        "search/probe.py:7 imports bench",
    ]
