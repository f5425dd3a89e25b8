"""Column names the libraries refuse (LightGBM: [ ] , : { } "; XGBoost: [ ] <; spaces that
LightGBM turns into underscores; names that are not text): the models see positional names, so
every teacher and student fits, with the same numbers as under plain names, and the user's
names stay where the user sees them. And a teacher's failure blames --teacher-param only when
the parameter is at fault."""

import numpy as np
import pandas as pd
import pytest

import kdcli
from kdcli.data.dataset import Dataset
from kdcli.errors import KDError
from kdcli.science.encoding import model_names

# names from the battery of issue 20: JSON specials, XGBoost's [ ] <, unicode, names that
# collide once LightGBM turns spaces into underscores, kd's own internal name, a number, and
# a tab and a line break (LightGBM: "Wrong size of feature_names")
ODD = ["a[1]", "b,c", "d:e", "{f}", 'g"h', "x<y", "]", "é→ü 名", "a b", "a_b", "f0", 7, "t\tu\nv"]
SIZES = {"tree": [4], "rf": [2], "gbdt": [2], "linear": [1]}
QUICK = dict(student="tree,rf,gbdt,linear", sizes=SIZES, folds=3, c_grid="0.01,10", threads=1)


def frame(names: list, rows: int = 90) -> tuple[pd.DataFrame, np.ndarray]:
    """Numeric features under ``names``, and two categoricals with a missing value (the first
    two names go to them), a binary label that depends on both kinds."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(rows, len(names))), columns=names)
    for col in names[:2]:
        levels = np.array(["p", "q", "r"])[rng.integers(0, 3, rows)]
        X[col] = pd.Categorical(np.where(np.arange(rows) % 17 == 0, None, levels))
    y = ((X.iloc[:, 2] + (X.iloc[:, 0] == "p") + rng.normal(0, 0.5, rows)) > 0.5).astype(int)
    return X, y.to_numpy()


@pytest.mark.parametrize("teacher", ["lightgbm", "xgboost", "rf"])
def test_every_teacher_and_student_fits_odd_names_as_it_fits_plain_ones(teacher):
    X, y = frame(ODD)
    odd = Dataset("odd", X, y, ["no", "yes"])
    plain = Dataset("odd", X.set_axis([f"c{i}" for i in range(len(ODD))], axis=1), y, ["no", "yes"])
    params = {"n_estimators": 5}
    got = kdcli.fit(odd, teacher=teacher, teacher_param=params, **QUICK).results
    want = kdcli.fit(plain, teacher=teacher, teacher_param=params, **QUICK).results
    assert set(got.student) == {"teacher", "tree", "rf", "gbdt", "linear"}
    pd.testing.assert_frame_equal(got, want)  # model_bytes too: the models saw the same names
    assert list(odd.X.columns) == ODD  # the user's frame is untouched


def test_a_data_failure_is_not_blamed_on_teacher_param():
    """A column LightGBM cannot read (text, not a categorical: a Dataset made by hand) fails the
    teacher whatever its parameters: the error is the library's, not '--teacher-param'."""
    X, y = frame(["a", "b", "c"])
    X["a"] = X["a"].astype(str).astype(object)
    ds = Dataset("text", X, y, ["no", "yes"])
    with pytest.raises(ValueError, match="pandas dtypes") as err:
        kdcli.fit(ds, teacher_param={"n_estimators": 5}, **QUICK)
    assert "teacher-param" not in str(err.value) and not isinstance(err.value, KDError)


@pytest.mark.parametrize(
    ("teacher", "given", "named"),
    [
        ("lightgbm", {"num_leaves": -5, "learning_rate": 0.05}, "--teacher-param num_leaves=-5:"),
        ("xgboost", {"max_depth": -1, "n_estimators": 5}, "--teacher-param max_depth=-1:"),
    ],
)
def test_a_refused_parameter_is_named_alone(teacher, given, named):
    X, y = frame(["a", "b", "c"])
    with pytest.raises(KDError) as err:
        kdcli.fit(Dataset("d", X, y, ["no", "yes"]), teacher=teacher, teacher_param=given, **QUICK)
    assert f"teacher {teacher} does not accept {named}" in str(err.value)


def test_a_refused_grid_value_is_blamed_on_the_grid():
    X, y = frame(["a", "b", "c"])
    with pytest.raises(KDError) as err:
        kdcli.fit(
            Dataset("d", X, y, ["no", "yes"]),
            teacher_grid={"lightgbm.num_leaves": [-5, 4]},
            teacher_param={"n_estimators": 5},
            **QUICK,
        )
    assert "does not accept --teacher-grid num_leaves=-5:" in str(err.value)


def test_model_names_are_positional_and_leave_the_frame_alone():
    X = pd.DataFrame([[1, 2, 3]], columns=["a b", "a b", 7])
    named = model_names(X)
    assert list(named.columns) == ["f0", "f1", "f2"] and list(X.columns) == ["a b", "a b", 7]
    assert named.to_numpy().tolist() == [[1, 2, 3]]
