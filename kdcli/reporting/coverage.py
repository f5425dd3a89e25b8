"""What a partial study is missing, as lines a person reads: cells with fewer splits than
planned, and datasets without a single row. Said before any table, since a mean over fewer splits
is a different number. Conventions in :mod:`kdcli.reporting.results_frame`.
"""

from __future__ import annotations

import pandas as pd

from kdcli.records import size_key
from kdcli.reporting.results_frame import SPLIT, TEACHER_MODE, _normalise, _splits_text
from kdcli.science.targets import mode_sort_key


def _cell_label(dataset: str, teacher: str, student: str, size: str, mode: str) -> str:
    """'adult lightgbm/tree 8 corrected', or 'adult lightgbm/teacher' for the teacher's row."""
    if mode == TEACHER_MODE:
        return f"{dataset} {teacher}/teacher"
    return f"{dataset} {teacher}/{student} {size} {mode}"


def coverage(
    results: pd.DataFrame,
    expected_units: list[str] | None = None,
    planned: dict[tuple[str, str], set[tuple[int, int]]] | None = None,
) -> list[str]:
    """What a partial study is missing, as lines a person reads; [] when nothing is missing.

    A cell is one (dataset, teacher, student, size, mode). For each dataset and teacher, the
    reference is the (repeat, fold) splits the study planned (``planned``, from its run.json),
    else every split that any of its cells has. When every cell of a dataset and teacher misses
    the same splits (units that did not run), one line says so, e.g. ``"wine lightgbm: 1 of 3
    splits (missing repeat/fold 1/0, 2/0); every cell of it is a mean over 1"``; otherwise each
    cell with fewer splits gets a line such as ``"adult lightgbm/tree 8 corrected: 3 of 5 folds
    (missing repeat/fold 0/3, 1/2)"``. A (student, size, mode) that the teacher has on another
    dataset but not on this one gets ``"0 of 5 folds"``, and likewise a missing teacher row
    (``"adult lightgbm/teacher: ..."``). A split counts for a cell when the cell has any row on
    it, whatever the metric. With ``expected_units`` (dataset names), each name without a single
    row gets ``"<name>: no results"``. Cell lines come first, sorted by dataset, teacher,
    student, size and mode; then the missing datasets in the order given.
    """
    frame = _normalise(results) if len(results) else results
    lines: list[str] = []
    if len(frame):
        lines += _cell_gaps(frame, planned or {})
    present = set(frame["dataset"].astype(str)) if len(frame) else set()
    for name in expected_units or []:
        if str(name) not in present:
            lines.append(f"{name}: no results")
    return lines


def _cell_gaps(frame: pd.DataFrame, planned: dict) -> list[str]:
    """The per-cell (or, when all cells miss the same splits, per dataset and teacher) lines of
    :func:`coverage`."""
    cell = ["student", "size", "mode"]
    splits = frame[["dataset", "teacher", *cell, *SPLIT]].drop_duplicates()
    lines: list[tuple[tuple, str]] = []
    for teacher, by_teacher in splits.groupby("teacher", sort=False):
        configs = set(by_teacher[cell].itertuples(index=False, name=None))
        for dataset, by_dataset in by_teacher.groupby("dataset", sort=False):
            present = set(by_dataset[SPLIT].itertuples(index=False, name=None))
            reference = present | planned.get((str(dataset), str(teacher)), set())
            have = {
                key: set(group[SPLIT].itertuples(index=False, name=None))
                for key, group in by_dataset.groupby(cell, sort=False)
            }
            if present < reference and all(have.get(c) == present for c in configs):
                lines.append(
                    (
                        (dataset, teacher, False, "", (0,), (0,)),
                        f"{dataset} {teacher}: {len(present)} of {len(reference)} splits "
                        f"(missing repeat/fold {_splits_text(reference - present)}); every cell "
                        f"of it is a mean over {len(present)}",
                    )
                )
                continue
            for student, size, mode in configs:
                got = have.get((student, size, mode), set())
                if len(got) >= len(reference):
                    continue
                label = _cell_label(dataset, teacher, student, size, mode)
                text = (
                    f"{label}: {len(got)} of {len(reference)} folds (missing repeat/fold "
                    f"{_splits_text(reference - got)})"
                )
                key = (
                    dataset,
                    teacher,
                    mode == TEACHER_MODE,
                    student,
                    size_key(size),
                    mode_sort_key(mode),
                )
                lines.append((key, text))
    return [text for _, text in sorted(lines)]
