"""The pieces of ``NumpyIndex`` (``memory_store``): one in-memory collection, the float32
matrices it searches (a snapshot rebuilt after a write), exact dense ranking over a snapshot, and
points returned as hits.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loupe.search.index.base import SEMANTIC, VISUAL, Filter, Hit, Point
from loupe.search.index.python_filters import matches


@dataclass(frozen=True, slots=True)
class Snapshot:
    ids: list[str]
    payloads: list[dict[str, Any]]
    matrices: dict[str, NDArray[np.float32]]
    present: dict[str, NDArray[np.bool_]]


@dataclass(slots=True)
class MemoryCollection:
    name: str
    model_id: str
    dim: int
    visual_dim: int | None
    created_at: float
    points: dict[str, Point] = field(default_factory=dict)
    snapshot: Snapshot | None = None

    def dims(self) -> dict[str, int]:
        dims = {SEMANTIC: self.dim}
        if self.visual_dim is not None:
            dims[VISUAL] = self.visual_dim
        return dims

    def build(self) -> Snapshot:
        if self.snapshot is None:
            ids = sorted(self.points)
            matrices: dict[str, NDArray[np.float32]] = {}
            present: dict[str, NDArray[np.bool_]] = {}
            for name, dim in self.dims().items():
                matrix = np.zeros((len(ids), dim), dtype=np.float32)
                mask = np.zeros(len(ids), dtype=np.bool_)
                for row, point_id in enumerate(ids):
                    vector = self.points[point_id].vectors.get(name)
                    if vector is not None:
                        matrix[row] = vector
                        mask[row] = True
                matrices[name], present[name] = matrix, mask
            payloads = [self.points[i].payload for i in ids]
            self.snapshot = Snapshot(ids, payloads, matrices, present)
        return self.snapshot


def rank(
    snap: Snapshot,
    vector: NDArray[np.float32],
    *,
    using: str,
    flt: Filter | None,
    limit: int,
    offset: int,
    score_threshold: float | None,
) -> list[tuple[int, float]]:
    """Rows of ``snap`` and their scores, best first (ties by point id), ``offset`` skipped,
    at most ``limit``: rows with the ``using`` vector that pass the threshold and the filter."""
    query = np.asarray(vector, dtype=np.float32).reshape(-1)
    scores = snap.matrices[using] @ query
    keep = snap.present[using].copy()
    if score_threshold is not None:
        keep &= scores >= np.float32(score_threshold)
    if flt is not None and not flt.is_empty():
        rows = np.flatnonzero(keep)
        for row in rows:
            keep[row] = matches(snap.ids[row], snap.payloads[row], flt)
    rows = np.flatnonzero(keep)
    wanted = offset + limit
    if 0 < wanted < rows.size:  # keep the top ``wanted`` and every row tied with the last
        negated = -scores[rows]
        rows = rows[negated <= np.partition(negated, wanted - 1)[wanted - 1]]
    # ids are sorted, so a stable sort on -score breaks ties by id.
    ranked = rows[np.argsort(-scores[rows], kind="stable")][offset:wanted]
    return [(int(row), float(scores[row])) for row in ranked]


def hit_of(point: Point, score: float, with_vectors: bool | tuple[str, ...]) -> Hit:
    vectors, sparse = None, None
    if with_vectors:
        names = set(point.vectors) | set(point.sparse)
        if not isinstance(with_vectors, bool):
            names &= set(with_vectors)
        vectors = {k: v.copy() for k, v in point.vectors.items() if k in names}
        sparse = {k: v for k, v in point.sparse.items() if k in names}
    return Hit(point.id, score, copy.deepcopy(point.payload), vectors, sparse)
