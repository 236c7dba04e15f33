"""The query service: between the HTTP routes and the encoder + index.

``SearchService`` turns a ``SearchQuery`` into one query vector (``search.query.combine``), runs one
nearest-neighbour search over the live collection, folds near-duplicates
(``search.dedupe.fold``), pages, and flags weak results (``search.calibration``).

* **Live pair.** The service holds an (encoder, collection) pair; the collection is resolved from
  the alias at construction (or given to ``swap``) and must be stamped with the encoder's
  ``model_id`` and ``dim`` (else ``ModelMismatch``). ``swap`` replaces the pair atomically: each
  call reads the pair once, so calls in flight finish with the old pair.
* **Bounded concurrency** (``search.admission``): at most ``max_in_flight`` calls run at once;
  one more raises ``Overloaded(retry_after=...)`` at once, nothing queues beyond the bound.
* **Text embeddings** go through an LRU cache keyed by ``(model_id, text)`` (``cache_size``
  entries, 0 disables it) and, on a miss, through the ``TextBatcher`` micro-batcher.
* **Paging** (``search.paging``): candidates are fetched from rank 0 each time, folded, and the
  leaders ``[offset, offset + limit)`` returned: pages are exact whether folding is on or off.
  ``search.answer`` fetches, fuses evidence and judges matches for each query.

Index outages (``IndexUnavailable``, or the live collection vanishing) surface as
``search.errors.Unavailable``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from loupe.search.admission import Admission
from loupe.search.answer import Folding, Live, answer, item_vectors
from loupe.search.browse import Dated
from loupe.search.browse import browse as browse_items
from loupe.search.cache import QueryCache, embed_texts
from loupe.search.calibration import MARGIN, TEXT, Calibrator
from loupe.search.dedupe import DEFAULT_TEXT_THRESHOLD, DEFAULT_THRESHOLD, Group
from loupe.search.encoders.base import Encoder
from loupe.search.encoders.text_batcher import TextBatcher
from loupe.search.evidence_plan import plan as plan_evidence
from loupe.search.fusion import DEFAULT_WEIGHT, query_concepts, route_of
from loupe.search.index.base import (
    SEMANTIC,
    VISUAL,
    Filter,
    ModelMismatch,
    VectorIndex,
)
from loupe.search.paging import PageRequest, result_hit
from loupe.search.query import (
    SearchQuery,
    SearchResult,
    check_page,
    check_text,
    excluding,
    for_tenant,
    validate,
)
from loupe.search.query_vector import query_vector

Vector = NDArray[np.float32]


class SearchService:
    """Text, image and hybrid search over the live collection (see the module docstring)."""

    def __init__(
        self,
        index: VectorIndex,
        encoder: Encoder,
        *,
        alias: str,
        cache_size: int,
        max_in_flight: int,
        batch_wait_ms: float,
        max_batch: int = 32,
        max_text_chars: int = 20_000,
        duplicate_threshold: float = DEFAULT_THRESHOLD,
        text_duplicate_threshold: float = DEFAULT_TEXT_THRESHOLD,
        negative_weight: float = 0.5,
        calibration_margin: float = MARGIN,
        retry_after: float = 1.0,
        max_candidates: int = 1_000,
        concept_weight: float = DEFAULT_WEIGHT,
        evidence: bool = True,
        null_pictures: Sequence[Image.Image] | None = None,
    ) -> None:
        self._admission = Admission(max_in_flight, retry_after=retry_after)
        self._index = index
        self._alias = alias
        self._cache = QueryCache(cache_size)
        self._max_text_chars = max_text_chars
        self._folding = Folding(duplicate_threshold, text_duplicate_threshold, max_candidates)
        self._negative_weight = negative_weight
        self._concept_weight = concept_weight
        self._use_evidence = evidence  # fuse what the enrichers saw into text searches
        self._lock = threading.Lock()
        self._dated = Dated()  # which collections browse can order by date in the index
        self._calibrator = Calibrator(index, margin=calibration_margin, null_pictures=null_pictures)
        self._live = self._resolve(encoder, None)
        self._batcher = TextBatcher(max_batch=max_batch, wait_ms=batch_wait_ms)

    # -- the live pair ---------------------------------------------------------------------
    @property
    def model_id(self) -> str:
        return self._live.encoder.model_id

    @property
    def collection(self) -> str:
        return self._live.collection

    @property
    def in_flight(self) -> int:
        """Calls running now (for metrics and tests)."""
        return self._admission.in_flight

    @property
    def admission(self) -> Admission:
        return self._admission

    @property
    def batcher(self) -> TextBatcher:
        return self._batcher

    @property
    def calibrator(self) -> Calibrator:
        return self._calibrator

    @property
    def cache(self) -> QueryCache:
        return self._cache

    def _resolve(self, encoder: Encoder, collection: str | None) -> Live:
        name = collection or self._index.resolve_alias(self._alias) or self._alias
        info = self._index.collection_info(name)
        if info.model_id != encoder.model_id or info.dim != encoder.dim:
            raise ModelMismatch(
                f"collection {info.name!r} holds {info.model_id} (dim {info.dim}), "
                f"not {encoder.model_id} (dim {encoder.dim})"
            )
        return Live(encoder, info.name, info.visual_dim is not None)

    def swap(self, encoder: Encoder, collection: str | None = None) -> None:
        """Serve from ``encoder`` + ``collection`` (default: what the alias points at now).

        Raises CollectionNotFound or ModelMismatch and keeps the old pair on failure.
        """
        live = self._resolve(encoder, collection)
        with self._lock:
            self._live = live
        self._calibrator.forget(live.collection)

    # -- text embeddings -------------------------------------------------------------------
    def embed_query_text(self, text: str) -> Vector:
        """The query embedding of ``text`` with the live encoder (cached, micro-batched)."""
        cleaned = check_text(text, max_chars=self._max_text_chars)
        with self._admission.slot():
            return embed_texts(self._cache, self._batcher, self._live.encoder, [cleaned])[0]

    # -- searches --------------------------------------------------------------------------
    def search(self, query: SearchQuery) -> SearchResult:
        """Run ``query`` (validated: InvalidInput; unknown ids: NotFound)."""
        started = time.perf_counter()
        query = validate(query, max_text_chars=self._max_text_chars)
        with self._admission.slot():
            live = self._live
            made = query_vector(
                self._index,
                live,
                query,
                cache=self._cache,
                batcher=self._batcher,
                negative_weight=self._negative_weight,
            )
            calibrated = made.space == TEXT
            route = route_of(live.encoder) if self._concept_weight > 0 and calibrated else None
            concepts = query_concepts(route, query.text, query.negative_texts)
            plan = PageRequest(
                vector=made.vector,
                using=SEMANTIC,
                flt=excluding(for_tenant(query.filter, query.tenant), made.excluded),
                limit=query.limit,
                offset=query.offset,
                score_threshold=query.score_threshold,
                collapse=query.collapse_duplicates,
                with_vectors=query.with_vectors,
                calibration_k=self._calibrator.top_k if made.space else 0,
                concepts=concepts or None,
                concept_weight=self._concept_weight,
                judge_by=made.judge_by,
            )
            text_only = self._use_evidence and calibrated and query.text is not None
            evidence = plan_evidence(query.text) if text_only and query.text else []
            return answer(
                self._index,
                live,
                plan,
                calibrator=self._calibrator,
                folding=self._folding,
                space=made.space,
                started=started,
                evidence=evidence,
                route=route,
            )

    def similar(
        self,
        item_id: str,
        *,
        limit: int = 10,
        offset: int = 0,
        filter: Filter | None = None,
        score_threshold: float | None = None,
        collapse_duplicates: bool = True,
        with_vectors: bool = False,
        tenant: str | None = None,
    ) -> SearchResult:
        """Items like ``item_id`` (never itself), by its ``visual`` vector when the live
        collection and the item have one, else by ``semantic``. NotFound if no such item (in
        ``tenant``'s library when one is given; the hits come from it too)."""
        started = time.perf_counter()
        check_page(limit, offset)
        with self._admission.slot():
            live = self._live
            vectors = item_vectors(self._index, live, item_id, tenant=tenant)
            using = VISUAL if live.has_visual and VISUAL in vectors else SEMANTIC
            plan = PageRequest(
                vector=vectors[using],
                using=using,
                flt=excluding(for_tenant(filter, tenant), [item_id]),
                limit=limit,
                offset=offset,
                score_threshold=score_threshold,
                collapse=collapse_duplicates,
                with_vectors=with_vectors,
                calibration_k=self._calibrator.top_k,
            )
            return answer(
                self._index,
                live,
                plan,
                calibrator=self._calibrator,
                folding=self._folding,
                space=using,
                started=started,
            )

    def browse(
        self,
        *,
        filter: Filter | None = None,
        sort: str = "taken_at",
        descending: bool = True,
        limit: int = 24,
        offset: int = 0,
        tenant: str | None = None,
    ) -> SearchResult:
        """Items without a query, newest first (``search.browse``); ``total`` counts them."""
        started = time.perf_counter()
        check_page(limit, offset)
        flt = for_tenant(filter, tenant)
        with self._admission.slot():
            live = self._live
            found = browse_items(
                self._index,
                live.collection,
                dated=self._dated,
                flt=flt,
                sort=sort,
                descending=descending,
                limit=limit,
                offset=offset,
            )
            total = self._index.count(live.collection, flt) if found.capped else found.total
        return SearchResult(
            hits=[result_hit(Group(h), False) for h in found.hits],
            took_ms=(time.perf_counter() - started) * 1000.0,
            model_id=live.encoder.model_id,
            next_offset=found.next_offset,
            no_good_match=False,
            total=total,
        )

    def close(self) -> None:
        """Stop the batcher; later calls raise Unavailable. Idempotent."""
        self._admission.close()
        self._batcher.close()
