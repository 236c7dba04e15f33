"""The embedded store's alias map survives losing ``aliases.json``: every stamp claims the
aliases its collection holds, and start-up rebuilds the map from the newest claims."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from loupe.search.index.edge_store import EdgeIndex
from tests.search.test_index import DIM, VISUAL_DIM, make_points


def _build(root: Path) -> None:
    """old (live, then replaced), new (live now), shadow (a failed reindex: held __next)."""
    index = EdgeIndex(root, auto_optimize=False)
    for name in ("old", "new", "shadow"):
        index.create_collection(name, model_id="m1", dim=DIM, visual_dim=VISUAL_DIM)
    index.upsert("old", make_points(5))
    index.upsert("new", make_points(7))
    index.set_alias("loupe", "old")
    index.set_alias("loupe__next", "new")
    index.set_alias("loupe", "new")  # the swap
    index.delete_alias("loupe__next")
    index.set_alias("loupe__next", "shadow")
    index.delete_alias("loupe__next")  # its canary failed
    index.set_alias("archive", "old")
    index.close()


def _reopen(root: Path) -> dict[str, str]:
    index = EdgeIndex(root, auto_optimize=False)
    try:
        return {a: str(index.resolve_alias(a)) for a in ("loupe", "archive", "loupe__next")}
    finally:
        index.close()


WANT = {"loupe": "new", "archive": "old", "loupe__next": "None"}


@pytest.mark.parametrize("damage", ["deleted", "empty", "garbled", "not a map"])
def test_lost_alias_map_is_rebuilt_from_the_stamps(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    _build(tmp_path)
    aliases = tmp_path / "aliases.json"
    assert json.loads(aliases.read_text()) == {"loupe": "new", "archive": "old"}
    content = {"deleted": None, "empty": "", "garbled": '{"loupe": "ne', "not a map": "[1, 2]"}
    if content[damage] is None:
        aliases.unlink()
    else:
        aliases.write_text(str(content[damage]))
    with caplog.at_level(logging.WARNING):
        assert _reopen(tmp_path) == WANT
    assert "rebuilt from the collections' stamps" in caplog.text and str(aliases) in caplog.text
    assert json.loads(aliases.read_text()) == {"loupe": "new", "archive": "old"}
    kept = list(tmp_path.glob("aliases.json.damaged-*"))
    assert len(kept) == (0 if damage == "deleted" else 1)
    assert _reopen(tmp_path) == WANT  # and it stays that way


def test_a_readable_map_wins_and_the_claims_follow_it(tmp_path: Path) -> None:
    _build(tmp_path)
    (tmp_path / "aliases.json").write_text(json.dumps({"loupe": "old"}))  # edited by hand
    assert _reopen(tmp_path) == {"loupe": "old", "archive": "None", "loupe__next": "None"}
    (tmp_path / "aliases.json").unlink()
    assert _reopen(tmp_path) == {"loupe": "old", "archive": "None", "loupe__next": "None"}


def test_stamps_without_claims_give_no_alias(tmp_path: Path) -> None:
    _build(tmp_path)
    for meta in tmp_path.glob("collections/*/meta.json"):
        raw = json.loads(meta.read_text())
        raw.pop("aliases")
        meta.write_text(json.dumps(raw))  # as written before claims existed
    (tmp_path / "aliases.json").unlink()
    assert _reopen(tmp_path) == {"loupe": "None", "archive": "None", "loupe__next": "None"}
