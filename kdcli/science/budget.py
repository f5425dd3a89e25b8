"""The core budget: how many model fits may run at once, and a trace of every fit.

Why: a study runs ``--jobs`` units at once, each in its own worker process. When fewer units
run than there are cores (the tail of every study, a study of one big dataset), the free cores
should take the running units' pending fits. So a unit may run fits side by side up to the whole
budget, and every fit holds a token while it runs: the study as a whole never runs more fits than
there are tokens, whatever the units do.

The budget is process-wide: :func:`set_budget` installs one (a local worker gets a client of its
study's token broker, :mod:`kdcli.study.tokens`). With none (``kd fit``, the API, a Dask worker)
:meth:`Batch.slot` takes nothing, and the caller's thread count is the only cap, as before.

Rules that keep it free of deadlocks and of any effect on the numbers:

- A fit takes its tokens in one request and asks for none while it holds some; a slot inside a
  slot of the same thread takes nothing more.
- A fit whose numbers do not depend on its threads (a forest: trees are seeded before they are
  built, and kd sums their predictions in order) is *elastic*: it takes one token, waiting if
  need be, plus as many more as are free, up to its threads, and runs on that many
  (:func:`held`). Any other multi-threaded fit waits for all its threads' tokens.
- Which fits run, with which seeds and inputs, never depends on the tokens: only when they run.

Traces: inside :func:`tracing` (per thread: units that share a Dask worker's process keep
their own), each fit of a :class:`Batch` records its stage (``teacher``, ``crossfit-teacher``,
``selection-teacher``, ``alpha-teacher``, ``select-c``, ``select-alpha``, ``student``), a label,
its batch, the batches it waited for (``after``), start and end (seconds from the start of the
trace), the seconds it waited for tokens and the tokens it held. A batch is one set of
independent fits run side by side; a batch starts when the batches in its ``after`` are done
(the previous batch of its thread; parts of a unit run at once by :func:`side_by_side` each
carry on from the batch before them): enough for a simulator to replay a study under another
schedule.

Spreading (a Dask unit): inside :func:`spreading`, a batch of two or more fits made in this thread
goes to a *spreader* instead of local threads: each fit becomes a task of the cluster, run by
:func:`remote_fit` wherever a worker thread is free, and traced here with the worker that ran
it. What a fit counts in a :class:`Tally` travels back with its result, so counts do not depend
on where fits ran; the numbers never do (each fit's seeds and inputs are its own).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

T = TypeVar("T")

STAGES = (
    "teacher",
    "crossfit-teacher",
    "selection-teacher",
    "alpha-teacher",
    "select-c",
    "select-alpha",
    "student",
)


class Budget(Protocol):
    """Tokens shared by every fit that may run at once."""

    size: int  # tokens in all

    def acquire(self, least: int, most: int) -> int:
        """Wait until ``least`` tokens are free; take up to ``most``; return how many."""
        ...

    def release(self, count: int) -> None:
        """Give back ``count`` tokens (never waits)."""
        ...


class Spreader(Protocol):
    """Runs a batch's fits as tasks of a cluster (:mod:`kdcli.study.spread`)."""

    def map(self, fn: Callable, items: list, plan: list[tuple[str, str, int, bool]]) -> list:
        """``[remote_fit(fn, item, *plan[i])]`` for each item, anywhere in the cluster."""
        ...


class _Trace:
    """The fits recorded since :func:`tracing` began (appended from many threads)."""

    def __init__(self) -> None:
        self.wall, self.origin = time.time(), time.perf_counter()  # the same instant, twice
        self.fits: list[dict] = []
        self.batches = 0
        self.lock = threading.Lock()


_budget: Budget | None = None
# per thread: .held (tokens of its fit), .trace, .scope (label prefix), .after (the batches its
# next batch waits for), .spread (a Spreader), .notes (a remote fit's tally additions)
_local = threading.local()


def set_budget(budget: Budget | None) -> None:
    """Install ``budget`` for every fit of this process (None: no budget, the caller's cap)."""
    global _budget
    _budget = budget


def current() -> Budget | None:
    return _budget


def held() -> int | None:
    """Threads the fit running in this thread may use (its tokens); None outside a fit."""
    return getattr(_local, "held", None)


