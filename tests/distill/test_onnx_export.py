"""The exported student gives kd's probabilities: ONNX against to_proba on unseen rows.

Every family is fitted on codes with two categorical columns and missing values in a numeric
and a categorical column, as ``kd distill`` fits it; the unseen rows also hold a category the
fit never saw (missing, as kd's codes make it) and are scored by onnxruntime in float32.
"""

from __future__ import annotations

import numpy as np
import onnx
import pandas as pd
import pytest

from kdcli.distilled.onnx_export import onnx_outputs, onnx_proba, student_onnx
from kdcli.distilled.student import build_student, fit_student
from kdcli.science.encoding import OrdinalCodes
from kdcli.science.targets import make_targets, one_hot, regression_columns, to_proba

EPS = 1e-3
CATEGORICAL = [2, 3]
STUDENTS = [("tree", 64), ("tree", "full"), ("rf", 10), ("gbdt", 20), ("linear", 1)]


def frame(rng, n: int, levels: list[str]) -> pd.DataFrame:
    """Two numbers, a 4-level and a 3-level category, a number; ~5 % missing in f0 and c2.
    ``levels`` are the values c2 is drawn from; its dtype keeps only a..d, as kd's data do, so
    any other value is a category the fit never saw, read as missing."""
    f0, f1, f4 = rng.normal(size=(3, n))
    f0[rng.random(n) < 0.05] = np.nan
    c2 = pd.Series(rng.choice(levels, size=n), dtype="category")
    c2[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "f0": f0,
            "f1": f1,
            "c2": c2.cat.set_categories(list("abcd")),
            "c3": pd.Categorical(rng.choice(list("xyz"), size=n), categories=list("xyz")),
            "f4": f4,
        }
    )


def teacher(X: np.ndarray, n_classes: int) -> np.ndarray:
    """Class probabilities that depend on numbers, categories and missingness."""
    f0 = np.nan_to_num(X[:, 0], nan=-1.5)
    logits = np.column_stack(
        [
            f0 + (X[:, 2] == 1),
            X[:, 1] - X[:, 4] + np.isnan(X[:, 2]),
            0.8 * X[:, 3] - 0.5,
        ]
    )[:, :n_classes]
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    return P / P.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module", params=[2, 3], ids=["binary", "3-class"])
def problem(request):
    n_classes = request.param
    rng = np.random.default_rng(n_classes)
    X = OrdinalCodes().transform(frame(rng, 600, list("abcd")))
    X_new = OrdinalCodes().transform(frame(rng, 400, list("abcde")))
    P = teacher(X, n_classes)
    y = np.array([rng.choice(n_classes, p=p) for p in P])
    p_crossfit = 0.8 * P + 0.2 * rng.dirichlet(np.ones(n_classes), size=len(P))
    return n_classes, X, one_hot(y, n_classes), p_crossfit, X_new


def fitted(family, size, scale, problem):
    _, X, y1h, p_crossfit, _ = problem
    T = make_targets("crossfit", y1h, p_crossfit=p_crossfit, scale=scale, eps=EPS)
    return fit_student(build_student(family, size, CATEGORICAL, 0), X, regression_columns(T, scale))


def test_unseen_rows_have_missing_values_and_an_unseen_category(problem):
    X_new = problem[4]
    assert np.isnan(X_new[:, 0]).mean() > 0.02
    assert np.isnan(X_new[:, 2]).mean() > 0.15  # ~5 % missing and ~20 % level 'e'


@pytest.mark.parametrize("scale", ["prob", "logit"])
@pytest.mark.parametrize(("family", "size"), STUDENTS, ids=[f"{f}-{s}" for f, s in STUDENTS])
def test_onnx_probabilities_are_kds(family, size, scale, problem):
    n_classes, X_new = problem[0], problem[4]
    model = fitted(family, size, scale, problem)
    onx = student_onnx(model, family, X_new.shape[1], n_classes, scale, EPS)
    P, label = onnx_outputs(onx.SerializeToString(), X_new)

    expected = to_proba(model.predict(X_new), n_classes, scale, EPS)
    assert P.shape == (len(X_new), n_classes)
    assert np.abs(P - expected).max() <= 1e-5
    assert np.abs(P.sum(axis=1) - 1.0).max() <= 1e-6
    np.testing.assert_array_equal(label, P.argmax(axis=1))
    assert len(np.unique(expected.round(6), axis=0)) > 3  # the student is not a constant


