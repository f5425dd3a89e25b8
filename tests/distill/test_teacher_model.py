"""--teacher-model: a user's own saved LightGBM or XGBoost model, refitted on kd's rows (kd fit,
kd benchmark, kd distill), or used as given as kd distill's full-data teacher."""

import json

import lightgbm
import numpy as np
import pytest
import xgboost

import kdcli
from kdcli.distilled.procedure import codes_of
from kdcli.science.teacher_model import read_teacher_model

from conftest import one_line_error, run_kd


@pytest.fixture(scope="module")
def data():
    return kdcli.load_dataset("sklearn:breast_cancer")


@pytest.fixture(scope="module")
def lgb_model(data, tmp_path_factory):
    """Saved by LightGBM itself, trained on the data's own frame (its column names)."""
    model = lightgbm.LGBMClassifier(
        n_estimators=37, num_leaves=7, learning_rate=0.05, min_child_samples=12, verbose=-1
    ).fit(data.X, data.y)
    path = tmp_path_factory.mktemp("models") / "teacher.txt"
    model.booster_.save_model(path)
    return path, model


def test_the_parameters_and_rounds_are_read_from_the_files(lgb_model, data, tmp_path):
    path, _ = lgb_model
    tm = read_teacher_model(str(path))
    assert tm.library == "lightgbm" and tm.rounds == 37 and tm.n_features == 30
    assert tm.params["num_leaves"] == 7 and tm.params["learning_rate"] == 0.05
    assert tm.params["min_data_in_leaf"] == 12 and tm.params["early_stopping_rounds"] == 0
    xgb = xgboost.XGBClassifier(n_estimators=11, max_depth=3).fit(data.X.to_numpy(), data.y)
    for suffix in ("json", "ubj"):
        xgb.save_model(tmp_path / f"t.{suffix}")
        tx = read_teacher_model(str(tmp_path / f"t.{suffix}"))
        assert (tx.library, tx.rounds, tx.params["max_depth"]) == ("xgboost", 11, 3)
        assert "learning_rate" in tx.unread


def test_kd_fit_refits_the_model_on_its_own_rows_and_says_so(lgb_model, tmp_path, capsys):
    path, _ = lgb_model
    out = tmp_path / "fit"
    args = ["fit", "--teacher-model", path, "--sizes", "8", "--modes", "raw,crossfit", "--out", out]
    code, _out, err = run_kd(args, capsys)
    assert code == 0, err
    assert "37 rounds; refitted on kd's own training rows" in err
    teacher = json.loads((out / "run.json").read_text())["settings"]["fit"]["teachers"][0]
    assert teacher["name"] == "lightgbm" and teacher["params"]["n_estimators"] == 37
    assert teacher["params"]["num_leaves"] == 7 and teacher["model"]["sha256"]
    code, _out, err = run_kd(
        ["benchmark", "--suite", "demo", "--teacher-model", path, "--out", tmp_path / "b"], capsys
    )
    assert "name one with --datasets" in one_line_error(code, _out, err)
    study = tmp_path / "study"
    args = ["benchmark", "--suite", "demo", "--datasets", "breast_cancer", "--teacher-model", path]
    code, _out, err = run_kd([*args, "--sizes", "8", "--out", study, "--quiet"], capsys)
    assert code == 0, err
    fit = json.loads((study / "run.json").read_text())["settings"]["fit"]
    assert fit["teachers"][0]["params"]["num_leaves"] == 7


def test_a_model_of_other_columns_is_refused_in_one_line(data, tmp_path, capsys):
    five = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1).fit(data.X.iloc[:, :5], data.y)
    path = tmp_path / "five.txt"
    five.booster_.save_model(path)
    line = one_line_error(
        *run_kd(["fit", "--teacher-model", path, "--out", tmp_path / "o"], capsys)
    )
    assert "reads 5 features; the data has 30" in line
    assert not (tmp_path / "o").exists()
    line = one_line_error(*run_kd(["fit", "--teacher-model", path, "--teacher", "xgboost"], capsys))
    assert "is a lightgbm model" in line
    (tmp_path / "junk.txt").write_text("not a model")
    assert "--teacher-model" in one_line_error(
        *run_kd(["fit", "--teacher-model", tmp_path / "junk.txt"], capsys)
    )
    line = one_line_error(*run_kd(["distill", "--teacher-as-is", "--out", tmp_path / "d"], capsys))
    assert "--teacher-as-is" in line


def vanilla_full_tree(data, path, as_is: bool):
    """A full tree on vanilla targets reproduces them on its training rows: the full-data
    teacher's in-sample probabilities."""
    distilled = kdcli.distill(
        data, student="tree", size="full", mode="vanilla", estimate_folds=0,
        teacher_model=str(path), teacher_as_is=as_is,
    )  # fmt: skip
    return distilled, distilled.student.predict(codes_of(data.X))


def test_a_refit_on_the_models_own_rows_is_the_model(lgb_model, data):
    """Every parameter that shapes the trees is read: refitted on the rows it was trained on
    (no sampling, so no seed matters), the teacher is the user's model to the bit."""
    path, model = lgb_model
    distilled, targets = vanilla_full_tree(data, path, as_is=False)
    assert distilled.card["teacher"]["full_data_teacher"] == "refit"
    assert np.abs(targets - model.predict_proba(data.X)[:, 1]).max() < 1e-9


def test_distill_uses_the_model_as_given_for_the_in_sample_targets(data, tmp_path):
    bagged = lightgbm.LGBMClassifier(
        n_estimators=20, subsample=0.7, subsample_freq=1, random_state=123, verbose=-1
    ).fit(data.X, data.y)
    path = tmp_path / "bagged.txt"
    bagged.booster_.save_model(path)
    given = bagged.predict_proba(data.X)[:, 1]
    distilled, targets = vanilla_full_tree(data, path, as_is=True)
    assert distilled.card["teacher"]["full_data_teacher"] == "the model as given"
    assert np.abs(targets - given).max() < 1e-9
    _refit, refit_targets = vanilla_full_tree(data, path, as_is=False)
    assert np.abs(refit_targets - given).max() > 1e-3  # kd's seed draws other bags
