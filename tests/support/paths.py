"""Where the tests find the checkout, its committed files and ../shared: one definition."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout
SHARED = ROOT.parent / "shared"  # real datasets and OpenML files, when beside the checkout
SHARED_DATASETS = SHARED / "datasets"
SHARED_OPENML = SHARED / "openml-format"
REFERENCE = ROOT / "results" / "reference"
FIXTURES = ROOT / "tests" / "fixtures"
BENCHMARKS = ROOT / "benchmarks"
