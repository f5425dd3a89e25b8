"""Reference tables for `kd check`: reading them (every fault one line naming the file, line and
column) and the header lines that record the settings behind them.

A reference is a CSV in the long format ``dataset, teacher, student, size, mode, metric, value``
with an optional ``tolerance`` column (absolute). Whole-line ``#`` comments may precede the table;
lines ``# setting NAME = JSON`` record the settings of the run behind the numbers. A reference
without them (a paper's table typed in by hand) is compared on its numbers alone.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kdcli.atomic import special_kind
from kdcli.data.cache import PROJECT_ROOT
from kdcli.errors import KDError
from kdcli.records import CELL as KEYS
from kdcli.reporting.run_settings import NOT_SETTINGS, PARTIAL_SETTINGS
from kdcli.text import one_line

SETTING = "# setting "


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
            f"{where}: '{one_line(text, 60)}' is not a setting; write '# setting NAME = JSON value', "
            "or start the comment with another word"
        )
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise KDError(
            f"{where}: the value of setting {name} is not JSON ('{one_line(raw, 60)}'); write e.g. "
            '# setting repeats = 2 or # setting scale = "prob"'
        ) from None
    if name == "datasets":
        raise KDError(f'{where}: write each dataset as # setting dataset = ["NAME", "SPEC"]')
    known = setting_names()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise KDError(
            f"{where}: unknown setting '{one_line(name, 40)}'; {hint}(known: {', '.join(known)})"
        )
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


def setting_names() -> list[str]:
    """The names a ``# setting`` line may have: ``dataset`` and each fit setting a run records
    (a misspelt one would otherwise be silently left out of the comparison)."""
    from kdcli.settings.fit import (
        FitSettings,  # the settings import much; a reference needs it only here
    )

    fields = [f.name for f in dataclasses.fields(FitSettings) if f.name not in NOT_SETTINGS]
    return ["dataset", *fields]


def require_regular_file(path: Path) -> None:
    """Refuse a reference that is a FIFO, device, socket or folder before reading it: such a
    file may never end (a device reads forever) and is never a table."""
    try:
        st = os.stat(path)  # follows a symbolic link: its target is the reference
    except OSError:  # not there, or not reachable: the read or the write says which
        return
    kind = special_kind(st)
    if kind == "a folder":
        raise KDError(f"reference {path} is a folder; give the reference CSV file")
    if kind is not None:
        raise KDError(
            f"reference {path} is {kind}, not a regular file; give the reference CSV file"
        )


# -- the table -------------------------------------------------------------------------------


@dataclass
class Reference:
    """A reference read from its file: the cells (``value`` and ``tolerance`` as floats, NaN for
    no tolerance of its own) and the settings it records (None for none)."""

    path: Path
    cells: pd.DataFrame
    settings: dict | None


KD_REFERENCES = PROJECT_ROOT / "results" / "reference"  # kd's own, committed beside its code


def locate_reference(path: str | Path) -> tuple[Path, str | None]:
    """The reference file ``path`` names, and a notice when it is kd's own found elsewhere.

    kd's committed references resolve from any folder: by name (``bundled``, ``dao2021.csv``),
    or by the path the docs give them (``results/reference/bundled.csv``), when no file of that
    name is in the current folder. Only for reading: ``--update`` writes exactly where told."""
    path = Path(path)
    if path.exists() or path.is_symlink() or path.is_absolute():
        return path, None
    name = path.name if path.suffix == ".csv" else f"{path.name}.csv"
    bare = path.parent == Path(".")
    documented = path.parent == Path("results", "reference")
    own = KD_REFERENCES / name
    if (bare or documented) and own.is_file():
        notice = None if bare else f"{path} is not in {Path.cwd()}; read kd's own {own}"
        return own, notice
    return path, None


def own_reference_names() -> list[str]:
    """The names of kd's committed references (empty away from its checkout)."""
    return sorted(p.stem for p in KD_REFERENCES.glob("*.csv")) if KD_REFERENCES.is_dir() else []


def read_reference(path: Path) -> Reference:
    """Read a reference file; every fault is one KDError naming the file, line and column."""
    path = Path(path)
    if not path.exists():
        names = own_reference_names()
        own = f"kd's own references are named {', '.join(names)}; " if names else ""
        raise KDError(
            f"reference {path} does not exist; {own}a new one is made with kd check DIR "
            f"--against {path} --update"
        )
    require_regular_file(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise KDError(f"cannot read the reference {path}: {err.strerror or err}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        bad = data[: err.start].count(b"\n") + 1
        raise KDError(
            f"reference {path} is not UTF-8 text (line {bad}); save it as a UTF-8 CSV"
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
    rows: list[list] = []
    header: list[str] | None = None
    columns: dict[str, int] = {}
    first: dict[tuple, int] = {}
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
        what = "is empty" if not raw else f"'{one_line(raw, 30)}' is not a finite number"
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
