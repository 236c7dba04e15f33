"""Tenants partition one collection by the ``tenant`` payload field, the same way in all three
adapters; the embedded engine keeps a keyword index marked ``is_tenant`` on it, also on a
collection made before tenants existed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import qdrant_edge as qe

from loupe.search.index import SEMANTIC, TENANT_FIELD, Filter, Point, VectorIndex
from loupe.search.index.client_store import ClientIndex
from loupe.search.index.edge_layers import read_layers
from loupe.search.index.edge_store import EdgeIndex
from loupe.search.index.memory_store import NumpyIndex
from loupe.search.query import for_tenant
from tests.search.test_index import DIM, VISUAL_DIM, make_points

TENANTS = ("alpha", "beta", None)


@pytest.fixture(params=["client", "edge", "memory"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorIndex]:
    store: VectorIndex
    if request.param == "client":
        store = ClientIndex(":memory:")
    elif request.param == "edge":
        store = EdgeIndex(tmp_path)
    else:
        store = NumpyIndex()
    yield store
    store.close()


def tenant_of(i: int) -> str | None:
    return TENANTS[i % 3]


def tenanted(n: int) -> list[Point]:
    points = []
    for i, point in enumerate(make_points(n)):
        payload = dict(point.payload)
        if tenant_of(i) is not None:
            payload[TENANT_FIELD] = tenant_of(i)
        points.append(Point(point.id, point.vectors, payload))
    return points


def test_a_tenant_filter_keeps_only_that_tenants_points(index: VectorIndex) -> None:
    index.create_collection("c1", model_id="m1", dim=DIM, visual_dim=VISUAL_DIM)
    points = tenanted(60)
    index.upsert("c1", points)
    query = points[4].vectors[SEMANTIC]  # a point of beta
    for tenant in ("alpha", "beta"):
        owned = {p.id for i, p in enumerate(points) if tenant_of(i) == tenant}
        flt = for_tenant(None, tenant)
        hits = index.search("c1", query, flt=flt, limit=60)
        assert {h.id for h in hits} == owned
        assert index.count("c1", flt) == len(owned)
        page, _ = index.scroll("c1", flt=flt, limit=100)
        assert {h.id for h in page} == owned
        tagged = for_tenant(Filter(tags_any=["t1"]), tenant)
        assert {h.id for h in index.search("c1", query, flt=tagged, limit=60)} == {
            p.id
            for i, p in enumerate(points)
            if tenant_of(i) == tenant and "t1" in p.payload["tags"]
        }
    assert index.count("c1", for_tenant(None, "gamma")) == 0
    assert index.count("c1") == 60
    assert for_tenant(None, None) is None


def _is_tenant_index(shard_dir: Path) -> bool | None:
    """Whether the shard's tenant index is marked ``is_tenant`` (None: no tenant index)."""
    shard = qe.EdgeShard.load(str(shard_dir))
    try:
        info = shard.info().payload_schema.get(TENANT_FIELD)
        if info is None:
            return None
        assert isinstance(info.params, qe.KeywordIndexParams)
        return bool(info.params.is_tenant)
    finally:
        shard.close()


def test_the_embedded_engine_indexes_tenants_as_tenants(tmp_path: Path) -> None:
    index = EdgeIndex(tmp_path)
    index.create_collection("c1", model_id="m1", dim=DIM, visual_dim=None)
    index.close()
    folder = tmp_path / "collections" / "c1"
    layers = read_layers(folder)
    assert layers is not None
    shard_dir = folder / layers.tail  # the shard that takes writes (see edge_layers)
    assert _is_tenant_index(shard_dir) is True

    shard = qe.EdgeShard.load(str(shard_dir))  # as a collection made before tenants existed
    shard.update(qe.UpdateOperation.delete_field_index(TENANT_FIELD))
    shard.close()
    assert _is_tenant_index(shard_dir) is None
    index = EdgeIndex(tmp_path)
    vector = np.ones(DIM, dtype=np.float32) / np.sqrt(DIM)
    index.upsert("c1", [Point("00000000-0000-0000-0000-000000000001", {SEMANTIC: vector}, {})])
    index.close()
    assert _is_tenant_index(shard_dir) is True
