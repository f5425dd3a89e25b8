"""Issue 22, "16 and 64 workers": how a study's wall time scales with cores under kd's old
schedule (whole units, one core each) and its new one (single fits on any free core).

    python benchmarks/bench_scaling.py [SECTION ...]   SECTION: simulated (default), two_cores
    python benchmarks/bench_scaling.py record STUDY    write traces/shared28.json.gz from STUDY

``simulated`` replays recorded traces (benchmarks/replay.py) on P = 2, 16, 32, 64 simulated
cores, in seconds, from the committed trace alone:

- shared28: the 28-dataset default study (`kd benchmark --suite dir:../shared/datasets`), its
  fits as recorded on 2 cores, with each batch's dependencies (a trace recorded before kd ran a
  unit's parts at once has none: each batch then waits for the one before);
- cc18: a SYNTHETIC trace of `--suite openml-cc18` (72 tasks x 10 folds): each task's unit is the
  recorded unit of the shared dataset nearest in shape (log rows, features, classes) with every
  fit scaled so the unit's work matches the projection of benchmarks/project_cc18.py (a
  log-linear model of unit work, fitted on the 28; the 28 CC18 members use their own). The
  largest CC18 tasks lie far outside the measured shapes, so its figures are a projection.

A section is a function returning a dict; results/bench/scaling.json holds one key per section
run (a later section, such as real measured runs on 16 or 64 cores, goes in SECTIONS).
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from bench_common import BENCH, write_bench
from paths import ROOT
from project_cc18 import CC18, FOLDS, MANIFEST, TRAIN_SCALE
from replay import Unit, dump, from_trace, load, replay
from scaling_real import two_cores

from kdcli.study.cost import LogLinear, Shape
from kdcli.study.run_folder import RunFolder

TRACES = Path(__file__).resolve().parent / "traces"
SHARED28 = TRACES / "shared28.json.gz"
PAPER = TRACES / "dao2021-magic.json.gz"  # `--preset dao2021 --datasets magic --repeats 1`
# the reference procedure (benchmarks/dao2021_reference.py) on MAGIC, one repeat, as measured:
# on a 16-core machine (issue 22) and on this project's 2-core one (bench_fit.py paper-quiet)
REFERENCE_SECONDS = {2: 374.0, 16: 102.0}
CORES = (2, 16, 32, 64)
HEADLINE = 32  # cores of the headline figure


# -- the CC18 trace, synthesised -----------------------------------------------------------


def cc18_units(recorded: Sequence[Unit], tasks_of: dict[str, int]) -> list[Unit]:
    """A synthetic openml-cc18 study (suite order, 10 folds a task) from the recorded units:
    see the module's docstring. ``tasks_of``: recorded dataset -> its CC18 task id."""
    own = {tasks_of[u.dataset]: u for u in recorded if u.dataset in tasks_of}
    out = []
    for task, target in zip(cc18_tasks(), task_work(recorded, tasks_of), strict=True):
        shape = (task["rows"], task["features"], task["classes"])
        template = own.get(task["task_id"]) or nearest(recorded, shape)
        for fold in range(FOLDS):
            name = task["name"]
            out.append(
                template.scaled(
                    target / template.work, f"{name}__r0_f{fold}__lightgbm", name, shape
                )
            )
    return out


def task_work(
    recorded: Sequence[Unit], tasks_of: dict[str, int], fitted_on: Sequence[Unit] | None = None
) -> list[float]:
    """Each CC18 task's projected unit work (core-seconds of one fold), in suite order: a
    measured task's own at 90% training rows, any other's the log-linear model's, fitted on
    ``fitted_on`` (default: the recorded units)."""
    basis = recorded if fitted_on is None else fitted_on
    model, _ = LogLinear.fit([Shape(*u.shape) for u in basis], [u.work for u in basis])
    own = {tasks_of[u.dataset]: u for u in recorded if u.dataset in tasks_of}
    return [
        own[task["task_id"]].work * TRAIN_SCALE**model.log_rows
        if task["task_id"] in own
        else model(task["rows"] * TRAIN_SCALE, task["features"], task["classes"])
        for task in cc18_tasks()
    ]


