"""Figures at print quality: PNG at 300 dpi, a PDF and an SVG with editable text for each; no
mean-rank figure for one dataset; the critical-difference diagram titled in words."""

from PIL import Image
from test_report import make_run, make_study


def test_every_figure_is_a_300_dpi_png_a_pdf_and_an_svg_with_text(kd, tmp_path):
    run = make_run(tmp_path / "run")
    assert kd("report", run, "--format", "md", "--save-plots")[0] == 0
    pngs = sorted((run / "plots").glob("*.png"))
    assert len(pngs) == 5
    for png in pngs:
        dpi = Image.open(png).info["dpi"]
        assert round(dpi[0]) == round(dpi[1]) == 300
        assert png.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
        svg = png.with_suffix(".svg").read_text()
        assert "<text" in svg  # labels stay text, editable, not glyph outlines


def test_one_dataset_gets_no_mean_rank_figure(kd, tmp_path):
    out = tmp_path / "fit"
    args = ["fit", "--dataset", "sklearn:iris", "--teacher-param", "n_estimators=10"]
    assert kd(*args, "--sizes", "2", "--threads", "1", "--out", out, "--quiet")[0] == 0
    assert kd("report", out, "--format", "md", "--save-plots")[0] == 0
    names = [p.name for p in (out / "plots").glob("*.png")]
    assert names and not [n for n in names if n.startswith("mean-rank")]


def test_the_critical_difference_diagram_is_titled_in_words(kd, tmp_path):
    run = make_study(tmp_path / "run", datasets=10, splits=2)
    assert kd("report", run, "--format", "md", "--save-plots")[0] == 0
    (cd,) = sorted((run / "plots").glob("cd-*.svg"))[:1]
    svg = cd.read_text()
    assert "Mean rank of each target by error over 10 datasets" in svg
    assert "a bar joins targets within the critical difference" in svg
