"""Over real HTTP: a search beyond LOUPE_SEARCH_CONCURRENCY is answered at once with 429, a
``Retry-After`` header and the JSON error body; the next one, once a slot is free, is served."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from loupe.api.app import create_app
from loupe.search.encoders.pool import EncoderPool
from loupe.search.service import SearchService
from tests.api.conftest import make_settings, serve

pytestmark = pytest.mark.slow


def test_search_over_the_bound_is_429_with_retry_after(
    tmp_path: Path, encoders: EncoderPool
) -> None:
    settings = make_settings(tmp_path / "data", admin_token=None, search_concurrency=1)
    app = create_app(settings, encoders=encoders)
    with serve(app) as url, httpx.Client(base_url=url) as http:
        assert http.post("/v1/search", json={"text": "a cat"}).status_code == 200
        service: SearchService = app.state.search
        with service.admission.slot():  # one search in flight: the bound of 1 is reached
            refused = http.post("/v1/search", json={"text": "a cat"})
            similar = http.get("/v1/items/0123/similar")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert refused.json() == {
            "error": {"type": "overloaded", "message": "too many searches in flight"}
        }
        assert similar.status_code == 429
        again = http.post("/v1/search", json={"text": "a cat"})
        assert again.status_code == 200, again.text
        assert "retry-after" not in again.headers