def projection_interval(
    recorded: Sequence[Unit], tasks_of: dict[str, int], cores: int, draws: int = 400, seed: int = 0
) -> tuple[float, float]:
    """A 95% bootstrap interval (percentiles) of the synthetic CC18 study's bound in seconds,
    total work / ``cores``, with the model refitted on the recorded units drawn with
    replacement: how far the extrapolation to the tasks outside the measured shapes moves with
    the 28 units it rests on (the measured tasks keep their own work)."""
    rng = np.random.default_rng(seed)
    bounds = []
    while len(bounds) < draws:
        sample = [recorded[i] for i in rng.integers(0, len(recorded), len(recorded))]
        if len({u.shape for u in sample}) < 8:  # too few shapes to fit 4 coefficients well
            continue
        bounds.append(FOLDS * sum(task_work(recorded, tasks_of, sample)) / cores)
    low, high = np.percentile(bounds, [2.5, 97.5])
    return float(low), float(high)


def cc18_tasks() -> list[dict]:
    """The suite's tasks in its order (the order kd plans them)."""
    with open(CC18, newline="") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        ints = ("task_id", "rows", "features", "classes")
        return [{**r, **{k: int(r[k]) for k in ints}} for r in rows]


def nearest(units: Sequence[Unit], shape: tuple[int, int, int]) -> Unit:
    """The unit whose data is closest in shape: Euclidean distance of the logs (rows,
    features, classes); ties go to the first."""

    def distance(u: Unit) -> float:
        return math.dist([math.log(x) for x in u.shape], [math.log(x) for x in shape])

    return min(units, key=distance)


# -- sections ------------------------------------------------------------------------------


def scaling(units: Sequence[Unit], cores: Sequence[int] = CORES) -> dict:
    """Old (study order, and longest first) and new schedules at each core count."""
    out = {}
    for p in cores:
        runs = {
            "old": replay(units, p, "old"),
            "old_longest_first": replay(units, p, "old", order="longest"),
            "new": replay(units, p, "new"),
        }
        out[str(p)] = {k: r.as_dict() for k, r in runs.items()}
    return out


def simulated() -> dict:
    """Replays of the recorded shared28 trace and the synthetic CC18 one."""
    header, recorded = load(SHARED28)
    cc18 = cc18_units(recorded, header["openml_cc18_task"])
    out = {
        "trace": {k: header[k] for k in ("kd_commit", "machine", "command", "wall_seconds")},
        "shared28": {"units": len(recorded), "cores": scaling(recorded)},
        "cc18": {"units": len(cc18), "synthetic": True, "cores": scaling(cc18)},
    }
    if PAPER.exists():
        out["dao2021_magic"] = paper(load(PAPER)[1])
    # the simulator against the one schedule that really ran: new, 2 units on 2 cores
    out["shared28"]["recorded_wall_seconds"] = header["wall_seconds"]
    at = out["cc18"]["cores"][str(HEADLINE)]
    out["headline"] = {
        "what": f"CC18 on {HEADLINE} workers, new vs old (minutes)",
        "old_minutes": round(at["old"]["makespan"] / 60, 1),
        "new_minutes": round(at["new"]["makespan"] / 60, 1),
        "bound_minutes": round(at["new"]["bound"] / 60, 1),
        "bound_minutes_95": [
            round(b / 60, 1)
            for b in projection_interval(recorded, header["openml_cc18_task"], HEADLINE)
        ],
    }
    return out


def paper(units: Sequence[Unit]) -> dict:
    """kd's preset unit replayed on 2 and 16 cores against the reference's measured seconds
    there. A forest teacher's fit is replayed on one core for its cores x seconds, though kd
    spreads its trees over every free core: the replay is, if anything, slow."""
    out = {}
    for p, reference in REFERENCE_SECONDS.items():
        kd = replay(units, p, "new").makespan
        out[str(p)] = {
            "kd_seconds": round(kd, 1),
            "reference_seconds": reference,
            "speedup": round(reference / kd, 2),
        }
    return out


