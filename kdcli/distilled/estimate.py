"""An honest estimate of a distilled student's held-out error: an outer cross-validation that
repeats the whole procedure (teachers, the choice of target and of c or α, the student) on
each outer training part and scores it on rows that no model of that repeat saw.

The selection scores cannot serve: the chosen candidate is the best of several, so its score is
biased low (the winner's curse), and with the paper's selection its teachers saw the scored
rows."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kdcli.distilled.procedure import DistillRequest, codes_of, distill_rows
from kdcli.experiment.splits import derived_seed
from kdcli.science.crossfit import stratified_folds
from kdcli.science.metrics import classification_metrics
from kdcli.science.targets import ranking_scores, to_proba
from kdcli.settings.fit import FitSettings

SHOWN = ("error", "auc", "log_loss")


@dataclass(frozen=True)
class Estimate:
    """Mean and standard error over the outer folds of each held-out metric, and the target
    each outer repeat chose."""

    folds: int
    metrics: dict  # metric -> {"mean", "se", "folds": [per outer fold]}
    modes: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"folds": self.folds, "metrics": self.metrics, "modes": list(self.modes)}

    @classmethod
    def from_dict(cls, d: dict) -> Estimate:
        return cls(int(d["folds"]), dict(d["metrics"]), tuple(d["modes"]))


def outer_estimate(
    X: pd.DataFrame,
    y: np.ndarray,
    n_classes: int,
    fit: FitSettings,
    request: DistillRequest,
    seed: int,
) -> Estimate:
    """Repeat `kd distill`'s procedure on each of the request's ``estimate_folds`` stratified
    outer training parts (seeds of their own) and score each student on its outer held-out
    part. A --teacher-model is refitted here even with --teacher-as-is: it saw the held-out
    part."""
    n_folds = request.estimate_folds
    codes = codes_of(X)
    per_fold: dict[str, list[float]] = {}
    modes = []
    for k, (train, held) in enumerate(stratified_folds(y, n_folds, derived_seed(seed, "outer"))):
        fitted = distill_rows(
            X.iloc[train], y[train], n_classes, fit, request, derived_seed(seed, "outer", k),
            teacher_as_is=False,
        )  # fmt: skip
        raw = fitted.raw(codes[held])
        P = to_proba(raw, n_classes, fitted.scale, fitted.eps)
        scores = classification_metrics(y[held], P, ranking_scores(raw, n_classes, fitted.scale))
        for metric, value in scores.items():
            per_fold.setdefault(metric, []).append(float(value))
        modes.append(fitted.mode if fitted.sizes is None else f"{fitted.mode}@{fitted.size}")
    metrics = {m: _mean_se(v) for m, v in per_fold.items()}
    return Estimate(n_folds, metrics, tuple(modes))


def _mean_se(values: list[float]) -> dict:
    """The mean and its standard error as if the folds were independent (they share training
    rows, so the true error of the mean is somewhat larger: Bengio and Grandvalet, 2004)."""
    a = np.asarray(values, dtype=float)
    se = float(np.std(a, ddof=1) / math.sqrt(len(a))) if len(a) > 1 else 0.0
    return {"mean": float(a.mean()), "se": se, "folds": [float(v) for v in a]}
