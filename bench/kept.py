"""Kept benchmark collections: ``loupe bench search --keep DIR`` builds each size's collection
in ``DIR/<size>`` once and reuses it on later runs made with the same inputs, skipping the
upsert and ``optimize()`` (minutes at 100k on 2 cores).

A folder is reused only when its marker (``bench-built.json``, written after a complete build)
records the same inputs: size, sigma, seed, crops, tenants, the encoder's model id, the graph
and quantization settings of ``search.index.tuning``, the payload indexes, and the qdrant-edge
version. Anything else (no marker, a crash mid-build, changed settings) rebuilds it from
scratch, so a kept folder never stands in for an index the current code would not build.
The vectors of a reused folder are regenerated (they are deterministic in the same inputs),
so recall is still measured against the exact search over what the folder holds.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
from pathlib import Path
from typing import Any

from loupe.search.index import tuning
from loupe.search.index.base import BOOL_FIELDS, KEYWORD_FIELDS, NUMERIC_FIELDS

MARKER = "bench-built.json"


def fingerprint(
    *, size: int, sigma: float, seed: int, crops: int, tenants: int, model_id: str
) -> dict[str, Any]:
    """What a kept folder must have been built from to be reused."""
    return {
        "size": size,
        "sigma": sigma,
        "seed": seed,
        "crops": crops,
        "tenants": tenants,
        "model_id": model_id,
        "hnsw_m": tuning.HNSW_M,
        "hnsw_ef_construct": tuning.HNSW_EF_CONSTRUCT,
        "quantile": tuning.QUANTILE,
        "full_scan_kb": tuning.FULL_SCAN_KB,
        "payload_indexes": sorted({*KEYWORD_FIELDS, *NUMERIC_FIELDS, *BOOL_FIELDS}),
        "qdrant_edge": importlib.metadata.version("qdrant-edge-py"),
    }


def reusable(folder: Path, wanted: dict[str, Any]) -> dict[str, Any] | None:
    """The marker of ``folder`` when it was built from ``wanted`` (else None)."""
    try:
        marker = json.loads((folder / MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("inputs") != wanted:
        return None
    return marker if isinstance(marker.get("collection"), str) else None


def prepare(folder: Path, wanted: dict[str, Any]) -> dict[str, Any] | None:
    """The marker when ``folder`` can be reused; otherwise empty the folder and return None."""
    marker = reusable(folder, wanted)
    if marker is None:
        shutil.rmtree(folder, ignore_errors=True)
    return marker


def mark(
    folder: Path, wanted: dict[str, Any], *, collection: str, optimize_s: float | None
) -> None:
    """Record a complete build of ``collection`` in ``folder`` (after ``optimize()``); a
    reuse serves that collection again (a new run must not make an empty one live)."""
    body = {"inputs": wanted, "collection": collection, "optimize_s": optimize_s}
    (folder / MARKER).write_text(json.dumps(body, indent=2), "utf-8")
