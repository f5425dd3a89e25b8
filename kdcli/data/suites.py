"""Suites: named lists of datasets, each a manifest CSV a person can edit: kd's own ship in the
package (``kdcli/suites/``, read through :mod:`importlib.resources`, so an installed wheel has
them too), and a user's own is given by its path.

A manifest has the columns ``name, spec`` and optionally ``task_id, dataset_id, rows, features,
classes`` (what `kd datasets list` shows without a network; whole numbers or blank); ``#`` starts
a comment (to the end of its line, outside quotes). ``dir:PATH`` is a suite of every
CSV/TSV/parquet file in a folder. A manifest is read as text: whatever it holds, reading it gives
members or one line naming the bad line of the file.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from kdcli.data.files import local_path
from kdcli.errors import KDError
from kdcli.text import one_line, shown

if TYPE_CHECKING:
    import sys

    from kdcli.data.openml_source import OpenMLConfig

    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

SUITES_PACKAGE = "kdcli.suites"
DATA_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz", ".parquet")
DEFAULT_SUITE = "demo"
TEXT_FIELDS = ("name", "spec")
NUMBER_FIELDS = ("rows", "features", "classes", "task_id", "dataset_id")


@dataclass
class Member:
    name: str
    spec: str
    rows: int | None = None
    features: int | None = None
    classes: int | None = None
    task_id: int | None = None
    dataset_id: int | None = None


def _bundled() -> dict[str, Traversable]:
    """kd's own manifests by suite name."""
    files = resources.files(SUITES_PACKAGE).iterdir()
    return {f.name.removesuffix(".csv"): f for f in files if f.name.endswith(".csv")}


OPENML_SUITE = "openml-suite:"
OPENML_ALIASES = {"cc18": 99, "amlb-classification": 271}  # live OpenML suites by a short name


def is_openml_suite(text: str) -> bool:
    """``openml-suite:ID``, or one of :data:`OPENML_ALIASES`."""
    return text.startswith(OPENML_SUITE) or text in OPENML_ALIASES


def available_suites() -> list[str]:
    return sorted(_bundled())


def read_manifest(path: Path) -> list[Member]:
    """The members a manifest lists; anything wrong with it is one line naming the line."""
    header, rows = _manifest_rows(path)
    missing = {"name", "spec"} - set(header)
    if missing:
        raise KDError(
            f"suite manifest {shown(path)} lacks the column(s) {', '.join(sorted(missing))}"
        )
    if not rows:
        raise KDError(f"suite manifest {shown(path)} lists no datasets; add rows of name,spec")
    # a short row leaves its last columns blank (they are optional)
    members = [
        _member(path, line, dict(zip(header, fields, strict=False))) for line, fields in rows
    ]
    seen: set[str] = set()
    for m in members:
        if m.name in seen:
            raise KDError(
                f"suite manifest {shown(path)} names '{shown(m.name)}' twice; names must be unique"
            )
        seen.add(m.name)
    return members


def _manifest_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the rows, each with its line number in the file; comments and blank lines
    left out. A row with more values than the header has columns is refused: pandas shifted
    such a row's values into the wrong columns (its name read as the index) without a word."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # universal newlines; a BOM is no name
        records = [
            (number, [field.strip() for field in fields])
            for number, line in enumerate(text.split("\n"), 1)
            if (fields := _fields(_uncommented(line)))
        ]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise KDError(f"cannot read the suite manifest {shown(path)}: {one_line(err)}") from None
    if not records:
        raise KDError(f"suite manifest {shown(path)} is empty; it needs a header row name,spec")
    (_, header), *rows = records
    twice = sorted(name for name, n in Counter(h for h in header if h).items() if n > 1)
    if twice:
        raise KDError(
            f"suite manifest {shown(path)} names the column '{shown(twice[0])}' twice in its "
            "header; give each column once"
        )
    for number, fields in rows:
        if len(fields) > len(header) and any(fields[len(header) :]):
            raise KDError(
                f"suite manifest {shown(path)}: line {number} has {len(fields)} values but the "
                f"header names {len(header)} columns ({', '.join(shown(h) for h in header)}); "
                "remove the extra values, or quote a value that holds a comma"
            )
    return header, rows


def _uncommented(line: str) -> str:
    """``line`` up to a ``#`` outside double quotes (pandas' ``comment="#"``)."""
    quoted = False
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            return line[:i]
    return line


def _fields(line: str) -> list[str]:
    """The values of one line; none for a blank line."""
    if not line.strip():
        return []
    return next(csv.reader([line], skipinitialspace=True))


