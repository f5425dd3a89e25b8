"""Distillation against teacher capacity: the tables of a --teacher-grid sweep.

A sweep is a family of teacher variants that differ in one parameter, labelled as
:func:`kdcli.records.teacher_label` writes them (``rf[max_depth=3]``). Each table answers "how
does each mode fare as the teacher grows?": rows are the swept values in capacity order
(numeric, then text, ``None`` — unlimited, the largest — last), columns the teacher's own score
and each mode's, mean and naive SE over the splits.

Several swept parameters (a product grid, ``rf[max_depth=3,min_samples_leaf=5]``) give one
sweep per parameter and per combination of the values of the others, which are held fixed: a
3 x 7 grid of min_samples_leaf x max_depth gives three sweeps over max_depth (one per
min_samples_leaf) and seven over min_samples_leaf. A group with fewer than 2 values is no sweep.

Non-finite values are averaged like the rest, as in :func:`kdcli.records.summarise`: a NaN or
inf split makes its cell's mean NaN or inf, never the mean of the other splits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from kdcli.records import CELL, size_key, summarise, teacher_variant
from kdcli.reporting.results_frame import SPLIT, TEACHER_MODE, _normalise
from kdcli.science.targets import ordered_modes


@dataclass(frozen=True)
class Sweep:
    """Teacher variants of library ``name`` that differ only in ``param``: ``teachers`` pairs each
    value (as the label shows it) with its label, in capacity order; ``fixed`` holds the other
    swept parameters' values, the same for all of them (empty for a one-parameter grid)."""

    name: str
    param: str
    teachers: tuple[tuple[str, str], ...]
    fixed: tuple[tuple[str, str], ...] = ()

    @property
    def values(self) -> list[str]:
        return [value for value, _ in self.teachers]

    @property
    def held(self) -> str:
        """The fixed parameters as text, ``min_samples_leaf=5`` ('' when none)."""
        return ",".join(f"{k}={v}" for k, v in self.fixed)


@dataclass
class CapacityTable:
    """One table of :func:`capacity_tables`: a dataset, sweep, student family and size."""

    dataset: str
    sweep: Sweep
    student: str
    size: str
    metric: str
    table: pd.DataFrame


def value_key(value: str) -> tuple[int, float, str]:
    """Capacity order of a swept value's text: numbers, then other text, then ``None`` (no
    limit, the largest capacity)."""
    if value == "None":
        return (2, 0.0, "")
    try:
        number = float(value)
    except ValueError:
        return (1, 0.0, value)
    return (1, 0.0, value) if math.isnan(number) else (0, number, "")


def teacher_order(label: str) -> tuple:
    """Sort key of teacher labels: by library, then a variant's values in capacity order
    (``rf[max_depth=2]`` before ``rf[max_depth=10]``, ``None`` last)."""
    name, variant = teacher_variant(label)
    return (name, tuple((k, value_key(v)) for k, v in variant.items()))


def find_sweeps(results: pd.DataFrame) -> list[Sweep]:
    """The sweeps among the results' teacher labels: per library and set of swept parameters,
    one per parameter and combination of the others' values, when it has 2 values or more."""
    families: dict[tuple[str, frozenset], list[tuple[str, dict[str, str]]]] = {}
    for label in sorted({str(t) for t in results["teacher"].unique()}):
        name, variant = teacher_variant(label)
        if variant:
            families.setdefault((name, frozenset(variant)), []).append((label, variant))
    sweeps = []
    for (name, _), members in sorted(families.items(), key=lambda kv: (kv[0][0], sorted(kv[0][1]))):
        params = list(members[0][1])  # the grid's order, as the first label has it
        for param in params:
            others = [p for p in params if p != param]
            groups: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
            for label, variant in members:
                fixed = tuple((p, variant[p]) for p in others)
                groups.setdefault(fixed, {})[variant[param]] = label
            for fixed in sorted(groups, key=lambda f: [value_key(v) for _, v in f]):
                by_value = groups[fixed]
                if len(by_value) >= 2:
                    order = sorted(by_value, key=value_key)
                    sweeps.append(Sweep(name, param, tuple((v, by_value[v]) for v in order), fixed))
    return sweeps


