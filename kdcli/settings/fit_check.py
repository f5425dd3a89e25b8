"""Settings as the command line gives them (text) or as Python gives them (lists, dicts,
numbers), checked once into a frozen :class:`~kdcli.settings.fit.FitSettings`.

:func:`fit_settings` fills defaults (:data:`DEFAULTS`, the one place they live) and a preset,
checks every value and names the setting (or the preset) behind a refused one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kdcli.errors import SettingError
from kdcli.science.correction import C_GRID
from kdcli.science.metrics import METRICS
from kdcli.science.selection import SELECT_C
from kdcli.science.students import DEFAULT_SIZES, FAMILIES, check_sizes
from kdcli.science.targets import (
    ALPHA_GRID,
    DEFAULT_MODES,
    MODE_VARIANTS,
    MODES,
    SCALES,
    base_mode,
    mode_scale,
)
from kdcli.science.teacher_model import TeacherModel, read_teacher_model
from kdcli.science.teachers import BAGGED, TEACHERS
from kdcli.settings import values
from kdcli.settings.fit import FitSettings, TeacherSettings
from kdcli.settings.param_text import teacher_params
from kdcli.settings.presets import apply_preset, preset_error
from kdcli.settings.teacher_check import check_params, param_example, teacher_variants
from kdcli.settings.teacher_grid import check_variant_count, grid_axes

MAX_SEED = 2**32 - 1  # numpy's and the libraries' seeds are 32-bit
MAX_REPEATS = 10_000  # repeat r uses seed + r, which must stay a seed too
CROSSFIT = ("folds", "oob")

# The one place defaults live; the CLI shows these in its help.
DEFAULTS: dict[str, Any] = {
    "teacher": "lightgbm",
    "teacher_param": (),
    "teacher_grid": (),  # swept teacher parameters: each value (or product) its own teacher
    "teacher_model": None,  # a saved LightGBM/XGBoost model whose parameters and rounds are refit
    "student": "tree",
    "sizes": None,  # per family: DEFAULT_SIZES
    "modes": ",".join(DEFAULT_MODES),
    "folds": 5,
    "crossfit": "folds",  # or oob: a bagged teacher's out-of-bag probabilities
    "select_folds": None,  # the cross-fitting folds
    "select_c": "paper",  # or nested: c-selection targets from teachers that never saw the fold
    "select_rows": 100_000,  # c and α chosen on at most this many training rows; 0/all: every row
    "test_size": 0.25,
    "seed": 0,
    "repeats": 1,
    "scale": "prob",
    "eps": 1e-3,
    "select_metric": "log_loss",
    "c_grid": None,  # C_GRID
    "alpha_grid": None,  # ALPHA_GRID: α of the mixed mode
    "folds_outer": None,  # all of a task's official folds
    "max_rows": None,
}
MODES_SHOWN = (
    f"{', '.join(MODES)}, each optionally with its own scale, e.g. vanilla:logit "
    f"(scales: {', '.join(SCALES)})"
)


def fit_settings(**given: Any) -> FitSettings:
    """Check settings and make a :class:`FitSettings`; a setting left out (or None) takes its default,
    or its preset's value with ``preset=``.

    Settings: teacher (one or several: 'lightgbm,xgboost' or a list), teacher_param ('KEY=V' or
    'TEACHER.KEY=V' strings, or a dict), teacher_grid ('TEACHER.KEY=V1,V2' strings, or a dict of
    values: each value, or product of several, its own teacher), student, sizes (one list for
    all students, or 'tree=8,full;gbdt=10' or a dict), modes, folds, crossfit, select_folds,
    select_c, select_rows (0 or 'all': every training row), test_size, seed, repeats, scale,
    eps, select_metric, c_grid, alpha_grid, folds_outer, max_rows, preset. Raises SettingError
    naming the setting, or the preset where a value it set is refused.

    Every list follows the same rules: an empty item is refused, a key given twice (a family's
    sizes, a teacher parameter) is refused, and a value given twice, or two spellings of one
    model (``raw`` and ``raw:prob`` on the prob scale), is one value, named as first given.
    """
    unknown = sorted(set(given) - set(DEFAULTS) - {"preset"})
    if unknown:
        raise TypeError(f"fit_settings() got unknown setting(s) {', '.join(unknown)}")
    preset = None
    if given.get("preset"):
        given, preset = apply_preset(given["preset"], given)
    model = None
    if given.get("teacher_model") is not None:
        given, model = _with_teacher_model(given)
    s = {k: (given[k] if given.get(k) is not None else DEFAULTS[k]) for k in DEFAULTS}
    try:
        settings = _checked(s, preset)
        if model is not None:  # the model's parameters under the user's --teacher-param
            t = settings.teachers[0]
            teacher = TeacherSettings(
                t.name, {**model.params, **t.params}, t.variant, model.to_dict()
            )
            settings = replace(settings, teachers=(teacher,))
        return settings
    except SettingError as err:
        if preset is None or err.param not in preset["set"]:
            raise
        raise preset_error(preset, err) from None  # not an option the user never gave


def _with_teacher_model(given: dict[str, Any]) -> tuple[dict[str, Any], TeacherModel]:
    """The settings with the teacher the model's library; the model as read."""
    model = read_teacher_model(str(given["teacher_model"]))
    teacher = given.get("teacher")
    if teacher is not None and teacher != model.library:
        raise SettingError(
            "teacher",
            f"--teacher-model {model.path} is a {model.library} model; drop {{opt}} {teacher} "
            "(the model decides the teacher)",
        )
    if given.get("teacher_grid"):
        raise SettingError(
            "teacher_grid", "{opt} sweeps kd's own teachers; it cannot vary a --teacher-model"
        )
    return {**given, "teacher": model.library}, model


