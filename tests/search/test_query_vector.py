"""Photo queries and "more like this" are judged on their own calibration (null pictures in the
space they are judged in); text queries on the null texts; a blend of both is not judged."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from loupe.search.calibration import TEXT
from loupe.search.index.base import SEMANTIC, VISUAL
from loupe.search.index.memory_store import NumpyIndex
from loupe.search.query import SearchQuery
from loupe.search.service import SearchService
from tests.search.conftest import HashingEncoder, photo
from tests.search.service_kit import RED_COPIES, build, make_service


def plain(rgb: tuple[int, int, int], *, seed: int) -> Image.Image:
    """Mid-tone pictures, none like the collection's saturated photos (the test encoder's
    ``visual`` is a colour histogram, so the default flat-colour nulls would be its photos)."""
    noise = np.random.default_rng(seed).integers(-20, 21, (48, 48, 3))
    return Image.fromarray(np.clip(np.array(rgb) + noise, 0, 255).astype(np.uint8), "RGB")


NULLS = [plain((100 + 10 * n, 90 + 7 * n, 150 - 9 * n), seed=n) for n in range(8)]


@pytest.fixture
def service(index: NumpyIndex, encoder: HashingEncoder) -> Iterator[SearchService]:
    build(index, encoder, "c1")
    index.set_alias("loupe", "c1")
    svc = make_service(index, encoder, null_pictures=NULLS)
    yield svc
    svc.close()


def test_a_photo_query_is_judged_by_its_visual_likeness(service: SearchService) -> None:
    copy = service.search(SearchQuery(image=photo("red", noise=4, seed=40)))
    assert not copy.no_good_match
    assert copy.hits[0].id in [*RED_COPIES, "i-red-crop"]
    assert copy.hits[0].match == "strong"
    assert copy.total_matches is not None and copy.total_matches >= 1
    texts = [h for h in copy.hits if h.modality == "text"]
    assert texts and all(h.match == "none" for h in texts)  # no visual likeness to judge
    unlike = service.search(SearchQuery(image=plain((120, 120, 120), seed=99)))
    assert unlike.no_good_match and unlike.total_matches == 0


def test_more_like_this_is_judged_in_the_visual_space(service: SearchService) -> None:
    like = service.similar("i-red-0", limit=5)
    assert not like.no_good_match and like.hits[0].match == "strong"
    assert {h.match for h in like.hits} <= {"strong", "weak", "none"}
    by_id = service.search(SearchQuery(image_id="i-red-0", limit=5))
    assert by_id.hits[0].match == "strong"


def test_each_space_has_its_own_reference(service: SearchService, encoder: HashingEncoder) -> None:
    text = service.calibrator.reference("c1", encoder, TEXT)
    visual = service.calibrator.reference("c1", encoder, VISUAL)
    semantic = service.calibrator.reference("c1", encoder, SEMANTIC)
    assert len(text.null_values) == 50 and len(visual.null_values) == len(NULLS)
    assert visual.query_axis is visual.item_axis  # pictures are debiased like the items
    assert semantic is not visual and service.calibrator.reference("c1", encoder, VISUAL) is visual


def test_a_blend_of_text_and_photo_is_not_judged(service: SearchService) -> None:
    blend = service.search(SearchQuery(text="red apple", image_id="i-blue"))
    assert blend.total_matches is None and all(h.match is None for h in blend.hits)
    assert not blend.no_good_match
