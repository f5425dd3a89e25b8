"""`kd check`: compare a run's numbers with a committed reference table, cell by cell.

A cell regresses when the run's mean over repeats and folds differs from the reference
(:mod:`kdcli.reporting.reference`) by more than its tolerance; a cell the run lacks is missing. A
run made with other settings than those the reference records is refused
(:mod:`kdcli.reporting.run_settings`); claims order modes (:mod:`kdcli.reporting.claims`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kdcli.atomic import atomic_write_text
from kdcli.errors import KDError, SettingError
from kdcli.records import CELL as KEYS
from kdcli.records import cell_means
from kdcli.reporting.claims import Claim, check_claims, parse_claim
from kdcli.reporting.reference import (
    Reference,
    locate_reference,
    read_reference,
    require_cells,
    settings_lines,
)
from kdcli.reporting.run_settings import (
    PARTIAL_SETTINGS,
    run_settings,
    settings_differences,
    shown_setting,
)
from kdcli.study.run_folder import RunFolder


def tolerance(name: str, value: float | None) -> float | None:
    """A tolerance option (``tol``, ``tol_all``): None, or a finite number >= 0. NaN or inf would
    make every cell pass or every cell fail whatever the run holds."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise SettingError(
            name,
            f"{{opt}} must be a finite number >= 0 (an absolute difference, e.g. 0.01), "
            f"got {value}",
        )
    return number


@dataclass
class CheckVerdict:
    """The verdict on every reference cell and claim, and notices worth a line of output."""

    cells: int
    within: int
    regressed: list[dict] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    comparisons: int = 0  # of the claims
    broken: list[str] = field(default_factory=list)  # a line per failed claim comparison
    notices: list[str] = field(default_factory=list)  # e.g. settings that were not compared

    @property
    def ok(self) -> bool:
        return not self.regressed and not self.missing and not self.broken

    def verdict(self) -> str:
        state = "OK" if not self.regressed and not self.missing else "FAIL"
        return (
            f"kd check: {state}: {self.cells} cells, {self.within} within tolerance, "
            f"{len(self.regressed)} out of tolerance, {len(self.missing)} missing"
        )


def check(results: pd.DataFrame, reference: pd.DataFrame, tol: float | None) -> CheckVerdict:
    """Each reference cell against the run's mean: within its tolerance, out of it, or missing."""
    means = cell_means(results)
    means[KEYS] = means[KEYS].astype(str)  # a reference's keys are text: "1" is dataset "1"
    observed = means.set_index(KEYS)["value"]
    report = CheckVerdict(cells=len(reference), within=0)
    for row in reference.to_dict("records"):
        key = tuple("" if pd.isna(row[k]) else str(row[k]) for k in KEYS)
        limit = row.get("tolerance")
        if limit is None or (isinstance(limit, float) and math.isnan(limit)):
            limit = tol
        if limit is None:
            line = row.get("line")
            where = f" (line {line} has none)" if isinstance(line, int) else ""
            raise KDError(
                f"the reference has no tolerance for some cells{where}; give --tol, or fill "
                "its tolerance column"
            )
        cell = dict(zip(KEYS, key, strict=True)) | {
            "reference": float(row["value"]),
            "tolerance": float(limit),
        }
        if key not in observed.index:
            report.missing.append(cell)
            continue
        value = float(observed.loc[key])
        if abs(value - float(row["value"])) <= float(limit) + 1e-12:
            report.within += 1
        else:
            report.regressed.append(cell | {"observed": value})
    return report


def compare_settings(
    run: Path, against: Path, reference: Reference, partial: bool, ignore: bool
) -> list[str]:
    """Refuse a run made with other settings than the reference's; return notices."""
    if reference.settings is None:
        return []
    ran = run_settings(run)
    if ran is None:
        return [
            f"{run} records no settings (no readable run.json beside its results): not compared "
            f"with those of {against}"
        ]
    diffs = settings_differences(ran, reference.settings, partial)
    if not diffs:
        return []
    name, a, b = diffs[0]
    more = f" (and {len(diffs) - 1} more differences)" if len(diffs) > 1 else ""
    what = f"{name} is {shown_setting(a)} in the run, {shown_setting(b)} in the reference{more}"
    if ignore:
        return [f"settings differ, compared anyway (--ignore-settings): {what}"]
    hint = (
        "; a reduced re-run is checked with --partial"
        if name.split(".")[0].split("[")[0] in PARTIAL_SETTINGS and not partial
        else ""
    )
    raise KDError(
        f"{run} was made with other settings than {against}: {what}{hint}; re-run with the "
        "settings in the reference's header, or compare anyway with --ignore-settings"
    )


