"""Out-of-range numbers on the command line: one line naming the option and its bound, exit
code 2, before any data is read or model fit, nothing written."""

from __future__ import annotations

import pytest

from conftest import one_line_error, run_kd


def run_kd_(capsys, args):
    return run_kd(args, capsys)


CASES = [
    # (arguments after `kd fit`, words the line must hold)
    (["--sizes", "1000000000000"], ["--sizes 1000000000000", "at most 10,000,000 leaves"]),
    (["--student", "rf", "--sizes", "100000000"], ["at most 10,000 trees", "--sizes 10000"]),
    (["--student", "gbdt", "--sizes", "100000"], ["at most 10,000 rounds"]),
    (["--student", "linear", "--sizes", "1" + "0" * 400], ["at most 1,000,000,000,000"]),
    (["--sizes", "tree=8;x"], ["'x' names no student"]),
    (["--teacher-param", "n_estimators=1e999"], ["n_estimators=inf", "finite number"]),
    (["--teacher-param", "learning_rate=nan"], ["learning_rate=nan", "finite number"]),
    (["--teacher-param", "validation_fraction=inf"], ["finite number"]),
    (["--teacher-param", "num_iterations=50000"], ["at most 10,000 trees"]),
    (["--test-size", "nan"], ["--test-size", "nan"]),
    (["--eps", "inf"], ["--eps", "inf"]),
    (["--c-grid", "0.1,nan"], ["--c-grid", "'nan'"]),
    (["--seed", "4294967296"], ["--seed must be at most 4294967295"]),
    (["--seed", "4294967295", "--repeats", "2"], ["--seed 4294967295", "4294967294 or less"]),
    (["--repeats", "1000000000000"], ["--repeats must be at most 10000"]),
    # issue 20, item 13: empty items, keys twice, True as a number (each was accepted)
    (["--sizes", "8,,64"], ["--sizes '8,,64': item 2 is empty", "--sizes 8,64"]),
    (["--sizes", "8,64,"], ["item 3 is empty"]),
    (["--student", "tree,rf", "--sizes", "tree=8;;rf=2"], ["--sizes", "group 2 is empty"]),
    (["--modes", "raw,mixed", "--alpha-grid", "0.5,,0.7"], ["--alpha-grid", "item 2 is empty"]),
    (["--c-grid", "0.1,,10"], ["--c-grid", "item 2 is empty"]),
    (["--modes", "raw,,vanilla"], ["--modes", "item 2 is empty"]),
    (["--metric", "error,,auc"], ["--metric", "item 2 is empty"]),
    (["--student", "tree,rf", "--sizes", "tree=8;tree=9"], ["--sizes", "tree twice", "tree=8,9"]),
    (
        ["--teacher-param", "max_depth=3", "--teacher-param", "max_depth=4"],
        ["--teacher-param sets lightgbm.max_depth twice"],
    ),
    (["--teacher", "rf", "--teacher-param", "rf.max_depth=True"], ["--teacher-param", "=True"]),
    (["--teacher", "rf", "--teacher-param", "n_estimators=True"], ["not True or False"]),
    (["--teacher-param", "n_estimators=inf"], ["write e.g. --teacher-param n_estimators=8"]),
]


@pytest.mark.parametrize(("args", "words"), CASES, ids=[" ".join(c[0])[:40] for c in CASES])
def test_out_of_range_numbers_are_one_line(capsys, tmp_path, args, words):
    out = tmp_path / "out"
    line = one_line_error(
        *run_kd_(capsys, ["fit", "--dataset", "sklearn:iris", *args, "--out", out])
    )
    for word in words:
        assert word in line, (word, line)
    assert not out.exists()


def test_benchmark_timeout_per_unit_nan(capsys, tmp_path):
    out = tmp_path / "study"
    line = one_line_error(
        *run_kd_(capsys, ["benchmark", "--timeout-per-unit", "nan", "--out", out])
    )
    assert "--timeout-per-unit must be a positive number of seconds, got nan" in line
    assert not out.exists()


def test_folds_outer_past_the_largest_fold(capsys):
    line = one_line_error(*run_kd_(capsys, ["fit", "--folds-outer", "0-10000000000"]))
    assert "--folds-outer '0-10000000000': fold 10000000000 is past 99,999" in line
