"""`kd distill` from a dataset to a :class:`DistilledModel`: the outer estimate, the student on
every row, its ONNX graph, native files, latency and card."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import numpy as np

from kdcli.data.dataset import Dataset
from kdcli.distilled.card import FORMAT, KIND
from kdcli.distilled.columns import schema_of
from kdcli.distilled.estimate import Estimate, outer_estimate
from kdcli.distilled.model import DistilledModel, latency
from kdcli.distilled.procedure import Distilled, DistillRequest, codes_of, distill_rows
from kdcli.science.model_size import model_size
from kdcli.settings.fit import FitSettings
from kdcli.study.teacher_cache import data_fingerprint

Say = Callable[[str], None]


def distill_dataset(
    ds: Dataset,
    fit: FitSettings,
    request: DistillRequest,
    command: str = "",
    kd_version: str = "",
    say: Say = lambda _text: None,
) -> DistilledModel:
    """The outer estimate first (``say`` hears of each stage), then the student on every row,
    exported and described; nothing is written."""
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    r = request
    estimate = None
    if r.estimate_folds:
        say(f"estimating held-out error: {r.estimate_folds} outer folds, each a whole distillation")
        estimate = outer_estimate(ds.X, ds.y, ds.n_classes, fit, r, fit.seed)
    say("fitting the teachers and the student on every row")
    fitted = distill_rows(ds.X, ds.y, ds.n_classes, fit, r, fit.seed)
    from kdcli.distilled.onnx_export import student_onnx  # onnx loads only to export

    onnx_bytes = student_onnx(
        fitted.student, r.family, fitted.n_features, ds.n_classes, fitted.scale, fitted.eps
    ).SerializeToString()
    codes = codes_of(ds.X)
    card = make_card(ds, fit, request, fitted, estimate, onnx_bytes, codes, command, kd_version)
    card["created"] = started
    return DistilledModel(onnx_bytes, card, native_files(fitted), fitted.student)


def native_files(fitted: Distilled) -> dict[str, str]:
    """The student's files in its library's own format, where one exists: LightGBM's model text,
    one file per target column (binary data: one)."""
    if fitted.family != "gbdt":
        return {}
    boosters = [e.booster_ for e in getattr(fitted.student, "estimators_", [])]
    return {f"lightgbm-{k}.txt": b.model_to_string() for k, b in enumerate(boosters)}


def make_card(
    ds: Dataset,
    fit: FitSettings,
    request: DistillRequest,
    fitted: Distilled,
    estimate: Estimate | None,
    onnx_bytes: bytes,
    codes: np.ndarray,
    command: str,
    kd_version: str,
) -> dict:
    teacher = fit.teacher
    size = model_size(fitted.student)
    return {
        "kind": KIND,
        "format": FORMAT,
        "kd_version": kd_version,
        "command": command,
        "seed": fit.seed,
        "data": {
            "name": ds.name,
            "spec": ds.meta.get("spec"),
            "target": ds.meta.get("target") or "target",  # a labelled file may hold it
            "fingerprint": data_fingerprint(ds.X, ds.y),
            "rows": ds.n_rows,
            "classes": list(ds.class_names),
            "columns": [c.to_dict() for c in schema_of(ds.X)],
            "notices": list(ds.notices),
            "unseen_levels": "missing",
        },
        "teacher": {
            "name": teacher.name,
            "params": teacher.full_params,
            "given": dict(teacher.params),
            "model": teacher.model or None,  # --teacher-model, as read
            "full_data_teacher": "the model as given" if request.teacher_as_is else "refit",
            **{k: float(v) for k, v in fitted.teacher_size.items()},
            "ms_per_10k_in_process": fitted.teacher_ms_per_10k,
        },
        "student": {
            "family": fitted.family,
            "size": fitted.size,
            "size_label": _size_label(fitted.family, fitted.size),
            "mode": fitted.mode,
            "value_name": fitted.value_name,
            "value": fitted.value,
            "scale": fitted.scale,
            "eps": fitted.eps,
            **size,
            "onnx_bytes": len(onnx_bytes),
        },
        "selection": {
            "metric": fitted.metric,
            "folds": fit.select_folds or fit.folds,
            "rows": fit.select_rows,
            "teachers": "never saw the scored fold (nested)"
            if fit.select_c == "nested"
            else "saw the scored fold (paper)",
            "requested": request.mode,
            "rule": "the simplest target within one SE of the best (raw, vanilla, crossfit, "
            "corrected, mixed)",
            "candidates": [c.to_dict() for c in fitted.candidates],
        },
        "size_choice": None
        if fitted.sizes is None
        else {
            "max_bytes": request.max_bytes,
            "max_ms_per_10k": request.max_ms_per_10k,
            "rule": "of the sizes within the budget, the smallest within one SE of the best",
            "sizes": fitted.sizes,
        },
        "estimate": None if estimate is None else estimate.to_dict(),
        "latency": latency(onnx_bytes, codes),
        "settings": fit.to_dict(),
    }


def _size_label(family: str, size) -> str:
    units = {"tree": "leaves", "rf": "trees", "gbdt": "rounds", "linear": "1/alpha"}
    return f"{size} {units[family]}" if size != "full" else "full tree"
