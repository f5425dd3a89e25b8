"""Speed, through kd's Python API, of `kd fit` on bundled, synthetic and (when ../shared is beside the checkout) real data,
of `kd benchmark` on the demo suite with each executor, and of the full `--preset dao2021`
replication on MAGIC (wall time, summed fit time, fits per second).

    python benchmarks/bench_fit.py            everything (the preset alone takes ~25 min)
    python benchmarks/bench_fit.py dao2021    only the preset on MAGIC
    python benchmarks/bench_fit.py contention `kd fit` quiet, then beside a busy neighbour
    python benchmarks/bench_fit.py paper      the preset against the paper's reference procedure

Writes results/bench/latest.json: wall time per case and the held-out errors it produced, so a
regression in speed or in the numbers shows up in review. Never part of the test suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import write_bench
from paths import ROOT
from paths import SHARED_DATASETS as SHARED

import kdcli

CASES = [
    ("breast_cancer default", {"dataset": "sklearn:breast_cancer"}),
    ("synthetic binary n=5000", {"dataset": "synthetic:binary?n=5000&noise=0.2"}),
    ("digits tree+gbdt", {"dataset": "sklearn:digits", "student": "tree,gbdt", "sizes": [10, 100]}),
]
if SHARED.exists():
    magic = f"file:{SHARED / 'magic.tsv.gz'}"
    CASES.append(("magic default", {"dataset": magic}))
    CASES.append(("magic 70/30 paper-like", {"dataset": magic, "test_size": 0.3, "sizes": "full"}))


def run_case(name: str, settings: dict) -> dict:
    """One `kd fit` through the API, in this process: wall and CPU seconds."""
    settings = dict(settings)
    dataset = settings.pop("dataset")
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = kdcli.fit(dataset, **settings)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    summary = result.summary[result.summary.metric == "error"]
    errors = {f"{r.student}/{r.size}/{r.mode}": round(r.mean, 4) for r in summary.itertuples()}
    print(f"{name:<28} {seconds:7.1f} s", flush=True)
    return {
        "case": name,
        "settings": {"dataset": dataset, **settings},
        "wall_seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "timings": result.timings,
        "error": errors,
    }


EXECUTIONS = [
    ("serial", {"jobs": 1}),
    ("jobs 2", {"jobs": 2}),
    ("dask local 2", {"executor": "dask", "jobs": 2}),
]


def run_study(name: str, execution: dict) -> dict:
    """The demo suite as a study, cold teacher cache each time, so executors are compared fairly;
    then a warm re-run with fewer modes (teachers from the cache)."""
    with tempfile.TemporaryDirectory() as tmp:
        openml = kdcli.OpenMLConfig(cache_dir=Path(tmp) / "cache")
        timed = []
        for out, modes in (("out", None), ("out2", "raw,crossfit")):
            spec = kdcli.study_settings("demo", sizes="8,full", modes=modes)
            t0 = time.perf_counter()
            kdcli.run_study(spec, Path(tmp) / out, openml=openml, **execution)
            timed.append(time.perf_counter() - t0)
    cold, warm = timed
    print(f"study {name:<21} {cold:7.1f} s cold, {warm:5.1f} s with cached teachers", flush=True)
    return {
        "study": name,
        "execution": execution,
        "cold_seconds": round(cold, 2),
        "cached_teachers_seconds": round(warm, 2),
    }


CONTENDED = [("digits default", {"dataset": "sklearn:digits"})]
if SHARED.exists():
    CONTENDED.append(("magic default", {"dataset": f"file:{SHARED / 'magic.tsv.gz'}"}))


def run_contention() -> list[dict]:
    """`kd fit` on a quiet machine, then beside one CPU-bound neighbour that this bench starts
    (a shared machine's normal state): the ratio of wall times, target <= 2.5."""
    out = []
    for name, settings in CONTENDED:
        quiet = run_case(f"{name} (quiet)", settings)
        neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(0.5)
            busy = run_case(f"{name} (busy neighbour)", settings)
        finally:
            neighbour.kill()
            neighbour.wait()
        ratio = busy["wall_seconds"] / quiet["wall_seconds"]
        print(f"{name}: {ratio:.2f}x slower beside a busy neighbour (target <= 2.5)", flush=True)
        out.append(
            {
                "case": name,
                "quiet_seconds": quiet["wall_seconds"],
                "busy_seconds": busy["wall_seconds"],
                "ratio": round(ratio, 2),
                "same_numbers": quiet["error"] == busy["error"],
            }
        )
    return out


def run_paper_side_by_side(busy: bool = False) -> dict:
    """kd's `--preset dao2021` (one repeat on MAGIC, cold teacher cache) and the reference
    procedure (benchmarks/dao2021_reference.py) one after the other, in one run; with ``busy``,
    both beside one CPU-bound neighbour."""
    neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            spec = kdcli.study_settings(
                f"dir:{SHARED}", datasets="magic", preset="dao2021", repeats=1
            )
            t0 = time.perf_counter()
            kdcli.run_study(spec, Path(tmp) / "out", openml=kdcli.OpenMLConfig(cache_dir=Path(tmp)))
            kd_seconds = time.perf_counter() - t0
            (unit,) = (Path(tmp) / "out" / "units").glob("*.timings.json")
            stages = json.loads(unit.read_text())
        done = subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "dao2021_reference.py"),
                str(SHARED / "magic.tsv.gz"),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        reference = json.loads(done.stdout)
    finally:
        if neighbour is not None:
            neighbour.kill()
            neighbour.wait()
    ratio = reference["seconds"] / kd_seconds
    where = "beside a busy neighbour" if busy else "quiet"
    print(
        f"dao2021 magic, 1 repeat, {where}: kd {kd_seconds:.0f} s (teacher {stages['teacher']:.0f}, "
        f"students {stages['students']:.0f}), reference {reference['seconds']:.0f} s (teacher "
        f"{reference['teacher_seconds']:.0f}, students {reference['student_seconds']:.0f}): "
        f"{ratio:.2f}x faster (target >= 3)",
        flush=True,
    )
    return {
        "where": where,
        "kd_seconds": round(kd_seconds, 1),
        "kd_teacher_seconds": round(stages["teacher"], 1),
        "kd_student_seconds": round(stages["students"], 1),
        "reference": reference,
        "speedup": round(ratio, 2),
    }


