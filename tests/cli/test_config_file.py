"""`--config FILE` and `--print-config` of kd fit and kd benchmark: every option has a key, the
command line overrides the file, the printed config reads back to itself, run.json records it,
and a bad file is one line naming the file, the key and the fix."""

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import SHARED, one_line_error

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
IRIS = """\
dataset = "sklearn:iris"
sizes = [2, 4]                       # a list is the comma-separated option: "2,4"
teacher-param = ["n_estimators=10"]  # a repeatable option takes a list
threads = 1
repeats = 2
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_the_printed_config_reads_back_to_itself_and_the_command_line_wins(kd, tmp_path):
    config = write(tmp_path / "iris.toml", IRIS)
    code, printed, err = kd("fit", "--config", config, "--repeats", "3", "--print-config")
    assert code == 0, err
    assert 'dataset = "sklearn:iris"' in printed and 'sizes = "2,4"' in printed
    assert "repeats = 3" in printed and "repeats = 2" not in printed  # the command line wins
    again = write(tmp_path / "printed.toml", printed)
    assert kd("fit", "--config", again, "--print-config")[1] == printed


def test_a_config_runs_as_its_command_line_and_run_json_records_it(kd, tmp_path):
    config = write(tmp_path / "iris.toml", IRIS)
    assert kd("fit", "--config", config, "--out", tmp_path / "a", "--quiet")[0] == 0
    args = ["--dataset", "sklearn:iris", "--sizes", "2,4", "--teacher-param", "n_estimators=10"]
    code, _, err = kd("fit", *args, "--threads", "1", "--repeats", "2", "--out", tmp_path / "b")
    assert code == 0, err
    a, b = (pd.read_csv(tmp_path / d / "results.csv") for d in ("a", "b"))
    pd.testing.assert_frame_equal(a, b)
    recorded = json.loads((tmp_path / "a" / "run.json").read_text())["config"]
    assert recorded["teacher-param"] == ["n_estimators=10"] and recorded["sizes"] == "2,4"
    assert recorded["repeats"] == 2 and recorded["quiet"] is True


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('sizs = "8"', "unknown key 'sizs' (did you mean 'sizes'?); the keys are the options"),
        ('repeats = "three"', "key 'repeats': "),
        ('sizes = "0"', "fix key 'sizes' in the file, or give --sizes on the command line"),
        ("teacher-param = 5", "fix key 'teacher-param' in the file"),
        ("quiet = 3", "key 'quiet': "),
        ("sizes = { a = 1 }", "key 'sizes': is a table; give a string"),
        ("repeats = [1", "is not valid TOML"),
    ],
)
def test_a_bad_file_is_one_line_naming_file_key_and_fix(kd, tmp_path, body, words):
    config = write(tmp_path / "bad.toml", body + "\n")
    line = one_line_error(*kd("fit", "--config", config, "--threads", "1"))
    assert f"--config {config}" in line and words in line, line


def test_a_missing_file_and_the_benchmark_keys(kd, tmp_path):
    line = one_line_error(*kd("benchmark", "--config", tmp_path / "none.toml"))
    assert "cannot read --config" in line and "none.toml" in line
    code, printed, err = kd("benchmark", "--config", EXAMPLES / "cc18.toml", "--print-config")
    assert code == 0, err
    for key in ('suite = "cc18"', 'folds-outer = "0-2"', "jobs = 2", 'out = "runs/cc18"'):
        assert key in printed


@pytest.mark.slow
def test_the_paper_example_config_runs(kd, tmp_path):
    """examples/dao2021.toml, reduced on the command line (one repeat, one size, 2,000 rows of
    MAGIC, a 50-tree forest teacher: 6 core-seconds, not the preset's 500 trees' 20): the preset's
    settings apply, the file's and the command line's on top."""
    if not (SHARED / "datasets").is_dir():
        pytest.skip("../shared/datasets not found: ../shared is not beside this checkout")
    out = tmp_path / "dao2021"
    small = ["--repeats", "1", "--sizes", "1", "--max-rows", "2000", "--jobs", "1"]
    small += ["--teacher-param", "rf.n_estimators=50"]
    suite = f"dir:{SHARED / 'datasets'}"
    args = ["--config", EXAMPLES / "dao2021.toml", "--suite", suite, "--datasets", "magic"]
    code, _, err = kd("benchmark", *args, *small, "--out", out, "--quiet")
    assert code == 0, err
    record = json.loads((out / "run.json").read_text())
    preset = record["settings"]["fit"]["preset"]
    assert preset["name"] == "dao2021" and preset["set"]["metric"] == "auc"  # the preset applies
    overridden = {"repeats", "sizes", "teacher_param"}  # the command line over it
    assert overridden <= set(preset["overridden"])
    assert record["settings"]["fit"]["teachers"] == [{"name": "rf", "params": {"n_estimators": 50}}]
    assert record["config"]["preset"] == "dao2021" and record["config"]["repeats"] == 1
    assert (out / "results.parquet").is_file()
