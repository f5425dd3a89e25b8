"""`kd report`: tables, statistics and plots of a run's folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Annotated

import typer

from kdcli import api
from kdcli.atomic import (
    check_writable_place,
    resolved,
    special_kind,
    translated,
    write_destination,
)
from kdcli.cli.app import app, stdout_console
from kdcli.cli.options import Debug
from kdcli.errors import KDError
from kdcli.reporting.report import FORMATS, render_rich


@app.command()
def report(
    run: Annotated[
        Path, typer.Argument(help="The --out folder of kd benchmark or kd fit.", show_default=False)
    ],
    metric: Annotated[
        str | None,
        typer.Option(
            help="Metric of the tables: error, log_loss, brier, auc (on synthetic data also "
            "p0_mse, p0_kl, excess_error) (default: the run's preset's metric, else error).",
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
        typer.Option(
            help="Write the report to this file (replaced whole; a FIFO or device is written "
            "through) instead of stdout; - is stdout.",
            show_default=False,
        ),
    ] = None,
    plots: Annotated[
        Path | None,
        typer.Option(help="Folder for the PNG/SVG plots (default: RUN/plots).", show_default=False),
    ] = None,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Draw no plots.")] = False,
    baseline: Annotated[
        str | None,
        typer.Option(
            help="The mode every other is tested against: across datasets (Wilcoxon with Holm's "
            "correction) and within each dataset (Nadeau–Bengio t-test) (default: raw).",
            show_default=False,
        ),
    ] = None,
    rope: Annotated[
        float | None,
        typer.Option(
            help="Region of practical equivalence of the Bayesian comparison: two modes whose "
            "difference is within it count as practically equal (default 0.01 for every metric: "
            "one point of error or AUC, 0.01 nats of log loss).",
            show_default=False,
        ),
    ] = None,
    debug: Debug = False,
) -> None:
    """Tables of held-out results per dataset, tests across datasets (Friedman, Nemenyi CD,
    Wilcoxon with Holm vs a baseline) and within each (Nadeau–Bengio), plots."""
    if format_ not in FORMATS:
        raise KDError(f"unknown --format '{format_}'; use one of {', '.join(FORMATS)}")
    if out is not None and str(out) == "-":
        out = None  # stdout, as without --out
    if out is not None:
        check_out_file(out)
    rep = api.report(run, metric, plots, draw_plots=not no_plots, baseline=baseline, rope=rope)
    if format_ == "rich" and out is None:
        render_rich(rep, stdout_console())
        return
    text = api.render(rep, format_, links_from=None if out is None else out.parent)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_destination(out, lambda path: path.write_text(text, encoding="utf-8"), "--out")
        typer.echo(f"kd report: wrote {out}", err=True)


def check_out_file(path: Path) -> None:
    """Refuse an --out file that cannot be written before the report (and its plots) is made:
    a folder, a block device or socket (never replaced), a FIFO or device kd may not write."""
    with translated(path, "--out"):
        target, st = resolved(path)
        kind = special_kind(st)
        if kind == "a folder":
            raise KDError(f"--out {path} is a folder; give a file name")
        if st is not None and (stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode)):
            if not os.access(target, os.W_OK):  # written through, not replaced: no temp file
                raise KDError(f"--out {path} is {kind} kd may not write; choose another --out")
            return
        if kind is not None:
            raise KDError(
                f"--out {path} is {kind}, not a file, so kd will not replace it; "
                "choose another --out"
            )
        parent = target.parent if str(target.parent) else Path(".")
        if not parent.is_dir():
            raise KDError(f"--out {path}: the folder {parent} does not exist")
    check_writable_place(target, "--out", "file")
