"""One rule for every list-valued setting (issue 20, items 9, 12, 13): an empty item is refused
with its position, a key given twice is refused, a value (or a model) given twice is one; True
is no number; a teacher grid is counted before it is built; a bad value names the option (or
the preset) it came from, with an example of the right type."""

from __future__ import annotations

import pytest

import kdcli
from kdcli.errors import SettingError
from kdcli.settings import presets
from kdcli.settings.teacher_grid import MAX_TEACHER_VARIANTS


def refused(**settings) -> SettingError:
    with pytest.raises(SettingError) as err:
        kdcli.fit_settings(**settings)
    return err.value


def shown(err: SettingError) -> str:
    """The message as the command line prints it."""
    return err.render(err.option)


# --- empty items ---------------------------------------------------------------------------

EMPTY = [
    # (settings, the setting blamed, words of the message)
    ({"sizes": "8,,64"}, "sizes", ["--sizes '8,,64': item 2 is empty", "--sizes 8,64"]),
    ({"sizes": "8,64,"}, "sizes", ["item 3 is empty", "--sizes 8,64"]),
    ({"sizes": ["8", "", "64"]}, "sizes", ["item 2 is empty"]),
    ({"student": "tree,rf", "sizes": "tree=8,,64;rf=2"}, "sizes", ["item 2 is empty"]),
    ({"student": "tree,rf", "sizes": "tree=8;;rf=2"}, "sizes",
     ["group 2 is empty", "'tree=8;rf=2'"]),
    ({"student": "tree,rf", "sizes": "tree=8;rf=2;"}, "sizes", ["group 3 is empty"]),
    ({"modes": "mixed", "alpha_grid": "0.5,,0.7"}, "alpha_grid", ["item 2 is empty", "0.5,0.7"]),
    ({"c_grid": "0.1,,1"}, "c_grid", ["item 2 is empty"]),
    ({"modes": "raw,,vanilla"}, "modes", ["item 2 is empty", "raw,vanilla"]),
    ({"student": "tree,"}, "student", ["item 2 is empty"]),
    ({"teacher": "rf,,lightgbm"}, "teacher", ["item 2 is empty"]),
    ({"folds_outer": "0,,2"}, "folds_outer", ["item 2 is empty"]),
    ({"teacher": "rf", "teacher_grid": "rf.max_depth=1,,3"}, "teacher_grid",
     ["'rf.max_depth=1,,3': item 2 is empty", "rf.max_depth=1,3"]),
]  # fmt: skip


@pytest.mark.parametrize(("settings", "param", "words"), EMPTY, ids=[str(c[0]) for c in EMPTY])
def test_an_empty_item_is_refused_with_its_position_never_dropped(settings, param, words):
    err = refused(**settings)
    assert err.param == param
    for word in words:
        assert word in shown(err), shown(err)


@pytest.mark.parametrize("blank", [" , ", "", ","])
def test_a_list_of_nothing_is_refused_as_empty_as_before(blank):
    assert "--sizes is empty" in shown(refused(sizes=blank))


# --- True is no number ---------------------------------------------------------------------

BOOLEANS = [
    ({"teacher": "rf", "teacher_param": "rf.max_depth=True"}, "teacher_param", "rf.max_depth=8"),
    ({"teacher": "rf", "teacher_param": "n_estimators=true"}, "teacher_param", "n_estimators=8"),
    ({"teacher": "rf", "teacher_param": {"max_depth": True}}, "teacher_param", "max_depth=8"),
    ({"teacher": "rf", "teacher_param": {"max_features": False}}, "teacher_param", "=8"),
    ({"teacher": "rf", "teacher_grid": "rf.max_depth=1,True"}, "teacher_grid", "=8,16,32"),
    ({"teacher": "rf", "teacher_grid": {"rf.max_depth": [1, True]}}, "teacher_grid", "=8,16,32"),
    ({"teacher": "rf", "teacher_grid": {"rf.max_samples": [0.5, True]}}, "teacher_grid", "0.1,"),
    ({"c_grid": [0.1, True]}, "c_grid", "'True' is not a positive number"),
    ({"modes": "mixed", "alpha_grid": [0, True]}, "alpha_grid", "'True' is not a number"),
]


@pytest.mark.parametrize(("settings", "param", "word"), BOOLEANS, ids=[str(b[0]) for b in BOOLEANS])
def test_true_is_no_number(settings, param, word):
    """scikit-learn's constraints take True as the integer 1 (a forest of one tree), and
    float(True) is 1.0: kd refuses it, from text and from Python alike."""
    err = refused(**settings)
    assert err.param == param and word in shown(err), shown(err)


