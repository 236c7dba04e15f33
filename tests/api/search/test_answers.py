"""What an answer says: exact pages, score thresholds, the no-good-match flag and how well each
hit matches, totals, calibration on the bare sample gallery, and near-duplicates folded."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import search, top_stems
from tests.api.search.conftest import GOOD, NONSENSE

pytestmark = pytest.mark.slow


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
