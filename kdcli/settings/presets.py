"""Named protocols: a preset sets options as a published experiment ran them.

A preset fills only the options a user did not give on the command line, so ``--preset dao2021
--sizes 1,3,10 --repeats 1`` is the paper's protocol at a smaller scale. The run record names the
preset, the values it set and the options given explicitly instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kdcli.errors import SettingError
from kdcli.settings.param_text import ParamsGiven


@dataclass(frozen=True)
class Preset:
    """A published protocol: the fit settings it sets, the metric its tables lead with and the
    names its source gives the modes."""

    name: str
    source: str
    settings: dict[str, Any]  # fit setting → value, as the command line gives it
    metric: str = "error"  # what the run's tables and report lead with
    labels: dict[str, str] = field(default_factory=dict)  # mode → the source's name of its curve
    why: dict[str, str] = field(default_factory=dict)  # setting → where the value comes from


# What both of the paper's tabular experiments share: split, cross-fitting, c selection, scoring.
_PAPER_PROTOCOL = {
    "test_size": 0.3,
    "folds": 10,
    "select_folds": 5,
    "c_grid": "1e-5,1e-4,1e-3,1e-2,1e-1,1,1e1,1e2,1e3",
    "select_metric": "auc",
    "repeats": 5,
    "scale": "prob",
    "eps": 0.002,
}

DAO2021 = Preset(
    name="dao2021",
    source="Dao, Kamath, Syrgkanis, Mackey: Knowledge Distillation as Semiparametric Inference, "
    "ICLR 2021, tabular experiments (random-forest students of a random-forest teacher)",
    settings={
        "teacher": "rf",
        "teacher_param": ["rf.n_estimators=500"],
        "student": "rf",
        "sizes": "1,2,3,5,10,15,20,30,40",
        "modes": "raw,vanilla:logit,crossfit,corrected",
        **_PAPER_PROTOCOL,
    },
    metric="auc",
    labels={
        "raw": "Student without KD",
        "vanilla:logit": "KD student (logit)",
        "crossfit": "Cross-fit KD student",
        "corrected": "Enhanced KD student",
    },
    why={
        "eps": "1/500: the smallest non-zero probability of a 500-tree forest floors log p̂",
        "select_metric": "c is chosen by the cross-validated AUC of the student, the paper's metric",
    },
)

DAO2021_TEACHER = Preset(
    name="dao2021-teacher",
    source="Dao, Kamath, Syrgkanis, Mackey: Knowledge Distillation as Semiparametric Inference, "
    "ICLR 2021, the teacher-capacity experiment (a 100-tree random-forest teacher at max_depth "
    "1-20, random-forest students of 10 trees)",
    settings={
        "teacher": "rf",
        "teacher_param": ["rf.n_estimators=100"],
        "teacher_grid": ["rf.max_depth=1,2,3,5,10,15,20"],
        "student": "rf",
        "sizes": "10",
        "modes": "raw,vanilla:logit,crossfit:logit,corrected:logit,mixed",
        **_PAPER_PROTOCOL,
    },
    metric="auc",
    labels={
        "raw": "Student without KD",
        "vanilla:logit": "KD student (logit)",
        "crossfit:logit": "Cross-fit KD student (logit)",
        "corrected:logit": "Enhanced KD student (logit)",
        "mixed": "Mixed KD student (tuned α)",
    },
    why={
        "eps": "1/500, as the source's code floors p̂ before its log at every teacher size",
        "select_metric": "c and α are chosen by the cross-validated AUC of the student, the "
        "paper's metric",
        "modes": "the source blends label and teacher on the probability scale only (its "
        "mixed student); its KD curves are on the log scale",
    },
)

PRESETS = {p.name: p for p in (DAO2021, DAO2021_TEACHER)}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name.strip().lower()]
    except KeyError:
        raise SettingError(
            "preset", f"unknown {{opt}} '{name}'; use one of {', '.join(sorted(PRESETS))}"
        ) from None


def apply_preset(name: str, given: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The settings ``given`` (those a user set) completed by the preset, and the run record's
    account of it: the preset, the values it set and what the user overrode.

    A preset's teacher parameters and grids are scoped (``rf.n_estimators=500``): with another
    teacher chosen they do not apply and are dropped. A parameter the user sets
    (``--teacher-param rf.max_depth=3``) or sweeps beats the preset's grid or value for that
    parameter, as any option of the user's beats the preset's.
    """
    preset = get_preset(name)
    values = {k: v for k, v in preset.settings.items() if given.get(k) is None}
    teacher = given.get("teacher") or values.get("teacher") or ""
    chosen = {
        str(t).strip().lower()
        for t in (teacher.split(",") if isinstance(teacher, str) else teacher)
    }
    for scoped in ("teacher_param", "teacher_grid"):
        if scoped in values:
            values[scoped] = [p for p in values[scoped] if p.split(".", 1)[0] in chosen]
    overridden = {k for k in preset.settings if given.get(k) is not None}
    for own, other in (("teacher_param", "teacher_grid"), ("teacher_grid", "teacher_param")):
        if other in values and given.get(own) is not None:
            keys = _param_keys(given[own])
            kept = [p for p in values[other] if not _covered(p, keys)]
            if len(kept) < len(values[other]):
                overridden.add(other)
            values[other] = kept
    record = {
        "name": preset.name,
        "source": preset.source,
        "set": {**values, "metric": preset.metric},  # the tables' metric, as the run shows it
        "overridden": sorted(overridden),
        "labels": preset.labels,
        "why": preset.why,
    }
    return {**given, **values}, record


def _param_keys(value: ParamsGiven) -> set[tuple[str | None, str]]:
    """The (teacher or None, parameter) pairs a --teacher-param or --teacher-grid value names:
    'KEY=V' strings, one such string, or a dict of KEY → V. Read loosely: fit_settings checks them."""
    if isinstance(value, str):
        value = [value]
    keys = value.keys() if isinstance(value, Mapping) else [str(v).partition("=")[0] for v in value]
    out: set[tuple[str | None, str]] = set()
    for key in keys:
        scope, dot, name = str(key).strip().partition(".")
        out.add((scope.lower(), name) if dot else (None, scope))
    return out


def _covered(entry: str, keys: set[tuple[str | None, str]]) -> bool:
    """Whether a preset's ``TEACHER.KEY=...`` entry sets a parameter the user's keys set too."""
    scope, _, name = entry.partition("=")[0].strip().partition(".")
    return (None, name) in keys or (scope, name) in keys


def preset_error(record: dict[str, Any], err: SettingError) -> SettingError:
    """A value the preset set, refused (a preset that no longer fits the code, or one that does
    not fit an option of the user's): the error names the preset, not an option the user
    never gave, and says which option replaces the preset's value."""
    option = "--" + err.param.replace("_", "-")
    return SettingError(
        "preset",
        f"{{opt}} {record['name']}: {err.render(f'its {err.param}')}; give {option} "
        "yourself to replace the preset's value",
    )


def preset_metric(record: dict[str, Any] | None, default: str = "error") -> str:
    """The metric a run's tables lead with: its preset's, else ``default``."""
    preset = PRESETS.get(str((record or {}).get("name", "")))
    return preset.metric if preset is not None else default


def preset_labels(record: dict[str, Any] | None) -> dict[str, str]:
    """The names a run's preset gives its modes (empty without a preset)."""
    labels: dict[str, str] = (record or {}).get("labels", {})
    return labels
