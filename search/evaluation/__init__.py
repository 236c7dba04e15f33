"""Measured quality: datasets, retrieval metrics and the ``loupe eval`` harness."""

from __future__ import annotations

from loupe.search.evaluation.datasets import (
    DATASET_NAMES,
    DatasetUnavailable,
    EvalDataset,
    load_dataset,
)
from loupe.search.evaluation.run import EvalReport, evaluate, evaluate_dataset

__all__ = [
    "DATASET_NAMES",
    "DatasetUnavailable",
    "EvalDataset",
    "EvalReport",
    "evaluate",
    "evaluate_dataset",
    "load_dataset",
]
