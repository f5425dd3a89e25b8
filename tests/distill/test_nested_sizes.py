"""`kd distill --size auto` scores sizes that nest on one fit of the largest: the same
candidates, to the bit, as a fit per size."""

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import StratifiedKFold

from kdcli.distilled.procedure import score_sizes
from kdcli.science.targets import one_hot
from kdcli.settings import fit_settings


@pytest.mark.parametrize(
    ("family", "sizes"), [("tree", [4, 16, 64, "full"]), ("rf", [1, 3, 8]), ("gbdt", [2, 5, 9])]
)
def test_nested_sizes_score_as_a_fit_per_size(family, sizes):
    X, y = make_classification(300, 5, n_informative=3, n_classes=3, flip_y=0.1, random_state=4)
    rng = np.random.default_rng(4)
    in_sample = 0.6 * one_hot(y, 3) + 0.4 * rng.dirichlet(np.ones(3), len(y))
    out_of_fold = 0.3 * one_hot(y, 3) + 0.7 * rng.dirichlet(np.ones(3), len(y))
    preds = SimpleNamespace(
        in_sample=in_sample, out_of_fold=out_of_fold, select=None, select_in_sample=None
    )
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    fit = fit_settings(c_grid=[0.01, 1.0], student=family, sizes=sizes)
    modes = ["raw", "vanilla", "crossfit", "corrected"]
    args = (modes, X, y, 3, preds, folds, fit, family)
    together = score_sizes(*args, sizes, [], 7)
    apart = [score_sizes(*args, [size], [], 7)[0] for size in sizes]
    assert together == apart  # every mode's c, mean score, SE and per-fold scores
    assert len({c.cv for scored in apart for c in scored}) > len(sizes)  # sizes do differ
