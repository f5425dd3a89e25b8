"""Planning a study: one unit per member x repeat x teacher, bad members reported, not fatal."""

import json
import re

import pytest

from kdcli.data.openml_source import OpenMLConfig
from kdcli.records import RESULT_COLUMNS
from kdcli.settings import study_settings
from kdcli.study.plan import PlanFailure, Unit, plan_units
from kdcli.study.unit import payload, run_unit

ODD = "odd name/with:chars"
MANIFEST = f"""# a small suite: bundled and synthetic data, and one member that cannot be had offline
name,spec
flowers,sklearn:iris
wine,sklearn:wine
{ODD},synthetic:binary?n=200&d=5
missing,openml:999999999
"""
SETTINGS = {"teacher_param": ["n_estimators=10"], "sizes": "4", "folds": 3}


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "suite.csv"
    path.write_text(MANIFEST)
    return str(path)


@pytest.fixture
def cfg(tmp_path):
    """Offline, with an empty cache of its own: nothing is fetched, nothing shared is touched."""
    return OpenMLConfig(cache_dir=tmp_path / "cache", offline=True)


def test_units_are_members_times_repeats_times_teachers(manifest, cfg):
    """The unplannable member is reported and skipped; every other one is planned in full."""
    study = study_settings(manifest, teacher="lightgbm,rf", repeats=2, **SETTINGS)
    seen = []
    units, failures = plan_units(study, cfg, seen.append)
    assert seen == ["flowers", "wine", ODD, "missing"]
    assert len(units) == 3 * 2 * 2
    assert {(u.dataset, u.repeat, u.fold, u.teacher) for u in units} == {
        (d, r, 0, t) for d in ("flowers", "wine", ODD) for r in (0, 1) for t in ("lightgbm", "rf")
    }
    assert [u.spec for u in units if u.dataset == "flowers"] == ["sklearn:iris"] * 4
    assert len(failures) == 1
    (failure,) = failures
    assert isinstance(failure, PlanFailure)
    assert (failure.dataset, failure.spec) == ("missing", "openml:999999999")
    assert "offline" in failure.error


def test_a_suite_of_only_bad_members_plans_nothing(tmp_path, cfg):
    path = tmp_path / "bad.csv"
    path.write_text("name,spec\na,openml:999999999\nb,openml:999999998\n")
    units, failures = plan_units(study_settings(str(path), **SETTINGS), cfg)
    assert units == []
    assert [f.dataset for f in failures] == ["a", "b"]


def test_datasets_select_members_in_the_order_given(manifest, cfg):
    study = study_settings(manifest, datasets="wine,flowers", **SETTINGS)
    units, failures = plan_units(study, cfg)
    assert [u.dataset for u in units] == ["wine", "flowers"]
    assert failures == []


def test_unit_ids_are_unique_and_safe_file_names(manifest, cfg, tmp_path):
    """A unit's id names its result file: no separators, no clashes, even for odd names."""
    study = study_settings(manifest, teacher="lightgbm,xgboost", repeats=3, **SETTINGS)
    units, _ = plan_units(study, cfg)
    ids = [u.unit_id for u in units]
    assert len(set(ids)) == len(ids) == 3 * 3 * 2
    for uid in ids:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+", uid), uid
        assert uid not in (".", "..")
    folder = tmp_path / "units"
    folder.mkdir()
    for uid in ids:
        (folder / f"{uid}.parquet").write_text("")
    assert sorted(p.stem for p in folder.iterdir()) == sorted(ids)


def test_distinct_members_never_share_a_unit_id():
    """'set a' and 'set/a' are different manifest names; they must not share a unit file
    (run_study would keep one member's results twice and lose the other's)."""
    pairs = [("set a", "set/a"), ("x" * 60 + "1", "x" * 60 + "2")]
    for a, b in pairs:
        ua = Unit(a, "sklearn:iris", 0, 0, "lightgbm")
        ub = Unit(b, "sklearn:wine", 0, 0, "lightgbm")
        assert ua.unit_id != ub.unit_id


def test_payload_is_plain_json_and_runs_as_the_member(manifest, cfg):
    """The payload travels to a process or a Dask worker: it must survive JSON unchanged, and
    the records must carry the member's name, not the data source's."""
    study = study_settings(manifest, datasets="flowers", repeats=2, **SETTINGS)
    units, _ = plan_units(study, cfg)
    unit = units[1]
    work = payload(study.fit, unit, cfg, threads=1)
    text = json.dumps(work)
    assert json.loads(text) == work

    out = run_unit(json.loads(text))
    records = out["records"]
    assert records
    assert set(RESULT_COLUMNS) <= set(records[0])
    assert {r["dataset"] for r in records} == {"flowers"}
    assert {r["repeat"] for r in records} == {1}
    assert {r["fold"] for r in records} == {0}
    assert {r["teacher"] for r in records} == {"lightgbm"}
    assert {r["student"] for r in records} == {"teacher", "tree"}
    assert {r["size"] for r in records if r["student"] == "tree"} == {"4"}
    assert out["timings"]["teacher_cached"] is False
    assert (cfg.cache_dir / "teachers").is_dir()  # the cache is the payload's, not a default
