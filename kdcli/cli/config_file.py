"""`--config FILE` and `--print-config` of `kd fit` and `kd benchmark`: a study as a TOML file to
review, diff and reuse. Every option of the command has a key (its name without the dashes,
``teacher-param``); the command line overrides the file; `--print-config` writes what was given
(file and command line together) as TOML that reads back to the same run.

The file fills Click's ``default_map`` before any other option is read, so each value goes through
the same conversion and checks as on the command line; what fails is one line naming the file,
the key and the fix.
"""

from __future__ import annotations

import difflib
import json
import math
import sys
from pathlib import Path
from typing import Any

from kdcli.errors import KDError
from kdcli.text import one_line, shown

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found]

# ctx is a Click or Typer context (Typer's own class in recent versions): typed Any
CONFIG_META = "kd_config"  # ctx.meta: the file read, for messages about its keys
SKIPPED = ("config", "print_config", "help")  # options that are about the config itself


def key_of(param: Any) -> str:
    """A parameter's key in a config file: its long option without the dashes."""
    longs = [o for o in param.opts if o.startswith("--")]
    return (longs[0] if longs else param.opts[0]).lstrip("-")


def keyed_params(command: Any) -> dict[str, Any]:
    """Every option a config file may set, by key."""
    return {
        key_of(p): p
        for p in command.params
        if p.param_type_name == "option" and p.name not in SKIPPED  # Typer's own or Click's
    }


def read_config(path: Path) -> dict[str, Any]:
    """The file's table of keys, or one line naming what is wrong with it."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as err:
        raise KDError(
            f"cannot read --config {shown(path)}: {err.strerror or one_line(err)}"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise KDError(
            f"--config {shown(path)} is not valid TOML ({one_line(err)}); fix that line"
        ) from None
    return data


def load_config(ctx: Any, param: Any, value: str | None) -> str | None:
    """The --config callback (eager): check every key and value of the file, then hand them to
    Click as defaults, which the command line overrides."""
    if not value:
        return value
    path = Path(value)
    data = read_config(path)
    params = keyed_params(ctx.command)
    defaults: dict[str, Any] = {}
    for key, raw in data.items():
        target = params.get(key) or params.get(key.replace("_", "-"))
        if target is None:
            raise KDError(_unknown(path, key, params, ctx.command_path))
        assert target.name is not None
        defaults[target.name] = _checked(ctx, path, key, target, raw)
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    ctx.meta[CONFIG_META] = path
    return value


def _unknown(path: Path, key: str, params: dict[str, Any], where: str) -> str:
    close = difflib.get_close_matches(key, params, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return (
        f"--config {shown(path)}: unknown key '{shown(key)}'{hint}; the keys are the options of "
        f"`{where} --help` without their dashes"
    )


def _checked(ctx: Any, path: Path, key: str, param: Any, raw: Any) -> Any:
    """``raw`` as the option takes it: a list for a repeatable option, a comma-joined list for
    an option that takes one (sizes = [8, 64] is sizes = "8,64"), converted by Click's own
    type; a wrong type is one line naming the file and key."""
    value = raw
    if isinstance(raw, dict):
        problem = "is a table"
    elif param.multiple:
        value = list(raw) if isinstance(raw, list) else [raw]
        problem = ""
    elif isinstance(raw, list):
        value = ",".join(_text(v) for v in raw)
        problem = ""
    else:
        problem = ""
    if not problem:
        try:
            param.process_value(ctx, value)  # the option's own conversion and checks
            return value
        except Exception as err:  # Click's BadParameter (Typer's own copy of Click, or Click)
            if not hasattr(err, "format_message"):
                raise
            problem = err.format_message()
    expect = _expected(param)
    raise KDError(f"--config {shown(path)}: key '{shown(key)}': {one_line(problem)}; give {expect}")


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _expected(param: Any) -> str:
    """What a key takes, by the option's Click type name (integer, float, boolean, ...)."""
    if param.multiple:
        return 'a list of strings, e.g. ["num_leaves=31"]'
    kind = getattr(getattr(param, "type_descriptor", None), "annotation", None)  # Typer's
    if kind is bool or getattr(param, "is_flag", False):
        return "true or false"
    if kind is int:
        return "a whole number"
    return "a number" if kind is float else "a string"


def from_config(ctx: Any, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "DEFAULT_MAP"


def config_path(ctx: Any) -> Path | None:
    return ctx.meta.get(CONFIG_META)


def given_values(ctx: Any) -> dict[str, Any]:
    """The options set by the file or the command line (not the defaults, nor the environment,
    which belongs to the machine), by key, in the command's order: what `--print-config`
    writes and run.json records."""
    out = {}
    for key, param in keyed_params(ctx.command).items():
        assert param.name is not None
        source = ctx.get_parameter_source(param.name)
        if source is None or source.name not in ("COMMANDLINE", "DEFAULT_MAP"):
            continue
        value = ctx.params.get(param.name)
        if value is None or value == () or value == []:
            continue
        out[key] = list(value) if isinstance(value, (list, tuple)) else value
    return out


def toml_text(values: dict[str, Any], command: str) -> str:
    """``values`` as TOML (strings, numbers, booleans, lists of them), with a header saying
    what the file is; read back by :func:`load_config` to the same values."""
    lines = [
        f"# {command}: the options given (by a config file or the command line); the others",
        f"# take their defaults (`{command} --help`). Run it with `{command} --config FILE`.",
    ]
    lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string
