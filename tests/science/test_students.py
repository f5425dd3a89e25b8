"""Students: one capacity knob per family, 1-D and 2-D targets, reproducible fits."""

import numpy as np
import pytest

from kdcli.errors import SettingError
from kdcli.science.students import (
    DEFAULT_SIZES,
    FAMILIES,
    FULL,
    check_sizes,
    fit_student,
    make_student,
)

N, D, K = 240, 5, 3
SMALL = {"tree": 8, "rf": 5, "gbdt": 7, "linear": 4}


@pytest.fixture(scope="module")
def data():
    """Features and soft targets that depend on them (so more capacity fits them better)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D))
    logits = np.column_stack([X[:, 0], np.sin(2 * X[:, 1]), X[:, 2] * X[:, 3]])
    T = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return X, T


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_fits_one_and_several_target_columns(family, data):
    """Binary targets are one column, multiclass K columns; both must fit and predict per row."""
    X, T = data
    one = fit_student(make_student(family, SMALL[family], 1, 0), X, T[:, 0])
    pred = np.asarray(one.predict(X[:10]))
    assert pred.shape in ((10,), (10, 1))
    several = fit_student(make_student(family, SMALL[family], 1, 0), X, T)
    assert np.asarray(several.predict(X[:10])).shape == (10, K)


@pytest.mark.parametrize("family", FAMILIES)
def test_students_learn_the_targets(family, data):
    """A fitted student predicts better than the column means (it is fitted, not a stub)."""
    X, T = data
    model = fit_student(make_student(family, SMALL[family], 1, 0), X, T)
    mse = np.mean((model.predict(X) - T) ** 2)
    baseline = np.mean((T - T.mean(axis=0)) ** 2)
    assert mse < 0.9 * baseline


@pytest.mark.parametrize("size", [2, 4, 8, 16])
def test_tree_size_caps_the_leaves(size, data):
    """size is the tree's maximum number of leaves."""
    X, T = data
    model = fit_student(make_student("tree", size, 1, 0), X, T)
    assert model.max_leaf_nodes == size
    assert 2 <= model.get_n_leaves() <= size


def test_full_tree_grows_past_every_finite_size(data):
    """'full' grows to purity: far more than 8 leaves and deeper than 8 levels here."""
    X, T = data
    model = fit_student(make_student("tree", FULL, 1, 0), X, T[:, 0])
    assert model.max_leaf_nodes is None
    assert model.get_depth() > 8
    assert model.get_n_leaves() > 8
    np.testing.assert_allclose(model.predict(X), T[:, 0])  # pure leaves: distinct targets


@pytest.mark.parametrize("size", [1, 3, 12])
def test_rf_size_is_the_number_of_trees(size, data):
    X, T = data
    model = fit_student(make_student("rf", size, 1, 0), X, T)
    assert len(model.estimators_) == size


@pytest.mark.parametrize("size", [1, 4, 9])
def test_gbdt_size_is_the_number_of_trees_per_output(size, data):
    """LightGBM fits one model per target column, each with ``size`` trees."""
    X, T = data
    model = fit_student(make_student("gbdt", size, 1, 0), X, T)
    assert len(model.estimators_) == K
    assert [e.booster_.num_trees() for e in model.estimators_] == [size] * K
    single = fit_student(make_student("gbdt", size, 1, 0), X, T[:, 0])
    assert len(single.estimators_) == 1
    assert single.estimators_[0].booster_.num_trees() == size


def test_linear_size_is_inverse_regularisation(data):
    """alpha = 1/size: a larger size shrinks the coefficients less."""
    X, T = data
    assert make_student("linear", 4, 1, 0).alpha == pytest.approx(0.25)
    assert make_student("linear", 1, 1, 0).alpha == pytest.approx(1.0)
    norms = []
    for size in (1, 10, 1000):
        model = fit_student(make_student("linear", size, 1, 0), X, T)
        norms.append(np.linalg.norm(model.coef_))
    assert norms[0] < norms[1] < norms[2]


@pytest.mark.parametrize("family", ["rf", "gbdt", "linear"])
def test_full_is_refused_for_non_tree_students(family):
    with pytest.raises(SettingError, match="only to the tree") as err:
        check_sizes(family, [10, FULL])
    assert err.value.param == "sizes"


def test_a_one_leaf_tree_is_refused():
    """A single leaf predicts a constant: not a student worth fitting."""
    with pytest.raises(SettingError, match="at least 2 leaves") as err:
        check_sizes("tree", [8, 1])
    assert err.value.param == "sizes"
    assert err.value.option == "--sizes"


@pytest.mark.parametrize("family", FAMILIES)
def test_default_and_valid_sizes_pass(family):
    """The defaults must pass their own check, and size 1 is fine for counted families."""
    check_sizes(family, DEFAULT_SIZES[family])
    if family != "tree":
        check_sizes(family, [1, 2])
    else:
        check_sizes(family, [2, FULL])


def test_unknown_family_is_refused():
    with pytest.raises(SettingError) as err:
        make_student("knn", 3, 1, 0)
    assert err.value.param == "student"


@pytest.mark.parametrize("family", FAMILIES)
def test_same_random_state_same_predictions(family, data):
    """Results must be reproducible from the seed alone."""
    X, T = data
    size = SMALL[family]
    a = fit_student(make_student(family, size, 1, 3), X, T).predict(X)
    b = fit_student(make_student(family, size, 1, 3), X, T).predict(X)
    np.testing.assert_array_equal(a, b)


def test_the_seed_matters_where_there_is_randomness(data):
    """rf draws bootstrap samples: another seed gives another forest (so the test above is not
    trivially passing)."""
    X, T = data
    a = fit_student(make_student("rf", 5, 1, 0), X, T).predict(X)
    b = fit_student(make_student("rf", 5, 1, 1), X, T).predict(X)
    assert not np.array_equal(a, b)


def test_ordinal_codes_of_a_wide_mixed_frame_are_the_codes_column_by_column():
    """The block conversion (numbers at once, categoricals one by one) gives each column what
    converting it alone gives, in place: codes (missing NaN) and numbers (missing NaN)."""
    import numpy as np
    import pandas as pd

    from kdcli.science.encoding import OrdinalCodes

    rng = np.random.default_rng(0)
    cols = {}
    for i in range(300):
        kind = i % 4
        if kind == 0:
            cols[f"n{i}"] = rng.normal(size=20)
        elif kind == 1:
            cols[f"i{i}"] = rng.integers(0, 5, size=20)
        elif kind == 2:
            values = rng.choice(["a", "b", None], size=20)
            cols[f"c{i}"] = pd.Series(values, dtype="category")
        else:
            cols[f"b{i}"] = rng.random(20) > 0.5
    X = pd.DataFrame(cols)
    X.iloc[3, 0] = np.nan
    got = OrdinalCodes().fit_transform(X)
    for j, c in enumerate(X.columns):
        s = X[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            want = s.cat.codes.to_numpy().astype(float)
            want[want < 0] = np.nan
        else:
            want = s.to_numpy(dtype=float, na_value=np.nan)
        np.testing.assert_array_equal(got[:, j], want)
