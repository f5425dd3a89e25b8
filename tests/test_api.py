"""The public Python API: what the README shows runs, and the functions behave as documented."""

import json
import re

import pandas as pd
import pytest

import kdcli
from kdcli.errors import KDError, SettingError

from support.paths import ROOT
from support.scripts import run_unguarded_script

pytestmark = pytest.mark.heavy(seconds=30)  # its file starts early under pytest-xdist

README = ROOT / "README.md"


@pytest.mark.slow
def test_the_readme_notebook_example_runs(tmp_path, monkeypatch, capsys):
    block = re.search(r"## Python API.*?```python\n(.*?)```", README.read_text(), re.S).group(1)
    assert len(block.strip().splitlines()) == 5
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(block, namespace)  # the README's own lines, as a user pastes them
    table = namespace["result"].table("error")  # one block per student family
    assert list(table.index) == [("tree", "8"), ("tree", "64"), ("gbdt", "8"), ("gbdt", "64")]
    assert {"raw", "vanilla", "crossfit", "corrected", "teacher"} <= set(table.columns)
    assert namespace["study"].done == 2 and not namespace["study"].failures
    assert "| size |" in capsys.readouterr().out


@pytest.fixture(scope="module")
def small_fit():
    return kdcli.fit(
        "sklearn:wine", threads=1, teacher_param={"n_estimators": 20}, sizes="4,full", repeats=2
    )


def test_fit_returns_long_results_a_summary_and_a_wide_table(small_fit):
    results, summary = small_fit.results, small_fit.summary
    assert list(results.columns[:10]) == [
        "dataset", "repeat", "fold", "seed", "teacher", "student", "size", "mode", "metric", "value",
    ]  # fmt: skip
    assert set(results.repeat) == {0, 1}
    cell = summary[
        (summary["mode"] == "raw") & (summary.metric == "error") & (summary["size"] == "4")
    ]
    assert cell["n"].iloc[0] == 2
    assert (summary["nonfinite"] == 0).all()  # NaN or inf values a cell holds: none here
    table = small_fit.table("error")
    assert list(table.index) == ["4", "full"]  # numeric order, 'full' last
    assert table.loc["4", "raw"] == pytest.approx(cell["mean"].iloc[0])


def test_a_dataset_object_and_a_spec_give_the_numbers_of_settings(small_fit):
    ds = kdcli.load_dataset("sklearn:wine")
    spec = kdcli.fit_settings(teacher_param={"n_estimators": 20}, sizes="4,full", repeats=2)
    again = kdcli.fit(ds, spec, threads=1)
    pd.testing.assert_frame_equal(again.results, small_fit.results)
    with pytest.raises(TypeError):
        kdcli.fit(ds, spec, repeats=3)  # a spec, or settings: not both


def test_save_report_and_check_round_trip(small_fit, tmp_path):
    plan = kdcli.prepare_fit("sklearn:wine", teacher_param={"n_estimators": 20}, sizes="4,full")
    kdcli.save_fit(
        tmp_path / "run", small_fit, record=kdcli.fit_record(plan, small_fit, seconds=1.0)
    )
    assert kdcli.load_results(tmp_path / "run").equals(
        pd.read_csv(tmp_path / "run" / "results.csv", dtype={"size": str})
    )
    rep = kdcli.report(tmp_path / "run", "error", draw_plots=False)
    assert any(s.kind == "per-dataset" for s in rep.sections)
    assert "★" in kdcli.render(rep, "md")
    n = kdcli.update_reference(tmp_path / "run", tmp_path / "ref.csv", metrics=["error"], tol=0.001)
    assert n > 0
    assert kdcli.check(tmp_path / "run", tmp_path / "ref.csv").ok
    moved = pd.read_csv(tmp_path / "ref.csv", comment="#").assign(value=lambda f: f.value + 0.01)
    moved.to_csv(tmp_path / "moved.csv", index=False)
    report = kdcli.check(tmp_path / "run", tmp_path / "moved.csv")
    assert not report.ok and len(report.regressed) == n