def test_the_model_declares_its_interface(problem, tmp_path):
    n_classes, X_new = problem[0], problem[4]
    model = fitted("tree", 64, "logit", problem)
    onx = student_onnx(model, "tree", X_new.shape[1], n_classes, "logit", EPS)

    (inp,) = onx.graph.input
    assert inp.name == "features"
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert [d.dim_value for d in inp.type.tensor_type.shape.dim][1] == X_new.shape[1]
    outputs = {o.name: o.type.tensor_type for o in onx.graph.output}
    assert outputs["probabilities"].elem_type == onnx.TensorProto.FLOAT
    assert outputs["probabilities"].shape.dim[1].dim_value == n_classes
    assert outputs["label"].elem_type == onnx.TensorProto.INT64
    assert {o.domain: o.version for o in onx.opset_import} == {"": 17, "ai.onnx.ml": 3}
    meta = {p.key: p.value for p in onx.metadata_props}
    assert meta == {
        "kd.family": "tree",
        "kd.scale": "logit",
        "kd.eps": "0.001",
        "kd.n_classes": str(n_classes),
    }
    path = tmp_path / "student.onnx"
    path.write_bytes(onx.SerializeToString())
    np.testing.assert_array_equal(onnx_proba(path, X_new), onnx_proba(onx, X_new))


def test_boosters_split_the_category_columns_as_categories(problem):
    model = fitted("gbdt", 20, "prob", problem)
    for booster in model.estimators_:
        nodes = booster.booster_.trees_to_dataframe()
        by_set = set(nodes.loc[nodes["decision_type"] == "==", "split_feature"])
        assert by_set == {f"Column_{i}" for i in CATEGORICAL}


def test_a_student_of_the_wrong_shape_is_refused(problem):
    n_classes, X_new = problem[0], problem[4]
    model = fitted("linear", 1, "prob", problem)
    with pytest.raises(ValueError, match="features"):
        student_onnx(model, "linear", X_new.shape[1] + 1, n_classes, "prob", EPS)
    with pytest.raises(ValueError, match="classes"):
        student_onnx(model, "linear", X_new.shape[1], n_classes + 2, "prob", EPS)
    with pytest.raises(TypeError, match="tree"):
        student_onnx(model, "tree", X_new.shape[1], n_classes, "prob", EPS)


def missing_goes_left(rows: int = 400):
    """A tree whose root sends NaN left: missing rows look like the low values."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=rows)
    t = (x > 0).astype(float)
    x[rng.random(rows) < 0.2] = np.nan
    t[np.isnan(x)] = 0.0
    model = fit_student(build_student("tree", 4, [], 0), x[:, None], t)
    assert model.tree_.missing_go_to_left[0]  # scikit-learn routes NaN left at the root
    X_new = np.array([[np.nan], [-1.0], [1.0], [np.nan]])
    return model, X_new


def test_nan_follows_scikit_learn_where_skl2onnx_alone_does_not():
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    model, X_new = missing_goes_left()
    expected = to_proba(model.predict(X_new), 2, "prob", EPS)
    patched = onnx_proba(student_onnx(model, "tree", 1, 2, "prob", EPS), X_new)
    np.testing.assert_allclose(patched, expected, atol=1e-6)

    plain = convert_sklearn(model, initial_types=[("features", FloatTensorType([None, 1]))])
    import onnxruntime as ort

    session = ort.InferenceSession(plain.SerializeToString(), providers=["CPUExecutionProvider"])
    (raw,) = session.run(None, {"features": X_new.astype(np.float32)})
    unpatched = to_proba(raw, 2, "prob", EPS)
    nan = np.isnan(X_new[:, 0])
    assert np.abs(unpatched[nan] - expected[nan]).min() > 0.5  # skl2onnx sends NaN right
    np.testing.assert_allclose(unpatched[~nan], expected[~nan], atol=1e-6)


def test_every_split_carries_its_trees_missing_direction(problem):
    model = fitted("rf", 10, "prob", problem)
    onx = student_onnx(model, "rf", problem[4].shape[1], problem[0], "prob", EPS)
    (node,) = [n for n in onx.graph.node if n.op_type == "TreeEnsembleRegressor"]
    attrs = {a.name: a for a in node.attribute}
    tracks = list(attrs["nodes_missing_value_tracks_true"].ints)
    trees, nodes = attrs["nodes_treeids"].ints, attrs["nodes_nodeids"].ints
    expected = []
    for t, i in zip(trees, nodes, strict=True):
        tree = model.estimators_[t].tree_
        expected.append(int(tree.missing_go_to_left[i]) if tree.children_left[i] != -1 else 0)
    assert tracks == expected
    assert 0 < sum(tracks) < len(tracks)  # both directions occur
