"""Units as tasks on a Dask distributed cluster: one at an address, or a local one kd starts.

Kept apart from the local worker processes of :mod:`kdcli.study.executors`, whose
:class:`~kdcli.study.executors.Outcome` it yields the same way; dask is imported only when a
study runs here.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable, Iterator

from kdcli.errors import KDError
from kdcli.study.executors import (
    Outcome,
    callers_script_left_out,
    short_error,
    start_fork_server,
    timed_out,
)
from kdcli.study.memory_cap import failure
from kdcli.text import one_line, shown


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
        config: dict = {"distributed.scheduler.allowed-failures": 0} if self.memory else {}
        # its workers fork from a server that imported Dask and kd's unit code once (spawned,
        # each imported them itself: 2-3 s of CPU a worker)
        if start_fork_server(["distributed"]):
            config["distributed.worker.multiprocessing-method"] = "forkserver"
        with callers_script_left_out(), dask.config.set(config):  # workers start as it starts
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
                            line, detail, kind = failure(err, short_error(err), trace, cap)
                            outcome = Outcome(unit_id, None, line, detail, now - started, kind)
                    elif self.timeout is not None and now - started > self.timeout:
                        future.cancel()
                        outcome = timed_out(unit_id, self.timeout, now - started)
                    if outcome is not None:
                        del running[future]
                        yield outcome
        finally:
            for future in running:
                future.cancel()
            self.close()
