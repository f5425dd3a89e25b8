"""Command-line options shared by `kd fit` and `kd benchmark`: one definition, one help text,
defaults from the settings (:data:`kdcli.settings.DEFAULTS`), added to both commands by
:func:`with_settings_options`."""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Annotated, Any, cast, get_type_hints

import typer

from kdcli.cli.config_file import config_path, from_config, given_values, load_config, toml_text
from kdcli.data.openml_source import OpenMLConfig
from kdcli.errors import KDError, SettingError
from kdcli.settings import DEFAULTS

TeacherParam = Annotated[
    list[str] | None,
    typer.Option(
        "--teacher-param",
        metavar="KEY=VALUE",
        show_default=False,
        help="Override a teacher hyperparameter (repeatable), e.g. num_leaves=31; "
        "TEACHER.KEY=VALUE for one teacher only.",
    ),
]
TeacherGrid = Annotated[
    list[str] | None,
    typer.Option(
        "--teacher-grid",
        metavar="TEACHER.KEY=V1,V2",
        show_default=False,
        help="Sweep a teacher hyperparameter (repeatable; several give their product), e.g. "
        "rf.max_depth=1,2,3,None: each value is its own teacher, labelled rf[max_depth=3] in "
        "the results; KEY=V1,V2 sweeps it for every teacher. At most 1,000 teachers.",
    ),
]
TeacherModelPath = Annotated[
    str | None,
    typer.Option(
        "--teacher-model",
        metavar="PATH",
        show_default=False,
        help="Your own saved LightGBM (model text) or XGBoost (JSON/UBJ) model as the teacher: kd "
        "reads its parameters and rounds and refits them on its own training rows and folds, so "
        "no held-out row reaches a teacher (kd benchmark: one dataset).",
    ),
]
Student = Annotated[
    str, typer.Option(help="Student families, comma-separated: tree, rf, gbdt, linear.")
]
Sizes = Annotated[
    str | None,
    typer.Option(
        show_default=False,
        help="Student sizes, comma-separated positive integers ('full' = unlimited "
        "leaves, tree only) (default: tree 8,64,512,full; rf 1,10,100; gbdt 1,10,100; "
        "linear 1); per family: tree=8,full;gbdt=10,100. At most 10,000,000 leaves, 10,000 "
        "trees or rounds, linear 10^12.",
    ),
]
Modes = Annotated[
    str,
    typer.Option(
        help="Target modes, comma-separated: raw, vanilla, crossfit, corrected, and mixed "
        "(label/teacher blend, α tuned like c; not run by default); MODE:SCALE gives one mode "
        "its own scale, e.g. vanilla:logit (raw:prob on a prob run is raw, fit once)."
    ),
]
Folds = Annotated[
    int,
    typer.Option(
        help="Cross-fitting folds K (also the folds that choose c, unless --select-folds)."
    ),
]
CrossfitKind = Annotated[
    str,
    typer.Option(
        "--crossfit",
        help="How out-of-fold teacher probabilities are made: folds (K teachers, each without its "
        "fold) or oob (a bagged rf teacher's out-of-bag probabilities: no extra fits).",
    ),
]
SelectFolds = Annotated[
    int | None,
    typer.Option(
        show_default=False,
        help="Cross-validation folds that choose c of the correction (default: --folds).",
    ),
]
SelectC = Annotated[
    str,
    typer.Option(
        "--select-c",
        help="How the cross-validation that chooses c gets its training targets: paper "
        "(the cross-fit teachers', which saw the held-out fold) or nested (teachers that never "
        "saw it; J(J-1)/2 more teacher fits for J folds, J with --crossfit oob).",
    ),
]
SelectRows = Annotated[
    str,
    typer.Option(
        "--select-rows",
        metavar="N|all",
        help="Most training rows that choose c and α: on a larger split that cross-validation "
        "runs on a stratified subsample of this many rows, and the final students still fit "
        "on every row; 0 or all: every row.",
    ),
]
Preset = Annotated[
    str | None,
    typer.Option(
        show_default=False,
        help="A published protocol: dao2021 (the paper's student-size sweep) or dao2021-teacher "
        "(its teacher max_depth sweep). It sets every option you do not give, and a teacher "
        "parameter you set or sweep replaces the preset's; the run record lists what it set.",
    ),
]
TestSize = Annotated[
    float,
    typer.Option(help="Fraction of rows held out for scoring (datasets without official folds)."),
]
Seed = Annotated[
    int, typer.Option(help="Seed, 0 to 4294967295; repeat r uses seed + r, also within that.")
]
Repeats = Annotated[
    int,
    typer.Option(
        help="Repeats with different splits, at most 10,000 (a task: its first R official repeats)."
    ),
]
Scale = Annotated[
    str,
    typer.Option(
        help="prob: students regress probabilities; logit: logits (binary) or "
        "log-probabilities (softmax on prediction)."
    ),
]
Eps = Annotated[
    float,
    typer.Option(
        help="Probability floor: student probabilities are clipped "
        "to (eps, 1); logit scale clips teacher probabilities below "
        "at eps."
    ),
]
SelectMetric = Annotated[
    str, typer.Option(help="Metric that chooses c of the correction (error, log_loss, brier, auc).")
]
CGrid = Annotated[
    str | None,
    typer.Option(
        show_default=False,
        help="Candidate values of c, comma-separated (default: 1e-5,1e-4,...,1e3).",
    ),
]
AlphaGrid = Annotated[
    str | None,
    typer.Option(
        show_default=False,
        help="Candidate values of α for mode mixed (t = α·label + (1−α)·teacher), each in "
        "[0, 1], comma-separated (default: 0,0.1,...,1).",
    ),
]
FoldsOuter = Annotated[
    str | None,
    typer.Option(
        show_default=False,
        help="openml-task: datasets: which official folds to run, e.g. 0-2, 0,3 (default: all).",
    ),
]
MaxRows = Annotated[
    int | None,
    typer.Option(
        show_default=False,
        help="Stratified subsample of this many rows, for quick runs (recorded in the results).",
    ),
]
CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        envvar="KD_CACHE_DIR",
        show_default=False,
        help="Data and teacher-prediction cache (default: datasets/cache in a checkout, "
        "else ~/.cache/kd).",
    ),
]
Offline = Annotated[
    bool,
    typer.Option(
        "--offline",
        envvar="KD_OFFLINE",
        help="Never touch the network: use only what is in the cache.",
    ),
]
OpenMLServer = Annotated[
    str | None,
    typer.Option(
        "--openml-server",
        envvar="KD_OPENML_SERVER",
        show_default=False,
        help="OpenML API URL (default: https://www.openml.org/api/v1/xml).",
    ),
]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")]


