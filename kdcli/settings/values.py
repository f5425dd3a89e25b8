"""Readers of single settings, from command-line text or Python values, to checked values.

Each takes the setting's name, so an error names it: ``sizes`` from Python, ``--sizes`` on the
command line (see :class:`kdcli.errors.SettingError`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

from kdcli.errors import SettingError

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


def items(param: str, value: str | Iterable, prefix: str = "") -> list:
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


def choices(param: str, value, allowed: tuple[str, ...], shown: str | None = None) -> list[str]:
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


def integer(param: str, value, minimum: int, maximum: int | None = None) -> int:
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


def number(param: str, value, low: float, high: float, what: str) -> float:
    """A float strictly inside (low, high), so never NaN (no comparison holds) nor, with a finite
    bound, infinite; ``what`` says what it is in the message."""
    if isinstance(value, bool):
        raise SettingError(param, f"{{opt}} must be a number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError, OverflowError):
        shown = text_of(value) if isinstance(value, int) else repr(value)
        raise SettingError(param, f"{{opt}} must be a number, got {shown}") from None
    if not low < value < high:
        raise SettingError(param, f"{{opt}} must be {what}, got {value}")
    return value


def positive(param: str, value, what: str = "a positive number") -> float:
    """A finite float above 0 (a time limit): NaN and inf are refused like any bad value."""
    return number(param, value, 0.0, math.inf, what)


def sizes(param: str, value) -> list[int | str]:
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


def sizes_per_family(value, students: list[str], defaults: Mapping) -> dict[str, list]:
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


def number_grid(param: str, value, ok, what: str, example: str) -> tuple[float, ...]:
    """Candidates of a chosen-by-CV setting (c, α): each a number with ``ok(x)``, sorted and
    distinct; a bad one is named with ``what`` it must be and ``example``. True and False are
    no numbers (Python would read them as 1 and 0)."""
    parts = items(param, value)
    text = value if isinstance(value, str) else ",".join(map(text_of, parts))
    out = []
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


# A parameter's key (``max_depth`` or ``rf.max_depth``) → a valid value of its type, shown in a
# message's fix (kdcli.settings.fit knows the libraries' types; without it, a number).
Example = Callable[[str], str]


def _number_example(key: str) -> str:
    return "0.1"


def teacher_param(
    text: str, setting: str = "teacher_param", example: Example = _number_example
) -> tuple[str, object]:
    """``key=value``, the value read as an int, a float, True/False/None or a (quoted) string.

    Scalars only, parsed here rather than by ``ast.literal_eval``, which raises TypeError,
    MemoryError or RecursionError on some text; NaN and inf are refused, not passed on.
    """
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key or not raw or not key.replace("_", "").replace(".", "", 1).isalnum():
        raise SettingError(
            setting,
            f"malformed {{opt}} '{text_of(text)}'; write KEY=VALUE, e.g. {{opt}} num_leaves=31",
        )
    return key, scalar(key, raw, setting, example)


def scalar(key: str, raw: str, setting: str = "teacher_param", example: Example = _number_example):
    """One value as text (``3``, ``0.1``, ``None``, ``True``, ``'dart'``) read as Python's."""
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return finite_param(key, raw[1:-1], setting, example)  # a library would read 'nan' as NaN
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        value = float(raw)
    except ValueError:
        return raw
    return finite_param(key, value, setting, example)


def finite_param(
    key: str, value, setting: str = "teacher_param", example: Example = _number_example
):
    """A teacher parameter's value, refused when it is a number that is NaN or infinite (as a
    float or as text a library would read as one); the fix shows ``example(key)``."""
    if isinstance(value, (float, str)):
        try:
            number = float(value)
        except ValueError:
            return value
        if not math.isfinite(number):
            raise SettingError(
                setting,
                f"{{opt}} {text_of(key)}={text_of(value)}: the value must be a finite number; "
                f"write e.g. {{opt}} {text_of(key)}={example(str(key))}",
            )
    return value


