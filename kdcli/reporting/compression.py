"""The compression table of `kd report`: what each student costs (trees, leaves, bytes, latency)
beside what it scores, so a reader sees the price of each point of the metric."""

from __future__ import annotations

import pandas as pd

from kdcli.records import size_key
from kdcli.science.targets import ordered_modes

SIZE_METRICS = ("n_trees", "n_leaves", "model_bytes")


def compression_table(
    part: pd.DataFrame, metric: str, latency: pd.DataFrame | None = None
) -> pd.DataFrame | None:
    """Rows: the teacher, then each student × size; columns: its size, then the metric per mode.
    None when the results hold no size metric (nothing to set the scores beside)."""
    if not part.metric.isin(SIZE_METRICS).any():
        return None
    part = part.assign(size=part["size"].fillna("").astype(str))
    sizes = part[part.metric.isin(SIZE_METRICS)].pivot_table(
        index=["student", "size"], columns="metric", values="value", aggfunc="mean"
    )
    scores = part[part.metric == metric].pivot_table(
        index=["student", "size"], columns="mode", values="value", aggfunc="mean"
    )
    modes = (["teacher"] if "teacher" in scores.columns else []) + ordered_modes(scores.columns)
    if latency is not None and len(latency):
        lat = latency.assign(size=latency["size"].fillna("").astype(str))
        sizes = sizes.join(lat.groupby(["student", "size"])["ms_per_10k"].mean(), how="left")
    table = sizes.join(scores[modes], how="left").reset_index()
    order = sorted(
        range(len(table)),
        key=lambda i: (
            table.loc[i, "student"] != "teacher",
            table.loc[i, "student"],
            size_key(str(table.loc[i, "size"])),
        ),
    )
    table = table.loc[order].reset_index(drop=True)
    shown = [c for c in (*SIZE_METRICS, "ms_per_10k") if c in table.columns]
    return table[["student", "size", *shown, *modes]]
