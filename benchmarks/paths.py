"""Where the benchmarks find the checkout, ../shared and their output: one definition for all."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout
SHARED = ROOT.parent / "shared"  # real datasets and OpenML files, beside the checkout
SHARED_DATASETS = SHARED / "datasets"
BENCH = ROOT / "results" / "bench"  # git-ignored: measurements of one machine
