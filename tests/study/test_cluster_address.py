"""`kd benchmark --executor dask --address`: a scheduler and two workers started as separate
processes, as a cluster's job script starts them (docs/studies.md, "Running on a cluster"), give
the same results as the local executor, and both workers run units."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import kdcli

FAST = ["--teacher-param", "n_estimators=10", "--sizes", "2", "--threads", "1", "--repeats", "2"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(module: str, *args, cwd) -> subprocess.Popen:
    """A Dask command line (`dask scheduler`, `dask worker`) of this environment, importing the
    kdcli under test (not whatever another checkout's install points at), as a cluster's nodes
    must run the client's code."""
    code = Path(kdcli.__file__).resolve().parent.parent
    return subprocess.Popen(
        [sys.executable, "-m", f"distributed.cli.{module}", *map(str, args)],
        cwd=cwd,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(code), os.environ.get("PYTHONPATH", "")]),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(procs: list[subprocess.Popen]) -> None:
    """Terminate ``procs`` together; any still running after 10 s is killed."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 10
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_a_study_on_a_scheduler_address_equals_the_local_run(kd, tmp_path):
    """The local run goes first, while the scheduler and workers start. The workers are stopped
    before their scheduler: a worker whose scheduler is gone first may take seconds to close."""
    from distributed import Client

    suite = tmp_path / "suite.csv"
    suite.write_text("name,spec\niris,sklearn:iris\nwine,sklearn:wine\n")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        start(
            "dask_scheduler",
            "--host", "127.0.0.1", "--port", port, "--no-dashboard",
            cwd=tmp_path,
        )
    ]  # fmt: skip
    client = None
    try:
        for name in ("w1", "w2"):
            procs.append(
                start(
                    "dask_worker", address,
                    "--nthreads", 1, "--nworkers", 1, "--no-nanny", "--no-dashboard",
                    "--name", name, "--local-directory", tmp_path / name,
                    cwd=tmp_path,
                )
            )  # fmt: skip
        args = ["benchmark", "--suite", suite, *FAST, "--quiet"]
        code, _, err = kd(*args, "--out", tmp_path / "local", "--cache-dir", tmp_path / "c2")
        assert code == 0, err
        client = Client(address, timeout="30s")
        client.wait_for_workers(2, timeout=60)
        code, _, err = kd(
            *args, "--out", tmp_path / "dask", "--cache-dir", tmp_path / "c1",
            "--executor", "dask", "--address", address,
        )  # fmt: skip
        assert code == 0, err
        executed = client.run(lambda dask_worker: dask_worker.state.executed_count)
    finally:
        if client is not None:
            client.close()
        stop(procs[1:])  # the workers, then the scheduler
        stop(procs[:1])
    dask = pd.read_parquet(tmp_path / "dask" / "results.parquet")
    assert len(dask) > 0 and set(dask["dataset"]) == {"iris", "wine"}
    pd.testing.assert_frame_equal(dask, pd.read_parquet(tmp_path / "local" / "results.parquet"))
    # 4 units, 2 at once (one per worker thread): each worker ran some
    assert len(executed) == 2 and all(n >= 1 for n in executed.values()), executed
    assert sum(executed.values()) >= 4