class Batch:
    """A set of independent fits about to run side by side, traced in the trace of the thread
    that made it (the fits run in other threads): see the module's docstring."""

    def __init__(self) -> None:
        self.trace: _Trace | None = getattr(_local, "trace", None)
        self.number, self.scope, self.after = -1, getattr(_local, "scope", ""), []
        self.spread: Spreader | None = getattr(_local, "spread", None)
        if self.trace is not None:
            with self.trace.lock:
                self.number, self.trace.batches = self.trace.batches, self.trace.batches + 1
            self.after, _local.after = list(getattr(_local, "after", None) or []), [self.number]

    @contextlib.contextmanager
    def slot(
        self, stage: str, label: str, threads: int = 1, elastic: bool = False
    ) -> Iterator[int]:
        """Hold the tokens of one fit of ``threads`` threads while it runs; yields how many it
        got (``threads`` without a budget; fewer only when ``elastic``)."""
        outer = held()
        if outer is not None:  # already inside a fit: its tokens cover this one
            yield outer
            return
        budget, asked = _budget, time.perf_counter()
        if budget is None:
            tokens = max(1, threads)
        else:
            want = max(1, min(threads, budget.size))
            tokens = budget.acquire(1 if elastic else want, want)
        start = time.perf_counter()
        _local.held = tokens
        try:
            yield tokens
        finally:
            end = time.perf_counter()
            _local.held = None
            if budget is not None:
                budget.release(tokens)
            self._record(stage, label, asked, start, end, tokens)

    def _record(
        self, stage: str, label: str, asked: float, start: float, end: float, tokens: int
    ) -> None:
        if self.trace is not None:
            origin = self.trace.origin
            self._append(stage, label, start - origin, end - origin, start - asked, tokens)

    def _append(self, stage, label, start, end, wait, tokens, **more) -> None:
        """One fit in the trace; times in seconds from the trace's start."""
        assert self.trace is not None
        entry = {
            "stage": stage,
            "label": f"{self.scope} {label}".strip(),
            "batch": self.number,
            "after": self.after,
            "start": round(start, 6),
            "end": round(end, 6),
            "wait": round(wait, 6),
            "tokens": tokens,
            **more,
        }
        with self.trace.lock:
            self.trace.fits.append(entry)

    def spread_map(self, fn: Callable, items: list, plan: list[tuple[str, str, int, bool]]) -> list:
        """The batch's fits as tasks of the cluster (see the module docstring); ``plan[i]`` is
        item i's (stage, label, threads, elastic)."""
        assert self.spread is not None
        asked = time.time()
        outcomes = self.spread.map(fn, items, plan)
        results = []
        for (stage, label, _threads, _elastic), out in zip(plan, outcomes, strict=True):
            result, notes, start, end, tokens, worker = out
            Tally.replay(notes)
            if self.trace is not None:  # Unix times: the worker's clock is another process's
                wall = self.trace.wall
                wait = max(0.0, start - asked)
                self._append(stage, label, start - wall, end - wall, wait, tokens, worker=worker)
            results.append(result)
        return results


def remote_fit(fn: Callable, item, stage: str, label: str, threads: int, elastic: bool) -> tuple:
    """One fit of a spread batch, run on a cluster's worker: ``fn(item)``, with what it counted
    in tallies, its start and end (Unix time), its threads and the worker's address."""
    notes: list = []
    before, _local.notes = getattr(_local, "notes", None), notes
    start = time.time()
    try:
        with Batch().slot(stage, label, threads, elastic) as tokens:
            result = fn(item)
    finally:
        _local.notes = before
    return result, notes, start, time.time(), tokens, _worker_address()


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):  # not in a Dask worker
        return ""


@contextlib.contextmanager
def spreading(spreader: Spreader | None) -> Iterator[None]:
    """Send the batches this thread makes to ``spreader`` (None: run them here)."""
    before, _local.spread = getattr(_local, "spread", None), spreader
    try:
        yield
    finally:
        _local.spread = before


_tallies: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # key -> Tally


