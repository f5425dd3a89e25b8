"""The settings behind a run's numbers, as a reference records them, and where two differ.

A reference carries the settings of the run that made it, so `kd check` can refuse a run made
with other settings: its cells would differ for that reason, not from a regression.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from kdcli.study.run_folder import RunFolder
from kdcli.text import one_line

# What a reduced re-run (kd check --partial) may change: it ran fewer of the same cells.
PARTIAL_SETTINGS = ("students", "sizes", "repeats", "outer_folds")
# Recorded beside the settings in run.json but deciding no number: the preset's values are
# already in the settings it set.
NOT_SETTINGS = ("preset",)


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
    """The settings a reference records: the fit settings (as ``FitSettings.to_dict``) and each
    dataset's SPEC by name, as plain JSON values (as they read back from a file)."""
    out: dict[str, Any] = {
        "datasets": {str(n): canonical_spec(s) for n, s in sorted(datasets.items())}
    }
    out.update({k: v for k, v in fit.items() if k not in NOT_SETTINGS})
    return json.loads(json.dumps(out, default=str))


def study_record(study) -> dict:
    """The settings record of a :class:`~kdcli.settings.study.StudySettings`, as its run would write."""
    return settings_record(study.fit.to_dict(), {m.name: m.spec for m in study.members})


def run_settings(run: Path) -> dict | None:
    """The settings of a `kd fit` or `kd benchmark` output (its run.json), or None when it
    records none (a results file on its own, an unreadable or foreign run.json)."""
    folder = RunFolder.of(run)
    settings = folder.settings()
    return None if settings is None else settings_record(settings["fit"], folder.members())


def shown_setting(value: Any) -> str:
    """A setting's value in a message (absent where one side has none)."""
    return "absent" if value is _ABSENT else one_line(json.dumps(value), 80)


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
