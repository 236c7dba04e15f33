"""Measured quality: datasets, retrieval metrics and the ``loupe eval`` harness."""

from __future__ import annotations

from loupe.bench.evaluation.datasets import (
    DATASET_NAMES,
    DatasetUnavailable,
    EvalDataset,
    load_dataset,
)
from loupe.bench.evaluation.run import EvalReport, evaluate, evaluate_dataset

__all__ = [
    "DATASET_NAMES",
    "DatasetUnavailable",
    "EvalDataset",
    "EvalReport",
    "evaluate",
    "evaluate_dataset",
    "load_dataset",
]