class Tally:
    """A count of fits and their seconds that fits add to from any thread, or from a cluster's
    worker: there :meth:`add` notes the addition, :func:`remote_fit` sends the notes back with
    the fit's result and :meth:`replay` applies them to the tally they came from."""

    def __init__(self) -> None:
        self.count, self.seconds = 0, 0.0
        self.key = uuid.uuid4().hex
        self.lock = threading.Lock()
        _tallies[self.key] = self

    def add(self, seconds: float, count: int = 1) -> None:
        notes = getattr(_local, "notes", None)
        if notes is not None:  # a fit on a cluster's worker: counted where it was asked for
            notes.append((self.key, seconds, count))
            return
        with self.lock:
            self.count += count
            self.seconds += seconds

    @staticmethod
    def replay(notes: list) -> None:
        for key, seconds, count in notes:
            tally = _tallies.get(key)
            if tally is not None:
                tally.add(seconds, count)

    def __getstate__(self) -> dict:
        return {"key": self.key}  # a copy sent to a worker only notes what it adds

    def __setstate__(self, state: dict) -> None:
        self.count, self.seconds, self.key = 0, 0.0, state["key"]
        self.lock = threading.Lock()


@contextlib.contextmanager
def scope(text: str) -> Iterator[None]:
    """Prefix the labels of the fits of the batches made inside, in this thread's trace (e.g.
    a student family, its sizes and mode)."""
    before, _local.scope = getattr(_local, "scope", ""), text
    try:
        yield
    finally:
        _local.scope = before


def side_by_side(tasks: list[Callable[[], T]]) -> list[T]:
    """``[task() for task in tasks]``, the tasks in threads of their own where a core budget
    caps the fits they make (so none waits for another's last fit while a core idles), else
    one after another. Independent parts of a unit (student sizes, modes) only: results keep
    the order of ``tasks``, and each fit's seeds are its own, so the numbers do not change.
    Each thread carries on this thread's trace, scope and dependencies; the batches made after
    it wait for the last batch of every task."""
    if len(tasks) <= 1 or _budget is None or getattr(_local, "spread", None) is not None:
        return [task() for task in tasks]
    trace, label = getattr(_local, "trace", None), getattr(_local, "scope", "")
    after = list(getattr(_local, "after", None) or [])
    ends: list[list[int]] = [after] * len(tasks)

    def run(i: int) -> T:
        _local.trace, _local.scope, _local.after = trace, label, list(after)
        try:
            return tasks[i]()
        finally:
            ends[i] = _local.after
            _local.trace, _local.scope, _local.after = None, "", []

    with ThreadPoolExecutor(len(tasks), thread_name_prefix="kd-part") as pool:
        results = list(pool.map(run, range(len(tasks))))
    _local.after = sorted({b for end in ends for b in end})
    return results


class LocalBudget:
    """:class:`Budget` of one process (``kd fit``, the API): ``size`` tokens for its threads."""

    def __init__(self, size: int):
        self.size = self.free = max(1, size)
        self.cond = threading.Condition()

    def acquire(self, least: int, most: int) -> int:
        with self.cond:
            least = max(1, min(least, self.size))
            self.cond.wait_for(lambda: self.free >= least)
            granted = min(max(most, least), self.free)
            self.free -= granted
            return granted

    def release(self, count: int) -> None:
        with self.cond:
            self.free += count
            self.cond.notify_all()


@contextlib.contextmanager
def own_budget(size: int) -> Iterator[None]:
    """A :class:`LocalBudget` of ``size`` tokens while inside, unless one is installed (a
    study's worker keeps its study's)."""
    if _budget is not None:
        yield
        return
    set_budget(LocalBudget(size))
    try:
        yield
    finally:
        set_budget(None)


@contextlib.contextmanager
def tracing() -> Iterator[dict]:
    """Record every fit of the batches this thread makes from now on; yields the trace:
    ``fits``, the list the records go to, each in seconds from ``origin`` (now, in Unix time,
    so that the traces of processes side by side line up)."""
    before, _local.trace = getattr(_local, "trace", None), _Trace()
    after, _local.after = getattr(_local, "after", None) or [], []
    try:
        yield {"origin": _local.trace.wall, "fits": _local.trace.fits}
    finally:
        _local.trace, _local.after = before, after
