"""`kd check` that cannot pass by accident: empty or malformed references, bad tolerances, claims
naming what the run lacks, runs made with other settings, references that cannot be written."""

import os
import shutil

import pandas as pd
import pytest

import kdcli
from kdcli.regress import REFERENCE_DIR, studies
from kdcli.reporting.reference import read_reference
from kdcli.reporting.run_settings import canonical_spec, settings_differences, study_record

from conftest import one_line_error

HEADER = "dataset,teacher,student,size,mode,metric,value,tolerance"


def small_fit(path, n_estimators: int):
    """A real `kd fit --out` folder: wine, one tree size, a small teacher (about 2 s)."""
    settings = {"teacher_param": {"n_estimators": n_estimators}, "sizes": "4"}
    plan = kdcli.prepare_fit("sklearn:wine", **settings)
    result = kdcli.fit("sklearn:wine", threads=1, **settings)
    kdcli.save_fit(path, result, record=kdcli.fit_record(plan, result, seconds=1.0))
    return path


@pytest.fixture(scope="module")
def fit_run(tmp_path_factory):
    return small_fit(tmp_path_factory.mktemp("fit") / "run", 20)


@pytest.fixture(scope="module")
def other_fit_run(tmp_path_factory):
    return small_fit(tmp_path_factory.mktemp("fit") / "other", 10)


@pytest.fixture
def run_dir(tmp_path):
    """Results with one cell per metric: error 0.15, auc 0.85 (no run.json)."""
    rows = [
        ("d", r, 0, r, "lightgbm", "tree", "8", "crossfit", metric, value)
        for r, (err, auc) in enumerate([(0.10, 0.90), (0.20, 0.80)])
        for metric, value in (("error", err), ("auc", auc))
    ]
    columns = "dataset,repeat,fold,seed,teacher,student,size,mode,metric,value".split(",")
    out = tmp_path / "run"
    out.mkdir()
    pd.DataFrame(rows, columns=columns).to_csv(out / "results.csv", index=False)
    return out


