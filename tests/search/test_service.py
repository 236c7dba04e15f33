from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from PIL import Image

from loupe.search.errors import InvalidInput, NotFound, Overloaded, Unavailable
from loupe.search.index.base import SEMANTIC, VISUAL, Filter, ModelMismatch, Point, Range
from loupe.search.index.memory_store import NumpyIndex
from loupe.search.null_queries import NULL_QUERIES
from loupe.search.query import SearchQuery, SearchResult
from loupe.search.service import SearchService
from tests.search.conftest import HashingEncoder, photo

TEXTS = {
    "t-ocean": "blue ocean waves",
    "t-truck-red": "red truck",
    "t-apple-red": "red apple",
    "t-truck-blue": "blue truck",
    "t-apple-blue": "blue apple",
    "t-forest": "green forest trees",
    "t-sun": "yellow sun",
}
RED_COPIES = [f"i-red-{n}" for n in range(6)]  # one photo, re-encoded six times


def _images() -> dict[str, Image.Image]:
    images = {name: photo("red", noise=4, seed=n) for n, name in enumerate(RED_COPIES)}
    images["i-red-crop"] = photo("red", seed=9).crop((2, 2, 46, 46))
    images["i-blue"] = photo("blue")
    images["i-green"] = photo("green")
    images["i-yellow"] = photo("yellow")
    half = np.asarray(photo("red")).copy()
    half[:, 24:] = np.asarray(photo("white"))[:, 24:]
    images["i-red-white"] = Image.fromarray(half, "RGB")
    return images


def build(index: NumpyIndex, encoder: HashingEncoder, name: str) -> list[str]:
    index.create_collection(
        name, model_id=encoder.model_id, dim=encoder.dim, visual_dim=encoder.visual_dim
    )
    text_vectors = encoder.encode_texts(list(TEXTS.values()))
    points = [
        Point(pid, {SEMANTIC: vec}, {"modality": "text", "tags": ["words"], "width": 0})
        for pid, vec in zip(TEXTS, text_vectors, strict=True)
    ]
    images = _images()
    encoded = encoder.encode_images(list(images.values()))
    assert encoded.visual is not None
    for row, pid in enumerate(images):
        vectors = {SEMANTIC: encoded.semantic[row], VISUAL: encoded.visual[row]}
        payload = {"modality": "image", "tags": ["photo"], "width": 40 + row}
        points.append(Point(pid, vectors, payload))
    index.upsert(name, points)
    return [p.id for p in points]


@pytest.fixture
def all_ids(index: NumpyIndex, encoder: HashingEncoder) -> list[str]:
    ids = build(index, encoder, "c1")
    index.set_alias("loupe", "c1")
    return ids


def make_service(index: NumpyIndex, encoder: HashingEncoder, **kwargs: object) -> SearchService:
    options: dict[str, object] = {
        "alias": "loupe",
        "cache_size": 64,
        "max_in_flight": 8,
        "batch_wait_ms": 1.0,
    }
    options.update(kwargs)
    return SearchService(index, encoder, **options)  # type: ignore[arg-type]


@pytest.fixture
def service(
    index: NumpyIndex, encoder: HashingEncoder, all_ids: list[str]
) -> Iterator[SearchService]:
    svc = make_service(index, encoder)
    yield svc
    svc.close()


def ids(result: SearchResult) -> list[str]:
    return [hit.id for hit in result.hits]


def wait_until(condition: Callable[[], bool]) -> None:
    """Poll a condition set by another thread (a hang guard, not a timing assertion)."""
    for _ in range(2000):
        if condition():
            return
        time.sleep(0.005)
    raise AssertionError("condition never became true")


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


def test_overloaded_when_the_bound_is_full(
    index: NumpyIndex, encoder: HashingEncoder, all_ids: list[str]
) -> None:
    svc = make_service(index, encoder, max_in_flight=2, cache_size=0, retry_after=2.5)
    svc.search(SearchQuery(text="warm up the calibration"))
    encoder.gate = threading.Event()
    results: list[SearchResult] = []
    threads = [
        threading.Thread(target=lambda t=t: results.append(svc.search(SearchQuery(text=t))))
        for t in ("red", "blue")
    ]
    for thread in threads:
        thread.start()
    wait_until(lambda: svc.in_flight == 2)
    with pytest.raises(Overloaded) as raised:
        svc.search(SearchQuery(text="green"))
    assert raised.value.retry_after == 2.5
    encoder.gate.set()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert svc.search(SearchQuery(text="green")).hits
    svc.close()


def test_cache_hit_avoids_reencoding(service: SearchService, encoder: HashingEncoder) -> None:
    service.search(SearchQuery(text="red apple"))
    calls = len(encoder.text_calls)
    service.search(SearchQuery(text="red apple", offset=1))
    vector = service.embed_query_text("red apple")
    assert len(encoder.text_calls) == calls
    assert vector == pytest.approx(encoder.encode_texts(["red apple"])[0])


def test_concurrent_queries_share_an_encode_call(
    index: NumpyIndex, encoder: HashingEncoder, all_ids: list[str]
) -> None:
    svc = make_service(index, encoder, batch_wait_ms=100.0, max_batch=32)
    svc.search(SearchQuery(text="warm up the calibration"))
    before = len(encoder.text_calls)
    encoder.gate = threading.Event()
    encoder.entered.clear()
    texts = ["red", "blue truck", "green forest", "yellow sun", "red apple"]
    threads = [threading.Thread(target=svc.search, args=(SearchQuery(text=t),)) for t in texts]
    threads[0].start()
    wait_until(encoder.entered.is_set)
    for thread in threads[1:]:
        thread.start()
    wait_until(lambda: svc.batcher.pending() == 4)
    encoder.gate.set()
    for thread in threads:
        thread.join()
    calls = [c for c in encoder.text_calls[before:] if c != list(NULL_QUERIES)]
    assert len(calls) == 2
    assert calls[0] == ["red"]
    assert sorted(calls[1]) == sorted(texts[1:])
    svc.close()


def test_swap_switches_model_and_keeps_calls_in_flight_on_the_old_pair(
    index: NumpyIndex, encoder: HashingEncoder, service: SearchService
) -> None:
    other = HashingEncoder(seed="b")
    build(index, other, "c2")
    with pytest.raises(ModelMismatch):
        service.swap(other)  # the alias still points at c1
    encoder.gate = threading.Event()
    encoder.entered.clear()
    old: list[SearchResult] = []
    thread = threading.Thread(target=lambda: old.append(service.search(SearchQuery(text="sun"))))
    thread.start()
    wait_until(encoder.entered.is_set)
    index.set_alias("loupe", "c2")
    service.swap(other)
    encoder.gate.set()
    thread.join()
    assert old[0].model_id == encoder.model_id
    new = service.search(SearchQuery(text="yellow sun", collapse_duplicates=False))
    assert new.model_id == other.model_id
    assert service.collection == "c2"
    assert new.hits[0].id == "t-sun"
    with pytest.raises(ModelMismatch):
        service.swap(encoder)
    assert service.model_id == other.model_id


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


def test_index_outage_and_close_are_unavailable(
    index: NumpyIndex, encoder: HashingEncoder, all_ids: list[str]
) -> None:
    svc = make_service(index, encoder)
    index.close()
    with pytest.raises(Unavailable):
        svc.search(SearchQuery(text="red"))
    svc.close()
    with pytest.raises(Unavailable):
        svc.search(SearchQuery(text="red"))