def test_true_stays_fine_where_a_parameter_is_a_flag():
    spec = kdcli.fit_settings(teacher="rf", teacher_param="bootstrap=False")
    assert spec.teacher.params == {"bootstrap": False}
    spec = kdcli.fit_settings(teacher="rf", teacher_grid="rf.bootstrap=True,False")
    assert [t.label for t in spec.teachers] == ["rf[bootstrap=True]", "rf[bootstrap=False]"]


# --- a key twice is refused, a value twice is one ------------------------------------------


@pytest.mark.parametrize(
    ("settings", "param", "words"),
    [
        ({"student": "tree,rf", "sizes": "tree=8;tree=9"}, "sizes", ["tree twice", "'tree=8,9'"]),
        ({"student": "tree,rf", "sizes": "tree=8;rf=2;TREE=9"}, "sizes", ["tree twice"]),
        ({"teacher_param": ["max_depth=3", "max_depth=4"]}, "teacher_param",
         ["lightgbm.max_depth twice", "max_depth=3 and max_depth=4"]),
        ({"teacher": "rf", "teacher_param": ["max_depth=3", "rf.max_depth=4"]}, "teacher_param",
         ["rf.max_depth twice"]),
        ({"teacher": "rf", "teacher_param": {"max_depth": 3, "rf.max_depth": 3}},
         "teacher_param", ["rf.max_depth twice"]),
        ({"teacher": "rf", "teacher_grid": ["rf.max_depth=1", "max_depth=2"]}, "teacher_grid",
         ["rf.max_depth twice"]),
    ],
)  # fmt: skip
def test_a_key_given_twice_is_refused_naming_it(settings, param, words):
    err = refused(**settings)
    assert err.param == param
    for word in words:
        assert word in shown(err), shown(err)


def test_two_spellings_of_one_mode_are_one_model_named_as_first_given():
    assert kdcli.fit_settings(modes="raw,raw:prob").modes == ("raw",)
    assert kdcli.fit_settings(modes="raw:prob,raw,raw").modes == ("raw:prob",)
    assert kdcli.fit_settings(modes="vanilla:logit,vanilla:LOGIT,raw").modes == (
        "vanilla:logit",
        "raw",
    )
    # on the logit scale, plain vanilla is vanilla:logit; raw:prob is then a model of its own
    spec = kdcli.fit_settings(scale="logit", modes="vanilla:logit,vanilla,raw:prob,raw")
    assert spec.modes == ("vanilla:logit", "raw:prob", "raw")


def test_a_value_given_twice_is_one_value_in_every_list():
    spec = kdcli.fit_settings(
        teacher="rf,RF",
        student="tree,tree",
        sizes="8,+8,full,FULL",
        c_grid="0.1,1e-1",
        modes="mixed",
        alpha_grid="0.5,0.50",
        folds_outer="0-1,1",
    )
    assert [t.name for t in spec.teachers] == ["rf"] and spec.students == ("tree",)
    assert spec.sizes == {"tree": (8, "full")}
    assert spec.c_grid == (0.1,) and spec.alpha_grid == (0.5,) and spec.outer_folds == (0, 1)
    grid = kdcli.fit_settings(teacher="rf", teacher_grid={"rf.max_depth": [1, 1.0, None, 1]})
    assert [t.label for t in grid.teachers] == ["rf[max_depth=1]", "rf[max_depth=None]"]


# --- a teacher grid is counted before it is built ------------------------------------------


def test_a_grid_of_ten_million_teachers_is_refused_by_its_count():
    """7 parameters x 10 values: the count is a product of 7 lengths, never a list of 10**7
    variants (that took minutes and gigabytes); a bad value among them changes nothing."""
    names = ["num_leaves", "max_depth", "min_child_samples", "n_estimators", "max_bin",
             "subsample_for_bin", "min_data_in_bin"]  # fmt: skip
    grid = [f"{n}={','.join(str(v) for v in range(2, 12))}" for n in names]
    err = refused(teacher="lightgbm", teacher_grid=grid)
    text = shown(err)
    assert err.param == "teacher_grid"
    assert "--teacher-grid makes 10,000,000 teachers" in text, text
    assert f"past the limit of {MAX_TEACHER_VARIANTS:,}" in text and "fewer values" in text
    err = refused(teacher="lightgbm", teacher_grid=[*grid[:-1], "min_data_in_bin=2.5,3"])
    assert "2,000,000 teachers" in shown(err)