def show(results: dict) -> None:
    for name in ("shared28", "cc18"):
        print(f"{name} ({results[name]['units']} units), makespan minutes; ratio to bound")
        print(f"  {'P':>3} {'old':>9} {'old/lf':>9} {'new':>9} {'bound':>9}  old/new")
        for p, runs in results[name]["cores"].items():
            o, lf, n = runs["old"], runs["old_longest_first"], runs["new"]
            cells = " ".join(f"{r['makespan'] / 60:9.1f}" for r in (o, lf, n))
            print(
                f"  {p:>3} {cells} {n['bound'] / 60:9.1f}  {o['makespan'] / n['makespan']:5.2f}"
                f"   (ratios {o['ratio']:.2f} {lf['ratio']:.2f} {n['ratio']:.2f})"
            )
    s = results["shared28"]
    print(
        f"check: shared28 ran {s['recorded_wall_seconds'] / 60:.1f} min on 2 cores (new schedule); "
        f"replayed {s['cores']['2']['new']['makespan'] / 60:.1f} (fits only)"
    )
    for p, row in results.get("dao2021_magic", {}).items():
        print(
            f"dao2021 preset, magic, {p} cores: kd {row['kd_seconds']} s (replayed) against the "
            f"reference's {row['reference_seconds']} s (measured): {row['speedup']}x"
        )
    h = results["headline"]
    low, high = h["bound_minutes_95"]
    print(
        f"{h['what']}: {h['new_minutes']} against {h['old_minutes']} (bound {h['bound_minutes']}; "
        f"95% bootstrap interval of the bound over the 28 units the model rests on: {low}-{high})"
    )


SECTIONS: dict[str, Callable[[], dict]] = {"simulated": simulated, "two_cores": two_cores}


# -- recording the trace -------------------------------------------------------------------


def record(study: Path, path: Path = SHARED28) -> Path:
    """The compact trace of a finished study whose teachers were all fitted (not cached); each
    unit's batches renumbered 0, 1, ... and its ``after`` with them (:func:`replay.from_trace`)."""
    manifest = {}
    with open(MANIFEST, newline="") as fh:
        for r in csv.DictReader(fh):
            manifest[r["name"]] = r
    units, first, last = [], math.inf, 0.0
    for file in sorted((study / "units").glob("*.timings.json")):
        t = json.loads(file.read_text())
        if t.get("teacher_cached") is not False:
            raise SystemExit(f"{file.name}: teacher cached; record from a fresh --cache-dir")
        trace, dataset = t["trace"], file.name.split("__r")[0]
        m = manifest.get(dataset)
        shape = tuple(int(m[k]) for k in ("rows", "features", "classes")) if m else None
        units.append(
            from_trace(file.name.removesuffix(".timings.json"), dataset, trace["fits"], shape)
        )
        if trace["fits"]:
            first = min(first, trace["origin"] + min(f["start"] for f in trace["fits"]))
            last = max(last, trace["origin"] + max(f["end"] for f in trace["fits"]))
    commit = _git("rev-parse", "HEAD")
    run = RunFolder(study).record()
    header = {
        "kind": "kd-fit-trace",
        "kd_commit": commit,
        "machine": {"cores": 2, "note": "shared with other work while recorded"},
        "command": run["commands"][0]["command"],
        "created": run.get("created"),
        "wall_seconds": round(last - first, 2),  # first fit's start to last fit's end
        "openml_cc18_task": {
            name: int(m["openml_cc18_task"])
            for name, m in manifest.items()
            if m.get("openml_cc18_task")
        },
        "fields": (
            "per unit: stage (index into stages), batch, seconds (end - start), tokens;"
            " after (per batch: the batches it waits for)"
        ),
    }
    return dump(units, header, path)


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def main(argv: list[str]) -> None:
    if argv[:1] == ["record"]:
        print(f"written {record(Path(argv[1]))}")
        return
    names = argv or ["simulated"]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown section {unknown}: one of {', '.join(SECTIONS)} or record")
    path = BENCH / "scaling.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    for name in names:
        results[name] = SECTIONS[name]()
    if "simulated" in names:
        show(results["simulated"])
    write_bench("scaling.json", results)


if __name__ == "__main__":
    main(sys.argv[1:])
