"""Suites and `kd datasets list/fetch` without a network."""

import json

import pytest

from kdcli.data.suites import available_suites, read_manifest, select, suite_members
from kdcli.errors import KDError

from conftest import one_line_error, shared_path

CC18 = [
    3,
    6,
    11,
    12,
    14,
    15,
    16,
    18,
    22,
    23,
    28,
    29,
    31,
    32,
    37,
    43,
    45,
    49,
    53,
    219,
    2074,
    2079,
    3021,
    3022,
    3481,
    3549,
    3560,
    3573,
    3902,
    3903,
    3904,
    3913,
    3917,
    3918,
    7592,
    9910,
    9946,
    9952,
    9957,
    9960,
    9964,
    9971,
    9976,
    9977,
    9978,
    9981,
    9985,
    10093,
    10101,
    14952,
    14954,
    14965,
    14969,
    14970,
    125920,
    125922,
    146195,
    146800,
    146817,
    146819,
    146820,
    146821,
    146822,
    146824,
    146825,
    167119,
    167120,
    167121,
    167124,
    167125,
    167140,
    167141,
]


def test_openml_cc18_manifest_is_the_72_tasks_of_suite_99():
    members = suite_members("openml-cc18")
    assert [m.task_id for m in members] == CC18
    assert all(m.spec == f"openml-task:{m.task_id}" for m in members)
    assert len({m.name for m in members}) == 72
    assert all(m.rows and m.features and m.classes >= 2 and m.dataset_id for m in members)
    by_name = {m.name: m for m in members}
    assert (by_name["adult"].task_id, by_name["adult"].dataset_id) == (7592, 1590)
    assert by_name["letter"].classes == 26


def test_paper_and_demo_suites():
    assert {"openml-cc18", "paper", "demo"} <= set(available_suites())
    paper = {m.name: m.spec for m in suite_members("paper")}
    assert paper == {
        "MagicTelescope": "openml:1120",
        "adult": "openml:1590",
        "higgs": "openml:23512",
    }
    demo = suite_members("demo")
    assert all(m.spec.split(":")[0] in ("sklearn", "synthetic") for m in demo)


def test_select_members_by_name():
    members = suite_members("openml-cc18")
    assert [m.name for m in select(members, "car,adult")] == ["car", "adult"]
    with pytest.raises(KDError, match=r"no dataset 'mnist'.*did you mean mnist_784"):
        select(members, "mnist")


def test_manifest_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,rows\na,3\n")
    with pytest.raises(KDError, match="lacks the column"):
        read_manifest(bad)
    dup = tmp_path / "dup.csv"
    dup.write_text("name,spec\na,sklearn:iris\na,sklearn:wine\n")
    with pytest.raises(KDError, match="names 'a' twice"):
        read_manifest(dup)
    with pytest.raises(KDError, match="unknown suite 'nope'"):
        suite_members("nope")


def test_list_cc18_offline_as_json(kd, tmp_path):
    code, out, err = kd(
        "datasets", "list", "--suite", "openml-cc18", "--json", "--cache-dir", tmp_path
    )
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 72 and {r["cached"] for r in rows} == {"no"}
    assert rows[0] == {
        "name": "kr-vs-kp",
        "spec": "openml-task:3",
        "rows": 3196,
        "features": 36,
        "classes": 2,
        "cached": "no",
        "notices": [],
    }


def test_list_table_and_selection(kd, tmp_path):
    code, out, _ = kd("datasets", "list", "--cache-dir", tmp_path)
    assert code == 0 and "breast_cancer" in out and "bundled" in out
    code, out, _ = kd(
        "datasets",
        "list",
        "--suite",
        "openml-cc18",
        "--datasets",
        "adult,car",
        "--cache-dir",
        tmp_path,
    )
    assert code == 0 and "adult" in out and "car" in out and "letter" not in out
    code, _, err = kd("datasets", "list", "--suite", "openml-cc18", "--datasets", "nope")
    assert code == 2 and err.startswith("kd: error: the suite has no dataset 'nope'")


def test_dir_suite_lists_the_shared_files(kd):
    folder = shared_path("datasets")
    code, out, err = kd("datasets", "list", "--suite", f"dir:{folder}", "--json")
    assert code == 0, err
    rows = {r["name"]: r for r in json.loads(out)}
    assert len(rows) == 28 and "MANIFEST" not in rows
    assert (rows["magic"]["rows"], rows["magic"]["features"], rows["magic"]["classes"]) == (
        19020,
        10,
        2,
    )


def test_fetch_needs_something_and_local_members_need_nothing(kd, tmp_path):
    code, _, err = kd("datasets", "fetch")
    assert code == 2 and "name datasets to fetch" in err
    code, _, err = kd("datasets", "fetch", "--suite", "demo", "--cache-dir", tmp_path)
    assert code == 0 and "6 local" in err and "0 failed" in err


def test_dir_suite_members_sharing_a_stem_get_full_names(kd, tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"x": range(30), "target": [0, 1, 2] * 10})
    frame.to_csv(tmp_path / "data.csv", index=False)
    frame.to_parquet(tmp_path / "data.parquet")
    frame.to_csv(tmp_path / "other.csv", index=False)
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    names = [m.name for m in suite_members(f"dir:{tmp_path}")]
    assert names == ["broken", "data.csv", "data.parquet", "other"]
    code, out, err = kd("datasets", "list", "--suite", f"dir:{tmp_path}", "--json")
    assert code == 0, err
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["broken"]["cached"] == "unreadable" and rows["other"]["rows"] == 30


BAD_IDS = ["openml:abc", "openml:-1", "openml:", "openml:1.5", "openml-task:x", "openml-task:0"]


@pytest.mark.parametrize("spec", [*BAD_IDS, "iris", "foo:bar"])
def test_fetch_of_a_spec_that_names_no_dataset_is_one_line_before_any_fetch(kd, tmp_path, spec):
    """Was: a 'failed' line, a summary and exit 1, as for a download that failed."""
    args = ("datasets", "fetch", "sklearn:iris", spec, "--offline", "--cache-dir", tmp_path)
    code, out, err = kd(*args)
    line = one_line_error(code, out, err)
    assert spec in line and "local" not in err  # refused before the first member was looked at
    if spec.startswith("openml"):
        assert "needs a positive integer id" in line or "names no dataset" in line


@pytest.mark.parametrize("spec", BAD_IDS)
def test_fit_of_a_bad_openml_id_is_one_line(kd, tmp_path, spec):
    line = one_line_error(*kd("fit", "--dataset", spec, "--offline", "--cache-dir", tmp_path))
    assert spec in line
