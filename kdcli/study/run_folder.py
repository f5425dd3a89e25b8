"""A run's folder, `kd fit`'s or `kd benchmark`'s: the one reader and writer of its run.json.

Both kinds share one record layout (format 2): ``settings`` holds the study's ``suite`` (None
for `kd fit`), its ``members`` (name and SPEC of each dataset) and one ``fit`` (the
:class:`~kdcli.settings.fit.FitSettings` as a dict). Folders of older kd (format 1: `kd fit`
kept its fit settings flat under ``settings``) read through :func:`migrate`, so no reader
branches on the kind.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from kdcli.atomic import (
    atomic_write_text,
    check_writable_place,
    refuse_special,
    resolved,
    special_kind,
    translated,
)
from kdcli.errors import KDError
from kdcli.records import load_results
from kdcli.text import one_line, shown

RECORD = "run.json"
FORMAT = 2  # the run.json layout; 1 (or none): kd 0.1's
RESULTS_FILES = ("results.csv", "results.parquet")  # a run's own results, beside its record
FIT_FILES = ("results.csv", "summary.csv", "latency.csv", RECORD)  # all `kd fit` writes
KINDS = {"kd-benchmark": "a kd benchmark study", "kd-fit": "kd fit results"}


def migrate(record: dict) -> dict:
    """A run.json of any format as format 2 (a new dict; the file is not rewritten)."""
    record = dict(record)
    settings = record.get("settings")
    if "kind" not in record and "dataset" in record:  # a kd fit's record, whatever its age
        record["kind"] = "kd-fit"
    given = record.get("format")
    older = not isinstance(given, int) or given < 2
    if older and record.get("kind") == "kd-fit" and isinstance(settings, dict):
        got = record.get("dataset")
        dataset = got if isinstance(got, dict) else {}
        named = isinstance(dataset.get("name"), str) and isinstance(dataset.get("spec"), str)
        record["settings"] = {
            "suite": None,
            "members": [{"name": dataset["name"], "spec": dataset["spec"]}] if named else [],
            "fit": settings,
        }
    record["format"] = FORMAT if older else given
    return record


class RunFolder:
    """A run given as its folder, or as its results file (``results.csv``/``.parquet`` in a
    run's folder, or a bare results file with no record beside it)."""

    def __init__(self, path: str | Path, results_file: Path | None = None):
        self.path = Path(path)
        self.results_file = results_file
        self.record_path = self.path / RECORD
        self._record: dict | None = None

    @classmethod
    def of(cls, run: str | Path) -> RunFolder:
        """The run a user names: its folder, or a results file (in a run's folder or bare)."""
        run = Path(run)
        return cls(run) if run.is_dir() else cls(run.parent, results_file=run)

    # -- what it is ---------------------------------------------------------------------------

    @property
    def is_study(self) -> bool:
        """A `kd benchmark` folder: it has units/ (a killed study may have nothing else)."""
        return self.results_file is None and (self.path / "units").is_dir()

    def has_record(self) -> bool:
        """A run's folder with a run.json (a results file is read as it stands)."""
        return self.results_file is None and (
            self.record_path.exists() or self.record_path.is_symlink()
        )

    # -- the record ---------------------------------------------------------------------------

    def record(self) -> dict:
        """run.json as format 2 ({} when there is none); a damaged one is refused naming how to
        recover, one that cannot be read (permissions, not a regular file) naming why."""
        if self._record is None:
            self._record = self._read() if self.has_record() else {}
        return self._record

    def _read(self) -> dict:
        try:
            record = json.loads(self.read_text())
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError as err:
            redo = (
                "the same kd benchmark command on it rebuilds it and keeps the finished units"
                if self.is_study
                else "run the kd fit again"
            )
            raise KDError(f"{self.record_path} is damaged ({one_line(err, 100)}); {redo}") from None
        return migrate(record)

    def read_text(self) -> str:
        """run.json's text. One that is not a regular file (a folder, a FIFO, a device) or
        cannot be read is refused in one line naming what is wrong: it is not damaged, and kd
        never moves or replaces what it did not write."""
        path = self.record_path
        try:
            if not stat.S_ISREG(path.stat().st_mode):
                raise KDError(
                    f"{shown(path)} is not a regular file; kd writes run.json itself, so move "
                    "this one away or use another --out"
                )
            return path.read_text(encoding="utf-8")  # not UTF-8: a ValueError, damaged
        except OSError as err:
            why = "permission denied" if isinstance(err, PermissionError) else one_line(err)
            raise KDError(
                f"cannot read {shown(path)} ({why}); make it readable by this user, or use "
                "another --out"
            ) from None

    def record_if_readable(self) -> dict | None:
        """The record, or None when there is none or it cannot be read: for readers to whom a
        missing record only means less is known (a FIFO or device is never opened)."""
        beside = self.results_file is None or self.results_file.name in RESULTS_FILES
        if not beside or not self.record_path.is_file():
            return None
        try:
            record = json.loads(self.record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return migrate(record) if isinstance(record, dict) else None

    def write(self, record: dict) -> None:
        """run.json, atomically, as format 2."""
        atomic_write_text(
            self.record_path,
            json.dumps({**record, "format": FORMAT}, indent=2, default=str) + "\n",
        )
        self._record = None

    # -- what the record says -----------------------------------------------------------------

    @property
    def kind(self) -> str | None:
        """'kd-fit' or 'kd-benchmark', as recorded (a study's folder without a record is one);
        None for a results file or an empty folder."""
        kind = self.record().get("kind")
        return str(kind) if kind else ("kd-benchmark" if self.is_study else None)

    def splits(self) -> list[dict]:
        """The outer splits of a `kd fit` with their seeds and sizes (n_train, n_test); [] for
        a study, whose units record their own."""
        splits = self.record().get("splits")
        return [s for s in splits if isinstance(s, dict)] if isinstance(splits, list) else []

    def settings(self) -> dict | None:
        """{'suite', 'members', 'fit'} as recorded, or None when there is no readable record."""
        record = self.record_if_readable()
        settings = record.get("settings") if record else None
        if not isinstance(settings, dict) or not isinstance(settings.get("fit"), dict):
            return None
        return settings

    def members(self) -> dict[str, str]:
        """Dataset name -> SPEC of every member the record names."""
        settings = self.settings() or {}
        members = settings.get("members")
        return {
            m["name"]: m["spec"]
            for m in (members if isinstance(members, list) else [])
            if isinstance(m, dict) and isinstance(m.get("name"), str) and "spec" in m
        }

    def preset(self) -> dict | None:
        """The preset the run was made with (its name, what was overridden), or None."""
        fit = (self.record().get("settings") or {}).get("fit") or {}
        preset = fit.get("preset")
        return preset if isinstance(preset, dict) else None

    def planned(self) -> dict[tuple[str, str], set[tuple[int, int]]] | None:
        """(dataset, teacher) -> the (repeat, fold) splits a study planned; None for `kd fit`
        or a study from before kd recorded its plan."""
        return planned(self.record())

    # -- results ------------------------------------------------------------------------------

    def results(self, notice: Callable[[str], None] = lambda _text: None) -> pd.DataFrame:
        """The long results: a study's from its checked unit files (what is left out is told to
        ``notice``), a `kd fit` folder's or a results file's as written."""
        if not self.is_study:
            return load_results(self.results_file or self.path)
        from kdcli.study.results_dir import ResultsDir

        results = ResultsDir(self.path).trusted_results(self.record() or None, notice)
        if not len(results):
            raise KDError(
                f"{self.path} holds no finished unit of a study yet; resume it (the same kd "
                "benchmark command), or wait for a unit to finish"
            )
        return results

    def latency(self) -> pd.DataFrame | None:
        """Prediction latencies beside the results: a study's from the unit files whose results
        were read, a `kd fit` folder's latency.csv; None when there are none."""
        if self.is_study:  # a unit whose latency is unreadable was left out of the results too
            frames = []
            for path in sorted((self.path / "units").glob("*.parquet")):
                latency = path.with_name(path.name.removesuffix(".parquet") + ".latency.csv")
                try:
                    frames.append(pd.read_csv(latency, dtype={"size": str}))
                except (OSError, ValueError):
                    continue
            return pd.concat(frames, ignore_index=True) if frames else None
        path = self.path / "latency.csv"
        if self.results_file is not None or not path.is_file():
            return None
        try:
            return pd.read_csv(path, dtype={"size": str})
        except (OSError, ValueError) as err:
            raise KDError(
                f"{path} is damaged ({one_line(err, 100)}); delete it (the report then shows "
                "no latency) or resume the study to rewrite it"
            ) from None

    # -- where a run may be written -----------------------------------------------------------

    def check_out(self, kind: str, force: bool = False) -> None:
        """Refuse an --out that cannot be written, or that holds another kind of run, before
        any work. For kd fit (``kind`` 'kd-fit') also a folder of anyone else's files, and an
        earlier fit unless ``force`` (which replaces only :data:`FIT_FILES`). Creates nothing:
        a failed command leaves no folder behind."""
        with translated(self.path, "--out"):  # a stat may fail: a name too long, not ours
            self._check_kind(kind)
            if kind == "kd-fit":
                self._check_fit_folder(force)

    def _check_kind(self, kind: str) -> None:
        path, record = self.path, self.record_path
        if path.exists() and not path.is_dir():
            raise KDError(f"--out {path} is a file; give a folder (it is created if missing)")
        if record.exists() and not record.is_file():  # a FIFO or device may never end
            what = special_kind(os.stat(record)) or "not a regular file"
            raise KDError(f"--out {path}: its run.json is {what}; use another folder")
        if record.exists():
            earlier = self.record_if_readable()  # damaged: a study sets it aside (results_dir)
            recorded = earlier.get("kind", "kd-fit") if earlier is not None else kind
            if recorded != kind:
                held = KINDS.get(recorded, "other files")
                raise KDError(f"--out {path} holds {held}; use another folder")
        check_writable_place(path, "--out", "folder")

    def _check_fit_folder(self, force: bool) -> None:
        """A kd fit writes into an empty or new folder, or with ``force`` over an earlier fit:
        never over files it did not make (a user's own results.csv)."""
        path = self.path
        if not path.is_dir():
            return
        if not [p for p in path.iterdir() if not _leftover(p.name)]:
            return
        earlier = self.record_if_readable()
        if earlier is None or earlier.get("kind") != "kd-fit":
            raise KDError(
                f"--out {path} is not empty and holds no kd fit results; use a new or empty folder"
            )
        if not force:
            dataset = earlier.get("dataset")
            name = dataset.get("name") if isinstance(dataset, dict) else None
            of = f" (of {name})" if isinstance(name, str) else ""
            raise KDError(
                f"--out {path} holds an earlier kd fit{of}; add --force to replace its "
                f"{', '.join(FIT_FILES[:-1])} and {FIT_FILES[-1]} (nothing else), or use "
                "another folder"
            )
        for name in FIT_FILES:
            _, st = resolved(path / name)
            if (kind := special_kind(st)) is not None:
                raise refuse_special(path / name, kind, "--out")


def planned(record: dict) -> dict[tuple[str, str], set[tuple[int, int]]] | None:
    """A record's ``planned`` splits as (dataset, teacher) -> {(repeat, fold)}."""
    plan = record.get("planned")
    if not isinstance(plan, dict):
        return None
    out: dict[tuple[str, str], set[tuple[int, int]]] = {}
    for dataset, teachers in plan.items():
        for teacher, splits in (teachers or {}).items():
            out[(str(dataset), str(teacher))] = {(int(r), int(f)) for r, f in splits}
    return out


def check_out_dir(path: Path, kind: str, force: bool = False) -> None:
    """:meth:`RunFolder.check_out` of the folder ``path``."""
    RunFolder(path).check_out(kind, force)


def _leftover(name: str) -> bool:
    """A temporary file of kd's own write, left by a kill -9 before its rename."""
    return name.startswith(".") and name.endswith(".tmp") and name[1:].startswith(FIT_FILES)
