"""Calibrated relevance: when is a query's best match not a good match?

The statistic is ``search.relevance`` (debiased cosine, and the concept evidence beside it);
the cut comes from null queries (``search.reference``). This module caches and applies each
collection's ``Reference``, one per *space*: ``TEXT`` for text queries (null texts), and for
picture queries the space they search, ``semantic`` for a photo query and ``visual`` for "more
like this" (null pictures, ``search.null_images``):

* A query has **no good match** when none of its candidates is a match (``Reference.match``:
  dense relevance at or below the cut and concept evidence under its line), or it has no hits.
  The hits are still returned with ``no_good_match: true`` (the UI dims them). Queries that mix
  a text and a picture are flagged only when they have no hits (neither null set speaks for a
  blend of the two).
* The reference (both axes and the cut) is cached per ``(collection, model_id, space, bucket)``
  with
  bucket ``floor(log2(points + 1))``: it is recomputed when the collection doubles or halves.
  The point count is re-read every ``recount_every`` requests (default 64). An empty
  collection has an infinite cut. Only the first reference of a collection (or the first after
  it was empty) is computed inside a request; when the bucket changes later, the previous
  reference keeps serving while a background thread computes the new one, small collections
  included (profiled during a bulk job: 50 searches of a growing, mostly unindexed collection
  ran inside a user's request; with the 200 object nulls, a sample gallery growing past 16
  and 32 points held searches for 1-2 s each).

Cost: building a text reference runs 50 top-64 searches for the null queries and 200 for
the object nulls (``search.reference``) and scrolls 2048 vectors (once per bucket; the 50 + 200
texts are embedded once per model); judging a query is one (64 x dim) product on candidates
already fetched.

Dense relevances measured with the bundled encoder (multilingual-e5-small space, ConSE image
vectors; the cuts below are at the earlier margin 0.25, now 1.0: docs/relevance.md):

* sample gallery (10 photos): null q50 0.095, q95 0.159, cut 0.175. Good queries: "a cat" 0.55,
  "一辆摩托车" 0.49, "a cup of coffee" 0.40, "一只可爱的猫咪" 0.39, "an animal" 0.29, "火箭"
  0.26, "a vehicle" 0.24. Nonsense/unrelated: "qwzx flurb" 0.10, "asdfgh" 0.10, "a spreadsheet
  of quarterly tax figures" 0.14, "量子色动力学的拉格朗日量" 0.09. (Raw scores: 0.82-0.93 for
  all of them.)
* gallery + 2,000 Fashion-MNIST + 2,000 Animal-MNIST images (4,010 points): null q50 0.188,
  q95 0.260, cut 0.278; "an animal" 0.45, "a vehicle" 0.35, "a cat" 0.57; the four nonsense
  queries 0.16-0.23 (flagged). "火箭" (0.245) is flagged there, and rightly: its raw top hit is a
  Fashion-MNIST image, not the rocket.

An explicit ``score_threshold`` on a query is separate: it drops hits below that raw score.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence

from PIL import Image

from loupe.search.concepts.vocab import IMAGENET
from loupe.search.encoders.base import Encoder, TextRole
from loupe.search.fusion import route_of
from loupe.search.index.base import SEMANTIC, VISUAL, VectorIndex
from loupe.search.null_images import null_images
from loupe.search.null_queries import NULL_QUERIES
from loupe.search.reference import (
    OBJECT_STRIDE,
    SAMPLE_POINTS,
    ObjectNulls,
    build_reference,
    item_axis,
)
from loupe.search.relevance import EMPTY, Match, Reference, Vector, relevance

__all__ = ["SMALL_BUCKET", "TEXT", "TOP_K", "Calibrator", "Match", "Reference", "count_bucket"]

log = logging.getLogger(__name__)
TOP_K = 64
MARGIN = 1.0  # cut = q95 + MARGIN x (q95 - q50) of the null values; chosen on the tuning half
OBJECT_MARGIN = 0.25  # the same for the object nulls (search.reference); tuning half too
PICTURE_MARGIN = 0.25  # the same for picture queries, chosen on GCompris's own photos (README)
SMALL_BUCKET = 6  # collections under 2**6 points are recounted on every request
TEXT = "text"  # the space of text queries; picture queries use "semantic" or "visual"
OBJECTS = "objects"  # the object nulls of the text space (names of concepts)
Key = tuple[str, str, str, int]  # (collection, model_id, space, size bucket)


def count_bucket(points: int) -> int:
    """``floor(log2(points + 1))``: the calibration is reused within a bucket."""
    return math.floor(math.log2(points + 1))


class Calibrator:
    """Computes, caches and applies collections' references (see the module docstring)."""

    def __init__(
        self,
        index: VectorIndex,
        *,
        margin: float = MARGIN,
        object_margin: float = OBJECT_MARGIN,
        picture_margin: float = PICTURE_MARGIN,
        recount_every: int = 64,
        null_queries: tuple[str, ...] = NULL_QUERIES,
        null_pictures: Sequence[Image.Image] | None = None,
        top_k: int = TOP_K,
        sample_points: int = SAMPLE_POINTS,
    ) -> None:
        self._index = index
        self._margin = margin
        self._object_margin = object_margin
        self._picture_margin = picture_margin
        self._recount_every = max(1, recount_every)
        self._null_queries = null_queries
        self._null_pictures = null_pictures  # None: search.null_images
        self._top_k = top_k
        self._sample_points = sample_points
        self._lock = threading.Lock()
        self._refs: dict[Key, Reference] = {}
        self._nulls: dict[tuple[str, str], Vector] = {}  # (model_id, space) -> null vectors
        self._buckets: dict[str, tuple[int, int]] = {}  # collection -> (bucket, uses left)
        self._latest: dict[tuple[str, str, str], Reference] = {}  # key less bucket -> newest
        self._computing: set[Key] = set()
        self._threads: list[threading.Thread] = []

    @property
    def top_k(self) -> int:
        """How many best candidates (with their ``semantic`` vectors) a query is judged on."""
        return self._top_k

    def _bucket(self, collection: str) -> int:
        with self._lock:
            known = self._buckets.get(collection)
            # Small collections change bucket with every few uploads: always recount them.
            if known is not None and known[1] > 0 and known[0] > SMALL_BUCKET:
                self._buckets[collection] = (known[0], known[1] - 1)
                return known[0]
        bucket = count_bucket(self._index.count(collection))
        with self._lock:
            self._buckets[collection] = (bucket, self._recount_every - 1)
        return bucket

    def reference(self, collection: str, encoder: Encoder, space: str = TEXT) -> Reference:
        """The collection's current reference for queries in ``space`` (``TEXT``, or the
        ``semantic``/``visual`` space of picture queries). The first one is computed on first
        use; after that, a new size bucket is computed in a background thread while the
        previous reference serves. The nulls are embedded once per model."""
        key = (collection, encoder.model_id, space, self._bucket(collection))
        with self._lock:
            cached = self._refs.get(key)
            previous = self._latest.get(key[:3])
            if previous is EMPTY:
                previous = None  # nothing worth serving: compute now
            start = cached is None and previous is not None and key not in self._computing
            if start:
                self._computing.add(key)
        if cached is not None:
            return cached
        if previous is not None:
            if start:
                thread = threading.Thread(
                    target=self._refresh, args=(key, encoder), name="recalibrate", daemon=True
                )
                with self._lock:
                    self._threads = [t for t in self._threads if t.is_alive()] + [thread]
                thread.start()
            return previous
        value = self.compute(collection, encoder, space)
        self._store(key, value)
        return value

    def wait(self, timeout: float | None = None) -> None:
        """Wait for background recalibrations in progress (tests, shutdown)."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def _store(self, key: Key, value: Reference) -> None:
        with self._lock:
            self._refs[key] = value
            self._latest[key[:3]] = value

    def _refresh(self, key: Key, encoder: Encoder) -> None:
        try:
            self._store(key, self.compute(key[0], encoder, key[2]))
        except Exception:  # the previous reference keeps serving; retried on a later request
            log.exception("recalibrating %s failed", key[0])
        finally:
            with self._lock:
                self._computing.discard(key)

    def warm(self, encoder: Encoder) -> None:
        """Embed the null queries and pictures of ``encoder`` now (at start-up), not in a
        user's request, and load its concept route's Chinese segmenter (~0.6 s) when it has
        one."""
        self._null_vectors(encoder, TEXT)
        self._null_vectors(encoder, SEMANTIC)
        self._objects(encoder)
        route = route_of(encoder)
        if route is not None:
            route.lexicon.load_segmenter()

    def _objects(self, encoder: Encoder) -> ObjectNulls | None:
        """Every ``OBJECT_STRIDE``-th class name of the encoder's concept route, embedded as
        queries once per model (None without a route)."""
        route = route_of(encoder)
        if route is None:
            return None
        with self._lock:
            known = self._nulls.get((encoder.model_id, OBJECTS))
        locals_ = range(0, len(route.lexicon.names), OBJECT_STRIDE)
        if known is None:
            names = [route.lexicon.names[i] for i in locals_]
            known = encoder.encode_texts(names, role=TextRole.QUERY)
            with self._lock:
                self._nulls[(encoder.model_id, OBJECTS)] = known
        concepts = tuple(IMAGENET.id(i) for i in locals_)
        return ObjectNulls(known, concepts, self._object_margin)

    def _null_vectors(self, encoder: Encoder, space: str) -> Vector:
        with self._lock:
            known = self._nulls.get((encoder.model_id, space))
        if known is not None:
            return known
        if space == TEXT:
            found = {TEXT: encoder.encode_texts(list(self._null_queries), role=TextRole.QUERY)}
        else:
            pictures = encoder.encode_images(list(self._null_pictures or null_images()))
            found = {SEMANTIC: pictures.semantic}
            if pictures.visual is not None:
                found[VISUAL] = pictures.visual
        with self._lock:
            for name, vectors in found.items():
                self._nulls[(encoder.model_id, name)] = vectors
        if space not in found:
            raise ValueError(f"{encoder.model_id} has no {space} vectors")
        return found[space]

    def cut(self, collection: str, encoder: Encoder) -> float:
        """The collection's current no-good-match cut (on the ``relevance`` scale)."""
        return self.reference(collection, encoder).cut

    def is_weak(
        self,
        collection: str,
        encoder: Encoder,
        query: Vector,
        candidates: Sequence[Vector],
    ) -> bool:
        """True when the best ``top_k`` ``candidates`` (semantic vectors, best first) of the
        query vector ``query`` hold no dense evidence: relevance at or below the cut."""
        reference = self.reference(collection, encoder)
        return relevance(query, list(candidates[: self._top_k]), reference) <= reference.cut

    def item_axis(self, collection: str) -> Vector | None:
        """Unit mean of up to ``sample_points`` semantic vectors (``search.reference``)."""
        return item_axis(self._index, collection, sample_points=self._sample_points)

    def compute(self, collection: str, encoder: Encoder, space: str = TEXT) -> Reference:
        """Build the reference now (uncached)."""
        if self._index.count(collection) == 0:
            return EMPTY
        return build_reference(
            self._index,
            collection,
            null_vectors=self._null_vectors(encoder, space),
            top_k=self._top_k,
            margin=self._margin if space == TEXT else self._picture_margin,
            sample_points=self._sample_points,
            using=SEMANTIC if space == TEXT else space,
            pictures=space != TEXT,
            objects=self._objects(encoder) if space == TEXT else None,
        )

    def forget(self, collection: str | None = None) -> None:
        """Drop cached references (of one collection, or all): the next request recomputes."""
        with self._lock:
            if collection is None:
                self._refs.clear()
                self._latest.clear()
                self._buckets.clear()
                return
            self._refs = {k: v for k, v in self._refs.items() if k[0] != collection}
            self._latest = {k: v for k, v in self._latest.items() if k[0] != collection}
            self._buckets.pop(collection, None)
