"""Figures at print quality: PNG at 300 dpi, a PDF and an SVG with editable text for each; no
mean-rank figure for one dataset; the critical-difference diagram titled in words. In the paper
style each figure is saved at its printed size (one column 3.5 in, two columns 7 in), every text
at least 8 pt there, its legend below the axes; a grid of every dataset's curves per student."""

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.text import Text
from PIL import Image
from test_capacity import sweep_frame
from test_report import make_run, make_study

import kdcli
from kdcli.reporting.capacity import capacity_tables
from kdcli.reporting.cd_diagram import cd_diagrams, draw_cd
from kdcli.reporting.compare import mean_ranks
from kdcli.reporting.grid import grid_figure
from kdcli.reporting.model import Report
from kdcli.reporting.pareto import pareto_table
from kdcli.reporting.plot_style import PAPER, SCREEN
from kdcli.reporting.plots import (
    capacity_figure,
    pareto_figure,
    rank_figure,
    size_figure,
    size_table,
)
from kdcli.reporting.report import report_run

from conftest import one_line_error


@pytest.fixture(scope="module")
def drawn(tmp_path_factory) -> tuple[Path, Report]:
    """make_run's report with every figure drawn into RUN/plots, where `kd report --save-plots`
    writes them (that option itself is tested in test_report.py); the tests below only read
    it."""
    run = make_run(tmp_path_factory.mktemp("drawn") / "run")
    return run, report_run(run, plots=run / "plots")


def one_dataset_run(path: Path) -> Path:
    """make_run's dataset a alone: its one figure, without the grid, ranks and CD diagrams."""
    run = make_run(path, members=("a",))
    results = pd.read_csv(run / "results.csv", dtype={"size": str}, keep_default_na=False)
    results[results["dataset"] == "a"].to_csv(run / "results.csv", index=False)
    return run


def test_every_figure_is_a_300_dpi_png_a_pdf_and_an_svg_with_text(drawn):
    run, _ = drawn
    pngs = sorted((run / "plots").glob("*.png"))
    assert len(pngs) == 6  # two datasets, their grid, the mean ranks, a CD diagram per size
    for png in pngs:
        dpi = Image.open(png).info["dpi"]
        assert round(dpi[0]) == round(dpi[1]) == 300
        assert png.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
        svg = png.with_suffix(".svg").read_text()
        assert "<text" in svg  # labels stay text, editable, not glyph outlines


def test_one_dataset_gets_no_mean_rank_figure_and_no_grid(kd, tmp_path):
    out = tmp_path / "fit"
    args = ["fit", "--dataset", "sklearn:iris", "--teacher-param", "n_estimators=10"]
    assert kd(*args, "--sizes", "2", "--threads", "1", "--out", out, "--quiet")[0] == 0
    assert kd("report", out, "--format", "md", "--save-plots")[0] == 0
    names = [p.name for p in (out / "plots").glob("*.png")]
    assert names and not [n for n in names if n.startswith(("mean-rank", "grid"))]


def test_the_critical_difference_diagram_is_titled_in_words(tmp_path):
    """Drawn as `kd report` draws it, from the report's rank and Friedman tables (alone: the
    other figures are not about its title)."""
    run = make_study(tmp_path / "run", datasets=10, splits=2)
    rep = kdcli.report(run, draw_plots=False)
    (ranks,), (tests,) = rep.sections_of("ranks"), rep.sections_of("friedman")
    cd_diagrams(ranks.table, tests.table, "error", run / "plots")
    (cd,) = sorted((run / "plots").glob("cd-*.svg"))[:1]
    svg = cd.read_text()
    assert "Mean rank of each target by error over 10 datasets" in svg
    assert "a bar joins targets within the critical difference" in svg


# ---------------------------------------------------------------- the printed size


def test_paper_figures_are_saved_at_their_printed_size(drawn):
    """No bbox_inches="tight": a one-column PNG is 3.5 in x 300 dpi wide, a two-column 7 in."""
    run, _ = drawn
    plots = run / "plots"
    widths = {p.stem: Image.open(p).size[0] for p in plots.glob("*.png")}
    for one in ("a-lightgbm-tree-error", "b-lightgbm-tree-error", "mean-rank-lightgbm-tree-error"):
        assert widths[one] == 1050
        assert Image.open(plots / f"{one}.png").size[1] == round(PAPER.height * 300)
    for two in ("grid-lightgbm-tree-error", "cd-lightgbm-tree-4-error"):
        assert widths[two] == 2100
    svg = (plots / "a-lightgbm-tree-error.svg").read_text()
    assert re.search(r'<svg[^>]* width="252pt"', svg)  # 3.5 in in the vector copy too
    for path in plots.glob("*.svg"):  # every text of every figure, as saved
        sizes = [float(s) for s in re.findall(r"font-size: ([\d.]+)px", path.read_text())]
        assert sizes and min(sizes) >= 8, path.name