def update_reference(
    results: pd.DataFrame | Path | str,
    path: Path,
    *,
    metrics: Sequence[str] = ("error", "log_loss", "auc"),
    tol: float | None = 0.01,
    source: str = "",
    settings: dict | None = None,
) -> int:
    """Rewrite the reference from a run (its results, or its folder), keeping each existing
    cell's tolerance and recording the run's settings (those of its run.json, or ``settings``);
    returns the number of cells written."""
    path = Path(path)
    tol = tolerance("tol", tol)
    if not isinstance(results, pd.DataFrame):
        source = source or f"written from {results}"
        settings = settings if settings is not None else run_settings(Path(results))
        results = RunFolder.of(results).results()
    means = cell_means(results)
    means = means[means.metric.isin(metrics)].copy()
    if means.empty:
        have = ", ".join(sorted(map(str, set(results["metric"])))) or "none"
        raise KDError(
            f"the run has no results for the metric(s) {', '.join(metrics) or '(none)'}, so the "
            f"reference would hold no cells; its metrics are {have}"
        )
    old = read_reference(path) if path.exists() else None
    means["tolerance"] = tol
    if old is not None:
        kept = old.cells.set_index(KEYS)["tolerance"].dropna()
        idx = means.assign(size=means["size"].astype(str)).set_index(KEYS).index
        means["tolerance"] = [kept.get(tuple(map(str, k)), tol) for k in idx]
    means["value"] = means["value"].round(6)
    header = [f"# kd reference results: {' '.join(source.split())}"]
    if settings is not None:
        header += settings_lines(settings)
    # a full disk or a read-only folder is one line naming the path (kdcli.atomic)
    atomic_write_text(path, "\n".join(header) + "\n" + means.to_csv(index=False), "--against")
    return len(means)


def partial_reference(reference: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """The reference cells whose (dataset, teacher, student, size) the run has: a reduced re-run
    (fewer datasets or sizes) is checked on what it ran; a mode or metric it lacks still misses."""
    ran = cell_means(results)
    have = {
        tuple(map(str, t))
        for t in ran[["dataset", "teacher", "student", "size"]].itertuples(index=False, name=None)
    }
    keys = reference.assign(size=reference["size"].fillna("").astype(str))
    mask = [
        (str(d), str(t), str(s), str(z)) in have
        for d, t, s, z in keys[["dataset", "teacher", "student", "size"]].itertuples(
            index=False, name=None
        )
    ]
    return reference[mask]


def check_run(
    run: str | Path,
    against: str | Path,
    *,
    tol: float | None = None,
    tol_all: float | None = None,
    partial: bool = False,
    claims: list[str] | tuple[str, ...] = (),
    claim_metric: str = "auc",
    ignore_settings: bool = False,
) -> CheckVerdict:
    """Compare a run (an --out folder or a results CSV) with the reference table ``against``:
    each cell within its tolerance (the file's, else ``tol``; ``tol_all`` replaces every one),
    and every claim (e.g. 'crossfit,corrected>vanilla>raw@1,2,3') holding: ``.ok``,
    ``.regressed``, ``.missing``, ``.broken``. A run made with other settings than those the
    reference records is refused (KDError) unless ``ignore_settings``."""
    run = Path(run)
    against, located = locate_reference(against)
    tol = tolerance("tol", tol)
    tol_all = tolerance("tol_all", tol_all)
    parsed = [parse_claim(text) for text in claims]
    read_notes: list[str] = []  # unit files of a study left out, run.json missing
    results = RunFolder.of(run).results(read_notes.append)
    ref = read_reference(against)
    reference = require_cells(ref)
    notices = compare_settings(run, against, ref, partial, ignore_settings)
    if tol_all is not None:
        reference = reference.assign(tolerance=tol_all)
    if partial:
        reference = partial_reference(reference, results)
        if reference.empty:
            raise KDError(
                f"{run} shares no dataset, student and size with {against}; nothing to check"
            )
    report = check(results, reference, tol)
    report.notices = ([located] if located else []) + read_notes + notices
    if parsed:
        report.claims = parsed
        report.comparisons, report.broken = check_claims(results, parsed, claim_metric)
    return report
