"""The `kd` command line: a thin layer that parses options and calls the experiment."""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import time
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kdcli import __version__

try:  # typer >= 0.20 carries its own copy of click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer uses click itself
    from click.exceptions import UsageError
from kdcli.cli_options import (
    CacheDir,
    CGrid,
    Debug,
    Eps,
    Folds,
    FoldsOuter,
    Json,
    MaxRows,
    Modes,
    Offline,
    OpenMLServer,
    Preset,
    Quiet,
    Repeats,
    Scale,
    Seed,
    SelectFolds,
    SelectMetric,
    Sizes,
    Student,
    TeacherParam,
    TestSize,
)
from kdcli.data.openml_source import OpenMLConfig
from kdcli.errors import KDError
from kdcli.output import check_out_dir
from kdcli.presets import preset_labels, preset_metric

app = typer.Typer(
    name="kd",
    help="Knowledge distillation experiments for tabular data: which way of distilling a teacher "
    "into a cheap student gives the lowest held-out error, and by how much.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_THREADS = max(1, os.cpu_count() or 1)
_invocation: list[str] = []  # the arguments main() was called with, for the run record


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"kd {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version_: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Knowledge distillation experiments for tabular data."""


def explicit_options(ctx: typer.Context) -> frozenset[str]:
    """The options given on the command line or environment (they beat a --preset's values)."""

    def given(name: str) -> bool:
        source = ctx.get_parameter_source(name)
        return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")

    return frozenset(name for name in ctx.params if given(name))


@app.command()
def fit(
    ctx: typer.Context,
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset",
            "-d",
            help="Dataset SPEC: sklearn:NAME "
            "(breast_cancer, digits, wine, iris), synthetic:NAME?k=v (binary, multiclass; p0 known), "
            "file:PATH (.csv, .tsv, .gz, .parquet), openml:ID, openml-task:ID.",
        ),
    ] = "sklearn:breast_cancer",
    target: Annotated[
        str | None,
        typer.Option(
            help="Target column of a file: dataset "
            "(default: 'target' if present, else the last column).",
            show_default=False,
        ),
    ] = None,
    teacher: Annotated[
        str,
        typer.Option(
            help="Teacher: lightgbm, xgboost or rf (scikit-learn random forest, 500 trees)."
        ),
    ] = "lightgbm",
    teacher_param: TeacherParam = None,
    student: Student = "tree",
    sizes: Sizes = None,
    modes: Modes = "raw,vanilla,crossfit,corrected",
    folds: Folds = 5,
    select_folds: SelectFolds = None,
    test_size: TestSize = 0.25,
    seed: Seed = 0,
    repeats: Repeats = 1,
    scale: Scale = "prob",
    eps: Eps = 1e-3,
    select_metric: SelectMetric = "log_loss",
    c_grid: CGrid = None,
    preset: Preset = None,
    metric: Annotated[
        str,
        typer.Option(
            help="Metrics shown in the tables, comma-separated "
            "(error, log_loss, brier, auc; on synthetic data also p0_mse, p0_kl, excess_error) "
            "(default: error; on synthetic data error,p0_mse).",
            show_default=False,
        ),
    ] = "",
    threads: Annotated[int, typer.Option(help="Threads per model fit.")] = DEFAULT_THREADS,
    folds_outer: FoldsOuter = None,
    max_rows: MaxRows = None,
    cache_dir: CacheDir = None,
    offline: Offline = False,
    openml_server: OpenMLServer = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write results.csv, summary.csv and run.json here.", show_default=False),
    ] = None,
    json_: Json = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Distil a teacher into students on one dataset and compare the four target modes."""
    from kdcli.run import FitRequest, execute_fit

    request = FitRequest(
        dataset=dataset,
        target=target,
        teacher=teacher,
        teacher_param=teacher_param or [],
        student=student,
        sizes=sizes,
        modes=modes,
        folds=folds,
        test_size=test_size,
        seed=seed,
        repeats=repeats,
        scale=scale,
        eps=eps,
        select_metric=select_metric,
        c_grid=c_grid,
        metric=metric,
        threads=threads,
        folds_outer=folds_outer,
        max_rows=max_rows,
        openml=OpenMLConfig.from_env(cache_dir, openml_server, offline),
        select_folds=select_folds,
        preset=preset,
        explicit=explicit_options(ctx),
    )
    if out is not None:
        check_out_dir(out, "kd-fit")
    show_progress = not quiet and not json_ and sys.stderr.isatty()
    console = Console(stderr=True)
    t0 = time.perf_counter()
    plan = request.plan()  # every check of the input happens here, before any fit or write
    with Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not show_progress,
    ) as progress:
        task = progress.add_task("loading", total=plan.total_steps)
        result = execute_fit(
            plan, lambda label, done: progress.update(task, advance=done, description=label)
        )
    record = run_record(plan, result, time.perf_counter() - t0)
    if out is not None:
        from kdcli.output import write_results

        write_results(out, result.results, result.summary, record, result.latency)
    if json_:
        typer.echo(json.dumps(record, indent=2, default=str))
    elif not quiet:
        from kdcli.report import tables

        stdout = stdout_console()
        for table in tables(
            result.summary, plan.table_metrics, preset_labels(plan.settings.preset)
        ):
            stdout.print(table)
        if plan.settings.repeats == 1:
            stdout.print("[dim]one repeat: no standard errors (use --repeats 5 for ± se)[/dim]")
        if out is not None:
            stdout.print(f"results written to {out}")


@app.command()
def benchmark(
    ctx: typer.Context,
    suite: Annotated[
        str,
        typer.Option(
            help="Suite: openml-cc18, paper, demo (names under "
            "datasets/), dir:PATH or a manifest .csv."
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
    ] = "lightgbm",
    teacher_param: TeacherParam = None,
    student: Student = "tree",
    sizes: Sizes = None,
    modes: Modes = "raw,vanilla,crossfit,corrected",
    folds: Folds = 5,
    select_folds: SelectFolds = None,
    test_size: TestSize = 0.25,
    seed: Seed = 0,
    repeats: Repeats = 1,
    scale: Scale = "prob",
    eps: Eps = 1e-3,
    select_metric: SelectMetric = "log_loss",
    c_grid: CGrid = None,
    preset: Preset = None,
    folds_outer: FoldsOuter = None,
    max_rows: MaxRows = None,
    jobs: Annotated[
        int,
        typer.Option(help="Units run at once, each in its own worker process (or Dask worker)."),
    ] = 1,
    threads: Annotated[
        int | None,
        typer.Option(help="Threads per model fit (default: cores // jobs).", show_default=False),
    ] = None,
    executor: Annotated[str, typer.Option(help="local (worker processes) or dask.")] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler, tcp://HOST:PORT (default "
            "with --executor dask: a local cluster of --jobs "
            "workers).",
            show_default=False,
        ),
    ] = None,
    timeout_per_unit: Annotated[
        float | None,
        typer.Option(
            help="Seconds after which a unit is stopped and recorded as failed.", show_default=False
        ),
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Run only the units that failed before.")
    ] = False,
    cache_dir: CacheDir = None,
    offline: Offline = False,
    openml_server: OpenMLServer = None,
    json_: Json = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Run a study over a suite: every dataset x outer fold x teacher, all students and modes.

    Each finished unit is kept in --out; the same command resumes; exit code 1 if any unit
    failed (they are listed, and --retry-failed re-runs them).
    """
    from kdcli.benchmark import BenchmarkRequest, run_benchmark
    from kdcli.run import FitRequest

    cfg = OpenMLConfig.from_env(cache_dir, openml_server, offline)
    request = BenchmarkRequest(
        fit=FitRequest(
            dataset="",
            teacher=teacher,
            teacher_param=teacher_param or [],
            student=student,
            sizes=sizes,
            modes=modes,
            folds=folds,
            test_size=test_size,
            seed=seed,
            repeats=repeats,
            scale=scale,
            eps=eps,
            select_metric=select_metric,
            c_grid=c_grid,
            folds_outer=folds_outer,
            max_rows=max_rows,
            select_folds=select_folds,
            preset=preset,
            explicit=explicit_options(ctx),
        ),
        suite=suite,
        datasets=datasets,
        out=out,
        jobs=jobs,
        threads=threads,
        executor=executor,
        address=address,
        timeout_per_unit=timeout_per_unit,
        retry_failed=retry_failed,
    )
    from kdcli.cli_study import StudyDisplay

    display = StudyDisplay(quiet=quiet or json_, live=sys.stderr.isatty())
    with display:
        report = run_benchmark(
            request, cfg, shlex.join(["kd", *_invocation]), package_versions(), display
        )
    display.finish(report, request, json_)
    if report.interrupted:
        raise typer.Exit(130)
    if report.failures:
        raise typer.Exit(1)


