"""Where units run: local worker processes here, a Dask cluster in
:mod:`kdcli.study.dask_executor`.

Both take (unit_id, payload) pairs and yield Outcome objects as units finish, in any order; the
caller writes them. ``run_unit`` is deterministic, so the tables do not depend on the executor.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import multiprocessing.forkserver as forkserver
import os
import signal
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait

from kdcli.errors import KDError
from kdcli.settings.execution import usable_cores
from kdcli.study.memory_cap import died_under_cap, failure, limit_address_space
from kdcli.study.tokens import TokenBroker
from kdcli.text import one_line


@dataclass
class Outcome:
    unit_id: str
    result: dict | None = None  # run_unit's output when the unit succeeded
    error: str | None = None  # one line, when it failed
    detail: str = ""  # traceback or more context
    seconds: float = 0.0
    kind: str = ""  # of a failure: error, timeout or memory (kdcli.study.memory_cap)

    def __post_init__(self) -> None:
        # a failure's record always says something beyond its one line
        if self.error is not None and not self.detail.strip():
            self.detail = self.error
        if self.error is not None and not self.kind:
            self.kind = "error"


def short_error(err: BaseException) -> str:
    if isinstance(err, KDError):
        return str(err)
    return f"{type(err).__name__}: {one_line(err, 300)}"


def timed_out(unit_id: str, timeout: float, seconds: float) -> Outcome:
    return Outcome(
        unit_id,
        error=f"timed out after {timeout:g} s (--timeout-per-unit)",
        detail=f"the unit ran {seconds:.1f} s, past --timeout-per-unit {timeout:g} s, and was "
        "stopped; raise --timeout-per-unit, or give the unit less to do",
        seconds=seconds,
        kind="timeout",
    )


def _died(proc) -> tuple[str, str]:
    """The one line and the detail of a worker that ended without sending back a result."""
    code = proc.exitcode
    if code == -signal.SIGKILL:
        why = "killed (signal 9: out of memory?)"
    elif code is not None and code < 0:
        why = f"killed by signal {-code} ({_signal_name(-code)})"
    else:
        why = f"died with exit code {code}"
    detail = (
        f"worker process {proc.pid} {why} before it sent back a result. An error kd can report "
        "comes back with its traceback, so the process itself ended: out of memory, a signal "
        "from outside, a crash in a compiled library, or an error while it started (a "
        "traceback on kd's standard error, if so)"
    )
    return f"worker process {why}", detail


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "an unknown signal"


@contextlib.contextmanager
def callers_script_left_out() -> Iterator[None]:
    """Start processes that never run the caller's script.

    Under spawn and forkserver, multiprocessing tells each new process where the caller's
    ``__main__`` came from, and the process runs that file again (as ``__mp_main__``) before it
    starts. A script that calls ``kdcli.run_study`` without ``if __name__ == "__main__":``
    would so start the study again inside every worker. kd's workers need nothing from it (a
    function of kd's, plain data), so while one starts, ``__main__`` is a blank module.
    """
    real = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = real


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

# What the fork server imports once, so that each unit's process starts with it: the unit's
# code, and what a unit would otherwise import on first use in every process (the bundled and
# synthetic data sources, the boosting libraries, the teachers' wrappers and scikit-learn's forests,
# which kd's science modules import where used so that `kd --help` starts without them: 0.1-0.3 s
# a unit on small data). Importing loads OpenMP but starts none of its threads, so the fork that
# follows is safe.
UNIT_MODULES = [
    "kdcli.study.unit",
    "kdcli.data.bundled",
    "kdcli.data.synthetic",
    "kdcli.science.stopping",
    "sklearn.ensemble",
    "lightgbm",
    "xgboost",
]


def start_fork_server(extra: list[str]) -> bool:
    """Start this process's fork server with a unit's modules and ``extra`` imported, unless it
    runs already (then its processes import what it lacks); False where there is none."""
    if "forkserver" not in mp.get_all_start_methods():
        return False
    forkserver.set_forkserver_preload([*UNIT_MODULES, *extra])
    forkserver.ensure_running()
    return True


@contextlib.contextmanager
def _interrupts_held():
    """Take a Ctrl-C (or SIGTERM) only after the block: a worker started but not yet on the
    books would be missed by the cleanup. (Blocking the signal in this thread is not enough: the
    kernel hands it to another thread, such as a BLAS worker, and Python raises it here anyway.)
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    # keyed by int: held holds the plain numbers a handler is given
    previous: dict[int, Callable[[int, types.FrameType | None], object] | int | None] = {
        signum: signal.signal(signum, lambda num, _frame: held.append(num))
        for signum in STOP_SIGNALS
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if held:  # deliver the first one now, to the handler that was in place
        handler = previous[held[0]]
        if callable(handler):
            handler(held[0], None)
        elif held[0] == signal.SIGINT and handler == signal.default_int_handler:
            raise KeyboardInterrupt
        else:
            signal.raise_signal(held[0])


def _die_with(lifeline) -> None:
    """End this worker when the kd process that started it is gone, however it died.

    The parent holds the only write end of ``lifeline``; the kernel closes it when the parent
    dies (even by SIGKILL), and the read here returns. A worker's parent is the fork server, not
    kd, so a parent-death signal would not see kd die.
    """
    try:
        lifeline.recv_bytes()
    except (EOFError, OSError):
        pass
    os.kill(os.getpid(), signal.SIGKILL)


def _child(
    payload: dict, conn, lifeline=None, tokens=None, budget_size: int = 0, memory: int | None = None
) -> None:
    """Body of a local worker process: run the unit, send back its result or its error.

    Ctrl-C and SIGTERM are the parent's business (it stops the workers); a worker ignores them.
    ``tokens`` is its pipe to the study's token broker: every fit of the unit holds tokens of
    the one core budget (:mod:`kdcli.study.tokens`). ``memory``: bytes of address space it may
    take, set before anything else (:mod:`kdcli.study.memory_cap`).
    """
    if memory:
        limit_address_space(memory)
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, set(STOP_SIGNALS))
    # A semaphore made under the forkserver start method is named and registered with the
    # resource tracker until it is freed; joblib's thread pools (threaded forest fits) make
    # such semaphores, so a worker killed mid-fit (a timeout, Ctrl-C) would leave them for the
    # tracker to find, and warn about, at exit. Under "fork" one is unlinked as it is made.
    # The worker starts no process of its own, so nothing forks after OpenMP has started.
    mp.set_start_method("fork", force=True)
    if lifeline is not None:
        threading.Thread(target=_die_with, args=(lifeline,), daemon=True).start()
    if tokens is not None:
        from kdcli.science import budget
        from kdcli.study.tokens import TokenClient

        budget.set_budget(TokenClient(tokens, budget_size))
    from kdcli.study.unit import run_unit

    try:
        conn.send(("ok", run_unit(payload)))
    except BaseException as err:
        trace = traceback.format_exc(limit=20)
        conn.send(("error", failure(err, short_error(err), trace, memory)))
    finally:
        conn.close()


