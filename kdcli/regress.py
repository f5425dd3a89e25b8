"""CI regression of reported numbers: small studies checked against results/reference/.

    python -m kdcli.regress            run every study and check it (exit 1 on a regression)
    python -m kdcli.regress --update   rewrite the references from fresh runs (deliberate change)

A reference written here records its study's settings in its header (``# setting NAME = JSON``
lines), so `kd check` refuses a run made with other settings instead of reporting every cell as
regressed.

Studies are defined in results/reference/studies.json (``settings`` as for :func:`kdcli.fit_settings`,
``execution`` as for :func:`kdcli.run_study`); the study NAME is checked against
results/reference/NAME.csv, or against a fixed ``reference`` it names (a published table, which
``--update`` never rewrites; checked with ``partial`` and the study's ``claims``). Studies on
../shared/datasets files are skipped where it is absent.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import kdcli
from kdcli.data.cache import PROJECT_ROOT
from kdcli.reporting.run_settings import study_record

REFERENCE_DIR = PROJECT_ROOT / "results" / "reference"
SHARED = PROJECT_ROOT.parent / "shared" / "datasets"
METRICS = ["error", "log_loss", "auc"]


def studies() -> dict:
    studies_file = json.loads((REFERENCE_DIR / "studies.json").read_text(encoding="utf-8"))
    return {k: v for k, v in studies_file.items() if not k.startswith("_")}


def needs_shared(study: dict) -> bool:
    return any(spec.startswith("shared:") for _, spec in study["members"])


def reference_study(name: str, workdir: Path) -> kdcli.StudySettings:
    """The settings of one study (its suite manifest written into workdir), as it is run."""
    study = studies()[name]
    suite = workdir / f"{name}-suite.csv"
    lines = ["name,spec"]
    for member, spec in study["members"]:
        if spec.startswith("shared:"):
            spec = f"file:{SHARED / spec.removeprefix('shared:')}"
        lines.append(f"{member},{spec}")
    suite.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return kdcli.study_settings(str(suite), **study["settings"])


def reference_record(name: str) -> dict:
    """The settings record a run of the study writes into its reference (no study is run)."""
    with tempfile.TemporaryDirectory(prefix="kd-regress-") as tmp:
        return study_record(reference_study(name, Path(tmp)))


def run_study(name: str, workdir: Path) -> Path:
    """Run one study into workdir; return its output folder."""
    study = studies()[name]
    out = workdir / name
    report = kdcli.run_study(
        reference_study(name, workdir),
        out,
        openml=kdcli.OpenMLConfig(cache_dir=workdir / "cache", offline=True),
        **study.get("execution", {}),
    )
    if report.failures or report.interrupted:
        raise RuntimeError(f"study {name} did not finish: {report.failures}")
    return out


def reference_path(name: str) -> Path:
    return REFERENCE_DIR / studies()[name].get("reference", f"{name}.csv")


def check_study(name: str, out: Path) -> kdcli.CheckVerdict:
    """The judgement of the study's run in ``out``."""
    study = studies()[name]
    fixed = "reference" in study
    return kdcli.check(
        out,
        reference_path(name),
        tol_all=study["tolerance"] if fixed else None,
        partial=fixed,
        claims=study.get("claims", ()),
    )


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
            if update:
                n = kdcli.update_reference(
                    out,  # the folder: its run.json gives the settings the reference records
                    reference_path(name),
                    metrics=METRICS,
                    tol=study["tolerance"],
                    source=f"study '{name}' of results/reference/studies.json",
                )
                print(f"{name}: wrote {n} cells to {reference_path(name)}")
                continue
            report = check_study(name, out)
            for cell in report.regressed + report.missing:
                print(f"{name}: {cell}")
            for line in report.broken:
                print(f"{name}: claim {line}")
            print(
                f"{name}: {report.verdict()}"
                + (
                    f"; claims: {report.comparisons} comparisons, {len(report.broken)} failed"
                    if report.claims
                    else ""
                )
            )
            failed |= not report.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
