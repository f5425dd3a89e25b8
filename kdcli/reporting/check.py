"""`kd check`: compare a run's numbers with a committed reference table, cell by cell.

A reference is a CSV in the long format ``dataset, teacher, student, size, mode, metric, value``
with an optional ``tolerance`` column (absolute). A cell regresses when the run's mean over repeats
and folds differs from the reference by more than its tolerance; a cell the run lacks is missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kdcli.atomic import atomic_write_text
from kdcli.errors import KDError
from kdcli.records import CELL as KEYS
from kdcli.records import cell_means, load_results


def load_reference(path: Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise KDError(
            f"reference {path} does not exist; create it with kd check DIR --against "
            f"{path} --update"
        )
    try:
        ref = pd.read_csv(
            path,
            dtype={"size": str},
            comment="#",
            keep_default_na=False,
            na_values={"value": [""], "tolerance": [""]},
        )
    except (OSError, ValueError) as err:
        raise KDError(f"cannot read the reference {path}: {' '.join(str(err).split())}") from None
    missing = [c for c in [*KEYS, "value"] if c not in ref.columns]
    if missing:
        raise KDError(
            f"reference {path} lacks the column(s) {', '.join(missing)}; it needs "
            f"{', '.join(KEYS)}, value and optionally tolerance"
        )
    return ref


@dataclass
class CheckReport:
    cells: int
    within: int
    regressed: list[dict] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    comparisons: int = 0  # of the claims
    broken: list[str] = field(default_factory=list)  # a line per failed claim comparison

    @property
    def ok(self) -> bool:
        return not self.regressed and not self.missing and not self.broken

    def verdict(self) -> str:
        state = "OK" if not self.regressed and not self.missing else "FAIL"
        return (
            f"kd check: {state}: {self.cells} cells, {self.within} within tolerance, "
            f"{len(self.regressed)} out of tolerance, {len(self.missing)} missing"
        )


def check(results: pd.DataFrame, reference: pd.DataFrame, tol: float | None) -> CheckReport:
    observed = cell_means(results).set_index(KEYS)["value"]
    report = CheckReport(cells=len(reference), within=0)
    for row in reference.to_dict("records"):
        key = tuple("" if pd.isna(row[k]) else str(row[k]) for k in KEYS)
        limit = row.get("tolerance")
        if limit is None or (isinstance(limit, float) and math.isnan(limit)):
            limit = tol
        if limit is None:
            raise KDError("the reference has no tolerance for some cells; give --tol")
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


def update_reference(
    results: pd.DataFrame | Path,
    path: Path,
    metrics: list[str] = ("error", "log_loss", "auc"),
    tol: float = 0.01,
    source: str = "",
) -> int:
    """Rewrite the reference from a run (its results, or its folder), keeping each existing
    cell's tolerance; returns the number of cells written."""
    if not isinstance(results, pd.DataFrame):
        source = source or f"written from {results}"
        results = load_results(results)
    means = cell_means(results)
    means = means[means.metric.isin(metrics)].copy()
    old = load_reference(path) if Path(path).exists() else None
    means["tolerance"] = tol
    if old is not None and "tolerance" in old.columns:
        kept = old.assign(size=old["size"].astype(str)).set_index(KEYS)["tolerance"].dropna()
        idx = means.set_index(KEYS).index
        means["tolerance"] = [kept.get(k, tol) for k in idx]
    means["value"] = means["value"].round(6)
    header = f"# kd reference results: {source}\n"
    atomic_write_text(Path(path), header + means.to_csv(index=False))
    return len(means)


