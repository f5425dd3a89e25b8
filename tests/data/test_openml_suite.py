"""Live OpenML suites (`--suite openml-suite:ID`): the real `openml` client against the local
OpenML server serving the real study_suite.xml (suite 146: tasks 4, 5 and 6, one of them a
regression task), the manifest cached, read offline, and written for a person to edit."""

import json
from pathlib import Path

import pytest
from test_openml import cache, cfg_for, net, server  # noqa: F401  (fixtures)

from kdcli.data.openml_suite import suite_entry, suite_key
from kdcli.data.suites import read_manifest, suite_members
from kdcli.errors import KDError

from conftest import one_line_error

SUITE = "openml-suite:146"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_a_live_suite_is_resolved_cached_and_its_regression_task_skipped(server, cache):  # noqa: F811
    notices: list[str] = []
    members = suite_members(SUITE, openml=cfg_for(server, cache), notice=notices.append)
    assert [(m.name, m.spec, m.task_id, m.dataset_id) for m in members] == [
        ("iris", "openml-task:4", 4, 61),
        ("anneal", "openml-task:5", 5, 2),
    ]
    assert (members[0].rows, members[0].classes, members[1].rows) == (150, 3, 898)
    assert notices == [
        f"{SUITE}: 1 of 3 tasks are not classification and are skipped: task 6 (iris, "
        "Supervised Regression)"
    ]
    assert server.requests[0] == "/api/v1/xml/study/146"
    assert any(r.startswith("/api/v1/xml/task/list/task_id/4,5,6") for r in server.requests)

    asked = len(server.requests)
    again = suite_members(SUITE, openml=cfg_for(server, cache, offline=True))
    assert again == members and len(server.requests) == asked  # offline: from kd's cache


def test_a_damaged_cached_manifest_is_fetched_again_or_named_offline(server, cache):  # noqa: F811
    cfg = cfg_for(server, cache)
    suite_members(SUITE, openml=cfg)
    manifest = suite_entry(cfg, "146") / "manifest.csv"
    manifest.write_text(manifest.read_text().replace("anneal", "annea1"))
    with pytest.raises(KDError, match="damaged"):
        suite_members(SUITE, openml=cfg_for(server, cache, offline=True))
    members = suite_members(SUITE, openml=cfg)  # online: replaced by a fresh copy
    assert [m.name for m in members] == ["iris", "anneal"]


def test_offline_with_nothing_cached_and_bad_names_are_one_line(server, cache, kd):  # noqa: F811
    code, _, err = kd("datasets", "list", "--suite", SUITE, *net(server, cache))
    assert code == 3 and len(err.strip().splitlines()) == 1  # data unavailable, as for datasets
    assert "OpenML suite 146 is not in the cache" in err and "kd datasets fetch" in err
    line = one_line_error(
        *kd("datasets", "manifest", "--suite", "openml-suite:", *net(server, cache))
    )
    assert "needs a suite id or alias, e.g. openml-suite:99" in line
    line = one_line_error(
        *kd("datasets", "manifest", "--suite", "openml-suite:999", *net(server, cache))
    )
    assert "has no suite 999" in line
    assert suite_key("cc18") == "99" and suite_key("amlb-classification") == "271"


def test_kd_writes_a_manifest_a_person_edits_and_runs(server, cache, kd, tmp_path):  # noqa: F811
    code, out, err = kd("datasets", "manifest", "--suite", SUITE, *net(server, cache))
    assert code == 0, err
    assert "1 of 3 tasks are not classification" in err
    lines = out.splitlines()
    assert lines[0].startswith("# kd suite manifest of openml-suite:146")
    assert lines[1].startswith("# openml-suite:146: 1 of 3 tasks are not classification")
    edited = tmp_path / "my.csv"
    edited.write_text("\n".join(line for line in lines if "anneal" not in line) + "\n")
    (member,) = read_manifest(edited)
    assert (member.name, member.spec, member.rows, member.classes) == (
        "iris",
        "openml-task:4",
        150,
        3,
    )
    code, out, err = kd("datasets", "list", "--suite", SUITE, "--json", *net(server, cache))
    assert code == 0, err  # offline (list never fetches): the cached suite
    assert '"name": "anneal"' in out and "not classification" in err


def test_the_cc18_example_config_runs_a_live_suite(server, cache, kd, tmp_path):  # noqa: F811
    """examples/cc18.toml with the local server's suite 146 in place of CC18 (the command line
    overrides the file): its classification task on anneal runs on OpenML's own fold 0."""
    out = tmp_path / "study"
    small = ["--teacher-param", "n_estimators=10", "--sizes", "2", "--folds-outer", "0"]
    args = ["benchmark", "--config", EXAMPLES / "cc18.toml", "--suite", SUITE, "--out", out]
    code, stdout, err = kd(*args, *net(server, cache), "--datasets", "anneal", *small, "--json")
    assert code == 0, err
    assert "1 of 3 tasks are not classification and are skipped" in err
    record = json.loads((out / "run.json").read_text())
    assert record["settings"]["members"] == [{"name": "anneal", "spec": "openml-task:5"}]
    assert record["config"]["suite"] == SUITE and record["config"]["jobs"] == 2  # file + CLI
    assert json.loads(stdout)["units_run"] == 1 and (out / "results.parquet").is_file()