@app.command()
def report(
    run: Annotated[
        Path, typer.Argument(help="The --out folder of kd benchmark or kd fit.", show_default=False)
    ],
    metric: Annotated[
        str | None,
        typer.Option(
            help="Metric of the tables: error, log_loss, brier, "
            "auc (on synthetic data also p0_mse, p0_kl, "
            "excess_error) (default: the run's preset's metric, else error).",
            show_default=False,
        ),
    ] = None,
    format_: Annotated[
        str,
        typer.Option(
            "--format", help="rich (terminal), md, csv, json or html (one self-contained file)."
        ),
    ] = "rich",
    out: Annotated[
        Path | None,
        typer.Option(help="Write the report to this file instead of stdout.", show_default=False),
    ] = None,
    plots: Annotated[
        Path | None,
        typer.Option(help="Folder for the PNG/SVG plots (default: RUN/plots).", show_default=False),
    ] = None,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Draw no plots.")] = False,
    debug: Debug = False,
) -> None:
    """Tables of held-out results per dataset, paired statistics across datasets, plots."""
    from kdcli.check import load_results
    from kdcli.metrics import LOWER_IS_BETTER
    from kdcli.report_build import (
        FORMATS,
        build_report,
        render_csv,
        render_html,
        render_json,
        render_markdown,
        render_rich,
    )

    if format_ not in FORMATS:
        raise KDError(f"unknown --format '{format_}'; use one of {', '.join(FORMATS)}")
    results = load_results(run)
    record_path = Path(run) / "run.json"
    record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.exists() else {}
    settings = record.get("settings", {})
    preset = settings.get("preset") or settings.get("fit", {}).get("preset")  # kd fit | benchmark
    labels = preset_labels(preset)
    metric = metric or preset_metric(preset)
    if metric not in LOWER_IS_BETTER:
        raise KDError(f"unknown --metric '{metric}'; use one of {', '.join(LOWER_IS_BETTER)}")
    if not (results.metric == metric).any():
        raise KDError(
            f"{run} has no '{metric}' results (it has {', '.join(sorted(set(results.metric)))})"
        )
    if out is not None:
        check_out_file(out)
    members = settings.get("members")
    expected = [m["name"] for m in members] if members else None
    latency = None
    if (Path(run) / "latency.csv").exists():
        latency = pd.read_csv(Path(run) / "latency.csv", dtype={"size": str})
    rep = build_report(results, metric, str(run), expected, latency, labels)
    if not no_plots:
        from kdcli.plots import metric_vs_size, rank_plot

        folder = plots or Path(run) / "plots"
        rep.plots = [
            p
            for p in metric_vs_size(results, metric, folder, labels)
            + rank_plot(results, metric, folder, labels)
            if p.suffix == ".png"
        ]
    if format_ == "rich" and out is None:
        render_rich(rep, stdout_console())
        return
    text = {
        "rich": render_markdown,
        "md": render_markdown,
        "csv": render_csv,
        "json": render_json,
        "html": render_html,
    }[format_](rep)
    if out is None:
        typer.echo(text, nl=False)
    else:
        from kdcli.output import atomic_write_text

        atomic_write_text(out, text)
        typer.echo(f"kd report: wrote {out}", err=True)


