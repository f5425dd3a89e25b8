"""Readers of single settings, from command-line text or Python values, to checked values.

Each takes the setting's name, so an error names it: ``sizes`` from Python, ``--sizes`` on the
command line (see :class:`kdcli.errors.SpecError`).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable, Mapping

from kdcli.errors import SpecError

FULL = "full"  # tree student grown to purity


def items(value: str | Iterable) -> list:
    """``'a, b'`` → ['a', 'b']; a list or tuple is taken as it is, a lone number as one value."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, Iterable):
        return [value]
    return list(value)


def choices(param: str, value, allowed: tuple[str, ...], shown: str | None = None) -> list[str]:
    """The distinct values of a list setting, each one of ``allowed``. ``shown`` describes the
    allowed values where listing each would not help (modes with their scale variants)."""
    shown = shown or ", ".join(allowed)
    values = [str(v).strip().lower() for v in items(value)]
    if not values:
        raise SpecError(param, f"{{opt}} is empty; use one or more of {shown}")
    for v in values:
        if v not in allowed:
            name = param.replace("_", "-")
            raise SpecError(param, f"unknown {name} '{v}'; use one or more of {shown}")
    return list(dict.fromkeys(values))


def choice(param: str, value: str, allowed: tuple[str, ...]) -> str:
    return choices(param, [value], allowed)[0]


def integer(param: str, value, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            raise SpecError(param, f"{{opt}} must be a whole number, got {value!r}") from None
    if value < minimum:
        raise SpecError(param, f"{{opt}} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise SpecError(param, f"{{opt}} must be at most {maximum}, got {value}")
    return int(value)


def number(param: str, value, low: float, high: float, what: str) -> float:
    """A float strictly inside (low, high); ``what`` says what it is in the message."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise SpecError(param, f"{{opt}} must be a number, got {value!r}") from None
    if not low < value < high:
        raise SpecError(param, f"{{opt}} must be {what}, got {value}")
    return value


def sizes(param: str, value) -> list[int | str]:
    """``8,64,full`` → [8, 64, 'full']; anything but positive integers (and 'full') is refused."""
    out: list[int | str] = []
    text = value if isinstance(value, str) else ",".join(map(str, items(value)))
    for part in items(value):
        part = str(part).strip().lower()
        if part == FULL:
            out.append(FULL)
            continue
        try:
            size = int(part)
        except ValueError:
            size = 0
        if size <= 0 or str(size) != part.lstrip("+"):
            raise SpecError(
                param,
                f"{{opt}} '{text}': '{part}' is not a positive integer; write e.g. "
                "{opt} 8,64,full",
            )
        if size not in out:
            out.append(size)
    if not out:
        raise SpecError(param, "{opt} is empty; write e.g. {opt} 8,64,full")
    return out


def sizes_per_family(value, students: list[str], defaults: Mapping) -> dict[str, list]:
    """One size list for every student, or per family: ``tree=8,full;gbdt=10,100`` (or a dict)."""
    out = {f: list(defaults[f]) for f in students}
    if value is None:
        return out
    if isinstance(value, str) and "=" in value:
        value = dict(g.split("=", 1) for g in value.split(";") if g.strip())
    if isinstance(value, Mapping):
        for family, given in value.items():
            family = str(family).strip().lower()
            if family not in students:
                raise SpecError(
                    "sizes",
                    f"{{opt}} names '{family}', which is not among the students "
                    f"{','.join(students)}; write e.g. tree=8,full;gbdt=10,100",
                )
            out[family] = sizes("sizes", given)
        return out
    chosen = sizes("sizes", value)
    return {f: list(chosen) for f in students}


def c_grid(param: str, value) -> tuple[float, ...]:
    """Positive, finite candidates for c, sorted and distinct."""
    text = value if isinstance(value, str) else ",".join(map(str, items(value)))
    out = []
    for part in items(value) or [""]:
        try:
            c = float(part)
        except (TypeError, ValueError):
            c = math.nan
        if not c > 0 or math.isinf(c):
            raise SpecError(
                param,
                f"{{opt}} '{text}': '{str(part).strip()}' is not a positive number; write e.g. "
                "{opt} 0.001,0.1,10",
            )
        out.append(c)
    return tuple(sorted(set(out)))


def outer_folds(param: str, value) -> list[int] | None:
    """``all``/None → None; ``0-2`` → [0, 1, 2]; ``0,3`` (or [0, 3]) → [0, 3]."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "all"):
        return None
    folds: list[int] = []
    try:
        for part in items(value):
            lo, _, hi = str(part).strip().partition("-")
            first, last = int(lo), int(hi) if hi else int(lo)
            if first < 0 or last < first:
                raise ValueError
            folds.extend(range(first, last + 1))
        if not folds:
            raise ValueError
    except ValueError:
        raise SpecError(
            param, f"{{opt}} '{value}' is not a fold list; write e.g. 0-2, 0,3 or all"
        ) from None
    return sorted(set(folds))


def teacher_param(text: str) -> tuple[str, object]:
    """``key=value`` with the value read as a Python literal when it is one (3, 0.1, True, None)."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key or not raw or not key.replace("_", "").replace(".", "", 1).isalnum():
        raise SpecError(
            "teacher_param",
            f"malformed {{opt}} '{text}'; write KEY=VALUE, e.g. {{opt}} num_leaves=31",
        )
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return key, lowered == "true"
    if lowered == "none":
        return key, None
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return key, raw
    return key, value if isinstance(value, (int, float, str)) else raw


def teacher_params(value, teachers: list[str], known: tuple[str, ...]) -> dict[str, dict]:
    """``KEY=V`` applies to every teacher, ``TEACHER.KEY=V`` to that one only; a dict may map
    keys (or TEACHER.KEY) to values. Params scoped to a teacher not in the run are refused."""
    if isinstance(value, str):  # one KEY=VALUE
        value = [value]
    pairs = (
        list(value.items())
        if isinstance(value, Mapping)
        else [teacher_param(str(t)) for t in (value or [])]
    )
    out: dict[str, dict] = {t: {} for t in teachers}
    for key, val in pairs:
        scope, dot, name = str(key).partition(".")
        if not dot:
            for t in teachers:
                out[t][key] = val
            continue
        if scope not in known:
            raise SpecError(
                "teacher_param",
                f"{{opt}} '{key}={val}': '{scope}' is not a teacher; write TEACHER.KEY=VALUE "
                f"with TEACHER one of {', '.join(known)}",
            )
        if scope not in out:
            raise SpecError(
                "teacher_param",
                f"{{opt}} '{key}={val}' is for {scope}, which is not a --teacher here "
                f"({', '.join(teachers)})",
            )
        out[scope][name] = val
    return out
