from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from loupe.search.encoders.base import TextRole, Vectors
from loupe.search.encoders.text_batcher import TextBatcher
from tests.search.conftest import HashingEncoder


def wait_for(batcher: TextBatcher, pending: int) -> None:
    for _ in range(2000):
        if batcher.pending() == pending:
            return
        time.sleep(0.005)
    raise AssertionError("requests never queued")


def test_requests_queued_while_busy_share_one_call() -> None:
    encoder = HashingEncoder()
    encoder.gate = threading.Event()
    batcher = TextBatcher(max_batch=8, wait_ms=50.0)
    first = batcher.submit(encoder, "red")
    assert encoder.entered.wait(10)
    later = [batcher.submit(encoder, t) for t in ("blue", "green", "blue", "sun")]
    wait_for(batcher, 4)
    encoder.gate.set()
    vectors = [f.result(timeout=10) for f in [first, *later]]
    assert encoder.text_calls == [["red"], ["blue", "green", "sun"]]  # duplicates encoded once
    assert batcher.batches == 2
    expected = encoder.encode_texts(["red", "blue", "green", "blue", "sun"])
    for got, want in zip(vectors, expected, strict=True):
        np.testing.assert_allclose(got, want)
    batcher.close()


def test_max_batch_splits_calls() -> None:
    encoder = HashingEncoder()
    encoder.gate = threading.Event()
    batcher = TextBatcher(max_batch=2, wait_ms=0.0)
    futures = [batcher.submit(encoder, "hold")]
    assert encoder.entered.wait(10)
    futures += [batcher.submit(encoder, t) for t in ("a", "b", "c")]
    wait_for(batcher, 3)
    encoder.gate.set()
    for future in futures:
        future.result(timeout=10)
    assert [len(call) for call in encoder.text_calls] == [1, 2, 1]
    batcher.close()


def test_encoders_are_never_mixed_in_one_call() -> None:
    one, two = HashingEncoder(seed="1"), HashingEncoder(seed="2")
    one.gate = threading.Event()
    batcher = TextBatcher(max_batch=8, wait_ms=20.0)
    held = batcher.submit(one, "hold")
    assert one.entered.wait(10)
    a, b = batcher.submit(one, "x"), batcher.submit(two, "x")
    wait_for(batcher, 2)
    one.gate.set()
    held.result(timeout=10)
    assert not np.allclose(a.result(timeout=10), b.result(timeout=10))
    assert one.text_calls == [["hold"], ["x"]]
    assert two.text_calls == [["x"]]
    batcher.close()


class Broken(HashingEncoder):
    def encode_texts(self, texts: Sequence[str], *, role: TextRole = TextRole.QUERY) -> Vectors:
        raise RuntimeError("weights went missing")


def test_errors_reach_every_caller_and_close_refuses_new_work() -> None:
    batcher = TextBatcher(max_batch=4, wait_ms=0.0)
    future = batcher.submit(Broken(), "x")
    with pytest.raises(RuntimeError, match="weights went missing"):
        future.result(timeout=10)
    batcher.close()
    batcher.close()
    with pytest.raises(RuntimeError, match="closed"):
        batcher.submit(HashingEncoder(), "x")


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        TextBatcher(max_batch=0)
    with pytest.raises(ValueError, match="wait_ms"):
        TextBatcher(wait_ms=-1)