def check_out_file(path: Path) -> None:
    if path.exists() and path.is_dir():
        raise KDError(f"--out {path} is a folder; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise KDError(f"--out {path}: the folder {parent} does not exist")


@app.command()
def check(
    run: Annotated[
        Path,
        typer.Argument(
            help="Results: the --out folder of kd fit or kd benchmark, or a results CSV.",
            show_default=False,
        ),
    ],
    against: Annotated[
        Path,
        typer.Option(
            "--against",
            help="Reference CSV (long format, optional tolerance column).",
            show_default=False,
        ),
    ],
    tol: Annotated[
        float | None,
        typer.Option(
            help="Absolute tolerance for cells without one of their own.", show_default=False
        ),
    ] = None,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="Rewrite the reference from RUN (deliberate changes), keeping tolerances.",
        ),
    ] = False,
    metric: Annotated[
        str, typer.Option(help="With --update: the metrics to keep.")
    ] = "error,log_loss,auc",
    tol_all: Annotated[
        float | None,
        typer.Option(
            help="One absolute tolerance for every cell, replacing the reference's own (e.g. a "
            "one-repeat run against means over five repeats).",
            show_default=False,
        ),
    ] = None,
    partial: Annotated[
        bool,
        typer.Option(
            "--partial",
            help="RUN is a reduced re-run: check only the reference cells of the datasets, "
            "students and sizes it has.",
        ),
    ] = False,
    claim: Annotated[
        list[str] | None,
        typer.Option(
            "--claim",
            metavar="A,B>C@SIZES",
            show_default=False,
            help="An ordering of modes that must hold at every dataset and listed size "
            "(repeatable), e.g. 'crossfit,corrected>vanilla>raw@1,2,3'.",
        ),
    ] = None,
    claim_metric: Annotated[str, typer.Option(help="Metric the claims compare.")] = "auc",
    debug: Debug = False,
) -> None:
    """Compare a run's numbers with a reference table; exit 1 if any cell regresses or is missing,
    or a --claim fails.

    Exit codes: 0 all cells within tolerance and claims hold, 1 a regression, a missing cell or a
    failed claim, 2 bad input.
    """
    from kdcli.check import check as check_cells
    from kdcli.check import (
        check_claims,
        load_reference,
        load_results,
        parse_claim,
        partial_reference,
        update_reference,
    )

    if tol is not None and tol < 0:
        raise KDError(f"--tol must be >= 0, got {tol}")
    if tol_all is not None and (tol_all < 0 or update):
        raise KDError(
            "--tol-all must be >= 0 and cannot be combined with --update"
            if update
            else f"--tol-all must be >= 0, got {tol_all}"
        )
    claims = [parse_claim(text) for text in claim or []]
    if claims and update:
        raise KDError("--claim checks a run; it cannot be combined with --update")
    results = load_results(run)
    if update:
        metrics = [m.strip() for m in metric.split(",") if m.strip()]
        n = update_reference(
            results,
            against,
            metrics,
            tol if tol is not None else 0.01,
            f"written by `kd check {run} --against {against} --update`",
        )
        typer.echo(f"kd check: wrote {n} cells to {against}")
        return
    reference = load_reference(against)
    if tol_all is not None:
        reference = reference.assign(tolerance=tol_all)
    if partial:
        reference = partial_reference(reference, results)
        if reference.empty:
            raise KDError(
                f"{run} shares no dataset, student and size with {against}; nothing to check"
            )
    report = check_cells(results, reference, tol)
    n_claims, broken = check_claims(results, claims, claim_metric) if claims else (0, [])
    for cell in report.regressed:
        typer.echo(
            f"REGRESSED {cell['dataset']} {cell['teacher']} {cell['student']} "
            f"{cell['size']} {cell['mode']} {cell['metric']}: {cell['observed']:.6f} vs "
            f"reference {cell['reference']:.6f} (tolerance {cell['tolerance']:g})"
        )
    for cell in report.missing:
        typer.echo(
            f"MISSING   {cell['dataset']} {cell['teacher']} {cell['student']} "
            f"{cell['size']} {cell['mode']} {cell['metric']}"
        )
    for line in broken:
        typer.echo(f"CLAIM     {line}")
    typer.echo(report.verdict())
    if claims:
        state = "OK" if not broken else "FAIL"
        typer.echo(
            f"kd check: claims {state}: {n_claims} comparisons, {len(broken)} failed "
            f"({'; '.join(c.text for c in claims)})"
        )
    if not report.ok or broken:
        raise typer.Exit(1)


