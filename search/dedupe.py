"""Folding near-identical hits (the same photo re-encoded, resized or slightly cropped).

``fold`` walks the ranked candidates best first. A candidate joins the first earlier *leader*
whose vector has cosine ``>= threshold`` with its own, and is listed in that leader's
``duplicates``; otherwise it becomes a leader. Vectors compared: ``visual`` when both hits have
one (images), ``semantic`` when neither has (texts); an image and a text never fold together.

Because a candidate's fate depends only on the candidates ranked above it, the leaders of a
ranking's first *n* candidates are a prefix of the leaders of its first *m > n*: folding each
page over the whole prefix ``[0, N)`` and slicing leaders ``[offset, offset + limit)`` gives exact
pagination (no leader twice, none skipped), provided the index ranks deterministically.

Threshold (``DEFAULT_THRESHOLD`` = 0.80), measured with the bundled encoder's ``visual`` vectors
(1280-d EfficientNet-Lite0 pooled features) on the 10 sample photos and copies of each:

* same photo, JPEG quality 50: 0.90-0.99 (mean 0.96); quality 30: 0.85-0.98 (mean 0.93);
  halved: 0.95-0.99; resized to 256 px wide: 0.92-0.99; centre crop 5 %: 0.95-0.99,
  10 %: 0.89-0.99; corner crop 10 %: 0.90-0.98; halved + crop 5 % + quality 30 at once:
  0.77-0.93 (only that triple-degraded copy can fall below the threshold);
* different photos: every pair of the gallery 0.05-0.30 (a copy against another photo <= 0.34);
  19 real scikit-image/scikit-learn photos <= 0.47;
* in between: the two cameras of a stereo pair (motorcycle left/right) 0.89 and the left half of
  a photo 0.86 fold, as the same scene; 28-px Fashion-MNIST icons of one class reach 0.97 (tiny
  icons of a kind look identical to this model and fold too).

Texts fold on their ``semantic`` vectors with their own threshold (``DEFAULT_TEXT_THRESHOLD`` =
0.98): in the multilingual-e5 space unrelated passages score 0.72-0.86 ("A recipe for tomato
soup" / "Fixing a bicycle" 0.80), a reworded one 0.96, a change of case and punctuation 0.99
and one swapped synonym 0.99; only near-identical wording folds. In the USE space (the default
text tower since #18) the same pairs score lower: unrelated 0.06, reworded 0.79, a swapped
synonym 0.92, a change of case and punctuation 0.92, one changed verb tense 0.98; so there only
the last folds. That errs on the side of showing both texts; the threshold is not per model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from loupe.search.index.base import SEMANTIC, VISUAL, Hit

DEFAULT_THRESHOLD = 0.80
DEFAULT_TEXT_THRESHOLD = 0.98


@dataclass(slots=True)
class Group:
    """A leader hit and the ids folded under it, best first."""

    leader: Hit
    duplicates: list[str] = field(default_factory=list)


def _key_vector(hit: Hit) -> tuple[str, NDArray[np.float32]] | None:
    if not hit.vectors:
        return None
    if VISUAL in hit.vectors:
        return VISUAL, hit.vectors[VISUAL]
    if SEMANTIC in hit.vectors:
        return SEMANTIC, hit.vectors[SEMANTIC]
    return None


class _Leaders:
    """Unit vectors of the leaders of one vector name, in a growing matrix."""

    def __init__(self) -> None:
        self.matrix: NDArray[np.float32] | None = None
        self.size = 0
        self.groups: list[int] = []

    def first_close(self, vector: NDArray[np.float32], threshold: float) -> int | None:
        if self.matrix is None or self.size == 0:
            return None
        similarities = self.matrix[: self.size] @ vector
        close = np.flatnonzero(similarities >= np.float32(threshold))
        return self.groups[int(close[0])] if close.size else None

    def add(self, vector: NDArray[np.float32], group: int) -> None:
        if self.matrix is None:
            self.matrix = np.zeros((16, vector.shape[0]), dtype=np.float32)
        elif self.size == self.matrix.shape[0]:
            self.matrix = np.concatenate([self.matrix, np.zeros_like(self.matrix)])
        self.matrix[self.size] = vector
        self.size += 1
        self.groups.append(group)


def fold(
    hits: Sequence[Hit],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    text_threshold: float = DEFAULT_TEXT_THRESHOLD,
) -> list[Group]:
    """Greedy, order-preserving folding of ranked ``hits`` (which must carry vectors):
    ``threshold`` applies to ``visual`` vectors, ``text_threshold`` to ``semantic`` ones.

    Hits without vectors are never folded. Costs one (leaders x dim) product per candidate.
    """
    groups: list[Group] = []
    leaders = {SEMANTIC: _Leaders(), VISUAL: _Leaders()}
    for hit in hits:
        keyed = _key_vector(hit)
        if keyed is not None:
            name, raw = keyed
            vector = _unit(raw)
            limit = threshold if name == VISUAL else text_threshold
            target = leaders[name].first_close(vector, limit)
            if target is not None:
                groups[target].duplicates.append(hit.id)
                continue
            leaders[name].add(vector, len(groups))
        groups.append(Group(hit))
    return groups


def _unit(vector: NDArray[np.float32]) -> NDArray[np.float32]:
    out = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(out))
    return out / np.float32(norm) if norm > 0 else out
