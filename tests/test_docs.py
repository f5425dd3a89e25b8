"""The documentation holds: its Python examples run, every `kd` command it shows exists with the
options it uses, every relative link resolves, the README stays short and the site builds with
no warning. Docs that drift from the code mislead more than no docs."""

from __future__ import annotations

import logging
import re
import shlex
import sys
import textwrap
import unicodedata
from pathlib import Path

import pytest
import typer.main
from test_layout import LAYERS

from kdcli.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = sorted(DOCS.glob("*.md"))
NOT_TESTED = "<!-- not-tested -->"  # put on the line before a ```python block that must not run
FENCE = re.compile(
    r"^(?P<indent>[ ]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ ]*$", re.S | re.M
)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
SHELL_OPERATORS = {"&&", "||", "|", ";", "&"}


def fenced(text: str) -> list[tuple[str, str, bool]]:
    """(language, code, runnable) of every fenced block, indented ones (in lists) included."""
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip().splitlines()
        runnable = not (before and before[-1].strip() == NOT_TESTED)
        code = textwrap.dedent(match["body"])
        blocks.append((match["lang"], code, runnable))
    return blocks


def without_code(text: str) -> str:
    """Prose only: links inside code blocks and inline code are examples, not links."""
    return re.sub(r"`[^`\n]*`", "", FENCE.sub("", text))


def slug(heading: str) -> str:
    """An anchor as Python-Markdown's toc (and, for these ASCII headings, GitHub) makes it."""
    text = unicodedata.normalize("NFKD", heading.replace("`", ""))
    text = re.sub(r"[^\w\s-]", "", text.encode("ascii", "ignore").decode()).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text())
    return {slug(h) for h in re.findall(r"^#{1,6} (.+?)\s*$", text, re.M)}


# (a) every Python example runs -------------------------------------------------------------


def python_pages() -> list[Path]:
    return [p for p in PAGES if any(lang == "python" for lang, _, _ in fenced(p.read_text()))]


@pytest.mark.parametrize("page", python_pages(), ids=lambda p: p.name)
def test_the_python_examples_of_a_page_run_in_order(page, tmp_path, monkeypatch):
    """A page's blocks share one namespace, as in a notebook, in an empty working folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KD_CACHE_DIR", str(tmp_path / "cache"))  # teacher predictions of a study
    namespace: dict = {"__name__": "__docs__"}
    ran = 0
    for lang, code, runnable in fenced(page.read_text()):
        if lang == "python" and runnable:
            exec(compile(code, f"{page.name}:python-block-{ran}", "exec"), namespace)
            ran += 1
    assert ran > 0


def test_only_a_few_python_examples_are_kept_from_running():
    blocks = [b for p in PAGES for b in fenced(p.read_text()) if b[0] == "python"]
    assert len(blocks) >= 8
    assert sum(not runnable for _, _, runnable in blocks) <= 3


# (b) every `kd ...` command names a real subcommand and real options ----------------------------


def shell_lines(lang: str, code: str) -> list[str]:
    code = code.replace("\\\n", " ")
    lines = code.splitlines()
    if lang == "console":  # only what the user types
        return [line[2:] for line in lines if line.startswith("$ ")]
    return lines


def kd_invocations(line: str) -> list[list[str]]:
    """The argument lists of every `kd` in one shell line (after `&&`, `|`, `;` too)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    found, current = [], []
    for token in lexer:
        if token in SHELL_OPERATORS:
            found.append(current)
            current = []
        else:
            current.append(token)
    found.append(current)
    return [tokens[1:] for tokens in found if tokens and tokens[0] == "kd"]


def documented_commands() -> list[tuple[str, list[str]]]:
    out = []
    for path in [README, *PAGES]:
        for lang, code, _ in fenced(path.read_text()):
            if lang in ("bash", "console", "sh", "shell"):
                for line in shell_lines(lang, code):
                    out += [(path.name, args) for args in kd_invocations(line)]
    return out


def option_names(command) -> set[str]:
    names = {"--help"}
    for param in command.params:
        names.update(o for o in [*param.opts, *param.secondary_opts] if o.startswith("-"))
    return names


def problems_of(args: list[str], root) -> list[str]:
    """What in one `kd` argument list `kd --help` would not know: a subcommand or an option."""
    command, path, rest = root, ["kd"], list(args)
    while hasattr(command, "commands") and rest and not rest[0].startswith("-"):
        name = rest.pop(0)
        if name not in command.commands:
            return [f"{' '.join(path)} has no subcommand {name!r}"]
        command, path = command.commands[name], [*path, name]
    if hasattr(command, "commands") and not rest:
        return [f"{' '.join(path)} needs a subcommand"]
    known = option_names(command)
    return [
        f"{' '.join(path)} has no option {token.split('=')[0]}"
        for token in rest
        if token.startswith("-") and token != "-" and token.split("=")[0] not in known
    ]


def test_every_kd_command_shown_names_a_real_subcommand_and_its_options():
    root = typer.main.get_command(app)
    commands = documented_commands()
    assert len(commands) >= 40  # the parser found them: a tour, a page of examples each
    shown = {args[0] for _, args in commands}
    assert {"fit", "benchmark", "report", "check", "distill", "predict", "datasets"} <= shown
    wrong = [
        f"{page}: kd {' '.join(args)}: {problem}"
        for page, args in commands
        for problem in problems_of(args, root)
    ]
    assert wrong == []


