"""What a unit costs: an estimate of its seconds, so a study starts its biggest units first and
its ETA weighs what is left by size rather than counting units as equal.

A unit's estimate is, in order of preference:

1. the measured time of the finished units of the same dataset and teacher in this study folder
   (a resume, or repeats after the first);
2. the log-linear model :data:`UNIT_MODEL` of one-core seconds against the data's rows,
   features and classes, corrected for the study's settings (teacher fits, student fits) and
   scaled by how the finished units of this folder compared with it;
3. the model on :data:`DEFAULT_SHAPE` where nothing is known of the data.

The data's shape comes from the suite's manifest (``rows, features, classes``), else from what
is cheap to read: a ``MANIFEST.csv`` beside a file, a parquet file's metadata, the head of a text
file, OpenML's cached metadata, a synthetic spec's parameters. Data is never loaded for it.
An estimate orders work and sizes the ETA; it never changes a number, and it never fails a study.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

import numpy as np

from kdcli.data.files import SUFFIXES, local_path
from kdcli.data.openml_source import OpenMLConfig, parse_id
from kdcli.data.spec import parse_spec
from kdcli.data.suites import Member, suite_members
from kdcli.science.nested import largest, size_groups
from kdcli.science.students import FULL
from kdcli.science.targets import base_mode
from kdcli.settings.fit import FitSettings
from kdcli.settings.study import StudySettings
from kdcli.study.plan import Unit

ENSEMBLES = ("rf", "gbdt")  # a fit grows as many trees as its (largest) size
SIZES = ("rows", "features", "classes")
SAMPLE_BYTES = 1 << 20  # of a text file's head, to count its columns, classes and row length


@dataclass(frozen=True)
class Shape:
    rows: int
    features: int = 20
    classes: int = 2


DEFAULT_SHAPE = Shape(5_000, 20, 2)  # a member whose data kd cannot size without loading it
SKLEARN_SHAPES = {  # kdcli.data.bundled's datasets (a test checks them against the loaders)
    "breast_cancer": Shape(569, 30, 2),
    "digits": Shape(1797, 64, 10),
    "wine": Shape(178, 13, 3),
    "iris": Shape(150, 4, 3),
}


@dataclass(frozen=True)
class LogLinear:
    """seconds = exp(const) · rows^log_rows · features^log_features · classes^log_classes."""

    const: float
    log_rows: float
    log_features: float
    log_classes: float

    def __call__(self, rows: float, features: float, classes: float) -> float:
        x = (math.log(max(rows, 1)), math.log(max(features, 1)), math.log(max(classes, 2)))
        return math.exp(self.const + float(np.dot(self.coefficients[1:], x)))

    @property
    def coefficients(self) -> np.ndarray:
        return np.array([self.const, self.log_rows, self.log_features, self.log_classes])

    @classmethod
    def fit(cls, shapes: Sequence[Shape], seconds: Sequence[float]) -> tuple[LogLinear, float]:
        """Least squares on the logs; also the residual scatter, as a factor (x/÷)."""
        X = design(shapes)
        y = np.log(np.asarray(seconds, dtype=float))
        coef, *_ = np.linalg.lstsq(X, y, rcond=None)
        dof = max(len(y) - X.shape[1], 1)
        scatter = math.exp(math.sqrt(float(np.sum((y - X @ coef) ** 2)) / dof))
        return cls(*map(float, coef)), scatter


def design(shapes: Sequence[Shape]) -> np.ndarray:
    """The model's columns: a constant and the logs of rows, features and classes."""
    return np.array(
        [[1.0, math.log(s.rows), math.log(s.features), math.log(max(s.classes, 2))] for s in shapes]
    ).reshape(-1, 4)


@dataclass(frozen=True)
class UnitModel:
    """One-core seconds of a unit: its teacher stage and its student stage, each log-linear in
    the data's shape, scaled by the study's teacher fits and student work against those of the
    study the model was fitted on."""

    teacher: LogLinear
    students: LogLinear
    teacher_fits: int  # of the study fitted on, per unit
    student_work: float  # student_work() of that study's settings
    train_fraction: float = 0.75  # of a dataset's rows its units trained on

    def seconds(self, shape: Shape, fit: FitSettings, train_fraction: float) -> float:
        train = min(shape.rows, fit.max_rows or shape.rows) * train_fraction
        rows = train / self.train_fraction  # the model's rows: a dataset's, at its fraction
        teacher = self.teacher(rows, shape.features, shape.classes)
        students = self.students(rows, shape.features, shape.classes)
        if fit.select_rows and train > fit.select_rows:  # c and α chosen on a subsample
            share = selection_share(fit)
            chosen = self.students(
                fit.select_rows / self.train_fraction, shape.features, shape.classes
            )
            students = students * (1 - share) + chosen * share
        return teacher * fit.teacher_fits / self.teacher_fits + students * (
            student_work(fit) / self.student_work
        )


