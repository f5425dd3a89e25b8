"""`kd benchmark`: a study over a suite, resumable, on local workers or a Dask cluster."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kdcli.cli.app import app, command_line
from kdcli.cli.config_file import given_values
from kdcli.cli.options import announce_teacher_model, with_settings_options
from kdcli.data.openml_source import OpenMLConfig
from kdcli.settings import DEFAULTS, study_settings


@app.command()
@with_settings_options
def benchmark(
    ctx: typer.Context,
    options: dict,
    openml: OpenMLConfig,
    suite: Annotated[
        str,
        typer.Option(
            help="Suite: openml-cc18, paper, demo (the suites kd ships), dir:PATH, a manifest "
            ".csv or a live OpenML suite (openml-suite:ID, cc18, amlb-classification; fetched "
            "once, then read from the cache)."
        ),
    ] = "demo",
    datasets: Annotated[
        str | None,
        typer.Option(help="Only these suite members, comma-separated.", show_default=False),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Study folder: one file per finished unit; the same command on it resumes.",
            show_default=False,
        ),
    ] = None,
    teacher: Annotated[
        str, typer.Option(help="Teachers, comma-separated: lightgbm, xgboost, rf.")
    ] = DEFAULTS["teacher"],
    jobs: Annotated[
        int,
        typer.Option(help="Units run at once, each in its own worker process (or Dask worker)."),
    ] = 1,
    threads: Annotated[
        int | None,
        typer.Option(
            help="Model fits side by side in each unit, each single-threaded (default: the "
            "usable cores, one budget for the whole study; on Dask usable cores // jobs).",
            show_default=False,
        ),
    ] = None,
    executor: Annotated[str, typer.Option(help="local (worker processes) or dask.")] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler, tcp://HOST:PORT (default with --executor dask: a local "
            "cluster of --jobs workers).",
            show_default=False,
        ),
    ] = None,
    timeout_per_unit: Annotated[
        float | None,
        typer.Option(
            help="Seconds after which a unit is stopped and recorded as failed.", show_default=False
        ),
    ] = None,
    memory_per_unit: Annotated[
        str | None,
        typer.Option(
            metavar="SIZE",
            help="Memory cap of each unit's worker, e.g. 4G, 1.5G, 512M (a bare number is MiB): "
            "a unit past it fails as 'memory' and --retry-failed with a larger cap reruns it. "
            "Locally an address-space limit (RLIMIT_AS); on a local Dask cluster each worker's "
            "--memory-limit.",
            show_default=False,
        ),
    ] = None,
    spread_from: Annotated[
        float,
        typer.Option(
            help="Dask: a unit estimated to take at least this many seconds sends its fits to "
            "every worker of the cluster (0: every unit).",
        ),
    ] = 10.0,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Run only the units that failed before.")
    ] = False,
    mlflow: Annotated[
        str | None,
        typer.Option(
            metavar="URI",
            help="Log the study to MLflow when it ends (file: store, path or http(s) server): "
            "a run per study, a nested run per unit, each logged once (needs kd[mlflow]).",
            show_default=False,
        ),
    ] = None,
    mlflow_experiment: Annotated[
        str, typer.Option(metavar="NAME", help="The MLflow experiment of --mlflow.")
    ] = "kd",
    json_: bool = False,
    quiet: bool = False,
    debug: bool = False,
) -> None:
    """Run a study over a suite: every dataset x outer fold x teacher, all students and modes.

    Each finished unit is kept in --out; the same command resumes; exit code 1 if any unit
    failed (they are listed, and --retry-failed re-runs them).
    """
    from kdcli import api
    from kdcli.cli.display import StudyDisplay
    from kdcli.study import mlflow_log

    display = StudyDisplay(quiet=quiet or json_, live=sys.stderr.isatty())
    study = study_settings(suite, datasets, openml=openml, notice=display.notice, **options)
    announce_teacher_model(study.fit)
    if mlflow is not None:  # MLflow missing or its store unusable: refused before any unit runs
        mlflow = mlflow_log.check_mlflow(mlflow, mlflow_experiment)
    with display:
        report = api.run_study(
            study,
            out,
            jobs=jobs,
            threads=threads,
            executor=executor,
            address=address,
            timeout_per_unit=timeout_per_unit,
            spread_from=spread_from,
            memory_per_unit=memory_per_unit,
            retry_failed=retry_failed,
            openml=openml,
            progress=display,
            command=command_line(),
            config=given_values(ctx),
        )
    display.finish(report, study, json_)
    if mlflow is not None:  # however the study ended: logging is idempotent, a resume adds to it
        logged = mlflow_log.log_study(
            report.out, mlflow, mlflow_experiment, display.notice, report=mlflow_report
        )
        display.notice(mlflow_log.describe(logged, mlflow, mlflow_experiment))
    if report.interrupted:
        raise typer.Exit(143 if report.terminated else 130)
    if report.failures:
        raise typer.Exit(1)


def mlflow_report(run: Path, into: Path) -> None:
    """The report `--mlflow` logs, as `kd report` writes it: Markdown linking the plots drawn in
    INTO/plots, and HTML embedding them (:mod:`kdcli.study.mlflow_log` sits below reporting).
    The figures are drawn as PNG alone, what MLflow keeps of them, but for the CD diagrams, also
    kept as PDF and SVG for a paper (drawing every figure in three formats took 70% of it)."""
    from kdcli import api
    from kdcli.reporting.report import report_cd_diagrams

    rep = api.report(run, plots=into / "plots", png_only=True)
    report_cd_diagrams(rep, into / "plots")
    (into / "report.md").write_text(api.render(rep, "md", links_from=into), encoding="utf-8")
    (into / "report.html").write_text(api.render(rep, "html"), encoding="utf-8")
