"""The search service under load and change: the in-flight bound (Overloaded), the query
cache, concurrent queries sharing one encode call, a model swap with calls in flight, and an
index outage or a closed service (Unavailable)."""

from __future__ import annotations

import threading

import pytest

from loupe.search.errors import Overloaded, Unavailable
from loupe.search.index.base import ModelMismatch
from loupe.search.index.memory_store import NumpyIndex
from loupe.search.null_queries import NULL_QUERIES
from loupe.search.query import SearchQuery, SearchResult
from loupe.search.service import SearchService
from tests.search.conftest import HashingEncoder
from tests.search.service_kit import build, make_service, wait_until


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
