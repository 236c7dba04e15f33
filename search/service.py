"""The query service: between the HTTP routes and the encoder + index.

``SearchService`` turns a ``SearchQuery`` into one query vector (``search.query.combine``), runs one
nearest-neighbour search over the live collection, folds near-duplicates
(``search.dedupe.fold``), pages, and flags weak results (``search.calibration``).

* **Live pair.** The service holds an (encoder, collection) pair; the collection is resolved from
  the alias at construction (or given to ``swap``) and must be stamped with the encoder's
  ``model_id`` and ``dim`` (else ``ModelMismatch``). ``swap`` replaces the pair atomically: each
  call reads the pair once, so calls in flight finish with the old pair.
* **Bounded concurrency.** At most ``max_in_flight`` calls run at once; one more raises
  ``Overloaded(retry_after=...)`` at once, nothing queues beyond the bound.
* **Text embeddings** go through an LRU cache keyed by ``(model_id, text)`` (``cache_size``
  entries, 0 disables it) and, on a miss, through the ``TextBatcher`` micro-batcher.
* **Paging** (``search.paging``): candidates are fetched from rank 0 each time, folded, and the
  leaders ``[offset, offset + limit)`` returned: pages are exact whether folding is on or off.

Index outages (``IndexUnavailable``, or the live collection vanishing) surface as
``search.errors.Unavailable``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from loupe.search.browse import browse as browse_items
from loupe.search.cache import QueryCache
from loupe.search.calibration import Calibrator, Match
from loupe.search.concepts import ConceptRoute
from loupe.search.dedupe import DEFAULT_TEXT_THRESHOLD, DEFAULT_THRESHOLD, Group
from loupe.search.encoders.base import Encoder
from loupe.search.encoders.text_batcher import TextBatcher
from loupe.search.errors import NotFound, Overloaded, Unavailable
from loupe.search.evidence import Evidence, gather, promote
from loupe.search.evidence import plan as plan_evidence
from loupe.search.fusion import DEFAULT_WEIGHT, bonus, query_concepts, route_of, why
from loupe.search.index.base import (
    SEMANTIC,
    TENANT_FIELD,
    VISUAL,
    CollectionNotFound,
    Filter,
    IndexUnavailable,
    ModelMismatch,
    VectorIndex,
)
from loupe.search.matching import judge
from loupe.search.paging import PageRequest, fetch_page, result_hit
from loupe.search.query import (
    SearchQuery,
    SearchResult,
    Seen,
    check_page,
    check_text,
    combine,
    excluding,
    for_tenant,
    part_weights,
    validate,
)

Vector = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class _Live:
    encoder: Encoder
    collection: str
    has_visual: bool


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
        calibration_margin: float = 0.25,
        retry_after: float = 1.0,
        max_candidates: int = 1_000,
        concept_weight: float = DEFAULT_WEIGHT,
        evidence: bool = True,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be >= 1")
        self._index = index
        self._alias = alias
        self._cache = QueryCache(cache_size)
        self._max_in_flight = max_in_flight
        self._max_text_chars = max_text_chars
        self._duplicate_threshold = duplicate_threshold
        self._text_duplicate_threshold = text_duplicate_threshold
        self._negative_weight = negative_weight
        self._retry_after = retry_after
        self._max_candidates = max_candidates
        self._concept_weight = concept_weight
        self._use_evidence = evidence  # fuse what the enrichers saw into text searches
        self._lock = threading.Lock()
        self._in_flight = 0
        self._closed = False
        self._calibrator = Calibrator(
            index, margin=calibration_margin, concept_weight=concept_weight
        )
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
        return self._in_flight

    @property
    def batcher(self) -> TextBatcher:
        return self._batcher

    @property
    def calibrator(self) -> Calibrator:
        return self._calibrator

    @property
    def cache(self) -> QueryCache:
        return self._cache

    def _resolve(self, encoder: Encoder, collection: str | None) -> _Live:
        name = collection or self._index.resolve_alias(self._alias) or self._alias
        info = self._index.collection_info(name)
        if info.model_id != encoder.model_id or info.dim != encoder.dim:
            raise ModelMismatch(
                f"collection {info.name!r} holds {info.model_id} (dim {info.dim}), "
                f"not {encoder.model_id} (dim {encoder.dim})"
            )
        return _Live(encoder, info.name, info.visual_dim is not None)

    def swap(self, encoder: Encoder, collection: str | None = None) -> None:
        """Serve from ``encoder`` + ``collection`` (default: what the alias points at now).

        Raises CollectionNotFound or ModelMismatch and keeps the old pair on failure.
        """
        live = self._resolve(encoder, collection)
        with self._lock:
            self._live = live
        self._calibrator.forget(live.collection)

    # -- admission -------------------------------------------------------------------------
    @contextmanager
    def _slot(self) -> Iterator[None]:
        with self._lock:
            if self._closed:
                raise Unavailable("the search service is shut down")
            if self._in_flight >= self._max_in_flight:
                raise Overloaded("too many searches in flight", retry_after=self._retry_after)
            self._in_flight += 1
        try:
            yield
        except (IndexUnavailable, CollectionNotFound) as error:
            raise Unavailable("the index is unavailable; retry later") from error
        finally:
            with self._lock:
                self._in_flight -= 1

    # -- text embeddings -------------------------------------------------------------------
    def embed_query_text(self, text: str) -> Vector:
        """The query embedding of ``text`` with the live encoder (cached, micro-batched)."""
        cleaned = check_text(text, max_chars=self._max_text_chars)
        with self._slot():
            return self._embed_texts(self._live.encoder, [cleaned])[0]

    def _embed_texts(self, encoder: Encoder, texts: Sequence[str]) -> list[Vector]:
        model_id = encoder.model_id
        found: dict[str, Vector] = {}
        futures = {}
        for text in dict.fromkeys(texts):
            cached = self._cache.get(model_id, text)
            if cached is not None:
                found[text] = cached
            else:
                futures[text] = self._batcher.submit(encoder, text)
        for text, future in futures.items():
            found[text] = future.result()
            self._cache.put(model_id, text, found[text])
        return [found[t] for t in texts]

    # -- searches --------------------------------------------------------------------------
    def search(self, query: SearchQuery) -> SearchResult:
        """Run ``query`` (validated: InvalidInput; unknown ids: NotFound)."""
        started = time.perf_counter()
        query = validate(query, max_text_chars=self._max_text_chars)
        with self._slot():
            live = self._live
            vector, excluded = self._query_vector(live, query)
            calibrated = query.image_id is None and query.image is None
            route = route_of(live.encoder) if self._concept_weight > 0 and calibrated else None
            concepts = query_concepts(route, query.text, query.negative_texts)
            plan = PageRequest(
                vector=vector,
                using=SEMANTIC,
                flt=excluding(for_tenant(query.filter, query.tenant), excluded),
                limit=query.limit,
                offset=query.offset,
                score_threshold=query.score_threshold,
                collapse=query.collapse_duplicates,
                with_vectors=query.with_vectors,
                calibration_k=self._calibrator.top_k if calibrated else 0,
                concepts=concepts or None,
                concept_weight=self._concept_weight,
            )
            text_only = self._use_evidence and calibrated and query.text is not None
            evidence = plan_evidence(query.text) if text_only and query.text else []
            return self._run(live, plan, calibrated, started, evidence, route)

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
        with self._slot():
            live = self._live
            vectors = self._vectors(live, item_id, tenant)
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
            )
            return self._run(live, plan, False, started)

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
        with self._slot():
            live = self._live
            found = browse_items(
                self._index,
                live.collection,
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

    def _vectors(self, live: _Live, item_id: str, tenant: str | None) -> dict[str, Vector]:
        found = self._index.retrieve(live.collection, [item_id], with_vectors=True)
        if found and tenant is not None and found[0].payload.get(TENANT_FIELD) != tenant:
            found = []  # another tenant's item does not exist for this one
        vectors = found[0].vectors if found else None
        if not vectors or SEMANTIC not in vectors:
            raise NotFound(f"no item with id {item_id!r}")
        return vectors

    def _query_vector(self, live: _Live, query: SearchQuery) -> tuple[Vector, list[str]]:
        text_w, image_w = part_weights(query)
        texts = ([query.text] if query.text is not None else []) + list(query.negative_texts)
        embedded = self._embed_texts(live.encoder, texts)
        parts: list[tuple[float, Vector]] = []
        if query.text is not None:
            parts.append((text_w, embedded.pop(0)))
        if query.image_id is not None:
            parts.append((image_w, self._vectors(live, query.image_id, query.tenant)[SEMANTIC]))
        elif query.image is not None:
            encoded = live.encoder.encode_images([query.image.convert("RGB")])
            parts.append((image_w, encoded.semantic[0]))
        negatives = list(embedded)
        negatives += [self._vectors(live, i, query.tenant)[SEMANTIC] for i in query.negative_ids]
        vector = combine(parts, negatives, negative_weight=self._negative_weight)
        excluded = [*([query.image_id] if query.image_id else []), *query.negative_ids]
        return vector, excluded

    def _run(
        self,
        live: _Live,
        plan: PageRequest,
        calibrated: bool,
        started: float,
        evidence: Sequence[Evidence] = (),
        route: ConceptRoute | None = None,
    ) -> SearchResult:
        hits, groups = fetch_page(
            self._index,
            live.collection,
            plan,
            duplicate_threshold=self._duplicate_threshold,
            text_duplicate_threshold=self._text_duplicate_threshold,
            max_candidates=self._max_candidates,
        )
        held: dict[str, list[Seen]] = {}
        if evidence:
            hits, groups, held = gather(
                self._index,
                live.collection,
                plan,
                hits,
                evidence,
                duplicate_threshold=self._duplicate_threshold,
                text_duplicate_threshold=self._text_duplicate_threshold,
            )
        more = len(groups) > plan.offset + plan.limit
        judged = None
        if calibrated:
            judged = judge(
                self._calibrator.reference(live.collection, live.encoder),
                top_k=self._calibrator.top_k,
                query=plan.vector,
                hits=hits,
                groups=groups,
                bonus=bonus(plan.concepts, plan.concept_weight, hits),
            )
            judged = promote(judged, groups, held) if held else judged
            groups = judged.groups
        matches: dict[str, Match] = judged.matches if judged else {}
        total = judged.total if judged else None
        page = groups[plan.offset : plan.offset + plan.limit]
        return SearchResult(
            hits=[
                replace(
                    result_hit(g, plan.with_vectors, matches.get(g.leader.id)),
                    seen=held.get(g.leader.id, []),
                    why=why(route, plan.concepts, g.leader) if route and plan.concepts else [],
                )
                for g in page
            ],
            took_ms=(time.perf_counter() - started) * 1000.0,
            model_id=live.encoder.model_id,
            next_offset=plan.offset + plan.limit if more else None,
            no_good_match=not hits or total == 0,
            total_matches=total,
            matches_capped=judged.capped if judged else False,
            total=self._index.count(live.collection, plan.flt) if plan.offset == 0 else None,
        )

    def close(self) -> None:
        """Stop the batcher; later calls raise Unavailable. Idempotent."""
        with self._lock:
            self._closed = True
        self._batcher.close()
