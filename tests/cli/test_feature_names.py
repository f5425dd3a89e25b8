"""What the models are given, end to end: a file whose header LightGBM and XGBoost refuse fits,
with --teacher-param given and the user's names kept; a forest too small for --crossfit oob is
refused in one line before any work."""

import json

import numpy as np
import pandas as pd
import pytest

from conftest import one_line_error

# the battery's names (issue 20); to_csv quotes those with commas and quotes
HEADER = ["a[1]", "b,c", "d:e", "{f}", 'g"h', "x<y", "]", "é→ü", "a b", "a_b", "f0"]


def odd_csv(path, rows: int = 80):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(rows, len(HEADER))), columns=HEADER)
    frame["{f}"] = np.array(["p", "q", "r"])[rng.integers(0, 3, rows)]  # read as a categorical
    frame["target"] = (frame["a[1]"] + (frame["{f}"] == "p") > 0.3).astype(int)
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("teacher", ["lightgbm", "xgboost"])
def test_a_header_the_libraries_refuse_fits_with_teacher_param(kd, tmp_path, teacher):
    data, out = odd_csv(tmp_path / "odd.csv"), tmp_path / "run"
    code, _out, stderr = kd(
        "fit", "--dataset", f"file:{data}", "--teacher", teacher, "--teacher-param",
        "n_estimators=5", "--student", "tree,gbdt", "--sizes", "tree=4;gbdt=2", "--folds", "3",
        "--threads", "1", "--quiet", "--out", out,
    )  # fmt: skip
    assert code == 0, stderr
    assert "teacher-param" not in stderr and "JSON" not in stderr
    results = pd.read_csv(out / "results.csv")
    assert set(results.student) == {"teacher", "tree", "gbdt"}
    assert results[results.metric == "error"]["value"].between(0, 0.6).all()
    record = json.loads((out / "run.json").read_text())
    assert record["dataset"]["features"] == len(HEADER)


@pytest.mark.parametrize("trees", [1, 3, 10])
def test_too_few_trees_for_oob_is_one_line_naming_the_trees_that_work(kd, tmp_path, trees):
    out = tmp_path / "run"
    result = kd(
        "fit", "--dataset", "synthetic:binary?n=40", "--teacher", "rf", "--crossfit", "oob",
        "--teacher-param", f"n_estimators={trees}", "--sizes", "4", "--out", out,
    )  # fmt: skip
    line = one_line_error(*result)
    assert line.startswith(f"kd: error: --crossfit oob: {trees} tree(s) are too few for 30 ")
    assert line.endswith("use n_estimators=23 or more for the rf teacher, or --crossfit folds")
    assert not out.exists()


def test_enough_trees_for_oob_fit(kd, tmp_path):
    code, _out, stderr = kd(
        "fit", "--dataset", "synthetic:binary?n=40", "--teacher", "rf", "--crossfit", "oob",
        "--teacher-param", "n_estimators=30", "--sizes", "4", "--threads", "1", "--quiet",
    )  # fmt: skip
    assert code == 0, stderr
