"""What decides the numbers of a distillation experiment, parsed and checked once.

:func:`fit_settings` takes the settings as the command line gives them (text) or as Python gives them
(lists, dicts, numbers), fills defaults and a preset, checks every value and returns a frozen
:class:`FitSettings`. Everything downstream (one split's fits, a study's workers) reads it as is and
never checks it again. How and where work runs (threads, executor) is not part of it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from numbers import Integral

from kdcli.errors import SettingError
from kdcli.records import teacher_label
from kdcli.science.correction import C_GRID
from kdcli.science.metrics import METRICS
from kdcli.science.selection import SELECT_C, n_selection_fits
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
from kdcli.science.teachers import (
    BAGGED,
    TEACHER_DEFAULTS,
    TEACHERS,
    check_param_names,
    check_param_types,
    check_param_values,
    estimator_class,
    expected_type,
)
from kdcli.settings import values
from kdcli.settings.presets import apply_preset, preset_error

MAX_SEED = 2**32 - 1  # numpy's and the libraries' seeds are 32-bit
MAX_REPEATS = 10_000  # repeat r uses seed + r, which must stay a seed too
CROSSFIT = ("folds", "oob")

# The one place defaults live; the CLI shows these in its help.
DEFAULTS: dict = {
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


@dataclass(frozen=True)
class TeacherSettings:
    """A teacher library and the hyperparameters the user overrode (names checked); a variant
    of a --teacher-grid sweep also names its swept values (already among ``params``)."""

    name: str
    params: dict = field(default_factory=dict)
    variant: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)  # --teacher-model: what was read from the file

    @property
    def full_params(self) -> dict:
        """The library defaults kd uses, with the overrides applied."""
        return {**TEACHER_DEFAULTS[self.name], **self.params}

    @property
    def label(self) -> str:
        """The teacher's name in results: ``rf``, or a variant's ``rf[max_depth=3]``."""
        return teacher_label(self.name, self.variant)

    def to_dict(self) -> dict:
        """Plain JSON data; a teacher that is no variant records no ``variant`` (as before
        sweeps existed, so older runs' fingerprints and references still match)."""
        out = {"name": self.name, "params": dict(self.params)}
        if self.variant:
            out["variant"] = dict(self.variant)
        if self.model:
            out["model"] = dict(self.model)
        return out


@dataclass(frozen=True)
class FitSettings:
    """Settings of one experiment on a dataset (or on each dataset of a study)."""

    teachers: tuple[TeacherSettings, ...]
    students: tuple[str, ...]
    sizes: dict  # family → tuple of sizes (int, or 'full' for tree)
    modes: tuple[str, ...]
    folds: int = 5
    crossfit: str = "folds"  # folds: K teachers; oob: the bagged teacher's out-of-bag predictions
    select_folds: int | None = None  # folds that choose c; None = the cross-fitting folds
    select_c: str = "paper"  # paper: their targets from the cross-fit teachers; nested: leak-free
    # c and α chosen on a stratified subsample of at most this many training rows
    # (kdcli.science.selection_rows); None: on every row, as runs made before the setting did
    select_rows: int | None = None
    test_size: float = 0.25
    seed: int = 0
    repeats: int = 1
    scale: str = "prob"
    eps: float = 1e-3
    c_grid: tuple[float, ...] = C_GRID
    alpha_grid: tuple[float, ...] | None = None  # α of mixed; None when no mode is mixed
    select_metric: str = "log_loss"
    outer_folds: tuple[int, ...] | None = None  # a task's official folds; None = all
    max_rows: int | None = None
    preset: dict | None = None  # the preset behind these settings, what it set and what not

    @property
    def teacher(self) -> TeacherSettings:
        """The one teacher of a `kd fit` run (its first variant, with a --teacher-grid)."""
        self.check_one_library()
        return self.teachers[0]

    def check_one_library(self) -> None:
        """`kd fit` takes one teacher library, swept over a grid or not; a benchmark several."""
        if len({t.name for t in self.teachers}) != 1:
            raise SettingError("teacher", "kd fit takes one {opt}; kd benchmark compares several")

    @property
    def swept(self) -> bool:
        """Whether the teachers are variants of a --teacher-grid sweep."""
        return any(t.variant for t in self.teachers)

    @property
    def cross_fit(self) -> bool:
        """Whether any mode needs the K cross-fit teachers."""
        return any(base_mode(m) in ("crossfit", "corrected") for m in self.modes)

    @property
    def nested_select(self) -> bool:
        """Whether c is chosen on leak-free targets (``select_c`` nested and a mode chooses c)."""
        return self.select_c == "nested" and any(base_mode(m) == "corrected" for m in self.modes)

    @property
    def nested_alpha(self) -> bool:
        """Whether α is chosen on leak-free targets (``select_c`` nested and a mode mixed)."""
        return self.select_c == "nested" and any(base_mode(m) == "mixed" for m in self.modes)

    @property
    def selection_teacher_fits(self) -> int:
        """The teachers behind leak-free c- and α-selection targets (kdcli.science.selection)."""
        J = self.select_folds or self.folds
        alpha = n_selection_fits(J, "in_sample") if self.nested_alpha else 0
        if not self.nested_select:
            return alpha
        source = "oob" if self.crossfit == "oob" else "out_of_fold"
        return n_selection_fits(J, source) + alpha

    @property
    def teacher_fits(self) -> int:
        """Teacher fits per split: the full-data teacher and, when a mode needs them, K more, and
        those behind leak-free c-selection targets."""
        cross = self.folds if self.cross_fit and self.crossfit == "folds" else 0
        return 1 + cross + self.selection_teacher_fits

    @property
    def most_folds(self) -> tuple[int, str]:
        """The larger of the cross-fitting and c-selection folds, and the setting behind it."""
        if self.select_folds is not None and self.select_folds > self.folds:
            return self.select_folds, "select_folds"
        return self.folds, "folds"

    def to_dict(self) -> dict:
        """Plain JSON data; :meth:`from_dict` reads it back unchanged."""
        out = asdict(self)
        out["teachers"] = [t.to_dict() for t in self.teachers]
        out["sizes"] = {k: list(v) for k, v in self.sizes.items()}
        for key in ("students", "modes", "c_grid", "alpha_grid", "outer_folds"):
            out[key] = None if out[key] is None else list(out[key])
        if out["alpha_grid"] is None:  # no mixed mode: recorded as before the mode existed
            del out["alpha_grid"]
        if out["select_rows"] is None:  # every row chooses c: as before the setting existed
            del out["select_rows"]
        return out

    @classmethod
    def from_dict(cls, d: dict) -> FitSettings:
        """A spec from :meth:`to_dict`'s output, as it was checked when made: no new checks."""

        def tup(v):
            return None if v is None else tuple(v)

        return cls(
            **{
                **d,
                "teachers": tuple(
                    TeacherSettings(
                        t["name"],
                        dict(t["params"]),
                        dict(t.get("variant") or {}),
                        dict(t.get("model") or {}),
                    )
                    for t in d["teachers"]
                ),
                "students": tuple(d["students"]),
                "sizes": {k: tuple(v) for k, v in d["sizes"].items()},
                "modes": tuple(d["modes"]),
                "c_grid": tuple(d["c_grid"]),
                "alpha_grid": tup(d.get("alpha_grid")),
                "outer_folds": tup(d["outer_folds"]),
            }
        )


def fit_settings(**given) -> FitSettings:
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
        spec = _fit_spec(s, preset)
        if model is not None:  # the model's parameters under the user's --teacher-param
            t = spec.teachers[0]
            teacher = TeacherSettings(
                t.name, {**model.params, **t.params}, t.variant, model.to_dict()
            )
            spec = replace(spec, teachers=(teacher,))
        return spec
    except SettingError as err:
        if preset is None or err.param not in preset["set"]:
            raise
        raise preset_error(preset, err) from None  # not an option the user never gave


def _with_teacher_model(given: dict) -> tuple[dict, TeacherModel]:
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


def _fit_spec(s: dict, preset: dict | None) -> FitSettings:
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
    axes = values.grid_axes(s["teacher_grid"], teachers, TEACHERS, _example(teachers, 3))
    values.check_variant_count(axes)
    params = values.teacher_params(s["teacher_param"], teachers, TEACHERS, _example(teachers, 1))
    for name in teachers:
        _check_params(name, params[name], "teacher_param")
    teacher_specs = tuple(_variants(name, params[name], axes[name]) for name in teachers)
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


def _select_rows(value) -> int | None:
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


def _modes(value, scale: str) -> tuple[str, ...]:
    """The modes, one per model: ``raw`` and ``raw:prob`` on a prob run fit the same student,
    so the second spelling is dropped like a repeated mode; the first is the name results use."""
    out: dict[tuple[str, str], str] = {}
    for mode in values.choices("modes", value, MODE_VARIANTS, MODES_SHOWN):
        out.setdefault((base_mode(mode), mode_scale(mode, scale)), mode)
    return tuple(out.values())


def _variants(name: str, params: dict, grid: dict[str, list]) -> list[TeacherSettings]:
    """The teachers of one library: one per variant of its grid. Each swept value is checked
    once (names, type, tree counts) before the product is made, so a sweep never fails at its
    fifth variant and a bad value is reported at once however large the grid."""
    if not grid:
        return [TeacherSettings(name, params)]
    check_param_names(name, list(grid), "teacher_grid")
    both = next((k for k in grid if k in params), None)
    if both is not None:
        raise SettingError(
            "teacher_grid",
            f"{{opt}} sweeps {name}.{both}, which --teacher-param also sets; drop one of them",
        )
    for key, swept in grid.items():
        for value in swept:
            _check_params(name, {key: value}, "teacher_grid", names=False)
    return [TeacherSettings(name, {**params, **v}, v) for v in values.variants(grid)]


def _check_params(name: str, params: dict, setting: str, names: bool = True) -> None:
    """Names (unless checked already), types (True is no number) and tree counts of a
    teacher's parameters, each error naming ``setting``."""
    if names:
        check_param_names(name, params, setting)
    for key, value in params.items():
        if isinstance(value, bool) and _kind(name, key) in (int, float):
            raise SettingError(
                setting,
                f"{{opt}} {name}.{key}={value}: {key} of the {name} teacher is a number, "
                f"not True or False; write e.g. {{opt}} {name}.{key}="
                f"{_typed_example(name, key, 3 if setting == 'teacher_grid' else 1)}",
            )
    check_param_types(name, params, setting)
    try:
        check_param_values(name, params)
    except SettingError as err:
        raise SettingError(setting, err.message) from None


def _kind(name: str, key: str) -> type | None:
    """What a parameter's values are (int, float, bool, str), None where kd cannot tell: for
    rf from scikit-learn's constraints, which take True as the integer 1, so kd must know."""
    if name == "rf":
        from sklearn.utils._param_validation import Interval, StrOptions

        for constraint in estimator_class(name)._parameter_constraints.get(key, []):
            if constraint == "boolean":
                return bool
            if isinstance(constraint, Interval):
                return int if constraint.type is Integral else float
            if isinstance(constraint, StrOptions):
                return str
        return None
    wanted = expected_type(name, key)
    return float if isinstance(wanted, tuple) else wanted


# keyed by _kind's answer: None (kd cannot tell) falls back to float's examples
_EXAMPLES: dict[type | None, tuple[str, ...]] = {
    int: ("8", "16", "32"),
    float: ("0.1", "0.2", "0.4"),
    bool: ("True", "False"),
}


def _typed_example(name: str, key: str, n: int) -> str:
    """``n`` valid values of a parameter's type, for a message's fix (a text parameter: the
    library's default)."""
    kind = _kind(name, key)
    if kind is str:
        return repr(estimator_class(name)().get_params().get(key))
    return ",".join(_EXAMPLES.get(kind, _EXAMPLES[float])[:n])


def _example(teachers: list[str], n: int) -> values.Example:
    """A parameter key's example values: its scope's teacher, else the run's first one."""

    def example(key: str) -> str:
        scope, dot, name = key.partition(".")
        if dot and scope in TEACHERS:
            return _typed_example(scope, name, n)
        return _typed_example(teachers[0], key, n)

    return example


def _alpha_grid(value, modes: tuple[str, ...]) -> tuple[float, ...] | None:
    """α's candidates where a mode is mixed; a grid given without one is checked, then unused."""
    grid = ALPHA_GRID if value is None else values.alpha_grid("alpha_grid", value)
    return grid if any(base_mode(m) == "mixed" for m in modes) else None