# Fitted by `python benchmarks/project_cc18.py results/runs/shared28` (it prints them) on the
# unit times of `make shared-study`: the 28 shared datasets, the default LightGBM teacher and
# tree students with every mode (5 modes x 4 sizes, 426 fits a unit), 5 repeats (140 units), one
# thread per fit, 2 cores. Residual scatter x/÷ 2.06 (teacher stage) and 1.58 (students).
# Those times are of separate tree fits per size; sizes 8, 64 and 512 now nest (one 512-leaf
# fit serves them), so that study's student work is (1 + 1.4) x 105 fits, and it takes 0.682 of
# the time it took (student-stage seconds of the 28 datasets, one repeat, teachers stored, old
# and new code side by side: 211.7 s and 144.4 s, results identical): 252 / 0.682.
UNIT_MODEL = UnitModel(
    teacher=LogLinear(-6.339, 0.561, 0.461, 1.178),
    students=LogLinear(-2.916, 0.519, 0.210, 0.472),
    teacher_fits=6,
    student_work=252.0 / 0.682,
)


def student_fits(fit: FitSettings) -> int:
    """Student fits of one unit: per family, per group of sizes one model serves (each size, or
    all of a nested family's), per mode, the selection fits (c x folds, α x folds) and a final
    fit (several where sizes of a nested group choose different c; counted once)."""
    return sum(_groups(family, fit) * _per_group(fit) for family in fit.students)


def selection_share(fit: FitSettings) -> float:
    """The share of a unit's student fits that choose c or α (on at most ``select_rows`` rows
    of a large split; the final fits take every row)."""
    total = _per_group(fit)
    return (total - len(fit.modes)) / total if total else 0.0


def student_work(fit: FitSettings) -> float:
    """Student fits weighted by the trees each grows (a nested family's fit grows its largest
    size), a tree by its leaves (:func:`tree_weight`), a linear model one: rough, but it puts a
    forest of 100 trees far above one tree, and one of 512 leaves above one of 8."""
    work = 0.0
    for family in fit.students:
        for group in size_groups(family, list(fit.sizes[family])):
            if family in ENSEMBLES:
                weight = float(largest(group))
            else:
                weight = tree_weight(largest(group)) if family == "tree" else 1.0
            work += _per_group(fit) * weight
    return work


def tree_weight(leaves: int | str) -> float:
    """One tree fit of at most ``leaves`` leaves against one of 512: each level of a best-first
    tree passes over the rows once, so (1 + log2 leaves) / 10; the tree grown to purity 1.4.
    On the 28 shared datasets (old traces of results/runs/shared28, one fit per size) the fits
    of 8, 64 and 512 leaves and the full tree took 0.47, 0.70, 1 and 1.40 of the 512's time."""
    if leaves == FULL:
        return FULL_TREE_WEIGHT
    return (1 + math.log2(int(leaves))) / 10


FULL_TREE_WEIGHT = 1.4


def _per_group(fit: FitSettings) -> int:
    """Fits per group of sizes, over the modes: c or α selection fits plus the final one."""
    J = fit.select_folds or fit.folds
    per_mode = {"corrected": len(fit.c_grid) * J + 1, "mixed": len(fit.alpha_grid or ()) * J + 1}
    return sum(per_mode.get(base_mode(m), 1) for m in fit.modes)


def _groups(family: str, fit: FitSettings) -> int:
    return len(size_groups(family, list(fit.sizes[family])))


# -- the data's shape, cheaply ----------------------------------------------------------------


def member_shapes(study: StudySettings, cfg: OpenMLConfig) -> dict[str, Shape | None]:
    """Each member's shape, None where kd cannot tell without loading the data."""
    listed = _listed_members(study, cfg)
    out: dict[str, Shape | None] = {}
    for member in study.members:
        known = listed.get(member.name, member)
        out[member.name] = _member_shape(known) or _source_shape(member.spec, cfg)
    return out


