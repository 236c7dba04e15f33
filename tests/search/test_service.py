"""The search service answers queries: text, hybrid weights, photo, negatives, filters, exact
pages, duplicate folding, thresholds, no-good-match, similar items, stored vectors, and the
queries it refuses."""

from __future__ import annotations

import pytest

from loupe.search.errors import InvalidInput, NotFound
from loupe.search.index.base import SEMANTIC, Filter, Range
from loupe.search.query import SearchQuery
from loupe.search.service import SearchService
from tests.search.conftest import photo
from tests.search.service_kit import RED_COPIES, ids


def test_text_query_ranks_matching_items_first(service: SearchService) -> None:
    result = service.search(SearchQuery(text="red apple", collapse_duplicates=False))
    assert ids(result)[0] == "t-apple-red"
    assert result.hits[0].modality == "text"
    assert result.model_id == "test-hashing-a-512"
    assert result.took_ms >= 0
    assert not result.no_good_match


def test_hybrid_weights_move_the_ranking(service: SearchService) -> None:
    def rank(text_weight: float) -> list[str]:
        query = SearchQuery(
            text="ocean waves",
            image_id="i-red-0",
            weights={"text": text_weight, "image": 1 - text_weight},
            limit=50,
            collapse_duplicates=False,
        )
        return ids(service.search(query))

    text_heavy, image_heavy = rank(0.9), rank(0.1)
    assert text_heavy[0] == "t-ocean"
    assert image_heavy.index("t-ocean") > text_heavy.index("t-ocean")
    assert image_heavy[0] in RED_COPIES
    assert image_heavy.index("t-apple-red") < text_heavy.index("t-apple-red")
    assert "i-red-0" not in text_heavy + image_heavy  # the query's own image is not a hit


def test_uploaded_image_query_finds_its_colour(service: SearchService) -> None:
    result = service.search(SearchQuery(image=photo("blue", seed=5), collapse_duplicates=False))
    assert ids(result)[0] == "i-blue"
    assert set(ids(result)[1:3]) <= {"t-ocean", "t-truck-blue", "t-apple-blue"}


def test_negative_texts_steer_away(service: SearchService) -> None:
    plain = service.search(SearchQuery(text="red", limit=50, collapse_duplicates=False))
    steered = service.search(
        SearchQuery(text="red", negative_texts=["truck"], limit=50, collapse_duplicates=False)
    )
    score = {h.id: h.score for h in plain.hits}
    steered_score = {h.id: h.score for h in steered.hits}
    assert score["t-truck-red"] == pytest.approx(score["t-apple-red"])
    assert steered_score["t-truck-red"] < steered_score["t-apple-red"]
    assert ids(steered).index("t-apple-red") < ids(steered).index("t-truck-red")


def test_negative_ids_steer_away_and_are_excluded(service: SearchService) -> None:
    result = service.search(
        SearchQuery(text="blue", negative_ids=["t-truck-red"], limit=50, collapse_duplicates=False)
    )
    order = ids(result)
    assert "t-truck-red" not in order
    assert order.index("t-apple-blue") < order.index("t-truck-blue")


def test_filters_restrict_the_candidates(service: SearchService) -> None:
    images = service.search(
        SearchQuery(text="red", filter=Filter(equals={"modality": "image"}), limit=50)
    )
    assert images.hits
    assert {h.modality for h in images.hits} == {"image"}
    wide = service.search(
        SearchQuery(
            text="red",
            filter=Filter(tags_any=["photo"], ranges={"width": Range(gte=46)}),
            limit=50,
            collapse_duplicates=False,
        )
    )
    assert wide.hits
    assert all(h.payload["width"] >= 46 for h in wide.hits)


@pytest.mark.parametrize("collapse", [False, True])
@pytest.mark.parametrize("limit", [1, 2, 5])
def test_pages_are_exact(service: SearchService, collapse: bool, limit: int) -> None:
    base = SearchQuery(text="red", collapse_duplicates=collapse)
    whole = service.search(SearchQuery(text="red", collapse_duplicates=collapse, limit=200))
    assert whole.next_offset is None
    paged: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = service.search(
            SearchQuery(text=base.text, collapse_duplicates=collapse, limit=limit, offset=offset)
        )
        assert len(page.hits) == limit or page.next_offset is None
        paged += ids(page)
        offset = page.next_offset
    assert paged == ids(whole)
    assert len(set(paged)) == len(paged)


