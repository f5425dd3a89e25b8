"""`kd check`: a run's numbers against a reference table, and claims about modes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kdcli.cli.app import app
from kdcli.cli.options import Debug
from kdcli.errors import KDError


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
            help="Reference CSV (long format, optional tolerance column), or the name of one "
            "of kd's own (bundled, dao2021, ...), found from any folder.",
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
            metavar="A,B>C@SELECTORS",
            show_default=False,
            help="An ordering of modes that must hold on every dataset, teacher and student "
            "(repeatable), e.g. 'crossfit,corrected>vanilla>raw@1,2,3'. After @, ';'-separated "
            "selectors: student sizes (1,2,3), or PARAM=V1,V2 for the teacher variants of a "
            "--teacher-grid sweep, e.g. 'corrected>vanilla:logit@10;max_depth=1,2,3'.",
        ),
    ] = None,
    claim_metric: Annotated[str, typer.Option(help="Metric the claims compare.")] = "auc",
    ignore_settings: Annotated[
        bool,
        typer.Option(
            "--ignore-settings",
            help="Compare even if RUN was made with other settings than those the reference "
            "records (a notice names the first difference).",
        ),
    ] = False,
    debug: Debug = False,
) -> None:
    """Compare a run's numbers with a reference table; exit 1 if any cell regresses or is missing,
    or a --claim fails.

    A reference written by --update records the run's settings; a run made with other settings
    is refused (exit 2) unless --ignore-settings.

    Exit codes: 0 all cells within tolerance and claims hold, 1 a regression, a missing cell or a
    failed claim, 2 bad input.
    """
    from kdcli import api
    from kdcli.reporting.reference import require_regular_file
    from kdcli.reporting.run_settings import run_settings

    require_regular_file(against)  # a FIFO or device is neither read nor, with --update, replaced
    if update:
        if tol_all is not None or claim or partial or ignore_settings:
            raise KDError(
                "--update rewrites the reference; it takes no --tol-all, --claim, --partial or "
                "--ignore-settings"
            )
        metrics = [m.strip() for m in metric.split(",") if m.strip()]
        settings = run_settings(run)
        n = api.update_reference(
            run,
            against,
            metrics=metrics,
            tol=tol if tol is not None else 0.01,
            source=f"written by `kd check {run} --against {against} --update`",
            settings=settings,
        )
        recorded = "with its settings" if settings else "(it records no settings)"
        typer.echo(f"kd check: wrote {n} cells to {against} {recorded}")
        return
    report = api.check(
        run,
        against,
        tol=tol,
        tol_all=tol_all,
        partial=partial,
        claims=claim or (),
        claim_metric=claim_metric,
        ignore_settings=ignore_settings,
    )
    for line in report.notices:
        typer.echo(f"NOTE      {line}")
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
    for line in report.broken:
        typer.echo(f"CLAIM     {line}")
    typer.echo(report.verdict())
    if report.claims:
        state = "OK" if not report.broken else "FAIL"
        typer.echo(
            f"kd check: claims {state}: {report.comparisons} comparisons, {len(report.broken)} "
            f"failed ({'; '.join(c.text for c in report.claims)})"
        )
    if not report.ok:
        raise typer.Exit(1)