datasets_app = typer.Typer(
    help="List and fetch datasets: suites (openml-cc18, paper, demo, dir:PATH) and OpenML ids.",
    no_args_is_help=True,
)
app.add_typer(datasets_app, name="datasets")


@datasets_app.command("list")
def datasets_list(
    suite: Annotated[
        str,
        typer.Option(
            help="Suite: a name under datasets/ (openml-cc18, paper, "
            "demo), dir:PATH or a manifest .csv."
        ),
    ] = "demo",
    datasets: Annotated[
        str | None, typer.Option(help="Only these members, comma-separated.", show_default=False)
    ] = None,
    cache_dir: CacheDir = None,
    openml_server: OpenMLServer = None,
    json_: Annotated[
        bool, typer.Option("--json", help="Print JSON rows instead of a table.")
    ] = False,
    debug: Debug = False,
) -> None:
    """Show a suite's datasets: name, id, rows, features, classes, and whether each is cached.

    Needs no network: sizes come from the suite's manifest.
    """
    from kdcli.catalog import cache_state
    from kdcli.data import load_dataset
    from kdcli.suites import select, suite_members

    cfg = OpenMLConfig.from_env(cache_dir, openml_server, True)
    members = select(suite_members(suite), datasets)
    rows = [
        {
            "name": m.name,
            "spec": m.spec,
            "rows": m.rows,
            "features": m.features,
            "classes": m.classes,
            "cached": cache_state(m, cfg),
        }
        for m in members
    ]
    for row in rows:  # a folder's files are read for their sizes: quick and always local
        if row["spec"].startswith("file:") and row["rows"] is None and row["cached"] == "file":
            try:
                ds = load_dataset(row["spec"])
            except KDError:
                row["cached"] = "unreadable"
                continue
            row.update(rows=ds.n_rows, features=ds.X.shape[1], classes=ds.n_classes)
    if json_:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table(
        title=f"suite {suite}: {len(rows)} datasets",
        title_justify="left",
        caption=f"cache: {cfg.cache_dir}",
    )
    for col, justify in (
        ("name", "left"),
        ("id", "left"),
        ("rows", "right"),
        ("features", "right"),
        ("classes", "right"),
        ("cached", "left"),
    ):
        table.add_column(col, justify=justify)
    for r in rows:
        shown = {"yes": "[green]yes[/green]", "damaged": "[red]damaged[/red]"}
        table.add_row(
            r["name"],
            r["spec"],
            *(("–" if r[k] is None else f"{r[k]:,}") for k in ("rows", "features", "classes")),
            shown.get(r["cached"], r["cached"]),
        )
    stdout_console().print(table)