class LocalExecutor:
    """Each unit in a fresh worker process, ``jobs`` at a time; every fit of every unit holds
    tokens of one core budget of ``budget`` tokens (default: the usable cores).

    Cores go to fits, not units: a unit may run as many fits side by side as its payload's
    ``threads``, and the budget, shared by all workers, keeps the study to ``budget`` fits at
    once. So when fewer units run than there are cores (the tail of a study, one big dataset),
    the running units' pending fits take the free cores. The parent lends the tokens
    (:class:`kdcli.study.tokens.TokenBroker`), so a worker that is killed gives its back.

    A process per unit isolates failures: a unit that runs out of memory or is killed takes only
    itself down, and one past ``timeout`` seconds is terminated. Workers are forked from a fork
    server (Linux): a clean process that has imported kd but never fitted anything, so they start
    at once and never inherit an OpenMP thread pool, whatever the calling process (a notebook
    that ran ``kdcli.fit`` first, say) has done. OpenMP after fork hangs. Neither the server nor
    a worker runs the caller's script (see :func:`callers_script_left_out`).
    """

    def connect(self) -> None: ...

    def close(self) -> None: ...

    def slots(self) -> int:
        """Units at once."""
        return self.jobs

    def __init__(
        self,
        jobs: int = 1,
        timeout: float | None = None,
        budget: int | None = None,
        memory: int | None = None,  # bytes of address space per worker (--memory-per-unit)
    ):
        self.jobs, self.timeout, self.memory = max(1, jobs), timeout, memory
        self.budget = max(1, budget if budget is not None else usable_cores())
        self.broker: TokenBroker | None = None  # the latest run's (its most_lent: a check)
        methods = mp.get_all_start_methods()
        # two calls, not one with a computed name: the stubs type each literal's context
        self.ctx = (
            mp.get_context("forkserver") if "forkserver" in methods else mp.get_context("spawn")
        )
        if "forkserver" in methods:
            self.ctx.set_forkserver_preload(UNIT_MODULES)

    def run(
        self, work: Iterable[tuple[str, dict]], on_start: Callable[[str], None] = lambda _uid: None
    ) -> Iterator[Outcome]:
        pending = list(work)
        running: dict = {}  # conn -> (unit_id, process, started)
        lifeline, keep_alive = self.ctx.Pipe(duplex=False)  # workers watch the read end
        self.broker = broker = TokenBroker(self.ctx, self.budget)
        try:
            while pending or running:
                while pending and len(running) < self.jobs:
                    unit_id, payload = pending.pop(0)
                    parent, child = self.ctx.Pipe(duplex=False)
                    tokens = broker.connect()
                    # not a daemon: scikit-learn's joblib refuses to parallelise inside daemons
                    proc = self.ctx.Process(
                        target=_child,
                        args=(payload, child, lifeline, tokens, self.budget, self.memory),
                        daemon=False,
                    )
                    # a worker the cleanup cannot see would outlive us
                    with _interrupts_held(), callers_script_left_out():
                        proc.start()
                        child.close()
                        tokens.close()  # the worker's end is its own: EOF when it ends
                        running[parent] = (unit_id, proc, time.monotonic())
                    on_start(unit_id)
                ready = wait(list(running), timeout=0.5)
                now = time.monotonic()
                for conn in list(running):
                    unit_id, proc, started = running[conn]
                    outcome = None
                    if conn in ready:
                        outcome = self._receive(conn, unit_id, proc, now - started)
                    elif self.timeout is not None and now - started > self.timeout:
                        proc.kill()
                        outcome = timed_out(unit_id, self.timeout, now - started)
                    if outcome is not None:
                        proc.join(5)
                        conn.close()
                        del running[conn]
                        yield outcome
        finally:  # Ctrl-C or an error in the caller: stop every worker, leave nothing behind
            for conn, (_uid, proc, _t) in running.items():
                proc.kill()
                proc.join(5)
                conn.close()
            broker.close()
            lifeline.close()
            keep_alive.close()

    def _receive(self, conn, unit_id: str, proc, seconds: float) -> Outcome:
        try:
            status, value = conn.recv()
        except (EOFError, OSError):
            proc.join(5)
            error, detail, kind = died_under_cap(*_died(proc), self.memory)
            return Outcome(unit_id, error=error, detail=detail, seconds=seconds, kind=kind)
        if status == "ok":
            return Outcome(unit_id, result=value, seconds=seconds)
        message, detail, kind = value
        return Outcome(unit_id, error=message, detail=detail, seconds=seconds, kind=kind)