def test_folding_lists_duplicates_once(service: SearchService, all_ids: list[str]) -> None:
    folded = service.search(SearchQuery(text="red", limit=200))
    flat = service.search(SearchQuery(text="red", limit=200, collapse_duplicates=False))
    shown = [h.id for h in folded.hits] + [d for h in folded.hits for d in h.duplicates]
    assert sorted(shown) == sorted(ids(flat)) == sorted(all_ids)
    red_leaders = [h for h in folded.hits if h.id in RED_COPIES]
    assert len(red_leaders) == 1
    assert set(red_leaders[0].duplicates) >= set(RED_COPIES) - {red_leaders[0].id}
    assert "i-red-white" not in red_leaders[0].duplicates


def test_score_threshold_drops_weak_hits(service: SearchService) -> None:
    everything = service.search(SearchQuery(text="red apple", limit=200))
    strong = service.search(SearchQuery(text="red apple", limit=200, score_threshold=0.5))
    assert strong.hits
    assert all(h.score >= 0.5 for h in strong.hits)
    assert len(strong.hits) < len(everything.hits)


def test_no_good_match_flags_nonsense_but_not_a_real_query(service: SearchService) -> None:
    nonsense = service.search(SearchQuery(text="zqxj wvbn plorf"))
    good = service.search(SearchQuery(text="red apple"))
    assert nonsense.no_good_match
    assert nonsense.hits  # still returned, for the UI to show dimmed
    assert not good.no_good_match


def test_similar_excludes_the_item_and_uses_visual(service: SearchService) -> None:
    result = service.similar("i-red-0", limit=3)
    shown = ids(result) + [d for h in result.hits for d in h.duplicates]
    assert "i-red-0" not in shown
    assert result.hits[0].id in [*RED_COPIES, "i-red-crop"]
    assert set(RED_COPIES[1:]) <= set(shown)
    text_like = service.similar("t-apple-red", limit=50, collapse_duplicates=False)
    assert "t-apple-red" not in ids(text_like)
    order = ids(text_like)  # by semantic: the text has no visual vector
    assert order.index("t-truck-red") < order.index("t-truck-blue")
    assert order.index("t-apple-blue") < order.index("t-truck-blue")
    with pytest.raises(NotFound):
        service.similar("no-such-id")


def test_with_vectors_returns_stored_vectors(service: SearchService) -> None:
    plain = service.search(SearchQuery(text="blue"))
    assert all(h.vectors is None for h in plain.hits)
    rich = service.search(SearchQuery(text="blue", with_vectors=True))
    assert all(h.vectors is not None and SEMANTIC in h.vectors for h in rich.hits)


@pytest.mark.parametrize(
    "query",
    [
        SearchQuery(),
        SearchQuery(text="   "),
        SearchQuery(text="x" * 20_001),
        SearchQuery(text="red", limit=0),
        SearchQuery(text="red", limit=201),
        SearchQuery(text="red", offset=-1),
        SearchQuery(text="red", offset=10_001),
        SearchQuery(text="red", weights={"audio": 1.0}),
        SearchQuery(text="red", weights={"text": -1.0}),
        SearchQuery(text="red", weights={"text": 0.0}),
        SearchQuery(image_id="i-blue", image=photo("blue")),
        SearchQuery(text="red", negative_texts=[""]),
        SearchQuery(text="red", score_threshold=float("nan")),
    ],
)
def test_invalid_queries_are_refused(service: SearchService, query: SearchQuery) -> None:
    with pytest.raises(InvalidInput):
        service.search(query)


def test_unknown_ids_are_not_found(service: SearchService) -> None:
    with pytest.raises(NotFound):
        service.search(SearchQuery(image_id="nope"))
    with pytest.raises(NotFound):
        service.search(SearchQuery(text="red", negative_ids=["nope"]))
