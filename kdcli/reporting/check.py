"""`kd check`: compare a run's numbers with a committed reference table, cell by cell.

A reference is a CSV in the long format ``dataset, teacher, student, size, mode, metric, value``
with an optional ``tolerance`` column (absolute). A cell regresses when the run's mean over repeats
and folds differs from the reference by more than its tolerance; a cell the run lacks is missing.

Whole-line ``#`` comments may precede the table. Lines ``# setting NAME = JSON`` record the
settings of the run behind the numbers (written by :func:`update_reference`): a run made with
other settings is refused, since its cells would differ for that reason and not from a regression.
A reference without them (a paper's table typed in by hand) is compared on its numbers alone.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pandas as pd

from kdcli.atomic import atomic_write_text
from kdcli.errors import KDError, SpecError
from kdcli.records import CELL as KEYS
from kdcli.records import cell_means, load_results, size_key

SETTING = "# setting "
# What a reduced re-run (kd check --partial) may change: it ran fewer of the same cells.
PARTIAL_SETTINGS = ("students", "sizes", "repeats", "outer_folds")
# Recorded beside the settings in run.json but deciding no number: the preset's values are
# already in the settings it set.
NOT_SETTINGS = ("preset",)


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
        raise SpecError(
            name,
            f"{{opt}} must be a finite number >= 0 (an absolute difference, e.g. 0.01), "
            f"got {value}",
        )
    return number


# -- the settings record ----------------------------------------------------------------------


def canonical_spec(spec: str) -> str:
    """A dataset SPEC in the form that decides its data: a ``file:`` by its file name (where the
    data lives is not a setting), a ``synthetic:`` design with every parameter, in a fixed order."""
    from kdcli.data.synthetic import DESIGNS

    text = str(spec).strip()
    source, sep, rest = text.partition(":")
    if not sep:
        return text
    source = source.strip().lower()
    if source == "file":
        return "file:" + rest.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    if source == "synthetic":
        name, _, query = rest.partition("?")
        defaults = DESIGNS.get(name)
        params = dict(parse_qsl(query, keep_blank_values=True))
        if defaults is None or set(params) - set(defaults):
            return text
        values = {}
        for key, default in defaults.items():
            try:
                values[key] = default if key not in params else type(default)(params[key])
            except ValueError:
                return text
        return f"synthetic:{name}?" + "&".join(f"{k}={v}" for k, v in values.items())
    return f"{source}:{rest}"


def settings_record(fit: dict, datasets: dict[str, str]) -> dict:
    """The settings a reference records: the fit settings (as ``FitSpec.to_dict``) and each
    dataset's SPEC by name, as plain JSON values (as they read back from a file)."""
    out: dict[str, Any] = {
        "datasets": {str(n): canonical_spec(s) for n, s in sorted(datasets.items())}
    }
    out.update({k: v for k, v in fit.items() if k not in NOT_SETTINGS})
    return json.loads(json.dumps(out, default=str))


def study_settings(study) -> dict:
    """The settings record of a :class:`~kdcli.spec.study.StudySpec`, as its run would write."""
    return settings_record(study.fit.to_dict(), {m.name: m.spec for m in study.members})


def run_settings(run: Path) -> dict | None:
    """The settings of a `kd fit` or `kd benchmark` output (its run.json), or None when it
    records none (a results file on its own, an unreadable or foreign run.json)."""
    run = Path(run)
    if run.is_dir():
        folder = run
    elif run.name in ("results.csv", "results.parquet"):
        folder = run.parent
    else:
        return None
    try:
        record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    settings = record.get("settings") if isinstance(record, dict) else None
    if not isinstance(settings, dict):
        return None
    if isinstance(settings.get("fit"), dict):  # kd benchmark: the suite's members and one fit
        members = settings.get("members")
        datasets = {
            m["name"]: m["spec"]
            for m in (members if isinstance(members, list) else [])
            if isinstance(m, dict) and isinstance(m.get("name"), str) and "spec" in m
        }
        return settings_record(settings["fit"], datasets)
    if "teachers" in settings:  # kd fit: the settings, and the one dataset beside them
        ds = record.get("dataset")
        ds = ds if isinstance(ds, dict) else {}
        named = isinstance(ds.get("name"), str) and isinstance(ds.get("spec"), str)
        return settings_record(settings, {ds["name"]: ds["spec"]} if named else {})
    return None


