"""CI regression of reported numbers (`make regress`) and `kd check` itself."""

from pathlib import Path

import pandas as pd
import pytest

from kdcli.regress import (
    reference_path,
    reference_record,
    studies,
)
from kdcli.reporting.reference import read_reference
from kdcli.reporting.run_settings import settings_differences

from support.regression import reported_numbers_hold


@pytest.mark.parametrize("name", [n for n, s in sorted(studies().items()) if "reference" not in s])
def test_reported_numbers_hold(name, tmp_path, kd):
    """CI's regression check: the study re-run here, then `kd check` against the reference
    (the paper's CI studies have files of their own: test_replication_*.py)."""
    reported_numbers_hold(name, tmp_path, kd)


@pytest.mark.parametrize("name", [n for n, s in sorted(studies().items()) if "reference" not in s])
def test_committed_references_record_their_study_settings(name):
    """make regress-update writes the settings of the study into its reference, so kd check can
    refuse a run made with others; the committed file matches studies.json (no study is run)."""
    recorded = read_reference(reference_path(name)).settings
    assert recorded is not None, f"{reference_path(name)} records no settings"
    wanted = reference_record(name)
    assert recorded["datasets"] == wanted["datasets"]
    assert set(recorded) == set(wanted)
    assert settings_differences(wanted, recorded, partial=False) == []


@pytest.fixture
def run_dir(tmp_path):
    rows = []
    for repeat, (err, auc) in enumerate([(0.10, 0.90), (0.20, 0.80)]):
        for metric, value in (("error", err), ("auc", auc)):
            rows.append(
                {
                    "dataset": "d",
                    "repeat": repeat,
                    "fold": 0,
                    "seed": repeat,
                    "teacher": "lightgbm",
                    "student": "tree",
                    "size": "8",
                    "mode": "crossfit",
                    "metric": metric,
                    "value": value,
                }
            )
    out = tmp_path / "run"
    out.mkdir()
    pd.DataFrame(rows).to_csv(out / "results.csv", index=False)
    return out


def write_ref(path, rows, tolerance=True):
    cols = "dataset,teacher,student,size,mode,metric,value" + (",tolerance" if tolerance else "")
    path.write_text(cols + "\n" + "\n".join(rows) + "\n")
    return path


def test_check_passes_on_identical_and_fails_on_a_perturbed_cell(kd, run_dir, tmp_path):
    ref = write_ref(
        tmp_path / "ref.csv",
        [
            "d,lightgbm,tree,8,crossfit,error,0.15,0.001",
            "d,lightgbm,tree,8,crossfit,auc,0.85,0.001",
        ],
    )
    code, out, _ = kd("check", run_dir, "--against", ref)
    assert code == 0 and "OK: 2 cells, 2 within tolerance" in out
    write_ref(
        ref,
        [
            "d,lightgbm,tree,8,crossfit,error,0.16,0.005",
            "d,lightgbm,tree,8,crossfit,auc,0.85,0.001",
        ],
    )
    code, out, _ = kd("check", run_dir, "--against", ref)
    assert code == 1
    assert "REGRESSED d lightgbm tree 8 crossfit error: 0.150000 vs reference 0.160000" in out
    assert "FAIL: 2 cells, 1 within tolerance, 1 out of tolerance, 0 missing" in out


def test_check_reports_missing_cells_and_uses_tol(kd, run_dir, tmp_path):
    ref = write_ref(
        tmp_path / "ref.csv",
        ["d,lightgbm,tree,8,crossfit,error,0.152", "d,lightgbm,tree,full,crossfit,error,0.1"],
        tolerance=False,
    )
    code, out, _ = kd("check", run_dir, "--against", ref, "--tol", "0.01")
    assert code == 1 and "MISSING   d lightgbm tree full crossfit error" in out
    assert "1 within tolerance, 0 out of tolerance, 1 missing" in out


def test_check_bad_input_is_exit_2(kd, run_dir, tmp_path):
    code, _, err = kd("check", tmp_path / "nothing", "--against", tmp_path / "ref.csv")
    assert code == 2 and "does not exist" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("dataset,value\nd,1\n")
    code, _, err = kd("check", run_dir, "--against", bad)
    assert code == 2 and "lacks the column(s) teacher" in err
    ref = write_ref(tmp_path / "ref.csv", ["d,lightgbm,tree,8,crossfit,error,0.15"], False)
    code, _, err = kd("check", run_dir, "--against", ref)
    assert code == 2 and "give --tol" in err


def test_update_rewrites_values_and_keeps_tolerances(kd, run_dir, tmp_path):
    ref = write_ref(tmp_path / "ref.csv", ["d,lightgbm,tree,8,crossfit,error,0.5,0.003"])
    code, out, _ = kd("check", run_dir, "--against", ref, "--update", "--tol", "0.02")
    assert code == 0 and "wrote 2 cells" in out
    new = pd.read_csv(ref, comment="#", dtype={"size": str}).set_index("metric")
    assert new.loc["error", "value"] == pytest.approx(0.15)
    assert new.loc["error", "tolerance"] == 0.003  # kept
    assert new.loc["auc", "tolerance"] == 0.02  # new cell: --tol
    assert kd("check", run_dir, "--against", ref)[0] == 0