def test_the_screen_style_draws_larger_figures(kd, tmp_path):
    run = one_dataset_run(tmp_path / "run")
    args = ("report", run, "--format", "md", "--plots")
    assert kd(*args, tmp_path / "paper")[0] == 0
    assert kd(*args, tmp_path / "screen", "--plot-style", "screen")[0] == 0
    stem = "a-lightgbm-tree-error.png"
    paper = Image.open(tmp_path / "paper" / stem)
    screen = Image.open(tmp_path / "screen" / stem)
    assert paper.size == (1050, 900)
    assert screen.size == (round(SCREEN.column * 150), round(SCREEN.height * 150))
    assert round(screen.info["dpi"][0]) == 150
    svg = (tmp_path / "screen" / "a-lightgbm-tree-error.svg").read_text()
    assert min(float(s) for s in re.findall(r"font-size: ([\d.]+)px", svg)) >= SCREEN.small


def test_a_bad_plot_style_is_one_line(kd, tmp_path):
    run = make_run(tmp_path / "run")
    line = one_line_error(*kd("report", run, "--plot-style", "poster", "--save-plots"))
    assert "unknown --plot-style 'poster'" in line and "paper, screen" in line
    assert not (run / "plots").exists()  # refused before any work


# ---------------------------------------------------------------- the figures themselves


def _results(run) -> pd.DataFrame:
    return pd.read_csv(run / "results.csv", dtype={"size": str}, keep_default_na=False)


def _with_bytes(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The results with each model's bytes (the teacher largest), and a latency per cell."""
    size = {"": 90_000.0, "4": 2_000.0, "full": 30_000.0}
    models = frame.assign(metric="model_bytes", value=frame["size"].map(size))
    keys = ["dataset", "teacher", "student", "mode", "size"]
    latency = frame[keys].drop_duplicates().assign(ms_per_10k=lambda f: f["size"].map(size) / 1e3)
    return pd.concat([frame, models], ignore_index=True), latency


def _figures(folder: Path):
    """Every kind of figure, in the paper style, as kd draws it before saving."""
    results = _results(make_run(folder / "run"))
    names = ("lightgbm", "tree", "error")
    tables = {d: size_table(results, d, *names) for d in ("a", "b")}
    ranks = mean_ranks(results, "error")
    ranks = ranks.set_index("size").loc[["4", "full"]]
    frame, latency = _with_bytes(results)
    table = pareto_table(frame, "error", latency)
    points = table[(table["dataset"] == "a") & (table["student"] == "tree")]
    own = table[(table["dataset"] == "a") & (table["student"] == "teacher")]
    (item, *_) = capacity_tables(sweep_frame(), "auc")
    return {
        "size": size_figure(tables["a"], ("a", *names)),
        "rank": rank_figure(ranks, names),
        "capacity": capacity_figure(item),
        "grid": grid_figure(tables, names),
        "pareto": pareto_figure(points, own, "error", {}, {}),
        "cd": draw_cd({"raw": 2.5, "vanilla": 2.5, "corrected": 1.0}, 1.048, "a title"),
    }


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    """Drawn once for the tests below, which only measure them."""
    made = _figures(tmp_path_factory.mktemp("figures"))
    for fig in made.values():
        fig.canvas.draw()  # constrained layout places everything
    yield made
    for fig in made.values():
        plt.close(fig)


def _texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_every_text_is_at_least_8_pt_at_the_printed_size(figures):
    assert figures["size"].get_size_inches() == pytest.approx((3.5, PAPER.height))
    assert figures["grid"].get_size_inches()[0] == figures["cd"].get_size_inches()[0] == 7.0
    assert figures["pareto"].get_size_inches()[0] == 7.0  # bytes and latency: two panels
    for name, fig in figures.items():
        texts = _texts(fig)
        assert len(texts) > 5, name
        small = [(t.get_text(), t.get_fontsize()) for t in texts if t.get_fontsize() < 8]
        assert not small, (name, small)
    sizes = [t.get_text() for t in _texts(figures["pareto"]) if t.get_text() in ("4", "full")]
    assert sizes  # the points' size labels are there, at 8 pt


def test_every_legend_is_outside_every_axes_and_inside_the_figure(figures):
    renderer = figures["size"].canvas.get_renderer()
    for name in ("size", "rank", "capacity", "grid", "pareto"):
        fig = figures[name]
        legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
        assert len(legends) == 1, name
        box = legends[0].get_window_extent(renderer)
        assert len(legends[0].get_texts()) >= 3
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), (name, ax.get_title())
        page = fig.bbox
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0, name
        assert box.y1 < min(ax.get_window_extent(renderer).y0 for ax in fig.axes), name  # below