def _summary(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean, naive SE and splits of every cell of ``metric``: the seeds of a split averaged
    first, a NaN kept (pandas would skip it), as :func:`kdcli.records.summarise` has it."""
    frame = _normalise(results[results["metric"] == metric])
    value = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    frame = frame.assign(value=value, nan=value.isna())
    per_split = (
        frame.groupby([*CELL, *SPLIT], sort=False)
        .agg(value=("value", "mean"), nan=("nan", "any"))
        .reset_index()
    )
    per_split.loc[per_split["nan"], "value"] = math.nan
    return summarise(per_split.drop(columns="nan"))


def _table(summary: pd.DataFrame, dataset: str, sweep: Sweep, student: str, size: str):
    """Rows: the sweep's values the dataset has; columns: teacher, then each mode, mean and
    naive SE; ``n`` the fewest splits behind a cell of the row (all agree in a full study)."""
    labels = [label for _, label in sweep.teachers]
    cells = summary[(summary["dataset"] == dataset) & summary["teacher"].isin(labels)]
    own = cells[cells["mode"] == TEACHER_MODE].set_index("teacher")
    students = cells[(cells["student"] == student) & (cells["size"] == size)]
    students = students[students["mode"] != TEACHER_MODE]
    modes = ordered_modes(students["mode"].unique())
    columns = ["teacher_mean", "teacher_naive_se"]
    columns += [f"{mode}_{stat}" for mode in modes for stat in ("mean", "naive_se")]
    records, index = [], []
    for value, label in sweep.teachers:
        mine = students[students["teacher"] == label].set_index("mode")
        if mine.empty:
            continue
        record: dict[str, float] = {}
        counts = []
        for column, rows, key in [("teacher", own, label), *((m, mine, m) for m in modes)]:
            found = key in rows.index
            record[f"{column}_mean"] = float(rows.at[key, "mean"]) if found else math.nan
            record[f"{column}_naive_se"] = float(rows.at[key, "se"]) if found else math.nan
            counts += [int(rows.at[key, "n"])] if found else []
        record["n"] = min(counts)
        records.append(record)
        index.append(value)
    table = pd.DataFrame.from_records(records, columns=[*columns, "n"])
    table.index = pd.Index(index, name=sweep.param, dtype=object)
    table["n"] = table["n"].astype(int)
    return table


def capacity_table(
    results: pd.DataFrame, dataset: str, sweep: Sweep, student: str, size: str, metric: str
) -> pd.DataFrame:
    """One dataset, sweep, student family and size: rows the swept values (capacity order),
    columns ``teacher_mean``, ``teacher_naive_se`` (the variant's own score), ``{mode}_mean``,
    ``{mode}_naive_se`` per mode in kd's order (naive SE = sd/√n over the (repeat, fold) splits,
    NaN for one split) and ``n``, the splits (the fewest of the row's cells when some are
    missing). A value without this student's rows is left out."""
    return _table(_summary(results, metric), str(dataset), sweep, str(student), str(size))


def capacity_tables(results: pd.DataFrame, metric: str) -> list[CapacityTable]:
    """Every capacity table of the results, by dataset, sweep, student and size (numeric order);
    none when no teacher parameter is swept."""
    sweeps = find_sweeps(results)
    if not sweeps:
        return []
    summary = _summary(results, metric)
    out = []
    for dataset in sorted(summary["dataset"].unique()):
        here = summary[(summary["dataset"] == dataset) & (summary["mode"] != TEACHER_MODE)]
        for sweep in sweeps:
            mine = here[here["teacher"].isin([label for _, label in sweep.teachers])]
            pairs = mine[["student", "size"]].drop_duplicates().itertuples(index=False)
            for student, size in sorted(pairs, key=lambda p: (p[0], size_key(p[1]))):
                table = _table(summary, dataset, sweep, student, size)
                out.append(CapacityTable(dataset, sweep, student, size, metric, table))
    return out
