"""Run a study: plan its units, run the unfinished ones on an executor, keep every result."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kdcli.atomic import atomic_write_text
from kdcli.data.openml_source import OpenMLConfig
from kdcli.errors import KDError, SettingError, Terminated
from kdcli.settings.execution import Execution
from kdcli.settings.study import StudySettings
from kdcli.study.cost import longest_first, member_shapes, unit_estimates
from kdcli.study.dask_executor import DaskExecutor
from kdcli.study.data_state import current_hashes
from kdcli.study.executors import LocalExecutor, Outcome
from kdcli.study.lock import StudyLock
from kdcli.study.memory_cap import address_notice
from kdcli.study.plan import PlanFailure, Unit, plan_units
from kdcli.study.results_dir import ResultsDir
from kdcli.study.run_folder import RunFolder, check_out_dir
from kdcli.study.signals import Stop, stop_signals_interrupt
from kdcli.study.unit import payload


@dataclass
class StudyRun:
    """What a run of a study did, and the study's tables as they stand after it."""

    out: Path
    total: int
    skipped: int  # finished before this run
    done: int = 0  # units with results, after this run
    ran: int = 0
    failed_now: int = 0
    interrupted: bool = False  # stopped by Ctrl-C or SIGTERM; finished units are kept
    terminated: bool = False  # the stop was SIGTERM (exit 143 rather than 130)
    plan_failures: list[PlanFailure] = field(default_factory=list)
    results: pd.DataFrame | None = None
    summary: pd.DataFrame | None = None
    failures: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    teacher_fits_reused: int = 0
    fits: int = 0  # model fits of the units run now, and their summed wall time
    fit_seconds: float = 0.0


class StudyProgress:
    """What a caller is told while a study runs; the default tells nothing."""

    def planning(self, dataset: str) -> None: ...

    def start(self, total: int, todo: int, skipped: int) -> None: ...

    def estimated(self, estimates: dict[Unit, float], parallel: int) -> None:
        """The units to run, longest first, with their estimated seconds; ``parallel``: how
        many run at once (for an ETA)."""

    def unit_started(self, unit: Unit) -> None: ...

    def unit_finished(self, unit: Unit, outcome: Outcome) -> None: ...

    def notice(self, text: str) -> None:
        """Something the user should know that is not an error (a damaged file set aside)."""


def run_study(
    study: StudySettings,
    out: Path | None,
    execution: Execution = Execution(),
    cfg: OpenMLConfig | None = None,
    progress: StudyProgress | None = None,
    retry_failed: bool = False,
    command: str = "",
    versions: dict | None = None,
    config: dict | None = None,
) -> StudyRun:
    """Run (or resume) ``study`` in the folder ``out``; Ctrl-C stops it cleanly, with every
    finished unit kept (``report.interrupted``). ``config``: the options as the command got
    them, recorded in run.json as ``config`` (the latest command's)."""
    if out is None:
        raise SettingError("out", "a study needs {opt} DIR: every finished unit is kept there")
    cfg = cfg or OpenMLConfig.from_env()
    progress = progress or StudyProgress()
    threads, memory = execution.threads_per_fit, execution.memory_bytes
    executor = (
        DaskExecutor(execution.address, execution.jobs, execution.timeout_per_unit, threads, memory)
        if execution.executor == "dask"
        else LocalExecutor(execution.jobs, execution.timeout_per_unit, memory=memory)
    )
    if memory and execution.address:  # workers kd did not start keep their own limit
        progress.notice(address_notice(execution.address, memory))
    check_out_dir(Path(out), "kd-benchmark")
    store = ResultsDir(Path(out))
    store.check_usable()
    if retry_failed and not RunFolder(store.path).has_record():
        raise KDError(
            f"--retry-failed: {store.path} holds no study, so no unit has failed to retry; run "
            "the command without --retry-failed to start the study"
        )
    executor.connect()  # an unreachable scheduler is reported before DIR is touched
    try:
        with StudyLock(store.path) as lock, stop_signals_interrupt() as stop:
            if (notice := lock.stale_notice()) is not None:
                progress.notice(notice)
            extra = {"versions": versions or {}} | ({"config": config} if config else {})
            record = store.open(study, command, extra, progress.notice)
            report = _run(
                study, store, executor, execution, cfg, progress, retry_failed, threads, stop
            )
            _finish(store, record, report, execution, threads)
            return report
    finally:
        executor.close()


