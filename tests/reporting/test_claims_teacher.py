"""Claims that select teacher variants of a --teacher-grid sweep (``@max_depth=1,2,3``), and the
paper's teacher-depth reference table they are checked against."""

import pandas as pd
import pytest

import kdcli
from kdcli.errors import KDError
from kdcli.records import RESULT_COLUMNS, teacher_label, teacher_variant
from kdcli.reporting.claims import Claim, check_claims, parse_claim
from kdcli.reporting.reference import read_reference

from support.paths import REFERENCE

DAO_TEACHER = REFERENCE / "dao2021-teacher.csv"
DEPTHS = ["1", "2", "3", "5", "10", "15", "20"]
PAPER_CLAIM = "corrected:logit>vanilla:logit,crossfit:logit@max_depth=1,2,3"


def results(cells: dict[tuple[str, str, str], float], repeats: int = 2) -> pd.DataFrame:
    """A results frame from {(teacher, size, mode): auc}: student rf, dataset d."""
    rows = [
        ("d", r, 0, r, teacher, "rf", size, mode, "auc", value)
        for r in range(repeats)
        for (teacher, size, mode), value in cells.items()
    ]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def depth_sweep(sizes=("10",), bad_depths=("10",), bad_sizes=None) -> pd.DataFrame:
    """corrected > vanilla at every depth and size, except at ``bad_depths`` (and, if given,
    only at ``bad_sizes`` there)."""
    cells = {}
    for depth in ("1", "2", "3", "10"):
        teacher = teacher_label("rf", {"max_depth": int(depth)})
        for size in sizes:
            bad = depth in bad_depths and (bad_sizes is None or size in bad_sizes)
            cells[(teacher, size, "corrected")] = 0.80 if bad else 0.90
            cells[(teacher, size, "vanilla")] = 0.85
    return results(cells)


# -- the grammar -----------------------------------------------------------------------------


def test_selectors_after_at_are_sizes_and_teacher_values():
    assert parse_claim("a>b@1,2,3") == Claim("a>b@1,2,3", [["a"], ["b"]], ["1", "2", "3"])
    claim = parse_claim("corrected>vanilla:logit,crossfit:logit@max_depth=1,2,3")
    assert claim.groups == [["corrected"], ["vanilla:logit", "crossfit:logit"]]
    assert claim.sizes is None and claim.teachers == {"max_depth": ["1", "2", "3"]}
    for text in ("a>b@10;max_depth=1,2", "a>b@ max_depth = 1, 2 ; 10 ;"):
        claim = parse_claim(text)
        assert claim.sizes == ["10"] and claim.teachers == {"max_depth": ["1", "2"]}
    claim = parse_claim("a>b@max_depth=None;min_samples_leaf=5")
    assert claim.teachers == {"max_depth": ["None"], "min_samples_leaf": ["5"]}
    assert parse_claim("a>b").teachers is None and parse_claim("a>b@").sizes is None


@pytest.mark.parametrize(
    "text, words",
    [
        ("a>b@max_depth=", "lists no values of max_depth"),
        ("a>b@max_depth= , ;10", "lists no values of max_depth"),
        ("a>b@max_depth=1;max_depth=2", "selects max_depth twice"),
        ("a>b@1,2;3", "lists sizes twice"),
        ("a>b@=1,2", "no teacher parameter before '='"),
        ("a>b@max depth=1", "'max depth', not a name,"),
        ("a>b@;", "no sizes after '@'"),
    ],
)
def test_a_bad_selector_is_one_line_naming_the_claim_and_a_fix(text, words):
    with pytest.raises(KDError) as err:
        parse_claim(text)
    message = str(err.value)
    assert f"--claim '{text}'" in message and words in message and "\n" not in message
    assert "e.g." in message or "write" in message


# -- checking on a run -----------------------------------------------------------------------


def test_a_claim_restricted_to_shallow_teachers_ignores_the_deep_one():
    frame = depth_sweep()
    checked, failures = check_claims(
        frame, [parse_claim("corrected>vanilla@max_depth=1,2,3")], "auc"
    )
    assert (checked, failures) == (3, [])
    checked, failures = check_claims(frame, [parse_claim("corrected>vanilla")], "auc")
    assert checked == 4 and len(failures) == 1
    assert failures[0].startswith("d · rf[max_depth=10] · rf 10: corrected 0.8000 not better")
    checked, failures = check_claims(
        frame, [parse_claim("corrected>vanilla@max_depth=2,10")], "auc"
    )
    assert checked == 2 and len(failures) == 1 and "rf[max_depth=10]" in failures[0]


