"""select_rows (--select-rows): its default, spellings and refusals, and its place among the
settings that identify a run (run.json, a study's fingerprint, a reference's header)."""

from __future__ import annotations

import json

import pytest

from kdcli.errors import SettingError
from kdcli.settings import DEFAULTS, FitSettings, fit_settings, study_settings

SMALL = ["--dataset", "sklearn:breast_cancer", "--threads", "1"]


def test_default_and_spellings_of_every_row():
    assert DEFAULTS["select_rows"] == 100_000 and fit_settings().select_rows == 100_000
    for every in (0, "0", "all", " ALL "):
        assert fit_settings(select_rows=every).select_rows is None
    assert fit_settings(select_rows="20000").select_rows == 20_000
    assert fit_settings(select_rows=100).select_rows == 100


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (99, "must be at least 100 (or 0 or all: every training row), got 99"),
        (-1, "must be at least 0"),
        ("many", "must be a whole number"),
        (True, "must be a whole number"),
        ("1e5", "must be a whole number"),
    ],
)
def test_refusals_name_the_setting(value, message):
    with pytest.raises(SettingError) as err:
        fit_settings(select_rows=value)
    assert err.value.param == "select_rows" and message in err.value.message


def test_recorded_in_the_settings_and_read_back():
    spec = fit_settings(select_rows=20_000)
    d = spec.to_dict()
    assert d["select_rows"] == 20_000 and FitSettings.from_dict(d) == spec
    assert fit_settings().to_dict()["select_rows"] == 100_000
    # every row, as every run before the setting: recorded as those runs were, and read so
    every = fit_settings(select_rows="all")
    assert "select_rows" not in every.to_dict()
    assert FitSettings.from_dict(every.to_dict()) == every
    older = {k: v for k, v in fit_settings().to_dict().items() if k != "select_rows"}
    assert FitSettings.from_dict(older).select_rows is None


def test_a_study_is_identified_by_it():
    prints = {
        rows: study_settings("demo", "breast_cancer", select_rows=rows).fingerprint()
        for rows in (None, 20_000, "all")
    }
    assert len(set(prints.values())) == 3  # default 100,000, 20,000 and every row


def test_cli_option_in_help_run_json_and_refusals(kd, tmp_path):
    for command in ("fit", "benchmark"):
        code, out, _ = kd(command, "--help")
        assert code == 0 and "--select-rows" in out
    out = tmp_path / "run"
    args = [*SMALL, "--sizes", "8", "--modes", "corrected", "--teacher-param", "n_estimators=20"]
    code, _, err = kd("fit", *args, "--select-rows", "200", "--out", out, "--quiet")
    assert code == 0, err
    assert json.loads((out / "run.json").read_text())["settings"]["fit"]["select_rows"] == 200
    code, _, err = kd("fit", *args, "--select-rows", "50")
    assert code == 2 and "--select-rows must be at least 100" in err
    code, _, err = kd("fit", *args, "--select-rows", "half")
    assert code == 2 and "--select-rows must be a whole number" in err
