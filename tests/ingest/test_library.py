"""``ingest.library``: a change to tags and metadata is written to every collection that holds
the item (so a rollback keeps it), only for the caller's tenant, and vectors are kept."""

from __future__ import annotations

import numpy as np
import pytest

from loupe.ingest.library import MAX_TAGS, Change, change_item, change_items
from loupe.search.errors import InvalidInput, NotFound
from loupe.search.index import SEMANTIC, TENANT_FIELD, Point
from loupe.search.index.memory_store import NumpyIndex


def _point(item: str, *, tenant: str | None = None, x: float = 1.0) -> Point:
    payload: dict[str, object] = {"tags": ["old"], "metadata": {"camera": "X", "lens": "50"}}
    if tenant:
        payload[TENANT_FIELD] = tenant
    vector = np.asarray([x, 1.0, 0.0], dtype=np.float32)
    return Point(item, {SEMANTIC: vector / np.linalg.norm(vector)}, payload)


@pytest.fixture
def index() -> NumpyIndex:
    """Two collections (live and the one a reindex replaced) holding the same items."""
    index = NumpyIndex()
    for name in ("live", "previous"):
        index.create_collection(name, model_id=f"m-{name}", dim=3, visual_dim=0)
        index.upsert(name, [_point("a", tenant="t1"), _point("b", tenant="t2", x=2.0)])
    return index


def test_apply_replaces_adds_removes_tags_and_merges_metadata() -> None:
    payload = {"tags": ["old", "keep"], "metadata": {"camera": "X", "lens": "50"}, "w": 3}
    assert Change(add_tags=["new", "old"], remove_tags=["keep"]).apply(payload) == {
        "tags": ["old", "new"],
        "metadata": {"camera": "X", "lens": "50"},
        "w": 3,
    }
    replaced = Change(tags=["x"], metadata={"lens": None, "iso": 200}).apply(payload)
    assert replaced["tags"] == ["x"]
    assert replaced["metadata"] == {"camera": "X", "iso": 200}  # None removes a key
    assert payload["tags"] == ["old", "keep"]  # the payload given is not changed


def test_apply_refuses_more_than_the_tag_limit() -> None:
    Change(tags=[str(i) for i in range(MAX_TAGS)]).apply({})
    with pytest.raises(InvalidInput, match=f"at most {MAX_TAGS} tags"):
        Change(add_tags=[str(i) for i in range(MAX_TAGS + 1)]).apply({})


def test_is_empty_only_without_any_edit() -> None:
    assert Change().is_empty()
    assert not Change(tags=[]).is_empty()  # clearing the tags is a change
    assert not Change(metadata={"k": None}).is_empty()


def _vector(index: NumpyIndex, name: str, item: str) -> np.ndarray:
    vectors = index.retrieve(name, [item], with_vectors=True)[0].vectors
    assert vectors is not None
    return vectors[SEMANTIC]


def test_a_change_reaches_every_collection_and_keeps_the_vectors(index: NumpyIndex) -> None:
    before = _vector(index, "previous", "a")
    changed, missing = change_items(
        index, ["a", "a", "ghost"], Change(add_tags=["trip"]), tenant=None, live="live"
    )
    assert [h.id for h in changed] == ["a"] and missing == ["ghost"]
    assert changed[0].payload["tags"] == ["old", "trip"]
    for name in ("live", "previous"):
        assert index.retrieve(name, ["a"])[0].payload["tags"] == ["old", "trip"]
        assert np.array_equal(_vector(index, name, "a"), before)
    assert index.retrieve("live", ["b"])[0].payload["tags"] == ["old"]  # not asked for


def test_another_tenants_item_does_not_exist_for_the_caller(index: NumpyIndex) -> None:
    changed, missing = change_items(
        index, ["a", "b"], Change(tags=["mine"]), tenant="t1", live="live"
    )
    assert [h.id for h in changed] == ["a"] and missing == ["b"]
    for name in ("live", "previous"):
        assert index.retrieve(name, ["b"])[0].payload["tags"] == ["old"]
    with pytest.raises(NotFound):
        change_item(index, "b", Change(tags=["mine"]), tenant="t1", live="live")


def test_an_empty_change_writes_nothing(index: NumpyIndex) -> None:
    bare = Point("a", _point("a").vectors, {TENANT_FIELD: "t1"})  # no tags, no metadata
    index.upsert("previous", [bare])
    changed, _ = change_items(index, ["a"], Change(), tenant=None, live="live")
    assert changed[0].payload["tags"] == ["old"]
    assert index.retrieve("previous", ["a"])[0].payload == {TENANT_FIELD: "t1"}  # not rewritten
