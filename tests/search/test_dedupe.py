from __future__ import annotations

import numpy as np

from loupe.search.dedupe import fold
from loupe.search.index.base import SEMANTIC, VISUAL, Hit


def hit(pid: str, **vectors: list[float]) -> Hit:
    return Hit(pid, 1.0, {}, {k: np.asarray(v, dtype=np.float32) for k, v in vectors.items()})


def test_folds_into_the_first_close_leader() -> None:
    hits = [
        hit("a", semantic=[1, 0], visual=[1, 0, 0]),
        hit("b", semantic=[0, 1], visual=[0.99, 0.05, 0]),  # near a visually
        hit("c", semantic=[1, 0], visual=[0, 1, 0]),
        hit("d", semantic=[1, 0], visual=[0, 1, 0.01]),  # near c
        hit("e", semantic=[0, 1]),  # text: compared by semantic
        hit("f", semantic=[0.01, 1]),  # near e
        hit("g", semantic=[1, 0]),  # same semantic as the images, but texts never fold into them
    ]
    groups = fold(hits, threshold=0.95)
    assert [(g.leader.id, g.duplicates) for g in groups] == [
        ("a", ["b"]),
        ("c", ["d"]),
        ("e", ["f"]),
        ("g", []),
    ]


def test_leaders_of_a_prefix_are_a_prefix_of_the_leaders() -> None:
    rng = np.random.default_rng(3)
    base = rng.standard_normal((12, 16)).astype(np.float32)
    rows = [base[i % 12] + 0.05 * rng.standard_normal(16).astype(np.float32) for i in range(60)]
    hits = [Hit(str(i), 1.0, {}, {VISUAL: r, SEMANTIC: r}) for i, r in enumerate(rows)]
    full = [g.leader.id for g in fold(hits, threshold=0.95)]
    assert len(full) < len(hits)
    for n in range(1, 60):
        prefix = [g.leader.id for g in fold(hits[:n], threshold=0.95)]
        assert full[: len(prefix)] == prefix


def test_hits_without_vectors_never_fold() -> None:
    plain = [Hit("a", 1.0, {}), Hit("b", 1.0, {})]
    assert [g.leader.id for g in fold(plain)] == ["a", "b"]
    assert fold([]) == []


def test_texts_fold_only_when_nearly_identical_images_at_the_visual_threshold() -> None:
    close = [0.9, float(np.sqrt(1 - 0.81))]  # cosine 0.9 with [1, 0]
    hits = [
        hit("img-a", semantic=[1, 0], visual=[1, 0]),
        hit("img-b", semantic=[0, 1], visual=close),
        hit("txt-a", semantic=[1, 0]),
        hit("txt-b", semantic=close),
    ]
    groups = fold(hits)
    assert [(g.leader.id, g.duplicates) for g in groups] == [
        ("img-a", ["img-b"]),
        ("txt-a", []),
        ("txt-b", []),
    ]
    assert [g.duplicates for g in fold(hits, text_threshold=0.85)][1] == ["txt-b"]