def _config_callback(ctx: typer.Context, param: typer.CallbackParam, value: Path | None):
    return load_config(ctx, param, None if value is None else str(value))


ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        is_eager=True,
        callback=_config_callback,
        show_default=False,
        help="Take options from this TOML file: each key an option's name without the dashes "
        '(sizes = "8,64", teacher-param = ["num_leaves=31"], repeats = 5); the command line '
        "overrides it.",
    ),
]
PrintConfig = Annotated[
    bool,
    typer.Option(
        "--print-config",
        help="Print the options given (by --config and the command line) as a TOML config "
        "file that --config reads back, and exit.",
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no tables.")]
Json = Annotated[
    bool, typer.Option("--json", help="Print the run record as JSON on stdout instead of tables.")
]


def announce_teacher_model(settings, as_is: bool = False) -> None:
    """Say how a --teacher-model serves (stderr, one notice each): refitted, or as given."""
    from kdcli.cli.app import stderr_console

    for teacher in settings.teachers:
        m = teacher.model
        if not m:
            continue
        how = (
            "the full-data teacher is the model as given (--teacher-as-is); the cross-fit "
            "teachers and those of the outer estimate are refits of its parameters"
            if as_is
            else "refitted on kd's own training rows and cross-fit folds, so no held-out row "
            "reaches a teacher"
        )
        err = stderr_console()
        err.print(
            f"kd: notice: --teacher-model {m['path']}: {m['library']}, {m['rounds']} rounds; {how}",
            markup=False,
        )
        if m["unread"]:
            err.print(
                f"kd: notice: a {m['library']} model file does not keep {', '.join(m['unread'])}: "
                "the refits take kd's defaults for them unless given with --teacher-param",
                markup=False,
            )


def _shared(name: str, annotation, default) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


SETTING_PARAMS = [
    _shared("teacher_param", TeacherParam, None),
    _shared("teacher_grid", TeacherGrid, None),
    _shared("teacher_model", TeacherModelPath, None),
    _shared("student", Student, DEFAULTS["student"]),
    _shared("sizes", Sizes, None),
    _shared("modes", Modes, DEFAULTS["modes"]),
    _shared("folds", Folds, DEFAULTS["folds"]),
    _shared("crossfit", CrossfitKind, DEFAULTS["crossfit"]),
    _shared("select_folds", SelectFolds, None),
    _shared("select_c", SelectC, DEFAULTS["select_c"]),
    _shared("select_rows", SelectRows, str(DEFAULTS["select_rows"])),
    _shared("test_size", TestSize, DEFAULTS["test_size"]),
    _shared("seed", Seed, DEFAULTS["seed"]),
    _shared("repeats", Repeats, DEFAULTS["repeats"]),
    _shared("scale", Scale, DEFAULTS["scale"]),
    _shared("eps", Eps, DEFAULTS["eps"]),
    _shared("select_metric", SelectMetric, DEFAULTS["select_metric"]),
    _shared("c_grid", CGrid, None),
    _shared("alpha_grid", AlphaGrid, None),
    _shared("preset", Preset, None),
    _shared("folds_outer", FoldsOuter, None),
    _shared("max_rows", MaxRows, None),
]
DATA_PARAMS = [
    _shared("cache_dir", CacheDir, None),
    _shared("offline", Offline, False),
    _shared("openml_server", OpenMLServer, None),
]
CONFIG_PARAMS = [
    _shared("config", ConfigFile, None),
    _shared("print_config", PrintConfig, False),
]
OUTPUT_PARAMS = [
    _shared("json_", Json, False),
    _shared("quiet", Quiet, False),
    _shared("debug", Debug, False),
]
SETTING_NAMES = {*DEFAULTS, "preset"}


def given(ctx: typer.Context, name: str) -> bool:
    """Whether an option came from the command line, the environment or a --config file (it
    beats a preset)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT", "DEFAULT_MAP")


def with_settings_options(command):
    """Add the fit settings', data and output options to a command. It receives ``options``
    (the settings given explicitly, for :func:`kdcli.settings.fit_settings`; its own
    ``teacher`` among them) and ``openml`` (where data comes from) in their place."""
    hints = get_type_hints(command, include_extras=True)  # the command module's names
    shared = SETTING_PARAMS + DATA_PARAMS + CONFIG_PARAMS + OUTPUT_PARAMS
    names = {"options", "openml"} | {p.name for p in shared}
    own = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in inspect.signature(command).parameters.values()
        if p.name not in names
    ]

    @functools.wraps(command)
    def wrapper(ctx: typer.Context, **kwargs):
        kwargs.pop("config")
        if kwargs.pop("print_config"):
            typer.echo(toml_text(given_values(ctx), ctx.command_path), nl=False)
            raise typer.Exit(0)
        options = {k: kwargs.pop(k) for k in list(kwargs) if k in SETTING_NAMES}
        options = {k: v for k, v in options.items() if given(ctx, k)}
        openml = OpenMLConfig.from_env(
            kwargs.pop("cache_dir"), kwargs.pop("openml_server"), kwargs.pop("offline")
        )
        try:
            return command(ctx=ctx, options=options, openml=openml, **kwargs)
        except SettingError as err:  # a bad value from the file: name the file and its key
            path = config_path(ctx)
            if path is None or not from_config(ctx, err.param):
                raise
            key = err.param.replace("_", "-")
            raise KDError(
                f"--config {path}: {err.render(key)}; fix key '{key}' in the file, or give "
                f"{err.option} on the command line"
            ) from None

    cast(Any, wrapper).__signature__ = inspect.Signature([*own, *shared])
    wrapper.__annotations__ = {p.name: p.annotation for p in [*own, *shared]}
    del wrapper.__wrapped__  # typer must read the new signature, not the command's
    return wrapper
