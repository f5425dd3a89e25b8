"""A study's output folder: one file per finished unit, written atomically, so nothing is lost.

    DIR/run.json                 the settings (checked on resume), commands, versions, timings
    DIR/units/<unit>.parquet     the long-format records of one finished unit
    DIR/failures/<unit>.json     a unit that failed: its error (removed when it later succeeds)
    DIR/results.parquet|csv      all records, assembled at the end
    DIR/summary.csv              mean, se and n over repeats and outer folds

`kill -9` at any moment loses at most the units in flight: every other unit is a complete file.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from kdcli import records
from kdcli.atomic import atomic_write, atomic_write_text
from kdcli.errors import KDError
from kdcli.spec.study import StudySpec
from kdcli.study.plan import Unit


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ResultsDir:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.units = self.path / "units"
        self.failures = self.path / "failures"

    # -- the record of the study ------------------------------------------------------------

    def open(self, study: StudySpec, command: str, extra: dict) -> dict:
        """Start a study here, or resume the one recorded; refuse conflicting settings."""
        if self.path.exists() and not self.path.is_dir():
            raise KDError(f"--out {self.path} is a file; give a folder")
        record_path = self.path / "run.json"
        wanted = study.to_dict()
        if record_path.exists():
            try:
                record = json.loads(record_path.read_text(encoding="utf-8"))
                recorded = record["settings"]
            except (ValueError, KeyError) as err:
                raise KDError(f"{record_path} is unreadable ({err}); use another --out") from None
            if recorded != json.loads(json.dumps(wanted, default=str)):
                key = _first_difference(recorded, json.loads(json.dumps(wanted, default=str)))
                raise KDError(
                    f"{self.path} holds a study with other settings ({key} differs); resume it "
                    "with the command in its run.json, or use another --out"
                )
            record.setdefault("commands", []).append({"command": command, "at": _now()})
        else:
            if self.path.exists() and any(self.path.iterdir()):
                raise KDError(
                    f"--out {self.path} is not empty and holds no kd study; use a new "
                    "or empty folder"
                )
            record = {
                "kind": "kd-benchmark",
                "settings": wanted,
                "fingerprint": study.fingerprint(),
                "created": _now(),
                "commands": [{"command": command, "at": _now()}],
            }
        record.update(extra)
        self.units.mkdir(parents=True, exist_ok=True)
        self.failures.mkdir(parents=True, exist_ok=True)
        self.write_record(record)
        return record

    def write_record(self, record: dict) -> None:
        atomic_write_text(self.path / "run.json", json.dumps(record, indent=2, default=str) + "\n")

    # -- units --------------------------------------------------------------------------------

    def done(self, unit: Unit) -> bool:
        return (self.units / f"{unit.unit_id}.parquet").exists()

    def unit_timings(self) -> list[dict]:
        """Wall-clock seconds and fit counts of every finished unit (for speed measurements)."""
        return [
            {"unit": path.name.removesuffix(".timings.json"), **json.loads(path.read_text())}
            for path in sorted(self.units.glob("*.timings.json"))
        ]

    def failed(self, unit: Unit) -> bool:
        return (self.failures / f"{unit.unit_id}.json").exists()

    def write_unit(self, unit: Unit, result: dict) -> None:
        """A finished unit: its latency and timings first, then its records, which mark it done."""
        latency = records.latency_frame(result["latency"])
        atomic_write(
            self.units / f"{unit.unit_id}.latency.csv",
            lambda tmp: latency.to_csv(tmp, index=False),
        )
        kept = ("teacher", "students", "teacher_cached", "fits", "fit_seconds")
        timings = result["timings"]
        atomic_write_text(
            self.units / f"{unit.unit_id}.timings.json",
            json.dumps({k: timings[k] for k in kept if k in timings}) + "\n",
        )
        frame = records.frame(result["records"])
        atomic_write(self.units / f"{unit.unit_id}.parquet", lambda tmp: frame.to_parquet(tmp))
        self.clear_failure(unit.unit_id)

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


def _first_difference(a, b, prefix: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        # the option a person changed (students) before what follows from it (sizes)
        for key in sorted(set(a) | set(b), key=lambda k: (k == "sizes", k)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{prefix}{key}.")
    return prefix.rstrip(".") or "settings"