def reference(path, *lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- 1. an empty reference -------------------------------------------------------------------


def test_a_reference_with_no_cells_is_bad_input_not_a_pass(kd, run_dir, tmp_path):
    empty = reference(tmp_path / "ref.csv", "# kd reference results: nothing yet", HEADER)
    code, out, err = kd("check", run_dir, "--against", empty)
    assert code == 2, out
    assert "holds no cells" in err and "--update" in err and "OK" not in out
    # --update fills it: an empty file is where a reference starts
    code, out, err = kd("check", run_dir, "--against", empty, "--update", "--tol", "0.001")
    assert code == 0 and "wrote 2 cells" in out, err
    assert kd("check", run_dir, "--against", empty)[0] == 0


def test_update_that_would_write_no_cell_is_refused(kd, run_dir, tmp_path):
    ref = tmp_path / "ref.csv"
    code, _, err = kd("check", run_dir, "--against", ref, "--update", "--metric", "brier")
    assert code == 2 and "no results for the metric(s) brier" in err and "auc, error" in err
    assert not ref.exists()


# -- 2. claims naming what the run does not have ---------------------------------------------


def test_a_claim_naming_an_unknown_mode_or_size_is_bad_input(kd, run_dir, tmp_path):
    ref = reference(tmp_path / "ref.csv", HEADER, "d,lightgbm,tree,8,crossfit,auc,0.85,0.01")
    code, out, err = kd("check", run_dir, "--against", ref, "--claim", "crossfit>bogus@8")
    assert code == 2, out
    assert "names the mode 'bogus'" in err and "its modes are crossfit" in err
    code, _, err = kd("check", run_dir, "--against", ref, "--claim", "crossfit>crossfit")
    assert code == 2 and "names the mode 'crossfit' twice" in err
    # the mode exists: a size the run never ran is a typo as well
    code, _, err = kd("check", run_dir, "--against", ref, "--claim", "crossfit,crossfit2>x@3")
    assert code == 2 and "'crossfit2'" in err
    raw = run_dir / "results.csv"
    frame = pd.read_csv(raw)
    pd.concat([frame, frame.assign(mode="raw", value=frame.value / 2)]).to_csv(raw, index=False)
    code, _, err = kd("check", run_dir, "--against", ref, "--claim", "crossfit>raw@16")
    assert code == 2 and "names the size '16'" in err and "its sizes are 8" in err
    code, out, _ = kd("check", run_dir, "--against", ref, "--claim", "crossfit>raw@8")
    assert code == 0 and "claims OK: 1 comparisons" in out


# -- 3. a reference file with bad numbers ----------------------------------------------------


@pytest.mark.parametrize(
    ("row", "words"),
    [
        (
            "d,lightgbm,tree,8,crossfit,error,0.15,-0.01",
            "line 3, column tolerance: -0.01 is negative",
        ),
        (
            "d,lightgbm,tree,8,crossfit,error,0.15,nan",
            "line 3, column tolerance: 'nan' is not a finite",
        ),
        (
            "d,lightgbm,tree,8,crossfit,error,0.15,inf",
            "line 3, column tolerance: 'inf' is not a finite",
        ),
        (
            "d,lightgbm,tree,8,crossfit,error,abc,0.01",
            "line 3, column value: 'abc' is not a finite",
        ),
        ("d,lightgbm,tree,8,crossfit,error,,0.01", "line 3, column value: is empty"),
        ("d,lightgbm,tree,8,crossfit,error,0.15", "line 3 has 7 fields where the header has 8"),
    ],
)
def test_a_bad_cell_names_the_file_line_and_column(kd, run_dir, tmp_path, row, words):
    ref = reference(tmp_path / "ref.csv", "# a comment", HEADER, row)
    code, out, err = kd("check", run_dir, "--against", ref)
    assert code == 2, out
    assert f"reference {ref}, {words}" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_repeated_cell_or_a_file_that_is_not_text_is_bad_input(kd, run_dir, tmp_path):
    row = "d,lightgbm,tree,8,crossfit,error,0.15,0.01"
    ref = reference(tmp_path / "ref.csv", HEADER, row, row.replace("0.15", "0.5"))
    code, _, err = kd("check", run_dir, "--against", ref)
    assert code == 2 and "line 3 repeats the cell of line 2" in err
    binary = tmp_path / "ref.parquet"
    binary.write_bytes(b"PAR1\xff\xfe\x00" * 10)
    code, _, err = kd("check", run_dir, "--against", binary)
    assert code == 2 and "is not UTF-8 text" in err
    code, _, err = kd("check", run_dir, "--against", tmp_path)
    assert code == 2 and "is a folder" in err


def test_reference_keys_are_text_like_the_run_s(kd, tmp_path):
    """A dataset named 1 in a results CSV (read back as a number) is the reference's '1'."""
    run = tmp_path / "results.csv"
    run.write_text(
        "dataset,repeat,fold,seed,teacher,student,size,mode,metric,value\n"
        "1,0,0,0,lightgbm,tree,8,raw,error,0.2\n"
    )
    ref = reference(tmp_path / "ref.csv", HEADER, "1,lightgbm,tree,8,raw,error,0.2,0.01")
    code, out, _ = kd("check", run, "--against", ref)
    assert code == 0 and "1 within tolerance" in out


# -- 4. tolerance options --------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--tol", "--tol-all"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-0.5"])
def test_tolerance_options_refuse_nan_inf_and_negatives(kd, run_dir, tmp_path, option, value):
    ref = reference(tmp_path / "ref.csv", HEADER, "d,lightgbm,tree,8,crossfit,error,0.9,0.01")
    code, _, err = kd("check", run_dir, "--against", ref, option, value)
    assert code == 2
    assert f"{option} must be a finite number >= 0" in err and f"got {value}" in err
    if option == "--tol":
        code, _, err = kd(
            "check", run_dir, "--against", tmp_path / "new.csv", "--update", option, value
        )
        assert code == 2 and "--tol must be a finite number >= 0" in err
        assert not (tmp_path / "new.csv").exists()


# -- 5. settings -----------------------------------------------------------------------------


def test_a_run_with_other_settings_than_the_reference_is_refused(
    kd, fit_run, other_fit_run, tmp_path
):
    ref = tmp_path / "ref.csv"
    code, out, err = kd("check", fit_run, "--against", ref, "--update")
    assert code == 0 and "with its settings" in out, err
    text = ref.read_text()
    assert '# setting teachers = [{"name": "lightgbm", "params": {"n_estimators": 20}}]' in text
    assert '# setting dataset = ["sklearn:wine", "sklearn:wine"]' in text
    code, out, _ = kd("check", fit_run, "--against", ref)
    assert code == 0 and "NOTE" not in out
    code, out, err = kd("check", other_fit_run, "--against", ref)
    assert code == 2, out
    assert (
        "teachers[0].params.n_estimators is 10 in the run, 20 in the reference" in err
        and "--ignore-settings" in err
    )
    code, out, _ = kd("check", other_fit_run, "--against", ref, "--ignore-settings")
    assert code in (0, 1) and "NOTE      settings differ, compared anyway" in out
    assert "kd check: " in out  # the cells were compared
    # results without their run.json: said, not refused
    loose = tmp_path / "loose.csv"
    shutil.copy(other_fit_run / "results.csv", loose)
    code, out, _ = kd("check", loose, "--against", ref)
    assert code in (0, 1) and "records no settings" in out


def test_a_reduced_rerun_differs_only_with_partial(kd, fit_run, tmp_path):
    """A reference over sizes 4 and 8 checks a run of size 4 only with --partial."""
    ref = tmp_path / "ref.csv"
    assert kd("check", fit_run, "--against", ref, "--update")[0] == 0
    text = ref.read_text().replace(
        '# setting sizes = {"tree": [4]}', '# setting sizes = {"tree": [4, 8]}'
    )
    ref.write_text(text)
    code, _, err = kd("check", fit_run, "--against", ref)
    assert code == 2 and "sizes.tree is [4] in the run, [4, 8] in the reference" in err
    assert "checked with --partial" in err
    code, out, err = kd("check", fit_run, "--against", ref, "--partial")
    assert code == 0 and "kd check: OK" in out, err


def test_the_readme_example_differs_in_a_dataset_and_its_study_settings_match():
    """`kd benchmark --suite demo` is not the study behind bundled.csv: its synthetic-binary has
    other parameters. The study's settings on the demo members it shares match (--partial)."""
    bundled = read_reference(REFERENCE_DIR / "bundled.csv").settings
    demo = study_record(kdcli.study_settings("demo"))
    name, ran, ref = settings_differences(demo, bundled, partial=False)[0]
    assert name == "dataset synthetic-binary"
    assert ran == "synthetic:binary?n=5000&d=10&noise=0.1&seed=0"
    assert ref == "synthetic:binary?n=2000&d=10&noise=0.2&seed=0"
    same = kdcli.study_settings("demo", "breast_cancer,wine", **studies()["bundled"]["settings"])
    assert settings_differences(study_record(same), bundled, partial=True) == []


def test_dataset_specs_compare_by_what_decides_the_data():
    assert canonical_spec("file:/data/x/diabetes.tsv.gz") == "file:diabetes.tsv.gz"
    assert canonical_spec("synthetic:binary") == canonical_spec(
        "synthetic:binary?seed=0&noise=0.1&d=10&n=5000"
    )
    assert canonical_spec("synthetic:binary?n=200") != canonical_spec("synthetic:binary")
    assert canonical_spec("synthetic:binary?n=x") == "synthetic:binary?n=x"  # kept as given
    a = {"datasets": {"syn": "synthetic:binary"}, "eps": 1e-5}
    b = {"datasets": {"syn": "synthetic:binary?n=5000"}, "eps": 9.999999999999999e-06}
    assert settings_differences(a, b, partial=False) == []


def test_a_malformed_settings_line_names_its_line(kd, run_dir, tmp_path):
    row = "d,lightgbm,tree,8,crossfit,error,0.15,0.01"
    for line, words in (
        ("# setting repeats = two", "line 1: the value of setting repeats is not JSON"),
        ('# setting dataset = ["d"]', 'line 1: write a dataset as # setting dataset = ["NAME"'),
        ("# setting repeats 2", "line 1: '# setting repeats 2' is not a setting"),
    ):
        ref = reference(tmp_path / "ref.csv", line, HEADER, row)
        code, _, err = kd("check", run_dir, "--against", ref)
        assert code == 2 and words in err, err
    ref = reference(tmp_path / "ref.csv", "# setting seed = 0", "# setting seed = 1", HEADER, row)
    code, _, err = kd("check", run_dir, "--against", ref)
    assert code == 2 and "line 2 repeats the setting seed of line 1" in err


# -- 7. a destination that cannot be written -------------------------------------------------


def test_update_onto_a_path_under_a_file_is_one_line(kd, run_dir, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    for target in (blocker / "ref.csv", blocker / "deeper" / "ref.csv"):
        code, _, err = kd("check", run_dir, "--against", target, "--update", "--tol", "0.01")
        assert code == 2, err
        assert f"{target}: a part of this path is a file, not a folder" in err
        assert "choose another --against" in err
        assert len(err.strip().splitlines()) == 1 and "Error" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_update_onto_a_read_only_folder_is_one_line(kd, run_dir, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        code, _, err = kd("check", run_dir, "--against", folder / "ref.csv", "--update")
    finally:
        folder.chmod(0o755)
    assert code == 2 and f"{folder / 'ref.csv'} is not writable" in err
    assert "choose another --against" in err


# -- 8. setting names ------------------------------------------------------------------------


def test_a_misspelt_setting_name_is_refused_with_the_closest(kd, run_dir, tmp_path):
    row = "d,lightgbm,tree,8,crossfit,error,0.15,0.01"
    ref = reference(tmp_path / "ref.csv", "# setting seed = 0", "# setting repeat = 2", HEADER, row)
    code, out, err = kd("check", run_dir, "--against", ref)
    assert code == 2 and out == "", out
    assert err.startswith(
        f"kd: error: reference {ref}, line 2: unknown setting 'repeat'; did you mean 'repeats'? "
        "(known: dataset, "
    ), err
    assert len(err.strip().splitlines()) == 1


def test_every_committed_reference_still_reads():
    for path in sorted(REFERENCE_DIR.glob("*.csv")):
        assert read_reference(path).cells is not None


def test_kds_own_references_resolve_from_any_folder_and_update_writes_where_told(
    kd, tmp_path, monkeypatch
):
    from kdcli.reporting.reference import KD_REFERENCES

    from support.paths import FIXTURES

    run = FIXTURES / "kd-0.1" / "fit"  # an iris fit: other settings than the bundled study's
    monkeypatch.chdir(tmp_path)
    for against in ("bundled", "results/reference/bundled.csv"):
        line = one_line_error(*kd("check", run, "--against", against))
        assert f"other settings than {KD_REFERENCES / 'bundled.csv'}" in line
    line = one_line_error(*kd("check", run, "--against", "nothere.csv"))
    assert "does not exist; kd's own references are named bundled, dao2021" in line
    before = (KD_REFERENCES / "bundled.csv").read_bytes()
    assert kd("check", run, "--against", "bundled", "--update")[0] == 0
    assert (tmp_path / "bundled").is_file()  # written where told, never over kd's own
    assert (KD_REFERENCES / "bundled.csv").read_bytes() == before
