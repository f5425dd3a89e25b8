"""`kd benchmark --mlflow`: one parent run per study, a nested run per unit, logged once."""

import importlib.util
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from kdcli.cli import main
from kdcli.cli.benchmark import mlflow_report
from kdcli.study.mlflow_log import PARAM_LIMIT, flatten, key_part, log_study, metric_key

from conftest import one_line_error

needs_mlflow = pytest.mark.skipif(
    importlib.util.find_spec("mlflow") is None,
    reason="MLflow is not installed: pip install 'kd[mlflow]'",
)
TINY = ["--suite", "demo", "--teacher-param", "n_estimators=10"]
TINY += ["--sizes", "2", "--jobs", "1", "--threads", "1"]


def study(tmp: Path, datasets: str = "iris,wine") -> list[str]:
    return [
        "benchmark",
        *TINY,
        "--datasets",
        datasets,
        "--out",
        str(tmp / "study"),
        "--cache-dir",
        str(tmp / "cache"),
    ]


@contextmanager
def client_of(store: Path):
    from mlflow.tracking import MlflowClient

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3 asks for it to read a file store
    try:
        yield MlflowClient(store.as_uri())
    finally:
        os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)


def runs_of(client, experiment: str = "kd") -> tuple:
    """(the parent run, its nested runs by unit id), every active run of the experiment."""
    found = client.get_experiment_by_name(experiment)
    runs = client.search_runs([found.experiment_id], max_results=1000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1, [r.data.tags for r in parents]
    children = {r.data.tags["kd.unit"]: r for r in runs if r not in parents}
    assert len(children) == len(runs) - 1  # one run per unit, none twice
    return parents[0], children


def history_lengths(client, run) -> set[int]:
    return {len(client.get_metric_history(run.info.run_id, key)) for key in run.data.metrics}


@pytest.fixture(scope="module")
def grid_study(tmp_path_factory):
    """A study of two variants of one teacher (labels MLflow would refuse), without --mlflow:
    iris alone, two repeats, so four units (one dataset: half the report's plots to draw)."""
    tmp = tmp_path_factory.mktemp("grid")
    args = [*study(tmp, "iris"), "--repeats", "2", "--teacher", "rf", "--teacher-grid"]
    try:
        main([*args, "rf.max_depth=2,3"])
    except SystemExit as end:
        assert end.code in (0, None)
    return tmp / "study"


@needs_mlflow
def test_benchmark_logs_the_study_once(kd, tmp_path):
    store = tmp_path / "mlruns"
    args = [*study(tmp_path), "--repeats", "2", "--mlflow", store.as_uri()]
    code, _, err = kd(*args)
    assert code == 0, err
    assert "kd: notice: MLflow: logged 4 unit(s) into run " in err
    with client_of(store) as client:
        parent, children = runs_of(client)
        params = parent.data.params
        assert (params["repeats"], params["sizes.tree"], params["suite"]) == ("2", "[2]", "demo")
        assert params["members"] == "2" and '"n_estimators": 10' in params["teachers"]
        assert parent.data.tags["kd.out"] == str((tmp_path / "study").resolve())
        assert parent.info.status == "FINISHED"
        units = sorted((tmp_path / "study" / "units").glob("*.parquet"))
        assert sorted(children) == [p.name.removesuffix(".parquet") for p in units]
        for path in units:
            rows = pd.read_parquet(path)
            child = children[path.name.removesuffix(".parquet")]
            first = rows.iloc[0]
            assert child.data.params["dataset"] == first["dataset"]
            assert child.data.params["repeat"] == str(first["repeat"])
            assert (child.data.params["fold"], child.data.params["teacher"]) == ("0", "lightgbm")
            assert child.data.tags["kd.logged"] == "true"
            assert len(child.data.metrics) == len(rows)
            for row in rows.itertuples():
                key = metric_key(row.mode, row.student, row.size, row.metric)
                assert child.data.metrics[key] == pytest.approx(row.value, nan_ok=True)
        assert "teacher/error" in child.data.metrics and "raw/tree/2/error" in child.data.metrics
        results = pd.read_parquet(tmp_path / "study" / "results.parquet")
        raw = results.query("mode == 'raw' and metric == 'error' and size == '2'")
        mean = raw.groupby("dataset")["value"].mean().mean()
        assert parent.data.metrics["raw/tree/2/error"] == pytest.approx(mean)
        artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
        assert {"report.md", "report.html", "plots"} <= artifacts
        plots = {a.path for a in client.list_artifacts(parent.info.run_id, "plots")}
        assert any(p.startswith("plots/cd-") and p.endswith(".png") for p in plots), plots
        cd = {Path(p).suffix for p in plots if p.startswith("plots/cd-")}
        assert cd == {".png", ".pdf", ".svg"}, plots  # the CD diagrams also for a paper
        others = {Path(p).suffix for p in plots if not p.startswith("plots/cd-")}
        assert others == {".png"}, plots

    code, _, err = kd(*args)  # the same command again: the study resumes, nothing is new
    assert code == 0, err
    assert "MLflow: logged 0 unit(s), 4 logged before into run " + parent.info.run_id in err
    with client_of(store) as client:
        again, children_again = runs_of(client)
        assert again.info.run_id == parent.info.run_id
        assert {c.info.run_id for c in children_again.values()} == {
            c.info.run_id for c in children.values()
        }
        assert history_lengths(client, again) == {1}  # the parent's means not logged twice
        assert all(history_lengths(client, c) == {1} for c in children_again.values())


@needs_mlflow
def test_a_resumed_study_logs_only_its_new_units(grid_study, tmp_path):
    store = tmp_path / "mlruns"
    units = sorted((grid_study / "units").glob("*.parquet"))
    assert len(units) == 4
    aside = tmp_path / units[0].name
    units[0].rename(aside)  # as if the study had been stopped before this unit
    try:
        counts = log_study(grid_study, str(store), experiment="grid")  # no report
    finally:
        aside.rename(units[0])
    assert (counts["units"], counts["kept"], counts["summary"]) == (3, 0, True)
    with client_of(store) as client:
        parent, children = runs_of(client, "grid")
        assert parent.info.status == "KILLED"  # a unit of the plan has no results yet
        assert len(children) == 3

    counts = log_study(grid_study, str(store), experiment="grid", report=mlflow_report)
    assert (counts["units"], counts["kept"], counts["run_id"]) == (1, 3, parent.info.run_id)
    assert "report.md" in counts["artifacts"]
    with client_of(store) as client:
        parent, children = runs_of(client, "grid")
        assert sorted(children) == [p.name.removesuffix(".parquet") for p in units]
        assert parent.info.status == "FINISHED"
        assert {c.data.params["teacher"] for c in children.values()} == {
            "rf[max_depth=2]",
            "rf[max_depth=3]",
        }
        keys = [k for k in parent.data.metrics if k.endswith("/raw/tree/2/error")]
        assert len(keys) == 2 and all(k.startswith("rf-max_depth-") for k in keys), keys
        steps = client.get_metric_history(parent.info.run_id, keys[0])
        assert sorted(m.step for m in steps) == [3, 4]  # the means of 3 units, then of 4
        assert all(history_lengths(client, c) == {1} for c in children.values())
        cut_short, rerun = (children[p.name.removesuffix(".parquet")] for p in units[1:3])
        client.delete_tag(cut_short.info.run_id, "kd.logged")  # a logging killed half-way
        client.set_tag(rerun.info.run_id, "kd.sha256", "0" * 64)  # its unit has run again since

    counts = log_study(grid_study, str(store), experiment="grid")
    assert (counts["units"], counts["kept"]) == (2, 2)
    with client_of(store) as client:
        _, children = runs_of(client, "grid")  # the old runs deleted, not kept beside
        for old, path in zip((cut_short, rerun), units[1:3], strict=True):
            redone = children[path.name.removesuffix(".parquet")]
            assert redone.info.run_id != old.info.run_id
            assert redone.data.tags["kd.logged"] == "true"
            assert redone.data.tags["kd.sha256"] == old.data.tags["kd.sha256"]
    assert log_study(grid_study, str(store), experiment="grid")["units"] == 0


def test_without_mlflow_the_option_names_the_extra(kd, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now fails
    monkeypatch.delitem(sys.modules, "mlflow.tracking", raising=False)
    line = one_line_error(*kd(*study(tmp_path), "--mlflow", str(tmp_path / "mlruns")))
    assert line == "kd: error: --mlflow needs MLflow: pip install 'kd[mlflow]' (mlflow-skinny)"
    assert not (tmp_path / "study").exists()  # refused before the study started


@needs_mlflow
def test_a_store_that_cannot_be_used_is_refused_before_the_study(kd, tmp_path):
    line = one_line_error(*kd(*study(tmp_path), "--mlflow", "http://127.0.0.1:1"))
    assert line.startswith("kd: error: --mlflow http://127.0.0.1:1: MLflow cannot use this store")
    store = tmp_path / "mlruns"
    with client_of(store) as client:
        client.delete_experiment(client.create_experiment("gone"))
    args = ["--mlflow", str(store), "--mlflow-experiment", "gone"]
    line = one_line_error(*kd(*study(tmp_path), *args))
    assert "MLflow experiment 'gone' is deleted; restore it or give another" in line
    assert not (tmp_path / "study").exists()


def test_keys_and_values_are_what_mlflow_accepts():
    assert key_part("rf[max_depth=3]").startswith("rf-max_depth-3-")
    assert key_part("rf[max_depth=3]") != key_part("rf[max_depth=3.0]")
    assert key_part("lightgbm") == "lightgbm" and key_part("..") != ".."
    assert metric_key("teacher", "teacher", "", "auc") == "teacher/auc"
    assert metric_key("raw", "tree", "full", "log_loss") == "raw/tree/full/log_loss"
    params = flatten({"sizes": {"tree": [2, 8]}, "preset": None, "grid": list(range(3000))})
    assert params["sizes.tree"] == "[2, 8]" and params["preset"] == "null"
    assert len(params["grid"]) == PARAM_LIMIT and params["grid"].endswith("…")
