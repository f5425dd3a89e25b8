"""The rows that choose c and α on a large split: a stratified subsample of the training rows.

The cross-validation that chooses c (and α) fits one student per grid value, selection fold and
student size on (J − 1)/J of the training rows: on 750,000 training rows that is 180 regression
trees on 600,000 rows each, most of a default `kd fit`. Which c wins is a comparison of held-out
scores, which a subsample of 100,000 rows already makes well, so on a split with more training
rows than ``select_rows`` the selection runs on a subsample of them; the final students are still
fitted on every training row, with the c or α it chose.

The subsample is drawn within the selection folds (stratified by fold and class) and the folds
are restricted to it: fold j holds out its subsample rows and fits on the others. So its folds
stay stratified, every row still has its own fold, and the teachers behind leak-free selection
targets (``--select-c nested``), fitted on all training rows outside fold j, never saw a row the
subsample holds out in fold j: they serve the subsample's folds unchanged.
"""

from __future__ import annotations

import numpy as np

Folds = list[tuple[np.ndarray, np.ndarray]]  # (fit rows, held-out rows) per selection fold


def stratified_rows(strata: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` of the rows (sorted indices), each stratum's share proportional to its size
    (largest remainders, ties to the lower stratum) and at least one row of every non-empty
    stratum when ``n`` allows it, drawn at random within a stratum with ``seed``."""
    strata = np.asarray(strata)
    if not 0 < n <= len(strata):
        raise ValueError(f"cannot draw {n} of {len(strata)} rows")
    codes, labels = np.unique(strata, return_inverse=True)
    counts = np.bincount(labels, minlength=len(codes))
    take = np.ones_like(counts) if n >= len(codes) else np.zeros_like(counts)
    room = counts - take
    quota = room * (n - take.sum()) / max(int(room.sum()), 1)
    take += np.floor(quota).astype(counts.dtype)
    short = n - int(take.sum())  # fewer than the strata: each gets at most one more
    remainder = np.where(take < counts, quota - np.floor(quota), -1.0)
    take[np.argsort(-remainder, kind="stable")[:short]] += 1
    rng = np.random.default_rng(seed)
    members = np.split(np.argsort(labels, kind="stable"), np.cumsum(counts)[:-1])
    chosen = [rng.choice(rows, k, replace=False) for rows, k in zip(members, take, strict=True)]
    return np.sort(np.concatenate(chosen))


def fold_of_rows(folds: Folds, n_rows: int) -> np.ndarray:
    """Each row's selection fold: the one whose held-out part has it (they partition the rows)."""
    fold = np.full(n_rows, -1)
    for j, (_fit, held) in enumerate(folds):
        fold[held] = j
    if (fold < 0).any():
        raise ValueError("the held-out parts of the selection folds must cover every row")
    return fold


def restrict_folds(folds: Folds, rows: np.ndarray, n_rows: int) -> Folds:
    """The folds on ``rows`` only: each part keeps its rows that are among them, in order."""
    keep = np.zeros(n_rows, dtype=bool)
    keep[rows] = True
    return [(fit[keep[fit]], held[keep[held]]) for fit, held in folds]


def selection_folds(folds: Folds, y: np.ndarray, max_rows: int | None, seed: int) -> Folds:
    """The folds that choose c and α: ``folds`` themselves (the same object) when there are at
    most ``max_rows`` rows or ``max_rows`` is None, else those folds restricted to ``max_rows``
    rows drawn with ``seed``, stratified by fold and class (:func:`stratified_rows`)."""
    y = np.asarray(y)
    if max_rows is None or len(y) <= max_rows:
        return folds
    fold = fold_of_rows(folds, len(y))
    rows = stratified_rows(fold * (int(y.max()) + 1) + y, max_rows, seed)
    return restrict_folds(folds, rows, len(y))
