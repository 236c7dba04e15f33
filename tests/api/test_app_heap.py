"""``loupe serve`` freezes the heap it started with (``create_app(freeze_heap=True)``): the
models, the app and the index clients leave the garbage collector's full collections, which
walked them all, every thread stopped, ~140 ms about every 3 s while photos were added."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from loupe.api.app import create_app
from loupe.api.settings import Settings
from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import AUTH


def test_a_served_app_freezes_its_startup_heap_and_gives_it_back(
    settings: Settings, encoders: EncoderPool
) -> None:
    assert gc.get_freeze_count() == 0
    app = create_app(settings, encoders=encoders, freeze_heap=True)
    with TestClient(app, headers=AUTH) as client:
        assert gc.get_freeze_count() > 10_000  # what was alive once it was ready
        found = client.post("/v1/search", json={"text": "a cat"})
        assert found.status_code == 200  # serves as before
    assert gc.get_freeze_count() == 0  # unfrozen at shutdown


def test_an_embedded_app_leaves_the_collector_alone(
    settings: Settings, encoders: EncoderPool
) -> None:
    with TestClient(create_app(settings, encoders=encoders), headers=AUTH) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() == 0
