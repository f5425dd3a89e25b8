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
its batch, start and end (seconds from the start of the trace), the seconds it waited for tokens
and the tokens it held. A batch is one set of independent fits run side by side; batches of a
unit run one after another, so every fit of batch b depends on every fit of batch b - 1: enough
for a simulator to replay a study under another schedule.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Protocol

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


class _Trace:
    """The fits recorded since :func:`tracing` began (appended from many threads)."""

    def __init__(self) -> None:
        self.wall, self.origin = time.time(), time.perf_counter()  # the same instant, twice
        self.fits: list[dict] = []
        self.batches = 0
        self.scope = ""
        self.lock = threading.Lock()


_budget: Budget | None = None
_local = threading.local()  # .held: tokens of the fit running in this thread; .trace


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
        self.number, self.scope = -1, ""
        if self.trace is not None:
            with self.trace.lock:
                self.number, self.trace.batches = self.trace.batches, self.trace.batches + 1
            self.scope = self.trace.scope

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
        trace = self.trace
        if trace is None:
            return
        entry = {
            "stage": stage,
            "label": f"{self.scope} {label}".strip(),
            "batch": self.number,
            "start": round(start - trace.origin, 6),
            "end": round(end - trace.origin, 6),
            "wait": round(start - asked, 6),
            "tokens": tokens,
        }
        with trace.lock:
            trace.fits.append(entry)


@contextlib.contextmanager
def scope(text: str) -> Iterator[None]:
    """Prefix the labels of the fits of the batches made inside, in this thread's trace (e.g.
    a student family, its sizes and mode)."""
    trace = getattr(_local, "trace", None)
    if trace is None:
        yield
        return
    before, trace.scope = trace.scope, text
    try:
        yield
    finally:
        trace.scope = before


@contextlib.contextmanager
def tracing() -> Iterator[dict]:
    """Record every fit of the batches this thread makes from now on; yields the trace:
    ``fits``, the list the records go to, each in seconds from ``origin`` (now, in Unix time,
    so that the traces of processes side by side line up)."""
    before, _local.trace = getattr(_local, "trace", None), _Trace()
    try:
        yield {"origin": _local.trace.wall, "fits": _local.trace.fits}
    finally:
        _local.trace = before
