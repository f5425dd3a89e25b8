"""Where units run: local worker processes, or a Dask distributed cluster.

Both take (unit_id, payload) pairs and yield Outcome objects as units finish, in any order; the
caller writes them. ``run_unit`` is deterministic, so the tables do not depend on the executor.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
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
from kdcli.text import one_line, shown


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


def _short_error(err: BaseException) -> str:
    if isinstance(err, KDError):
        return str(err)
    return f"{type(err).__name__}: {one_line(err, 300)}"


def _timed_out(unit_id: str, timeout: float, seconds: float) -> Outcome:
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
def _callers_script_left_out() -> Iterator[None]:
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
        conn.send(("error", failure(err, _short_error(err), trace, memory)))
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
    a worker runs the caller's script (see :func:`_callers_script_left_out`).
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
            self.ctx.set_forkserver_preload(["kdcli.study.unit"])

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
                    with _interrupts_held(), _callers_script_left_out():
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
                        outcome = _timed_out(unit_id, self.timeout, now - started)
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


def _not_an_address(address: str, err: Exception) -> KDError:
    return KDError(
        f"--address '{shown(address)}' is not a Dask scheduler address "
        f"({one_line(err)}); write e.g. tcp://HOST:8786"
    )


def _check_address(address: str) -> None:
    """Dask's own parser, before any client: a client starts its event-loop thread first, and on
    a loaded machine that start can time out (a bare AssertionError) before the address is read."""
    from distributed.comm.addressing import parse_address
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address)
        backend = get_backend(scheme)  # an unknown scheme
        backend.get_address_host_port(location)  # no port
    except NotImplementedError:  # a backend without host:port addresses (inproc, ucx)
        return
    except ValueError as err:
        raise _not_an_address(address, err) from None


class DaskExecutor:
    """Units as tasks on a Dask distributed cluster: an existing one at ``address``, or a local
    cluster of ``jobs`` single-threaded worker processes.

    Workers need kd installed and access to the data (a shared cache folder, or the network to
    fetch into their own). A worker lost mid-unit (e.g. out of memory) is retried by Dask on
    another; past its allowed failures the unit is recorded as failed, of kind memory (Dask's
    KilledWorker). A unit past ``timeout`` is recorded as failed and released (Dask cannot stop a
    running task; its worker finishes it and the result is discarded). ``memory`` (bytes) is the
    ``memory_limit`` of each worker of the local cluster; a cluster at ``address`` keeps its
    workers' own (:mod:`kdcli.study.memory_cap`).
    """

    def __init__(
        self,
        address: str | None = None,
        jobs: int = 1,
        timeout: float | None = None,
        threads: int = 1,
        memory: int | None = None,
    ):
        self.address, self.jobs, self.timeout = address, max(1, jobs), timeout
        self.threads, self.memory = threads, memory

    def connect(self) -> None:
        """Reach the scheduler (or start a local cluster) before anything is written."""
        if getattr(self, "client", None) is None:
            self.client, self.cluster = self._client()

    def slots(self) -> int:
        """Units at once: the threads of the cluster at ``address``, else ``jobs``."""
        if self.address and getattr(self, "client", None) is not None:
            try:
                return max(1, sum(self.client.nthreads().values()))
            except Exception:  # a scheduler that does not answer now is found by the run itself
                return self.jobs
        return self.jobs

    def close(self) -> None:
        if getattr(self, "client", None) is not None:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()
            self.client = self.cluster = None

    def _client(self):
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise KDError(
                "--executor dask needs dask[distributed]: pip install 'dask[distributed]'"
            ) from None
        if self.address:
            _check_address(self.address)
            try:
                return Client(self.address, timeout="20s"), None
            except ValueError as err:
                raise _not_an_address(self.address, err) from None
            except (OSError, TimeoutError) as err:
                raise KDError(
                    f"cannot reach the Dask scheduler at {self.address} ({err}); start "
                    "one with `dask scheduler` or check --address"
                ) from None
        # under a cap a unit that killed its worker kills the next one too (its fits are the
        # same): it fails at once instead of restarting a worker at each of Dask's 3 retries
        retries = {"distributed.scheduler.allowed-failures": 0} if self.memory else {}
        with _callers_script_left_out(), dask.config.set(retries):  # workers spawn as it starts
            cluster = LocalCluster(
                n_workers=self.jobs,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=50,
                memory_limit=self.memory or "auto",  # the nanny restarts a worker past 95 %
            )
        return Client(cluster), cluster

    def run(
        self, work: Iterable[tuple[str, dict]], on_start: Callable[[str], None] = lambda _uid: None
    ) -> Iterator[Outcome]:
        from distributed import wait as dask_wait

        from kdcli.study.unit import run_unit

        self.connect()
        client = self.client
        pending = list(work)
        slots = self.slots()
        running: dict = {}  # future -> (unit_id, submitted)
        try:
            while pending or running:
                while pending and len(running) < slots:
                    unit_id, payload = pending.pop(0)
                    future = client.submit(
                        run_unit, payload, pure=False, key=f"kd-{unit_id}-{time.monotonic_ns()}"
                    )
                    running[future] = (unit_id, time.monotonic())
                    on_start(unit_id)
                try:  # wait raises, rather than returns, when nothing finished in time
                    done, _ = dask_wait(list(running), timeout=0.5, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    done = set()
                now = time.monotonic()
                for future in list(running):
                    unit_id, started = running[future]
                    outcome = None
                    if future in done or future.done():
                        if future.status == "finished":
                            outcome = Outcome(
                                unit_id, result=future.result(), seconds=now - started
                            )
                        else:
                            err = future.exception()
                            trace = "".join(traceback.format_exception(err))
                            cap = None if self.address else self.memory  # kd set it or not
                            line, detail, kind = failure(err, _short_error(err), trace, cap)
                            outcome = Outcome(unit_id, None, line, detail, now - started, kind)
                    elif self.timeout is not None and now - started > self.timeout:
                        future.cancel()
                        outcome = _timed_out(unit_id, self.timeout, now - started)
                    if outcome is not None:
                        del running[future]
                        yield outcome
        finally:
            for future in running:
                future.cancel()
            self.close()