def preset_child(out: str, cache: str) -> None:
    """The preset study itself, in a child process, so its workers' CPU time is counted."""
    spec = kdcli.study_settings(f"dir:{SHARED}", datasets="magic", preset="dao2021")
    kdcli.run_study(spec, out, openml=kdcli.OpenMLConfig(cache_dir=Path(cache)))


def run_preset() -> dict:
    """The paper's full protocol on MAGIC (5 repeats x 11 teacher fits, 9 student sizes, c by
    5-fold CV per size) with a cold teacher cache, then a check against the paper's table."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        before = os.times()
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--preset-child", str(out), f"{tmp}/cache"],
            check=True,
            cwd=ROOT,
        )
        wall = time.perf_counter() - t0
        after = os.times()
        units = [json.loads(p.read_text()) for p in sorted((out / "units").glob("*.timings.json"))]
        check = kdcli.check(out, ROOT / "results" / "reference" / "dao2021.csv", partial=True)
    fits = sum(u["fits"] for u in units)
    fit_seconds = sum(u["fit_seconds"] for u in units)
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    print(
        f"dao2021 magic: {wall:.0f} s wall, {cpu:.0f} s CPU, {fits} fits, "
        f"{fit_seconds:.0f} s summed fit time, {fits / wall:.2f} fits/s",
        flush=True,
    )
    print(check.verdict(), flush=True)
    return {
        "case": "dao2021 preset, magic, 5 repeats",
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "fits": fits,
        "summed_fit_seconds": round(fit_seconds, 1),
        "fits_per_second": round(fits / wall, 3),
        "teacher_seconds": round(sum(u["teacher"] for u in units), 1),
        "student_seconds": round(sum(u["students"] for u in units), 1),
        "check": check.verdict(),
    }


def main(argv: list[str]) -> None:
    out = ROOT / "results" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    if argv[:1] == ["--preset-child"]:
        preset_child(*argv[1:3])
        return
    if argv[:1] in (["paper"], ["paper-quiet"]):
        runs = [run_paper_side_by_side(busy=False)]
        if argv[:1] == ["paper"]:
            runs.append(run_paper_side_by_side(busy=True))
        write(out / "paper.json", {"cores": os.cpu_count(), "runs": runs})
        return
    if argv[:1] == ["contention"]:
        write(out / "contention.json", {"cores": os.cpu_count(), "contention": run_contention()})
        return
    only_preset = argv[:1] == ["dao2021"]
    cases = [] if only_preset else [run_case(name, settings) for name, settings in CASES]
    studies = [] if only_preset else [run_study(name, ex) for name, ex in EXECUTIONS]
    report = {
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "cases": cases,
        "studies": studies,
        "contention": [] if only_preset else run_contention(),
        "paper": [run_paper_side_by_side()] if SHARED.exists() and not only_preset else [],
        "dao2021": run_preset() if SHARED.exists() else "skipped: ../shared not found",
    }
    write(out / ("dao2021.json" if only_preset else "latest.json"), report)


def write(path: Path, report: dict) -> None:
    write_bench(path.name, report)


if __name__ == "__main__":
    main(sys.argv[1:])
