"""`kd distill`: one student on every row of a dataset, its target chosen honestly, handed
back as MODEL_DIR (model.onnx, native files, card.json, card.md)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from kdcli.cli.app import app, command_line, stderr_console, stdout_console
from kdcli.cli.fit import DatasetSpec
from kdcli.cli.options import (
    AlphaGrid,
    CacheDir,
    CGrid,
    CrossfitKind,
    Debug,
    Eps,
    Folds,
    MaxRows,
    Offline,
    OpenMLServer,
    Quiet,
    Scale,
    Seed,
    SelectFolds,
    SelectMetric,
    SelectRows,
    TeacherModelPath,
    TeacherParam,
    announce_teacher_model,
)
from kdcli.data.openml_source import OpenMLConfig
from kdcli.distilled.model_dir import check_model_dir
from kdcli.errors import SettingError
from kdcli.settings import DEFAULTS


@app.command()
def distill(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="MODEL_DIR to write: model.onnx, card.json, card.md and the native model "
            "(a new or empty folder; --force replaces an earlier model).",
        ),
    ],
    dataset: DatasetSpec = "sklearn:breast_cancer",
    target: Annotated[
        str | None,
        typer.Option(help="Target column of a file: dataset.", show_default=False),
    ] = None,
    student: Annotated[str, typer.Option(help="Student family: tree, rf, gbdt or linear.")] = (
        "tree"
    ),
    size: Annotated[
        str | None,
        typer.Option(
            show_default=False,
            help="Student size: leaves (tree, or 'full'), trees (rf), rounds (gbdt), 1/alpha "
            "(linear), or auto: the best within --max-bytes / --max-ms-per-10k by the same "
            "cross-validation (default: tree 64, rf 10, gbdt 100, linear 1).",
        ),
    ] = None,
    max_bytes: Annotated[
        str | None,
        typer.Option(
            metavar="BYTES",
            show_default=False,
            help="With --size auto: model.onnx at most this big (e.g. 50000, 50k, 2M).",
        ),
    ] = None,
    max_ms_per_10k: Annotated[
        float | None,
        typer.Option(
            "--max-ms-per-10k",
            metavar="MS",
            show_default=False,
            help="With --size auto: onnxruntime batch latency at most this many milliseconds "
            "per 10,000 rows (one thread, this machine).",
        ),
    ] = None,
    mode: Annotated[
        str,
        typer.Option(
            help="Target: auto (chosen by cross-validation among raw, vanilla, crossfit, "
            "corrected and mixed) or one of them.",
        ),
    ] = "auto",
    teacher: Annotated[str, typer.Option(help="Teacher: lightgbm, xgboost or rf.")] = DEFAULTS[
        "teacher"
    ],
    teacher_param: TeacherParam = None,
    teacher_model: TeacherModelPath = None,
    teacher_as_is: Annotated[
        bool,
        typer.Option(
            "--teacher-as-is",
            help="With --teacher-model trained on these rows: use it as given as the full-data "
            "teacher (the cross-fit teachers are still refits).",
        ),
    ] = False,
    estimate_folds: Annotated[
        int,
        typer.Option(
            help="Outer folds of the held-out estimate, each repeating the whole distillation; "
            "0 skips it.",
        ),
    ] = 5,
    select_c: Annotated[
        str,
        typer.Option(
            "--select-c",
            help="Teachers behind the cross-validation that chooses the target and c: nested "
            "(they never saw the scored fold) or paper (they did; cheaper, leans to the teacher).",
        ),
    ] = "nested",
    folds: Folds = DEFAULTS["folds"],
    crossfit: CrossfitKind = DEFAULTS["crossfit"],
    select_folds: SelectFolds = None,
    select_rows: SelectRows = str(DEFAULTS["select_rows"]),
    select_metric: SelectMetric = DEFAULTS["select_metric"],
    scale: Scale = DEFAULTS["scale"],
    eps: Eps = DEFAULTS["eps"],
    c_grid: CGrid = None,
    alpha_grid: AlphaGrid = None,
    seed: Seed = DEFAULTS["seed"],
    max_rows: MaxRows = None,
    threads: Annotated[
        int | None,
        typer.Option(
            help="Model fits side by side, each single-threaded (default: the usable cores, "
            "counted when kd runs).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an earlier kd model in --out.")
    ] = False,
    cache_dir: CacheDir = None,
    offline: Offline = False,
    openml_server: OpenMLServer = None,
    json_: Annotated[
        bool, typer.Option("--json", help="Print the card as JSON on stdout.")
    ] = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Distil one student on every row and write it as a portable model with its card."""
    from kdcli import api

    options = {
        "teacher": None if teacher_model else teacher,
        "teacher_model": teacher_model,
        "teacher_param": teacher_param,
        "folds": folds,
        "crossfit": crossfit,
        "select_folds": select_folds,
        "select_rows": select_rows,
        "select_metric": select_metric,
        "scale": scale,
        "eps": eps,
        "c_grid": c_grid,
        "alpha_grid": alpha_grid,
        "seed": seed,
        "max_rows": max_rows,
    }
    settings, request = api.distill_settings(
        student,
        size,
        mode,
        estimate_folds,
        threads,
        select_c,
        teacher_as_is,
        None if max_bytes is None else byte_count(max_bytes),
        max_ms_per_10k,
        **options,
    )
    check_model_dir(out, force)  # before any fit
    openml = OpenMLConfig.from_env(cache_dir, openml_server, offline)
    ds = api.load_dataset(
        dataset, target=target, max_rows=settings.max_rows, seed=settings.seed, openml=openml
    )
    api.prepare_fit(ds, settings)  # the data's refusals, before any notice or fit
    for text in ds.notices:
        stderr_console().print(f"kd: notice: {text}", markup=False)
    announce_teacher_model(settings, teacher_as_is)
    t0 = time.perf_counter()
    err = stderr_console()

    def say(text: str) -> None:
        if not quiet and not json_:
            err.print(f"kd: {text}", markup=False)

    model = api.distill(ds, settings=settings, request=request, command=command_line(), say=say)
    seconds = time.perf_counter() - t0
    model.card["seconds"] = round(seconds, 2)
    if json_:
        typer.echo(json.dumps(model.card, indent=2, default=str))
    elif not quiet:
        show_summary(model.card)
    model.save(out, force)
    if not quiet and not json_:
        stdout_console().print(f"model written to {out}", markup=False)


UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}


def byte_count(text: str) -> int:
    """50000, 50k, 2M (powers of 1000, as file sizes are shown), or a one-line refusal."""
    t = text.strip().lower().removesuffix("b")
    unit = t[-1:] if t[-1:] in UNITS and t[-1:] else ""
    try:
        value = float(t[: len(t) - len(unit)]) * UNITS[unit]
    except ValueError:
        raise SettingError(
            "max_bytes", f"{{opt}} '{text}' is not a size; give bytes, e.g. 50000, 50k or 2M"
        ) from None
    return int(value)


def show_summary(card: dict) -> None:
    """The choice, its value and the honest estimate, before anything is written."""
    out = stdout_console()
    s, sel, est = card["student"], card["selection"], card.get("estimate")
    value = f", {s['value_name']} = {s['value']:g}" if s.get("value_name") else ""
    out.print(f"chosen target: {s['mode']}{value} ({s['family']} {s['size_label']})", markup=False)
    for c in sel["candidates"]:
        mark = "*" if c["mode"] == s["mode"] else " "
        v = "" if c["value"] is None else f" at {c['value']:g}"
        out.print(
            f"  {mark} {c['mode']:<10} CV {sel['metric']} {c['cv']:.4f} ± {c['se']:.4f}{v}",
            markup=False,
        )
    choice = card.get("size_choice")
    if choice:
        for r in choice["sizes"]:
            mark = "*" if r["chosen"] else " " if r["within_budget"] else "x"
            out.print(
                f"  {mark} size {r['size']!s:<6} {r['mode']:<10} CV {r['cv']:.4f} ± {r['se']:.4f}"
                f"  {r['onnx_bytes']:>10,} bytes  {r['batch_ms_per_10k']:8.2f} ms/10k",
                markup=False,
            )
    if est:
        m = est["metrics"]
        parts = [
            f"{k} {m[k]['mean']:.4f} ± {m[k]['se']:.4f}"
            for k in ("error", "auc", "log_loss")
            if k in m
        ]
        out.print(
            f"expected held-out ({est['folds']}-fold outer CV of the whole procedure): "
            + ", ".join(parts),
            markup=False,
        )
    else:
        out.print("held-out performance not estimated (--estimate-folds 0)", markup=False)
