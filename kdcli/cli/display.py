"""What `kd benchmark` shows: live progress on a terminal, plain lines otherwise, a summary."""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from kdcli.reporting.render import render_rich
from kdcli.reporting.summary import summary_report
from kdcli.reporting.tables import teacher_table
from kdcli.settings.presets import preset_labels, preset_metric
from kdcli.settings.study import StudySettings
from kdcli.study.cost import eta_seconds
from kdcli.study.executors import Outcome
from kdcli.study.plan import Unit
from kdcli.study.runner import StudyProgress, StudyRun


class EtaColumn(ProgressColumn):
    """The time left as the study's cost estimates tell it (rich's own counts units as equal)."""

    def __init__(self, seconds: Callable[[], float | None]):
        super().__init__(table_column=None)
        self.seconds = seconds

    def render(self, task: Task) -> Text:
        left = self.seconds()
        if left is None:
            return Text("-:--:--", style="progress.remaining")
        minutes, secs = divmod(round(left), 60)
        hours, minutes = divmod(minutes, 60)
        return Text(f"{hours}:{minutes:02d}:{secs:02d}", style="progress.remaining")


class StudyDisplay(StudyProgress):
    def __init__(self, quiet: bool, live: bool):
        self.quiet, self.live = quiet, live and not quiet
        self.err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
        self.progress = Progress(
            TextColumn("{task.description:<48}", markup=False),  # unit labels name datasets
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            EtaColumn(self.eta),
            console=self.err,
            transient=True,
            disable=not self.live,
        )
        self.task: TaskID | None = None  # made when the runner starts the units
        self.plan_task: TaskID | None = None
        self.done = self.failed = 0
        self.running: list[str] = []
        self.total = 0
        self.notices: list[str] = []
        self.estimates: dict[Unit, float] = {}  # of the units to run, when the runner gives them
        self.parallel = 1
        self.started: dict[Unit, float] = {}  # running units: when they started (monotonic)
        self.measured: list[tuple[float, float]] = []  # finished units: (estimate, seconds)
        self.left: set[Unit] = set()  # units not finished

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def planning(self, dataset: str) -> None:
        if self.plan_task is None:
            self.plan_task = self.progress.add_task("planning", total=None, failed=0)
        self.progress.update(self.plan_task, description=f"planning {dataset} (data)")

    def start(self, total: int, todo: int, skipped: int) -> None:
        if self.plan_task is not None:
            self.progress.remove_task(self.plan_task)
        self.total, self.done = todo, 0
        self.task = self.progress.add_task("starting", total=todo, failed=0)
        if not self.quiet:
            self.err.print(f"{total} units: {skipped} finished before, {todo} to run", markup=False)

    def estimated(self, estimates: dict[Unit, float], parallel: int) -> None:
        self.estimates, self.parallel = dict(estimates), parallel
        self.left = set(estimates)

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left, by :func:`kdcli.study.cost.eta_seconds`; None before any estimate."""
        if not self.estimates:
            return None
        now = time.monotonic() if now is None else now
        running = [
            (self.estimates[u], now - t)
            for u, t in self.started.items()
            if u in self.left and u in self.estimates
        ]
        queued = [e for u, e in self.estimates.items() if u in self.left and u not in self.started]
        return eta_seconds(queued, running, self.measured, self.parallel)

    def notice(self, text: str) -> None:
        """Shown even with --quiet: files set aside or a lock taken over change what a run did."""
        self.err.print(f"kd: notice: {text}", markup=False)
        self.notices.append(text)

    def unit_started(self, unit: Unit) -> None:
        self.started[unit] = time.monotonic()
        self.running.append(unit.label)
        self._describe()

    def _describe(self) -> None:
        shown = ", ".join(self.running[:2]) + (" …" if len(self.running) > 2 else "")
        if self.task is not None:
            self.progress.update(self.task, description=shown or "finishing")

    def unit_finished(self, unit: Unit, outcome: Outcome) -> None:
        if unit.label in self.running:
            self.running.remove(unit.label)
        self.done += 1
        self.failed += outcome.error is not None
        self.left.discard(unit)
        self.started.pop(unit, None)
        if outcome.error is None and unit in self.estimates:  # a failure says little of cost
            self.measured.append((self.estimates[unit], outcome.seconds))
        if self.task is not None:
            self.progress.update(self.task, advance=1, failed=self.failed)
        self._describe()
        if self.quiet:
            return
        status = "ok" if outcome.error is None else "FAILED"
        line = f"[{self.done}/{self.total}] {status:<6} {unit.label}  {outcome.seconds:.1f} s"
        if outcome.error is not None:
            line += f"  {outcome.error}"
        if self.live:
            self.progress.console.print(line, markup=False)
        else:
            print(line, flush=True)

    def finish(self, report: StudyRun, study: StudySettings, json_: bool) -> None:
        out = Console(width=None if sys.stdout.isatty() else 160, emoji=False)
        if json_:
            print(
                json.dumps(
                    {
                        "out": str(report.out),
                        "units_total": report.total,
                        "units_run": report.ran,
                        "units_failed": len(report.failures),
                        "interrupted": report.interrupted,
                        "terminated": report.terminated,
                        "notices": self.notices,
                        "seconds": round(report.seconds, 2),
                        "units_skipped": report.skipped,
                        "teacher_predictions_reused": report.teacher_fits_reused,
                        "fits": report.fits,
                        "fit_seconds": round(report.fit_seconds, 2),
                        "failures": [
                            {k: f.get(k) for k in ("unit", "error", "kind")}
                            for f in report.failures
                        ],
                        "summary": json.loads(report.summary.to_json(orient="records"))
                        if report.summary is not None and len(report.summary)
                        else [],
                    },
                    indent=2,
                )
            )
            return
        if report.interrupted:
            how = "terminated (SIGTERM)" if report.terminated else "interrupted"
            self.err.print(
                f"{how}: {report.ran} unit(s) finished in this run; run the same command to resume",
                markup=False,
            )
        if report.failures:
            self.err.print(
                f"{len(report.failures)} unit(s) failed (details in "
                f"{report.out}/failures/; --retry-failed re-runs them):",
                markup=False,
            )
            for f in report.failures[:10]:
                self.err.print(f"  {f['unit']}: {f.get('error')}", markup=False)
            if len(report.failures) > 10:
                self.err.print(f"  ... and {len(report.failures) - 10} more", markup=False)
        if self.quiet or report.summary is None or not len(report.summary):
            return
        summary = report.summary
        fit = study.fit
        student = fit.students[0]
        sizes = [str(v) for v in fit.sizes[student]]
        size = "full" if "full" in sizes else max(sizes, key=float)
        teacher = fit.teachers[0].label
        preset = fit.preset
        if fit.swept:  # a teacher sweep: teacher variants x modes, per dataset
            for dataset in dict.fromkeys(summary["dataset"]):
                out.print(f"{dataset}", markup=False, style="bold")
                out.print(
                    teacher_table(
                        summary[summary.dataset == dataset],
                        student,
                        size,
                        preset_metric(preset),
                        labels=preset_labels(preset),
                    )
                )
        elif (
            report.results is not None
            and ((summary.student == student) & (summary.teacher == teacher)).any()
        ):
            table = summary_report(
                report.results,
                preset_metric(preset),
                str(report.out),
                teacher=teacher,
                student=student,
                labels=preset_labels(preset),
            )
            render_rich(table, out)  # the table of `kd report --summary`, at the middle size
            combos = len(fit.teachers) * sum(len(v) for v in fit.sizes.values())
            if combos > 1:
                out.print(
                    f"{combos - 1} more teacher/student/size combination(s), and every "
                    f"metric: {report.out}/summary.csv (kd report --summary --size N)",
                    markup=False,
                )
        out.print(
            f"{report.total} units, {report.done} with results; "
            f"{report.teacher_fits_reused} reused cached teacher predictions; "
            f"{report.seconds:.1f} s, {report.fits} model fits; tables in {report.out}/",
            markup=False,
        )
        out.print(f"next: kd report {shlex.quote(str(report.out))}", markup=False)
