"""A Dask unit's fits spread over the cluster's workers (issue 22): a real LocalCluster."""

import pickle

import pandas as pd
import pytest

import kdcli
from kdcli.data.openml_source import OpenMLConfig
from kdcli.errors import SettingError
from kdcli.science import budget
from kdcli.settings import Execution, study_settings

distributed = pytest.importorskip("distributed")

# one unit with every kind of batch: K + 1 teachers, c and α selection, final students
SETTINGS = {
    "teacher_param": ["n_estimators=20"],
    "sizes": "4,16",
    "folds": 3,
    "modes": "raw,vanilla,crossfit,corrected,mixed",
}
KEYS = ["dataset", "repeat", "fold", "teacher", "student", "size", "mode", "metric"]


def _suite(folder, dataset: str):
    path = folder / "suite.csv"
    path.write_text(f"name,spec\n{dataset},sklearn:{dataset}\n")
    return str(path)


def _run(folder, name, dataset: str, **execution):
    """One unit of ``dataset`` (scikit-learn's) run with ``execution``: its sorted results and
    its timings."""
    cfg = OpenMLConfig(cache_dir=folder / f"{name}-cache", offline=True)  # teachers fitted
    spec = study_settings(_suite(folder, dataset), **SETTINGS)
    report = kdcli.run_study(spec, folder / name, openml=cfg, **execution)
    assert report.done == 1 and not report.failures, report.failures
    (timings,) = [
        pd.read_json(p, typ="series") for p in (folder / name / "units").glob("*.timings.json")
    ]
    results = report.results.sort_values(KEYS).reset_index(drop=True)
    return results, timings


def test_a_lone_dask_unit_runs_its_fits_on_both_workers_with_the_serial_numbers(tmp_path):
    """A unit of wine: with --spread-from 0 each of its fits is shipped, however quick."""
    serial, serial_timings = _run(tmp_path, "serial", "wine", jobs=1, threads=1)
    spread, timings = _run(tmp_path, "dask", "wine", jobs=2, executor="dask", spread_from=0)
    pd.testing.assert_frame_equal(spread, serial)
    fits = timings["trace"]["fits"]
    workers = {f.get("worker") for f in fits if f.get("worker")}
    assert len(workers) == 2, workers  # both workers of the cluster fitted the unit's fits
    stages = {f["stage"] for f in fits if f.get("worker")}
    assert {"crossfit-teacher", "select-c", "select-alpha", "student"} <= stages
    # the fits counted on the workers come back to the unit: the same count as serial
    assert timings["fits"] == serial_timings["fits"] > 0
    assert len(fits) == len(serial_timings["trace"]["fits"])


def test_a_small_dask_unit_keeps_its_fits_to_itself(tmp_path):
    """Below --spread-from (estimated seconds) shipping each fit would cost more than it saves.
    A unit of iris: small, and its fits still every kind of batch."""
    _results, timings = _run(tmp_path, "dask", "iris", jobs=1, executor="dask", spread_from=1e9)
    assert timings["trace"]["fits"]  # fits to look at
    assert not any(f.get("worker") for f in timings["trace"]["fits"])


def test_counts_made_on_a_worker_come_back_to_their_tally():
    """A tally travels to a worker as its key (pickled in memory by Dask, never to disk)."""
    tally = budget.Tally()
    remote = pickle.loads(pickle.dumps(tally))
    out = budget.remote_fit(lambda x: remote.add(0.5) or x * 2, 3, "student", "x", 1, False)
    result, notes, start, end, tokens, _worker = out
    assert (result, tokens) == (6, 1) and end >= start
    assert (tally.count, remote.count) == (0, 0)  # noted, not counted, on the worker
    budget.Tally.replay(notes)
    assert (tally.count, tally.seconds) == (1, 0.5)


@pytest.mark.parametrize("bad", [-1, "soon", float("nan")])
def test_spread_from_must_be_seconds(bad):
    with pytest.raises(SettingError, match="spread"):
        Execution(executor="dask", spread_from=bad)
