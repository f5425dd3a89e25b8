"""Suites: named lists of datasets, each a manifest CSV under ``datasets/`` a person can edit.

A manifest has the columns ``name, spec`` and optionally ``task_id, dataset_id, rows, features,
classes`` (what `kd datasets list` shows without a network; whole numbers or blank); ``#`` starts
a comment line. ``dir:PATH`` is a suite of every CSV/TSV/parquet file in a folder. A manifest
is read as text: whatever it holds, reading it gives members or one line naming the bad row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kdcli.data.cache import PROJECT_ROOT
from kdcli.data.files import local_path
from kdcli.data.text import one_line, shown
from kdcli.errors import KDError

SUITES_DIR = PROJECT_ROOT / "datasets"
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


def available_suites() -> list[str]:
    return sorted(p.stem for p in SUITES_DIR.glob("*.csv")) if SUITES_DIR.is_dir() else []


def read_manifest(path: Path) -> list[Member]:
    """The members a manifest lists; anything wrong with it is one line naming the row."""
    frame = _manifest_frame(path)
    missing = {"name", "spec"} - set(frame.columns)
    if missing:
        raise KDError(
            f"suite manifest {shown(path)} lacks the column(s) {', '.join(sorted(missing))}"
        )
    if frame.empty:
        raise KDError(f"suite manifest {shown(path)} lists no datasets; add rows of name,spec")
    members = [_member(path, i + 1, row) for i, row in enumerate(frame.to_dict("records"))]
    seen: set[str] = set()
    for m in members:
        if m.name in seen:
            raise KDError(
                f"suite manifest {shown(path)} names '{shown(m.name)}' twice; names must be unique"
            )
        seen.add(m.name)
    return members


def _manifest_frame(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            path, comment="#", dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except pd.errors.EmptyDataError:
        raise KDError(
            f"suite manifest {shown(path)} is empty; it needs a header row name,spec"
        ) from None
    except Exception as err:  # the tokenizer and the codec raise many types
        raise KDError(f"cannot read the suite manifest {shown(path)}: {one_line(err)}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _member(path: Path, row_number: int, row: dict) -> Member:
    text = {k: str(row.get(k) or "").strip() for k in (*TEXT_FIELDS, *NUMBER_FIELDS)}
    for key in TEXT_FIELDS:
        if not text[key]:
            raise KDError(
                f"suite manifest {shown(path)}: row {row_number} has no {key}; give it one"
            )
    numbers = {k: _whole_number(path, row_number, k, text[k]) for k in NUMBER_FIELDS}
    return Member(name=text["name"], spec=text["spec"], **numbers)


def _whole_number(path: Path, row_number: int, key: str, text: str) -> int | None:
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
        f"suite manifest {shown(path)}: {key} '{shown(text)}' in row {row_number} is not a whole "
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
    # two files with one stem (data.csv, data.parquet) are two datasets: name them in full
    return [
        Member(name=stem if stems.count(stem) == 1 else p.name, spec=f"file:{p}")
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


def suite_members(suite: str) -> list[Member]:
    """Members of a named suite, a manifest file, or ``dir:PATH``."""
    if suite.startswith("dir:"):
        return folder_members(local_path(suite[4:], "the folder").resolve())
    path = local_path(suite, "the suite")
    if path.suffix == ".csv" and _is_file(path):
        return read_manifest(path)
    manifest = SUITES_DIR / f"{suite}.csv"
    if not _is_file(manifest):
        names = ", ".join(available_suites()) or "(none found)"
        raise KDError(
            f"unknown suite '{shown(suite)}'; use one of {names}, dir:PATH or a manifest .csv"
        )
    return read_manifest(manifest)


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
