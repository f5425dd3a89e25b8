"""What decides the numbers of a distillation experiment: :class:`FitSettings` and its
:class:`TeacherSettings`, frozen, and their JSON round trip.

They are made only by :func:`kdcli.settings.fit_check.fit_settings`, which checks every value;
everything downstream (one split's fits, a study's workers) reads them as they are and never
checks them again. How and where work runs (threads, executor) is not part of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from kdcli.errors import SettingError
from kdcli.records import teacher_label
from kdcli.science.correction import C_GRID
from kdcli.science.selection import n_selection_fits
from kdcli.science.targets import base_mode
from kdcli.science.teachers import TEACHER_DEFAULTS


@dataclass(frozen=True)
class TeacherSettings:
    """A teacher library and the hyperparameters the user overrode (names checked); a variant
    of a --teacher-grid sweep also names its swept values (already among ``params``)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)  # parameter → value, as the library takes
    variant: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)  # --teacher-model: what the file held

    @property
    def full_params(self) -> dict[str, Any]:
        """The library defaults kd uses, with the overrides applied."""
        return {**TEACHER_DEFAULTS[self.name], **self.params}

    @property
    def label(self) -> str:
        """The teacher's name in results: ``rf``, or a variant's ``rf[max_depth=3]``."""
        return teacher_label(self.name, self.variant)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data; a teacher that is no variant records no ``variant`` (as before
        sweeps existed, so older runs' fingerprints and references still match)."""
        out: dict[str, Any] = {"name": self.name, "params": dict(self.params)}
        if self.variant:
            out["variant"] = dict(self.variant)
        if self.model:
            out["model"] = dict(self.model)
        return out


@dataclass(frozen=True)
class FitSettings:
    """Settings of one experiment on a dataset (or on each dataset of a study)."""

    teachers: tuple[TeacherSettings, ...]
    students: tuple[str, ...]
    sizes: dict[str, tuple[int | str, ...]]  # family → its sizes (int, or 'full' for tree)
    modes: tuple[str, ...]
    folds: int = 5
    crossfit: str = "folds"  # folds: K teachers; oob: the bagged teacher's out-of-bag predictions
    select_folds: int | None = None  # folds that choose c; None = the cross-fitting folds
    select_c: str = "paper"  # paper: their targets from the cross-fit teachers; nested: leak-free
    # c and α chosen on a stratified subsample of at most this many training rows
    # (kdcli.science.selection_rows); None: on every row, as runs made before the setting did
    select_rows: int | None = None
    test_size: float = 0.25
    seed: int = 0
    repeats: int = 1
    scale: str = "prob"
    eps: float = 1e-3
    c_grid: tuple[float, ...] = C_GRID
    alpha_grid: tuple[float, ...] | None = None  # α of mixed; None when no mode is mixed
    select_metric: str = "log_loss"
    outer_folds: tuple[int, ...] | None = None  # a task's official folds; None = all
    max_rows: int | None = None
    preset: dict[str, Any] | None = None  # the preset behind these settings, what it set, not

    @property
    def teacher(self) -> TeacherSettings:
        """The one teacher of a `kd fit` run (its first variant, with a --teacher-grid)."""
        self.check_one_library()
        return self.teachers[0]

    def check_one_library(self) -> None:
        """`kd fit` takes one teacher library, swept over a grid or not; a benchmark several."""
        if len({t.name for t in self.teachers}) != 1:
            raise SettingError("teacher", "kd fit takes one {opt}; kd benchmark compares several")

    @property
    def swept(self) -> bool:
        """Whether the teachers are variants of a --teacher-grid sweep."""
        return any(t.variant for t in self.teachers)

    @property
    def cross_fit(self) -> bool:
        """Whether any mode needs the K cross-fit teachers."""
        return any(base_mode(m) in ("crossfit", "corrected") for m in self.modes)

    @property
    def nested_select(self) -> bool:
        """Whether c is chosen on leak-free targets (``select_c`` nested and a mode chooses c)."""
        return self.select_c == "nested" and any(base_mode(m) == "corrected" for m in self.modes)

    @property
    def nested_alpha(self) -> bool:
        """Whether α is chosen on leak-free targets (``select_c`` nested and a mode mixed)."""
        return self.select_c == "nested" and any(base_mode(m) == "mixed" for m in self.modes)

    @property
    def selection_teacher_fits(self) -> int:
        """The teachers behind leak-free c- and α-selection targets (kdcli.science.selection)."""
        J = self.select_folds or self.folds
        alpha = n_selection_fits(J, "in_sample") if self.nested_alpha else 0
        if not self.nested_select:
            return alpha
        source = "oob" if self.crossfit == "oob" else "out_of_fold"
        return n_selection_fits(J, source) + alpha

    @property
    def teacher_fits(self) -> int:
        """Teacher fits per split: the full-data teacher and, when a mode needs them, K more, and
        those behind leak-free c-selection targets."""
        cross = self.folds if self.cross_fit and self.crossfit == "folds" else 0
        return 1 + cross + self.selection_teacher_fits

    @property
    def most_folds(self) -> tuple[int, str]:
        """The larger of the cross-fitting and c-selection folds, and the setting behind it."""
        if self.select_folds is not None and self.select_folds > self.folds:
            return self.select_folds, "select_folds"
        return self.folds, "folds"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data; :meth:`from_dict` reads it back unchanged."""
        out = asdict(self)
        out["teachers"] = [t.to_dict() for t in self.teachers]
        out["sizes"] = {k: list(v) for k, v in self.sizes.items()}
        for key in ("students", "modes", "c_grid", "alpha_grid", "outer_folds"):
            out[key] = None if out[key] is None else list(out[key])
        if out["alpha_grid"] is None:  # no mixed mode: recorded as before the mode existed
            del out["alpha_grid"]
        if out["select_rows"] is None:  # every row chooses c: as before the setting existed
            del out["select_rows"]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FitSettings:
        """Settings from :meth:`to_dict`'s output, as it was checked when made: no new checks."""

        def tup(v: Iterable[Any] | None) -> tuple[Any, ...] | None:
            return None if v is None else tuple(v)

        return cls(
            **{
                **d,
                "teachers": tuple(
                    TeacherSettings(
                        t["name"],
                        dict(t["params"]),
                        dict(t.get("variant") or {}),
                        dict(t.get("model") or {}),
                    )
                    for t in d["teachers"]
                ),
                "students": tuple(d["students"]),
                "sizes": {k: tuple(v) for k, v in d["sizes"].items()},
                "modes": tuple(d["modes"]),
                "c_grid": tuple(d["c_grid"]),
                "alpha_grid": tup(d.get("alpha_grid")),
                "outer_folds": tup(d["outer_folds"]),
            }
        )