def settings_lines(settings: dict) -> list[str]:
    """The record as header lines, a setting (or a dataset) per line, so a diff shows each."""
    lines = [
        "# The settings of the run behind these numbers: kd check refuses a run made with other",
        "# settings (--ignore-settings compares anyway; --partial allows a reduced re-run with",
        f"# other {', '.join(PARTIAL_SETTINGS[:-1])} or {PARTIAL_SETTINGS[-1]}).",
    ]
    for name, spec in settings.get("datasets", {}).items():
        lines.append(f"{SETTING}dataset = {json.dumps([name, spec])}")
    for key, value in settings.items():
        if key != "datasets":
            lines.append(f"{SETTING}{key} = {json.dumps(value)}")
    return lines


def _parse_setting(path: Path, lineno: int, text: str, settings: dict, seen: dict) -> None:
    """One ``# setting NAME = JSON`` line into ``settings``; anything else is one clear line."""
    name, sep, raw = text[len(SETTING) :].partition(" = ")
    name = name.strip()
    where = f"reference {path}, line {lineno}"
    if not sep or not name or " " in name:
        raise KDError(
            f"{where}: '{_short(text)}' is not a setting; write '# setting NAME = JSON value', "
            "or start the comment with another word"
        )
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise KDError(
            f"{where}: the value of setting {name} is not JSON ('{_short(raw)}'); write e.g. "
            '# setting repeats = 2 or # setting scale = "prob"'
        ) from None
    if name == "datasets":
        raise KDError(f'{where}: write each dataset as # setting dataset = ["NAME", "SPEC"]')
    store, key = settings, name
    if name == "dataset":  # one line per dataset: ["NAME", "SPEC"]
        pair = isinstance(value, list) and len(value) == 2
        if not (pair and all(isinstance(v, str) for v in value)):
            raise KDError(f'{where}: write a dataset as # setting dataset = ["NAME", "SPEC"]')
        store, key, value = settings["datasets"], value[0], value[1]
    label = f"dataset {key}" if store is not settings else key
    if label in seen:
        raise KDError(f"{where} repeats the setting {label} of line {seen[label]}; keep one")
    seen[label] = lineno
    store[key] = value


# -- the reference table ----------------------------------------------------------------------


@dataclass
class Reference:
    """A reference read from its file: the cells (``value`` and ``tolerance`` as floats, NaN for
    no tolerance of its own) and the settings it records (None for none)."""

    path: Path
    cells: pd.DataFrame
    settings: dict | None


