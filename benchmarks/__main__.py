"""Run every benchmark in turn: ``python -m benchmarks``."""

from __future__ import annotations

import importlib
import sys

MODULES = ["bench_load", "bench_survey", "bench_catalogue", "bench_estimate", "bench_tec", "bench_reference",
           "bench_dynamics", "bench_dynamics_matrix", "bench_second_stage", "bench_build"]

for name in MODULES:
    print(f"\n===== benchmarks.{name} =====", flush=True)
    try:
        mod = importlib.import_module(f"benchmarks.{name}")
    except ModuleNotFoundError as exc:
        print(f"skipped: {exc}")
        continue
    mod.main([])
sys.exit(0)