def test_sizes_and_teacher_values_select_together():
    frame = depth_sweep(sizes=("5", "10"), bad_depths=("1", "10"), bad_sizes=("5",))
    ok = check_claims(frame, [parse_claim("corrected>vanilla@10;max_depth=1,2")], "auc")
    assert ok == (2, [])
    checked, failures = check_claims(frame, [parse_claim("corrected>vanilla@max_depth=1,2")], "auc")
    assert checked == 4 and failures == [
        "d · rf[max_depth=1] · rf 5: corrected 0.8000 not better than vanilla 0.8500 "
        "(corrected>vanilla@max_depth=1,2)"
    ]
    checked, failures = check_claims(frame, [parse_claim("corrected>vanilla@5;max_depth=3")], "auc")
    assert (checked, failures) == (1, [])


def test_teachers_without_the_parameter_are_not_checked_by_it():
    """A plain teacher, and variants sweeping several parameters: values compare as text."""
    plain, none = "rf", teacher_label("rf", {"max_depth": None, "min_samples_leaf": 5})
    two = teacher_label("rf", {"max_depth": 3, "min_samples_leaf": 1})
    only_leaf = teacher_label("lightgbm", {"min_samples_leaf": 5})
    assert none == "rf[max_depth=None,min_samples_leaf=5]"
    frame = results(
        {
            (plain, "4", "corrected"): 0.7,  # fails every claim that checks it
            (plain, "4", "raw"): 0.8,
            (none, "4", "corrected"): 0.9,
            (none, "4", "raw"): 0.8,
            (two, "4", "corrected"): 0.7,
            (two, "4", "raw"): 0.8,
            (only_leaf, "4", "corrected"): 0.9,
            (only_leaf, "4", "raw"): 0.8,
        }
    )
    assert check_claims(frame, [parse_claim("corrected>raw@max_depth=None")], "auc") == (1, [])
    claim = parse_claim("corrected>raw@max_depth=None,3;min_samples_leaf=5")
    assert check_claims(frame, [claim], "auc") == (1, [])
    checked, failures = check_claims(
        frame, [parse_claim("corrected>raw@min_samples_leaf=5")], "auc"
    )
    assert (checked, failures) == (2, [])
    checked, failures = check_claims(frame, [parse_claim("corrected>raw")], "auc")
    assert checked == 4 and {f.split(" · ")[1] for f in failures} == {"rf", two}


@pytest.mark.parametrize(
    "claim, words",
    [
        ("corrected>vanilla@min_samples_leaf=1", "selects the teacher parameter min_samples_leaf"),
        ("corrected>vanilla@min_samples_leaf=1", "its teachers sweep max_depth"),
        ("corrected>vanilla@max_depth=1,7", "selects max_depth=7, which no teacher of the run"),
        ("corrected>vanilla@max_depth=1,7", "its max_depth values are 1, 2, 3, 10"),
        ("corrected>vanilla@20;max_depth=1", "names the size '20'"),
    ],
)
def test_a_parameter_or_value_the_run_lacks_is_bad_input(claim, words):
    with pytest.raises(KDError) as err:
        check_claims(depth_sweep(), [parse_claim(claim)], "auc")
    assert f"--claim '{claim}'" in str(err.value) and words in str(err.value)


def test_values_that_no_variant_has_together_select_nothing_and_are_bad_input():
    one = teacher_label("rf", {"max_depth": 1, "min_samples_leaf": 1})
    other = teacher_label("rf", {"max_depth": 3, "min_samples_leaf": 5})
    frame = results({(t, "4", m): 0.8 for t in (one, other) for m in ("corrected", "raw")})
    claim = parse_claim("corrected>raw@max_depth=1;min_samples_leaf=5")
    with pytest.raises(KDError, match=r"selects no teacher of the run, whose teachers are rf\["):
        check_claims(frame, [claim], "auc")


