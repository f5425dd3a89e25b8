"""`kd export`: hand-built runs exported to tables written out by hand, and one real kd fit."""

import io
import json
import math

import pandas as pd
import pytest

from kdcli import records
from kdcli.records import load_results
from kdcli.reporting.export import long_table, tabarena_table
from kdcli.study.plan import Unit

from conftest import one_line_error

NAN = math.nan
MODELS = [("teacher", "", "teacher"), ("tree", "8", "raw"), ("tree", "8", "corrected")]
# (error, auc) of each model above; a split's values move by 0.01 per split
SCORES = {"teacher": (0.10, 0.95), "raw": (0.30, 0.75), "corrected": (0.20, 0.80)}


def _rows(dataset, splits, n_train=90, n_test=10):
    rows = []
    for i, (repeat, fold) in enumerate(splits):
        keys = (dataset, repeat, fold, 100 + i, "lightgbm")
        for student, size, mode in MODELS:
            error, auc = SCORES[mode]
            model = (*keys, student, size, mode)
            rows += [(*model, "error", error + 0.01 * i), (*model, "auc", auc - 0.01 * i)]
            if mode == "teacher":
                rows += [(*model, "n_train", n_train), (*model, "n_test", n_test)]
    return rows


def write_results(path, rows):
    columns = ["dataset", "repeat", "fold", "seed", "teacher", "student", "size", "mode"]
    pd.DataFrame(rows, columns=[*columns, "metric", "value"]).to_csv(
        path / "results.csv", index=False
    )


def make_study(path, units=False):
    """A study's results: 'a' on 2 repeats x 2 official folds, 'b' on 2 repeats of kd's own
    split (fold 0); a binary and a three-class dataset. With ``units``, as a study's unit files
    with their timings (none for b's second repeat), else one results.csv; no latency."""
    path.mkdir()
    rows = _rows("a", [(0, 0), (0, 1), (1, 0), (1, 1)]) + _rows("b", [(0, 0), (1, 0)])
    if units:
        (path / "units").mkdir()
        frame = records.frame([dict(zip(records.RESULT_COLUMNS, r, strict=True)) for r in rows])
        for (dataset, repeat, fold), part in frame.groupby(["dataset", "repeat", "fold"]):
            name = Unit(dataset, "", repeat, fold, "lightgbm").unit_id
            part.to_parquet(path / "units" / f"{name}.parquet", index=False)
            if (dataset, repeat) != ("b", 1):
                timings = {"teacher": 1.0 + repeat, "students": 2.0, "teacher_cached": False}
                (path / "units" / f"{name}.timings.json").write_text(json.dumps(timings))
    else:
        write_results(path, rows)
    members = [
        {"name": "a", "spec": "sklearn:breast_cancer"},
        {"name": "b", "spec": "sklearn:iris"},
    ]
    settings = {"suite": None, "members": members, "fit": {}}
    (path / "run.json").write_text(json.dumps({"kind": "kd-benchmark", "settings": settings}))
    return path


def make_fit(path):
    """A kd fit: two repeats of one split, its timings (the second teacher from the cache) and
    the models' prediction times."""
    path.mkdir()
    write_results(path, _rows("sklearn:iris", [(0, 0), (1, 0)], n_train=100, n_test=50))
    latency = [
        ("sklearn:iris", repeat, 0, 100 + repeat, "lightgbm", student, size, mode, ms)
        for repeat in (0, 1)
        for (student, size, mode), ms in zip(MODELS, (1000.0, 20.0, 40.0), strict=True)
    ]
    columns = ["dataset", "repeat", "fold", "seed", "teacher", "student", "size", "mode"]
    pd.DataFrame(latency, columns=[*columns, "ms_per_10k"]).to_csv(
        path / "latency.csv", index=False
    )
    timings = [
        {"repeat": 0, "fold": 0, "teacher_cached": False, "teacher": 2.0, "students": 3.0},
        {"repeat": 1, "fold": 0, "teacher_cached": True, "teacher": 0.01, "students": 1.5},
    ]
    record = {
        "kind": "kd-fit",
        "dataset": {"name": "sklearn:iris", "spec": "sklearn:iris", "classes": 3},
        "settings": {"fit": {}},
        "timings": {"total_seconds": 6.5, "repeats": timings},
    }
    (path / "run.json").write_text(json.dumps(record))
    return path


