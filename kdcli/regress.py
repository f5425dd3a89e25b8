"""CI regression of reported numbers: small studies checked against results/reference/.

    python -m kdcli.regress            run every study and check it (exit 1 on a regression)
    python -m kdcli.regress --update   rewrite the references from fresh runs (deliberate change)

Studies are defined in results/reference/studies.json; the study NAME is checked against
results/reference/NAME.csv, or against a fixed ``reference`` it names (a published table, which
``--update`` never rewrites; checked with ``--partial`` and the study's ``claims``). Studies on
../shared/datasets files are skipped where it is absent.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from kdcli.check import load_results, update_reference
from kdcli.data.cache import PROJECT_ROOT

REFERENCE_DIR = PROJECT_ROOT / "results" / "reference"
SHARED = PROJECT_ROOT.parent / "shared" / "datasets"
METRICS = ["error", "log_loss", "auc"]


def studies() -> dict:
    spec = json.loads((REFERENCE_DIR / "studies.json").read_text(encoding="utf-8"))
    return {k: v for k, v in spec.items() if not k.startswith("_")}


def needs_shared(study: dict) -> bool:
    return any(spec.startswith("shared:") for _, spec in study["members"])


def run_study(name: str, workdir: Path) -> Path:
    """Run one study with `kd benchmark` into workdir; return its --out folder."""
    from kdcli.cli import main

    study = studies()[name]
    suite = workdir / f"{name}-suite.csv"
    lines = ["name,spec"]
    for member, spec in study["members"]:
        if spec.startswith("shared:"):
            spec = f"file:{SHARED / spec.removeprefix('shared:')}"
        lines.append(f"{member},{spec}")
    suite.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = workdir / name
    args = [
        "benchmark",
        "--suite",
        str(suite),
        "--out",
        str(out),
        "--cache-dir",
        str(workdir / "cache"),
        "--quiet",
        *study["args"],
    ]
    try:
        main(args)
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise RuntimeError(f"kd {' '.join(args)} exited with {exit_.code}") from None
    return out


def reference_path(name: str) -> Path:
    return REFERENCE_DIR / studies()[name].get("reference", f"{name}.csv")


def check_args(name: str, out: Path) -> list[str]:
    """The `kd check` arguments that judge the study's run in ``out``."""
    study = studies()[name]
    args = ["check", str(out), "--against", str(reference_path(name))]
    if "reference" in study:
        args += ["--partial", "--tol-all", str(study["tolerance"])]
    for claim in study.get("claims", []):
        args += ["--claim", claim]
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    update = "--update" in argv
    failed = False
    with tempfile.TemporaryDirectory(prefix="kd-regress-") as tmp:
        for name, study in studies().items():
            if needs_shared(study) and not SHARED.exists():
                print(f"{name}: skipped ({SHARED} not found)")
                continue
            if update and "reference" in study:
                print(f"{name}: skipped (its reference {study['reference']} is a fixed table)")
                continue
            out = run_study(name, Path(tmp))
            reference = reference_path(name)
            if update:
                n = update_reference(
                    load_results(out),
                    reference,
                    METRICS,
                    study["tolerance"],
                    f"study '{name}' of results/reference/studies.json",
                )
                print(f"{name}: wrote {n} cells to {reference}")
                continue
            from kdcli.cli import main as kd

            print(f"{name}: kd {' '.join(check_args(name, out))}")
            try:
                kd(check_args(name, out))
            except SystemExit as exit_:
                failed |= exit_.code not in (0, None)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
