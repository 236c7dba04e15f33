"""``ingest.stores``: the live collection is created once with the default model; in the embedded
store a lone collection left without the alias goes live again and two are refused; a server
that would open on a full disk is refused, the CLI (which repairs) is not; new collections are
named after their model and the time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from loupe.api.settings import Settings
from loupe.ingest.jobs_sqlite import SqliteJobStore
from loupe.ingest.stores import Stores, collection_name, ensure_live_collection
from loupe.search.encoders.pool import EncoderPool
from loupe.search.errors import Conflict, StorageFull
from loupe.search.index import SEMANTIC, Point
from loupe.search.index.memory_store import NumpyIndex
from tests.api.conftest import make_settings
from tests.search.test_index import pid

ALIAS = "loupe"


def test_collection_names_are_a_slug_of_the_model_and_the_utc_time() -> None:
    assert collection_name("Bundled/EffL0 e5s:v2", now=0) == "bundled-effl0-e5s-v2-19700101t000000"
    assert collection_name("???", now=86_400) == "model-19700102t000000"


def _orphan(index: NumpyIndex, encoders: EncoderPool, name: str) -> None:
    """A collection of the default model holding one point, that no alias names."""
    model = encoders.default
    index.create_collection(name, model_id=model.model_id, dim=model.dim, visual_dim=0)
    vector = np.ones(model.dim, dtype=np.float32) / np.sqrt(model.dim)
    index.upsert(name, [Point(pid(0), {SEMANTIC: vector}, {})])


def test_the_first_start_creates_the_live_collection_and_the_next_keeps_it(
    encoders: EncoderPool,
) -> None:
    index = NumpyIndex()
    encoder = ensure_live_collection(index, encoders, ALIAS)
    live = index.resolve_alias(ALIAS)
    assert live is not None and encoder.model_id == encoders.default.model_id
    info = index.collection_info(live)
    assert (info.model_id, info.dim) == (encoder.model_id, encoder.dim)
    index.drop_collection(live)
    _orphan(index, encoders, "kept")
    index.set_alias(ALIAS, "kept")
    assert ensure_live_collection(index, encoders, ALIAS) is encoder
    assert index.resolve_alias(ALIAS) == "kept" and index.count("kept") == 1


def test_a_lone_collection_without_the_alias_goes_live_again(encoders: EncoderPool) -> None:
    index = NumpyIndex()
    _orphan(index, encoders, "lone")  # the alias map was lost
    ensure_live_collection(index, encoders, ALIAS, embedded=True)
    assert index.resolve_alias(ALIAS) == "lone" and index.count("lone") == 1
    assert len(index.list_collections()) == 1


def test_two_collections_without_the_alias_are_refused(encoders: EncoderPool) -> None:
    index = NumpyIndex()
    model = encoders.default
    for name in ("old", "older"):
        index.create_collection(
            name, model_id=model.model_id, dim=model.dim, visual_dim=model.visual_dim
        )
    with pytest.raises(Conflict, match="points at no collection"):
        ensure_live_collection(index, encoders, ALIAS, embedded=True)
    assert index.resolve_alias(ALIAS) is None and len(index.list_collections()) == 2
    # A server index (shared, not only Loupe's) starts a new collection instead.
    ensure_live_collection(index, encoders, ALIAS, embedded=False)
    assert index.resolve_alias(ALIAS) not in (None, "old", "older")


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return make_settings(tmp_path / "data", ingest_prewarm=False, **overrides)


def test_a_full_disk_refuses_a_server_but_not_the_cli(
    tmp_path: Path, encoders: EncoderPool
) -> None:
    full = _settings(tmp_path, disk_flood_free="100%", disk_low_free="100%")
    with pytest.raises(StorageFull, match="cannot start"):
        Stores.open(full, role="worker", encoders=encoders)
    stores = Stores.open(full, role="cli", encoders=encoders)
    try:
        assert isinstance(stores.jobs, SqliteJobStore)  # no broker: jobs in SQLite
        assert stores.index.resolve_alias(full.collection_alias) is not None
        assert stores.pipeline.index is stores.index and stores.pipeline.blobs is stores.blobs
    finally:
        stores.close()
