"""Readers of single settings, from command-line text or Python values, to checked values.

Each takes the setting's name, so an error names it: ``sizes`` from Python, ``--sizes`` on the
command line (see :class:`kdcli.errors.SpecError`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from kdcli.errors import SpecError

FULL = "full"  # tree student grown to purity
MAX_FOLD = 99_999  # official fold numbers: OpenML's largest tasks (leave-one-out) stay below


def text_of(value) -> str:
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
            raise SpecError(param, f"unknown {name} '{text_of(v)}'; use one or more of {shown}")
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
        raise SpecError(param, f"{{opt}} must be at least {minimum}, got {text_of(value)}")
    if maximum is not None and value > maximum:
        raise SpecError(param, f"{{opt}} must be at most {maximum}, got {text_of(value)}")
    return int(value)


def number(param: str, value, low: float, high: float, what: str) -> float:
    """A float strictly inside (low, high), so never NaN (no comparison holds) nor, with a finite
    bound, infinite; ``what`` says what it is in the message."""
    if isinstance(value, bool):
        raise SpecError(param, f"{{opt}} must be a number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError, OverflowError):
        shown = text_of(value) if isinstance(value, int) else repr(value)
        raise SpecError(param, f"{{opt}} must be a number, got {shown}") from None
    if not low < value < high:
        raise SpecError(param, f"{{opt}} must be {what}, got {value}")
    return value


def positive(param: str, value, what: str = "a positive number") -> float:
    """A finite float above 0 (a time limit): NaN and inf are refused like any bad value."""
    return number(param, value, 0.0, math.inf, what)


def sizes(param: str, value) -> list[int | str]:
    """``8,64,full`` → [8, 64, 'full']; anything but positive integers (and 'full') is refused."""
    out: list[int | str] = []
    text = value if isinstance(value, str) else ",".join(map(text_of, items(value)))
    for part in items(value):
        part = text_of(part).strip().lower()
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
                f"{{opt}} '{text_of(text)}': '{text_of(part)}' is not a positive integer; "
                "write e.g. {opt} 8,64,full",
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
        groups = [g.strip() for g in value.split(";") if g.strip()]
        bad = next((g for g in groups if "=" not in g), None)
        if bad is not None:
            raise SpecError(
                "sizes",
                f"{{opt}} '{text_of(value)}': '{text_of(bad)}' names no student; write "
                "FAMILY=SIZES groups, e.g. tree=8,full;gbdt=10,100",
            )
        value = dict(g.split("=", 1) for g in groups)
    if isinstance(value, Mapping):
        for family, given in value.items():
            family = str(family).strip().lower()
            if family not in students:
                raise SpecError(
                    "sizes",
                    f"{{opt}} names '{text_of(family)}', which is not among the students "
                    f"{','.join(students)}; write e.g. tree=8,full;gbdt=10,100",
                )
            out[family] = sizes("sizes", given)
        return out
    chosen = sizes("sizes", value)
    return {f: list(chosen) for f in students}


def number_grid(param: str, value, ok, what: str, example: str) -> tuple[float, ...]:
    """Candidates of a chosen-by-CV setting (c, α): each a number with ``ok(x)``, sorted and
    distinct; a bad one is named with ``what`` it must be and ``example``."""
    text = value if isinstance(value, str) else ",".join(map(text_of, items(value)))
    out = []
    for part in items(value) or [""]:
        try:
            x = float(part)
        except (TypeError, ValueError, OverflowError):
            x = math.nan
        if math.isnan(x) or not ok(x):
            raise SpecError(
                param,
                f"{{opt}} '{text_of(text)}': '{text_of(part).strip()}' is not {what}; "
                f"write e.g. {{opt}} {example}",
            )
        out.append(x)
    return tuple(sorted(set(out)))


def c_grid(param: str, value) -> tuple[float, ...]:
    """Positive, finite candidates for c, sorted and distinct."""
    return number_grid(param, value, _positive_finite, "a positive number", "0.001,0.1,10")


def _positive_finite(x: float) -> bool:
    return x > 0 and not math.isinf(x)


def outer_folds(param: str, value) -> list[int] | None:
    """``all``/None → None; ``0-2`` → [0, 1, 2]; ``0,3`` (or [0, 3]) → [0, 3]."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "all"):
        return None
    shown = text_of(value)
    bad = SpecError(param, f"{{opt}} '{shown}' is not a fold list; write e.g. 0-2, 0,3 or all")
    folds: set[int] = set()
    for part in items(value):
        lo, _, hi = text_of(part).strip().partition("-")
        try:
            first, last = int(lo), int(hi) if hi else int(lo)
        except ValueError:
            raise bad from None
        if first < 0 or last < first:
            raise bad
        if last > MAX_FOLD:  # before the range is made: 0-10**12 is no list to build
            raise SpecError(
                param,
                f"{{opt}} '{shown}': fold {text_of(last)} is past {MAX_FOLD:,}, the largest fold "
                "number; write e.g. 0-2, 0,3 or all",
            )
        folds.update(range(first, last + 1))
    if not folds:
        raise bad
    return sorted(folds)


