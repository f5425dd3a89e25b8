"""Live OpenML suites: ``openml-suite:ID`` (or an alias such as ``cc18``) resolved with the official
client (``openml.study.get_suite`` and one ``list_tasks`` call for the tasks' names and sizes), its
manifest written into kd's verified cache, so that every later run reads it offline.

A suite may hold regression tasks: kd distils classifiers, so they stay in the cached manifest
(with their task type) and are left out of the members, with a notice that counts them.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from kdcli.data.cache import write_entry
from kdcli.data.openml_source import (
    OpenMLConfig,
    _checked_meta,
    _not_cached,
    _retrying,
)
from kdcli.data.suites import OPENML_ALIASES, OPENML_SUITE, Member
from kdcli.errors import KDError
from kdcli.text import shown

CLASSIFICATION = "Supervised Classification"  # OpenML's name of the one task type kd runs
MANIFEST = "manifest.csv"
COLUMNS = ("name", "spec", "task_id", "dataset_id", "rows", "features", "classes", "task_type")


def suite_key(text: str) -> str:
    """The suite's id (or OpenML alias) as OpenML knows it: 'cc18' → '99'."""
    if text in OPENML_ALIASES:
        return str(OPENML_ALIASES[text])
    key = text[len(OPENML_SUITE) :].strip()
    if not key or not all(c.isalnum() or c in "-_." for c in key):
        raise KDError(
            f"'{shown(text)}' needs a suite id or alias, e.g. openml-suite:99 "
            f"(or one of {', '.join(OPENML_ALIASES)})"
        )
    return key


def suite_entry(cfg: OpenMLConfig, key: str) -> Path:
    return cfg.server_dir / f"suite-{key}"


def suite_rows(text: str, cfg: OpenMLConfig) -> list[dict[str, str]]:
    """Every task of the suite (classification or not) as manifest rows: from kd's cache, or
    fetched once and cached. Offline without a cached copy is one line naming the fix."""
    key = suite_key(text)
    entry = suite_entry(cfg, key)
    meta = _checked_meta(cfg, entry)
    if meta is None:
        if cfg.offline:
            raise _not_cached(f"OpenML suite {key}", f"--suite {text}", entry)
        rows = _retrying(cfg, f"suite {key}", lambda openml: _fetch_rows(openml, key))
        write_entry(
            entry,
            lambda tmp: (tmp / MANIFEST).write_text(manifest_text(rows), encoding="utf-8"),
            {"kind": "openml-suite", "suite": key, "server": cfg.server, "tasks": len(rows)},
        )
    text_rows = (entry / MANIFEST).read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in io.StringIO(text_rows) if not line.startswith("#")))


def openml_suite_members(
    text: str, cfg: OpenMLConfig | None = None, notice: Callable[[str], None] | None = None
) -> list[Member]:
    """The suite's classification tasks as members (``openml-task:ID``, OpenML's own splits);
    ``notice`` hears how many tasks of another type were left out, and which."""
    cfg = cfg or OpenMLConfig.from_env()
    rows = suite_rows(text, cfg)
    others = [r for r in rows if r["task_type"] != CLASSIFICATION]
    if others and notice is not None:
        named = ", ".join(f"{r['task_id']} ({r['name']}, {r['task_type']})" for r in others[:5])
        more = f" and {len(others) - 5} more" if len(others) > 5 else ""
        notice(
            f"{text}: {len(others)} of {len(rows)} tasks are not classification and are "
            f"skipped: task {named}{more}"
        )
    members = [_member(r) for r in rows if r["task_type"] == CLASSIFICATION]
    if not members:
        raise KDError(f"{text} has no classification task ({len(rows)} tasks of other types)")
    return members


def _member(row: dict[str, str]) -> Member:
    def number(key: str) -> int | None:
        return int(row[key]) if row.get(key) else None

    return Member(
        name=row["name"],
        spec=row["spec"],
        rows=number("rows"),
        features=number("features"),
        classes=number("classes"),
        task_id=number("task_id"),
        dataset_id=number("dataset_id"),
    )


def _fetch_rows(openml, key: str) -> list[dict[str, str]]:
    """The suite and one listing of its tasks (names, dataset ids, sizes, types)."""
    suite = openml.study.get_suite(int(key) if key.isdigit() else key)
    tasks = [int(t) for t in (suite.tasks or [])]
    if not tasks:
        raise KDError(f"OpenML suite {key} lists no tasks")
    listing = openml.tasks.list_tasks(task_id=tasks, output_format="dataframe")
    found = {int(t): row for t, row in listing.set_index("tid").iterrows()}
    missing = [t for t in tasks if t not in found]
    if missing:
        raise KDError(
            f"OpenML lists no task {', '.join(map(str, missing[:5]))} of suite {key}; "
            "the suite may have changed: try again later"
        )
    # a name is the dataset's, made unique by the task id where two tasks of the same type
    # share a dataset (a regression task beside a classification one leaves both plain)
    names = Counter((str(found[t]["name"]), str(found[t]["task_type"])) for t in tasks)
    rows = []
    for tid in tasks:
        task = found[tid]
        name = str(task["name"])
        rows.append(
            {
                "name": name if names[name, str(task["task_type"])] == 1 else f"{name}-{tid}",
                "spec": f"openml-task:{tid}",
                "task_id": str(tid),
                "dataset_id": str(int(task["did"])),
                "rows": _whole(task.get("NumberOfInstances")),
                "features": _whole(task.get("NumberOfFeatures")),
                "classes": _whole(task.get("NumberOfClasses")),
                "task_type": str(task["task_type"]),
            }
        )
    return rows


def _whole(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return str(int(number)) if number == number and number >= 0 else ""


def manifest_text(rows: list[dict[str, str]]) -> str:
    """The rows as a manifest a person can edit (kd's suite format: ``name,spec`` and the sizes;
    ``task_type`` is kept for the reader, kd reads the columns it knows)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
