"""--teacher-param as given (``KEY=VALUE`` text, several, or a dict) read into Python scalars,
per teacher; whether the library takes them is checked later (:mod:`kdcli.settings.teacher_check`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

from kdcli.errors import SettingError
from kdcli.settings.values import text_of

# A parameter's key (``max_depth`` or ``rf.max_depth``) → a valid value of its type, shown in a
# message's fix (kdcli.settings.teacher_check knows the libraries' types; without it, a number).
Example = Callable[[str], str]


def number_example(key: str) -> str:
    """The fallback example: most teacher parameters are numbers."""
    return "0.1"


def teacher_param(
    text: str, setting: str = "teacher_param", example: Example = number_example
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


def scalar(
    key: str, raw: str, setting: str = "teacher_param", example: Example = number_example
) -> object:
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
    key: str, value: object, setting: str = "teacher_param", example: Example = number_example
) -> object:
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


# --teacher-param and --teacher-grid as given: 'KEY=V' text, several, or a dict of KEY → V
ParamsGiven = str | Mapping[str, object] | Iterable[object]


def teacher_params(
    value: ParamsGiven | None,
    teachers: list[str],
    known: tuple[str, ...],
    example: Example = number_example,
) -> dict[str, dict[str, object]]:
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
    out: dict[str, dict[str, object]] = {t: {} for t in teachers}
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
