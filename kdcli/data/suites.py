"""Suites: named lists of datasets, each a manifest CSV under ``datasets/`` a person can edit.

A manifest has the columns ``name, spec`` and optionally ``task_id, dataset_id, rows, features,
classes`` (what `kd datasets list` shows without a network); ``#`` starts a comment line.
``dir:PATH`` is a suite of every CSV/TSV/parquet file in a folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kdcli.data.cache import PROJECT_ROOT
from kdcli.errors import KDError

SUITES_DIR = PROJECT_ROOT / "datasets"
DATA_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz", ".parquet")
DEFAULT_SUITE = "demo"


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


def _int_or_none(value) -> int | None:
    return None if pd.isna(value) else int(value)


def read_manifest(path: Path) -> list[Member]:
    try:
        frame = pd.read_csv(path, comment="#", dtype={"name": str, "spec": str})
    except (OSError, ValueError) as err:
        raise KDError(f"cannot read the suite manifest {path}: {err}") from None
    missing = {"name", "spec"} - set(frame.columns)
    if missing:
        raise KDError(f"suite manifest {path} lacks the column(s) {', '.join(sorted(missing))}")
    dupes = frame["name"][frame["name"].duplicated()].tolist()
    if dupes:
        raise KDError(f"suite manifest {path} names '{dupes[0]}' twice; names must be unique")
    members = []
    for row in frame.to_dict("records"):
        members.append(
            Member(
                name=str(row["name"]),
                spec=str(row["spec"]),
                **{
                    k: _int_or_none(row.get(k))
                    for k in ("rows", "features", "classes", "task_id", "dataset_id")
                },
            )
        )
    return members


def folder_members(folder: Path) -> list[Member]:
    if not folder.is_dir():
        raise KDError(f"dir:{folder} is not a folder; give a folder of CSV/TSV/parquet files")
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and p.name.lower().endswith(DATA_SUFFIXES)
        and p.name.split(".")[0].lower() != "manifest"  # a folder's index, not a dataset
    )
    if not files:
        raise KDError(f"dir:{folder} holds no {', '.join(DATA_SUFFIXES)} files")
    stems = [p.name.split(".")[0] for p in files]
    # two files with one stem (data.csv, data.parquet) are two datasets: name them in full
    return [
        Member(name=stem if stems.count(stem) == 1 else p.name, spec=f"file:{p}")
        for stem, p in zip(stems, files, strict=True)
    ]


def suite_members(suite: str) -> list[Member]:
    """Members of a named suite, a manifest file, or ``dir:PATH``."""
    if suite.startswith("dir:"):
        return folder_members(Path(suite[4:]).expanduser().resolve())
    path = Path(suite).expanduser()
    if path.suffix == ".csv" and path.is_file():
        return read_manifest(path)
    manifest = SUITES_DIR / f"{suite}.csv"
    if not manifest.is_file():
        names = ", ".join(available_suites()) or "(none found)"
        raise KDError(f"unknown suite '{suite}'; use one of {names}, dir:PATH or a manifest .csv")
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
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise KDError(f"the suite has no dataset '{name}'{hint}; `kd datasets list` shows them")
        chosen.append(by_name[name])
    return chosen