def teacher_params(
    value, teachers: list[str], known: tuple[str, ...], example: Example = _number_example
) -> dict[str, dict]:
    """``KEY=V`` applies to every teacher, ``TEACHER.KEY=V`` to that one only; a dict may map
    keys (or TEACHER.KEY) to values. Params scoped to a teacher not in the run are refused, and
    so is a parameter set twice for a teacher (``max_depth=3`` with ``rf.max_depth=4``): which
    one was meant cannot be told."""
    if isinstance(value, str):  # one KEY=VALUE
        value = [value]
    pairs = (
        list(value.items())
        if isinstance(value, Mapping)
        else [teacher_param(str(t), example=example) for t in (value or [])]
    )
    out: dict[str, dict] = {t: {} for t in teachers}
    given: dict[tuple[str, str], str] = {}  # (teacher, name) → the KEY=V that set it
    for key, val in pairs:
        val = finite_param(str(key), val, example=example)
        scope, dot, name = str(key).partition(".")
        if dot and scope not in known:
            raise SettingError(
                "teacher_param",
                f"{{opt}} '{text_of(key)}={text_of(val)}': '{text_of(scope)}' is not a teacher; "
                f"write TEACHER.KEY=VALUE with TEACHER one of {', '.join(known)}",
            )
        if dot and scope not in out:
            raise SettingError(
                "teacher_param",
                f"{{opt}} '{text_of(key)}={text_of(val)}' is for {scope}, which is not a "
                f"--teacher here ({', '.join(teachers)})",
            )
        name = name if dot else str(key)
        for t in [scope] if dot else teachers:
            if (t, name) in given:
                raise SettingError(
                    "teacher_param",
                    f"{{opt}} sets {t}.{text_of(name)} twice ({text_of(given[t, name])} and "
                    f"{text_of(key)}={text_of(val)}); give it once",
                )
            given[t, name] = f"{key}={val}"
            out[t][name] = val
    return out


def alpha_grid(param: str, value) -> tuple[float, ...]:
    """Candidates for α of the mixed targets, each in [0, 1], sorted and distinct."""
    what = "a number in [0, 1] (α weighs the label, 1 − α the teacher)"
    return number_grid(param, value, lambda a: 0.0 <= a <= 1.0, what, "0,0.25,0.5,1")


# A sweep of more teachers than this is refused before any is made: each variant is its own
# teacher, fit on every split (1,000 variants of a 5-fold cross-fit are 6,000 fits a split).
MAX_TEACHER_VARIANTS = 1_000

Axes = dict[str, dict[str, list]]  # teacher → swept parameter → its distinct values, in order


def grid_axes(
    value, teachers: list[str], known: tuple[str, ...], example: Example = _number_example
) -> Axes:
    """Each teacher's swept parameters and their values, read but not multiplied out
    (``rf.max_depth=1,2,3`` or ``max_depth=1,2`` for every teacher; repeatable; or a dict of
    KEY → values). A teacher without a grid has no axes."""
    option = "teacher_grid"
    if isinstance(value, str):
        value = [value]
    if isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    else:
        pairs = []
        for entry in value or []:
            key, sep, raw = str(entry).partition("=")
            if not sep or not key.strip():
                raise SettingError(
                    option,
                    f"malformed {{opt}} '{text_of(entry)}'; write TEACHER.KEY=V1,V2,..., e.g. "
                    "{opt} rf.max_depth=1,2,3,None",
                )
            pairs.append((key.strip(), raw))
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


def _axis_values(key: str, raw, example: Example) -> list:
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
    distinct: dict[tuple, object] = {}
    for v in values:
        distinct.setdefault(_identity(v), v)  # the first spelling of a value is kept
    return list(distinct.values())


def _identity(value) -> tuple:
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


def variants(grid: dict[str, list]) -> list[dict]:
    """One teacher's variants: the product of its swept values, in the order given; a teacher
    without a grid has one variant, {}."""
    out: list[dict] = [{}]
    for name, values in grid.items():
        out = [{**v, name: x} for v in out for x in values]
    return out
