"""A study's folder: its record guards resumes; units, failures and tables are plain files."""

import json
import math

import pandas as pd
import pyarrow.parquet as pq
import pytest

from kdcli import records
from kdcli.data.openml_source import OpenMLConfig
from kdcli.errors import KDError
from kdcli.settings import study_settings
from kdcli.study.plan import Unit, plan_units
from kdcli.study.results_dir import ResultsDir
from kdcli.study.unit import payload, run_unit

SETTINGS = {
    "teacher_param": ["n_estimators=10"],
    "sizes": "4",
    "modes": "raw,vanilla",
    "repeats": 2,
}


def _study(suite, **changes):
    return study_settings(suite, **{**SETTINGS, **changes})


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    path = tmp_path_factory.mktemp("suite") / "suite.csv"
    path.write_text("name,spec\nflowers,sklearn:iris\n")
    return str(path)


@pytest.fixture(scope="module")
def finished(suite, tmp_path_factory):
    """Real results of the study's two units (iris, two repeats), computed once."""
    study = _study(suite)
    cfg = OpenMLConfig(cache_dir=tmp_path_factory.mktemp("cache"), offline=True)
    units, failures = plan_units(study, cfg)
    assert failures == []
    return study, [(u, run_unit(payload(study.fit, u, cfg, 1))) for u in units]


def _read_record(path):
    return json.loads((path / "run.json").read_text())


def test_open_starts_a_study_with_its_settings_and_fingerprint(suite, tmp_path):
    study = _study(suite)
    out = tmp_path / "run"
    record = ResultsDir(out).open(study, "kd benchmark first", {"versions": {"kd": "0.1.0"}})
    on_disk = _read_record(out)
    assert on_disk == json.loads(json.dumps(record, default=str))
    assert on_disk["kind"] == "kd-benchmark"
    assert on_disk["settings"] == json.loads(json.dumps(study.to_dict(), default=str))
    assert on_disk["settings"]["fit"]["repeats"] == 2
    assert on_disk["fingerprint"] == study.fingerprint()
    assert [c["command"] for c in on_disk["commands"]] == ["kd benchmark first"]
    assert on_disk["versions"] == {"kd": "0.1.0"}
    assert (out / "units").is_dir() and (out / "failures").is_dir()


def test_open_accepts_an_existing_empty_folder(suite, tmp_path):
    ResultsDir(tmp_path).open(_study(suite), "kd benchmark", {})
    assert (tmp_path / "run.json").is_file()


def test_reopening_with_the_same_settings_resumes(suite, tmp_path):
    """An equal spec built anew resumes: the command is appended, the origin kept."""
    ResultsDir(tmp_path).open(_study(suite), "kd benchmark first", {})
    first = _read_record(tmp_path)
    record = ResultsDir(tmp_path).open(_study(suite), "kd benchmark again", {})
    assert [c["command"] for c in record["commands"]] == [
        "kd benchmark first",
        "kd benchmark again",
    ]
    on_disk = _read_record(tmp_path)
    assert len(on_disk["commands"]) == 2
    assert on_disk["created"] == first["created"]
    assert on_disk["fingerprint"] == first["fingerprint"]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"repeats": 3}, "fit.repeats"),
        ({"seed": 5}, "fit.seed"),
        ({"teacher_param": ["n_estimators=11"]}, "fit.teachers"),
        # a new student also changes the sizes: the one a person changed is named
        ({"student": "linear"}, "fit.students"),
    ],
)
def test_reopening_with_other_settings_is_refused(suite, tmp_path, changes, named):
    """Mixing two studies' units in one folder would make every table wrong."""
    ResultsDir(tmp_path).open(_study(suite), "kd benchmark first", {})
    before = (tmp_path / "run.json").read_text()
    with pytest.raises(KDError, match=rf"\({named} differs\)"):
        ResultsDir(tmp_path).open(_study(suite, **changes), "kd benchmark other", {})
    assert (tmp_path / "run.json").read_text() == before


def test_other_members_are_refused(suite, tmp_path):
    ResultsDir(tmp_path).open(_study(suite), "kd benchmark", {})
    other = tmp_path / "other.csv"
    other.write_text("name,spec\nwine,sklearn:wine\n")
    with pytest.raises(KDError, match=r"\(members differs\)"):
        ResultsDir(tmp_path).open(_study(str(other)), "kd benchmark", {})


