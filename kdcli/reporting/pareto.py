"""Which students are worth their size: the held-out metric against model bytes and against
prediction latency, every (mode, size) of a student family one point, and the points no other
beats on both axes (the Pareto front). A smaller model that is as good as a larger one is the
point of distillation; the front shows where each mode gets there.

Means are over repeats and outer folds (NaN when a split's value is NaN, as everywhere in the
report). A point without a finite value on an axis (an old run has no latency; a model kd
cannot measure has 0 bytes) is on no front of that axis and dominates nothing there.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from kdcli.records import cell_means, size_key
from kdcli.science.metrics import LOWER_IS_BETTER
from kdcli.science.targets import ordered_modes

KEYS = ["dataset", "teacher", "student", "mode", "size"]
AXES = {"bytes": "model_bytes", "latency": "ms_per_10k"}  # front name -> x column


def pareto_front(points: pd.DataFrame, x: str, y: str) -> pd.Series:
    """True where no other point has x and y both lower or equal, one of them strictly lower
    (both minimised). Equal points do not dominate each other, so duplicates share the front;
    a point with a non-finite x or y is off it and dominates nothing."""
    xs = points[x].to_numpy(dtype=float)
    ys = points[y].to_numpy(dtype=float)
    finite = np.isfinite(xs) & np.isfinite(ys)
    # [i, j]: point j is at least as good as point i on both axes, and better on one
    weakly = (xs[None, :] <= xs[:, None]) & (ys[None, :] <= ys[:, None])
    strictly = (xs[None, :] < xs[:, None]) | (ys[None, :] < ys[:, None])
    dominated = (weakly & strictly & finite[None, :]).any(axis=1)
    return pd.Series(finite & ~dominated, index=points.index, name=f"on_front_{x}_{y}")


def pareto_table(
    results: pd.DataFrame, metric: str, latency: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per (dataset, teacher, student, mode, size): the mean ``metric``, model bytes and
    ms per 10,000 rows (NaN without latency), and whether the point is on the front against
    bytes and against latency among its (dataset, teacher, student) points. The teacher's own
    row (student and mode 'teacher') is there as the figures' reference, on no front. Empty
    when the results hold no model_bytes (runs from before kd measured models)."""
    columns = [*KEYS, metric, "model_bytes", "ms_per_10k", "on_front_bytes", "on_front_latency"]
    wanted = results[results["metric"].isin([metric, "model_bytes"])]
    if not (wanted["metric"] == "model_bytes").any():
        return pd.DataFrame(columns=columns)
    means = cell_means(wanted).set_index([*KEYS, "metric"])["value"].unstack("metric")
    table = means.reindex(columns=[metric, "model_bytes"]).reset_index()
    table = table.dropna(subset=[metric, "model_bytes"], how="all")
    table = table.merge(_mean_latency(latency), on=KEYS, how="left")
    for column in AXES.values():  # 0 bytes: a model kd cannot measure; no log axis shows it
        table[column] = table[column].astype(float).where(table[column] > 0)
    lower = LOWER_IS_BETTER.get(metric, True)
    table["_loss"] = table[metric].astype(float) * (1 if lower else -1)
    for name in AXES:
        table[f"on_front_{name}"] = False
    students = table["student"] != "teacher"
    for _key, part in table[students].groupby(["dataset", "teacher", "student"], sort=False):
        for name, x in AXES.items():
            table.loc[part.index, f"on_front_{name}"] = pareto_front(part, x, "_loss")
    return _ordered(table[columns])


def _mean_latency(latency: pd.DataFrame | None) -> pd.DataFrame:
    """ms per 10,000 rows, mean over the splits, sizes as text like :func:`cell_means`."""
    if latency is None or not len(latency):
        return pd.DataFrame(columns=[*KEYS, "ms_per_10k"])
    lat = latency.assign(
        size=latency["size"].fillna("").astype(str),
        ms_per_10k=pd.to_numeric(latency["ms_per_10k"], errors="coerce"),
    )
    return lat.groupby(KEYS, sort=False)["ms_per_10k"].mean().reset_index()


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    """Dataset, teacher, the teacher's row first, then students; modes in kd's order, sizes
    small to large."""
    rank = {m: i for i, m in enumerate(ordered_modes(table["mode"].unique()))}
    order = sorted(
        table.index,
        key=lambda i: (
            str(table.at[i, "dataset"]),
            str(table.at[i, "teacher"]),
            table.at[i, "student"] != "teacher",
            str(table.at[i, "student"]),
            rank.get(cast(str, table.at[i, "mode"]), len(rank)),
            size_key(cast(str, table.at[i, "size"])),
        ),
    )
    out = table.loc[order].reset_index(drop=True)
    return out.astype({"on_front_bytes": bool, "on_front_latency": bool})


def front_points(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The rows of :func:`pareto_table` on either front, with which front(s) they are on ('bytes',
    'latency' or 'bytes, latency'), smallest model first within each student family."""
    on = table[table["on_front_bytes"] | table["on_front_latency"]].copy()
    on["front"] = [", ".join(n for n in AXES if row[f"on_front_{n}"]) for _, row in on.iterrows()]
    on = on.sort_values(
        ["dataset", "teacher", "student", "model_bytes", "ms_per_10k"], kind="stable"
    )
    keep = ["dataset", "teacher", "student", "front", "mode", "size", metric, "model_bytes"]
    return on[[*keep, "ms_per_10k"]].reset_index(drop=True)
