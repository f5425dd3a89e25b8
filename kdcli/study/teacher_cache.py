"""Teacher predictions on disk, so a re-run (or a run that adds students or modes) fits no teacher.

Keyed by a hash of everything that determines them: the data, the train/test rows, the teacher
and its full hyperparameters, the cross-fitting folds (with ``--select-c nested`` also the
c-selection folds, whose leak-free teacher probabilities are kept too) and the seed. Stored as npz
with a checksum (``cache.write_entry``); a damaged entry is recomputed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kdcli.data.cache import CorruptEntry, read_meta, remove_entry, write_entry
from kdcli.science.crossfit import TeacherPredictions

FORMAT = 4  # bump when what is stored, or how it is computed, changes (3: cross-fit seeds;
# 4: boosted teachers see positional column names, so their model_bytes no longer count the header)


def data_fingerprint(X: pd.DataFrame, y: np.ndarray) -> str:
    """Content hash of features (values, dtypes, names) and labels."""
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    digest.update(json.dumps([str(c) for c in X.columns] + [str(t) for t in X.dtypes]).encode())
    digest.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
    return digest.hexdigest()


def teacher_key(
    fingerprint: str,
    train: np.ndarray,
    test: np.ndarray,
    teacher: str,
    params: dict,
    folds: int | str,  # K, or "oob"
    seed: int,
) -> str:
    def rows(idx: np.ndarray) -> str:
        return hashlib.sha256(np.ascontiguousarray(idx, dtype=np.int64).tobytes()).hexdigest()

    key = {
        "format": FORMAT,
        "data": fingerprint,
        "train": rows(train),
        "test": rows(test),
        "teacher": teacher,
        "params": params,
        "folds": folds,
        "seed": seed,
    }
    blob = json.dumps(key, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def split_key(ds, split, teacher, folds: int | str, fingerprint: str | None = None) -> str:
    """The cache key of one split's teacher predictions."""
    return teacher_key(
        fingerprint or data_fingerprint(ds.X, ds.y),
        split.train,
        split.test,
        teacher.name,
        teacher.full_params,
        folds,
        split.seed,
    )


class TeacherCache:
    """Teacher predictions under ``root/<key>/`` (the store a split's fits read and fill)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._last: tuple = (None, "")  # (dataset, its hash): hashed once, not per look-up

    def _key(self, ds, split, teacher, folds: int | str) -> str:
        if self._last[0] is not ds:  # held, so no other dataset can take its place
            self._last = (ds, data_fingerprint(ds.X, ds.y))
        return split_key(ds, split, teacher, folds, self._last[1])

    def get(self, ds, split, teacher, folds: int | str) -> TeacherPredictions | None:
        return self.read(self._key(ds, split, teacher, folds))

    def put(
        self, ds, split, teacher, folds: int | str, preds: TeacherPredictions, info: dict
    ) -> None:
        self.write(self._key(ds, split, teacher, folds), preds, info)

    def read(self, key: str) -> TeacherPredictions | None:
        entry = self.root / key
        try:
            meta = read_meta(entry)
        except CorruptEntry:
            remove_entry(entry)
            return None
        if meta is None:
            return None
        with np.load(entry / "predictions.npz", allow_pickle=False) as npz:
            return TeacherPredictions(
                in_sample=npz["in_sample"],
                out_of_fold=npz["out_of_fold"],
                test=npz["test"],
                size=meta.get("teacher_size", {}),
                select=npz["select"] if "select" in npz.files else None,
                select_in_sample=(
                    npz["select_in_sample"] if "select_in_sample" in npz.files else None
                ),
            )

    def write(self, key: str, preds: TeacherPredictions, info: dict) -> None:
        def write(tmp: Path) -> None:
            # Any: savez's stubs take a ** dict of arrays as a candidate for allow_pickle: bool
            arrays: dict[str, Any] = {
                "in_sample": preds.in_sample,
                "out_of_fold": preds.out_of_fold,
                "test": preds.test,
                **({} if preds.select is None else {"select": preds.select}),
                **(
                    {}
                    if preds.select_in_sample is None
                    else {"select_in_sample": preds.select_in_sample}
                ),
            }
            np.savez(tmp / "predictions.npz", **arrays)

        try:
            write_entry(
                self.root / key,
                write,
                {"kind": "teacher-predictions", "teacher_size": preds.size, **info},
            )
        except OSError:
            # another worker wrote the same key at the same moment: theirs is as good as ours
            if read_meta(self.root / key) is None:
                raise
