"""SIGTERM stops a study the way Ctrl-C does: workers stopped, tables written, resumable."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator

from kdcli.errors import Terminated


class Stop:
    """What the block saw: ``terminated`` once SIGTERM arrived, ``interrupted`` once Ctrl-C did
    (click may turn the exception into its own Abort or exit code 130 on the way out, so the
    caller asks here)."""

    terminated = False
    interrupted = False

    def raised(self) -> bool:
        return self.terminated or self.interrupted

    def check(self) -> None:
        """Raise again a stop whose exception was lost: a signal's exception raised while the
        main thread ran a finalizer or a weakref callback (multiprocessing's, for one) is
        printed as "Exception ignored" and dropped, and the study would run on to its end."""
        if self.terminated:
            raise Terminated
        if self.interrupted:
            raise KeyboardInterrupt


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

    def interrupt(_signum, _frame) -> None:
        stop.interrupted = True
        raise KeyboardInterrupt

    unraisable = sys.unraisablehook

    def lost(args) -> None:  # Stop.check raises it again: no "Exception ignored" traceback
        if not (isinstance(args.exc_value, KeyboardInterrupt) and stop.raised()):
            unraisable(args)

    sys.unraisablehook = lost
    previous = signal.signal(signal.SIGTERM, terminate)
    ctrl_c = signal.getsignal(signal.SIGINT)
    if ctrl_c is signal.default_int_handler:  # only Python's own: a caller's stays theirs
        signal.signal(signal.SIGINT, interrupt)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)
        if ctrl_c is signal.default_int_handler:
            signal.signal(signal.SIGINT, ctrl_c)
        sys.unraisablehook = unraisable
