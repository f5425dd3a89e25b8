"""--teacher-grid: each swept value (or product of values) is its own teacher, checked before any
fit; --alpha-grid and the dao2021-teacher preset."""

from __future__ import annotations

import json

import numpy as np
import pytest

import kdcli
from kdcli.errors import SettingError
from kdcli.experiment.splits import make_splits
from kdcli.records import teacher_label, teacher_variant
from kdcli.science.targets import ALPHA_GRID
from kdcli.settings.fit import FitSettings
from kdcli.study.plan import Unit
from kdcli.study.teacher_cache import split_key


def labels(spec: FitSettings) -> list[str]:
    return [t.label for t in spec.teachers]


def test_a_grid_is_the_product_of_its_parameters_in_the_order_given():
    spec = kdcli.fit_settings(
        teacher="rf",
        teacher_param="n_estimators=50",
        teacher_grid=["rf.max_depth=3,None", "rf.min_samples_leaf=1,5"],
    )
    assert labels(spec) == [
        "rf[max_depth=3,min_samples_leaf=1]",
        "rf[max_depth=3,min_samples_leaf=5]",
        "rf[max_depth=None,min_samples_leaf=1]",
        "rf[max_depth=None,min_samples_leaf=5]",
    ]
    last = spec.teachers[-1]
    assert last.variant == {"max_depth": None, "min_samples_leaf": 5}
    assert last.full_params["max_depth"] is None and last.full_params["n_estimators"] == 50
    assert spec.swept and not kdcli.fit_settings(teacher="rf").swept
    # the dict form, and repeated values, give the same teachers
    same = kdcli.fit_settings(
        teacher="rf",
        teacher_param={"n_estimators": 50},
        teacher_grid={"rf.max_depth": [3, None, 3], "rf.min_samples_leaf": "1,5,1"},
    )
    assert same.teachers == spec.teachers


def test_an_unscoped_grid_sweeps_every_teacher_and_a_scoped_one_only_its_own():
    spec = kdcli.fit_settings(teacher="lightgbm,xgboost", teacher_grid="max_depth=2,4")
    assert labels(spec) == [
        "lightgbm[max_depth=2]", "lightgbm[max_depth=4]", "xgboost[max_depth=2]", "xgboost[max_depth=4]",
    ]  # fmt: skip
    spec = kdcli.fit_settings(teacher="lightgbm,rf", teacher_grid="rf.max_depth=2,4")
    assert labels(spec) == ["lightgbm", "rf[max_depth=2]", "rf[max_depth=4]"]


@pytest.mark.parametrize(
    "variant",
    [{}, {"max_depth": 3}, {"max_depth": None, "min_samples_leaf": 5}, {"learning_rate": 0.05}],
)
def test_labels_read_back_into_their_swept_values(variant):
    label = teacher_label("rf", variant)
    name, values = teacher_variant(label)
    assert name == "rf" and values == {k: str(v) for k, v in variant.items()}


def test_the_spec_round_trips_and_a_run_without_a_grid_records_what_it_did_before():
    spec = kdcli.fit_settings(
        teacher="rf",
        teacher_grid="rf.max_depth=1,None",
        modes="raw,mixed:logit",
        alpha_grid="0,0.5,1",
    )
    data = json.loads(json.dumps(spec.to_dict()))
    assert FitSettings.from_dict(data) == spec
    assert data["alpha_grid"] == [0.0, 0.5, 1.0]
    assert [t["variant"] for t in data["teachers"]] == [{"max_depth": 1}, {"max_depth": None}]
    plain = kdcli.fit_settings().to_dict()  # the fingerprint of older runs and references
    assert "alpha_grid" not in plain and all("variant" not in t for t in plain["teachers"])
    assert FitSettings.from_dict(plain) == kdcli.fit_settings()
    assert kdcli.fit_settings(modes="raw,mixed").alpha_grid == ALPHA_GRID
    assert kdcli.fit_settings(alpha_grid="0.5").alpha_grid is None  # checked, unused without mixed


