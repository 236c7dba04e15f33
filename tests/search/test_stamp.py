"""``search.index.stamp``: a collection's model stamp round-trips through JSON (older stamps
without a visual size or a time too), and a collection refuses a model that did not fill it."""

from __future__ import annotations

import pytest

from loupe.search.index.base import ModelMismatch
from loupe.search.index.stamp import Stamp, check_stamp

HAVE = Stamp("bundled-v2", 384, 1280, 12.5)


def test_a_stamp_round_trips_and_old_ones_read() -> None:
    assert Stamp.from_json(HAVE.to_json()) == HAVE
    assert Stamp.from_json({"model_id": "m", "dim": "8"}) == Stamp("m", 8, None, 0.0)


def test_the_same_model_passes_and_another_is_refused() -> None:
    check_stamp("c", HAVE, Stamp("bundled-v2", 384, 1280, 99.0), visual=True)
    for other in (Stamp("clip-b32", 384, 1280, 0.0), Stamp("bundled-v2", 512, 1280, 0.0)):
        with pytest.raises(ModelMismatch, match="collection 'c' holds vectors of model"):
            check_stamp("c", HAVE, other, visual=False)


def test_the_visual_size_counts_only_when_asked() -> None:
    no_visual = Stamp("bundled-v2", 384, None, 0.0)
    check_stamp("c", HAVE, no_visual, visual=False)
    with pytest.raises(ModelMismatch, match="visual 1280"):
        check_stamp("c", HAVE, no_visual, visual=True)