@datasets_app.command("fetch")
def datasets_fetch(
    specs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Dataset SPECs, e.g. openml:1590 openml-task:7592.", show_default=False
        ),
    ] = None,
    suite: Annotated[
        str | None, typer.Option(help="Fetch every member of this suite.", show_default=False)
    ] = None,
    datasets: Annotated[
        str | None, typer.Option(help="With --suite: only these members.", show_default=False)
    ] = None,
    cache_dir: CacheDir = None,
    offline: Offline = False,
    openml_server: OpenMLServer = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only failures.")] = False,
    debug: Debug = False,
) -> None:
    """Download datasets into the cache; what is cached already is not fetched again.

    Exit code 1 if any dataset could not be fetched (the others are kept).
    """
    from kdcli.catalog import fetch_all
    from kdcli.suites import Member, select, suite_members

    if not specs and not suite:
        raise KDError("name datasets to fetch (e.g. kd datasets fetch openml:1590) or a --suite")
    if specs and suite:
        raise KDError("give dataset SPECs or --suite, not both")
    members = (
        select(suite_members(suite), datasets)
        if suite
        else [Member(name=spec, spec=spec) for spec in specs]
    )
    cfg = OpenMLConfig.from_env(cache_dir, openml_server, offline)
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    show_progress = not quiet and sys.stderr.isatty()
    with Progress(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not show_progress,
    ) as progress:
        task = progress.add_task("fetching", total=len(members))

        def report(outcome) -> None:
            progress.update(task, advance=1, description=outcome.member.name)
            if outcome.status == "failed" or not quiet:
                detail = f": {outcome.detail}" if outcome.detail else ""
                progress.console.print(
                    f"{outcome.status:>8} {outcome.member.name}{detail}", markup=False
                )

        outcomes = fetch_all(members, cfg, report)
    failed = [o for o in outcomes if o.status == "failed"]
    if not quiet:
        counts = {s: sum(o.status == s for o in outcomes) for s in ("fetched", "cached", "local")}
        console.print(
            f"{counts['fetched']} fetched, {counts['cached']} already cached, "
            f"{counts['local']} local, {len(failed)} failed; cache: {cfg.cache_dir}",
            markup=False,
        )
    if failed:
        raise typer.Exit(1)