def _short(text: str, n: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def read_reference(path: Path) -> Reference:
    """Read a reference file; every fault is one KDError naming the file, line and column."""
    path = Path(path)
    if not path.exists():
        raise KDError(
            f"reference {path} does not exist; create it with kd check DIR --against "
            f"{path} --update"
        )
    if path.is_dir():
        raise KDError(f"reference {path} is a folder; give the reference CSV file")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise KDError(f"cannot read the reference {path}: {err.strerror or err}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise KDError(
            f"reference {path} is not UTF-8 text (line {line}); save it as a UTF-8 CSV"
        ) from None
    settings: dict[str, Any] = {"datasets": {}}
    seen: dict[str, int] = {}
    table: list[tuple[int, str]] = []  # (line number, line) of the CSV part
    for lineno, line in enumerate(io.StringIO(text, newline=""), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            if stripped.startswith(SETTING):
                _parse_setting(path, lineno, stripped, settings, seen)
            continue
        table.append((lineno, line))
    records = _table_rows(path, table)
    cells = pd.DataFrame(records, columns=[*KEYS, "value", "tolerance", "line"])
    return Reference(path, cells, settings if seen else None)


def _table_rows(path: Path, table: list[tuple[int, str]]) -> list[list]:
    """The cells of the CSV lines: header first, then one row per cell, each checked."""
    need = f"it needs {', '.join(KEYS)}, value and optionally tolerance"
    if not table:
        raise KDError(f"reference {path} has no header line; {need}")
    reader = csv.reader(line for _, line in table)
    rows, header, columns, first = [], None, {}, {}
    try:
        for fields in reader:
            lineno = table[min(reader.line_num, len(table)) - 1][0]
            where = f"reference {path}, line {lineno}"
            if header is None:
                header = [f.strip() for f in fields]
                missing = [c for c in [*KEYS, "value"] if c not in header]
                if missing:
                    raise KDError(
                        f"reference {path} lacks the column(s) {', '.join(missing)}; {need}"
                    )
                twice = sorted({c for c in header if header.count(c) > 1})
                if twice:
                    raise KDError(f"reference {path} has the column {twice[0]} twice; keep one")
                columns = {c: header.index(c) for c in header}
                continue
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                raise KDError(
                    f"{where} has {len(fields)} fields where the header has {len(header)}; "
                    "write one per column (an empty size for the teacher's own scores)"
                )
            key = tuple(fields[columns[k]] for k in KEYS)
            if key in first:
                raise KDError(f"{where} repeats the cell of line {first[key]}; keep one")
            first[key] = lineno
            value = _number(where, "value", fields[columns["value"]], empty_ok=False)
            limit = math.nan
            if "tolerance" in columns:
                limit = _number(where, "tolerance", fields[columns["tolerance"]], empty_ok=True)
            rows.append([*key, value, limit, lineno])
    except csv.Error as err:
        lineno = table[min(max(reader.line_num, 1), len(table)) - 1][0]
        raise KDError(f"reference {path}, line {lineno}: not CSV ({err}); fix the line") from None
    if header is None:  # pragma: no cover - a non-empty table always yields a first row
        raise KDError(f"reference {path} has no header line; {need}")
    return rows


def _number(where: str, column: str, text: str, empty_ok: bool) -> float:
    """A number cell: finite, and for a tolerance >= 0 (empty = the --tol option)."""
    raw = text.strip()
    if not raw and empty_ok:
        return math.nan
    try:
        number = float(raw)
    except ValueError:
        number = None
    if number is None or not math.isfinite(number):
        what = "is empty" if not raw else f"'{_short(raw, 30)}' is not a finite number"
        hint = " (leave it empty to use --tol)" if column == "tolerance" else ""
        raise KDError(f"{where}, column {column}: {what}; write a number such as 0.01{hint}")
    if column == "tolerance" and number < 0:
        raise KDError(
            f"{where}, column tolerance: {raw} is negative; a tolerance is an absolute "
            "difference >= 0 (leave it empty to use --tol)"
        )
    return number


def require_cells(reference: Reference) -> pd.DataFrame:
    """The cells of a reference to check against; one with none is refused, as every run would
    pass it."""
    if reference.cells.empty:
        path = reference.path
        raise KDError(
            f"reference {path} holds no cells, only a header, so any run would pass; add cells, "
            f"or write them from a run with kd check RUN --against {path} --update"
        )
    return reference.cells


def load_reference(path: Path) -> pd.DataFrame:
    """The cells of the reference file ``path`` (see :func:`require_cells`)."""
    return require_cells(read_reference(path))


# -- the check --------------------------------------------------------------------------------


@dataclass
class CheckReport:
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


def check(results: pd.DataFrame, reference: pd.DataFrame, tol: float | None) -> CheckReport:
    """Each reference cell against the run's mean: within its tolerance, out of it, or missing."""
    means = cell_means(results)
    means[KEYS] = means[KEYS].astype(str)  # a reference's keys are text: "1" is dataset "1"
    observed = means.set_index(KEYS)["value"]
    report = CheckReport(cells=len(reference), within=0)
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


def _shown(value: Any) -> str:
    return "absent" if value is _ABSENT else _short(json.dumps(value), 80)


_ABSENT = object()


def _differences(name: str, run: Any, ref: Any, out: list[tuple[str, Any, Any]]) -> None:
    """Append (setting path, run's value, reference's value) for each place they differ."""
    if isinstance(run, dict) and isinstance(ref, dict):
        for key in [*ref, *(k for k in run if k not in ref)]:
            _differences(f"{name}.{key}", run.get(key, _ABSENT), ref.get(key, _ABSENT), out)
    elif isinstance(run, list) and isinstance(ref, list) and len(run) == len(ref):
        if all(isinstance(v, dict | list) for v in (*run, *ref)):
            for i, (a, b) in enumerate(zip(run, ref, strict=True)):
                _differences(f"{name}[{i}]", a, b, out)
        elif not all(_same(a, b) for a, b in zip(run, ref, strict=True)):
            out.append((name, run, ref))
    elif not _same(run, ref):
        out.append((name, run, ref))


def _same(a: Any, b: Any) -> bool:
    """Equal, numbers to 1e-9 relative (1e-5 may be written 9.999999999999999e-06)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9)
    return a == b


def settings_differences(run: dict, ref: dict, partial: bool) -> list[tuple[str, Any, Any]]:
    """Where a run's settings differ from a reference's: the datasets both name, then each
    setting both record (sizes last: they follow from the students). ``partial`` leaves out
    what a reduced re-run may change."""
    out: list[tuple[str, Any, Any]] = []
    run_ds, ref_ds = run.get("datasets") or {}, ref.get("datasets") or {}
    for name in sorted(set(run_ds) & set(ref_ds)):
        a, b = canonical_spec(run_ds[name]), canonical_spec(ref_ds[name])
        if a != b:
            out.append((f"dataset {name}", a, b))
    skip = {"datasets", *(PARTIAL_SETTINGS if partial else ())}
    keys = [k for k in ref if k in run and k not in skip]
    for key in sorted(keys, key=lambda k: k == "sizes"):
        _differences(key, run[key], ref[key], out)
    return out


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
    what = f"{name} is {_shown(a)} in the run, {_shown(b)} in the reference{more}"
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
    metrics: list[str] = ("error", "log_loss", "auc"),
    tol: float = 0.01,
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
        results = load_results(Path(results))
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


# -- claims -----------------------------------------------------------------------------------


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
    named = [m for g in groups for m in g]
    twice = next((m for m in named if named.count(m) > 1), None)
    if twice is not None:  # 'a>a' could never hold; 'a,a>b' is a slip
        raise KDError(f"--claim '{text}' names the mode '{twice}' twice; name each mode once")
    size_list = [s.strip() for s in sizes.split(",") if s.strip()] if sizes else None
    if sizes and not size_list:
        raise KDError(f"--claim '{text}' has no sizes after '@'; write e.g. @1,2,3")
    return Claim(text, groups, size_list)


def check_claims(results: pd.DataFrame, claims: list[Claim], metric: str) -> tuple[int, list[str]]:
    """(comparisons made, one line per comparison that fails or cannot be made). A mode or size
    the run has nowhere is bad input (a typo), not a failed claim."""
    from kdcli.science.metrics import LOWER_IS_BETTER

    if metric not in LOWER_IS_BETTER:
        raise KDError(f"unknown --claim-metric '{metric}'; use one of {', '.join(LOWER_IS_BETTER)}")
    means = cell_means(results)
    means = means[(means.metric == metric) & (means.student != "teacher")]
    means = means.assign(mode=means["mode"].astype(str), size=means["size"].astype(str))
    if means.empty:
        raise KDError(f"the run has no '{metric}' results of students to check claims on")
    modes, all_sizes = set(means["mode"]), set(means["size"])
    for claim in claims:
        for mode in (m for g in claim.groups for m in g):
            if mode not in modes:
                raise KDError(
                    f"--claim '{claim.text}' names the mode '{mode}', which the run does not "
                    f"have; its modes are {', '.join(sorted(modes))}"
                )
        for size in claim.sizes or ():
            if size not in all_sizes:
                raise KDError(
                    f"--claim '{claim.text}' names the size '{size}', which the run does not "
                    f"have; its sizes are {', '.join(sorted(all_sizes, key=size_key))}"
                )
    lower = LOWER_IS_BETTER[metric]
    checked, failures = 0, []
    for (dataset, teacher, student), part in means.groupby(["dataset", "teacher", "student"]):
        value = part.set_index(["size", "mode"])["value"]
        for claim in claims:
            sizes = claim.sizes or sorted(set(part["size"]), key=size_key)
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
    ignore_settings: bool = False,
) -> CheckReport:
    """Compare a run (an --out folder or a results CSV) with the reference table ``against``:
    each cell within its tolerance (the file's, else ``tol``; ``tol_all`` replaces every one),
    and every claim (e.g. 'crossfit,corrected>vanilla>raw@1,2,3') holding: ``.ok``,
    ``.regressed``, ``.missing``, ``.broken``. A run made with other settings than those the
    reference records is refused (KDError) unless ``ignore_settings``."""
    run, against = Path(run), Path(against)
    tol = tolerance("tol", tol)
    tol_all = tolerance("tol_all", tol_all)
    parsed = [parse_claim(text) for text in claims]
    results = load_results(run)
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
    report.notices = notices
    if parsed:
        report.claims = parsed
        report.comparisons, report.broken = check_claims(results, parsed, claim_metric)
    return report
