"""`kd export`: a run's results as a table other tools read, with no report in between.

Two tables, both plain functions of a run folder (read only through
:class:`~kdcli.study.run_folder.RunFolder`, so a study's units are checked as `kd report` checks
them):

* :func:`long_table`: kd's own long format (:data:`kdcli.records.RESULT_COLUMNS`) with each
  split's ``n_train``/``n_test`` and each model's prediction time ``ms_per_10k`` beside every row.
* :func:`tabarena_table`: one row per (method, dataset, fold) in the columns TabArena's
  evaluation reads (``method``, ``dataset``/``task``, ``fold``, ``metric_error``, ...).

The mapping of kd's names to TabArena's is documented in docs/reports.md ("Exporting results").
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from kdcli.errors import KDError
from kdcli.records import RESULT_COLUMNS, SPLIT_SIZES
from kdcli.reporting.results_frame import _normalise, _size_text
from kdcli.science.metrics import LOWER_IS_BETTER
from kdcli.study.plan import Unit
from kdcli.study.run_folder import RunFolder

Notice = Callable[[str], None]
FORMATS = ("long", "tabarena")
SPLIT = ["dataset", "repeat", "fold"]
UNIT = [*SPLIT, "teacher"]  # one split of one teacher: a study's unit, a kd fit's timing entry
MODEL = [*UNIT, "student", "size", "mode"]  # one fitted model of one split
LONG_COLUMNS = [*RESULT_COLUMNS, *SPLIT_SIZES, "ms_per_10k"]
TABARENA_COLUMNS = [
    "method",
    "dataset",
    "task",
    "fold",
    "metric",
    "metric_error",
    "problem_type",
    "time_train_s",
    "time_infer_s",
    "seed",
]
# kd's metric -> the name TabArena (AutoGluon) gives it; the others keep kd's name
TABARENA_METRICS = {"error": "accuracy", "auc": "roc_auc", "log_loss": "log_loss"}


def _ignore(_text: str) -> None:
    """The default ``notice``: what reading a run left out goes nowhere."""


def long_table(
    run: str | Path, metric: str | None = None, notice: Notice = _ignore
) -> pd.DataFrame:
    """kd's long results of a run, every metric (or only ``metric``), with the split's sizes and
    the model's prediction time (NaN where the run did not record them)."""
    held = RunFolder.of(run)
    results = _results(held, notice)
    if metric is not None:
        if metric not in set(results["metric"]):
            have = ", ".join(sorted(set(results["metric"])))
            raise KDError(f"{run} has no '{metric}' results; --metric is one of {have}")
        kept = results[results["metric"] == metric]
    else:
        kept = results
    out = kept.merge(_split_sizes(held, results), on=SPLIT, how="left")
    out = out.merge(_latency(held), on=MODEL, how="left")
    table: pd.DataFrame = out[LONG_COLUMNS].reset_index(drop=True)
    table[list(SPLIT_SIZES)] = table[list(SPLIT_SIZES)].astype("Int64")  # counts: 112, not 112.0
    return table


def tabarena_table(
    run: str | Path, metric: str = "error", notice: Notice = _ignore
) -> pd.DataFrame:
    """One row per (method, dataset, fold) of ``metric`` as an error (lower is better), with
    TabArena's columns: see docs/reports.md for each column's source."""
    held = RunFolder.of(run)
    results = _results(held, notice)
    _check_score(run, results, metric)
    rows = results[results["metric"] == metric].reset_index(drop=True)
    n_folds = results.groupby("dataset")["fold"].max() + 1
    classes = _classes(held, sorted(set(rows["dataset"])), notice)
    sizes = _split_sizes(held, results)
    rows = rows.merge(sizes, on=SPLIT, how="left").merge(_latency(held), on=MODEL, how="left")
    rows = rows.merge(_train_seconds(held, results, notice), on=MODEL, how="left")
    several = results["teacher"].nunique() > 1
    out = pd.DataFrame(
        {
            "method": [
                method_name(t, s, z, m, several)
                for t, s, z, m in rows[MODEL[3:]].itertuples(index=False, name=None)
            ],
            "dataset": rows["dataset"],
            "task": rows["dataset"],
            "fold": rows["repeat"] * rows["dataset"].map(n_folds) + rows["fold"],
            "metric": TABARENA_METRICS.get(metric, metric),
            "metric_error": metric_error(metric, rows["value"]),
            "problem_type": rows["dataset"].map(lambda d: problem_type(classes.get(d))),
            "time_train_s": rows["time_train_s"],
            "time_infer_s": rows["ms_per_10k"] * rows["n_test"] / 10_000 / 1_000,
            "seed": rows["seed"],
        }
    )
    out["fold"] = out["fold"].astype(int)
    return out[TABARENA_COLUMNS]