def test_each_variant_has_its_own_cache_key_and_unit_file():
    ds = kdcli.load_dataset("sklearn:wine")
    spec = kdcli.fit_settings(teacher="rf", teacher_grid="rf.max_depth=1,2,None")
    split = make_splits(ds, spec)[0]
    keys = {split_key(ds, split, t, 5) for t in spec.teachers}
    assert len(keys) == 3
    plain = kdcli.fit_settings(teacher="rf", teacher_param="max_depth=2").teachers[0]
    # the same parameters are the same teacher, swept or set: one cache entry
    assert split_key(ds, split, plain, 5) == split_key(ds, split, spec.teachers[1], 5)
    ids = [Unit("wine", "sklearn:wine", 0, 0, t.label).unit_id for t in spec.teachers]
    assert len(set(ids)) == 3
    assert all(i.startswith("wine__r0_f0__rf-max_depth-") for i in ids)
    assert all(
        set(i) <= set("abcdefghijklmnopqrstuvwxyz0123456789_.-ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        for i in ids
    )


@pytest.mark.parametrize(
    ("grid", "teacher", "words"),
    [
        ("rf.max_dept=1,2", "rf", ["max_dept"]),  # unknown parameter
        ("rf.max_depth=", "rf", ["has no values", "rf.max_depth=1,2,3"]),  # empty grid
        ("rf.max_depth= , ", "rf", ["has no values"]),
        ("max_depth", "rf", ["malformed", "TEACHER.KEY=V1,V2"]),
        ("rf.max_depth=abc", "rf", ["max_depth", "abc"]),  # wrong type
        ("lightgbm.max_depth=2.5", "lightgbm", ["max_depth", "2.5"]),
        ("xgboost.max_depth=1.5", "xgboost", ["max_depth", "1.5"]),
        ("rf.num_leaves=7,15", "rf", ["num_leaves"]),  # rf has no such parameter
        ("xgboost.max_depth=2,3", "rf", ["xgboost", "not a --teacher here"]),
        ("catboost.depth=2", "rf", ["'catboost' is not a teacher"]),
        ("rf.n_estimators=0,10", "rf", ["n_estimators"]),  # a forest of no trees
    ],
)
def test_a_bad_grid_is_refused_naming_the_option(grid, teacher, words):
    with pytest.raises(SettingError) as err:
        kdcli.fit_settings(teacher=teacher, teacher_grid=grid)
    message = err.value.message.replace("{opt}", "--teacher-grid")
    assert err.value.param == "teacher_grid" and "--teacher-grid" in message, message
    for word in words:
        assert word in message, message


def test_a_parameter_set_twice_is_refused():
    with pytest.raises(SettingError, match="also sets"):
        kdcli.fit_settings(
            teacher="rf", teacher_param="max_depth=3", teacher_grid="rf.max_depth=1,2"
        )
    with pytest.raises(SettingError, match="twice"):
        kdcli.fit_settings(teacher="rf", teacher_grid=["rf.max_depth=1", "max_depth=2"])


@pytest.mark.parametrize("grid", ["1.5", "-0.1", "x", "", "0,nan", "0.5,inf"])
def test_an_alpha_outside_zero_one_is_refused(grid):
    with pytest.raises(SettingError) as err:
        kdcli.fit_settings(modes="raw,mixed", alpha_grid=grid)
    assert err.value.param == "alpha_grid" and "[0, 1]" in err.value.message


def test_alpha_grids_are_sorted_and_distinct():
    assert kdcli.fit_settings(modes="mixed", alpha_grid="1,0,0.5,0.5").alpha_grid == (0.0, 0.5, 1.0)
    assert kdcli.fit_settings(modes="mixed", alpha_grid=[0.25]).alpha_grid == (0.25,)


def test_the_dao2021_teacher_preset_and_its_overrides():
    spec = kdcli.fit_settings(preset="dao2021-teacher")
    assert labels(spec) == [f"rf[max_depth={d}]" for d in (1, 2, 3, 5, 10, 15, 20)]
    assert {t.full_params["n_estimators"] for t in spec.teachers} == {100}
    assert spec.students == ("rf",) and spec.sizes == {"rf": (10,)}
    assert spec.modes == ("raw", "vanilla:logit", "crossfit:logit", "corrected:logit", "mixed")
    assert (spec.test_size, spec.folds, spec.select_folds, spec.repeats) == (0.3, 10, 5, 5)
    assert spec.select_metric == "auc" and spec.preset["set"]["metric"] == "auc"
    assert np.allclose(spec.c_grid, [10.0**k for k in range(-5, 4)])
    assert spec.alpha_grid == ALPHA_GRID and spec.eps == 0.002
    assert spec.preset["name"] == "dao2021-teacher" and spec.preset["overridden"] == []
    # an explicit grid replaces the preset's; another teacher drops its rf-scoped settings
    small = kdcli.fit_settings(
        preset="dao2021-teacher", teacher_grid="rf.max_depth=1,20", repeats=1
    )
    assert labels(small) == ["rf[max_depth=1]", "rf[max_depth=20]"] and small.repeats == 1
    assert small.preset["overridden"] == ["repeats", "teacher_grid"]
    assert labels(kdcli.fit_settings(preset="dao2021-teacher", teacher="lightgbm")) == ["lightgbm"]
