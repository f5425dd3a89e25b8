"""The long results frame as every comparison reads it: its key columns, sizes as text, a
metric's direction. One place, so tables, tests and coverage agree on what a cell is.

The frame is the one `kd` writes (columns ``RESULT_COLUMNS`` of :mod:`kdcli.records`: dataset,
repeat, fold, seed, teacher, student, size, mode, metric, value). Conventions shared by
:mod:`~kdcli.reporting.per_dataset`, :mod:`~kdcli.reporting.shared_splits`,
:mod:`~kdcli.reporting.compare` and :mod:`~kdcli.reporting.coverage`:

* A *split* is one (repeat, fold) pair of a dataset; means and standard errors are taken over
  splits. Should several seeds share a split, their values are averaged first. Splits share
  training rows, so sd/sqrt(n) over them is a *naive* SE (columns ``*_naive_se``), too small.
* Two values are equal when :func:`kdcli.reporting.stats.same` says so: one rule for the ★,
  ranks, wins / ties / losses and the zero differences of the tests.
* ``size`` is compared as text ("8", "64", "full"); sizes read back from a CSV as numbers (8 or
  8.0) and the teacher's empty size (NaN) are normalised to that text first. Sizes sort
  numerically with "full" last.
* The teacher's own scores are the rows with mode "teacher" (student "teacher", size "").
  They are never one of the compared modes.
* The direction of a metric comes from :data:`kdcli.metrics.LOWER_IS_BETTER`; a metric without a
  direction (such as ``c``, the chosen correction constant) raises ``ValueError``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import cast

import numpy as np
import pandas as pd

from kdcli.records import size_key
from kdcli.science.metrics import LOWER_IS_BETTER
from kdcli.science.targets import mode_sort_key

TEACHER_MODE = "teacher"
SPLIT = ["repeat", "fold"]
CONFIG = ["teacher", "student", "size"]


def _lower_is_better(metric: str) -> bool:
    """The metric's direction; ValueError for a column that is not a score."""
    if metric not in LOWER_IS_BETTER:
        known = ", ".join(sorted(LOWER_IS_BETTER))
        raise ValueError(f"metric {metric!r} has no direction to compare by; one of: {known}")
    return LOWER_IS_BETTER[metric]


def _size_text(size: object) -> str:
    """A size as text: NaN/None → "", 8.0 → "8", "full" stays "full"."""
    if size is None or (isinstance(size, float) and math.isnan(size)):
        return ""
    if isinstance(size, (int, np.integer)):
        return str(int(size))
    if isinstance(size, (float, np.floating)):
        return str(int(size)) if float(size).is_integer() else str(size)
    return str(size)


def _normalise(results: pd.DataFrame) -> pd.DataFrame:
    """A copy with ``size`` as canonical text and the name columns as str."""
    out = results.copy()
    out["size"] = out["size"].map(_size_text)
    for column in ("dataset", "teacher", "student", "mode", "metric"):
        out[column] = out[column].astype(str)
    return out


def named_rows(results: pd.DataFrame, **names: str) -> pd.DataFrame:
    """The rows whose name columns are the given values, compared as text (as
    :func:`_normalise` makes them), taken before any copy: a report asks for many slices of one
    large frame."""
    keep = np.ones(len(results), dtype=bool)
    for column, value in names.items():
        keep &= (results[column].astype(str) == str(value)).to_numpy()
    return results[keep]


def _sorted_configs(frame: pd.DataFrame, by_mode: bool = False) -> pd.DataFrame:
    """Rows sorted by teacher, student, size (numeric, "full" last) and, ``by_mode``, mode in
    kd's order; with a fresh index."""
    order = sorted(
        range(len(frame)),
        key=lambda i: (
            frame["teacher"].iat[i],
            frame["student"].iat[i],
            size_key(cast(str, frame["size"].iat[i])),
            mode_sort_key(cast(str, frame["mode"].iat[i])) if by_mode else 0,
        ),
    )
    return frame.iloc[order].reset_index(drop=True)


def _splits_text(splits: Iterable[tuple[int, int]]) -> str:
    """(repeat, fold) pairs as "1/0, 2/0", sorted: how every note names splits."""
    return ", ".join(f"{r}/{f}" for r, f in sorted(splits))