def method_name(teacher: str, student: str, size: str, mode: str, several: bool = False) -> str:
    """``mode-student-size`` (``vanilla-tree-8``), the teacher's own ``teacher-lightgbm``; with
    ``several`` teachers in the run a student's method also names its teacher (``@rf``)."""
    if mode == "teacher":
        return f"teacher-{teacher}"
    name = f"{mode}-{student}-{size}"
    return f"{name}@{teacher}" if several else name


def metric_error(metric: str, values: pd.Series) -> pd.Series:
    """The metric as an error, lower is better: a loss as it is, a score (AUC) as 1 − score."""
    values = values.astype(float)
    return values if LOWER_IS_BETTER[metric] else 1.0 - values


def problem_type(classes: int | None) -> str:
    """TabArena's problem type of a dataset with this many classes; "" when it is not known."""
    if classes is None:
        return ""
    return "binary" if classes <= 2 else "multiclass"


def export_table(
    run: str | Path, format_: str, metric: str | None = None, notice: Notice = _ignore
) -> pd.DataFrame:
    """The table of ``format_`` (``long`` or ``tabarena``); ``metric`` as each takes it (the
    tabarena table's defaults to error)."""
    if format_ not in FORMATS:
        raise KDError(f"unknown --format '{format_}'; use one of {', '.join(FORMATS)}")
    if format_ == "long":
        return long_table(run, metric, notice)
    return tabarena_table(run, metric or "error", notice)


# -- what the run holds -----------------------------------------------------------------------


def _results(held: RunFolder, notice: Notice) -> pd.DataFrame:
    """The run's long results with sizes as text ('' for the teacher) and whole splits."""
    results = held.results(notice)
    missing = [c for c in RESULT_COLUMNS if c not in results.columns]
    if missing:
        raise KDError(
            f"{held.results_file or held.path} lacks the column(s) {', '.join(missing)}; "
            "kd export needs kd's long results format"
        )
    results = _normalise(results[RESULT_COLUMNS])
    for column in ("repeat", "fold", "seed"):
        results[column] = results[column].astype(int)
    return results


def _check_score(run: str | Path, results: pd.DataFrame, metric: str) -> None:
    """A metric TabArena can rank by (a score kd knows the direction of), which the run has."""
    if metric not in LOWER_IS_BETTER:
        raise KDError(f"unknown --metric '{metric}'; use one of {', '.join(LOWER_IS_BETTER)}")
    if not (results["metric"] == metric).any():
        have = ", ".join(sorted(set(results["metric"]) & set(LOWER_IS_BETTER)))
        raise KDError(f"{run} has no '{metric}' results (it has {have})")


def _split_sizes(held: RunFolder, results: pd.DataFrame) -> pd.DataFrame:
    """n_train and n_test of each split: the teacher rows' metrics, else (a kd fit of an older
    kd) its run.json's splits; NaN where neither says."""
    rows = results[results["metric"].isin(SPLIT_SIZES)]
    if len(rows):
        wide = rows.pivot_table(index=SPLIT, columns="metric", values="value", aggfunc="first")
        out = wide.reindex(columns=list(SPLIT_SIZES)).reset_index()
    else:
        name = ((held.record_if_readable() or {}).get("dataset") or {}).get("name")
        splits = [{"dataset": name, **s} for s in held.splits()] if name else []
        out = pd.DataFrame(splits).reindex(columns=[*SPLIT, *SPLIT_SIZES])
    out.columns.name = None
    return _keys_typed(out, SPLIT)


def _latency(held: RunFolder) -> pd.DataFrame:
    """ms_per_10k of each model of each split (empty when the run recorded none)."""
    latency = held.latency()
    if latency is None or latency.empty:
        return _keys_typed(pd.DataFrame(columns=[*MODEL, "ms_per_10k"]), MODEL)
    out = latency.assign(size=latency["size"].map(_size_text)).drop_duplicates(MODEL)
    return _keys_typed(out[[*MODEL, "ms_per_10k"]], MODEL)