def _run(
    study, store, executor, execution, cfg, progress, retry_failed, threads, stop: Stop
) -> StudyRun:
    t0 = time.perf_counter()
    units, plan_failures = plan_units(study, cfg, progress.planning)
    failed_members = {pf.dataset for pf in plan_failures}
    for pf in plan_failures:
        store.write_failure(
            f"{pf.dataset}__plan",
            {"dataset": pf.dataset, "spec": pf.spec, "error": pf.error, "stage": "plan"},
        )
    for member in study.members:  # planned now (e.g. fetched since): its old failure goes
        if member.name not in failed_members:
            store.clear_failure(f"{member.name}__plan")
    by_id = {u.unit_id: u for u in units}
    store.record["planned"] = planned_splits(units)  # what a report counts a cell against
    store.verify(units, progress.notice)  # a damaged unit file is set aside and run again
    memo = store.record.setdefault("data", {})
    now = current_hashes(study.members, store.datasets_done(units), cfg, memo)
    store.set_aside_stale(units, now, progress.notice)  # made from data that changed since
    store.write_record(store.record)
    if retry_failed:
        todo = [u for u in units if store.failed(u) and not store.done(u)]
        if not todo:
            progress.notice("--retry-failed: no unit of this study has failed; nothing to retry")
    else:
        todo = [u for u in units if not store.done(u) and not store.failed(u)]
    skipped = sum(store.done(u) for u in units)
    report = StudyRun(store.path, len(units), skipped, plan_failures=plan_failures)
    shapes = member_shapes(study, cfg)
    estimates = unit_estimates(study, units, shapes, store.recorded_seconds(units))
    todo = longest_first(todo, estimates)  # the executors take work in the order given
    progress.start(len(units), len(todo), skipped)
    progress.estimated({u: estimates[u.unit_id] for u in todo}, executor.slots())
    spread = execution.executor == "dask"  # a big unit's fits go to the whole cluster
    work = [
        (
            u.unit_id,
            payload(
                study.fit, u, cfg, threads, spread and estimates[u.unit_id] >= execution.spread_from
            ),
        )
        for u in todo
    ]
    try:
        for outcome in executor.run(work, lambda uid: progress.unit_started(by_id[uid])):
            unit = by_id[outcome.unit_id]
            estimate = round(estimates[unit.unit_id], 2)
            if outcome.result is not None:
                timings = outcome.result["timings"]
                timings.update(estimated_seconds=estimate, seconds=round(outcome.seconds, 2))
                store.write_unit(unit, outcome.result)
                _pass_on_notices(unit, outcome.result, store, progress)
                report.teacher_fits_reused += bool(timings.get("teacher_cached"))
                report.fits += timings.get("fits", 0)
                report.fit_seconds += timings.get("fit_seconds", 0.0)
            else:
                store.write_failure(
                    unit.unit_id,
                    {
                        "dataset": unit.dataset,
                        "repeat": unit.repeat,
                        "fold": unit.fold,
                        "teacher": unit.teacher,
                        "error": outcome.error,
                        "kind": outcome.kind,  # error, timeout or memory
                        "detail": outcome.detail,
                        "seconds": round(outcome.seconds, 2),
                        "estimated_seconds": estimate,
                    },
                )
                report.failed_now += 1
            report.ran += 1
            progress.unit_finished(unit, outcome)
            stop.check()  # a stop a finalizer swallowed: taken once this unit is kept
        stop.check()
    except KeyboardInterrupt as signal_:
        report.interrupted = True
        report.terminated = isinstance(signal_, Terminated)
    report.seconds = time.perf_counter() - t0
    report.done = int(sum(store.done(u) for u in units))
    report.results = store.assemble(units)
    report.summary = store.write_tables(report.results)
    latency = store.assemble_latency(units)
    if len(latency):
        atomic_write_text(store.path / "latency.csv", latency.to_csv(index=False))
    report.failures = [
        f for f in store.failure_list() if f["unit"] in by_id or f["unit"].endswith("__plan")
    ]
    return report


def planned_splits(units: list[Unit]) -> dict[str, dict[str, list[list[int]]]]:
    """dataset -> teacher -> the [repeat, fold] splits planned: kept in run.json, so a report
    flags every cell with fewer splits than the study asked for, even one no unit reached."""
    out: dict[str, dict[str, list[list[int]]]] = {}
    for u in units:
        out.setdefault(u.dataset, {}).setdefault(u.teacher, []).append([u.repeat, u.fold])
    return out


def _pass_on_notices(unit: Unit, result: dict, store: ResultsDir, progress: StudyProgress) -> None:
    """A dataset's load notices, once per dataset and study folder (kept in run.json)."""
    notices = result.get("notices") or []
    seen = store.record.setdefault("notices", {})
    if notices and unit.dataset not in seen:
        seen[unit.dataset] = notices
        for text in notices:
            progress.notice(f"{unit.dataset}: {text}")


def _finish(store, record: dict, report: StudyRun, execution: Execution, threads: int) -> None:
    record.update(
        units_total=report.total,
        units_done=report.done,
        units_failed=len(report.failures),
        threads_per_fit=threads,
        executor=execution.executor,
        jobs=execution.jobs,
        memory_per_unit=execution.memory_per_unit,  # MiB; how it ran, not the study's identity
    )
    record.setdefault("timings", []).append(
        {
            "seconds": round(report.seconds, 2),
            "units_run": report.ran,
            "interrupted": report.interrupted,
            "fits": report.fits,
            "fit_seconds": round(report.fit_seconds, 2),
        }
    )
    store.write_record(record)
