"""One run-folder model: run.json has one layout for kd fit and kd benchmark, only RunFolder
opens it, and the folders kd 0.1 wrote (committed under tests/fixtures/kd-0.1) still read."""

import ast
import json
import shutil
from pathlib import Path

import pandas as pd

import kdcli
from kdcli.reporting.run_settings import run_settings
from kdcli.study.run_folder import FORMAT, RunFolder, migrate

from support.paths import FIXTURES

OLD = FIXTURES / "kd-0.1"
SMALL = ["--teacher-param", "n_estimators=10", "--sizes", "2", "--repeats", "1"]
SMALL += ["--folds", "2", "--select-folds", "2", "--threads", "1", "--quiet"]


def _numbers(frame: pd.DataFrame) -> pd.DataFrame:
    keys = ["dataset", "teacher", "repeat", "fold", "student", "size", "mode", "metric"]
    keys = [k for k in keys if k in frame.columns]
    return frame.sort_values(keys).reset_index(drop=True)[[*keys, "value"]]


def test_only_the_run_folder_names_run_json():
    package = Path(kdcli.__file__).parent
    naming = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value == "run.json":
                naming.append(str(path.relative_to(package)))
    assert naming == ["study/run_folder.py"]


def test_kd_fit_and_kd_benchmark_write_one_layout(kd, tmp_path):
    fit, study = tmp_path / "fit", tmp_path / "study"
    assert kd("fit", "--dataset", "sklearn:iris", *SMALL, "--out", fit)[0] == 0
    args = ["benchmark", "--suite", "demo", "--datasets", "iris", *SMALL, "--out", study]
    assert kd(*args)[0] == 0
    a, b = (json.loads((p / "run.json").read_text()) for p in (fit, study))
    assert a["format"] == b["format"] == FORMAT
    assert set(a["settings"]) == set(b["settings"]) == {"suite", "members", "fit"}
    specs = [[m["spec"] for m in r["settings"]["members"]] for r in (a, b)]
    assert specs[0] == specs[1] == ["sklearn:iris"]
    assert a["settings"]["fit"] == b["settings"]["fit"]
    assert run_settings(fit)["teachers"] == run_settings(study)["teachers"]


def test_a_kd_0_1_fit_folder_reads_as_the_same_fit_made_now(kd, tmp_path):
    old = RunFolder(OLD / "fit")
    raw = json.loads((OLD / "fit" / "run.json").read_text())
    assert "format" not in raw and "teachers" in raw["settings"]  # as kd 0.1 wrote it
    record = old.record()
    assert record["format"] == FORMAT and record["settings"]["fit"] == raw["settings"]
    assert old.members() == {"sklearn:iris": "sklearn:iris"}  # kd fit names it by its SPEC
    new = tmp_path / "new"
    assert kd("fit", "--dataset", "sklearn:iris", *SMALL, "--out", new)[0] == 0
    assert run_settings(OLD / "fit") == run_settings(new)
    pd.testing.assert_frame_equal(_numbers(old.results()), _numbers(RunFolder(new).results()))
    assert old.latency() is not None and old.preset() is None and old.kind == "kd-fit"
    assert [(s["n_train"], s["n_test"]) for s in old.splits()] == [(112, 38)]  # 150 rows, 0.25


def test_a_kd_0_1_study_reports_checks_and_resumes_without_running_again(kd, tmp_path):
    study = tmp_path / "study"
    shutil.copytree(OLD / "study", study)
    assert "format" not in json.loads((study / "run.json").read_text())
    code, out, err = kd("report", study, "--format", "csv")
    assert code == 0 and "iris" in out, err
    assert RunFolder(study).planned() is not None and RunFolder(study).kind == "kd-benchmark"
    assert RunFolder(study).splits() == []  # a study's units record their own
    args = ["benchmark", "--suite", "demo", "--datasets", "iris", *SMALL, "--out", study]
    code, _, err = kd(*args)
    assert code == 0, err
    record = json.loads((study / "run.json").read_text())
    assert record["format"] == FORMAT and len(record["commands"]) == 2
    units = list((study / "units").glob("*.parquet"))
    assert len(units) == 1 and not (study / "damaged").exists()  # kept, not run again


def test_migration_is_idempotent_and_keeps_what_it_does_not_know():
    raw = json.loads((OLD / "fit" / "run.json").read_text())
    once = migrate(raw)
    assert migrate(once) == once and once["command"] == raw["command"]
    assert raw.get("format") is None  # the caller's dict is not changed
    study = json.loads((OLD / "study" / "run.json").read_text())
    assert migrate(study)["settings"] == study["settings"]
