"""Model sizes for the compression table: counted from real fitted models."""

import numpy as np
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.multioutput import MultiOutputRegressor
from sklearn.tree import DecisionTreeRegressor

from kdcli.science.model_size import _lightgbm_size, model_size
from kdcli.science.teachers import TEACHER_DEFAULTS, make_teacher

rng = np.random.default_rng(0)
X = rng.normal(size=(300, 4))
y = (X[:, 0] + rng.normal(size=300) > 0).astype(float)


def test_tree_forest_ridge_sizes():
    tree = DecisionTreeRegressor(max_leaf_nodes=7, random_state=0).fit(X, y)
    s = model_size(tree)
    assert (s["n_trees"], s["n_leaves"]) == (1, 7) and s["model_bytes"] > 0
    forest = RandomForestRegressor(n_estimators=3, max_leaf_nodes=5, random_state=0).fit(X, y)
    assert (model_size(forest)["n_trees"], model_size(forest)["n_leaves"]) == (3, 15)
    ridge = Ridge().fit(X, y)
    assert model_size(ridge) == {"n_trees": 0.0, "n_leaves": 0.0, "model_bytes": 40.0}


def test_lightgbm_sizes_count_every_output_and_the_native_text():
    multi = MultiOutputRegressor(LGBMRegressor(n_estimators=6, num_leaves=4, verbose=-1))
    multi.fit(X, np.column_stack([y, 1 - y]))
    s = model_size(multi)
    assert s["n_trees"] == 12 and s["n_leaves"] <= 48
    clf = LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y)
    assert model_size(clf)["model_bytes"] == len(clf.booster_.model_to_string().encode())


def test_teacher_sizes_for_each_teacher():
    for name, trees in (("lightgbm", 10), ("xgboost", 10), ("rf", 10)):
        params = {**TEACHER_DEFAULTS[name], "n_estimators": 10}
        if name != "rf":  # all ten rounds, through kd's early-stopping wrapper
            params["validation_fraction"] = 0.5
        model = make_teacher(name, params, 1, 0).fit(X, y.astype(int))
        s = model_size(model)
        assert s["n_trees"] == trees and s["n_leaves"] >= trees and s["model_bytes"] > 1000


def test_lightgbm_trees_and_leaves_are_those_of_its_json_dump():
    """Counted from the model text, as LightGBM's own JSON dump counts them: binary, 3 classes,
    a first-k-rounds prefix, and trees of one leaf (nothing left to split)."""
    y3 = np.digitize(X[:, 1], [-0.5, 0.5])
    models = [
        LGBMClassifier(n_estimators=7, num_leaves=5, verbose=-1).fit(X, y),
        LGBMClassifier(n_estimators=4, verbose=-1).fit(X, y3),
        LGBMClassifier(n_estimators=3, min_child_samples=400, verbose=-1).fit(X, y),
    ]
    for model in models:
        for rounds in (None, 2):
            info = model.booster_.dump_model(num_iteration=rounds)["tree_info"]
            text = model.booster_.model_to_string(num_iteration=rounds)
            assert _lightgbm_size(text) == (
                len(info),
                sum(t["num_leaves"] for t in info),
                len(text.encode()),
            )
    assert {t["num_leaves"] for t in models[2].booster_.dump_model()["tree_info"]} == {1}
