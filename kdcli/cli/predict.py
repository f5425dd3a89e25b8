"""`kd predict MODEL_DIR DATA`: class probabilities of a distilled model, through the same
ONNX graph a user runs elsewhere, in batches."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from kdcli.atomic import check_writable_place, write_destination
from kdcli.cli.app import app, stderr_console
from kdcli.cli.options import Debug, Quiet
from kdcli.data.files import local_path, read_batches
from kdcli.errors import KDError
from kdcli.text import shown

OUT_SUFFIXES = (".csv", ".parquet")


@app.command()
def predict(
    model_dir: Annotated[Path, typer.Argument(help="MODEL_DIR written by kd distill.")],
    data: Annotated[
        str, typer.Argument(help="Rows to predict: .csv, .tsv, .csv.gz, .tsv.gz or .parquet.")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the predictions here (.csv or .parquet): one probability column per "
            "class and the predicted label (default: CSV on stdout).",
            show_default=False,
        ),
    ] = None,
    ignore_extra: Annotated[
        bool,
        typer.Option(
            "--ignore-extra", help="Leave out columns the model does not read instead of refusing."
        ),
    ] = False,
    batch_rows: Annotated[int, typer.Option(help="Rows read and predicted at a time.")] = 100_000,
    json_: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary on stdout (needs --out).")
    ] = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Predict class probabilities with a distilled model."""
    from kdcli import api

    if batch_rows < 1:
        raise KDError("--batch-rows must be at least 1")
    if out is not None and out.suffix.lower() not in OUT_SUFFIXES:
        raise KDError(f"--out {shown(out)}: name it .csv or .parquet")
    if json_ and out is None:
        raise KDError("--json prints a summary, so the predictions need --out FILE")
    model = api.load_model(model_dir)
    path = local_path(data, "DATA")
    if not path.is_file():
        raise KDError(f"DATA '{shown(path)}' is not a file; give the rows to predict")
    if out is not None:
        check_writable_place(out, "--out", "file")
    parts, total = [], 0
    unseen: dict[str, int] = {}
    show = not quiet and not json_ and sys.stderr.isatty()
    with Progress(
        TextColumn("predicting"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=True,
        disable=not show,
    ) as progress:
        task = progress.add_task("predict", total=None)
        for frame in read_batches(path, batch_rows):
            where = f"DATA '{shown(path)}' (rows {total + 1:,}-{total + len(frame):,})"
            coded = model.coded(frame, ignore_extra, where if total else f"DATA '{shown(path)}'")
            for name, count in coded.unseen.items():
                unseen[name] = unseen.get(name, 0) + count
            parts.append(prediction_frame(model, model.proba_of_codes(coded.codes)))
            total += len(frame)
            progress.update(task, advance=len(frame))
    if total == 0:
        raise KDError(f"DATA '{shown(path)}' has no rows; give a file with at least one row")
    for name, count in unseen.items():
        stderr_console().print(
            f"kd: notice: column {shown(name)}: {count:,} row(s) with a level the model never "
            "saw, treated as missing",
            markup=False,
        )
    result = pd.concat(parts, ignore_index=True)
    if out is None:
        result.to_csv(sys.stdout, index=False)
        return
    write_predictions(result, out)
    summary = {
        "rows": total,
        "out": str(out),
        "classes": model.classes_,
        "predicted": {k: int(v) for k, v in result["label"].value_counts().items()},
        "unseen_levels": unseen,
    }
    if json_:
        typer.echo(json.dumps(summary, indent=2))
    elif not quiet:
        stderr_console().print(f"kd: {total:,} predictions written to {out}", markup=False)


def prediction_frame(model, P: np.ndarray) -> pd.DataFrame:
    """One column per class, named by the class, then the predicted label."""
    names = [f"p_{c}" for c in model.classes_]
    frame = pd.DataFrame(P, columns=names)
    frame["label"] = np.asarray(model.classes_, dtype=object)[P.argmax(axis=1)]
    return frame


def write_predictions(frame: pd.DataFrame, out: Path) -> None:
    if out.suffix.lower() == ".parquet":
        write_destination(out, lambda tmp: frame.to_parquet(tmp, index=False), "--out")
    else:
        write_destination(out, lambda tmp: frame.to_csv(tmp, index=False), "--out")
