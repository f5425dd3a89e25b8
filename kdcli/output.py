"""Writing results: atomically (temp file + rename), so a crash never leaves a half file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd


def atomic_write(path: Path, write) -> None:
    """``write(tmp_path)`` writes the content; it appears at ``path`` whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_results(
    out_dir: Path, results: pd.DataFrame, summary: pd.DataFrame, record: dict
) -> None:
    """results.csv (long format, one row per repeat × model × metric), summary.csv, run.json."""
    atomic_write_text(out_dir / "results.csv", results.to_csv(index=False))
    atomic_write_text(out_dir / "summary.csv", summary.to_csv(index=False))
    atomic_write_text(out_dir / "run.json", json.dumps(record, indent=2, default=str) + "\n")