def test_a_teacher_selector_on_a_run_without_a_sweep_names_its_teachers():
    frame = results({("rf", "4", "corrected"): 0.9, ("rf", "4", "raw"): 0.8})
    with pytest.raises(KDError, match=r"its teachers \(rf\) sweep none \(see --teacher-grid\)"):
        check_claims(frame, [parse_claim("corrected>raw@max_depth=3")], "auc")


# -- the paper's teacher-depth table ---------------------------------------------------------


def test_the_paper_s_teacher_depth_reference_reads():
    ref = read_reference(DAO_TEACHER)
    cells = ref.cells
    assert ref.settings is None and len(cells) == 2 * 7 * 5
    assert set(cells.dataset) == {"magic", "adult"} and set(cells.metric) == {"auc"}
    # 0.01 as for dao2021, but 0.015 where the coding of Adult's categories moves a stump forest
    widened = (
        (cells.dataset == "adult") & (cells.teacher == "rf[max_depth=1]") & (cells["mode"] != "raw")
    )
    assert (cells[widened].tolerance == 0.015).all() and widened.sum() == 4
    assert (cells[~widened].tolerance == 0.01).all()
    variants = [teacher_variant(t) for t in sorted(set(cells.teacher))]
    assert sorted(variants, key=lambda v: int(v[1]["max_depth"])) == [
        ("rf", {"max_depth": d}) for d in DEPTHS
    ]
    assert set(cells["mode"]) == {
        "teacher",
        "raw",
        "vanilla:logit",
        "crossfit:logit",
        "corrected:logit",
    }
    teacher = cells[cells["mode"] == "teacher"]
    assert (
        len(teacher) == 14 and set(teacher.student) == {"teacher"} and set(teacher["size"]) == {""}
    )
    assert set(cells[cells["mode"] != "teacher"]["size"]) == {"10"}
    value = cells.set_index(["dataset", "teacher", "mode"])["value"]
    assert value[("magic", "rf[max_depth=1]", "teacher")] == 0.8249
    assert value[("magic", "rf[max_depth=20]", "corrected:logit")] == 0.9155
    assert value[("adult", "rf[max_depth=3]", "crossfit:logit")] == 0.8934
    assert value[("adult", "rf[max_depth=15]", "vanilla:logit")] == 0.9141
    assert (value.xs("raw", level="mode").groupby("dataset").nunique() == 1).all()
    text = DAO_TEACHER.read_text(encoding="utf-8")
    assert "microsoft/semiparametric-distillation" in text and "mixed" in text


@pytest.fixture
def paper_run(tmp_path):
    """A run folder whose results are the paper's numbers, over two repeats."""
    cells = read_reference(DAO_TEACHER).cells
    rows = [
        (c.dataset, r, 0, r, c.teacher, c.student, c.size, c.mode, c.metric, c.value)
        for r in range(2)
        for c in cells.itertuples()
    ]
    run = tmp_path / "run"
    run.mkdir()
    pd.DataFrame(rows, columns=RESULT_COLUMNS).to_csv(run / "results.csv", index=False)
    return run


def test_the_paper_s_claim_holds_on_its_own_numbers_end_to_end(paper_run, kd):
    report = kdcli.check(paper_run, DAO_TEACHER, claims=[PAPER_CLAIM])
    assert report.ok and report.cells == report.within == 70
    assert report.comparisons == 2 * 3 * 2 and report.broken == []
    # unrestricted, the enhanced student loses to the KD student of a deep teacher
    report = kdcli.check(paper_run, DAO_TEACHER, claims=[PAPER_CLAIM.partition("@")[0]])
    assert not report.ok and report.within == 70 and report.comparisons == 2 * 7 * 2
    assert any(line.startswith("magic · rf[max_depth=20] · rf 10:") for line in report.broken)
    assert not any("max_depth=1]" in line or "max_depth=3]" in line for line in report.broken)
    code, out, err = kd("check", paper_run, "--against", DAO_TEACHER, "--claim", PAPER_CLAIM)
    assert code == 0 and "claims OK: 12 comparisons, 0 failed" in out, err
    claim = "corrected:logit>vanilla:logit@10;max_depth=4"
    code, out, err = kd("check", paper_run, "--against", DAO_TEACHER, "--claim", claim)
    assert code == 2 and "selects max_depth=4" in err and "1, 2, 3, 5, 10, 15, 20" in err
