"""SIGTERM stops a study the way Ctrl-C does: workers stopped, tables written, resumable."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from kdcli.errors import Terminated


def _terminate(_signum, _frame) -> None:
    raise Terminated


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """Within the block SIGTERM raises :class:`Terminated` (a KeyboardInterrupt). Signal
    handlers belong to the main thread; elsewhere (a notebook's worker thread) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
