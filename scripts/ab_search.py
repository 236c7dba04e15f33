"""A/B of the text query path of two running servers (two code versions over copies of the
same index): blocks of 25 distinct query texts alternate between them, so both see the same
machine load; first each text's first sight on each server (cache cold), then the same texts
again (warm). Prints one JSON line: HTTP latency and the server's ``took_ms``, median and p95,
per server and phase, and the B/A ratios of the medians.

Usage: PYTHONPATH=. python scripts/ab_search.py URL_A URL_B [QUERIES] [SEED]
(BENCHMARKS.md, "The text query path at 100k": A = main before the change, B = after it.)
"""

from __future__ import annotations

import json
import sys
import time

import httpx
import numpy as np

from loupe.bench.corpus import query_texts

BLOCK = 25


def _post(client: httpx.Client, text: str) -> tuple[float, float]:
    started = time.perf_counter()
    response = client.post("/v1/search", json={"text": text, "limit": 10})
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000.0, float(response.json()["took_ms"])


def run(urls: dict[str, str], texts: list[str]) -> dict[str, dict[str, float]]:
    clients = {k: httpx.Client(base_url=u, timeout=120) for k, u in urls.items()}
    timed: dict[str, tuple[list[float], list[float]]] = {
        f"{k}.{phase}": ([], []) for k in urls for phase in ("cold", "warm")
    }
    try:
        for client in clients.values():  # the first query of a server computes calibration
            _post(client, "an unusual first query to calibrate")
        for phase in ("cold", "warm"):
            for lo in range(0, len(texts), BLOCK):
                order = list(urls) if (lo // BLOCK) % 2 == 0 else list(reversed(urls))
                for key in order:
                    http, took = timed[f"{key}.{phase}"]
                    for text in texts[lo : lo + BLOCK]:
                        h, t = _post(clients[key], text)
                        http.append(h)
                        took.append(t)
    finally:
        for client in clients.values():
            client.close()
    out: dict[str, dict[str, float]] = {}
    for name, (http, took) in timed.items():
        out[name] = {
            "http_p50": round(float(np.median(http)), 1),
            "http_p95": round(float(np.percentile(http, 95)), 1),
            "took_p50": round(float(np.median(took)), 1),
            "took_p95": round(float(np.percentile(took, 95)), 1),
        }
    return out


def main() -> None:
    a, b = sys.argv[1], sys.argv[2]
    queries = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 101
    figures = run({"a": a, "b": b}, query_texts(queries, seed=seed))
    ratios = {
        f"{phase}.{m}": round(figures[f"b.{phase}"][m] / figures[f"a.{phase}"][m], 3)
        for phase in ("cold", "warm")
        for m in ("http_p50", "took_p50")
    }
    print(json.dumps({"queries": queries, "seed": seed, "figures": figures, "b_over_a": ratios}))


if __name__ == "__main__":
    main()