def _checked(s: dict[str, Any], preset: dict[str, Any] | None) -> FitSettings:
    teachers = values.choices("teacher", s["teacher"], TEACHERS)
    crossfit = values.choice("crossfit", s["crossfit"], CROSSFIT)
    boosted = [t for t in teachers if t not in BAGGED]
    if crossfit == "oob" and boosted:
        raise SettingError(
            "crossfit",
            f"{{opt}} oob needs a bagged teacher (rf); {boosted[0]} is boosted, so it has no "
            "out-of-bag predictions: use {opt} folds",
        )
    # A grid is counted before anything else is checked, and its values are checked one by
    # one before its product is made: 10**7 variants are refused at once, not built.
    axes = grid_axes(s["teacher_grid"], teachers, TEACHERS, param_example(teachers, 3))
    check_variant_count(axes)
    params = teacher_params(s["teacher_param"], teachers, TEACHERS, param_example(teachers, 1))
    for name in teachers:
        check_params(name, params[name], "teacher_param")
    teacher_specs = tuple(teacher_variants(name, params[name], axes[name]) for name in teachers)
    students = values.choices("student", s["student"], FAMILIES)
    sizes = values.sizes_per_family(s["sizes"], students, DEFAULT_SIZES)
    for family in students:
        check_sizes(family, sizes[family])
    repeats = values.integer("repeats", s["repeats"], 1, MAX_REPEATS)
    seed = values.integer("seed", s["seed"], 0, MAX_SEED)
    if seed + repeats - 1 > MAX_SEED:  # derived seeds are seed + repeat, all within 32 bits
        raise SettingError(
            "seed",
            f"{{opt}} {seed} with {repeats} repeats would use seeds up to "
            f"{seed + repeats - 1}, past {MAX_SEED} (seeds are 32-bit); use {{opt}} "
            f"{MAX_SEED - repeats + 1} or less",
        )
    select_folds = s["select_folds"]
    max_rows = s["max_rows"]
    outer = values.outer_folds("folds_outer", s["folds_outer"])
    scale = values.choice("scale", s["scale"], SCALES)
    modes = _modes(s["modes"], scale)
    folds = values.integer("folds", s["folds"], 2)
    if select_folds is not None:
        select_folds = values.integer("select_folds", select_folds, 2)
    select_c = values.choice("select_c", s["select_c"], SELECT_C)
    if select_c == "nested" and crossfit == "folds" and (select_folds or folds) < 3:
        raise SettingError(
            "select_c",
            "{opt} nested needs at least 3 folds that choose c (the select folds, else the "
            f"cross-fitting folds), got {select_folds or folds}: the rows outside one of 2 folds "
            "are the other one, which no teacher could predict without seeing it; use 3 or more",
        )
    return FitSettings(
        teachers=tuple(t for variants in teacher_specs for t in variants),
        students=tuple(students),
        sizes={f: tuple(sizes[f]) for f in students},
        modes=modes,
        folds=folds,
        crossfit=crossfit,
        select_folds=select_folds,
        select_c=select_c,
        select_rows=_select_rows(s["select_rows"]),
        test_size=values.number(
            "test_size", s["test_size"], 0.0, 1.0, "between 0 and 1 (a fraction)"
        ),
        seed=seed,
        repeats=repeats,
        scale=scale,
        eps=values.number("eps", s["eps"], 0.0, 0.5, "in (0, 0.5)"),
        c_grid=C_GRID if s["c_grid"] is None else values.c_grid("c_grid", s["c_grid"]),
        alpha_grid=_alpha_grid(s["alpha_grid"], modes),
        select_metric=values.choice("select_metric", s["select_metric"], METRICS),
        outer_folds=None if outer is None else tuple(outer),
        max_rows=None if max_rows is None else values.integer("max_rows", max_rows, 10),
        preset=preset,
    )


MIN_SELECT_ROWS = 100


def _select_rows(value: object) -> int | None:
    """The most training rows that choose c and α; None (given as 0 or 'all'): every row."""
    if isinstance(value, str) and value.strip().lower() == "all":
        return None
    rows = values.integer("select_rows", value, 0)
    if 0 < rows < MIN_SELECT_ROWS:
        raise SettingError(
            "select_rows",
            f"{{opt}} must be at least {MIN_SELECT_ROWS} (or 0 or all: every training row), "
            f"got {rows}",
        )
    return rows or None


def _modes(value: object, scale: str) -> tuple[str, ...]:
    """The modes, one per model: ``raw`` and ``raw:prob`` on a prob run fit the same student,
    so the second spelling is dropped like a repeated mode; the first is the name results use."""
    out: dict[tuple[str, str], str] = {}
    for mode in values.choices("modes", value, MODE_VARIANTS, MODES_SHOWN):
        out.setdefault((base_mode(mode), mode_scale(mode, scale)), mode)
    return tuple(out.values())


def _alpha_grid(value: object, modes: tuple[str, ...]) -> tuple[float, ...] | None:
    """α's candidates where a mode is mixed; a grid given without one is checked, then unused."""
    grid = ALPHA_GRID if value is None else values.alpha_grid("alpha_grid", value)
    return grid if any(base_mode(m) == "mixed" for m in modes) else None
