"""SIGTERM stops a study the way Ctrl-C does: workers stopped, tables written, resumable."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from kdcli.errors import Terminated


class Stop:
    """What the block saw: ``terminated`` once SIGTERM arrived (click may turn the exception
    into its own Abort or exit code 130 on the way out, so the caller asks here)."""

    terminated = False


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[Stop]:
    """Within the block SIGTERM raises :class:`Terminated` (a KeyboardInterrupt). Signal
    handlers belong to the main thread; elsewhere (a notebook's worker thread) nothing changes."""
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def terminate(_signum, _frame) -> None:
        stop.terminated = True
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)
