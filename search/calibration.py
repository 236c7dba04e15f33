"""Calibrated relevance: when is a query's best match not a good match?

Scores from different encoders live on different scales (a cosine of 0.3 is strong for one model
and noise for another), so Loupe calibrates the cut per collection instead of hard-coding one:

1. ``NULL_QUERIES`` is a fixed list of 50 texts that should match nothing in a photo/text
   collection: letter salad, invented words, and prose from unrelated domains.
2. Each null query is embedded with the collection's encoder (as a query) and searched against
   the collection's ``semantic`` vectors, unfiltered; its best score is kept.
3. ``cut = q95 + margin x (q95 - q50)`` over those 50 best scores (``q95``/``q50``: 95th
   percentile and median; default ``margin = 0.25``). Scaling the margin by the spread of the
   null scores keeps it free of the encoder's score scale.
4. A text query has **no good match** when its best score (rank 1 of the filtered, unpaged
   ranking, before duplicate folding) is at or below the cut. The hits are still returned with
   ``no_good_match: true``; the UI shows them dimmed. Queries with an image part, and
   ``similar``, are flagged only when they have no hits at all (the null queries are texts, so
   their cut says nothing about image-to-image scores).
5. The cut is cached per ``(collection, point-count bucket)`` where the bucket is
   ``floor(log2(points + 1))``: it is recomputed when the collection doubles or halves, not on
   every upsert. The point count is re-read every ``recount_every`` cut requests (default 64).
   An empty collection has an infinite cut (every query is flagged; there are no hits anyway).

An explicit ``score_threshold`` on a query is separate: it drops hits below it.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from search.encoders.base import Encoder, TextRole
from search.index.base import SEMANTIC, VectorIndex

NULL_QUERIES: tuple[str, ...] = (
    "xqzv blorft gnemp",
    "qwpo zzkr vlanx tesh",
    "fjdksla ghruty bnmzx",
    "prxl oomvat skree jundle",
    "zorbak flimwizzle chu",
    "vrenk trasp olumbe",
    "kkkk zzzz qqqq",
    "asdf jkl semicolon",
    "mrrp vlek snarf",
    "glorbnax teeple vosh",
    "plinth quibble marzipan logarithm",
    "the derivative of the secant function",
    "amortisation schedule for a thirty year mortgage",
    "quarterly value added tax return deadline",
    "syntax error unexpected token in json at position",
    "subpoena served on the registered agent",
    "eigenvalues of a hermitian operator",
    "recursive descent parser for arithmetic grammar",
    "the statute of limitations for breach of contract",
    "kernel panic not syncing vfs unable to mount root",
    "irregular conjugation of the subjunctive mood",
    "actuarial tables for whole life insurance",
    "segmentation fault core dumped",
    "ipv6 neighbour discovery protocol timeout",
    "the ontological argument and its critics",
    "hexadecimal checksum mismatch in firmware",
    "bylaws of the homeowners association article nine",
    "probabilistic proof of the prime number theorem",
    "deprecated api removed in the next major version",
    "interest rate swap notional amount",
    "zxcv bnm poiuy",
    "lorem ipsum dolor sit amet consectetur",
    "ngggh vrrt plok",
    "snorkwaddle bimberly frunk",
    "obfuscated string literal 0x7f3a",
    "uuid 550e8400 e29b 41d4 a716",
    "base64 aGVsbG8gd29ybGQ=",
    "tetration of imaginary ordinals",
    "metaphysical ramifications of tax law",
    "orthogonal complement of the null space",
    "yyyy mm dd hh mm ss timezone offset",
    "vowel harmony in agglutinative languages",
    "procedural estoppel in maritime arbitration",
    "krrrzt fwoomp blargh",
    "seventeen hundred and forty two",
    "the fourth normal form of a relational schema",
    "lambda calculus beta reduction",
    "hmm uhh erm well",
    "qxj vwz kpf",
    "cryptographic nonce reuse vulnerability",
)


def count_bucket(points: int) -> int:
    """``floor(log2(points + 1))``: the calibration is reused within a bucket."""
    return math.floor(math.log2(points + 1))


def null_cut(best_scores: list[float], *, margin: float) -> float:
    """``q95 + margin x (q95 - q50)`` of the null queries' best scores (inf if none)."""
    if not best_scores:
        return math.inf
    q95, q50 = np.percentile(np.asarray(best_scores, dtype=np.float64), [95, 50])
    return float(q95 + margin * (q95 - q50))


class Calibrator:
    """Computes and caches the no-good-match cut of collections (see the module docstring)."""

    def __init__(
        self,
        index: VectorIndex,
        *,
        margin: float = 0.25,
        recount_every: int = 64,
        null_queries: tuple[str, ...] = NULL_QUERIES,
    ) -> None:
        self._index = index
        self._margin = margin
        self._recount_every = max(1, recount_every)
        self._null_queries = null_queries
        self._lock = threading.Lock()
        self._cuts: dict[tuple[str, str, int], float] = {}
        self._buckets: dict[str, tuple[int, int]] = {}  # collection -> (bucket, uses left)

    def _bucket(self, collection: str) -> int:
        with self._lock:
            known = self._buckets.get(collection)
            if known is not None and known[1] > 0:
                self._buckets[collection] = (known[0], known[1] - 1)
                return known[0]
        bucket = count_bucket(self._index.count(collection))
        with self._lock:
            self._buckets[collection] = (bucket, self._recount_every - 1)
        return bucket

    def cut(self, collection: str, encoder: Encoder) -> float:
        """The collection's current no-good-match cut, computed on first use in a bucket."""
        key = (collection, encoder.model_id, self._bucket(collection))
        with self._lock:
            cached = self._cuts.get(key)
        if cached is not None:
            return cached
        value = self.compute(collection, encoder)
        with self._lock:
            self._cuts[key] = value
        return value

    def compute(self, collection: str, encoder: Encoder) -> float:
        """Embed the null queries and search them now (uncached)."""
        if self._index.count(collection) == 0:
            return math.inf
        vectors = encoder.encode_texts(list(self._null_queries), role=TextRole.QUERY)
        best: list[float] = []
        for vector in vectors:
            hits = self._index.search(collection, vector, using=SEMANTIC, limit=1)
            if hits:
                best.append(hits[0].score)
        return null_cut(best, margin=self._margin)

    def forget(self, collection: str | None = None) -> None:
        """Drop cached cuts (of one collection, or all): the next request recomputes."""
        with self._lock:
            if collection is None:
                self._cuts.clear()
                self._buckets.clear()
                return
            self._cuts = {k: v for k, v in self._cuts.items() if k[0] != collection}
            self._buckets.pop(collection, None)
