"""The OpenML path end to end: the real `openml` client against a real HTTP server on 127.0.0.1
serving the real files in ../shared/openml-format. No test reaches the internet."""

import functools
import json

import arff
import numpy as np
import openml
import pandas as pd
import pytest

from kdcli.data import load_dataset
from kdcli.data.openml_source import OpenMLConfig
from kdcli.errors import DataUnavailable, KDError
from kdcli.experiment.splits import make_splits
from kdcli.settings import fit_settings

from conftest import SHARED
from support.openml_server import OpenMLTestServer

FORMAT = SHARED / "openml-format"
FAST = ["--teacher-param", "n_estimators=10", "--threads", "1", "--sizes", "8"]


@pytest.fixture
def server(monkeypatch):
    if not FORMAT.exists():
        pytest.skip(f"{FORMAT} not found: ../shared is not beside this checkout")
    monkeypatch.setenv("KD_OPENML_RETRIES", "3")
    monkeypatch.setenv("KD_OPENML_BACKOFF", "0.01")
    monkeypatch.setenv("KD_OPENML_TIMEOUT", "2")
    with OpenMLTestServer(FORMAT) as srv:
        yield srv


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def cfg_for(server, cache, offline=False):
    return OpenMLConfig.from_env(cache, server.url, offline)


def net(server, cache):
    return ["--openml-server", server.url, "--cache-dir", str(cache)]


@functools.cache
def _official_test_splits() -> np.ndarray:
    """(repeat, fold, rowid) of every TEST row of the task's own ARFF, parsed independently of
    kd, once: the file holds all 100 splits."""
    with open(FORMAT / "cache/org/openml/test/tasks/1882/datasplits.arff") as fh:
        data = arff.load(fh)
    names = [a[0].lower() for a in data["attributes"]]
    col = {n: i for i, n in enumerate(names)}
    return np.array(
        [
            (int(r[col["repeat"]]), int(r[col["fold"]]), int(r[col["rowid"]]))
            for r in data["data"]
            if r[col["type"]] == "TEST"
        ]
    )


def official_test_rows(repeat, fold):
    """Rows the task's own ARFF marks TEST for (repeat, fold)."""
    splits = _official_test_splits()
    return np.sort(splits[(splits[:, 0] == repeat) & (splits[:, 1] == fold), 2])


def test_fetch_then_offline_reuse_with_the_server_stopped(server, cache, kd, tmp_path):
    code, _, err = kd("datasets", "fetch", "openml-task:1882", *net(server, cache))
    assert code == 0, err
    assert "fetched" in err and "1 fetched" in err
    seen = len(server.requests)
    assert seen >= 4
    # fetching again asks nothing of the server
    code, _, err = kd("datasets", "fetch", "openml-task:1882", *net(server, cache))
    assert code == 0 and "already cached" in err
    assert len(server.requests) == seen
    server.stop()
    out = tmp_path / "out"
    code, _, err = kd(
        "fit",
        "--dataset",
        "openml-task:1882",
        "--folds-outer",
        "0-1",
        "--offline",
        *net(server, cache),
        *FAST,
        "--out",
        out,
        "--quiet",
    )
    assert code == 0, err
    results = pd.read_csv(out / "results.csv")
    assert sorted(results["fold"].unique()) == [0, 1]
    assert set(results["mode"]) == {"teacher", "raw", "vanilla", "crossfit", "corrected"}
    record = json.loads((out / "run.json").read_text())
    assert record["dataset"]["rows"] == 898 and record["dataset"]["classes"] == 5
    assert record["settings"]["fit"]["outer_folds"] == [0, 1]


def test_official_splits_are_the_outer_folds(server, cache):
    ds = load_dataset("openml-task:1882", None, cfg_for(server, cache))
    assert len(ds.outer_splits) == 100  # 10 repeats x 10 folds
    splits = make_splits(ds, fit_settings(repeats=2, folds_outer=[0, 3]))
    assert [(s.repeat, s.fold) for s in splits] == [(0, 0), (0, 3), (1, 0), (1, 3)]
    for s in splits:
        np.testing.assert_array_equal(s.test, official_test_rows(s.repeat, s.fold))
        assert len(np.intersect1d(s.train, s.test)) == 0
        assert len(s.train) + len(s.test) == 898


