"""Readers of single settings, from command-line text or Python values, to checked values:
numbers, choices, lists, sizes, candidate grids, folds. Teacher parameters have their own
readers (:mod:`kdcli.settings.param_text`, :mod:`kdcli.settings.teacher_grid`).

Each takes the setting's name, so an error names it: ``sizes`` from Python, ``--sizes`` on the
command line (see :class:`kdcli.errors.SettingError`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kdcli.errors import SettingError

FULL = "full"  # tree student grown to purity
MAX_FOLD = 99_999  # official fold numbers: OpenML's largest tasks (leave-one-out) stay below


def text_of(value: object) -> str:
    """``str(value)`` for a one-line message: line breaks and other control characters are
    shown escaped (``\\n``), and an int past Python's 4300-digit conversion limit (which str()
    refuses with ValueError) is described instead."""
    try:
        text = str(value)
    except ValueError:
        return "a number of over 4300 digits"
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def items(param: str, value: object, prefix: str = "") -> list[Any]:
    """``'a, b'`` → ['a', 'b']; a list or tuple is taken as it is, a lone number as one value.

    Text of nothing but commas and spaces has no items (the caller says the setting is empty);
    an empty item among others (``8,,64``, ``8,64,``) is refused with its position, never
    dropped, so a typo cannot silently shrink a list. ``prefix`` leads the list in messages
    (``rf.max_depth=``).
    """
    if isinstance(value, str):
        parts = [v.strip() for v in value.split(",")]
    elif isinstance(value, Iterable):
        parts = list(value)
    else:
        return [value]
    blank = [i for i, v in enumerate(parts, 1) if isinstance(v, str) and not v.strip()]
    if len(blank) == len(parts):
        return []
    if blank:
        text = value if isinstance(value, str) else ",".join(map(text_of, parts))
        kept = ",".join(text_of(v).strip() for i, v in enumerate(parts, 1) if i not in blank)
        raise SettingError(
            param,
            f"{{opt}} '{text_of(prefix + text)}': item {blank[0]} is empty; drop the extra "
            f"comma, e.g. {{opt}} {text_of(prefix + kept)}",
        )
    return parts


def choices(
    param: str, value: object, allowed: tuple[str, ...], shown: str | None = None
) -> list[str]:
    """The distinct values of a list setting, each one of ``allowed``. ``shown`` describes the
    allowed values where listing each would not help (modes with their scale variants)."""
    shown = shown or ", ".join(allowed)
    values = [str(v).strip().lower() for v in items(param, value)]
    if not values:
        raise SettingError(param, f"{{opt}} is empty; use one or more of {shown}")
    for v in values:
        if v not in allowed:
            name = param.replace("_", "-")
            raise SettingError(param, f"unknown {name} '{text_of(v)}'; use one or more of {shown}")
    return list(dict.fromkeys(values))


def choice(param: str, value: str, allowed: tuple[str, ...]) -> str:
    return choices(param, [value], allowed)[0]


def integer(param: str, value: object, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            raise SettingError(param, f"{{opt}} must be a whole number, got {value!r}") from None
    if value < minimum:
        raise SettingError(param, f"{{opt}} must be at least {minimum}, got {text_of(value)}")
    if maximum is not None and value > maximum:
        raise SettingError(param, f"{{opt}} must be at most {maximum}, got {text_of(value)}")
    return int(value)


def number(param: str, value: Any, low: float, high: float, what: str) -> float:
    """A float strictly inside (low, high), so never NaN (no comparison holds) nor, with a finite
    bound, infinite; ``what`` says what it is in the message. ``value`` is anything a user gave:
    what float() refuses is refused here."""
    if isinstance(value, bool):
        raise SettingError(param, f"{{opt}} must be a number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        shown = text_of(value) if isinstance(value, int) else repr(value)
        raise SettingError(param, f"{{opt}} must be a number, got {shown}") from None
    if not low < x < high:
        raise SettingError(param, f"{{opt}} must be {what}, got {x}")
    return x


def positive(param: str, value: object, what: str = "a positive number") -> float:
    """A finite float above 0 (a time limit): NaN and inf are refused like any bad value."""
    return number(param, value, 0.0, math.inf, what)


def sizes(param: str, value: object) -> list[int | str]:
    """``8,64,full`` → [8, 64, 'full']; anything but positive integers (and 'full') is refused;
    a size given twice (``8,8``, ``8,+8``) is one size."""
    out: list[int | str] = []
    parts = items(param, value)
    text = value if isinstance(value, str) else ",".join(map(text_of, parts))
    for part in parts:
        part = text_of(part).strip().lower()
        if part == FULL:
            size: int | str = FULL
        else:
            try:
                size = int(part)
            except ValueError:
                size = 0
            if size <= 0 or str(size) != part.lstrip("+"):
                raise SettingError(
                    param,
                    f"{{opt}} '{text_of(text)}': '{text_of(part)}' is not a positive integer; "
                    "write e.g. {opt} 8,64,full",
                )
        if size not in out:
            out.append(size)
    if not out:
        raise SettingError(param, "{opt} is empty; write e.g. {opt} 8,64,full")
    return out


def sizes_per_family(
    value: object, students: list[str], defaults: Mapping[str, Iterable[int | str]]
) -> dict[str, list[int | str]]:
    """One size list for every student, or per family: ``tree=8,full;gbdt=10,100`` (or a dict).
    An empty group (``;;``, a trailing ``;``) and a family given twice are refused."""
    out = {f: list(defaults[f]) for f in students}
    if value is None:
        return out
    if isinstance(value, str) and "=" in value:
        value = _family_groups(value)
    if isinstance(value, Mapping):
        seen: set[str] = set()
        for family, given in value.items():
            family = str(family).strip().lower()
            if family not in students:
                raise SettingError(
                    "sizes",
                    f"{{opt}} names '{text_of(family)}', which is not among the students "
                    f"{','.join(students)}; write e.g. tree=8,full;gbdt=10,100",
                )
            if family in seen:
                raise _family_twice(family)
            seen.add(family)
            out[family] = sizes("sizes", given)
        return out
    chosen = sizes("sizes", value)
    return {f: list(chosen) for f in students}


def _family_groups(text: str) -> dict[str, str]:
    """``tree=8,full;gbdt=10`` → {'tree': '8,full', 'gbdt': '10'}; an empty group, one that
    names no family and a family given twice (which a dict would hide) are refused."""
    groups = [g.strip() for g in text.split(";")]
    for i, group in enumerate(groups, 1):
        if not group:
            raise SettingError(
                "sizes",
                f"{{opt}} '{text_of(text)}': group {i} is empty; drop the extra ';', e.g. "
                f"{{opt}} '{text_of(';'.join(g for g in groups if g))}'",
            )
        if "=" not in group:
            raise SettingError(
                "sizes",
                f"{{opt}} '{text_of(text)}': '{text_of(group)}' names no student; write "
                "FAMILY=SIZES groups, e.g. tree=8,full;gbdt=10,100",
            )
    families = [_family(g) for g in groups]
    twice = next((f for i, f in enumerate(families) if f in families[:i]), None)
    if twice is not None:
        both = ",".join(g.split("=", 1)[1].strip() for g in groups if _family(g) == twice)
        raise _family_twice(twice, both)
    return dict(g.split("=", 1) for g in groups)


def _family(group: str) -> str:
    return group.split("=", 1)[0].strip().lower()


def _family_twice(family: str, both: str = "8,64") -> SettingError:
    return SettingError(
        "sizes",
        f"{{opt}} gives sizes for {text_of(family)} twice; give them in one group, e.g. "
        f"{{opt}} '{text_of(family)}={text_of(both)}'",
    )


def number_grid(
    param: str, value: object, ok: Callable[[float], bool], what: str, example: str
) -> tuple[float, ...]:
    """Candidates of a chosen-by-CV setting (c, α): each a number with ``ok(x)``, sorted and
    distinct; a bad one is named with ``what`` it must be and ``example``. True and False are
    no numbers (Python would read them as 1 and 0)."""
    parts = items(param, value)
    text = value if isinstance(value, str) else ",".join(map(text_of, parts))
    out: list[float] = []
    for part in parts or [""]:
        try:
            x = math.nan if isinstance(part, bool) else float(part)
        except (TypeError, ValueError, OverflowError):
            x = math.nan
        if math.isnan(x) or not ok(x):
            raise SettingError(
                param,
                f"{{opt}} '{text_of(text)}': '{text_of(part).strip()}' is not {what}; "
                f"write e.g. {{opt}} {example}",
            )
        out.append(x)
    return tuple(sorted(set(out)))


def c_grid(param: str, value: object) -> tuple[float, ...]:
    """Positive, finite candidates for c, sorted and distinct."""
    return number_grid(param, value, _positive_finite, "a positive number", "0.001,0.1,10")


def _positive_finite(x: float) -> bool:
    return x > 0 and not math.isinf(x)


def outer_folds(param: str, value: object) -> list[int] | None:
    """``all``/None → None; ``0-2`` → [0, 1, 2]; ``0,3`` (or [0, 3]) → [0, 3]."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "all"):
        return None
    shown = text_of(value)
    bad = SettingError(param, f"{{opt}} '{shown}' is not a fold list; write e.g. 0-2, 0,3 or all")
    folds: set[int] = set()
    for part in items(param, value):
        lo, _, hi = text_of(part).strip().partition("-")
        try:
            first, last = int(lo), int(hi) if hi else int(lo)
        except ValueError:
            raise bad from None
        if first < 0 or last < first:
            raise bad
        if last > MAX_FOLD:  # before the range is made: 0-10**12 is no list to build
            raise SettingError(
                param,
                f"{{opt}} '{shown}': fold {text_of(last)} is past {MAX_FOLD:,}, the largest fold "
                "number; write e.g. 0-2, 0,3 or all",
            )
        folds.update(range(first, last + 1))
    if not folds:
        raise bad
    return sorted(folds)


def alpha_grid(param: str, value: object) -> tuple[float, ...]:
    """Candidates for α of the mixed targets, each in [0, 1], sorted and distinct."""
    what = "a number in [0, 1] (α weighs the label, 1 − α the teacher)"
    return number_grid(param, value, lambda a: 0.0 <= a <= 1.0, what, "0,0.25,0.5,1")
