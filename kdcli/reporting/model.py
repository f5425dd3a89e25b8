"""The report model of `kd report`: titled tables of plain numbers (:class:`Section`) gathered in
a :class:`Report`. Builders fill it (:mod:`.sections`), renderers only read it (:mod:`.render`),
so the model depends on neither."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kdcli.reporting.capacity import CapacityTable


@dataclass
class Section:
    """One titled table of plain numbers; ``kind`` tells the renderers how to show its cells."""

    title: str
    table: pd.DataFrame
    note: str = ""
    kind: str = "table"  # capacity | per-dataset | within | friedman | ranks | versus | bayes
    # | compression | pareto | summary
    metric: str = "error"
    labels: dict = field(default_factory=dict)  # mode → shown name (a preset's curve names)
    dataset: str | None = None  # the one dataset it is about; None: across datasets


@dataclass(frozen=True)
class Figure:
    """One drawn figure: its files (the PNG first, then its vector copies), a title in words
    for a page's heading, and the dataset it belongs to (None: a figure across datasets), so
    that a report can place it beside that dataset's table."""

    files: tuple[Path, ...]
    title: str
    dataset: str | None = None

    @property
    def png(self) -> Path:
        return self.files[0]


@dataclass
class Report:
    """What `kd report` shows: titled tables (``sections``), lines on what is missing, notes on
    tests that could not be made (and why), the baseline of the comparisons, and the plots."""

    source: str
    metric: str
    sections: list[Section] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)  # the figures' PNGs, in report order
    figures: list[Figure] = field(default_factory=list)
    baseline: str | None = None
    notes: list[str] = field(default_factory=list)
    capacity: list[CapacityTable] = field(default_factory=list)  # a sweep's tables, for its plots
    pareto: pd.DataFrame | None = None  # :func:`~.pareto.pareto_table`, for its figures
    verdict: list[str] = field(default_factory=list)  # the answer, first in every format
    dataset_verdicts: dict[str, list[str]] = field(default_factory=dict)  # each dataset's own

    def sections_of(self, kind: str) -> list[Section]:
        """The sections of one kind, in report order."""
        return [s for s in self.sections if s.kind == kind]

    def parts(self) -> list[Part]:
        """The report in reading order, the same for every format: the summary, the tests across
        datasets (with their figures), then each dataset with its own verdict, tables and
        figures. (The verdict itself, what is missing and the notes are the report's own.)"""
        summary = [s for s in self.sections if s.kind == "summary"]
        across = [s for s in self.sections if s.dataset is None and s.kind != "summary"]
        parts = []
        if summary:
            parts.append(Part("Summary", "summary", summary))
        shared = [f for f in self.figures if f.dataset is None]
        if across or shared:
            parts.append(Part("Across datasets", "across-datasets", across, shared))
        names = dict.fromkeys(
            [s.dataset for s in self.sections if s.dataset is not None]
            + [f.dataset for f in self.figures if f.dataset is not None]
        )
        for name in names:
            assert name is not None
            sections = [s for s in self.sections if s.dataset == name]
            figures = [f for f in self.figures if f.dataset == name]
            verdict = self.dataset_verdicts.get(name, [])
            parts.append(Part(name, f"dataset-{name}", sections, figures, verdict, dataset=True))
        return parts


@dataclass
class Part:
    """One titled part of a report: its sections and figures, and for a dataset its verdict.
    ``anchor`` is a name for a page's link (renderers make it safe for their format)."""

    title: str
    anchor: str
    sections: list[Section]
    figures: list[Figure] = field(default_factory=list)
    verdict: list[str] = field(default_factory=list)
    dataset: bool = False
