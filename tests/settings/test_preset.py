"""`--preset dao2021`: the paper's protocol, visible in the run record, beaten by explicit flags;
mode variants with their own scale; the nested random-forest students and their fit counts."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestRegressor

from kdcli.data.dataset import Dataset
from kdcli.experiment.split_fit import run_split
from kdcli.experiment.splits import make_splits
from kdcli.science.nested import prefix_model, prefix_predictions
from kdcli.settings import FitSettings, fit_settings

SMALL = ["--dataset", "sklearn:breast_cancer", "--threads", "1"]


def test_preset_sets_the_paper_protocol_and_flags_override_it(kd, tmp_path):
    out = tmp_path / "run"
    code, stdout, stderr = kd(
        "fit",
        *SMALL,
        "--preset",
        "dao2021",
        "--sizes",
        "1,3",
        "--repeats",
        "1",
        "--folds",
        "3",
        "--select-folds",
        "2",
        "--test-size",
        "0.25",  # the built-in default, given explicitly: it beats the preset's 0.3
        "--out",
        out,
    )
    assert code == 0, stderr
    record = json.loads((out / "run.json").read_text())
    settings = record["settings"]["fit"]
    assert settings["teachers"] == [{"name": "rf", "params": {"n_estimators": 500}}]
    assert settings["students"] == ["rf"]
    assert settings["modes"] == ["raw", "vanilla:logit", "crossfit", "corrected"]
    assert settings["select_metric"] == "auc" and settings["eps"] == 0.002
    assert settings["c_grid"] == [10.0**k for k in range(-5, 4)]
    assert (settings["folds"], settings["select_folds"], settings["repeats"]) == (3, 2, 1)
    assert settings["test_size"] == 0.25 and settings["sizes"] == {"rf": [1, 3]}
    preset = settings["preset"]
    assert preset["name"] == "dao2021" and "ICLR 2021" in preset["source"]
    assert preset["overridden"] == ["folds", "repeats", "select_folds", "sizes", "test_size"]
    assert "test_size" not in preset["set"] and preset["set"]["student"] == "rf"
    assert "KD student (logit)" in stdout and "Enhanced KD student" in stdout  # paper's names
    assert "held-out auc" in stdout
    results = pd.read_csv(out / "results.csv", dtype={"size": str})
    assert set(results["mode"]) == {"teacher", "raw", "vanilla:logit", "crossfit", "corrected"}
    c = results[results.metric == "c"]
    assert set(c["size"]) == {"1", "3"}  # c chosen per student size

    code, report, _ = kd("report", out, "--no-plots", "--format", "md")
    assert code == 0 and "metric: auc" in report  # the preset's metric is the report's default
    assert "| size | Student without KD | KD student (logit) | Cross-fit KD student |" in report
    assert "no test across datasets: the results have 1 dataset (N = 1)" in report


def test_unknown_preset_and_bad_modes_are_one_line_exit_2(kd):
    code, _, err = kd("fit", *SMALL, "--preset", "dao2020")
    assert (
        code == 2
        and err.strip()
        == "kd: error: unknown --preset 'dao2020'; use one of dao2021, dao2021-teacher"
    )
    code, _, err = kd("fit", *SMALL, "--modes", "raw,vanilla:logits")
    assert code == 2 and "unknown modes 'vanilla:logits'" in err and "vanilla:logit" in err
    code, _, err = kd("fit", *SMALL, "--select-folds", "1")
    assert code == 2 and "--select-folds must be at least 2" in err


def test_benchmark_records_the_preset_for_every_unit(kd, tmp_path):
    out = tmp_path / "study"
    code, _, stderr = kd(
        "benchmark",
        "--suite",
        "demo",
        "--datasets",
        "breast_cancer",
        "--preset",
        "dao2021",
        "--teacher-param",
        "n_estimators=30",
        "--sizes",
        "2",
        "--repeats",
        "1",
        "--folds",
        "3",
        "--threads",
        "1",
        "--out",
        out,
        "--quiet",
    )
    assert code == 0, stderr
    fit = json.loads((out / "run.json").read_text())["settings"]["fit"]
    assert fit["preset"]["name"] == "dao2021" and fit["select_folds"] == 5
    assert fit["preset"]["overridden"] == ["folds", "repeats", "sizes", "teacher_param"]
    results = pd.read_csv(out / "results.csv")
    assert set(results["mode"]) >= {"vanilla:logit", "corrected"}


def test_a_mode_variant_has_its_own_scale(kd, tmp_path):
    out = tmp_path / "run"
    code, _, stderr = kd(
        "fit",
        *SMALL,
        "--teacher-param",
        "n_estimators=40",
        "--sizes",
        "8",
        "--modes",
        "vanilla,vanilla:logit,vanilla:prob",
        "--out",
        out,
    )
    assert code == 0, stderr
    r = pd.read_csv(out / "results.csv")
    # vanilla:prob is vanilla on this prob run: one model, fit once, named as first given
    assert set(r["mode"]) == {"teacher", "vanilla", "vanilla:logit"}
    loss = r[r.metric == "log_loss"].set_index("mode")["value"]
    assert loss["vanilla:logit"] != loss["vanilla"]  # a different regression target


def test_nested_forest_prefix_is_the_smaller_forest_exactly():
    X, y = make_classification(400, 6, random_state=0)
    big = RandomForestRegressor(12, random_state=7, n_jobs=2).fit(X, y.astype(float))
    small = RandomForestRegressor(5, random_state=7).fit(X, y.astype(float))
    np.testing.assert_array_equal(prefix_model(big, 5).predict(X), small.predict(X))
    five, twelve = prefix_predictions(big, X, [5, 12])
    np.testing.assert_array_equal(five, small.predict(X))
    np.testing.assert_array_equal(twelve, big.predict(X))
    with pytest.raises(ValueError):
        prefix_model(big, 13)


def _synthetic() -> Dataset:
    X, y = make_classification(500, 6, n_informative=4, flip_y=0.1, random_state=1)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    return Dataset(name="synth", X=frame, y=y, class_names=["a", "b"])


def _settings(**kw) -> FitSettings:
    base = dict(
        teacher="rf",
        teacher_param={"n_estimators": 30},
        student="rf",
        modes=["raw", "vanilla:logit", "crossfit", "corrected"],
        folds=4,
        select_folds=3,
        c_grid=(0.01, 1.0),
        select_metric="auc",
        test_size=0.3,
    )
    base.update(kw)
    return fit_settings(**base)


def test_nested_students_equal_separate_fits_with_far_fewer_fits():
    ds = _synthetic()
    nested = _settings(sizes={"rf": [1, 3, 6]})
    split = make_splits(ds, nested)[0]
    out = run_split(ds, split, nested, nested.teacher)
    records, timings = out.records, out.timings
    # teacher: 1 + 4 folds; students: raw, vanilla, crossfit one forest each; corrected:
    # 2 c values x 3 selection folds, then one forest per distinct chosen c (at most 2).
    assert 5 + 3 + 6 + 1 <= timings["fits"] <= 5 + 3 + 6 + 2
    got = pd.DataFrame(records)
    for size in (1, 6):
        spec = _settings(sizes={"rf": [size]})
        alone = run_split(ds, split, spec, spec.teacher).records
        want = pd.DataFrame(alone)
        for frame in (got, want):
            frame["key"] = frame["mode"] + "/" + frame["metric"]
        mine = got[got["size"] == str(size)].set_index("key")["value"]
        theirs = want[want["size"] == str(size)].set_index("key")["value"]
        assert len(theirs) > 20
        pd.testing.assert_series_equal(mine.sort_index(), theirs.sort_index())


def test_select_folds_are_the_folds_that_choose_c():
    ds = _synthetic()
    settings = _settings(student="tree", sizes={"tree": [8]}, modes=["corrected"])
    split = make_splits(ds, settings)[0]
    timings = run_split(ds, split, settings, settings.teacher).timings
    assert timings["fits"] == 5 + 2 * 3 + 1  # teachers, c grid x selection folds, final
    default = _settings(student="tree", sizes={"tree": [8]}, modes=["corrected"], select_folds=None)
    timings = run_split(ds, split, default, default.teacher).timings
    assert timings["fits"] == 5 + 2 * 4 + 1  # default: the cross-fitting folds


def test_another_teacher_drops_the_presets_forest_parameters(kd):
    code, stdout, stderr = kd(
        "fit",
        *SMALL,
        "--preset",
        "dao2021",
        "--teacher",
        "lightgbm",
        "--teacher-param",
        "n_estimators=20",
        "--sizes",
        "1",
        "--repeats",
        "1",
        "--folds",
        "3",
        "--select-folds",
        "2",
        "--json",
    )
    assert code == 0, stderr
    settings = json.loads(stdout)["settings"]["fit"]
    assert settings["teachers"] == [{"name": "lightgbm", "params": {"n_estimators": 20}}]
    assert settings["students"] == ["rf"] and settings["select_metric"] == "auc"