def teacher_param(text: str) -> tuple[str, object]:
    """``key=value``, the value read as an int, a float, True/False/None or a (quoted) string.

    Scalars only, parsed here rather than by ``ast.literal_eval``, which raises TypeError,
    MemoryError or RecursionError on some text; NaN and inf are refused, not passed on.
    """
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key or not raw or not key.replace("_", "").replace(".", "", 1).isalnum():
        raise SpecError(
            "teacher_param",
            f"malformed {{opt}} '{text_of(text)}'; write KEY=VALUE, e.g. {{opt}} num_leaves=31",
        )
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return key, lowered == "true"
    if lowered == "none":
        return key, None
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return key, finite_param(key, raw[1:-1])  # a library would read 'nan' as NaN
    try:
        return key, int(raw)
    except ValueError:
        pass
    try:
        value = float(raw)
    except ValueError:
        return key, raw
    return key, finite_param(key, value)


def finite_param(key: str, value):
    """A teacher parameter's value, refused when it is a number that is NaN or infinite (as a
    float or as text a library would read as one)."""
    if isinstance(value, (float, str)):
        try:
            number = float(value)
        except ValueError:
            return value
        if not math.isfinite(number):
            raise SpecError(
                "teacher_param",
                f"{{opt}} {text_of(key)}={text_of(value)}: the value must be a finite number; "
                f"write e.g. {{opt}} {text_of(key)}=0.1",
            )
    return value


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
        val = finite_param(str(key), val)
        scope, dot, name = str(key).partition(".")
        if not dot:
            for t in teachers:
                out[t][key] = val
            continue
        if scope not in known:
            raise SpecError(
                "teacher_param",
                f"{{opt}} '{text_of(key)}={text_of(val)}': '{text_of(scope)}' is not a teacher; "
                f"write TEACHER.KEY=VALUE with TEACHER one of {', '.join(known)}",
            )
        if scope not in out:
            raise SpecError(
                "teacher_param",
                f"{{opt}} '{text_of(key)}={text_of(val)}' is for {scope}, which is not a "
                f"--teacher here ({', '.join(teachers)})",
            )
        out[scope][name] = val
    return out


def alpha_grid(param: str, value) -> tuple[float, ...]:
    """Candidates for α of the mixed targets, each in [0, 1], sorted and distinct."""
    what = "a number in [0, 1] (α weighs the label, 1 − α the teacher)"
    return number_grid(param, value, lambda a: 0.0 <= a <= 1.0, what, "0,0.25,0.5,1")


def _grid_value(key: str, raw) -> object:
    """One value of a grid: text is read as --teacher-param reads it (3, 0.1, None, True)."""
    if isinstance(raw, str):
        return teacher_param(f"{key}={raw}")[1]
    return finite_param(key, raw)


def teacher_grid(
    value, teachers: list[str], known: tuple[str, ...]
) -> dict[str, list[dict]]:
    """Each teacher's variants: the product of its swept parameters' values, in the order given
    (``rf.max_depth=1,2,3`` or ``max_depth=1,2`` for every teacher; repeatable; or a dict of
    KEY → values). A teacher without a grid has one variant, {}."""
    option = "teacher_grid"
    if isinstance(value, str):
        value = [value]
    if isinstance(value, Mapping):
        pairs = [(str(k), v if isinstance(v, str) else list(items(v))) for k, v in value.items()]
    else:
        pairs = []
        for entry in value or []:
            key, sep, raw = str(entry).partition("=")
            if not sep or not key.strip():
                raise SpecError(
                    option,
                    f"malformed {{opt}} '{text_of(entry)}'; write TEACHER.KEY=V1,V2,..., e.g. "
                    "{opt} rf.max_depth=1,2,3,None",
                )
            pairs.append((key.strip(), raw))
    axes: dict[str, dict[str, list]] = {t: {} for t in teachers}
    for key, raw in pairs:
        parts = [p.strip() for p in raw.split(",")] if isinstance(raw, str) else list(raw)
        parts = [p for p in parts if not (isinstance(p, str) and not p)]
        if not parts:
            raise SpecError(
                option,
                f"{{opt}} '{text_of(key)}=' has no values; write e.g. {{opt}} {text_of(key)}=1,2,3",
            )
        scope, dot, name = key.partition(".")
        if dot and scope not in known:
            raise SpecError(
                option,
                f"{{opt}} '{text_of(key)}': '{text_of(scope)}' is not a teacher; write "
                f"TEACHER.KEY=V1,V2 with TEACHER one of {', '.join(known)}",
            )
        if dot and scope not in axes:
            raise SpecError(
                option,
                f"{{opt}} '{text_of(key)}' is for {scope}, which is not a --teacher here "
                f"({', '.join(teachers)})",
            )
        name = name if dot else key
        if not name.replace("_", "").isalnum():
            raise SpecError(
                option, f"malformed {{opt}} '{text_of(key)}'; write e.g. {{opt}} rf.max_depth=1,2"
            )
        values = list(dict.fromkeys(_grid_value(name, p) for p in parts))
        for t in [scope] if dot else teachers:
            if name in axes[t]:
                raise SpecError(
                    option, f"{{opt}} sweeps {t}.{name} twice; give its values in one {{opt}}"
                )
            axes[t][name] = values
    out: dict[str, list[dict]] = {}
    for t, grid in axes.items():
        variants: list[dict] = [{}]
        for name, values in grid.items():
            variants = [{**v, name: x} for v in variants for x in values]
        out[t] = variants
    return out
