"""`kd fit`: one dataset, one teacher, every student x size x mode."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kdcli.cli.app import app, command_line, stderr_console, stdout_console
from kdcli.cli.config_file import given_values
from kdcli.cli.options import announce_teacher_model, with_settings_options
from kdcli.data.openml_source import OpenMLConfig
from kdcli.science.metrics import EXCESS_METRICS, METRICS
from kdcli.settings import DEFAULTS, fit_settings
from kdcli.settings.presets import preset_labels, preset_metric
from kdcli.settings.values import choices
from kdcli.study.run_folder import check_out_dir

DatasetSpec = Annotated[
    str,
    typer.Option(
        "--dataset",
        "-d",
        help="Dataset SPEC: sklearn:NAME (breast_cancer, digits, wine, iris), "
        "synthetic:NAME?k=v (binary, multiclass; p0 known), file:PATH (.csv, .tsv, .gz, "
        ".parquet), openml:ID, openml-task:ID.",
    ),
]


@app.command()
@with_settings_options
def fit(
    ctx: typer.Context,
    options: dict,
    openml: OpenMLConfig,
    dataset: DatasetSpec = "sklearn:breast_cancer",
    target: Annotated[
        str | None,
        typer.Option(
            help="Target column of a file: dataset (default: 'target' if present, else the "
            "last column).",
            show_default=False,
        ),
    ] = None,
    teacher: Annotated[
        str, typer.Option(help="Teacher: lightgbm, xgboost or rf (scikit-learn random forest).")
    ] = DEFAULTS["teacher"],
    metric: Annotated[
        str,
        typer.Option(
            help="Metrics shown in the tables, comma-separated (error, log_loss, brier, auc; on "
            "synthetic data also p0_mse, p0_kl, excess_error) (default: error; on synthetic data "
            "error,p0_mse).",
            show_default=False,
        ),
    ] = "",
    threads: Annotated[
        int | None,
        typer.Option(
            help="Model fits side by side, each single-threaded (default: the usable cores, "
            "counted when kd runs; never more).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write results.csv, summary.csv, latency.csv and run.json here (a new or empty "
            "folder).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace an earlier kd fit in --out: its four files, nothing else.",
        ),
    ] = False,
    json_: bool = False,
    quiet: bool = False,
    debug: bool = False,
) -> None:
    """Distil a teacher into students on one dataset and compare the four target modes."""
    from kdcli import api

    settings = fit_settings(**options)
    threads = api.Execution(threads=threads).threads_per_fit
    if out is not None:
        check_out_dir(out, "kd-fit", force)
    t0 = time.perf_counter()
    plan = api.prepare_fit(
        dataset, settings, target=target, openml=openml
    )  # every refusal happens here
    announce_teacher_model(settings)
    for text in plan.dataset.notices:  # what loading did to the data: never silently
        stderr_console().print(f"kd: notice: {text}", markup=False)
    shown = table_metrics(metric, plan.dataset.p0 is not None, settings.preset)
    show_progress = not quiet and not json_ and sys.stderr.isatty()
    with Progress(
        TextColumn("{task.description:<28}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=True,
        disable=not show_progress,
    ) as progress:
        task = progress.add_task("loading", total=plan.total_steps)
        result = api.execute_fit(
            plan,
            threads,
            lambda label, done: progress.update(task, advance=done, description=label),
        )
    record = api.fit_record(plan, result, seconds=time.perf_counter() - t0, command=command_line())
    record["execution"] = {"threads": threads}
    record["config"] = given_values(ctx)  # --print-config's file: the options as given
    if out is not None:  # refused before any fit above; save_fit writes the four together
        api.save_fit(out, result, record=record, force=force)
    if json_:
        typer.echo(json.dumps(record, indent=2, default=str))
    elif not quiet:
        from kdcli.reporting.tables import tables

        stdout = stdout_console()
        for table in tables(result.summary, shown, preset_labels(settings.preset)):
            stdout.print(table)
        if len(plan.splits) == 1:
            stdout.print("[dim]one repeat: no standard errors (use --repeats 5 for ± se)[/dim]")
        for line in verdict_lines(result.results, shown[0], record):
            stdout.print(f"verdict: {line}", markup=False)
        if out is not None:
            stdout.print(f"results written to {out}", markup=False)


def verdict_lines(results, metric: str, record: dict) -> list[str]:
    """The fit's verdict at each size (kdcli.reporting.verdict), for the metric the tables lead
    with; the test's n_test/n_train from the splits the run recorded."""
    from kdcli.reporting.split_sizes import split_ratios
    from kdcli.reporting.verdict import fit_verdict

    ratios = split_ratios(results, record)
    ratio = next(iter(ratios.values())).ratio if ratios else float("nan")
    return fit_verdict(results, metric, ratio)


def table_metrics(metric: str, has_p0: bool, preset: dict | None) -> list[str]:
    """The metrics of the tables: as asked, else the preset's, else error (and p0_mse)."""
    allowed = METRICS + (EXCESS_METRICS if has_p0 else ())
    metric = metric or (preset_metric(preset, "") if preset else "")
    if not metric:
        return ["error", "p0_mse"] if has_p0 else ["error"]
    asked = [m.strip().lower() for m in metric.split(",") if m.strip()]
    needs_p0 = [m for m in asked if m in EXCESS_METRICS]
    if needs_p0 and not has_p0:
        from kdcli.errors import SettingError

        raise SettingError(
            "metric",
            f"{{opt}} {needs_p0[0]} needs the true probabilities p0, which only synthetic: "
            "datasets have; drop it for this dataset",
        )
    return choices("metric", metric, allowed)
