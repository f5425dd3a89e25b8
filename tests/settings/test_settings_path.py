"""Regression tests of two bugs in how settings travelled (issue 10), and of the spec itself."""

import json
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

import kdcli
from kdcli.errors import SettingError
from kdcli.settings import FitSettings, StudySettings

from support.paths import ROOT as PROJECT


@pytest.fixture
def small_suite(tmp_path):
    path = tmp_path / "suite.csv"
    path.write_text("name,spec\niris,sklearn:iris\nwine,sklearn:wine\n")
    return path


def test_a_parameter_scoped_to_the_second_teacher_reaches_it(kd, small_suite, tmp_path):
    """Bug 1: the README's own example exited with 'is for xgboost, which is not a --teacher'."""
    out = tmp_path / "out"
    code, _, err = kd(
        "benchmark", "--suite", small_suite, "--out", out, "--cache-dir", tmp_path / "cache",
        "--teacher", "lightgbm,xgboost", "--teacher-param", "n_estimators=10",
        "--teacher-param", "xgboost.max_depth=4", "--sizes", "4", "--threads", "1", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    teachers = json.loads((out / "run.json").read_text())["settings"]["fit"]["teachers"]
    assert teachers == [
        {"name": "lightgbm", "params": {"n_estimators": 10}},
        {"name": "xgboost", "params": {"n_estimators": 10, "max_depth": 4}},
    ]
    results = pd.read_parquet(out / "results.parquet")
    assert set(results.teacher) == {"lightgbm", "xgboost"}
    # the depth reached XGBoost: a depth-4 tree has at most 16 leaves, so 10 rounds x 3 classes
    leaves = results[(results.teacher == "xgboost") & (results.metric == "n_leaves")]
    assert 0 < leaves.value.max() <= 10 * 3 * 16


@pytest.mark.slow
def test_xgboost_with_local_workers_finishes_after_openmp_ran_in_the_parent(small_suite, tmp_path):
    """Bug 2: a teacher parameter made kd fit XGBoost in the parent, then fork workers: OpenMP
    after fork hung forever. Here the parent even fits XGBoost itself first, as a notebook
    might, and the study must still finish on two local workers."""
    script = textwrap.dedent(
        f"""
        import kdcli
        kdcli.fit("sklearn:iris", teacher="xgboost", teacher_param=["n_estimators=10"],
                  sizes=[4], threads=2)
        spec = kdcli.study_settings({str(small_suite)!r}, teacher="xgboost",
                                teacher_param=["n_estimators=10"], sizes=[4])
        report = kdcli.run_study(spec, {str(tmp_path / "out")!r}, jobs=2, threads=2,
                                 openml=kdcli.OpenMLConfig(cache_dir={str(tmp_path / "c")!r}))
        print(report.done, len(report.failures))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "0"]


def test_the_spec_round_trips_through_json_unchanged():
    spec = kdcli.study_settings(
        "demo", datasets="iris,wine", teacher="lightgbm,rf", teacher_param={"rf.max_depth": None},
        student="tree,rf", sizes="tree=8,full;rf=1,10", modes="raw,vanilla:logit,corrected",
        c_grid=[0.1, 10], folds_outer=None, seed=3,
    )  # fmt: skip
    again = StudySettings.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert again.fingerprint() == spec.fingerprint()
    with pytest.raises(AttributeError):
        spec.fit.seed = 4  # frozen


def test_text_and_python_values_give_the_same_spec():
    text = kdcli.fit_settings(student="tree,gbdt", sizes="8,64", modes="raw, crossfit",
                          teacher_param=["num_leaves=15"], c_grid="10,0.1")  # fmt: skip
    python = kdcli.fit_settings(student=["tree", "gbdt"], sizes=[8, 64], modes=["raw", "crossfit"],
                            teacher_param={"num_leaves": 15}, c_grid=[0.1, 10])  # fmt: skip
    assert text == python
    assert text.teacher.full_params["num_leaves"] == 15
    assert text.teacher.full_params["n_estimators"] == 400  # the default kept


@pytest.mark.parametrize(
    ("settings", "param"),
    [
        ({"sizes": "8,x"}, "sizes"),
        ({"teacher_param": ["no_such_thing=1"]}, "teacher_param"),
        ({"teacher_param": ["xgboost.max_depth=3"]}, "teacher_param"),
        ({"folds": 1}, "folds"),
        ({"eps": 0.7}, "eps"),
        ({"seed": 2**32}, "seed"),
        ({"preset": "nope"}, "preset"),
        ({"modes": "raw,magic"}, "modes"),
    ],
)
def test_errors_from_python_name_the_parameter(settings, param):
    with pytest.raises(SettingError) as err:
        kdcli.fit_settings(**settings)
    assert err.value.param == param
    assert f"--{param.replace('_', '-')}" not in str(err.value)  # Python names, not options


def test_the_command_line_names_the_option(kd):
    code, _, err = kd("fit", "--sizes", "8,x")
    assert code == 2 and "--sizes '8,x': 'x' is not a positive integer" in err
    code, _, err = kd("benchmark", "--suite", "demo", "--out", "x", "--timeout-per-unit", "nan")
    assert code == 2 and "--timeout-per-unit must be a positive number" in err


def test_a_bad_teacher_value_is_one_line_naming_it_without_a_trial_fit(kd, tmp_path):
    """Names are checked against the library's signature; a bad value surfaces at the first fit
    as one line that names the parameter (no fit happens while the spec is made)."""
    code, out, err = kd("fit", "--dataset", "sklearn:iris", "--teacher-param", "num_leaves=-5",
                        "--sizes", "4", "--out", tmp_path / "out")  # fmt: skip
    assert code == 2 and out == ""
    assert err.startswith(
        "kd: error: teacher lightgbm does not accept --teacher-param num_leaves=-5"
    )
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_fit_spec_defaults_are_the_cli_defaults(kd):
    spec = kdcli.fit_settings()
    assert isinstance(spec, FitSettings)
    code, out, _ = kd("fit", "--help")
    assert code == 0
    for name in ("folds", "test_size", "repeats"):
        assert f"[default: {getattr(spec, name)}]" in " ".join(out.split())


def test_one_teacher_param_string_is_one_parameter():
    assert kdcli.fit_settings(teacher_param="num_leaves=15").teacher.params == {"num_leaves": 15}


def test_a_lone_number_is_one_size_and_unknown_settings_are_refused():
    assert kdcli.fit_settings(sizes=8).sizes == {"tree": (8,)}
    with pytest.raises(TypeError):
        kdcli.fit_settings(metric="auc")  # a table's metric is not a setting of the experiment
