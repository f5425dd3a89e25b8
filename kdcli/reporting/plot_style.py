"""How kd's figures look: ``paper`` (the default) draws them at the printed size of a journal
column, every text at least 8 pt there, so a figure goes into a paper without scaling; ``screen``
draws them larger, for a page read on a monitor.

A style is matplotlib's own means only: rcParams (:meth:`PlotStyle.context`), the constrained
layout engine, and a figure size in inches that is the size of the saved file (never
``bbox_inches="tight"``, which would change the printed size and so every font's).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

import matplotlib

from kdcli.errors import KDError

CHAR_WIDTH = 0.6  # an average character's width in ems (DejaVu Sans), a little generous


@dataclass(frozen=True)
class PlotStyle:
    """One look: the widths of a one- and a two-column figure (inches), the font sizes (pt) of
    labels, of the smallest text (ticks, legends, annotations) and of titles, the PNG's dpi, the
    height of a one-column figure and of a row of the grid, and the grid's panels per row."""

    name: str
    column: float
    wide: float
    font: float
    small: float
    title: float
    dpi: int
    height: float
    panel: float
    grid_columns: int
    linewidth: float
    markersize: float
    formats: tuple[str, ...] = (
        "png",
        "svg",
        "pdf",
    )  # a page's image, an editable vector, a paper's

    def rc(self) -> dict[Any, Any]:
        """The rcParams of the style: every font size a number of points (never 'small', which
        would be relative), constrained layout, text kept as text in SVG and PDF."""
        return {
            "font.size": self.font,
            "axes.titlesize": self.title,
            "axes.labelsize": self.font,
            "figure.titlesize": self.title,
            "figure.labelsize": self.font,
            "xtick.labelsize": self.small,
            "ytick.labelsize": self.small,
            "legend.fontsize": self.small,
            "legend.title_fontsize": self.small,
            "lines.linewidth": self.linewidth,
            "lines.markersize": self.markersize,
            "axes.linewidth": 0.1 * self.linewidth + 0.5,
            "figure.constrained_layout.use": True,
            "figure.dpi": 100,
            "savefig.dpi": self.dpi,
            "savefig.bbox": "standard",  # the saved size is the figure's size
            "svg.fonttype": "none",  # labels stay editable text in an SVG
            "pdf.fonttype": 42,  # a PDF embeds its fonts (TrueType)
        }

    def context(self) -> Any:
        """A ``with`` block in which figures are made and saved in this style."""
        return matplotlib.rc_context(self.rc())

    def figsize(self, wide: bool = False, height: float | None = None) -> tuple[float, float]:
        """A one-column (or, ``wide``, two-column) figure's size in inches."""
        return (self.wide if wide else self.column, self.height if height is None else height)

    def fill(self, text: str, inches: float, size: float | None = None) -> str:
        """``text`` in lines no longer than ``inches`` at ``size`` pt (the labels' by default):
        constrained layout makes room for more lines, never for a line wider than the figure."""
        chars = int(inches * 72 / (CHAR_WIDTH * (size or self.font)))
        return textwrap.fill(text, max(chars, 8), break_on_hyphens=False)

    def legend_columns(self, entries: int, wide: bool = False) -> int:
        """Columns of a legend below the axes: a row of it fits the figure's width."""
        return max(1, min(entries, 6 if wide else 3))


PAPER = PlotStyle(
    name="paper",
    column=3.5,
    wide=7.0,
    font=9,
    small=8,
    title=9,
    dpi=300,
    height=3.0,
    panel=1.55,
    grid_columns=4,
    linewidth=1.2,
    markersize=3.5,
)
SCREEN = PlotStyle(
    name="screen",
    column=6.4,
    wide=10.0,
    font=12,
    small=10,
    title=13,
    dpi=150,
    height=4.8,
    panel=2.4,
    grid_columns=4,
    linewidth=1.8,
    markersize=5.5,
)
STYLES = {s.name: s for s in (PAPER, SCREEN)}


def plot_style(style: str | PlotStyle = "paper") -> PlotStyle:
    """The style of a name (``paper`` | ``screen``), or the style given; a name kd does not
    know is one line naming the choices."""
    if isinstance(style, PlotStyle):
        return style
    if style not in STYLES:
        raise KDError(f"unknown --plot-style '{style}'; use one of {', '.join(STYLES)}")
    return STYLES[style]