def test_the_command_checker_catches_what_kd_would_refuse():
    root = typer.main.get_command(app)
    assert problems_of(["fit", "--sizes", "8", "--no-such-option"], root) == [
        "kd fit has no option --no-such-option"
    ]
    assert problems_of(["fits", "--sizes", "8"], root) == ["kd has no subcommand 'fits'"]
    assert problems_of(["datasets", "list", "--suite=demo"], root) == []
    assert problems_of(["report", "RUN", "--out", "-"], root) == []
    assert kd_invocations("make install && kd fit -d x | jq . # kd nope") == [["fit", "-d", "x"]]


# (c) every relative link resolves ----------------------------------------------------------


def test_every_relative_link_points_at_a_file_that_exists():
    broken = []
    for path in [README, *PAGES]:
        for target in LINK.findall(without_code(path.read_text())):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a web address, or an anchor of the page itself (mkdocs checks those)
            file, _, anchor = target.partition("#")
            where = (path.parent / file).resolve()
            if not where.exists():
                broken.append(f"{path.name}: {target}")
            elif anchor and where.suffix == ".md" and anchor not in anchors(where):
                broken.append(f"{path.name}: {target} (no such heading)")
    assert broken == []


def test_the_readme_links_to_every_docs_page():
    linked = {Path(t.partition("#")[0]).name for t in LINK.findall(README.read_text())}
    assert {p.name for p in PAGES if p.name not in ("index.md", "changelog.md")} <= linked


# (d) a short README -------------------------------------------------------------------------


def test_the_readme_is_at_most_200_lines():
    assert len(README.read_text().splitlines()) <= 200


# the architecture page follows the code ------------------------------------------------------


def test_the_layer_diagram_is_the_layers_the_layout_test_enforces():
    page = (DOCS / "architecture.md").read_text()
    diagram = next(code for lang, code, _ in fenced(page) if lang == "text")
    rows = [line.strip() for line in diagram.splitlines() if line.strip() not in ("", "↓")]
    drawn = [set(re.split(r"\s{2,}", row)[0].split(", ")) for row in rows]
    assert drawn[::-1] == LAYERS


def test_the_architecture_page_lists_every_module_of_every_package():
    page = (DOCS / "architecture.md").read_text()
    sections = dict(re.findall(r"^## `(\w+)/`\n(.*?)(?=^## |\Z)", page, re.S | re.M))
    package = ROOT / "kdcli"
    for folder in sorted(p for p in package.iterdir() if (p / "__init__.py").exists()):
        if folder.name == "suites":  # package data, not code
            continue
        assert folder.name in sections, f"no section for kdcli/{folder.name}/"
        listed = set(re.findall(r"^\| `(\w+\.py)` \|", sections[folder.name], re.M))
        modules = {p.name for p in folder.glob("*.py")} - {"__init__.py"}
        assert modules <= listed, f"kdcli/{folder.name}/ lacks {sorted(modules - listed)}"
        assert listed - {"__init__.py"} <= modules, (
            f"kdcli/{folder.name}/ has no {listed - modules}"
        )
    for module in package.glob("*.py"):
        assert f"`{module.name}`" in page, f"kdcli/{module.name} is not on the page"


# (e) the site builds with no warning, its CLI reference from the code --------------------------


class _Warnings(logging.Handler):
    """Every record of WARNING or above, from any logger: what `mkdocs build` would print."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")


def build_site(site: Path, monkeypatch) -> list[str]:
    """`mkdocs build --strict` of the checkout, in this process (the CLI reference imports kd's
    app, already loaded here, instead of a fresh interpreter importing it again); returns the
    warnings it logged. Strict: a warning fails the build (mkdocs' Abort)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    monkeypatch.setattr(sys, "path", list(sys.path))  # docs/hooks.py prepends to it
    warnings = _Warnings()
    root = logging.getLogger()
    root.addHandler(warnings)
    try:
        build(load_config(str(ROOT / "mkdocs.yml"), strict=True, site_dir=str(site)))
    finally:
        root.removeHandler(warnings)
    return warnings.lines


def test_the_site_builds_strictly_with_the_whole_cli_in_its_reference(tmp_path, monkeypatch):
    site = tmp_path / "site"
    assert build_site(site, monkeypatch) == []
    assert {p.parent.name for p in site.glob("*/index.html")} >= {p.stem for p in PAGES} - {"index"}
    reference = (site / "cli" / "index.html").read_text()
    root = typer.main.get_command(app)
    for name, command in root.commands.items():
        for sub in getattr(command, "commands", {name: command}).values():
            for option in option_names(sub) - {"--help"}:
                assert option in reference, f"kd {name} {sub.name}: {option} not in the reference"
    latest = re.search(r"^## \[([^\]]+)\]", (ROOT / "CHANGELOG.md").read_text(), re.M)[1]
    assert f"[{latest}]" in (site / "changelog" / "index.html").read_text()  # included, not copied
