"""`kd report`: tables, statistics and plots of a run's folder.

Reading a run writes nothing into it: the plots go where --plots DIR or --save-plots (RUN/plots)
says, and an HTML report, which embeds them, draws them in a temporary folder otherwise. So a
report of someone else's study, a read-only copy or a live run leaves the folder as it was.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

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

if TYPE_CHECKING:
    from kdcli.reporting.model import Report


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
            "--format",
            help="rich (terminal), md, csv, json, html (one self-contained file) or latex (a "
            "whole document pdflatex compiles: booktabs tables, best in bold, to copy into a "
            "paper).",
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
        typer.Option(
            help="Write the PNG/SVG plots into this folder (default: none are written; an HTML "
            "report embeds its PNGs all the same).",
            show_default=False,
        ),
    ] = None,
    save_plots: Annotated[
        bool,
        typer.Option("--save-plots", help="Write the PNG/SVG plots beside the run, in RUN/plots."),
    ] = False,
    no_plots: Annotated[
        bool, typer.Option("--no-plots", help="Draw no plots, not even for an HTML report.")
    ] = False,
    plot_style: Annotated[
        str,
        typer.Option(
            help="paper: each figure at its printed size in a journal (one column 3.5 in, two "
            "columns 7 in), every text at least 8 pt, PNG at 300 dpi; screen: larger figures "
            "and fonts for a monitor, PNG at 150 dpi.",
        ),
    ] = "paper",
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
    summary: Annotated[
        bool,
        typer.Option(
            "--summary",
            help="Only the one summary table: datasets x modes at one student size, the best "
            "starred, then mean rank, wins/ties/losses, Friedman p and Holm-adjusted Wilcoxon p "
            "against the baseline (and, with --rope, the Bayesian probabilities).",
        ),
    ] = False,
    student: Annotated[
        str | None,
        typer.Option(
            help="With --summary: the student family (default: the first).", show_default=False
        ),
    ] = None,
    size: Annotated[
        str | None,
        typer.Option(
            help="With --summary: the student size (default: the middle size, not full).",
            show_default=False,
        ),
    ] = None,
    debug: Debug = False,
) -> None:
    """Tables of held-out results per dataset, tests across datasets (Friedman, Nemenyi CD,
    Wilcoxon with Holm vs a baseline) and within each (Nadeau–Bengio), plots where asked."""
    from kdcli import api
    from kdcli.reporting.plot_style import plot_style as check_plot_style
    from kdcli.reporting.render import FORMATS

    if format_ not in FORMATS:
        raise KDError(f"unknown --format '{format_}'; use one of {', '.join(FORMATS)}")
    check_plot_style(plot_style)
    if not summary and (student is not None or size is not None):
        raise KDError("--student and --size choose the table of --summary; add --summary")
    if out is not None and str(out) == "-":
        out = None  # stdout, as without --out
    if out is not None:
        check_out_file(out)
    folder = None if summary else plots_folder(run, plots, save_plots, no_plots)
    with ExitStack() as stack:
        embedded = folder is None and format_ == "html" and not (no_plots or summary)
        if embedded:
            folder = stack.enter_context(_temporary_plots())  # read before it is removed
        rep = api.report(
            run,
            metric,
            plots=folder,
            draw_plots=folder is not None,
            baseline=baseline,
            rope=rope,
            summary=summary,
            student=student,
            size=size,
            plot_style=plot_style,
            png_only=embedded,  # the page embeds PNGs; no SVG or PDF to throw away
        )
        _emit(rep, format_, out)


def plots_folder(run: Path, plots: Path | None, save: bool, no_plots: bool) -> Path | None:
    """Where the plots are written: --plots DIR, or RUN/plots with --save-plots; None (nowhere)
    by default, so a report leaves the run folder as it found it. --no-plots wins over both."""
    if no_plots:
        return None
    if plots is not None and save:
        raise KDError("--plots DIR and --save-plots both say where the plots go; give one")
    return run / "plots" if save else plots


@contextmanager
def _temporary_plots() -> Iterator[Path]:
    """A folder for the plots an HTML report embeds, removed once the report is written."""
    try:
        scratch = tempfile.TemporaryDirectory(prefix="kd-report-plots-")
    except OSError as e:
        raise KDError(
            f"no temporary folder for the plots of the HTML report ({e.strerror}); set TMPDIR, "
            "or give --plots DIR or --no-plots"
        ) from e
    with scratch as name:
        yield Path(name)


def _emit(rep: Report, format_: str, out: Path | None) -> None:
    """The report to the terminal (rich tables), to stdout as text, or to the --out file."""
    from kdcli import api
    from kdcli.reporting.render import render_rich

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