def _member(path: Path, line: int, row: dict) -> Member:
    text = {k: str(row.get(k) or "").strip() for k in (*TEXT_FIELDS, *NUMBER_FIELDS)}
    for key in TEXT_FIELDS:
        if not text[key]:
            raise KDError(f"suite manifest {shown(path)}: line {line} has no {key}; give it one")
    numbers = {k: _whole_number(path, line, k, text[k]) for k in NUMBER_FIELDS}
    return Member(name=text["name"], spec=text["spec"], **numbers)


def _whole_number(path: Path, line: int, key: str, text: str) -> int | None:
    """Sizes and ids are optional whole numbers (``3196`` or ``3196.0``); anything else is named."""
    if not text or text.lower() in ("nan", "na", "none", "-"):
        return None
    try:
        value = float(text)
        if value.is_integer() and value >= 0:
            return int(value)
    except ValueError:
        pass
    raise KDError(
        f"suite manifest {shown(path)}: {key} '{shown(text)}' on line {line} is not a whole "
        "number >= 0; fix it or leave it empty"
    )


def folder_members(folder: Path) -> list[Member]:
    if not _is_dir(folder):
        raise KDError(
            f"dir:{shown(folder)} is not a folder; give a folder of CSV/TSV/parquet files"
        )
    try:
        entries = sorted(p for p in folder.iterdir() if p.is_file())
    except OSError as err:
        raise KDError(f"cannot list the folder dir:{shown(folder)}: {one_line(err)}") from None
    files = [
        p
        for p in entries
        if p.name.lower().endswith(DATA_SUFFIXES)
        and p.name.split(".")[0].lower() != "manifest"  # a folder's index, not a dataset
    ]
    if not files:
        raise KDError(f"dir:{shown(folder)} holds no {', '.join(DATA_SUFFIXES)} files")
    stems = [p.name.split(".")[0] or p.name for p in files]
    counts = Counter(stems)
    # two files with one stem (data.csv, data.parquet) are two datasets: name them in full
    return [
        Member(name=stem if counts[stem] == 1 else p.name, spec=f"file:{p}")
        for stem, p in zip(stems, files, strict=True)
    ]


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def suite_members(
    suite: str,
    *,
    openml: OpenMLConfig | None = None,
    notice: Callable[[str], None] | None = None,
) -> list[Member]:
    """Members of a named suite, a manifest file, ``dir:PATH`` or a live OpenML suite
    (``openml-suite:ID`` or an alias, :mod:`.openml_suite`: fetched once with ``openml``'s
    settings, then read from the cache; ``notice`` hears which tasks it leaves out)."""
    if is_openml_suite(suite):
        from kdcli.data.openml_suite import openml_suite_members  # it builds Members: import late

        return openml_suite_members(suite, openml, notice)
    if suite.startswith("dir:"):
        return folder_members(local_path(suite[4:], "the folder").resolve())
    path = local_path(suite, "the suite")
    if path.suffix == ".csv" and _is_file(path):
        return read_manifest(path)
    manifest = _bundled().get(suite)
    if manifest is None:
        names = ", ".join(available_suites()) or "(none found)"
        raise KDError(
            f"unknown suite '{shown(suite)}'; use one of {names}, dir:PATH, openml-suite:ID "
            "or a manifest .csv"
        )
    with resources.as_file(manifest) as path:  # a real file, even from a zipped install
        return read_manifest(path)


def select(members: list[Member], names: str | None) -> list[Member]:
    """``--datasets a,b``: those members, in the order given; unknown names are refused."""
    if not names:
        return members
    by_name = {m.name: m for m in members}
    chosen = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        if name not in by_name:
            close = [m for m in by_name if name.lower() in m.lower()][:5]
            hint = f" (did you mean {', '.join(shown(c) for c in close)}?)" if close else ""
            raise KDError(
                f"the suite has no dataset '{shown(name)}'{hint}; `kd datasets list` shows them"
            )
        chosen.append(by_name[name])
    return chosen


MANIFEST_COLUMNS = ("name", "spec", "task_id", "dataset_id", "rows", "features", "classes")


def manifest_csv(suite: str, members: list[Member], comments: Sequence[str] = ()) -> str:
    """``members`` as a manifest :func:`read_manifest` reads back: a comment naming the suite
    (and ``comments``, e.g. the tasks left out), then ``name,spec`` and the sizes kd knows."""
    out = io.StringIO()
    out.write(f"# kd suite manifest of {one_line(suite)}; edit it and pass it as --suite FILE\n")
    out.writelines(f"# {one_line(c)}\n" for c in comments)
    # text quoted: a '#' in a name is not read back as a comment
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(MANIFEST_COLUMNS)
    for m in members:
        writer.writerow(["" if (v := getattr(m, c)) is None else v for c in MANIFEST_COLUMNS])
    return out.getvalue()
