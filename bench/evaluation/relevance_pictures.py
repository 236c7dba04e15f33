"""Picture queries in ``loupe bench relevance``: "more like this" and photo queries are judged on
their own calibration (null pictures, ``search.null_images``).

For every labelled photo of a collection, ``similar(id)`` and a photo query by its id
(``image_id``) are run; one whose top hit has the photo's label is *answered*, and the **false
alarm** rate is the share of answered ones flagged ``no_good_match``. The **catch** rate is the
share of the collection's foreign photos (``relevance_cases``), uploaded as photo queries, that
are flagged. The picture margin was chosen on GCompris (its ``similar`` queries); the
scikit/MNIST collections are held out.
"""

from __future__ import annotations

from dataclasses import dataclass

from loupe.bench.evaluation.relevance_cases import Collection
from loupe.search.query import SearchQuery, SearchResult
from loupe.search.service import SearchService

LIMIT = 10


@dataclass(slots=True)
class PictureTally:
    similar_answered: int = 0
    similar_false_alarms: int = 0
    photo_answered: int = 0
    photo_false_alarms: int = 0
    foreign: int = 0
    foreign_caught: int = 0


def _answered(result: SearchResult, collection: Collection, label: str) -> bool:
    return bool(result.hits) and collection.labels.get(result.hits[0].id) == label


def judge_pictures(service: SearchService, collection: Collection) -> PictureTally:
    """Run every picture query of ``collection`` (see the module docstring)."""
    tally = PictureTally()
    for item, label in collection.labels.items():
        like = service.similar(item, limit=LIMIT, collapse_duplicates=False)
        if _answered(like, collection, label):
            tally.similar_answered += 1
            tally.similar_false_alarms += like.no_good_match
        by_photo = service.search(
            SearchQuery(image_id=item, limit=LIMIT, collapse_duplicates=False)
        )
        if _answered(by_photo, collection, label):
            tally.photo_answered += 1
            tally.photo_false_alarms += by_photo.no_good_match
    for image in collection.foreign:
        result = service.search(SearchQuery(image=image, limit=LIMIT))
        tally.foreign += 1
        tally.foreign_caught += result.no_good_match
    return tally
