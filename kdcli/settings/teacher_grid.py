"""--teacher-grid as given read into each teacher's swept parameters (axes), counted before it
is multiplied out into variants, so a sweep too large is refused before any variant is made.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from kdcli.errors import SettingError
from kdcli.settings.param_text import (
    Example,
    ParamsGiven,
    finite_param,
    number_example,
    scalar,
)
from kdcli.settings.values import items, text_of

# A sweep of more teachers than this is refused before any is made: each variant is its own
# teacher, fit on every split (1,000 variants of a 5-fold cross-fit are 6,000 fits a split).
MAX_TEACHER_VARIANTS = 1_000

# teacher → swept parameter → its distinct values, in order
Axes = dict[str, dict[str, list[object]]]


def grid_axes(
    value: ParamsGiven | None,
    teachers: list[str],
    known: tuple[str, ...],
    example: Example = number_example,
) -> Axes:
    """Each teacher's swept parameters and their values, read but not multiplied out
    (``rf.max_depth=1,2,3`` or ``max_depth=1,2`` for every teacher; repeatable; or a dict of
    KEY → values). A teacher without a grid has no axes."""
    option = "teacher_grid"
    if isinstance(value, str):
        value = [value]
    pairs: list[tuple[str, object]]
    if isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    else:
        pairs = []
        for entry in value or []:
            entry_key, sep, entry_values = str(entry).partition("=")
            if not sep or not entry_key.strip():
                raise SettingError(
                    option,
                    f"malformed {{opt}} '{text_of(entry)}'; write TEACHER.KEY=V1,V2,..., e.g. "
                    "{opt} rf.max_depth=1,2,3,None",
                )
            pairs.append((entry_key.strip(), entry_values))
    axes: Axes = {t: {} for t in teachers}
    for key, raw in pairs:
        scope, dot, name = key.partition(".")
        if dot and scope not in known:
            raise SettingError(
                option,
                f"{{opt}} '{text_of(key)}': '{text_of(scope)}' is not a teacher; write "
                f"TEACHER.KEY=V1,V2 with TEACHER one of {', '.join(known)}",
            )
        if dot and scope not in axes:
            raise SettingError(
                option,
                f"{{opt}} '{text_of(key)}' is for {scope}, which is not a --teacher here "
                f"({', '.join(teachers)})",
            )
        name = name if dot else key
        if not name.replace("_", "").isalnum():
            raise SettingError(
                option, f"malformed {{opt}} '{text_of(key)}'; write e.g. {{opt}} rf.max_depth=1,2"
            )
        values = _axis_values(key, raw, example)
        for t in [scope] if dot else teachers:
            if name in axes[t]:
                raise SettingError(
                    option, f"{{opt}} sweeps {t}.{name} twice; give its values in one {{opt}}"
                )
            axes[t][name] = values
    return axes


def _axis_values(key: str, raw: object, example: Example) -> list[object]:
    """One swept parameter's distinct values in the order given: text is read as
    --teacher-param reads it (3, 0.1, None, True); an empty item is refused."""
    option = "teacher_grid"
    parts = items(option, raw, prefix=f"{key}=")
    if not parts:
        raise SettingError(
            option,
            f"{{opt}} '{text_of(key)}=' has no values; write e.g. {{opt}} {text_of(key)}=1,2,3",
        )
    values = [
        scalar(key, p.strip(), option, example)
        if isinstance(p, str)
        else finite_param(key, p, option, example)
        for p in parts
    ]
    distinct: dict[tuple[object, ...], object] = {}
    for v in values:
        distinct.setdefault(_identity(v), v)  # the first spelling of a value is kept
    return list(distinct.values())


def _identity(value: object) -> tuple[object, ...]:
    """What makes two values one: True and 1 stay apart (Python counts them equal, and a True
    must not hide behind a 1), 3 and 3.0 do not; a list or dict by its text."""
    try:
        hash(value)
    except TypeError:
        return ("text", repr(value))
    return (isinstance(value, bool), value)


def variant_count(axes: Axes) -> int:
    """How many teachers a grid makes, without making them: per teacher, the product of its
    parameters' numbers of values."""
    return sum(math.prod(len(v) for v in grid.values()) for grid in axes.values())


def check_variant_count(axes: Axes) -> None:
    """Refuse a sweep past :data:`MAX_TEACHER_VARIANTS`, counting (not building) its variants."""
    count = variant_count(axes)
    if count <= MAX_TEACHER_VARIANTS:
        return
    widest = max(axes.values(), key=lambda g: math.prod(len(v) for v in g.values()))
    factors = " × ".join(f"{len(v)} {k}" for k, v in widest.items())
    raise SettingError(
        "teacher_grid",
        f"{{opt}} makes {count:,} teachers ({factors}), past the limit of "
        f"{MAX_TEACHER_VARIANTS:,}; sweep fewer values or fewer parameters at once",
    )


def variants(grid: dict[str, list[object]]) -> list[dict[str, object]]:
    """One teacher's variants: the product of its swept values, in the order given; a teacher
    without a grid has one variant, {}."""
    out: list[dict[str, object]] = [{}]
    for name, values in grid.items():
        out = [{**v, name: x} for v in out for x in values]
    return out
