"""`kd fit` end to end: real fits on small data, the files it writes, the tables it prints."""

import json

import numpy as np
import pandas as pd
import pytest

from conftest import csv_with_an_empty_column, shared_path

FAST = ["--teacher-param", "n_estimators=10", "--threads", "1"]
COLUMNS = [
    "dataset",
    "repeat",
    "fold",
    "seed",
    "teacher",
    "student",
    "size",
    "mode",
    "metric",
    "value",
]


def test_breast_cancer_writes_long_results_and_run_record(kd, tmp_path):
    out = tmp_path / "run"
    code, stdout, stderr = kd(
        "fit",
        "--dataset",
        "sklearn:breast_cancer",
        "--sizes",
        "4,full",
        "--repeats",
        "2",
        "--out",
        out,
        *FAST,
    )
    assert code == 0, stderr
    results = pd.read_csv(out / "results.csv")
    assert list(results.columns[:10]) == COLUMNS
    students = results[results.student == "tree"]
    assert set(students["mode"]) == {"raw", "vanilla", "crossfit", "corrected"}
    assert set(students["size"].astype(str)) == {"4", "full"}
    assert set(results.metric) >= {
        "error",
        "log_loss",
        "brier",
        "auc",
        "c",
        "n_trees",
        "n_leaves",
        "model_bytes",
    }
    leaves = results[(results.metric == "n_leaves") & (results["size"].astype(str) == "4")]
    assert (leaves["value"] <= 4).all() and len(leaves) == 2 * 4  # 2 repeats x 4 modes
    assert sorted(results.seed.unique()) == [0, 1]
    errors = results[results.metric == "error"]["value"]
    assert errors.between(0, 0.5).all()
    # summary = mean and standard error over the two repeats
    summary = pd.read_csv(out / "summary.csv")
    one = results[
        (results.student == "tree")
        & (results["size"].astype(str) == "full")
        & (results["mode"] == "crossfit")
        & (results.metric == "error")
    ]["value"]
    row = summary[
        (summary.student == "tree")
        & (summary["size"].astype(str) == "full")
        & (summary["mode"] == "crossfit")
        & (summary.metric == "error")
    ].iloc[0]
    assert row["mean"] == pytest.approx(one.mean())
    assert row["se"] == pytest.approx(one.std(ddof=1) / np.sqrt(2))
    record = json.loads((out / "run.json").read_text())
    assert record["command"].startswith("kd fit --dataset sklearn:breast_cancer")
    fit = record["settings"]["fit"]
    assert fit["folds"] == 5 and fit["teachers"][0]["name"] == "lightgbm"
    assert fit["teachers"][0]["params"] == {"n_estimators": 10}
    assert {"numpy", "lightgbm", "xgboost", "scikit-learn"} <= set(record["versions"])
    assert record["timings"]["total_seconds"] > 0 and len(record["timings"]["repeats"]) == 2
    assert record["dataset"]["rows"] == 569
    # the table a person reads: sizes as rows, modes as columns, the best marked
    for word in ("raw", "vanilla", "crossfit", "corrected", "★", "full", "teacher lightgbm"):
        assert word in stdout


def test_same_seed_same_numbers(kd, tmp_path):
    args = ["fit", "--dataset", "sklearn:wine", "--sizes", "8", *FAST]
    assert kd(*args, "--out", tmp_path / "a", "--quiet")[0] == 0
    assert kd(*args, "--out", tmp_path / "b", "--quiet")[0] == 0
    a = pd.read_csv(tmp_path / "a" / "results.csv")
    b = pd.read_csv(tmp_path / "b" / "results.csv")
    pd.testing.assert_frame_equal(a, b)
    c_args = ["fit", "--dataset", "sklearn:wine", "--sizes", "8", "--seed", "7", *FAST]
    assert kd(*c_args, "--out", tmp_path / "c", "--quiet")[0] == 0
    c = pd.read_csv(tmp_path / "c" / "results.csv")
    assert not np.allclose(a["value"], c["value"])