def test_every_title_and_label_fits_the_figure(figures):
    """Nothing is cut at the saved size: titles and labels are broken into lines, not clipped."""
    for name, fig in figures.items():
        page = fig.bbox.padded(1)
        renderer = fig.canvas.get_renderer()
        labels = [(ax.title, ax.xaxis.label, ax.yaxis.label) for ax in fig.axes]
        for text in [*fig.texts, *(t for three in labels for t in three)]:  # fig.texts: suptitle
            if not text.get_text() or not text.get_visible():
                continue
            box = text.get_window_extent(renderer)
            assert page.x0 <= box.x0 and box.x1 <= page.x1, (name, text.get_text())
            assert page.y0 <= box.y0 and box.y1 <= page.y1, (name, text.get_text())


def test_the_grid_has_a_panel_per_dataset_with_every_mode_and_the_teacher(kd, tmp_path):
    run = make_study(tmp_path / "run", datasets=10, splits=2)
    results = _results(run)
    names = ("lightgbm", "tree", "error")
    tables = {f"d{i}": size_table(results, f"d{i}", *names) for i in range(10)}
    fig = grid_figure(tables, names)
    try:
        fig.canvas.draw()
        panels = [ax for ax in fig.axes if ax.get_visible()]
        assert [ax.get_title() for ax in panels] == [f"d{i}" for i in range(10)]
        assert fig.get_size_inches()[0] == 7.0
        rows = {round(ax.get_position().y0, 3) for ax in panels}
        assert len(rows) == 3  # 4 panels a row for paper: 4 + 4 + 2
        shown = ["raw", "vanilla", "corrected", "teacher (lightgbm)"]
        for ax in panels:
            assert [line.get_label() for line in ax.get_lines()] == shown
            assert ax.get_lines()[-1].get_linestyle() == "--"  # the teacher dashed
            assert len(ax.get_yticks()) <= 5  # few ticks (MaxNLocator)
        (legend,) = fig.legends
        assert [t.get_text() for t in legend.get_texts()] == shown
    finally:
        plt.close(fig)
    two = make_study(tmp_path / "two", datasets=2, splits=2)  # one grid, whatever the count
    assert kd("report", two, "--format", "json", "--plots", tmp_path / "plots")[0] == 0
    assert [p.name for p in (tmp_path / "plots").glob("grid-*.png")] == [
        "grid-lightgbm-tree-error.png"
    ]


def test_one_dataset_of_a_study_gets_no_grid(kd, tmp_path):
    run = make_study(tmp_path / "run", datasets=1, splits=3)
    assert kd("report", run, "--format", "json", "--plots", tmp_path / "plots")[0] == 0
    names = [p.name for p in (tmp_path / "plots").glob("*.png")]
    assert names == ["d0-lightgbm-tree-error.png"]


def test_the_report_lists_its_figures_in_order_with_their_datasets(drawn):
    _, rep = drawn
    stems = [f.png.stem for f in rep.figures]
    assert stems == [
        "a-lightgbm-tree-error",
        "b-lightgbm-tree-error",
        "grid-lightgbm-tree-error",
        "mean-rank-lightgbm-tree-error",
        "cd-lightgbm-tree-4-error",
        "cd-lightgbm-tree-full-error",
    ]
    assert [f.dataset for f in rep.figures] == ["a", "b", None, None, None, None]
    assert rep.plots == [f.png for f in rep.figures]
    for figure in rep.figures:
        assert [p.suffix for p in figure.files] == [".png", ".svg", ".pdf"]
        assert all(p.is_file() for p in figure.files) and figure.title
    assert rep.figures[0].title.startswith("a: held-out error of tree students")


def test_an_html_page_draws_only_the_pngs_it_embeds(drawn, tmp_path):
    run, full = drawn  # every format, into RUN/plots
    folder = tmp_path / "embedded"
    rep = report_run(run, plots=folder, png_only=True)
    assert rep.plots and {p.suffix for p in folder.iterdir()} == {".png"}
    assert {p.suffix for p in (run / "plots").iterdir()} == {".png", ".svg", ".pdf"}
    assert [p.name for p in rep.plots] == [p.name for p in full.plots]
