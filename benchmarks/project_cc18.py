"""Core-hours for `kd benchmark --suite openml-cc18` with defaults, projected from a measured study.

The study (bench_suite.py: the 28 shared datasets, all of them CC18 members) gives each dataset's
unit time (the mean over its repeats). A log-linear model of unit time in rows, features and
classes (kdcli.study.cost.LogLinear), fitted on those 28, predicts the other 44 tasks; the 28 use
their own measured times. A CC18 task runs its 10 official folds, each training on 90% of the
rows (the study's splits train on 75%, so rows are scaled by 0.9/0.75). The spread is the model's
residual scatter, as a factor. It also prints the teacher- and student-stage models that
kdcli.study.cost.UNIT_MODEL holds (kd's estimate of each unit, to start the longest first).

    python benchmarks/project_cc18.py [STUDY]    (default results/runs/shared28)

Writes results/bench/cc18_projection.json. A projection, not a measurement: the largest CC18
tasks (CIFAR_10, Devnagari-Script, mnist_784, Fashion-MNIST) lie far outside the measured range.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from bench_common import write_bench
from paths import ROOT

from kdcli.study.cost import LogLinear, Shape
from kdcli.study.run_folder import RunFolder

MANIFEST = ROOT.parent / "shared" / "datasets" / "MANIFEST.csv"
CC18 = ROOT / "kdcli" / "suites" / "openml-cc18.csv"
TRAIN_SCALE = 0.9 / 0.75  # CC18 folds train on 90% of rows, the study's splits on 75%
FOLDS = 10
STAGES = ("teacher", "students")


def stage_seconds(study: Path) -> pd.DataFrame:
    """Each dataset's mean teacher- and student-stage seconds over its units (repeats)."""
    rows = []
    for path in sorted((study / "units").glob("*.timings.json")):
        t = json.loads(path.read_text())
        rows.append({"name": path.name.split("__r")[0], **{k: t[k] for k in STAGES}})
    return pd.DataFrame(rows).groupby("name")[list(STAGES)].mean()


def unit_seconds(study: Path) -> pd.Series:
    """Wall seconds of each dataset's unit (teacher and student stages)."""
    stages = stage_seconds(study)
    return (stages.teacher + stages.students).rename("seconds")


def shapes(frame: pd.DataFrame) -> list[Shape]:
    return [Shape(*map(int, r)) for r in frame[["rows", "features", "classes"]].to_numpy()]


def design(frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack(
        [
            np.ones(len(frame)),
            np.log(frame.rows),
            np.log(frame.features),
            np.log(frame.classes),
        ]
    )


def main(argv: list[str]) -> None:
    study = Path(argv[0]) if argv else ROOT / "results" / "runs" / "shared28"
    threads = RunFolder(study).record()["threads_per_fit"]
    manifest = pd.read_csv(MANIFEST).set_index("name")
    stages = manifest.join(stage_seconds(study), how="inner")
    measured = manifest.join(unit_seconds(study), how="inner")
    model, _ = LogLinear.fit(shapes(measured), measured.seconds)
    coef = model.coefficients
    residual = np.log(measured.seconds) - design(measured) @ coef
    spread = math.exp(float(np.std(residual, ddof=4)))
    stage_models = {k: LogLinear.fit(shapes(stages), stages[k]) for k in STAGES}

    tasks = pd.read_csv(CC18, comment="#")
    tasks["task_id"] = tasks.task_id.astype(int)
    by_task = measured.reset_index().set_index("openml_cc18_task")
    scaled = tasks.assign(rows=tasks.rows * TRAIN_SCALE)
    tasks["unit_seconds"] = np.exp(design(scaled) @ coef)
    tasks["measured"] = tasks.task_id.isin(by_task.index)
    own = tasks.task_id.map(by_task.seconds) * TRAIN_SCALE ** coef[1]
    tasks.loc[tasks.measured, "unit_seconds"] = own[tasks.measured]
    tasks["core_hours"] = tasks.unit_seconds * FOLDS * threads / 3600
    total = float(tasks.core_hours.sum())
    # fitted on small datasets, time grows more slowly than rows; the big ones may not: the
    # same model with time proportional to rows gives a cautious upper figure
    X = design(measured)[:, [0, 2, 3]]
    fixed, *_ = np.linalg.lstsq(X, np.log(measured.seconds / measured.rows), rcond=None)
    linear = np.exp(design(scaled)[:, [0, 2, 3]] @ fixed) * scaled.rows
    linear = np.where(tasks.measured, tasks.unit_seconds, linear)
    cautious = float(np.sum(linear) * FOLDS * threads / 3600)
    top = tasks.sort_values("core_hours", ascending=False).head(8)
    print(
        f"model: log s = {coef[0]:.2f} + {coef[1]:.2f} log rows + {coef[2]:.2f} log features "
        f"+ {coef[3]:.2f} log classes; residual scatter x/÷ {spread:.2f} (28 datasets)"
    )
    print(
        f"openml-cc18, {len(tasks)} tasks x {FOLDS} folds: about {total:.0f} core-hours "
        f"({cautious:.0f} if time grows in proportion to rows)"
    )
    for stage, (fitted, scatter) in stage_models.items():
        print(
            f"{stage} stage (kdcli.study.cost.UNIT_MODEL): LogLinear("
            f"{', '.join(f'{c:.3f}' for c in fitted.coefficients)}), scatter x/÷ {scatter:.2f}"
        )
    for r in top.itertuples():
        print(
            f"  {r.name:<32} {r.rows:>7} x {r.features:<5} {r.classes:>3} classes {r.core_hours:7.1f} h"
        )
    out = {
        "study": str(study),
        "threads_per_unit": threads,
        "coefficients": dict(
            zip(["const", "log_rows", "log_features", "log_classes"], map(float, coef), strict=True)
        ),
        "residual_factor": round(spread, 2),
        "stage_models": {
            stage: {"coefficients": list(map(float, m.coefficients)), "scatter": round(f, 2)}
            for stage, (m, f) in stage_models.items()
        },
        "core_hours": round(total, 1),
        "core_hours_if_linear_in_rows": round(cautious, 1),
        "core_hours_measured_tasks": round(float(tasks[tasks.measured].core_hours.sum()), 1),
        "largest": top[["name", "rows", "features", "classes", "core_hours"]]
        .round(1)
        .to_dict("records"),
    }
    write_bench("cc18_projection.json", out)


if __name__ == "__main__":
    main(sys.argv[1:])
