"""`kd fit` on bad input: one line `kd: error: ...` on stderr, exit code 2, no traceback, nothing
written. Every case fails in the spec or kdcli.prepare_fit (or in option parsing), before any model is fit.
"""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import kdcli
from kdcli.cli import main

from support.paths import ROOT as PROJECT


@pytest.fixture
def files(tmp_path):
    """Tiny CSVs: a good one, and one per data problem."""
    made = {}

    def write(name, frame):
        path = tmp_path / name
        frame.to_csv(path, index=False)
        made[name] = path

    rng = np.random.default_rng(0)
    write("ok.csv", pd.DataFrame({"x": rng.normal(size=40), "target": ["a", "b"] * 20}))
    write("one_class.csv", pd.DataFrame({"x": range(10), "target": ["a"] * 10}))
    write(
        "gaps.csv",
        pd.DataFrame({"x": range(10), "target": ["a", "b", None, "a", "b"] * 2}),
    )
    # 60 rows of 'a', 6 of 'b': a stratified 25 % test split keeps 4 'b' rows for training,
    # fewer than 5 folds (checked against the real split in test_few_rows_case_is_about_folds)
    write(
        "few.csv",
        pd.DataFrame({"x": rng.normal(size=66), "target": ["a"] * 60 + ["b"] * 6}),
    )
    write("float_target.csv", pd.DataFrame({"x": range(40), "target": rng.normal(size=40)}))
    write("id_target.csv", pd.DataFrame({"x": range(40), "target": [f"id{i}" for i in range(40)]}))
    (tmp_path / "dup.csv").write_text("a,a,target\n1,2,x\n3,4,y\n")
    made["dup.csv"] = tmp_path / "dup.csv"
    (tmp_path / "afile").write_text("not a folder")
    made["afile"] = tmp_path / "afile"
    return made


