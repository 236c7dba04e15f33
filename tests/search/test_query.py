from __future__ import annotations

import numpy as np
import pytest

from loupe.search.errors import InvalidInput
from loupe.search.index.base import Filter
from loupe.search.query import SearchQuery, combine, excluding, part_weights, validate
from tests.search.conftest import photo


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_weights_default_to_equal_and_normalise_over_present_parts() -> None:
    assert part_weights(SearchQuery(text="a", image_id="x")) == (0.5, 0.5)
    assert part_weights(SearchQuery(text="a", image_id="x", weights={"text": 0.7, "image": 0.3}))[
        0
    ] == pytest.approx(0.7)
    assert part_weights(SearchQuery(text="a", weights={"text": 3})) == (1.0, 0.0)
    assert part_weights(SearchQuery(image=photo("red"), weights={"text": 0})) == (0.0, 1.0)


def test_validate_strips_texts() -> None:
    query = validate(SearchQuery(text="  red  ", negative_texts=[" x "]), max_text_chars=10)
    assert (query.text, tuple(query.negative_texts)) == ("red", ("x",))
    with pytest.raises(InvalidInput, match="longer than 10"):
        validate(SearchQuery(text="x" * 11), max_text_chars=10)
    with pytest.raises(InvalidInput, match="at most 16"):
        validate(SearchQuery(text="x", negative_ids=[str(n) for n in range(17)]), max_text_chars=9)


def test_combine_mixes_and_normalises() -> None:
    mixed = combine([(0.5, unit(1, 0)), (0.5, unit(0, 1))])
    assert mixed == pytest.approx(unit(1, 1))
    assert mixed.dtype == np.float32
    leaning = combine([(0.9, unit(1, 0)), (0.1, unit(0, 1))])
    assert leaning[0] > leaning[1] > 0


def test_combine_subtracts_the_mean_negative() -> None:
    steered = combine([(1.0, unit(1, 1, 0))], [unit(0, 1, 0), unit(0, 1, 0)], negative_weight=0.5)
    assert float(steered @ unit(1, 0, 0)) > float(unit(1, 1, 0) @ unit(1, 0, 0))
    assert float(np.linalg.norm(steered)) == pytest.approx(1.0)
    with pytest.raises(InvalidInput, match="cancel"):
        combine([(1.0, unit(1, 0))], [unit(1, 0)], negative_weight=1.0)


def test_excluding_keeps_the_filter() -> None:
    base = Filter(equals={"modality": "image"}, ids_not=["a"])
    assert excluding(base, []) is base
    assert excluding(None, []) is None
    merged = excluding(base, ["b"])
    assert merged is not None
    assert (merged.equals, merged.ids_not) == ({"modality": "image"}, ["a", "b"])
    assert base.ids_not == ["a"]
