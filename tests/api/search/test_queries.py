"""Queries by text (English and Chinese), by an uploaded photo and by id; hybrid weights and
negative texts."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.api.conftest import search, top_stems
from tests.api.search.conftest import image_search, jpeg, stems

pytestmark = pytest.mark.slow


# -- text, image, by id ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "stem"),
    [
        ("a rocket", "rocket"),
        ("a motorcycle", "motorcycle"),
        ("一杯咖啡", "coffee"),
        ("火箭", "rocket"),
    ],
)
def test_text_finds_the_photo(api: TestClient, query: str, stem: str) -> None:
    result = search(api, text=query, limit=3)
    assert top_stems(result) == [stem]
    assert not result["no_good_match"]


def test_image_upload_finds_the_same_photo(api: TestClient, sample_dir: Path) -> None:
    rocket = Image.open(sample_dir / "rocket.jpg").convert("RGB")
    result = image_search(api, jpeg(rocket.resize((256, 256)), 40), limit="3")
    assert top_stems(result) == ["rocket"]
    assert len(result["hits"]) == 3
    cat = (sample_dir / "cat.jpg").read_bytes()
    vehicles = image_search(api, cat, tags="vehicle", modality="image", offset="1")
    assert stems(vehicles) == ["motorcycle"] or stems(vehicles) == ["rocket"]
    assert vehicles["next_offset"] is None


def test_similar_by_id_excludes_itself_and_puts_a_copy_first(
    api: TestClient, ids: dict[str, str]
) -> None:
    response = api.get(f"/v1/items/{ids['cat']}/similar", params={"limit": 5})
    assert response.status_code == 200
    hits = response.json()["hits"]
    assert ids["cat"] not in [h["id"] for h in hits]
    assert Path(hits[0]["filename"]).stem in {"cat_q50", "cat_crop"}
    assert api.get("/v1/items/00000000-0000-0000-0000-000000000000/similar").status_code == 404


# -- hybrid and negatives ----------------------------------------------------------------
def test_weights_move_a_hybrid_query_towards_its_heavier_part(
    api: TestClient, sample_dir: Path
) -> None:
    coffee = (sample_dir / "coffee.jpg").read_bytes()
    towards_text = image_search(api, coffee, text="a cat", text_weight="0.9", image_weight="0.1")
    towards_image = image_search(
        api, coffee, text="a cat", options=json.dumps({"weights": {"text": 0.1, "image": 0.9}})
    )
    assert top_stems(towards_text) in (["cat"], ["cat_crop"])  # either copy of the cat
    assert top_stems(towards_image) == ["coffee"]
    encoded = base64.b64encode(coffee).decode()
    as_json = search(api, text="a cat", image=encoded, weights={"text": 0.9, "image": 0.1})
    assert top_stems(as_json) == top_stems(towards_text)


def test_a_negative_text_steers_away(api: TestClient) -> None:
    plain = stems(search(api, text="an animal", limit=20, filter={"tags": ["sample"]}))
    steered = stems(
        search(api, text="an animal", negative="a cat", limit=20, filter={"tags": ["sample"]})
    )
    assert plain.index("cat") < 2
    assert steered.index("cat") > plain.index("cat")
    assert steered.index("cat") >= len(steered) // 2
