"""Command-line options shared by `kd fit` and `kd benchmark` (one definition, one help text)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

TeacherParam = Annotated[
    list[str] | None,
    typer.Option(
        "--teacher-param",
        metavar="KEY=VALUE",
        show_default=False,
        help="Override a teacher hyperparameter (repeatable), e.g. num_leaves=31; "
        "TEACHER.KEY=VALUE for one teacher only.",
    ),
]
Student = Annotated[
    str, typer.Option(help="Student families, comma-separated: tree, rf, gbdt, linear.")
]
Sizes = Annotated[
    str | None,
    typer.Option(
        show_default=False,
        help="Student sizes, comma-separated positive integers ('full' = unlimited "
        "leaves, tree only) (default: tree 8,64,512,full; rf 1,10,100; gbdt 1,10,100; "
        "linear 1); per family: tree=8,full;gbdt=10,100.",
    ),
]
Modes = Annotated[
    str,
    typer.Option(
        help="Target modes, comma-separated; MODE:SCALE gives one mode its own scale, "
        "e.g. vanilla:logit."
    ),
]
Folds = Annotated[
    int,
    typer.Option(
        help="Cross-fitting folds K (also the folds that choose c, unless --select-folds)."
    ),
]
SelectFolds = Annotated[
    int | None,
    typer.Option(
        show_default=False,
        help="Cross-validation folds that choose c of the correction (default: --folds).",
    ),
]
Preset = Annotated[
    str | None,
    typer.Option(
        show_default=False,
        help="A published protocol: dao2021 (the paper's random-forest experiments). It sets "
        "every option you do not give; the run record lists what it set.",
    ),
]
TestSize = Annotated[
    float,
    typer.Option(help="Fraction of rows held out for scoring (datasets without official folds)."),
]
Seed = Annotated[int, typer.Option(help="Seed; repeat r uses seed + r.")]
Repeats = Annotated[
    int, typer.Option(help="Repeats with different splits (a task: its first R official repeats).")
]
Scale = Annotated[
    str,
    typer.Option(
        help="prob: students regress probabilities; logit: logits (binary) or "
        "log-probabilities (softmax on prediction)."
    ),
]
Eps = Annotated[
    float,
    typer.Option(
        help="Probability floor: student probabilities are clipped "
        "to (eps, 1); logit scale clips teacher probabilities below "
        "at eps."
    ),
]
SelectMetric = Annotated[
    str, typer.Option(help="Metric that chooses c of the correction (error, log_loss, brier, auc).")
]
CGrid = Annotated[
    str | None,
    typer.Option(
        show_default=False,
        help="Candidate values of c, comma-separated (default: 1e-5,1e-4,...,1e3).",
    ),
]
FoldsOuter = Annotated[
    str | None,
    typer.Option(
        show_default=False,
        help="openml-task: datasets: which official folds to run, e.g. 0-2, 0,3 (default: all).",
    ),
]
MaxRows = Annotated[
    int | None,
    typer.Option(
        show_default=False,
        help="Stratified subsample of this many rows, for quick runs (recorded in the results).",
    ),
]
CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        envvar="KD_CACHE_DIR",
        show_default=False,
        help="Data and teacher-prediction cache (default: datasets/cache in a checkout, "
        "else ~/.cache/kd).",
    ),
]
Offline = Annotated[
    bool,
    typer.Option(
        "--offline",
        envvar="KD_OFFLINE",
        help="Never touch the network: use only what is in the cache.",
    ),
]
OpenMLServer = Annotated[
    str | None,
    typer.Option(
        "--openml-server",
        envvar="KD_OPENML_SERVER",
        show_default=False,
        help="OpenML API URL (default: https://www.openml.org/api/v1/xml).",
    ),
]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no tables.")]
Json = Annotated[
    bool, typer.Option("--json", help="Print the run record as JSON on stdout instead of tables.")
]