def test_anneal_is_messy_and_loads(server, cache):
    ds = load_dataset("openml:2", None, cfg_for(server, cache))
    assert ds.n_rows == 898
    # the class with zero instances is dropped; string labels keep their names
    assert ds.class_names == ["1", "2", "3", "5", "U"]
    assert np.bincount(ds.y).tolist() == [8, 99, 684, 67, 40]
    cats = [c for c in ds.X.columns if isinstance(ds.X[c].dtype, pd.CategoricalDtype)]
    assert len(cats) >= 20  # nominal features stay categorical
    assert ds.X.isna().sum().sum() > 5000  # missing values stay missing
    # columns with no observed value are dropped (38 features, 6 all-missing)
    assert ds.X.shape[1] == 32


def test_a_server_that_answers_500_then_recovers(server, cache, kd):
    server.fail_next(2, status=500)
    code, _, err = kd("datasets", "fetch", "openml:2", *net(server, cache))
    assert code == 0, err
    assert server.requests.count("/api/v1/xml/data/2") >= 3  # two failures, then success


def test_a_server_that_keeps_failing_gives_one_line(server, cache, kd):
    server.fail_next(50, status=503)
    code, _, err = kd("fit", "--dataset", "openml:2", *net(server, cache), *FAST)
    assert code == 3
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "after 3 tries" in lines[0] and server.url in lines[0]
    assert not (cache / "openml").exists() or not any((cache / "openml").rglob("meta.json"))


def test_a_silent_server_times_out_and_is_retried(server, cache, monkeypatch):
    monkeypatch.setenv("KD_OPENML_TIMEOUT", "0.5")
    server.hang_next(1, 5)
    ds = load_dataset("openml:61", None, cfg_for(server, cache))
    assert ds.n_rows == 150 and ds.n_classes == 3


def test_an_interrupted_download_is_retried(server, cache):
    server.truncate_next(1)
    ds = load_dataset("openml:2", None, cfg_for(server, cache))
    assert ds.n_rows == 898


