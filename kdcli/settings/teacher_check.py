"""Teacher parameters checked against their library (names, types, values) and a grid's
variants made into :class:`TeacherSettings`; the examples a message's fix shows are of the
parameter's own type, so the fix is one the library takes.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

from kdcli.errors import SettingError
from kdcli.science.teachers import (
    TEACHERS,
    check_param_names,
    check_param_types,
    check_param_values,
    estimator_class,
    expected_type,
)
from kdcli.settings.fit import TeacherSettings
from kdcli.settings.param_text import Example
from kdcli.settings.teacher_grid import variants


def teacher_variants(
    name: str, params: dict[str, Any], grid: dict[str, list[object]]
) -> list[TeacherSettings]:
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
            check_params(name, {key: value}, "teacher_grid", names=False)
    return [TeacherSettings(name, {**params, **v}, v) for v in variants(grid)]


def check_params(name: str, params: dict[str, Any], setting: str, names: bool = True) -> None:
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


def param_example(teachers: list[str], n: int) -> Example:
    """A parameter key's example values: its scope's teacher, else the run's first one."""

    def example(key: str) -> str:
        scope, dot, name = key.partition(".")
        if dot and scope in TEACHERS:
            return _typed_example(scope, name, n)
        return _typed_example(teachers[0], key, n)

    return example
