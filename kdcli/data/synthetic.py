"""Synthetic designs whose Bayes probabilities p0(x) are known exactly.

Every design draws x ~ N(0, I_d), computes clean class probabilities p(x) from a fixed nonlinear
function, mixes in label noise, p0(x) = (1 - noise) p(x) + noise / K (with probability ``noise``
the label is replaced by a uniformly random class), and samples y ~ Categorical(p0(x)).
Because p0 is known, results on these designs report each student's true excess risk.
The function is fixed (it does not depend on ``seed``); ``seed`` only draws the sample, so
different seeds are independent samples of one distribution.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, softmax

from kdcli.data.dataset import Dataset
from kdcli.errors import KDError
from kdcli.text import shown

DESIGNS = {
    "binary": {"n": 5000, "d": 10, "noise": 0.1, "seed": 0},
    "multiclass": {"n": 5000, "d": 10, "k": 4, "noise": 0.1, "seed": 0},
}
DESIGN_SEED = 2021  # fixes the multiclass centres, independent of the sample seed
MAX_VALUES = 200_000_000  # n * d features drawn as float64: 1.6 GB
MAX_FEATURES = 100_000  # as many columns as kd reads from a file in seconds
MIN_ROWS = 20


def binary_p(X: np.ndarray) -> np.ndarray:
    """Clean P(y=1 | x): additive, oscillating and interaction terms, so trees must work for it."""
    g = 1.2 * X[:, 0] - 0.8 * X[:, 1] + 1.5 * np.sin(2.0 * X[:, 2]) + X[:, 3] * X[:, 4]
    return expit(g)


def multiclass_p(X: np.ndarray, k: int) -> np.ndarray:
    """Clean class probabilities: softmax of negative distances to K fixed centres plus a ripple."""
    m = min(X.shape[1], 5)
    centres = np.random.default_rng(DESIGN_SEED).normal(scale=1.2, size=(k, m))
    Z = X[:, :m]
    dist2 = ((Z[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    ripple = np.sin(2.0 * Z[:, [0]] + np.arange(k)[None, :])
    return softmax(-dist2 + ripple, axis=1)


def make_synthetic(design: str, n: int, d: int, noise: float, seed: int, k: int = 2):
    """Draw (X, y, p0) from a design; plain arrays, for tests and the loader alike."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if design == "binary":
        p1 = binary_p(X)
        p = np.column_stack([1.0 - p1, p1])
    else:
        p = multiclass_p(X, k)
    n_classes = p.shape[1]
    p0 = (1.0 - noise) * p + noise / n_classes
    u = rng.random(n)
    y = (u[:, None] > np.cumsum(p0, axis=1)).sum(axis=1)
    y = np.minimum(y, n_classes - 1)
    return X, y.astype(np.int64), p0


def load_synthetic(name: str, params: dict[str, str]) -> Dataset:
    if name not in DESIGNS:
        raise KDError(f"unknown synthetic design '{shown(name)}'; use one of {', '.join(DESIGNS)}")
    defaults = DESIGNS[name]
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise KDError(
            f"synthetic:{name} has no parameter '{shown(unknown[0])}'; its parameters are "
            f"{', '.join(defaults)}"
        )
    values = {
        key: _parse_param(name, key, params.get(key), default) for key, default in defaults.items()
    }
    n, d, noise, seed = values["n"], values["d"], values["noise"], values["seed"]
    k = values.get("k", 2)
    min_d = 5 if name == "binary" else 2
    if n < MIN_ROWS:
        raise KDError(f"synthetic:{name} needs n >= {MIN_ROWS} rows, got n={n}")
    if d < min_d:
        raise KDError(f"synthetic:{name} needs d >= {min_d} features, got d={d}")
    if name == "multiclass" and not 3 <= k <= 50:
        raise KDError(f"synthetic:multiclass needs 3 <= k <= 50 classes, got k={k}")
    _check_size(name, n, d, min_d)
    if seed < 0:
        raise KDError(f"synthetic:{name} needs seed >= 0, got seed={seed}")
    if not 0.0 <= noise < 1.0:
        raise KDError(f"synthetic:{name} needs 0 <= noise < 1, got noise={noise}")
    X, y, p0 = make_synthetic(name, n, d, noise, seed, k)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(d)])
    present = np.unique(y)
    if len(present) < p0.shape[1]:
        raise KDError(f"synthetic:{name} drew no row of some class; use a larger n (now {n})")
    label = "&".join(f"{key}={values[key]}" for key in defaults)
    return Dataset(
        name=f"synthetic:{name}?{label}",
        X=frame,
        y=y,
        class_names=[str(i) for i in range(p0.shape[1])],
        p0=p0,
        meta={"design": name, **values},
    )


def _check_size(name: str, n: int, d: int, min_d: int) -> None:
    """At most MAX_FEATURES features and MAX_VALUES feature values; the message blames what is
    too large: d beyond its own bound, n when even the fewest features would not fit, else
    either of them."""
    if d > MAX_FEATURES:
        raise KDError(
            f"synthetic:{name} has too many features, d={d:,} (with n={n:,} rows, "
            f"{_memory(n * d)}); kd draws at most {MAX_FEATURES:,}: use d <= {MAX_FEATURES:,}"
        )
    if n * d <= MAX_VALUES:
        return
    size = f"n={n:,} rows x d={d:,} features is {n * d:.1e} values ({_memory(n * d)})"
    limit = f"at most {MAX_VALUES:.0e} values ({_memory(MAX_VALUES)})"
    max_n, max_d = MAX_VALUES // d, MAX_VALUES // n
    if max_d < min_d:
        raise KDError(
            f"synthetic:{name} has too many rows, n={n:,}: {size}, {limit}; use n <= {max_n:,}"
        )
    raise KDError(
        f"synthetic:{name} is too large: {size}, {limit}; use fewer rows (n <= {max_n:,} with "
        f"d={d:,}) or fewer features (d <= {max_d:,} with n={n:,})"
    )


def _memory(values: int) -> str:
    """What ``values`` float64 numbers take, in words."""
    size = values * 8
    return f"{size / 1e9:,.1f} GB" if size >= 1e8 else f"{size / 1e6:,.1f} MB"


def _parse_param(design: str, key: str, raw: str | None, default: float | int):
    if raw is None:
        return default
    kind = float if isinstance(default, float) else int
    try:
        return kind(raw)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise KDError(f"synthetic:{design} parameter {key}={raw!r} is not {what}") from None