@pytest.mark.parametrize("teacher", ["rf", "lightgbm"])
def test_threads_change_the_schedule_not_the_numbers(teacher):
    """A forest teacher's fits run one after another on every thread, boosted teachers' side by
    side on one thread each; either way the numbers are those of a one-thread run."""
    settings = {
        "teacher": teacher,
        "teacher_param": {"n_estimators": 30},
        "sizes": "4",
        "modes": "raw,vanilla,crossfit,corrected",
    }
    one = kdcli.fit("sklearn:breast_cancer", threads=1, **settings).results
    two = kdcli.fit("sklearn:breast_cancer", threads=2, **settings).results
    pd.testing.assert_frame_equal(one, two)


def test_save_fit_never_writes_over_what_is_not_its_own(small_fit, tmp_path):
    plan = kdcli.prepare_fit("sklearn:wine", teacher_param={"n_estimators": 20}, sizes="4,full")
    record = kdcli.fit_record(plan, small_fit, seconds=1.0)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "results.csv").write_text("my numbers\n")
    for force in (False, True):
        with pytest.raises(KDError, match="holds no kd fit results; use a new or empty folder"):
            kdcli.save_fit(mine, small_fit, record=record, force=force)
    assert (mine / "results.csv").read_text() == "my numbers\n"
    earlier = tmp_path / "earlier"
    kdcli.save_fit(earlier, small_fit, record=record)
    (earlier / "notes.txt").write_text("mine")
    earlier_fit = r"holds an earlier kd fit \(of sklearn:wine\); add --force"
    with pytest.raises(KDError, match=earlier_fit):
        kdcli.save_fit(earlier, small_fit, record=record)
    kdcli.save_fit(earlier, small_fit, record={**record, "command": "again"}, force=True)
    assert (earlier / "notes.txt").read_text() == "mine"
    assert json.loads((earlier / "run.json").read_text())["command"] == "again"


@pytest.fixture(scope="module")
def two_families():
    return kdcli.fit(
        "sklearn:iris",
        threads=1,
        student="tree,gbdt",
        sizes={"tree": [8, 4], "gbdt": [10]},
        teacher_param={"n_estimators": 20},
    )


def test_table_keeps_kds_mode_order_and_shows_every_student_family(two_families):
    """Modes in kd's order (not alphabetical); with two families, one block each, in run order."""
    table = two_families.table("error")
    assert list(table.columns) == ["raw", "vanilla", "crossfit", "corrected", "teacher"]
    assert list(table.index) == [("tree", "4"), ("tree", "8"), ("gbdt", "10")]
    summary = two_families.summary
    cell = summary[
        (summary.student == "gbdt") & (summary["size"] == "10") & (summary["mode"] == "raw")
        & (summary.metric == "error")
    ]  # fmt: skip
    assert table.loc[("gbdt", "10"), "raw"] == pytest.approx(cell["mean"].iloc[0])
    gbdt = two_families.table("error", student="gbdt")  # one family: sizes alone
    assert list(gbdt.index) == ["10"]
    assert list(gbdt.columns) == list(table.columns)


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [("student", "rf", "it has tree, gbdt"), ("metric", "erorr", "error"),
     ("teacher", "xgboost", "it has lightgbm")],
)  # fmt: skip
def test_table_refuses_what_the_result_does_not_hold_in_one_line(
    two_families, setting, value, named
):
    with pytest.raises(SettingError) as caught:
        two_families.table(**{"metric": "error", setting: value})
    message = str(caught.value)
    assert caught.value.param == setting and "\n" not in message
    assert f"{setting} '{value}' is not in this result" in message and named in message


def test_a_script_without_the_main_guard_runs_its_study(tmp_path):
    """Workers never run the caller's script again: were they to, each would start the study
    anew, find the folder in use, and every unit would fail."""
    done = run_unguarded_script(tmp_path, "local")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "units 2 failed 0" in done.stdout, done.stdout
    assert done.stdout.count("units 2") == 1  # the script ran once, not once more per worker
    assert "| size |" in done.stdout


def test_the_names_of_kd_0_1_still_work_and_say_what_replaced_them():
    for old, new in kdcli.RENAMED.items():
        with pytest.warns(DeprecationWarning, match=f"kdcli.{old} is now kdcli.{new}"):
            assert getattr(kdcli, old) is getattr(kdcli, new)