def test_a_folder_with_other_files_is_refused(suite, tmp_path):
    """kd never writes its units among someone else's files."""
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(KDError, match="not empty"):
        ResultsDir(tmp_path).open(_study(suite), "kd benchmark", {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_file_is_refused(suite, tmp_path):
    path = tmp_path / "out"
    path.write_text("")
    with pytest.raises(KDError, match="is a file"):
        ResultsDir(path).open(_study(suite), "kd benchmark", {})


def _written(study, results, path):
    """A study folder holding both finished units, as a run leaves it."""
    store = ResultsDir(path)
    store.open(study, "kd benchmark", {})
    for unit, result in results:
        store.write_unit(unit, result)
    return store


def _reopened(study, path, units):
    notices = []
    store = ResultsDir(path)
    store.open(study, "kd benchmark again", {}, notices.append)
    store.verify(units, notices.append)
    return store, notices


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated: a full disk, an interrupted copy
        lambda text: "",
        lambda text: "[1, 2, 3]",  # valid JSON, but not a study record
    ],
    ids=["truncated", "empty", "foreign"],
)
def test_a_damaged_record_is_set_aside_and_the_finished_units_kept(finished, tmp_path, damage):
    study, results = finished
    units = [u for u, _ in results]
    _written(study, results, tmp_path)
    record = tmp_path / "run.json"
    record.write_text(damage(record.read_text()))
    store, notices = _reopened(study, tmp_path, units)
    assert len(notices) == 1 and "run.json was damaged" in notices[0]
    assert "set aside" in notices[0]
    assert all(store.done(u) for u in units)  # both units kept: they carry the study's mark
    assert _read_record(tmp_path)["fingerprint"] == study.fingerprint()
    assert len(list((tmp_path / "damaged").glob("run.json.*"))) == 1


def test_after_a_damaged_record_units_of_other_settings_are_set_aside(finished, tmp_path):
    study, results = finished
    units = [u for u, _ in results]
    _written(study, results, tmp_path)
    (tmp_path / "run.json").write_text("{not json")
    other = _study(study.suite, sizes="5")
    store, notices = _reopened(other, tmp_path, units)
    assert not any(store.done(u) for u in units)
    assert sum("other settings" in n for n in notices) == 2


def _truncate(path):
    path.write_bytes(path.read_bytes()[:100])


def _zero(path):
    path.write_bytes(b"\0" * path.stat().st_size)


def _foreign(path):
    """A well-formed parquet file that kd did not write (no unit metadata)."""
    pd.read_parquet(path).to_parquet(path)


