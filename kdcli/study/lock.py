"""One live kd process per study folder: an advisory lock that records who holds it.

The kernel releases a ``flock`` when its holder dies, however it dies, so a lock left by a
killed run is never mistaken for a live one: the file's text (PID, host, start) only names the
holder, for the message. Two processes writing one folder would interleave units and race on
run.json.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType

from kdcli.errors import KDError

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, one run at a time is on you
    fcntl = None

LOCK_NAME = ".kd.lock"


class StudyLock:
    """Held from :meth:`acquire` to :meth:`release`; ``stale`` names a holder that died."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_NAME
        self.fd: int | None = None
        self.stale: dict | None = None

    def acquire(self) -> StudyLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _describe(_read(fd))
                os.close(fd)
                raise KDError(
                    f"{self.path.parent} is in use by {holder}; wait for it to finish, stop it, "
                    "or use another --out"
                ) from None
        self.stale = _read(fd) or None  # text left by a holder that died without releasing
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        _write(fd, json.dumps(me) + "\n")
        self.fd = fd
        return self

    def release(self) -> None:
        """Empty the file before unlocking: an empty lock file is a clean end."""
        if self.fd is None:
            return
        try:
            _write(self.fd, "")
        finally:
            os.close(self.fd)  # closing releases the flock
            self.fd = None

    def stale_notice(self) -> str | None:
        if not self.stale:
            return None
        return (
            f"took over the lock of {_describe(self.stale)}, which ended without releasing it "
            "(killed?); its finished units are kept"
        )

    def __enter__(self) -> StudyLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _read(fd: int) -> dict:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode("utf-8", "replace").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"text": text[:80]}
    return value if isinstance(value, dict) else {"text": text[:80]}


def _write(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, text.encode("utf-8"))
    os.fsync(fd)


def _describe(holder: dict) -> str:
    if "pid" not in holder:
        return "another kd process"
    since = f", started {holder['started']}" if holder.get("started") else ""
    return f"kd process {holder['pid']} on {holder.get('host', '?')}{since}"