def _keys_typed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Key columns typed as the results have them, so merges match."""
    frame = frame.copy()
    for column in keys:
        whole = column in ("repeat", "fold")
        frame[column] = frame[column].astype(int) if whole else frame[column].astype(str)
    return frame


def _train_seconds(held: RunFolder, results: pd.DataFrame, notice: Notice) -> pd.DataFrame:
    """time_train_s of each model of each split: the teacher's stage for the teacher, an even
    share of the split's student stage for each student model (kd fits students side by side
    and records their stage as a whole); NaN where the run has no timings."""
    timings = _unit_timings(held, results)
    models = results.drop_duplicates(MODEL)[MODEL].reset_index(drop=True)
    students = models[models["mode"] != "teacher"].groupby(UNIT).size()
    seconds = []
    for row in models.itertuples(index=False):
        key = (row.dataset, row.repeat, row.fold, row.teacher)
        got = timings.get(key)
        if got is None:
            seconds.append(math.nan)
        elif row.mode == "teacher":
            seconds.append(math.nan if got.get("teacher_cached") else _seconds(got, "teacher"))
        else:
            seconds.append(_seconds(got, "students") / int(students.get(key, 1)))
    splits = len(models[UNIT].drop_duplicates())
    if len(timings) < splits:
        notice(
            f"{splits - len(timings)} of {splits} split(s) have no recorded timings (a results "
            "file alone, a kd fit of a teacher sweep): their time_train_s is empty"
        )
    return models.assign(time_train_s=seconds)


def _seconds(timings: dict, stage: str) -> float:
    value = timings.get(stage)
    return float(value) if isinstance(value, int | float) else math.nan


def _unit_timings(held: RunFolder, results: pd.DataFrame) -> dict[tuple, dict]:
    """(dataset, repeat, fold, teacher) -> the stage seconds a study's unit or a kd fit's split
    recorded (``teacher``, ``students``, ``teacher_cached``); an unreadable file is left out."""
    if held.is_study:
        out = {}
        for key in results[UNIT].drop_duplicates().itertuples(index=False):
            unit = Unit(key.dataset, "", int(key.repeat), int(key.fold), key.teacher)
            path = held.path / "units" / f"{unit.unit_id}.timings.json"
            try:
                got = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(got, dict):
                out[tuple(key)] = got
        return out
    record = held.record_if_readable() or {}
    name = (record.get("dataset") or {}).get("name")
    entries = (record.get("timings") or {}).get("repeats")
    teachers = sorted(set(results["teacher"]))
    # a swept kd fit's entries do not name their teacher (its stage seconds take the key)
    if not isinstance(name, str) or not isinstance(entries, list) or len(teachers) != 1:
        return {}
    return {
        (name, int(e["repeat"]), int(e["fold"]), teachers[0]): e
        for e in entries
        if isinstance(e, dict) and "repeat" in e and "fold" in e
    }


def _classes(held: RunFolder, datasets: list[str], notice: Notice) -> dict[str, int | None]:
    """Classes of each dataset: a kd fit's run.json records them; a study's suite manifest
    lists them; else the data is loaded from kd's cache, offline. None when none can tell."""
    record = held.record_if_readable() or {}
    got = record.get("dataset")
    one: dict = got if isinstance(got, dict) else {}
    known: dict[str, int | None] = {}
    if isinstance(one.get("name"), str) and isinstance(one.get("classes"), int):
        known[one["name"]] = one["classes"]
    listed = _listed_classes((held.settings() or {}).get("suite"))
    specs = held.members()
    for name in datasets:
        if name not in known:
            known[name] = listed.get(name) or _loaded_classes(specs.get(name))
    unknown = [name for name in datasets if known[name] is None]
    if unknown:
        notice(
            f"problem_type is empty for {', '.join(unknown)}: kd cannot tell its classes without "
            "its data (fetch it into kd's cache, KD_CACHE_DIR, and export again)"
        )
    return known


def _listed_classes(suite: object) -> dict[str, int]:
    """Classes of each member the suite's manifest lists them for ({} if it cannot be read)."""
    from kdcli.data.suites import suite_members

    if not isinstance(suite, str):
        return {}
    try:
        return {m.name: m.classes for m in suite_members(suite) if m.classes}
    except Exception:  # a suite moved or changed since the run: the data itself may tell
        return {}


def _loaded_classes(spec: str | None) -> int | None:
    """Classes of the data a SPEC names, loaded offline (never the network); None if it cannot."""
    from kdcli.data import load_dataset
    from kdcli.data.openml_source import OpenMLConfig

    if spec is None:
        return None
    try:
        return int(load_dataset(spec, None, OpenMLConfig.from_env(offline=True)).n_classes)
    except Exception:  # not cached, moved, unreadable: the column says it is not known
        return None
