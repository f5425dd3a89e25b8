"""What `kd report` and `kd check` read from a run's folder: its record and its results.

A study's results are read from its unit files every time, each checked as a resume checks it,
never from the assembled ``results.parquet``: that table is written when a run ends, so after a
kill, or while the study still runs, it holds fewer units than the folder. Reading writes
nothing, so a report of a live study needs no lock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from kdcli.data.text import one_line
from kdcli.errors import KDError
from kdcli.records import load_results
from kdcli.study.results_dir import ResultsDir, read_record_text


def is_study(run: Path) -> bool:
    """A `kd benchmark` folder: it has units/ (a killed study may have nothing else)."""
    return run.is_dir() and (run / "units").is_dir()


def run_record(run: Path) -> dict:
    """The run's run.json as a dict ({} when there is none); a damaged one is named with how to
    recover, and one that cannot be read (permissions, not a regular file) with why."""
    path = Path(run) / "run.json"
    if not (path.exists() or path.is_symlink()):
        return {}
    try:
        record = json.loads(read_record_text(path))
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
    except ValueError as err:
        redo = (
            "the same kd benchmark command on it rebuilds it and keeps the finished units"
            if is_study(Path(run))
            else "run the kd fit again"
        )
        raise KDError(f"{path} is damaged ({one_line(err)[:100]}); {redo}") from None
    return record


def run_results(
    run: str | Path, notice: Callable[[str], None] = lambda _text: None
) -> pd.DataFrame:
    """The long results of a run: a study's from its checked unit files (what is left out is
    told to ``notice``), a `kd fit` folder's or a results file's as written."""
    run = Path(run)
    if not is_study(run):
        return load_results(run)
    record = run_record(run) or None
    results = ResultsDir(run).trusted_results(record, notice)
    if not len(results):
        raise KDError(
            f"{run} holds no finished unit of a study yet; resume it (the same kd benchmark "
            "command), or wait for a unit to finish"
        )
    return results


def run_latency(run: Path) -> pd.DataFrame | None:
    """Prediction latencies beside the results: a study's from the unit files whose results
    were read, a `kd fit` folder's latency.csv; None when there are none."""
    run = Path(run)
    if is_study(run):  # a unit whose latency is unreadable was left out of the results too
        frames = []
        for path in sorted(ResultsDir(run).units.glob("*.parquet")):
            latency = path.with_name(path.name.removesuffix(".parquet") + ".latency.csv")
            try:
                frames.append(pd.read_csv(latency, dtype={"size": str}))
            except (OSError, ValueError):
                continue
        return pd.concat(frames, ignore_index=True) if frames else None
    path = run / "latency.csv"
    return _read_latency(path) if run.is_dir() and path.is_file() else None


def _read_latency(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype={"size": str})
    except (OSError, ValueError) as err:
        raise KDError(
            f"{path} is damaged ({one_line(err)[:100]}); delete it (the report then shows no "
            "latency) or resume the study to rewrite it"
        ) from None


def planned(record: dict) -> dict[tuple[str, str], set[tuple[int, int]]] | None:
    """(dataset, teacher) -> the (repeat, fold) splits a study planned (run.json's
    ``planned``); None for a `kd fit` or a study from before kd recorded its plan."""
    plan = record.get("planned")
    if not isinstance(plan, dict):
        return None
    out: dict[tuple[str, str], set[tuple[int, int]]] = {}
    for dataset, teachers in plan.items():
        for teacher, splits in (teachers or {}).items():
            out[(str(dataset), str(teacher))] = {(int(r), int(f)) for r, f in splits}
    return out