def test_a_corrupted_cached_file_is_detected_and_fetched_again(server, cache, kd):
    assert kd("datasets", "fetch", "openml:2", *net(server, cache))[0] == 0
    entry = cfg_for(server, cache).dataset_entry(2)
    data = entry / "data.parquet"
    blob = bytearray(data.read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # one flipped byte, same size
    data.write_bytes(bytes(blob))
    # offline: reported with the path to delete, nothing changed
    code, _, err = kd("fit", "--dataset", "openml:2", "--offline", *net(server, cache), *FAST)
    assert (
        code == 3 and str(entry) in err and "damaged" in err and len(err.strip().splitlines()) == 1
    )
    # online: fetched again, and the run works
    before = len(server.requests)
    code, _, err = kd("datasets", "fetch", "openml:2", *net(server, cache))
    assert code == 0 and "replaced a damaged cache entry" in err
    assert len(server.requests) > before
    assert load_dataset("openml:2", None, cfg_for(server, cache, offline=True)).n_rows == 898


def test_a_truncated_or_half_written_entry_never_reads_as_valid(server, cache):
    cfg = cfg_for(server, cache)
    load_dataset("openml:61", None, cfg)
    entry = cfg.dataset_entry(61)
    data = entry / "data.parquet"
    data.write_bytes(data.read_bytes()[:100])  # cut short
    with pytest.raises(DataUnavailable, match="damaged"):
        load_dataset("openml:61", None, cfg_for(server, cache, offline=True))
    # a download killed before meta.json was written: the folder exists but is not an entry
    (entry / "meta.json").unlink()
    with pytest.raises(DataUnavailable, match="damaged"):
        load_dataset("openml:61", None, cfg_for(server, cache, offline=True))
    assert load_dataset("openml:61", None, cfg).n_rows == 150  # online: replaced


def test_no_network_and_not_cached(server, cache, kd):
    code, _, err = kd("fit", "--dataset", "openml:2", "--offline", *net(server, cache), *FAST)
    assert code == 3
    line = err.strip()
    assert len(line.splitlines()) == 1
    assert (
        "OpenML dataset 2" in line and str(cache) in line and "kd datasets fetch openml:2" in line
    )
    assert server.requests == []  # offline never touches the network
    server.stop()  # and with the network really gone but not offline: a clear line too
    code, _, err = kd("fit", "--dataset", "openml:2", *net(server, cache), *FAST)
    assert code == 3 and "could not fetch dataset 2" in err and len(err.strip().splitlines()) == 1


def test_unknown_ids_are_clear_errors(server, cache, kd):
    code, _, err = kd("fit", "--dataset", "openml:999999", *net(server, cache))
    assert code == 2 and "has no dataset 999999" in err
    code, _, err = kd("fit", "--dataset", "openml-task:999999", *net(server, cache))
    assert code == 2 and "has no task 999999" in err
    code, _, err = kd("fit", "--dataset", "openml:abc", *net(server, cache))
    assert code == 2 and "positive integer id" in err


def test_kd_fit_on_the_task_end_to_end(server, cache, kd):
    code, out, err = kd(
        "fit", "--dataset", "openml-task:1882", "--folds-outer", "0", *net(server, cache), *FAST
    )
    assert code == 0, err
    assert "anneal" in out or "tree student" in out
    assert "crossfit" in out


def test_max_rows_subsamples_and_keeps_official_folds(server, cache):
    ds = load_dataset("openml-task:1882", None, cfg_for(server, cache)).subsample(400, seed=0)
    assert ds.n_rows == 400 and ds.meta["max_rows"] == 400
    s = ds.outer_splits[0]
    assert len(s.train) + len(s.test) == 400 and len(np.intersect1d(s.train, s.test)) == 0


def test_client_settings_are_restored(server, cache):
    before = openml.config.get_config_as_dict()
    load_dataset("openml:61", None, cfg_for(server, cache))
    after = openml.config.get_config_as_dict()
    assert after == before


def test_a_task_fixes_its_target(server, cache):
    with pytest.raises(KDError, match="has its own target"):
        load_dataset("openml-task:1882", "class", cfg_for(server, cache))
    assert server.requests == []  # refused before any download


def test_fetch_a_suite_keeps_going_past_a_failure(server, cache, kd, tmp_path):
    manifest = tmp_path / "mine.csv"
    manifest.write_text(
        "name,spec\nanneal-task,openml-task:1882\nghost,openml:999999\niris,sklearn:iris\n"
    )
    code, _, err = kd("datasets", "fetch", "--suite", manifest, *net(server, cache))
    assert code == 1  # one member failed
    assert "1 fetched, 0 already cached, 1 local, 1 failed" in err
    assert "failed ghost" in err.replace("  ", " ")
    code, out, _ = kd(
        "datasets",
        "list",
        "--suite",
        manifest,
        "--json",
        "--cache-dir",
        cache,
        "--openml-server",
        server.url,
    )
    cached = {r["name"]: r["cached"] for r in json.loads(out)}
    assert cached == {"anneal-task": "yes", "ghost": "no", "iris": "bundled"}


def test_a_numeric_target_is_refused_as_regression(server, cache, kd):
    code, _, err = kd("fit", "--dataset", "openml:2", "--target", "thick", *net(server, cache))
    assert code == 2
    assert "numeric target 'thick' (a regression problem)" in err
    assert len(err.strip().splitlines()) == 1


def test_a_study_member_unavailable_offline_is_planned_once_fetched(server, cache, kd, tmp_path):
    suite = tmp_path / "suite.csv"
    suite.write_text("name,spec\nanneal,openml:2\niris,sklearn:iris\n")
    args = [
        "benchmark",
        "--suite",
        suite,
        "--out",
        tmp_path / "study",
        *net(server, cache),
        "--teacher-param",
        "n_estimators=20",
        "--sizes",
        "4",
        "--threads",
        "1",
        "--quiet",
    ]
    code, _, err = kd(*args, "--offline")
    assert code == 1 and "anneal__plan" in err and "kd datasets fetch openml:2" in err
    assert server.requests == []
    code, stdout, err = kd(*args, "--json")  # online now: planned, fetched once, run
    assert code == 0, err
    report = json.loads(stdout)
    assert report["units_failed"] == 0 and report["units_run"] == 1  # iris was done before
    assert not (tmp_path / "study" / "failures" / "anneal__plan.json").exists()
