"""Bad queries are refused with a 4xx JSON error, and the service keeps answering."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import search, top_stems

pytestmark = pytest.mark.slow


# -- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        {"text": "   "},
        {},
        {"text": "x" * 100_000},
        {"text": "a cat", "filter": {"colour": "red"}},
        {"text": "a cat", "filter": {"metadata": {"year": [2019]}}},
        {"text": "a cat", "filter": {"tags": "sample"}},
        {"text": "a cat", "limit": "ten"},
        {"image": "!!! not base64 !!!"},
        {"image": base64.b64encode(b"plain text, not an image").decode()},
    ],
)
def test_bad_input_is_a_4xx_json_error(api: TestClient, body: dict[str, Any]) -> None:
    response = api.post("/v1/search", json=body)
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()["error"]) == {"type", "message"}
    assert top_stems(search(api, text="a cat")) in (["cat"], ["cat_q50"], ["cat_crop"])


def test_bad_image_queries(api: TestClient, ids: dict[str, str], sample_dir: Path) -> None:
    image = base64.b64encode((sample_dir / "cat.jpg").read_bytes()).decode()
    both = api.post("/v1/search", json={"image": image, "image_id": ids["cat"]})
    assert both.status_code == 422
    unknown = api.post("/v1/search", json={"image_id": "00000000-0000-0000-0000-000000000000"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["type"] == "not_found"
    not_image = api.post("/v1/search/image", files={"file": ("a.jpg", b"hello", "image/jpeg")})
    assert not_image.status_code in (415, 422)
    twice = api.post(
        "/v1/search/image",
        files={"file": ("a.jpg", (sample_dir / "cat.jpg").read_bytes(), "image/jpeg")},
        data={"limit": "3", "options": json.dumps({"limit": 5})},
    )
    assert twice.status_code == 422
    by_id = search(api, image_id=ids["cat"], limit=3)
    assert ids["cat"] not in [h["id"] for h in by_id["hits"]]