def _listed_members(study: StudySettings, cfg: OpenMLConfig) -> dict[str, Member]:
    """The suite's members as its manifest lists them (a study's spec keeps names and specs);
    a live OpenML suite from the cache only (estimates never fetch)."""
    try:
        offline = dataclasses.replace(cfg, offline=True)
        return {m.name: m for m in suite_members(study.suite, openml=offline)}
    except Exception:  # a suite moved or changed since: estimates go on without it
        return {}


def _member_shape(m: Member) -> Shape | None:
    if not m.rows:
        return None
    return Shape(m.rows, m.features or Shape.features, m.classes or Shape.classes)


def _source_shape(spec: str, cfg: OpenMLConfig) -> Shape | None:
    try:
        source, name, params = parse_spec(spec)
        if source == "sklearn":
            return SKLEARN_SHAPES.get(name)
        if source == "synthetic":
            from kdcli.data.synthetic import DESIGNS  # scipy: imported only when needed

            given: dict[str, float | str] = {**DESIGNS.get(name, {}), **params}
            classes = int(float(given.get("k", 2))) if name == "multiclass" else 2
            return Shape(int(float(given["n"])), int(float(given["d"])), classes)
        if source == "file":
            return file_shape(local_path(name, "the file"))
        return _openml_shape(source, parse_id(source, name), cfg)
    except Exception:  # an estimate never fails a study: the unit reports its own error
        return None


def file_shape(path: Path) -> Shape | None:
    """A data file's shape: from a MANIFEST.csv beside it, a parquet file's metadata, or the
    first megabyte of a text file (rows from the bytes per row; classes seen there)."""
    listed = _beside_manifest(path)
    if listed is not None:
        return listed
    name = path.name.lower()
    if name.endswith(".parquet"):
        return _parquet_shape(path)
    suffix = name.removesuffix(".gz").rsplit(".", 1)[-1]
    return _text_shape(path, SUFFIXES.get(f".{suffix}") or ",", name.endswith(".gz"))


