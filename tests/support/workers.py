"""Kill a local executor's worker mid-unit, as the kernel's OOM killer would: no word back. And
ask a worker what it has imported (this module imports nothing of kd's, so a worker that
unpickles a function of it imports none either)."""

import os
import signal
import sys
import threading
import time


def kill_its_first_worker(executor, limit: float = 20) -> dict:
    """Start a thread that SIGKILLs the first worker process ``executor`` (a LocalExecutor)
    starts, within ``limit`` seconds; returns a dict that gets the victim's ``pid``."""
    victim: dict = {}

    def kill() -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and not victim:
            for child in executor.ctx.active_children():
                victim["pid"] = child.pid
                os.kill(child.pid, signal.SIGKILL)
            time.sleep(0.01)

    threading.Thread(target=kill, daemon=True).start()
    return victim


def imported(name: str) -> bool:
    """Whether this process has imported module ``name``."""
    return name in sys.modules
