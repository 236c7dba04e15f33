"""Measurement in one place (``loupe.bench``): benchmarks as programs and measured quality.

Each benchmark prints a table and writes a JSON report in which every figure stands beside a
baseline measured in the same run, so ratios hold on a noisy machine.

Modules: ``report`` (statistics, table, JSON), ``images`` (photo-like test JPEGs), ``server``
(the real API on a free loopback port), ``ingest``, ``search``, ``load`` (``loupe bench ...``),
``evaluation`` (datasets, retrieval metrics, ``loupe eval``), ``edge_index`` (the embedded index
alone), ``gpu`` (CLIP throughput on one GPU, ``deploy/gpu/bench.sh``).
"""