def tabarena(rows):
    columns = ["method", "dataset", "fold", "metric", "metric_error", "problem_type"]
    frame = pd.DataFrame(rows, columns=[*columns, "time_train_s", "time_infer_s", "seed"])
    frame.insert(2, "task", frame["dataset"])
    return frame


def assert_same(got, expected):
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), expected, check_dtype=False, rtol=0, atol=1e-12
    )


def test_a_study_gives_tabarenas_methods_folds_and_errors(tmp_path):
    run = make_study(tmp_path / "run")
    notes = []
    got = tabarena_table(run, "error", notes.append)
    methods = ("teacher-lightgbm", "raw-tree-8", "corrected-tree-8")
    errors = (0.10, 0.30, 0.20)
    # fold = repeat * n_folds + fold: 'a' has 2 outer folds, 'b' one
    splits = [("a", 0, "binary"), ("a", 1, "binary"), ("a", 2, "binary"), ("a", 3, "binary")]
    splits += [("b", 0, "multiclass"), ("b", 1, "multiclass")]
    seeds = [100, 101, 102, 103, 100, 101]
    rows = [
        (m, d, fold, "accuracy", e + 0.01 * (i if d == "a" else i - 4), kind, NAN, NAN, seeds[i])
        for i, (d, fold, kind) in enumerate(splits)
        for m, e in zip(methods, errors, strict=True)
    ]
    assert_same(got, tabarena(rows))
    assert notes == [
        "6 of 6 split(s) have no recorded timings (a results file alone, a kd fit of a teacher "
        "sweep): their time_train_s is empty"
    ]


def test_a_studys_unit_timings_give_train_seconds(tmp_path):
    run = make_study(tmp_path / "run", units=True)
    notes = []
    got = tabarena_table(run, "error", notes.append)
    assert got.equals(tabarena_table(run, "error")) and len(got) == 18
    # the teacher's stage; the student stage (2 s) shared by the split's two student models
    train = got.groupby(["dataset", "fold"])["time_train_s"].apply(list).to_dict()
    assert train == {
        ("a", 0): [1.0, 1.0, 1.0],
        ("a", 1): [1.0, 1.0, 1.0],
        ("a", 2): [2.0, 1.0, 1.0],
        ("a", 3): [2.0, 1.0, 1.0],
        ("b", 0): [1.0, 1.0, 1.0],
        ("b", 1): pytest.approx([NAN] * 3, nan_ok=True),
    }
    assert notes[0].startswith("1 of 6 split(s) have no recorded timings")
    assert got["time_infer_s"].isna().all()


def test_auc_becomes_one_minus_auc(tmp_path):
    run = make_study(tmp_path / "run")
    got = tabarena_table(run, "auc")
    assert list(got["metric"].unique()) == ["roc_auc"]
    first = got[(got["dataset"] == "a") & (got["fold"] == 0)]
    assert first["method"].tolist() == ["teacher-lightgbm", "raw-tree-8", "corrected-tree-8"]
    assert first["metric_error"].tolist() == pytest.approx([0.05, 0.25, 0.20], abs=1e-12)
    last = got[(got["dataset"] == "b") & (got["fold"] == 1)]
    assert last["metric_error"].tolist() == pytest.approx([0.06, 0.26, 0.21], abs=1e-12)


def test_a_fits_timings_and_latency_give_train_and_predict_seconds(tmp_path):
    run = make_fit(tmp_path / "fit")
    got = tabarena_table(run, "error")
    # the student stage (3.0 s, then 1.5 s) shared by its two models; a cached teacher: no time
    # ms_per_10k x n_test / 10,000 / 1,000: 1000 ms x 50 rows -> 0.005 s
    fit = "sklearn:iris"
    rows = [
        ("teacher-lightgbm", fit, 0, "accuracy", 0.10, "multiclass", 2.0, 0.005, 100),
        ("raw-tree-8", fit, 0, "accuracy", 0.30, "multiclass", 1.5, 0.0001, 100),
        ("corrected-tree-8", fit, 0, "accuracy", 0.20, "multiclass", 1.5, 0.0002, 100),
        ("teacher-lightgbm", fit, 1, "accuracy", 0.11, "multiclass", NAN, 0.005, 101),
        ("raw-tree-8", fit, 1, "accuracy", 0.31, "multiclass", 0.75, 0.0001, 101),
        ("corrected-tree-8", fit, 1, "accuracy", 0.21, "multiclass", 0.75, 0.0002, 101),
    ]
    assert_same(got, tabarena(rows))