def run_kd(capsys, args):
    """Run `kd ARGS` in-process; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as excinfo:
        main(args)
    captured = capsys.readouterr()
    return excinfo.value.code, captured.out, captured.err


def assert_one_line_error(code, out, err, words=()):
    assert "Traceback" not in err and "Traceback" not in out, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {err!r}"
    assert lines[0].startswith("kd: error: "), lines[0]
    assert code == 2, f"exit code {code}, expected 2 (user error); stderr: {err!r}"
    assert out == "", f"nothing on stdout for an error, got {out!r}"
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


# (case id, arguments after `kd fit`, words the message must contain). {name} in an argument is
# replaced by the path of that file from the `files` fixture.
CASES = [
    ("unknown-source", ["--dataset", "foo:bar"], ["unknown dataset source", "'foo'"]),
    ("no-source", ["--dataset", "breast_cancer"], ["no source"]),
    ("unknown-sklearn", ["--dataset", "sklearn:mnist"], ["unknown scikit-learn dataset", "mnist"]),
    ("unknown-synthetic", ["--dataset", "synthetic:ternary"], ["unknown synthetic design"]),
    ("bad-synthetic-param", ["--dataset", "synthetic:binary?noise=1"], ["noise"]),
    ("missing-file", ["--dataset", "file:{missing.csv}"], ["does not exist", "missing.csv"]),
    (
        "missing-target-column",
        ["--dataset", "file:{ok.csv}", "--target", "label"],
        ["no column 'label'", "x, target", "--target"],
    ),
    ("one-class-target", ["--dataset", "file:{one_class.csv}"], ["only one class"]),
    ("missing-labels", ["--dataset", "file:{gaps.csv}"], ["2 missing label"]),
    (
        "fewer-rows-than-folds",
        ["--dataset", "file:{few.csv}", "--folds", "5"],
        ["class 'b'", "fewer than --folds 5"],
    ),
    (
        "fewer-rows-than-select-folds",
        ["--dataset", "file:{few.csv}", "--folds", "2", "--select-folds", "5"],
        ["class 'b'", "fewer than --select-folds 5", "use --select-folds"],
    ),
    ("select-folds-one", ["--select-folds", "1"], ["--select-folds must be at least 2"]),
    ("unknown-preset", ["--preset", "hinton2015"], ["unknown --preset 'hinton2015'", "dao2021"]),
    ("unknown-teacher", ["--teacher", "catboost"], ["unknown teacher 'catboost'", "lightgbm"]),
    ("unknown-student", ["--student", "tree,knn"], ["unknown student 'knn'", "gbdt"]),
    ("empty-student", ["--student", ","], ["--student is empty"]),
    (
        "unknown-mode",
        ["--modes", "raw,magic"],
        ["unknown modes 'magic'", "crossfit", "vanilla:logit"],
    ),
    ("teacher-param-no-value", ["--teacher-param", "num_leaves"], ["malformed --teacher-param"]),
    ("teacher-param-no-key", ["--teacher-param", "=3"], ["malformed --teacher-param '=3'"]),
    ("teacher-param-empty-value", ["--teacher-param", "num_leaves="], ["malformed"]),
    (
        "teacher-param-unknown-name",
        ["--teacher-param", "num_leafs=31"],
        ["teacher 'lightgbm' has no parameter 'num_leafs'"],
    ),
    (
        "teacher-param-wrong-teacher",
        ["--teacher", "rf", "--teacher-param", "num_leaves=31"],
        ["teacher 'rf' has no parameter 'num_leaves'"],
    ),
    ("teacher-param-reserved", ["--teacher-param", "random_state=1"], ["--seed"]),
    ("sizes-zero", ["--sizes", "0"], ["--sizes '0'", "not a positive integer"]),
    ("sizes-negative", ["--sizes=-3"], ["'-3'", "not a positive integer"]),
    ("sizes-text", ["--sizes", "abc"], ["'abc'", "not a positive integer"]),
    ("sizes-fraction", ["--sizes", "1.5"], ["'1.5'", "not a positive integer"]),
    ("sizes-one-in-list", ["--sizes", "8,0,64"], ["'0'", "not a positive integer"]),
    (
        "sizes-full-for-rf",
        ["--student", "rf", "--sizes", "full"],
        ["'full' applies only to the tree student", "'rf'"],
    ),
    ("tree-size-one", ["--student", "tree", "--sizes", "1"], ["at least 2 leaves"]),
    ("folds-one", ["--folds", "1"], ["--folds must be at least 2, got 1"]),
    ("test-size-above-one", ["--test-size", "1.5"], ["--test-size", "1.5"]),
    ("test-size-zero", ["--test-size", "0"], ["--test-size"]),
    ("repeats-zero", ["--repeats", "0"], ["--repeats"]),
    ("eps-zero", ["--eps", "0"], ["--eps"]),
    ("c-grid-negative", ["--c-grid", "1,-2"], ["--c-grid"]),
    ("unknown-metric", ["--metric", "f1"], ["unknown metric 'f1'"]),
    (
        "continuous-target",
        ["--dataset", "file:{float_target.csv}"],
        ["non-integer numbers", "regression target"],
    ),
    (
        "id-like-target",
        ["--dataset", "file:{id_target.csv}"],
        ["40 distinct values in 40 rows", "like an id"],
    ),
    ("duplicated-column", ["--dataset", "file:{dup.csv}"], ["names the column 'a' more than once"]),
    (
        "teacher-param-bad-value",
        ["--teacher-param", "n_estimators=abc"],
        ["--teacher-param lightgbm.n_estimators='abc'", "must be a whole number"],  # before any fit
    ),
    (
        "teacher-param-value-lightgbm-fatal",
        ["--teacher-param", "learning_rate=0"],
        ["does not accept --teacher-param learning_rate=0"],
    ),
    (
        "teacher-param-objective",
        ["--teacher-param", "objective=regression"],
        ["must stay a probabilistic classifier"],
    ),
    (
        "teacher-param-for-another-teacher",
        ["--teacher-param", "rf.n_estimators=10"],
        ["is for rf, which is not a --teacher here"],
    ),
    # excess-risk metrics need p0, which only synthetic data has
    (
        "p0-metric-on-real-data",
        ["--metric", "p0_mse"],
        ["--metric p0_mse needs the true probabilities p0"],
    ),
]

# Click/Typer usage errors: options that do not parse at all.
USAGE_CASES = [
    ("folds-not-int", ["--folds", "abc"], ["--folds"]),
    ("test-size-not-number", ["--test-size", "quarter"], ["--test-size"]),
    ("unknown-option", ["--nope"], ["--nope"]),
    ("option-without-value", ["--folds"], ["--folds"]),
]


def _args(template, files, tmp_path):
    out = []
    for arg in template:
        if "{" in arg:
            start, end = arg.index("{"), arg.index("}")
            name = arg[start + 1 : end]
            path = files.get(name, tmp_path / name)
            arg = arg[:start] + str(path) + arg[end + 1 :]
        out.append(arg)
    return out


@pytest.mark.parametrize(("args", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_user_error_is_one_line_exit_2(capsys, tmp_path, files, args, words):
    out_dir = tmp_path / "out"
    args = _args(args, files, tmp_path)
    if "--dataset" not in args:
        args = ["--dataset", f"file:{files['ok.csv']}", *args]
    code, out, err = run_kd(capsys, ["fit", *args, "--out", str(out_dir)])
    assert_one_line_error(code, out, err, words)
    assert not out_dir.exists(), "a failed run must not create its --out folder"


@pytest.mark.parametrize(
    ("args", "words"), [c[1:] for c in USAGE_CASES], ids=[c[0] for c in USAGE_CASES]
)
def test_usage_error_is_one_line_exit_2(capsys, tmp_path, files, args, words):
    # typer >= 0.20 raises its own vendored click exceptions: they must still be usage errors
    out_dir = tmp_path / "out"
    args = ["fit", "--dataset", f"file:{files['ok.csv']}", *args]
    if args[-1] != "--folds":  # an option with no value must stay last
        args += ["--out", str(out_dir)]
    code, out, err = run_kd(capsys, args)
    line = assert_one_line_error(code, out, err, words)
    assert "--debug" not in line, f"a usage error is reported as an internal error: {line}"
    assert not out_dir.exists()


def test_out_that_is_a_file_is_refused(capsys, tmp_path, files):
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    code, out, err = run_kd(
        capsys, ["fit", "--dataset", f"file:{files['ok.csv']}", "--out", str(target)]
    )
    assert_one_line_error(code, out, err, ["is a file"])
    assert target.read_text() == "keep me"


def test_target_for_a_dataset_with_its_own_target_is_refused(capsys):
    code, out, err = run_kd(capsys, ["fit", "--dataset", "sklearn:iris", "--target", "x"])
    assert_one_line_error(code, out, err, ["--target applies to file: and openml: datasets only"])


def test_unknown_command_is_one_line_exit_2(capsys):
    code, out, err = run_kd(capsys, ["fitt"])
    assert_one_line_error(code, out, err, ["fitt"])


def test_few_rows_case_is_about_folds(files):
    """The fewer-rows-than-folds case really is that: 4 training rows of 'b', and 4 folds pass."""
    from sklearn.model_selection import train_test_split

    y = pd.read_csv(files["few.csv"])["target"].to_numpy()
    train, _ = train_test_split(np.arange(len(y)), test_size=0.25, stratify=y, random_state=0)
    assert (y[train] == "b").sum() == 4
    plan = kdcli.prepare_fit(f"file:{files['few.csv']}", folds=4)  # checks, no fit
    assert plan.fit.folds == 4
    assert plan.dataset.class_names == ["a", "b"]


def test_checks_fail_before_loading_data(capsys, tmp_path):
    """Option errors are found before the dataset is read: a bad teacher wins over a bad file."""
    code, out, err = run_kd(
        capsys, ["fit", "--dataset", f"file:{tmp_path / 'nothere.csv'}", "--teacher", "nope"]
    )
    assert_one_line_error(code, out, err, ["unknown teacher"])


def _kd(*args):
    return subprocess.run(
        [sys.executable, "-m", "kdcli", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=120,
        check=False,
    )


def test_console_script_user_error():
    proc = _kd("fit", "--dataset", "nope:x")
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == [
        "kd: error: unknown dataset source 'nope' in 'nope:x'; use one of sklearn, synthetic, file, "
        "openml, openml-task"
    ]
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_console_script_debug_shows_traceback():
    proc = _kd("fit", "--dataset", "nope:x", "--debug")
    assert proc.returncode != 0
    assert "Traceback (most recent call last)" in proc.stderr
    assert "KDError" in proc.stderr
    assert "unknown dataset source 'nope'" in proc.stderr


def test_an_unwritable_out_is_refused_before_any_work(capsys, files, tmp_path):
    out = files["afile"] / "sub"
    code, stdout, err = run_kd(
        capsys, ["fit", "--dataset", f"file:{files['ok.csv']}", "--out", str(out)]
    )
    assert_one_line_error(code, stdout, err, ["is a file, so the folder cannot be made"])


def test_fit_and_benchmark_do_not_write_into_each_others_folders(capsys, tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    (study / "run.json").write_text('{"kind": "kd-benchmark"}')
    code, out, err = run_kd(capsys, ["fit", "--out", str(study)])
    assert_one_line_error(code, out, err, ["holds a kd benchmark study"])
    fit_dir = tmp_path / "fit"
    fit_dir.mkdir()
    (fit_dir / "run.json").write_text('{"kind": "kd-fit"}')
    code, out, err = run_kd(capsys, ["benchmark", "--out", str(fit_dir)])
    assert_one_line_error(code, out, err, ["holds kd fit results"])
    assert sorted(p.name for p in fit_dir.iterdir()) == ["run.json"]
