"""Which splits the comparisons count, and each dataset's one value: per-split values (seeds
averaged), the splits that every mode of a configuration shares, and the means over them.

Pairing the modes on the same splits keeps one mode's luck on a split the others lack (a partial
study, a NaN) out of every comparison; :func:`left_out_splits` says which were dropped. A NaN or
infinite value leaves its split out for every mode of that dataset. Conventions in
:mod:`kdcli.reporting.results_frame`.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from kdcli.records import size_key
from kdcli.reporting.results_frame import (
    CONFIG,
    SPLIT,
    TEACHER_MODE,
    _lower_is_better,
    _normalise,
    _splits_text,
)
from kdcli.science.targets import ordered_modes

_T = TypeVar("_T")
_memo: ContextVar[dict | None] = ContextVar("kd_shared_splits_memo", default=None)


@contextmanager
def shared_work() -> Iterator[None]:
    """Within the block, each (results, metric)'s per-split values and shared splits are worked
    out once: the sections of one report ask for them a dozen times (mean ranks, Friedman,
    Wilcoxon, Bayes, left-out splits), a quarter of a small study's report. The frames held
    must not change in the block; callers get copies, so what they do to them stays theirs."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def _memoised(fn: Callable[[pd.DataFrame, str], _T]) -> Callable[[pd.DataFrame, str], _T]:
    @functools.wraps(fn)
    def once(results: pd.DataFrame, metric: str) -> _T:
        memo = _memo.get()
        if memo is None:
            return fn(results, metric)
        key = (fn.__name__, id(results), metric)
        if key not in memo:  # the frame is kept with its value, so its id is not reused
            memo[key] = (results, fn(results, metric))
        held: Any = memo[key][1]
        return copy.deepcopy(held)

    return once


@_memoised
def _split_frame(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One value per (dataset, teacher, student, size, mode, repeat, fold), seeds within a split
    averaged; NaN where any of them is NaN or infinite. The teacher's own rows are left out."""
    frame = _normalise(results)
    frame = frame[(frame["metric"] == metric) & (frame["mode"] != TEACHER_MODE)]
    value = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    frame = frame.assign(value=value.where(np.isfinite(value)))
    keys = ["dataset", *CONFIG, "mode", *SPLIT]
    grouped = frame.groupby(keys, sort=False)["value"]
    out = grouped.agg(mean="mean", count="count", rows="size").reset_index()
    out["value"] = out["mean"].where(out["count"] == out["rows"])
    return out[[*keys, "value"]]


def _split_values(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """:func:`_split_frame` without the splits that have no finite value."""
    return _split_frame(results, metric).dropna(subset=["value"]).reset_index(drop=True)


@_memoised
def _shared_splits(results: pd.DataFrame, metric: str) -> tuple[pd.DataFrame, list[dict]]:
    """The per-split values on the splits that every mode of their (dataset, teacher, student,
    size) has a finite value on, and, for each such group that loses splits, a record: its keys,
    ``total`` (splits any mode has) and ``left_out`` (the (repeat, fold) pairs dropped)."""
    per_split = _split_frame(results, metric)
    group = ["dataset", *CONFIG]
    modes = per_split.groupby(group, sort=False)["mode"].transform("nunique")
    finite = per_split["value"].notna()
    on_split = finite.groupby([per_split[c] for c in [*group, *SPLIT]], sort=False)
    shared = on_split.transform("sum") == modes  # one row per mode and split: every mode's
    splits = per_split.assign(shared=shared).groupby([*group, *SPLIT], sort=False)["shared"]
    splits = splits.first().reset_index()
    gaps = []
    for key, found in splits.groupby(group, sort=False):
        if not found["shared"].all():
            lost = found.loc[~found["shared"], SPLIT].itertuples(index=False, name=None)
            gaps.append(dict(zip(group, key, strict=True)))
            gaps[-1].update(total=len(found), left_out=sorted((int(r), int(f)) for r, f in lost))
    return per_split[shared & finite].reset_index(drop=True), gaps


def dataset_means(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One value per dataset, the unit of replication across datasets: each (dataset, teacher,
    student, size, mode)'s mean over the splits that every mode of that dataset, teacher,
    student and size has a finite value on, with ``splits`` the number behind it (the same for
    all those modes).

    Pairing the modes on the same splits keeps one mode's luck on a split the others lack (a
    partial study, a NaN) out of the comparison. Splits of one dataset share training rows, so
    they are not independent replicates; tests across datasets take these means, never the
    splits (Demšar 2006). The teacher's own rows are left out. Columns: dataset, teacher,
    student, size, mode, value, splits.
    """
    _lower_is_better(metric)
    per_split, _ = _shared_splits(results, metric)
    grouped = per_split.groupby(["dataset", *CONFIG, "mode"], sort=False)["value"]
    return grouped.agg(value="mean", splits="count").reset_index()


def left_out_splits(results: pd.DataFrame, metric: str) -> list[str]:
    """The splits the comparisons across datasets leave out (:func:`dataset_means`), as lines:
    ``"wine lightgbm/tree 8: 1 of 3 splits (repeat/fold 1/0)"``, or ``"wine lightgbm/tree
    (every size): ..."`` when every size of a student loses the same splits; [] when none."""
    _lower_is_better(metric)
    _, gaps = _shared_splits(results, metric)
    sizes = _split_frame(results, metric).groupby(["dataset", "teacher", "student"])["size"]
    all_sizes = sizes.unique().to_dict()
    by_student: dict[tuple, list[dict]] = {}
    for gap in gaps:
        by_student.setdefault((gap["dataset"], gap["teacher"], gap["student"]), []).append(gap)
    lines = []
    for (dataset, teacher, student), found in sorted(by_student.items()):
        found.sort(key=lambda g: size_key(g["size"]))
        what = {(g["total"], tuple(g["left_out"])) for g in found}
        every = len(found) > 1 and len(found) == len(all_sizes[(dataset, teacher, student)])
        if every and len(what) == 1:
            found = [dict(found[0], size="(every size)")]
        for gap in found:
            lines.append(
                f"{dataset} {teacher}/{student} {gap['size']}: {len(gap['left_out'])} of "
                f"{gap['total']} splits (repeat/fold {_splits_text(gap['left_out'])})"
            )
    return lines


@_memoised
def _by_config(results: pd.DataFrame, metric: str) -> list[tuple[tuple, pd.DataFrame]]:
    """Per (teacher, student, size): a datasets x modes table of per-dataset means (NaN where a
    dataset lacks the mode), modes in their fixed order, datasets sorted."""
    means = dataset_means(results, metric)
    tables = []
    for config, group in means.groupby(CONFIG, sort=False):
        wide = group.pivot_table(index="dataset", columns="mode", values="value", aggfunc="mean")
        tables.append((config, wide[ordered_modes(wide.columns)].sort_index()))
    return tables
