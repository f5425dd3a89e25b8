"""The architecture holds: data flows one way, from the command line down to the science."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import kdcli

PACKAGE = Path(kdcli.__file__).parent
# lowest first; a module may import only from its own layer or a lower one
LAYERS = [
    {"errors", "atomic", "records", "text"},
    {"data"},
    {"science"},
    {"settings"},
    {"experiment"},
    {"study"},
    {"distilled"},
    {"reporting"},
    {"api"},
    {"cli", "regress", "__main__"},
]


def layer_of(module: str) -> int:
    top = module.split(".")[1] if module.startswith("kdcli.") else module
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module} is in no layer")


def kd_imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kdcli"):
            out.append(node.module if node.module != "kdcli" else f"kdcli.{node.names[0].name}")
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names if a.name.startswith("kdcli.")]
    return out


def test_no_import_runs_back_up():
    upward = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        if module == "kdcli":
            continue
        for imported in kd_imports(path):
            if imported.split(".")[1] != "__version__" and layer_of(imported) > layer_of(module):
                upward.append(f"{module} imports {imported}")
    assert upward == []


def test_the_public_api_is_documented():
    for name in kdcli.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(kdcli, name)
        assert (obj.__doc__ or "").strip(), f"kdcli.{name} has no docstring"


@pytest.mark.parametrize("module", ["kdcli.study.runner", "kdcli.experiment.fit", "kdcli.cli"])
def test_every_layer_imports_first_in_a_fresh_interpreter(module):
    """`from kdcli import records` must not trigger the lazy API (which imports the half-loaded
    module back): a circular import that only a fresh interpreter shows."""
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_every_module_is_small_enough_to_hold_one_concept():
    """A module past 450 lines has always turned out to do several jobs (report.py held five)."""
    sizes = {
        str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n >= 450} == {}
