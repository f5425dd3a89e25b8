"""The HTML report: one file with no network, the verdict at the top, a table of contents whose
every link lands on an anchor, each dataset's figures beside its tables with titles in words;
and, where Chromium is installed, the page as a real browser renders it."""

import shutil
import subprocess
from html.parser import HTMLParser

import matplotlib
import numpy as np
import pytest
from PIL import Image
from test_report_order import designed

from kdcli.reporting.model import Figure, Report
from kdcli.reporting.render import render
from kdcli.reporting.sections import build_report

matplotlib.use("Agg")
import matplotlib.pyplot as plt


class Page(HTMLParser):
    """The tags of a page, each with its attributes and the ids of its open ancestors."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict, list[str]]] = []
        self.stack: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs, [a.get("class") or "" for _, a in self.stack]))
        if tag not in ("img", "meta", "br", "hr", "link", "input"):
            self.stack.append((tag, attrs))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass


def parsed(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def figure(path, title: str, dataset: str | None) -> Figure:
    fig, ax = plt.subplots(figsize=(3.5, 2.5))
    ax.plot([0, 1], [0, 1])
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Figure((path,), title, dataset)


def report_with_figures(tmp_path) -> Report:
    rep = build_report(designed(3, {"crossfit": -0.01}), "error", "run <&> 'quoted'")
    rep.figures = [
        figure(tmp_path / "d01.png", "d01: held-out error of tree students by size", "d01"),
        figure(tmp_path / "grid.png", "every dataset's error by tree size", None),
    ]
    rep.plots = [f.png for f in rep.figures]
    return rep


@pytest.fixture(scope="module")
def page_html(tmp_path_factory) -> str:
    """The HTML page of :func:`report_with_figures`, built once: the tests below only read it."""
    return render(report_with_figures(tmp_path_factory.mktemp("page")), "html")


def test_the_page_opens_with_the_verdict_and_every_contents_link_lands(page_html):
    html = page_html
    page = parsed(html)
    ids = [a["id"] for _, a, _ in page.tags if "id" in a]
    assert len(ids) == len(set(ids))  # anchors are unique
    links = [a["href"] for t, a, _ in page.tags if t == "a"]
    assert links and all(h.startswith("#") and h[1:] in ids for h in links)
    toc = html[html.index("<nav id='contents'>") : html.index("</nav>")]
    for part in ("#summary", "#across-datasets", "#dataset-d00", "#dataset-d02"):
        assert f"href='{part}'" in toc
    assert html.index("id='verdict'") < html.index("<nav") < html.index("<table")
    assert "run &lt;&amp;&gt; &#x27;quoted&#x27;" in html  # user text escaped


def test_a_datasets_figure_sits_beside_its_tables_under_a_title_in_words(page_html):
    html = page_html
    page = parsed(html)
    images = [(a, ancestors) for t, a, ancestors in page.tags if t == "img"]
    assert len(images) == 2
    (_, grid_in), (d01, d01_in) = images  # across datasets first, then d01
    assert d01["alt"] == "d01: held-out error of tree students by size"
    assert "pair" in d01_in and "part dataset" in d01_in  # beside d01's tables
    assert "pair" not in grid_in and "wide" not in d01_in
    part = html[html.index("id='dataset-d01'") : html.index("id='dataset-d02'")]
    assert part.index("<table") < part.index("<img") and "d01: held-out error" in part
    assert "<figcaption>every dataset&#x27;s error by tree size</figcaption>" in html


def test_one_file_that_needs_no_network_and_prints(page_html):
    html = page_html
    page = parsed(html)
    for tag, attrs, _ in page.tags:
        for key in ("src", "href"):
            value = attrs.get(key, "")
            assert not value or value.startswith(("#", "data:image/png;base64,")), (tag, value)
    assert tag != "link" and "@import" not in html and "url(" not in html
    assert "@media print" in html and "break-inside:avoid" in html


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (apt install chromium)")
def test_chromium_renders_the_page_with_its_contents_and_figures(page_html, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(page_html)
    shot = tmp_path / "shot.png"
    browser = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    subprocess.run(
        [*browser, f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[:2] == (1600, 1280)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # text, tables: not a blank page
    dom = subprocess.run(
        [*browser, "--dump-dom", page.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    rendered = parsed(dom)
    assert any(t == "nav" and a.get("id") == "contents" for t, a, _ in rendered.tags)
    images = [a for t, a, _ in rendered.tags if t == "img"]
    assert len(images) == 2 and all(a["src"].startswith("data:image/png") for a in images)
