"""A distilled model as the user holds it: its ONNX graph and its card, in memory or on disk.

Every prediction, in Python as from `kd predict`, goes through the same ONNX graph under
onnxruntime, so the two agree to the bit and equal what a user gets from model.onnx in another
language; the fitted scikit-learn or LightGBM student stays at hand (``student``) when the model
was just distilled.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from kdcli.distilled.columns import Coded, Column, to_codes
from kdcli.distilled.model_dir import read_model_dir, write_model_dir

BATCH = 100_000  # rows per onnxruntime call: memory stays bounded on large files


def session(onnx_bytes: bytes):
    """An onnxruntime session on one thread: a tree ensemble's sum then runs in one order, so
    the probabilities do not depend on the machine's cores."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])


class DistilledModel:
    """A distilled student: ``predict_proba`` and ``predict`` on a data frame with the columns
    of its card, ``save`` to a MODEL_DIR, ``card`` (a dict, as card.json)."""

    def __init__(
        self,
        onnx_bytes: bytes,
        card: dict,
        native: dict[str, str] | None = None,
        student=None,
    ):
        self.onnx_bytes = onnx_bytes
        self.card = card
        self.native = dict(native or {})
        self.student = student  # the fitted student, when distilled in this process
        self._session = session(onnx_bytes)

    @property
    def classes_(self) -> list[str]:
        return list(self.card["data"]["classes"])

    @property
    def columns(self) -> list[Column]:
        return [Column.from_dict(c) for c in self.card["data"]["columns"]]

    def coded(self, X: pd.DataFrame, ignore_extra: bool = False, source: str = "the data") -> Coded:
        """``X`` as the model's input matrix, with the unseen levels counted."""
        target = self.card["data"].get("target")
        return to_codes(X, self.columns, target, ignore_extra, source)

    def proba_of_codes(self, codes: np.ndarray) -> np.ndarray:
        """Class probabilities (float64 of the graph's float32) of an input matrix."""
        out = [
            self._session.run(["probabilities"], {"features": part.astype(np.float32)})[0]
            for part in _batches(codes)
        ]
        return np.concatenate(out).astype(float) if out else np.empty((0, len(self.classes_)))

    def predict_proba(self, X: pd.DataFrame, ignore_extra: bool = False) -> np.ndarray:
        return self.proba_of_codes(self.coded(X, ignore_extra).codes)

    def predict(self, X: pd.DataFrame, ignore_extra: bool = False) -> np.ndarray:
        """The class names of the most probable classes."""
        return np.asarray(self.classes_, dtype=object)[
            self.predict_proba(X, ignore_extra).argmax(axis=1)
        ]

    def save(self, path: str | Path, force: bool = False) -> Path:
        """Write MODEL_DIR as one unit (kdcli.distilled.model_dir); returns the path."""
        write_model_dir(Path(path), self.onnx_bytes, self.card, self.native, force)
        return Path(path)

    def __getstate__(self) -> dict:
        """In-memory copies (joblib's workers, a grid search) rebuild the session from the
        ONNX bytes; on disk a model is a MODEL_DIR, never a pickle."""
        return {k: v for k, v in self.__dict__.items() if k != "_session"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._session = session(self.onnx_bytes)

    def __repr__(self) -> str:
        s, d = self.card["student"], self.card["data"]
        return f"DistilledModel({s['family']} {s['size_label']}, {s['mode']}, data {d['name']})"


def load_model(path: str | Path) -> DistilledModel:
    """A MODEL_DIR written by `kd distill` or :meth:`DistilledModel.save`, checked."""
    card, onnx_bytes = read_model_dir(Path(path))
    return DistilledModel(onnx_bytes, card)


def _batches(codes: np.ndarray):
    for start in range(0, len(codes), BATCH):
        yield codes[start : start + BATCH]


def latency(onnx_bytes: bytes, codes: np.ndarray, repeats: int = 200) -> dict:
    """onnxruntime on one thread: batch milliseconds per 10,000 rows (the best of three runs
    over up to 10,000 rows) and one row's p50 and p99 (``repeats`` calls). Wall clock: it
    varies with the machine and its load, so it is kept apart from the results."""
    sess = session(onnx_bytes)
    rows = codes[:10_000].astype(np.float32)
    sess.run(None, {"features": rows[:1]})  # warm-up
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        sess.run(None, {"features": rows})
        best = min(best, time.perf_counter() - t0)
    out = {
        "batch_ms_per_10k": round(1000.0 * best * 10_000 / len(rows), 4),
        "rows_timed": len(rows),
        "threads": 1,
    }
    if not repeats:
        return out
    single = []
    for i in range(repeats):
        row = rows[i % len(rows)][None, :]
        t0 = time.perf_counter()
        sess.run(None, {"features": row})
        single.append(time.perf_counter() - t0)
    single_ms = 1000.0 * np.asarray(single)
    return {
        **out,
        "single_row_p50_ms": round(float(np.percentile(single_ms, 50)), 4),
        "single_row_p99_ms": round(float(np.percentile(single_ms, 99)), 4),
    }
