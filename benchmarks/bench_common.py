"""What every benchmark shares: where results go and how they are written."""

from __future__ import annotations

import json
from pathlib import Path

from paths import BENCH


def write_bench(name: str, data) -> Path:
    """results/bench/NAME as indented JSON, atomically (a half-written file never replaces one)."""
    path = BENCH / name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)
    print(f"written {path}")
    return path
