"""`kd export`: a run's results as a file for other tools (kd's long table, TabArena's columns).

Like `kd report` it only reads the run; the table goes to stdout (CSV) or to --out, written
whole or not at all, as CSV, or as parquet when the name ends in .parquet.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kdcli.atomic import write_destination
from kdcli.cli.app import app
from kdcli.cli.options import Debug
from kdcli.cli.report import check_out_file
from kdcli.errors import KDError

if TYPE_CHECKING:
    import pandas as pd


@app.command()
def export(
    run: Annotated[
        Path,
        typer.Argument(
            help="The --out folder of kd benchmark or kd fit (or a results file).",
            show_default=False,
        ),
    ],
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            help="long: kd's own long table, one row per model, split and metric, with the "
            "split's n_train/n_test and the model's ms_per_10k; tabarena: one row per method, "
            "dataset and fold in the columns TabArena's evaluation reads (method, dataset, "
            "fold, metric_error, problem_type, time_train_s, time_infer_s, ...).",
        ),
    ] = "long",
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the table to this file (replaced whole; parquet if it ends in .parquet, "
            "else CSV) instead of stdout; - is stdout.",
            show_default=False,
        ),
    ] = None,
    metric: Annotated[
        str | None,
        typer.Option(
            help="long: only this metric's rows (default: every metric); tabarena: the metric "
            "made metric_error: error, log_loss, brier, auc (1 − AUC) (on synthetic data also "
            "p0_mse, p0_kl, excess_error) (default: error).",
            show_default=False,
        ),
    ] = None,
    debug: Debug = False,
) -> None:
    """Export a run's results as a table: kd's long format, or TabArena's columns to compare
    kd's students with other methods."""
    from kdcli.reporting.export import FORMATS, export_table

    if format_ not in FORMATS:
        raise KDError(f"unknown --format '{format_}'; use one of {', '.join(FORMATS)}")
    if out is not None and str(out) == "-":
        out = None
    if out is not None:
        check_out_file(out)
    notes: list[str] = []
    table = export_table(run, format_, metric, notes.append)
    for note in notes:
        typer.echo(f"kd export: {note}", err=True)
    if out is None:
        typer.echo(table.to_csv(index=False), nl=False)
        return
    parquet = out.suffix.lower() == ".parquet"  # the destination's name: kd writes a .tmp first
    write_destination(out, lambda path: _write(table, path, parquet), "--out")
    typer.echo(f"kd export: wrote {len(table)} rows to {out}", err=True)


def _write(table: pd.DataFrame, path: Path, parquet: bool) -> None:
    if parquet:
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False)