def test_multiclass_synthetic_reports_excess_risk_as_json(kd):
    code, stdout, stderr = kd(
        "fit",
        "--dataset",
        "synthetic:multiclass?n=600&k=3",
        "--student",
        "tree,linear,gbdt,rf",
        "--sizes",
        "4",
        "--json",
        "--c-grid",
        "0.001,1",
        *FAST,
    )
    assert code == 0, stderr
    record = json.loads(stdout)
    summary = pd.DataFrame(record["summary"])
    assert set(summary.student) == {"teacher", "tree", "linear", "gbdt", "rf"}
    for metric in ("p0_mse", "p0_kl", "excess_error"):
        values = summary[summary.metric == metric]["mean"]
        assert len(values) == 1 + 4 * 4 and (values >= 0).all()
    chosen = summary[summary.metric == "c"]["mean"]
    assert set(chosen) <= {0.001, 1.0}
    assert record["dataset"]["classes"] == 3 and record["dataset"]["p0_known"]


@pytest.mark.parametrize("teacher", ["xgboost", "rf"])
def test_other_teachers_and_logit_scale(kd, teacher, tmp_path):
    code, _, stderr = kd(
        "fit",
        "--dataset",
        "sklearn:iris",
        "--teacher",
        teacher,
        "--teacher-param",
        "n_estimators=30",
        "--threads",
        "1",
        "--scale",
        "logit",
        "--sizes",
        "4",
        "--out",
        tmp_path,
        "--quiet",
    )
    assert code == 0, stderr
    results = pd.read_csv(tmp_path / "results.csv")
    assert (results.teacher == teacher).all()
    teacher_error = results[(results.student == "teacher") & (results.metric == "error")]
    assert teacher_error["value"].iloc[0] < 0.2


def test_categorical_and_missing_features_from_a_file(kd, tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    colour = rng.choice(["red", "green", "blue"], size=n)
    x = rng.normal(size=n)
    label = np.where((colour == "red") ^ (x > 0), "yes", "no")
    x[rng.random(n) < 0.1] = np.nan
    colour = colour.astype(object)
    colour[rng.random(n) < 0.1] = None
    path = tmp_path / "mixed.csv"
    pd.DataFrame({"colour": colour, "x": x, "label": label}).to_csv(path, index=False)
    for student in ("tree", "linear", "gbdt", "rf"):
        code, _, stderr = kd(
            "fit",
            "--dataset",
            f"file:{path}",
            "--target",
            "label",
            "--student",
            student,
            "--sizes",
            "4",
            "--quiet",
            *FAST,
        )
        assert code == 0, f"{student}: {stderr}"


def test_a_shared_dataset_file(kd, tmp_path):
    path = shared_path("datasets", "diabetes.tsv.gz")
    code, _, stderr = kd(
        "fit", "--dataset", f"file:{path}", "--sizes", "16", "--out", tmp_path, *FAST
    )
    assert code == 0, stderr
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["dataset"]["rows"] == 768 and record["dataset"]["features"] == 8
    assert "diabetes" in pd.read_csv(tmp_path / "results.csv")["dataset"].iloc[0]


def test_help_lists_options_with_defaults(kd):
    code, stdout, _ = kd("fit", "--help")
    assert code == 0
    for option in (
        "--dataset",
        "--teacher",
        "--teacher-param",
        "--student",
        "--sizes",
        "--modes",
        "--folds",
        "--test-size",
        "--repeats",
        "--scale",
        "--out",
        "--json",
        "--quiet",
    ):
        assert option in stdout
    assert "default: 5" in stdout.replace("[", "").replace("]", "")
    assert kd("--help")[0] == 0


def test_a_dropped_empty_column_is_told_not_hidden(kd, tmp_path):
    data = csv_with_an_empty_column(tmp_path / "d.csv", "blank")
    out = tmp_path / "out"
    code, _, err = kd(
        "fit", "--dataset", f"file:{data}", "--sizes", "4",
        "--teacher-param", "n_estimators=10", "--out", out, "--quiet",
    )  # fmt: skip
    assert code == 0, err
    notices = [line for line in err.splitlines() if line.startswith("kd: notice: ")]
    assert len(notices) == 1 and "blank" in notices[0]
    record = json.loads((out / "run.json").read_text())
    assert "blank" in record["dataset"]["notices"][0]


@pytest.mark.slow
def test_sigterm_stops_kd_fit_in_one_line_with_exit_143_and_writes_nothing(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from support.scripts import wait_until_it_catches

    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kdcli", "fit", "--dataset", "synthetic:binary?n=200000",
         "--threads", "1", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_until_it_catches(proc.pid, signal.SIGTERM)  # kd's handler is set: kd has started
    time.sleep(2)  # loading, or fitting
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert err.strip().splitlines()[-1].startswith("kd: terminated (SIGTERM)")
    assert "Traceback" not in err and not out.exists()