def _beside_manifest(path: Path) -> Shape | None:
    """A folder's MANIFEST.csv (as ../shared/datasets has) may list each file's sizes, by its
    file name (column ``file``) or its member name (``name``: the file's stem)."""
    stem = path.name.split(".")[0]
    for manifest in path.parent.glob("*"):
        if manifest.name.lower() != "manifest.csv":
            continue
        with open(manifest, newline="", encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                if row.get("file") == path.name or row.get("name") in (path.name, stem):
                    rows, features, classes = (_whole(row.get(k)) for k in SIZES)
                    return _member_shape(Member("", "", rows, features, classes))
    return None


def _whole(text: str | None) -> int | None:
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def _parquet_shape(path: Path) -> Shape:
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    names = file.schema_arrow.names
    target = "target" if "target" in names else names[-1]
    head = file.read_row_group(0, columns=[target]).column(0) if file.num_row_groups else None
    classes = len(head.drop_null().unique()) if head is not None else 2
    return Shape(file.metadata.num_rows, max(len(names) - 1, 1), max(classes, 2))


def _text_shape(path: Path, sep: str, gz: bool) -> Shape | None:
    data, fraction = _head(path, gz)  # fraction: of the file's bytes the head stands for
    lines = data.decode("utf-8", "replace").splitlines()
    if fraction < 1:
        lines = lines[:-1]  # cut short
    lines = [line for line in lines if line.strip()]
    if len(lines) < 2:
        return None
    header, body = next(csv.reader([lines[0]], delimiter=sep)), lines[1:]
    column = header.index("target") if "target" in header else len(header) - 1
    labels = {r[column] for r in csv.reader(body, delimiter=sep) if len(r) > column and r[column]}
    rows = len(body)
    if fraction < 1:  # the rest of the file holds rows as long as these, on average
        body_bytes = sum(len(line) + 1 for line in body)
        rows = round(rows * (len(data) / fraction - len(lines[0]) - 1) / max(body_bytes, 1))
    return Shape(max(rows, 1), max(len(header) - 1, 1), max(len(labels), 2))


def _head(path: Path, gz: bool) -> tuple[bytes, float]:
    """The first SAMPLE_BYTES of the file's text, and the share of the whole file it is (by the
    compressed bytes read, for gzip)."""
    size = max(path.stat().st_size, 1)
    with open(path, "rb") as fh:
        if not gz:
            data = fh.read(SAMPLE_BYTES)
            return data, min(len(data) / size, 1.0)
        inflate = zlib.decompressobj(wbits=47)  # gzip or zlib header
        data, used = b"", 0
        while len(data) < SAMPLE_BYTES and not inflate.eof:
            chunk = fh.read(1 << 16)
            if not chunk:
                break
            used += len(chunk)
            data += inflate.decompress(chunk)
        return data, 1.0 if inflate.eof else used / size


def _openml_shape(source: str, ident: int, cfg: OpenMLConfig) -> Shape | None:
    """From kd's cache (the plan fetched the data): rows and columns from its metadata, classes
    from the target column alone."""
    import pyarrow.parquet as pq

    target = None
    if source == "openml-task":
        task = json.loads((cfg.task_entry(ident) / "meta.json").read_text())
        ident, target = int(task["dataset_id"]), task["target"]
    entry = cfg.dataset_entry(ident)
    meta = json.loads((entry / "meta.json").read_text())
    target = target or meta.get("default_target")
    labels = pq.read_table(entry / "data.parquet", columns=[target]).column(0)
    classes = len(labels.drop_null().unique())
    return Shape(int(meta["rows"]), max(int(meta["columns"]) - 1, 1), max(classes, 2))


# -- estimates, order, ETA --------------------------------------------------------------------


def unit_estimates(
    study: StudySettings,
    units: Sequence[Unit],
    shapes: Mapping[str, Shape | None],
    recorded: Mapping[str, float],
    model: UnitModel = UNIT_MODEL,
) -> dict[str, float]:
    """unit_id -> estimated seconds of every unit. ``recorded``: unit_id -> measured seconds of
    the finished units of this folder. A unit whose dataset and teacher have finished units is
    estimated at their mean time; any other at the model's figure, times the ratio of measured
    to modelled time of the finished units (of its teacher where it has some)."""
    modelled = {
        u.unit_id: model.seconds(
            shapes.get(u.dataset) or DEFAULT_SHAPE, study.fit, _train_fraction(u, study.fit)
        )
        for u in units
    }
    done = [u for u in units if u.unit_id in recorded]
    same: dict[tuple[str, str], list[float]] = {}
    for u in done:
        same.setdefault((u.dataset, u.teacher), []).append(recorded[u.unit_id])
    ratio: dict[str | None, float] = {None: _ratio(done, recorded, modelled)}
    for teacher in {u.teacher for u in done}:
        ratio[teacher] = _ratio([u for u in done if u.teacher == teacher], recorded, modelled)
    out = {}
    for u in units:
        if (u.dataset, u.teacher) in same:
            out[u.unit_id] = mean(same[(u.dataset, u.teacher)])
        else:
            out[u.unit_id] = modelled[u.unit_id] * ratio.get(u.teacher, ratio[None])
    return out


def _ratio(done: Sequence[Unit], recorded: Mapping[str, float], modelled: Mapping) -> float:
    est = sum(modelled[u.unit_id] for u in done)
    return sum(recorded[u.unit_id] for u in done) / est if est > 0 else 1.0


def _train_fraction(unit: Unit, fit: FitSettings) -> float:
    """Of the dataset's rows a unit trains on: an OpenML task's folds (CC18's ten: 90%), or kd's
    own split."""
    return 0.9 if unit.spec.startswith("openml-task:") else 1.0 - fit.test_size


def longest_first(units: Sequence[Unit], estimates: Mapping[str, float]) -> list[Unit]:
    """The units in decreasing estimated cost; ties keep the plan's order (a stable sort)."""
    return sorted(units, key=lambda u: -estimates.get(u.unit_id, 0.0))


def eta_seconds(
    queued: Iterable[float],
    running: Iterable[tuple[float, float]],
    finished: Iterable[tuple[float, float]],
    parallel: int,
) -> float:
    """Seconds until a study ends: what is left of its estimated cost, scaled by how the
    finished units compared with their estimates, spread over ``parallel`` units at once, and
    never less than its longest remaining unit.

    ``queued``: estimates of the units not started; ``running``: (estimate, seconds so far);
    ``finished``: (estimate, measured seconds) of the units that succeeded.
    """
    finished = list(finished)
    est = sum(e for e, _ in finished)
    ratio = sum(m for _, m in finished) / est if finished and est > 0 else 1.0
    left = [e * ratio for e in queued]
    left += [max(e * ratio - elapsed, 0.0) for e, elapsed in running]
    if not left:
        return 0.0
    return max(sum(left) / max(parallel, 1), max(left))
