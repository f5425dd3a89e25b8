"""Issue 23: `kd distill` with defaults on six shared datasets; results/bench/distill.json.

    python benchmarks/bench_distill.py [NAME ...]   (default: the six below)

For each dataset: a stratified 70/30 split (seed 0); `kd distill` with defaults (tree of 64
leaves, --mode auto, --select-c nested, 5 outer folds) on the 70 %, timed; its outer estimate
beside the error of the model on the 30 % it never saw; the chosen target; the student's size
(native and ONNX bytes) against the teacher's; and latency through onnxruntime on one thread,
the student's model.onnx against the teacher's own graph (the full-data teacher refitted as kd
fits it, converted by onnxmltools). Wall clock and latency vary with the machine and its load.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace

import numpy as np
from bench_common import write_bench
from paths import SHARED_DATASETS as SHARED
from sklearn.model_selection import train_test_split

import kdcli
from kdcli.distilled.model import latency
from kdcli.distilled.procedure import codes_of
from kdcli.science.encoding import model_names
from kdcli.science.teachers import make_teacher

DATASETS = ("breast-w", "credit-a", "magic", "adult", "letter", "connect-4")


def teacher_onnx_latency(ds, train, card: dict, threads: int) -> dict:
    """The full-data teacher (kd's defaults and seed) as ONNX, timed like the student."""
    from onnxmltools.convert import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    X = model_names(ds.X.iloc[train])
    teacher = make_teacher("lightgbm", card["teacher"]["params"], threads, card["seed"])
    teacher.fit(X, ds.y[train])
    codes = codes_of(ds.X.iloc[train])
    graph = convert_lightgbm(
        teacher.estimator_, initial_types=[("features", FloatTensorType([None, codes.shape[1]]))],
        zipmap=False, target_opset=15,
    )  # fmt: skip
    return latency(graph.SerializeToString(), codes)


def one(name: str, threads: int) -> dict:
    ds = kdcli.load_dataset(f"file:{SHARED / f'{name}.tsv.gz'}")
    rows = np.arange(ds.n_rows)
    train, test = train_test_split(rows, test_size=0.3, stratify=ds.y, random_state=0)
    part = replace(ds, X=ds.X.iloc[train].reset_index(drop=True), y=ds.y[train])
    t0 = time.perf_counter()
    model = kdcli.distill(part, threads=threads)
    seconds = time.perf_counter() - t0
    card = model.card
    held_out = float(np.mean(model.predict_proba(ds.X.iloc[test]).argmax(axis=1) != ds.y[test]))
    est = card["estimate"]["metrics"]["error"]
    student, teacher = card["student"], card["teacher"]
    try:
        teacher_latency = teacher_onnx_latency(ds, train, card, threads)
    except Exception as err:  # a converter's gap is a finding, not a crash of the benchmark
        teacher_latency = {"error": f"{type(err).__name__}: {err}"[:200]}
    out = {
        "rows": ds.n_rows,
        "features": ds.X.shape[1],
        "classes": ds.n_classes,
        "seconds": round(seconds, 1),
        "mode": student["mode"],
        "value": student["value"],
        "candidates": {c["mode"]: round(c["cv"], 4) for c in card["selection"]["candidates"]},
        "estimate_error": round(est["mean"], 4),
        "estimate_se": round(est["se"], 4),
        "held_out_error": round(held_out, 4),
        "within_2se": abs(est["mean"] - held_out) <= 2 * est["se"],
        "student_bytes": student["model_bytes"],
        "student_onnx_bytes": student["onnx_bytes"],
        "teacher_bytes": teacher["model_bytes"],
        "smaller": round(teacher["model_bytes"] / student["model_bytes"], 1),
        "student_latency": card["latency"],
        "teacher_latency": teacher_latency,
    }
    if "batch_ms_per_10k" in teacher_latency:
        out["faster_batch"] = round(
            teacher_latency["batch_ms_per_10k"] / card["latency"]["batch_ms_per_10k"], 1
        )
        out["faster_single_row_p50"] = round(
            teacher_latency["single_row_p50_ms"] / card["latency"]["single_row_p50_ms"], 1
        )
    print(name, {k: v for k, v in out.items() if "latency" not in k}, flush=True)
    return out


def main(names: list[str]) -> None:
    threads = len(os.sched_getaffinity(0))
    results = {"threads": threads, "datasets": {}}
    for name in names or DATASETS:
        results["datasets"][name] = one(name, threads)
        write_bench("distill.json", results)  # each dataset as it finishes


if __name__ == "__main__":
    main(sys.argv[1:])
