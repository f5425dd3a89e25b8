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

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kdcli import __version__

try:  # typer >= 0.20 carries its own copy of click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer uses click itself
    from click.exceptions import UsageError
from kdcli.errors import KDError

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


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


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


@app.command()
def fit(
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset",
            "-d",
            help="Dataset SPEC: sklearn:NAME "
            "(breast_cancer, digits, wine, iris), synthetic:NAME?k=v (binary, multiclass; p0 known), "
            "file:PATH (.csv, .tsv, .gz, .parquet).",
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
    teacher_param: Annotated[
        list[str] | None,
        typer.Option(
            "--teacher-param",
            metavar="KEY=VALUE",
            help="Override a teacher hyperparameter (repeatable), e.g. num_leaves=31.",
            show_default=False,
        ),
    ] = None,
    student: Annotated[
        str, typer.Option(help="Student families, comma-separated: tree, rf, gbdt, linear.")
    ] = "tree",
    sizes: Annotated[
        str | None,
        typer.Option(
            help="Student sizes, comma-separated positive "
            "integers ('full' = unlimited leaves, tree only) (default: tree 8,64,512,full; rf 1,10,100; "
            "gbdt 1,10,100; linear 1).",
            show_default=False,
        ),
    ] = None,
    modes: Annotated[
        str, typer.Option(help="Target modes, comma-separated.")
    ] = "raw,vanilla,crossfit,corrected",
    folds: Annotated[
        int,
        typer.Option(
            help="Cross-fitting folds K (also the folds that choose c of the correction)."
        ),
    ] = 5,
    test_size: Annotated[float, typer.Option(help="Fraction of rows held out for scoring.")] = 0.25,
    seed: Annotated[int, typer.Option(help="Seed; repeat r uses seed + r.")] = 0,
    repeats: Annotated[
        int, typer.Option(help="Repeats with different splits (for ± standard errors).")
    ] = 1,
    scale: Annotated[
        str,
        typer.Option(
            help="prob: students regress probabilities; logit: "
            "log-probabilities (softmax on prediction)."
        ),
    ] = "prob",
    eps: Annotated[
        float,
        typer.Option(
            help="Probability floor: student probabilities are "
            "clipped to (eps, 1); logit scale clips teacher probabilities below at eps."
        ),
    ] = 1e-3,
    select_metric: Annotated[
        str,
        typer.Option(help="Metric that chooses c of the correction (error, log_loss, brier, auc)."),
    ] = "log_loss",
    c_grid: Annotated[
        str | None,
        typer.Option(
            help="Candidate values of c, comma-separated (default: 1e-5,1e-4,...,1e3).",
            show_default=False,
        ),
    ] = None,
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
    out: Annotated[
        Path | None,
        typer.Option(help="Write results.csv, summary.csv and run.json here.", show_default=False),
    ] = None,
    json_: Annotated[
        bool,
        typer.Option("--json", help="Print the run record as JSON on stdout instead of tables."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress and no tables.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
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
    )
    if out is not None and out.exists() and not out.is_dir():
        raise KDError(f"--out {out} is a file; give a folder (it is created if missing)")
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

        write_results(out, result.results, result.summary, record)
    if json_:
        typer.echo(json.dumps(record, indent=2, default=str))
    elif not quiet:
        from kdcli.report import tables

        stdout = Console()
        for table in tables(result.summary, plan.table_metrics):
            stdout.print(table)
        if plan.settings.repeats == 1:
            stdout.print("[dim]one repeat: no standard errors (use --repeats 5 for ± se)[/dim]")
        if out is not None:
            stdout.print(f"results written to {out}")


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
        hint = (
            f" (see kd {err.ctx.info_name} --help)"
            if err.ctx and err.ctx.parent
            else " (see kd --help)"
        )
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
    sys.exit(code if isinstance(code, int) else 0)