def claim_run(tmp_path, values: dict, metric: str = "auc") -> Path:
    """A run folder whose (size, mode) → AUC means are ``values``, over two repeats."""
    rows = []
    for (size, mode), auc in values.items():
        for repeat, shift in ((0, -0.001), (1, 0.001)):
            rows.append(
                {
                    "dataset": "d",
                    "repeat": repeat,
                    "fold": 0,
                    "seed": repeat,
                    "teacher": "rf",
                    "student": "rf",
                    "size": size,
                    "mode": mode,
                    "metric": metric,
                    "value": auc + shift,
                }
            )
    out = tmp_path / f"claims-{metric}"
    out.mkdir()
    pd.DataFrame(rows).to_csv(out / "results.csv", index=False)
    return out


def test_claims_hold_fail_and_respect_the_metric_direction(kd, tmp_path):
    run = claim_run(
        tmp_path,
        {
            ("1", "raw"): 0.70,
            ("1", "vanilla:logit"): 0.80,
            ("1", "crossfit"): 0.85,
            ("1", "corrected"): 0.84,
            ("3", "raw"): 0.80,
            ("3", "vanilla:logit"): 0.86,
            ("3", "crossfit"): 0.85,  # below vanilla at size 3
            ("3", "corrected"): 0.87,
        },
    )
    ref = write_ref(tmp_path / "ref.csv", ["d,rf,rf,1,raw,auc,0.70,0.01"])
    code, out, _ = kd(
        "check", run, "--against", ref, "--claim", "crossfit,corrected>vanilla:logit>raw@1"
    )
    assert code == 0 and "claims OK: 3 comparisons, 0 failed" in out
    code, out, _ = kd(
        "check", run, "--against", ref, "--claim", "crossfit,corrected>vanilla:logit>raw"
    )
    assert code == 1
    assert "CLAIM     d · rf · rf 3: crossfit 0.8500 not better than vanilla:logit 0.8600" in out
    assert "claims FAIL: 6 comparisons, 1 failed" in out
    # error: lower is better, so the same claim reads the values the other way round
    errors = claim_run(tmp_path, {("1", "raw"): 0.1, ("1", "vanilla:logit"): 0.2}, "error")
    err_ref = write_ref(tmp_path / "eref.csv", ["d,rf,rf,1,raw,error,0.1,0.01"])
    claim = ("--claim", "raw>vanilla:logit", "--claim-metric")
    assert kd("check", errors, "--against", err_ref, *claim, "error")[0] == 0
    code, _, err = kd("check", errors, "--against", err_ref, *claim, "auc")
    assert code == 2 and "no 'auc' results" in err  # bad input, not a failed claim
    code, _, err = kd("check", run, "--against", ref, "--claim", "crossfit")
    assert code == 2 and "is not an ordering" in err
    code, _, err = kd("check", run, "--against", ref, "--claim", "crossfit>missing@1")
    assert code == 2 and "names the mode 'missing'" in err  # a typo, not a failed claim
    assert "its modes are corrected, crossfit, raw, vanilla:logit" in err


def test_partial_checks_only_what_a_reduced_run_ran(kd, tmp_path):
    run = claim_run(tmp_path, {("1", "raw"): 0.70, ("1", "crossfit"): 0.85})
    ref = write_ref(
        tmp_path / "ref.csv",
        [
            "d,rf,rf,1,raw,auc,0.70,0.01",
            "d,rf,rf,1,crossfit,auc,0.85,0.01",
            "d,rf,rf,1,corrected,auc,0.85,0.01",  # a mode the run lacks: still missing
            "d,rf,rf,40,raw,auc,0.90,0.01",  # a size it did not run: left out
            "other,rf,rf,1,raw,auc,0.70,0.01",  # a dataset it did not run: left out
        ],
    )
    code, out, _ = kd("check", run, "--against", ref)
    assert code == 1 and "3 missing" in out
    code, out, _ = kd("check", run, "--against", ref, "--partial")
    assert code == 1 and "3 cells, 2 within tolerance, 0 out of tolerance, 1 missing" in out
    assert "MISSING   d rf rf 1 corrected auc" in out
    other = write_ref(tmp_path / "other.csv", ["x,rf,rf,1,raw,auc,0.70,0.01"])
    code, _, err = kd("check", run, "--against", other, "--partial")
    assert code == 2 and "nothing to check" in err


def test_tol_all_replaces_every_cell_tolerance(kd, tmp_path):
    run = claim_run(tmp_path, {("1", "raw"): 0.70})
    ref = write_ref(tmp_path / "ref.csv", ["d,rf,rf,1,raw,auc,0.715,0.01"])
    assert kd("check", run, "--against", ref)[0] == 1  # 0.015 off, tolerance 0.01
    code, out, _ = kd("check", run, "--against", ref, "--tol-all", "0.02")
    assert code == 0 and "1 within tolerance" in out
    assert kd("check", run, "--against", ref, "--tol-all", "-1")[0] == 2
