"""The regression check of one study of results/reference/studies.json (make regress)."""

import pytest

from kdcli.regress import SHARED, check_study, needs_shared, reference_path, run_study, studies


def reported_numbers_hold(name: str, tmp_path, kd, cells: int | None = None) -> None:
    """Re-run study ``name`` here, then `kd check` it against its reference (API and CLI);
    ``cells``: how many cells of a fixed reference (a paper's table) it must check."""
    study = studies()[name]
    if needs_shared(study) and not SHARED.exists():
        pytest.skip(f"{SHARED} not found: study '{name}' needs ../shared/datasets")
    out = run_study(name, tmp_path)
    report = check_study(name, out)
    assert report.ok, [*report.regressed, *report.missing, *report.broken]
    assert (report.cells == cells) if cells is not None else (report.cells > 40), report.cells
    assert report.within == report.cells
    args = ["check", out, "--against", reference_path(name)]
    if "reference" in study:
        assert report.claims and report.comparisons > 0
        args += ["--partial", "--tol-all", study["tolerance"]]
        args += [a for claim in study["claims"] for a in ("--claim", claim)]
    code, stdout, err = kd(*args)  # the command line says the same
    assert code == 0, stdout + err
    assert "kd check: OK" in stdout