def test_the_limit_itself_is_a_grid_kd_runs():
    assert MAX_TEACHER_VARIANTS == 1_000
    grid = ["rf.max_depth=" + ",".join(map(str, range(1, 11))),
            "rf.min_samples_leaf=" + ",".join(map(str, range(1, 101)))]  # fmt: skip
    assert len(kdcli.fit_settings(teacher="rf", teacher_grid=grid).teachers) == 1_000
    grid[1] += ",101"
    assert "1,010 teachers" in shown(refused(teacher="rf", teacher_grid=grid))
    # summed over teachers: two libraries of 600 variants each
    both = ["max_depth=" + ",".join(map(str, range(1, 601)))]
    assert "1,200 teachers" in shown(refused(teacher="lightgbm,xgboost", teacher_grid=both))


# --- a bad value names the option it came from, with a value of its type -------------------


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"teacher": "rf", "teacher_grid": "rf.max_depth=1,nan"},
         ["--teacher-grid rf.max_depth=nan", "--teacher-grid rf.max_depth=8,16,32"]),
        ({"teacher": "lightgbm", "teacher_grid": "learning_rate=0.1,inf"},
         ["--teacher-grid learning_rate=inf", "--teacher-grid learning_rate=0.1,0.2,0.4"]),
        ({"teacher": "xgboost", "teacher_grid": "xgboost.max_depth=2,-inf"},
         ["--teacher-grid xgboost.max_depth=8,16,32"]),
        ({"teacher": "rf", "teacher_grid": "rf.criterion=gini,'nan'"},
         ["--teacher-grid rf.criterion='gini'"]),
    ],
)  # fmt: skip
def test_a_bad_grid_value_names_the_grid_and_a_value_of_its_type(settings, words):
    err = refused(**settings)
    assert err.param == "teacher_grid" and "--teacher-param" not in shown(err), shown(err)
    for word in words:
        assert word in shown(err), shown(err)


def test_a_bad_teacher_param_suggests_a_value_of_its_type():
    err = refused(teacher_param="n_estimators=inf")
    assert "write e.g. --teacher-param n_estimators=8" in shown(err)  # not 0.1: a whole number
    err = refused(teacher_param="learning_rate=nan")
    assert "write e.g. --teacher-param learning_rate=0.1" in shown(err)


# --- the user's options beat the preset's, key by key across the two teacher options -------


@pytest.mark.parametrize("key", ["rf.max_depth", "max_depth"])
def test_a_teacher_param_beats_the_presets_grid_for_its_key(key):
    spec = kdcli.fit_settings(preset="dao2021-teacher", teacher_param=f"{key}=3")
    assert [t.label for t in spec.teachers] == ["rf"] and spec.teacher.params == {"max_depth": 3}
    assert spec.preset["set"]["teacher_grid"] == []
    assert spec.preset["overridden"] == ["teacher_grid", "teacher_param"]


def test_a_grid_beats_the_presets_parameter_for_its_key():
    spec = kdcli.fit_settings(preset="dao2021", teacher_grid="rf.n_estimators=10,20")
    assert [t.params for t in spec.teachers] == [{"n_estimators": 10}, {"n_estimators": 20}]
    assert spec.preset["set"]["teacher_param"] == []
    # a parameter the grid does not sweep stays the preset's
    spec = kdcli.fit_settings(preset="dao2021", teacher_grid="rf.max_depth=2,4")
    assert {t.params["n_estimators"] for t in spec.teachers} == {500}
    # both options the user's own: a parameter set and swept is still refused
    err = refused(preset="dao2021", teacher_param="rf.max_depth=3", teacher_grid="rf.max_depth=2")
    assert err.param == "teacher_grid" and "also sets" in err.message


def test_a_bad_value_a_preset_sets_names_the_preset_not_an_option(monkeypatch):
    broken = presets.Preset(
        name="broken",
        source="a test",
        settings={"teacher": "rf", "teacher_grid": ["rf.max_depth=0,2"], "select_folds": 1},
    )
    monkeypatch.setitem(presets.PRESETS, "broken", broken)
    err = refused(preset="broken")
    text = shown(err)
    assert err.param == "preset" and text.startswith("--preset broken: its teacher_grid"), text
    assert "give --teacher-grid yourself" in text
    err = refused(preset="broken", teacher_grid="rf.max_depth=1,2")
    assert err.param == "preset" and "its select_folds must be at least 2" in shown(err)
    # the user's own bad value names the user's option, as ever
    err = refused(preset="broken", teacher_grid="rf.max_depth=1", select_folds=0)
    assert err.param == "select_folds"