def test_the_long_table_is_kds_results_with_split_sizes_and_latency(tmp_path):
    run = make_fit(tmp_path / "fit")
    got = long_table(run, "auc")
    keys = ("sklearn:iris", 0, 0, 100, "lightgbm")
    expected = pd.DataFrame(
        [
            (*keys, "teacher", "", "teacher", "auc", 0.95, 100, 50, 1000.0),
            (*keys, "tree", "8", "raw", "auc", 0.75, 100, 50, 20.0),
            (*keys, "tree", "8", "corrected", "auc", 0.80, 100, 50, 40.0),
        ],
        columns=[
            *["dataset", "repeat", "fold", "seed", "teacher", "student", "size", "mode"],
            *["metric", "value", "n_train", "n_test", "ms_per_10k"],
        ],
    )
    assert_same(got.head(3), expected)
    assert len(got) == 6 and got["seed"].tolist() == [100] * 3 + [101] * 3
    whole = long_table(run)
    assert len(whole) == len(load_results(run)) and set(whole["metric"]) >= {"n_train", "error"}


def test_the_command_writes_csv_parquet_and_stdout(kd, tmp_path):
    run = make_fit(tmp_path / "fit")
    code, out, err = kd("export", run, "--format", "tabarena", "--out", tmp_path / "t.parquet")
    assert code == 0, err
    assert "wrote 6 rows" in err
    parquet = pd.read_parquet(tmp_path / "t.parquet")
    assert_same(parquet, tabarena_table(run))
    code, out, err = kd("export", run, "--format", "tabarena", "--metric", "auc", "--out", "-")
    assert code == 0, err
    assert pd.read_csv(io.StringIO(out))["metric"].unique().tolist() == ["roc_auc"]
    code, _, err = kd("export", run, "--out", tmp_path / "long.csv")
    assert code == 0, err
    exported = load_results(tmp_path / "long.csv")  # kd reads its own export back
    assert len(exported) == len(load_results(run)) and "ms_per_10k" in exported.columns


def test_bad_input_is_one_line(kd, tmp_path):
    run = make_fit(tmp_path / "fit")
    line = one_line_error(*kd("export", tmp_path / "nothing"))
    assert "does not exist" in line
    line = one_line_error(*kd("export", run, "--format", "wide"))
    assert "unknown --format 'wide'; use one of long, tabarena" in line
    line = one_line_error(*kd("export", run, "--format", "tabarena", "--metric", "n_test"))
    assert "unknown --metric 'n_test'" in line
    line = one_line_error(*kd("export", run, "--format", "tabarena", "--metric", "brier"))
    assert "has no 'brier' results (it has auc, error)" in line
    line = one_line_error(*kd("export", run, "--metric", "nope"))
    assert "has no 'nope' results" in line
    line = one_line_error(*kd("export", run, "--out", tmp_path))
    assert "is a folder" in line


def test_a_real_fit_exports_end_to_end(kd, tmp_path):
    out = tmp_path / "iris"
    args = ["--sizes", "2", "--threads", "1", "--teacher-param", "n_estimators=10"]
    code, _, err = kd("fit", "--dataset", "sklearn:iris", *args, "--out", out)
    assert code == 0, err
    results = load_results(out)
    code, _, err = kd("export", out, "--format", "tabarena", "--out", tmp_path / "t.csv")
    assert code == 0, err
    table = pd.read_csv(tmp_path / "t.csv")
    modes = ["raw", "vanilla", "crossfit", "corrected"]
    assert table["method"].tolist() == ["teacher-lightgbm", *[f"{m}-tree-2" for m in modes]]
    errors = results[results["metric"] == "error"]["value"].tolist()
    assert table["metric_error"].tolist() == errors
    assert set(table["problem_type"]) == {"multiclass"} and set(table["fold"]) == {0}
    assert (table["time_train_s"] > 0).all() and (table["time_infer_s"] > 0).all()
    code, _, err = kd("export", out, "--out", tmp_path / "long.parquet")
    assert code == 0, err
    long = pd.read_parquet(tmp_path / "long.parquet")
    assert len(long) == len(results) and set(long["n_test"]) == {38.0}
    assert long["ms_per_10k"].notna().all()