def stdout_console() -> Console:
    """Tables on a terminal fit its width; piped, they are not cut to 80 columns."""
    return Console() if sys.stdout.isatty() else Console(width=160)


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in (
        "kd",
        "numpy",
        "pandas",
        "scikit-learn",
        "scipy",
        "lightgbm",
        "xgboost",
        "typer",
        "rich",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def run_record(plan, result, seconds: float) -> dict:
    """Everything needed to reproduce and read a run, for --out and --json."""
    ds = plan.dataset
    return {
        "kind": "kd-fit",
        "kd_version": __version__,
        "command": shlex.join(["kd", *_invocation]),
        "started": result.started,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": plan.settings.to_dict(),
        "dataset": {
            "spec": plan.spec,
            "name": ds.name,
            "rows": ds.n_rows,
            "features": ds.X.shape[1],
            "classes": ds.n_classes,
            "class_names": ds.class_names,
            "p0_known": ds.p0 is not None,
            "meta": ds.meta,
        },
        "versions": package_versions(),
        "platform": platform.platform(),
        "timings": {
            "total_seconds": round(seconds, 3),
            "load_seconds": round(result.load_seconds, 3),
            "repeats": result.timings,
        },
        "summary": json.loads(result.summary.to_json(orient="records")),
    }


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user errors are one line and exit 2; --debug shows tracebacks."""
    args = list(sys.argv[1:] if argv is None else argv)
    _invocation[:] = args
    debug = "--debug" in args
    command = typer.main.get_command(app)
    try:
        code = command.main(args=args, prog_name="kd", standalone_mode=False)
    except KDError as err:
        if debug:
            raise
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"kd: error: {err}", markup=False
        )
        sys.exit(err.exit_code)
    except UsageError as err:
        if not err.format_message().strip():  # `kd` alone: the help was shown, nothing to add
            sys.exit(2)
        where = err.ctx.command_path if err.ctx is not None else "kd"
        hint = f" (see {where} --help)"
        print(f"kd: error: {err.format_message()}{hint}", file=sys.stderr)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        print("kd: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as err:  # a bug or a library failure: say so in one line
        if debug:
            raise
        print(
            f"kd: error: {type(err).__name__}: {err} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        sys.exit(1)
    if code == 130:
        print("kd: interrupted; nothing was written for unfinished work", file=sys.stderr)
    sys.exit(code if isinstance(code, int) else 0)