def _edited(path):
    """kd's metadata kept, one value changed: only the checksum in run.json can tell."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    frame = table.to_pandas()
    frame.loc[0, "value"] += 0.125
    edited = type(table).from_pandas(frame, preserve_index=False)
    pq.write_table(edited.replace_schema_metadata(table.schema.metadata), path)


@pytest.mark.parametrize(
    "damage,reason",
    [
        (_truncate, "unreadable"),
        (_zero, "unreadable"),
        (_foreign, "not written by kd"),
        (_edited, "checksum"),
    ],
    ids=["truncated", "zeroed", "foreign", "edited"],
)
def test_a_damaged_unit_is_set_aside_and_runs_again(finished, tmp_path, damage, reason):
    study, results = finished
    units = [u for u, _ in results]
    _written(study, results, tmp_path)
    victim = tmp_path / "units" / f"{units[0].unit_id}.parquet"
    damage(victim)
    store, notices = _reopened(study, tmp_path, units)
    assert len(notices) == 1 and reason in notices[0] and units[0].unit_id in notices[0]
    assert not store.done(units[0]) and store.done(units[1])
    aside = sorted(p.name.split(".")[1] for p in (tmp_path / "damaged").iterdir())
    assert aside == ["latency", "parquet", "timings"]  # the unit's three files, together
    store.write_unit(*results[0])  # run again: whole once more
    assert _reopened(study, tmp_path, units)[1] == []


def test_another_units_file_in_its_place_is_set_aside(finished, tmp_path):
    study, results = finished
    units = [u for u, _ in results]
    _written(study, results, tmp_path)
    first, second = (tmp_path / "units" / f"{u.unit_id}.parquet" for u in units)
    first.write_bytes(second.read_bytes())
    store, notices = _reopened(study, tmp_path, units)
    assert len(notices) == 1 and f"holds unit '{units[1].unit_id}'" in notices[0]
    assert not store.done(units[0]) and store.done(units[1])


def test_a_damaged_latency_file_is_set_aside_with_its_unit(finished, tmp_path):
    study, results = finished
    units = [u for u, _ in results]
    _written(study, results, tmp_path)
    (tmp_path / "units" / f"{units[1].unit_id}.latency.csv").write_bytes(b'"\0\xff,\n"x')
    store, notices = _reopened(study, tmp_path, units)
    assert len(notices) == 1 and "latency.csv is unreadable" in notices[0]
    assert store.done(units[0]) and not store.done(units[1])


def test_units_of_a_study_begun_before_checksums_are_trusted(finished, tmp_path):
    """A study folder written by an older kd (no unit record, no metadata) still resumes."""
    study, results = finished
    units = [u for u, _ in results]
    _written(study, results, tmp_path)
    for unit in units:
        _foreign(tmp_path / "units" / f"{unit.unit_id}.parquet")
    record = _read_record(tmp_path)
    del record["units"]
    (tmp_path / "run.json").write_text(json.dumps(record))
    store, notices = _reopened(study, tmp_path, units)
    assert notices == [] and all(store.done(u) for u in units)


def test_write_unit_marks_it_done_and_clears_its_failure(finished, tmp_path):
    study, results = finished
    store = ResultsDir(tmp_path)
    store.open(study, "kd benchmark", {})
    unit, result = results[0]
    store.write_failure(unit.unit_id, {"error": "earlier attempt failed"})
    assert store.failed(unit) and not store.done(unit)

    store.write_unit(unit, result)
    assert store.done(unit)
    assert not store.failed(unit)
    assert not store.done(results[1][0])
    saved = pd.read_parquet(tmp_path / "units" / f"{unit.unit_id}.parquet")
    pd.testing.assert_frame_equal(saved, records.frame(result["records"]))
    timings = json.loads((tmp_path / "units" / f"{unit.unit_id}.timings.json").read_text())
    assert timings["fits"] == result["timings"]["fits"]
    assert set(timings) <= {"teacher", "students", "teacher_cached", "fits", "fit_seconds", "trace"}
    latency = pd.read_csv(tmp_path / "units" / f"{unit.unit_id}.latency.csv")
    assert len(latency) == len(result["latency"])
    assert store.unit_timings()[0]["unit"] == unit.unit_id


def test_assemble_has_one_order_whatever_the_write_order(finished, tmp_path):
    """Executors finish units in any order; the tables must not depend on it."""
    study, results = finished
    units = [u for u, _ in results]
    tables = []
    for name, order in (("forward", results), ("backward", results[::-1])):
        store = ResultsDir(tmp_path / name)
        store.open(study, "kd benchmark", {})
        for unit, result in order:
            store.write_unit(unit, result)
        tables.append(store.assemble(units))
        tables.append(store.assemble(units[::-1]))
    for table in tables[1:]:
        pd.testing.assert_frame_equal(table, tables[0])
    every = [r for _, result in results for r in result["records"]]
    assert len(tables[0]) == len(every)
    pd.testing.assert_frame_equal(tables[0], records.ordered(records.frame(every)))
    assert tables[0]["repeat"].tolist() == sorted(tables[0]["repeat"])


def test_assemble_reads_only_the_units_asked_for(finished, tmp_path):
    """Units of the study that are not finished are left out, not an error."""
    study, results = finished
    store = ResultsDir(tmp_path)
    store.open(study, "kd benchmark", {})
    assert store.assemble([u for u, _ in results]).empty
    assert list(store.assemble([]).columns) == records.RESULT_COLUMNS
    unit, result = results[1]
    store.write_unit(unit, result)
    ghost = Unit("ghost", "sklearn:wine", 0, 0, "lightgbm")
    table = store.assemble([results[0][0], unit, ghost])
    assert set(table["repeat"]) == {unit.repeat}
    assert len(table) == len(result["records"])


def _hand_records(dataset, repeat, values):
    """Long-format rows of one unit: the teacher's error and a tree student's error."""
    teacher, student = values
    keys = {"dataset": dataset, "repeat": repeat, "fold": 0, "seed": repeat, "teacher": "rf"}
    return {
        "records": [
            {**keys, "student": "teacher", "size": "", "mode": "teacher"}
            | {"metric": "error", "value": teacher},
            {**keys, "student": "tree", "size": "8", "mode": "raw"}
            | {"metric": "error", "value": student},
        ],
        "latency": [],
        "timings": {"fits": 2},
    }


def test_hand_built_units_assemble_in_the_fixed_order(suite, tmp_path):
    store = ResultsDir(tmp_path)
    store.open(_study(suite), "kd benchmark", {})
    units = [Unit(d, "sklearn:iris", r, 0, "rf") for d in ("b", "a") for r in (1, 0)]
    for i, unit in enumerate(units):
        store.write_unit(unit, _hand_records(unit.dataset, unit.repeat, (i, 10 + i)))
    table = store.assemble(units)
    got = list(zip(table["dataset"], table["repeat"], table["student"], strict=True))
    assert got == [(d, r, s) for d in ("a", "b") for r in (0, 1) for s in ("teacher", "tree")]


def test_failures_are_listed_and_cleared(suite, tmp_path):
    store = ResultsDir(tmp_path)
    store.open(_study(suite), "kd benchmark", {})
    assert store.failure_list() == []
    store.write_failure("zeta__r0_f0__rf", {"error": "boom", "seconds": 1.5})
    store.write_failure("alpha__plan", {"error": "no data", "stage": "plan"})
    listed = store.failure_list()
    assert [f["unit"] for f in listed] == ["alpha__plan", "zeta__r0_f0__rf"]
    assert listed[1]["error"] == "boom" and listed[1]["seconds"] == 1.5
    assert listed[0]["stage"] == "plan"
    assert all("at" in f for f in listed)

    store.clear_failure("zeta__r0_f0__rf")
    store.clear_failure("never__failed")  # clearing what is not there is fine
    assert [f["unit"] for f in store.failure_list()] == ["alpha__plan"]

    (store.failures / "broken.json").write_text("{half")
    assert {"unit": "broken", "error": "unreadable failure record"} in store.failure_list()


def test_write_tables_writes_results_and_summary(suite, tmp_path):
    """Two repeats with errors 1 and 3: mean 2, n 2, se = std / sqrt(n) = 1."""
    store = ResultsDir(tmp_path)
    store.open(_study(suite), "kd benchmark", {})
    units = [Unit("a", "sklearn:iris", r, 0, "rf") for r in (0, 1)]
    store.write_unit(units[0], _hand_records("a", 0, (1.0, 0.5)))
    store.write_unit(units[1], _hand_records("a", 1, (3.0, 0.5)))
    results = store.assemble(units)
    summary = store.write_tables(results)

    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "results.parquet"), results)
    from_csv = pd.read_csv(tmp_path / "results.csv", dtype={"size": str}, keep_default_na=False)
    assert list(from_csv.columns) == records.RESULT_COLUMNS
    assert from_csv["value"].tolist() == results["value"].tolist()
    on_disk = pd.read_csv(tmp_path / "summary.csv", dtype={"size": str}, keep_default_na=False)
    assert set(on_disk.columns) == {*records.CELL, "mean", "n", "se", "nonfinite"}
    assert len(on_disk) == len(summary) == 2
    teacher = summary[summary["student"] == "teacher"].iloc[0]
    assert (teacher["mean"], teacher["n"], teacher["se"]) == (2.0, 2, pytest.approx(1.0))
    tree = summary[summary["student"] == "tree"].iloc[0]
    assert tree["mean"] == 0.5 and tree["se"] == 0.0
    row = on_disk[on_disk["student"] == "teacher"].iloc[0]
    assert math.isclose(row["mean"], 2.0) and row["n"] == 2


def test_the_teacher_cache_never_takes_one_dataset_for_another(tmp_path):
    """Hashes are kept for the dataset in hand only: another one, even a copy made after the first
    is gone, is hashed afresh and gets its own key."""
    import numpy as np
    import pandas as pd

    from kdcli.data.dataset import Dataset
    from kdcli.experiment.splits import make_splits
    from kdcli.settings import fit_settings
    from kdcli.study.teacher_cache import TeacherCache

    cache, spec = TeacherCache(tmp_path), fit_settings()
    X = pd.DataFrame({"a": np.arange(40.0)})
    first = Dataset("d", X, np.arange(40) % 2, ["0", "1"])
    split = make_splits(first, spec)[0]
    key = cache._key(first, split, spec.teacher, 5)
    second = Dataset("d", X.assign(a=X.a * 2), first.y, ["0", "1"])
    assert cache._key(second, split, spec.teacher, 5) != key
    assert cache._key(first, split, spec.teacher, 5) == key


def test_units_record_the_hash_of_the_data_they_were_made_from(finished, tmp_path):
    from kdcli.data import load_dataset
    from kdcli.study.teacher_cache import data_fingerprint

    study, results = finished
    store = _written(study, results, tmp_path)
    iris = load_dataset("sklearn:iris")
    expected = data_fingerprint(iris.X, iris.y)
    for unit, _ in results:
        assert _read_record(tmp_path)["units"][unit.unit_id]["data"] == expected
        meta = pq.read_schema(tmp_path / "units" / f"{unit.unit_id}.parquet").metadata
        assert meta[b"kd.data"].decode() == expected
        assert store.unit_data(unit.unit_id) == expected


def test_units_of_data_that_changed_are_set_aside_as_stale(finished, tmp_path):
    study, results = finished
    units = [u for u, _ in results]
    store = _written(study, results, tmp_path)
    made = store.unit_data(units[0].unit_id)
    notices = []
    assert store.set_aside_stale(units, {"flowers": made}, notices.append) == 0
    assert notices == [] and all(store.done(u) for u in units)
    assert store.set_aside_stale(units, {"other": "x"}, notices.append) == 0  # not this dataset
    assert store.set_aside_stale(units, {"flowers": "0" * 64}, notices.append) == 2
    assert len(notices) == 1 and notices[0].startswith("flowers: its data changed since 2")
    assert "set aside" in notices[0] and str(tmp_path / "stale") in notices[0]
    assert not any(store.done(u) for u in units)
    kept = sorted(p.name.split(".parquet")[0] for p in (tmp_path / "stale").glob("*.parquet*"))
    assert kept == sorted(u.unit_id for u in units)  # moved, never deleted
    assert store.record["units"] == {}


def test_units_without_a_data_hash_are_kept(finished, tmp_path):
    """Units of a study begun before kd recorded data hashes cannot be told stale: kept."""
    study, results = finished
    units = [u for u, _ in results]
    store = _written(study, [(u, {**r, "data": None}) for u, r in results], tmp_path)
    assert store.set_aside_stale(units, {"flowers": "0" * 64}, lambda _t: None) == 0
    assert all(store.done(u) for u in units)


def test_trusted_results_read_the_units_and_leave_out_what_a_resume_would_set_aside(
    finished, tmp_path
):
    study, results = finished
    units = [u for u, _ in results]
    _written(study, results, tmp_path)
    record = _read_record(tmp_path)
    store = ResultsDir(tmp_path)
    notes = []
    whole = store.trusted_results(record, notes.append)
    pd.testing.assert_frame_equal(whole, store_assembled(study, results, tmp_path / "b", units))
    assert notes == []
    (tmp_path / "units" / f"{units[1].unit_id}.parquet").write_bytes(b"PAR1 cut")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    part = store.trusted_results(record, notes.append)
    assert set(part["repeat"]) == {units[0].repeat}
    assert len(notes) == 1 and "1 unit file(s) left out" in notes[0] and "resume" in notes[0]
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # reads only
    notes.clear()
    assert len(store.trusted_results(None, notes.append)) == len(part)  # run.json lost
    assert any("no readable run.json" in n for n in notes)


def store_assembled(study, results, path, units):
    return _written(study, results, path).assemble(units)


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_run_json_that_is_not_a_file_is_refused_not_set_aside(suite, tmp_path, kind):
    """kd moves and rewrites only what it wrote: a folder or FIFO named run.json is not
    'damaged' (and a FIFO would block a read for ever)."""
    import os

    out = tmp_path / "run"
    (out / "units").mkdir(parents=True)
    record = out / "run.json"
    record.mkdir() if kind == "folder" else os.mkfifo(record)
    with pytest.raises(KDError, match=r"run\.json is not a regular file"):
        ResultsDir(out).open(_study(suite), "kd benchmark", {})
    assert not (out / "damaged").exists()
    assert record.is_dir() if kind == "folder" else record.is_fifo()


def test_an_unreadable_run_json_is_named_as_such_not_damaged(suite, tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    ResultsDir(tmp_path).open(_study(suite), "kd benchmark", {})
    (tmp_path / "run.json").chmod(0)
    with pytest.raises(KDError, match=r"cannot read .*run.json \(permission denied\)"):
        ResultsDir(tmp_path).open(_study(suite), "kd benchmark", {})
    assert not (tmp_path / "damaged").exists()


def test_a_study_from_before_select_rows_resumes_only_with_every_row(suite, tmp_path):
    """Its units chose c on every training row: the new default (a subsample above 100,000
    rows) would mix two procedures, so the refusal says which setting resumes it."""
    store = ResultsDir(tmp_path / "study")
    store.open(_study(suite, select_rows="all"), "kd benchmark", {})
    record = json.loads((tmp_path / "study" / "run.json").read_text())
    assert "select_rows" not in record["settings"]["fit"]  # as kd wrote it before the setting
    with pytest.raises(KDError, match=r"before --select-rows existed.*--select-rows all"):
        ResultsDir(tmp_path / "study").open(_study(suite), "kd benchmark", {})
    ResultsDir(tmp_path / "study").open(_study(suite, select_rows="all"), "kd benchmark", {})
