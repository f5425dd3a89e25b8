"""A study's output folder: one file per finished unit, written atomically, so nothing is lost.

    DIR/run.json                 the settings (checked on resume), commands, versions, timings,
                                 and each finished unit's checksum, estimated and measured seconds
    DIR/units/<unit>.parquet     the long-format records of one finished unit (its metadata name
                                 the unit and the study's fingerprint)
    DIR/units/<unit>.timings.json  its stages' seconds, fit counts, estimated and measured seconds
    DIR/failures/<unit>.json     a unit that failed: its error (removed when it later succeeds)
    DIR/damaged/                 files found damaged or foreign on resume, set aside, never deleted
    DIR/stale/                   units made from data that has changed since, set aside likewise
    DIR/results.parquet|csv      all records, assembled at the end
    DIR/summary.csv              mean, se and n over repeats and outer folds
    DIR/.kd.lock                 who is running the study now (see kdcli.study.lock)

`kill -9` at any moment loses at most the units in flight: every other unit is a complete file.
A unit file damaged later (a full disk, a bad copy, a hand edit) is found on resume, set aside
and its unit run again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kdcli import records
from kdcli.atomic import atomic_write, atomic_write_text
from kdcli.errors import KDError
from kdcli.settings.study import StudySettings
from kdcli.study.lock import LOCK_NAME
from kdcli.study.plan import Unit
from kdcli.study.run_folder import FORMAT, RECORD, RunFolder, migrate
from kdcli.text import one_line

UNIT_KEY, STUDY_KEY, DATA_KEY = b"kd.unit", b"kd.study", b"kd.data"  # a unit file's metadata
UNIT_SUFFIXES = (".parquet", ".latency.csv", ".timings.json")
# a unit's timings file: its stages' seconds, fits, and its estimated and measured wall seconds
TIMINGS = (
    "teacher",
    "students",
    "teacher_cached",
    "fits",
    "fit_seconds",
    "estimated_seconds",
    "seconds",
)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ResultsDir:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.units = self.path / "units"
        self.failures = self.path / "failures"

    # -- the record of the study ------------------------------------------------------------

    def check_usable(self) -> None:
        """Refuse a file, or a folder of someone else's files, before anything is written."""
        if self.path.exists() and not self.path.is_dir():
            raise KDError(f"--out {self.path} is a file; give a folder")
        ours = {RECORD, "units", "failures", "damaged", "stale", LOCK_NAME}
        if (
            self.path.exists()
            and not RunFolder(self.path).has_record()
            and not (self.units.is_dir() and any(self.units.glob("*.parquet")))
            and any(p.name not in ours for p in self.path.iterdir())
        ):
            raise KDError(
                f"--out {self.path} is not empty and holds no kd study; use a new or empty folder"
            )

    def open(
        self,
        study: StudySettings,
        command: str,
        extra: dict,
        notice: Callable[[str], None] = lambda _text: None,
    ) -> dict:
        """Start a study here, or resume the one recorded; refuse conflicting settings.

        A damaged run.json is set aside and rebuilt from ``study``: the units keep their own
        record of the study that made them, so :meth:`verify` keeps exactly the matching ones.
        """
        self.check_usable()
        folder = RunFolder(self.path)
        wanted = json.loads(json.dumps(study.to_dict(), default=str))
        record = self._read_record(folder, notice) if folder.has_record() else None
        if record is not None:
            if record["settings"] != wanted:
                key = _first_difference(record["settings"], wanted)
                if key == "fit.select_rows" and "select_rows" not in record["settings"]["fit"]:
                    raise KDError(
                        f"{self.path} holds a study started before --select-rows existed, which "
                        "chose c on every training row; resume it with --select-rows all, or "
                        "use another --out"
                    )
                raise KDError(
                    f"{self.path} holds a study with other settings ({key} differs); resume it "
                    "with the command in its run.json, or use another --out"
                )
            record.setdefault("commands", []).append({"command": command, "at": _now()})
        else:
            record = {
                "format": FORMAT,
                "kind": "kd-benchmark",
                "settings": study.to_dict(),
                "fingerprint": study.fingerprint(),
                "created": _now(),
                "commands": [{"command": command, "at": _now()}],
                "units": {},
            }
        record.update(extra)
        self.units.mkdir(parents=True, exist_ok=True)
        self.failures.mkdir(parents=True, exist_ok=True)
        self.record = record
        self.write_record(record)
        return record

    def _read_record(self, folder: RunFolder, notice: Callable[[str], None]) -> dict | None:
        """The recorded study, or None when run.json is damaged (then set aside, with a notice).

        A run.json that is not a regular file, or that cannot be read (permissions), is not
        damaged: it is refused, and nothing is moved."""
        path = folder.record_path
        try:
            record = json.loads(folder.read_text())
            if not isinstance(record, dict) or not isinstance(record.get("settings"), dict):
                raise ValueError("it lacks the study's settings")
            if record.get("kind", "kd-benchmark") != "kd-benchmark":
                raise KDError(f"--out {self.path} holds kd fit results; use another folder")
            return migrate(record)
        except ValueError as err:
            reason = one_line(err, 120)
        kept = self._set_aside(path)
        notice(
            f"{path} was damaged ({reason}); set aside as {kept} and rebuilt from this "
            "command's settings; each finished unit is kept only if it was made with them"
        )
        return None

    def _set_aside(self, path: Path, folder_name: str = "damaged") -> Path:
        """Move a damaged (or stale) file into DIR/damaged/ (DIR/stale/), never overwriting an
        earlier one."""
        folder = self.path / folder_name
        folder.mkdir(exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        target = folder / f"{path.name}.{stamp}"
        n = 1
        while target.exists():
            n += 1
            target = folder / f"{path.name}.{stamp}.{n}"
        os.replace(path, target)
        return target

    def write_record(self, record: dict) -> None:
        RunFolder(self.path).write(record)

    # -- units --------------------------------------------------------------------------------

    def done(self, unit: Unit) -> bool:
        return (self.units / f"{unit.unit_id}.parquet").exists()

    def unit_timings(self) -> list[dict]:
        """Wall-clock seconds and fit counts of every finished unit (for speed measurements)."""
        return [
            {"unit": path.name.removesuffix(".timings.json"), **json.loads(path.read_text())}
            for path in sorted(self.units.glob("*.timings.json"))
        ]

    def recorded_seconds(self, units: list[Unit]) -> dict[str, float]:
        """unit_id -> measured wall seconds of each finished unit: run.json's entry, else (a
        unit of an older kd) its timings file's stages; a unit with neither is left out."""
        entries = self.record.get("units", {})
        out = {}
        for unit in units:
            if not self.done(unit):
                continue
            seconds = (entries.get(unit.unit_id) or {}).get("seconds")
            if seconds is None:
                try:
                    path = self.units / f"{unit.unit_id}.timings.json"
                    timings = json.loads(path.read_text(encoding="utf-8"))
                    seconds = timings.get("seconds", timings["teacher"] + timings["students"])
                except (OSError, ValueError, KeyError, TypeError):
                    continue
            if isinstance(seconds, int | float) and seconds > 0:
                out[unit.unit_id] = float(seconds)
        return out

    def failed(self, unit: Unit) -> bool:
        return (self.failures / f"{unit.unit_id}.json").exists()

    def write_unit(self, unit: Unit, result: dict) -> None:
        """A finished unit: its latency and timings first, then its records, which mark it done,
        then its checksum in run.json."""
        latency = records.latency_frame(result["latency"])
        atomic_write(
            self.units / f"{unit.unit_id}.latency.csv",
            lambda tmp: latency.to_csv(tmp, index=False),
        )
        kept = (*TIMINGS, "trace")  # trace: the unit's fits, one by one (when recorded)
        timings = result["timings"]
        atomic_write_text(
            self.units / f"{unit.unit_id}.timings.json",
            json.dumps({k: timings[k] for k in kept if k in timings}) + "\n",
        )
        table = pa.Table.from_pandas(records.frame(result["records"]), preserve_index=False)
        meta = {**(table.schema.metadata or {}), UNIT_KEY: unit.unit_id.encode()}
        meta[STUDY_KEY] = self.record["fingerprint"].encode()
        if result.get("data"):  # the hash of the data the unit was made from
            meta[DATA_KEY] = result["data"].encode()
        table = table.replace_schema_metadata(meta)
        path = self.units / f"{unit.unit_id}.parquet"
        atomic_write(path, lambda tmp: pq.write_table(table, tmp))
        self.clear_failure(unit.unit_id)
        entry = {"sha256": _sha256(path), "rows": table.num_rows}
        entry.update({k: timings[k] for k in ("estimated_seconds", "seconds") if k in timings})
        if result.get("data"):
            entry["data"] = result["data"]
        self.record.setdefault("units", {})[unit.unit_id] = entry
        self.write_record(self.record)

    def verify(self, units: list[Unit], notice: Callable[[str], None]) -> int:
        """Set aside every finished unit whose files cannot be read back or are not what this
        study wrote for it, so that it runs again; returns how many."""
        damaged = 0
        for unit in units:
            path = self.units / f"{unit.unit_id}.parquet"
            if not path.exists():
                continue
            problem = self._unit_problem(unit.unit_id, path, self.record)
            if problem is None:
                continue
            damaged += 1
            self._set_unit_aside(unit.unit_id, "damaged")
            notice(
                f"unit {unit.unit_id}: {problem}; its files were set aside in "
                f"{self.path / 'damaged'} and it runs again"
            )
        return damaged

    def _set_unit_aside(self, unit_id: str, folder: str) -> None:
        for suffix in UNIT_SUFFIXES:
            if (part := self.units / f"{unit_id}{suffix}").exists():
                self._set_aside(part, folder)
        self.record.get("units", {}).pop(unit_id, None)

    def set_aside_stale(
        self, units: list[Unit], current: dict[str, str], notice: Callable[[str], None]
    ) -> int:
        """Set aside every finished unit made from other data than its dataset holds now
        (``current``: dataset name -> data hash), so that it runs again on today's data: a
        study never mixes units of the old data with units of the new. A unit that recorded no
        hash (a study begun before kd recorded them) is kept. Returns how many."""
        stale: dict[str, list[str]] = {}
        for unit in units:
            now = current.get(unit.dataset)
            made = self.unit_data(unit.unit_id)
            if now is None or made is None or made == now:
                continue
            self._set_unit_aside(unit.unit_id, "stale")
            stale.setdefault(unit.dataset, []).append(unit.unit_id)
        for dataset, ids in stale.items():
            notice(
                f"{dataset}: its data changed since {len(ids)} finished unit(s) were made from "
                f"it; they were set aside in {self.path / 'stale'} and run again on the data as "
                "it is now"
            )
        return sum(map(len, stale.values()))

    def unit_data(self, unit_id: str) -> str | None:
        """The hash of the data a finished unit was made from, if it recorded one."""
        entry = self.record.get("units", {}).get(unit_id) or {}
        if entry.get("data"):
            return entry["data"]
        path = self.units / f"{unit_id}.parquet"
        if not path.exists():
            return None
        try:
            meta = pq.read_schema(path).metadata or {}
        except Exception:  # unreadable: verify() sets it aside
            return None
        return meta[DATA_KEY].decode() if DATA_KEY in meta else None

    def datasets_done(self, units: list[Unit]) -> list[str]:
        """Names of the datasets with at least one finished unit, in plan order."""
        return list(dict.fromkeys(u.dataset for u in units if self.done(u)))

    def _unit_problem(self, unit_id: str, path: Path, record: dict | None) -> str | None:
        """Why the unit file at ``path`` is not what the study of ``record`` wrote for
        ``unit_id``, or None. Without a record (run.json lost) only kd's own metadata is
        checked."""
        try:
            table = pq.read_table(path)
            table.to_pandas()  # reads every page: a damaged one fails here
        except Exception as err:
            return f"{path.name} is unreadable ({type(err).__name__})"
        meta = table.schema.metadata or {}
        recorded = record.get("units") if record is not None else {}
        if UNIT_KEY not in meta:
            # files of a study begun before kd recorded units are trusted; in any other study a
            # file without kd's metadata was not written by it
            if recorded is None:
                return None
            return f"{path.name} was not written by kd for this study (no kd metadata)"
        if meta[UNIT_KEY].decode() != unit_id:
            return f"{path.name} holds unit {meta[UNIT_KEY].decode()!r}, not this one"
        if record is not None and meta.get(STUDY_KEY, b"").decode() != record.get("fingerprint"):
            return f"{path.name} was made by a study with other settings"
        entry = (recorded or {}).get(unit_id)
        if entry is not None and entry.get("sha256") != _sha256(path):
            return f"{path.name} differs from what run.json recorded for it (checksum)"
        latency = self.units / f"{unit_id}.latency.csv"
        try:
            if latency.exists():
                pd.read_csv(latency, dtype={"size": str})
        except Exception as err:
            return f"{latency.name} is unreadable ({type(err).__name__})"
        return None

    def trusted_results(self, record: dict | None, notice: Callable[[str], None]) -> pd.DataFrame:
        """The study's results as its unit files hold them now, each checked as a resume checks
        it (readable, this study's, its checksum): what `kd report` and `kd check` read, never
        the assembled results.parquet, which may be older than the units. Reads only: a unit
        that fails a check is left in place, named, and left out (a resume sets it aside)."""
        frames, skipped = [], []
        paths = sorted(self.units.glob("*.parquet")) if self.units.is_dir() else []
        for path in paths:
            unit_id = path.name.removesuffix(".parquet")
            problem = self._unit_problem(unit_id, path, record)
            if problem is None:
                frames.append(pd.read_parquet(path))
            else:
                skipped.append(problem)
        if record is None and paths:
            notice(
                f"{self.path} has no readable run.json: its unit files were not checked against "
                "the study's record"
            )
        if skipped:
            shown_ = "; ".join(skipped[:3]) + (
                f"; and {len(skipped) - 3} more" if len(skipped) > 3 else ""
            )
            notice(
                f"{len(skipped)} unit file(s) left out: {shown_}; resume the study (the same kd "
                "benchmark command) to set them aside and run them again"
            )
        if not frames:
            return records.frame([])
        return records.ordered(pd.concat(frames, ignore_index=True))

    def write_failure(self, unit_id: str, info: dict) -> None:
        atomic_write_text(
            self.failures / f"{unit_id}.json",
            json.dumps({**info, "at": _now()}, indent=2, default=str) + "\n",
        )

    def clear_failure(self, unit_id: str) -> None:
        (self.failures / f"{unit_id}.json").unlink(missing_ok=True)

    def failure_list(self) -> list[dict]:
        out = []
        for path in sorted(self.failures.glob("*.json")):
            try:
                out.append({"unit": path.stem, **json.loads(path.read_text(encoding="utf-8"))})
            except ValueError:
                out.append({"unit": path.stem, "error": "unreadable failure record"})
        return out

    # -- the assembled tables -----------------------------------------------------------------

    def assemble(self, units: list[Unit]) -> pd.DataFrame:
        """All finished units of this study, in a fixed order: equal for any executor."""
        frames = []
        for unit in units:
            path = self.units / f"{unit.unit_id}.parquet"
            if path.exists():
                frames.append(pd.read_parquet(path))
        if not frames:
            return records.frame([])
        return records.ordered(pd.concat(frames, ignore_index=True))

    def assemble_latency(self, units: list[Unit]) -> pd.DataFrame:
        frames = [
            pd.read_csv(p, dtype={"size": str})
            for u in units
            if (p := self.units / f"{u.unit_id}.latency.csv").exists()
        ]
        return pd.concat(frames, ignore_index=True) if frames else records.latency_frame([])

    def write_tables(self, results: pd.DataFrame) -> pd.DataFrame:
        summary = records.summarise(results)
        atomic_write(self.path / "results.parquet", lambda tmp: results.to_parquet(tmp))
        atomic_write_text(self.path / "results.csv", results.to_csv(index=False))
        atomic_write_text(self.path / "summary.csv", summary.to_csv(index=False))
        return summary


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _first_difference(a, b, prefix: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        # the option a person changed (students) before what follows from it (sizes)
        for key in sorted(set(a) | set(b), key=lambda k: (k == "sizes", k)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{prefix}{key}.")
    return prefix.rstrip(".") or "settings"