def partial_reference(reference: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """The reference cells whose (dataset, teacher, student, size) the run has: a reduced re-run
    (fewer datasets or sizes) is checked on what it ran; a mode or metric it lacks still misses."""
    ran = cell_means(results)
    have = set(ran[["dataset", "teacher", "student", "size"]].itertuples(index=False, name=None))
    keys = reference.assign(size=reference["size"].fillna("").astype(str))
    mask = [
        (str(d), str(t), str(s), str(z)) in have
        for d, t, s, z in keys[["dataset", "teacher", "student", "size"]].itertuples(
            index=False, name=None
        )
    ]
    return reference[mask]


@dataclass
class Claim:
    """``A,B>C>D@1,2,3``: at each listed size (all sizes if none), every mode of a group has a
    better mean than every mode of the next group, on every dataset, teacher and student."""

    text: str
    groups: list[list[str]]
    sizes: list[str] | None


def parse_claim(text: str) -> Claim:
    body, _, sizes = text.partition("@")
    groups = [[m.strip() for m in g.split(",") if m.strip()] for g in body.split(">")]
    if len(groups) < 2 or any(not g for g in groups):
        raise KDError(
            f"--claim '{text}' is not an ordering; write e.g. "
            "--claim 'crossfit,corrected>vanilla>raw@1,2,3'"
        )
    size_list = [s.strip() for s in sizes.split(",") if s.strip()] if sizes else None
    if sizes and not size_list:
        raise KDError(f"--claim '{text}' has no sizes after '@'; write e.g. @1,2,3")
    return Claim(text, groups, size_list)


def check_claims(results: pd.DataFrame, claims: list[Claim], metric: str) -> tuple[int, list[str]]:
    """(comparisons made, one line per comparison that fails or cannot be made)."""
    from kdcli.science.metrics import LOWER_IS_BETTER

    if metric not in LOWER_IS_BETTER:
        raise KDError(f"unknown --claim-metric '{metric}'; use one of {', '.join(LOWER_IS_BETTER)}")
    means = cell_means(results)
    means = means[means.metric == metric]
    if means.empty:
        raise KDError(f"the run has no '{metric}' results to check claims on")
    lower = LOWER_IS_BETTER[metric]
    checked, failures = 0, []
    for (dataset, teacher, student), part in means.groupby(["dataset", "teacher", "student"]):
        if student == "teacher":
            continue
        value = part.set_index(["size", "mode"])["value"]
        for claim in claims:
            sizes = claim.sizes or sorted(set(part["size"]))
            for size in sizes:
                where = f"{dataset} · {teacher} · {student} {size}"
                for upper, below in zip(claim.groups, claim.groups[1:], strict=False):
                    for a in upper:
                        for b in below:
                            checked += 1
                            if (size, a) not in value.index or (size, b) not in value.index:
                                failures.append(f"{where}: no {a} or {b} ({claim.text})")
                                continue
                            va, vb = float(value[(size, a)]), float(value[(size, b)])
                            if not (va < vb if lower else va > vb):
                                failures.append(
                                    f"{where}: {a} {va:.4f} not better than {b} {vb:.4f} "
                                    f"({claim.text})"
                                )
    return checked, failures


def check_run(
    run: str | Path,
    against: str | Path,
    tol: float | None = None,
    tol_all: float | None = None,
    partial: bool = False,
    claims: list[str] | tuple[str, ...] = (),
    claim_metric: str = "auc",
) -> CheckReport:
    """Compare a run (an --out folder or a results CSV) with the reference table ``against``:
    each cell within its tolerance (the file's, else ``tol``; ``tol_all`` replaces every one),
    and every claim (e.g. 'crossfit,corrected>vanilla>raw@1,2,3') holding: ``.ok``,
    ``.regressed``, ``.missing``, ``.broken``."""
    run, against = Path(run), Path(against)
    if tol is not None and not tol >= 0:
        raise KDError(f"--tol must be >= 0, got {tol}")
    if tol_all is not None and not tol_all >= 0:
        raise KDError(f"--tol-all must be >= 0, got {tol_all}")
    parsed = [parse_claim(text) for text in claims]
    results = load_results(run)
    reference = load_reference(against)
    if tol_all is not None:
        reference = reference.assign(tolerance=tol_all)
    if partial:
        reference = partial_reference(reference, results)
        if reference.empty:
            raise KDError(
                f"{run} shares no dataset, student and size with {against}; nothing to check"
            )
    report = check(results, reference, tol)
    if parsed:
        report.claims = parsed
        report.comparisons, report.broken = check_claims(results, parsed, claim_metric)
    return report
