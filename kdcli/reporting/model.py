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


@dataclass
class Report:
    """What `kd report` shows: titled tables (``sections``), lines on what is missing, notes on
    tests that could not be made (and why), the baseline of the comparisons, and the plots."""

    source: str
    metric: str
    sections: list[Section] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)
    baseline: str | None = None
    notes: list[str] = field(default_factory=list)
    capacity: list[CapacityTable] = field(default_factory=list)  # a sweep's tables, for its plots
    pareto: pd.DataFrame | None = None  # :func:`~.pareto.pareto_table`, for its figures

    def sections_of(self, kind: str) -> list[Section]:
        """The sections of one kind, in report order."""
        return [s for s in self.sections if s.kind == kind]
