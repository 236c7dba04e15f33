from __future__ import annotations

from loupe.bench.evaluation.relevance_cases import Collection
from loupe.bench.evaluation.relevance_pictures import judge_pictures
from loupe.search.index.memory_store import NumpyIndex
from tests.search.conftest import HashingEncoder
from tests.search.service_kit import RED_COPIES, build, make_service
from tests.search.test_query_vector import NULLS, plain


def test_picture_queries_are_tallied_answered_flagged_and_foreign_caught() -> None:
    index, encoder = NumpyIndex(), HashingEncoder()
    build(index, encoder, "c1")
    index.set_alias("loupe", "c1")
    labels = {name: "red" for name in RED_COPIES} | {"i-blue": "blue", "i-green": "green"}
    foreign = [plain((120, 120, 120), seed=99), plain((110, 100, 150), seed=98)]
    collection = Collection("t", index, [], len(labels), labels, foreign)
    service = make_service(index, encoder, null_pictures=NULLS)
    try:
        tally = judge_pictures(service, collection)
    finally:
        service.close()
    assert tally.similar_answered == tally.photo_answered == len(RED_COPIES)
    assert tally.similar_false_alarms == tally.photo_false_alarms == 0
    assert (tally.foreign, tally.foreign_caught) == (2, 2)
