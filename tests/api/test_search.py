"""Search through the HTTP API with the real bundled encoder: text, image upload, by id, hybrid,
negatives, filters, exact pages, thresholds, calibration, duplicates and bad input.

One app and one collection serve the whole module (uploading is the slow part); tests only
read it. The collection: the 10 sample photos (tags by subject, metadata by batch), two
near-duplicate copies of the cat, a PNG photo of grass, and two text items."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import skimage.data
from fastapi.testclient import TestClient
from PIL import Image

from loupe.api.app import create_app
from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import AUTH, make_settings, search, top_stems, wait_job

pytestmark = pytest.mark.slow

BATCHES: list[tuple[list[str], str, dict[str, Any]]] = [
    (["cat", "coffee"], "sample,home", {"year": 2019, "camera": "x100"}),
    (["rocket", "motorcycle"], "sample,vehicle", {"year": 2021, "camera": "gr"}),
    (
        ["astronaut", "galaxies", "cameraman", "coins", "temple", "flower"],
        "sample",
        {"year": 2023},
    ),
]
GOOD = ["a cat", "a cup of coffee", "an animal", "a vehicle", "一只可爱的猫咪", "一杯咖啡", "火箭"]
NONSENSE = [
    "qwzx flurb",
    "asdfgh",
    "a spreadsheet of quarterly tax figures",
    "量子色动力学的拉格朗日量",
]


def jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def cropped(image: Image.Image, share: float) -> Image.Image:
    dx, dy = int(image.width * share / 2), int(image.height * share / 2)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


def post_files(
    client: TestClient,
    files: list[tuple[str, bytes, str]],
    *,
    tags: str = "",
    metadata: dict[str, Any] | None = None,
) -> dict[str, str]:
    data = {"tags": tags, "metadata": json.dumps(metadata or {})}
    parts = [("files", f) for f in files]
    response = client.post("/v1/items", files=parts, data=data)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert wait_job(client, body["job_id"])["state"] == "succeeded"
    return {Path(i["filename"]).stem: i["id"] for i in body["items"]}


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, sample_dir: Path, encoders: EncoderPool
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = make_settings(tmp_path_factory.mktemp("search-api"))
    with TestClient(create_app(settings, encoders=encoders), headers=AUTH) as client:
        ids: dict[str, str] = {}
        for stems, tags, metadata in BATCHES:
            files = [
                (f"{s}.jpg", (sample_dir / f"{s}.jpg").read_bytes(), "image/jpeg") for s in stems
            ]
            ids |= post_files(client, files, tags=tags, metadata=metadata)
        cat = Image.open(sample_dir / "cat.jpg").convert("RGB")
        copies = [
            ("cat_q50.jpg", jpeg(cat, 50), "image/jpeg"),
            ("cat_crop.jpg", jpeg(cropped(cat, 0.08), 85), "image/jpeg"),
        ]
        ids |= post_files(client, copies, tags="copy")
        grass = io.BytesIO()
        Image.open(Path(skimage.data.__file__).parent / "grass.png").convert("RGB").save(
            grass, format="PNG"
        )
        ids |= post_files(client, [("grass.png", grass.getvalue(), "image/png")], tags="texture")
        texts = {"items": [{"text": "A recipe for tomato soup"}, {"text": "Fixing a bicycle"}]}
        response = client.post("/v1/items", json=texts)
        assert wait_job(client, response.json()["job_id"])["state"] == "succeeded"
        yield client, ids


@pytest.fixture
def api(world: tuple[TestClient, dict[str, str]]) -> TestClient:
    return world[0]


@pytest.fixture
def ids(world: tuple[TestClient, dict[str, str]]) -> dict[str, str]:
    return world[1]


def stems(result: dict[str, Any]) -> list[str]:
    return [Path(h["filename"]).stem if h.get("filename") else h["text"] for h in result["hits"]]


def image_search(api: TestClient, data: bytes, **fields: Any) -> dict[str, Any]:
    files = {"file": ("query.jpg", data, "image/jpeg")}
    response = api.post("/v1/search/image", files=files, data=fields)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


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
    assert top_stems(towards_text) == ["cat"]
    assert top_stems(towards_image) == ["coffee"]
    encoded = base64.b64encode(coffee).decode()
    as_json = search(api, text="a cat", image=encoded, weights={"text": 0.9, "image": 0.1})
    assert top_stems(as_json) == ["cat"]


def test_a_negative_text_steers_away(api: TestClient) -> None:
    plain = stems(search(api, text="an animal", limit=20, filter={"tags": ["sample"]}))
    steered = stems(
        search(api, text="an animal", negative="a cat", limit=20, filter={"tags": ["sample"]})
    )
    assert plain.index("cat") < 2
    assert steered.index("cat") > plain.index("cat")
    assert steered.index("cat") >= len(steered) // 2


# -- filters -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"tags": ["vehicle"]}, {"rocket", "motorcycle"}),
        ({"tags": ["home", "texture"]}, {"cat", "coffee", "grass"}),
        ({"modality": "text"}, {"A recipe for tomato soup", "Fixing a bicycle"}),
        ({"mime": ["image/png"]}, {"grass"}),
        ({"metadata": {"camera": "gr"}}, {"rocket", "motorcycle"}),
        ({"metadata": {"year": 2019}}, {"cat", "coffee"}),
        ({"metadata": {"year": {"gte": 2020, "lte": 2022}}}, {"rocket", "motorcycle"}),
        (
            {"metadata": {"year": {"gte": 2022}}},
            {"astronaut", "galaxies", "cameraman"} | {"coins", "temple", "flower"},
        ),
    ],
)
def test_filters(api: TestClient, flt: dict[str, Any], expected: set[str]) -> None:
    result = search(api, text="a photo", limit=50, filter=flt)
    assert set(stems(result)) == expected


def test_created_at_range(api: TestClient) -> None:
    everything = search(api, text="a photo", limit=50, collapse_duplicates=False)
    when = {
        stem: h["created_at"] for stem, h in zip(stems(everything), everything["hits"], strict=True)
    }
    assert when["cat"] < when["rocket"] < when["cat_q50"]
    # Bounds 1 ms outside the stored stamps (batches are ~100 ms apart): the engine parses
    # floats itself, so a bound equal to a stored stamp can land one ULP on either side.
    between = {"created_after": when["rocket"] - 1e-3, "created_before": when["flower"] + 1e-3}
    result = search(api, text="a photo", limit=50, filter=between)
    assert set(stems(result)) == set(BATCHES[1][0]) | set(BATCHES[2][0])


# -- pages, thresholds, calibration, duplicates ------------------------------------------
@pytest.mark.parametrize("collapse", [True, False])
def test_pages_are_exact(api: TestClient, collapse: bool) -> None:
    whole = search(api, text="a photo", limit=200, collapse_duplicates=collapse)
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = search(api, text="a photo", limit=4, offset=offset, collapse_duplicates=collapse)
        seen += [h["id"] for h in page["hits"]]
        offset = page["next_offset"]
    assert seen == [h["id"] for h in whole["hits"]]
    assert len(seen) == len(set(seen)) == (13 if collapse else 15)


def test_score_threshold_drops_weaker_hits(api: TestClient) -> None:
    everything = search(api, text="a cat", limit=50)
    scores = [h["score"] for h in everything["hits"]]
    cut = (scores[2] + scores[3]) / 2
    strong = search(api, text="a cat", limit=50, score_threshold=cut)
    assert strong["hits"] == [h for h in everything["hits"] if h["score"] >= cut]
    assert len(strong["hits"]) == 3


@pytest.mark.parametrize("query", GOOD)
def test_good_queries_are_not_flagged(api: TestClient, query: str) -> None:
    assert not search(api, text=query)["no_good_match"]


@pytest.mark.parametrize("query", NONSENSE)
def test_nonsense_is_flagged_but_still_answered(api: TestClient, query: str) -> None:
    result = search(api, text=query)
    assert result["no_good_match"]
    assert result["hits"]


def test_each_hit_says_how_well_it_matches_and_matches_come_first(
    api: TestClient, ids: dict[str, str]
) -> None:
    result = search(api, text="a cat", limit=50)
    kinds = [h["match"] for h in result["hits"]]
    assert result["hits"][0]["id"] in {ids["cat"], ids["cat_q50"], ids["cat_crop"]}
    assert kinds[0] == "strong"
    total = result["total_matches"]
    assert total == sum(k != "none" for k in kinds) >= 1
    assert set(kinds[:total]) <= {"strong", "weak"}
    assert set(kinds[total:]) == {"none"}, "every hit after the matches is not a match"
    assert total < len(kinds), "the rest of the library is not counted as matches"
    assert not result["matches_capped"]


def test_total_counts_what_the_query_could_return(api: TestClient, ids: dict[str, str]) -> None:
    everything = search(api, text="a cat", limit=200, collapse_duplicates=False)["hits"]
    assert search(api, text="a cat")["total"] == len(everything) == len(ids) + 2  # + 2 texts
    vehicles = search(api, text="a cat", filter={"tags": ["vehicle"]})
    assert vehicles["total"] == 2
    assert search(api, text="a cat", limit=2, offset=2)["total"] is None  # first page only


@pytest.mark.parametrize("query", NONSENSE)
def test_nonsense_has_no_matching_hit(api: TestClient, query: str) -> None:
    result = search(api, text=query, limit=50)
    assert result["total_matches"] == 0
    assert {h["match"] for h in result["hits"]} == {"none"}


def test_queries_by_photo_are_judged_by_likeness(api: TestClient, ids: dict[str, str]) -> None:
    result = search(api, image_id=ids["cat"], limit=5, collapse_duplicates=False)
    assert result["hits"][0]["id"] in {ids["cat_q50"], ids["cat_crop"]}
    assert result["hits"][0]["match"] == "strong"
    assert not result["no_good_match"] and result["total_matches"] >= 2
    blend = search(api, text="a cat", image_id=ids["coffee"], limit=5)
    assert blend["total_matches"] is None  # a blend of text and photo is not judged


def test_calibration_on_the_bare_sample_gallery(
    client: TestClient, gallery: dict[str, str]
) -> None:
    quickstart = ["a cat", "a cup of coffee", "a rocket", "a motorcycle"]
    chinese = ["一只可爱的猫咪", "一杯咖啡", "火箭", "一辆摩托车"]
    flagged = {q: search(client, text=q)["no_good_match"] for q in quickstart + chinese + GOOD}
    assert flagged == dict.fromkeys(flagged, False)
    nonsense = {q: search(client, text=q)["no_good_match"] for q in NONSENSE}
    assert nonsense == dict.fromkeys(nonsense, True)


def test_near_duplicates_fold_under_one_hit(api: TestClient, ids: dict[str, str]) -> None:
    folded = search(api, text="a cat", limit=5)
    assert top_stems(folded) == ["cat"] or top_stems(folded)[0].startswith("cat_")
    copies = {ids["cat"], ids["cat_q50"], ids["cat_crop"]}
    first = folded["hits"][0]
    assert {first["id"], *first["duplicates"]} == copies
    assert len(first["duplicates"]) == 2
    assert not copies & {h["id"] for h in folded["hits"][1:]}
    everything = search(api, text="a cat", limit=5, collapse_duplicates=False)
    assert {h["id"] for h in everything["hits"][:3]} == copies
    assert all(h["duplicates"] == [] for h in everything["hits"])


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


def test_taken_at_from_exif_else_upload_time_and_its_date_filter(
    client: TestClient, tmp_path: Path
) -> None:
    from loupe.ingest.exif_date import DATE_TIME_ORIGINAL
    from tests.ingest.test_exif_date import jpeg

    (tmp_path / "old.jpg").write_bytes(jpeg({}, {DATE_TIME_ORIGINAL: "2019:06:01 14:30:00"}))
    Image.new("RGB", (40, 30), (10, 90, 200)).save(tmp_path / "new.jpg", "JPEG")
    files = [
        ("files", (n, (tmp_path / n).read_bytes(), "image/jpeg")) for n in ("old.jpg", "new.jpg")
    ]
    wait_job(client, client.post("/v1/items", files=files).json()["job_id"])
    everything = search(client, text="a photo", limit=10)["hits"]
    dates = {h["filename"]: (h["taken_at"], h["created_at"]) for h in everything}
    assert dates["old.jpg"][0] == 1559399400.0  # 2019-06-01T14:30:00Z
    assert dates["new.jpg"][0] == dates["new.jpg"][1], "no EXIF date: the upload time"
    before = search(client, text="a photo", filter={"taken_before": "2020-01-01T00:00:00Z"})
    assert [h["filename"] for h in before["hits"]] == ["old.jpg"]
    after = search(client, text="a photo", filter={"taken_after": "2020-01-01"})
    assert [h["filename"] for h in after["hits"]] == ["new.jpg"]
