"""One core budget for every worker process of a local study: a token broker in the parent.

Why a broker and not a shared semaphore: a worker past ``--timeout-per-unit``, or stopped with
the study, is killed with SIGKILL, and a process killed while it holds a semaphore's tokens never
gives them back, so the budget would shrink with every kill until the study hangs. Here the
parent owns the tokens: each worker asks for them over a pipe of its own, and the broker (a
thread of the parent) knows how many each worker holds. When a worker ends, however it ends,
the kernel closes its end of the pipe; the broker reads end-of-file and takes back its tokens,
and drops its request if one was waiting.

The protocol: a worker sends ``("acquire", least, most)`` and waits for the number granted;
``("release", n)`` needs no answer, so a thread that gives tokens back never waits on one that
is asking. A worker has at most one request out at a time (:class:`TokenClient` serialises its
threads' requests); requests are served first come, first served, so none starves.
"""

from __future__ import annotations

import threading
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import cast


class TokenBroker:
    """``size`` tokens, lent to worker processes over their pipes (see the module docstring)."""

    def __init__(self, ctx, size: int):
        self.ctx, self.size, self.free = ctx, max(1, size), max(1, size)
        self.held: dict[Connection, int] = {}  # the broker thread's own: tokens per worker
        self.queue: deque[tuple[Connection, int, int]] = deque()  # (worker, least, most)
        self.most_lent = 0  # the most tokens out at once (a check that the cap holds)
        self.joining: list[Connection] = []  # workers' pipes not yet served, from connect()
        self.lock = threading.Lock()
        self.wake_r, self.wake_w = ctx.Pipe(duplex=False)
        self.thread = threading.Thread(target=self._serve, name="kd-token-broker", daemon=True)
        self.thread.start()

    def connect(self) -> Connection:
        """A new worker's end of a pipe to the broker: pass it to the worker, then close the
        parent's copy of it (:meth:`Connection.close`), so the worker's end is the only one."""
        mine, theirs = self.ctx.Pipe(duplex=True)
        with self.lock:
            self.joining.append(mine)
        self.wake_w.send_bytes(b"")  # the broker waits on the pipes it knew: now one more
        return theirs

    def close(self) -> None:
        """Stop the broker; workers still asking get end-of-file (they are being stopped)."""
        try:
            self.wake_w.close()
        finally:
            self.thread.join(5)

    def _serve(self) -> None:
        try:
            while True:
                with self.lock:
                    joining, self.joining = self.joining, []
                self.held.update(dict.fromkeys(joining, 0))
                for conn in wait([self.wake_r, *self.held]):
                    if conn is self.wake_r:
                        conn.recv_bytes()
                    else:
                        self._message(cast(Connection, conn))  # wait() returns the union
        except (EOFError, OSError):  # close(): the wake-up pipe is gone
            pass
        finally:
            with self.lock:
                for conn in [*self.held, *self.joining]:
                    conn.close()
                self.held.clear()
                self.joining.clear()
            self.wake_r.close()

    def _message(self, conn: Connection) -> None:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the worker ended: take back what it held
            self._drop(conn)
            return
        if message[0] == "acquire":
            _kind, least, most = message
            self.queue.append((conn, max(1, min(least, self.size)), max(1, most)))
        else:
            self.free += message[1]
            self.held[conn] -= message[1]
        self._grant()

    def _drop(self, conn: Connection) -> None:
        self.free += self.held.pop(conn, 0)
        self.queue = deque(q for q in self.queue if q[0] is not conn)
        conn.close()
        self._grant()

    def _grant(self) -> None:
        """Serve the waiting requests in order while the first one can be served."""
        while self.queue and self.queue[0][1] <= self.free:
            conn, _least, most = self.queue.popleft()
            granted = min(most, self.free)
            self.free -= granted
            self.held[conn] += granted
            self.most_lent = max(self.most_lent, self.size - self.free)
            try:
                conn.send(granted)
            except OSError:  # it died since it asked: EOF follows, and _drop takes them back
                pass


class TokenClient:
    """A worker's side of the broker: the :class:`kdcli.science.budget.Budget` of its fits."""

    def __init__(self, conn: Connection, size: int):
        self.conn, self.size = conn, size
        self.sending = threading.Lock()  # a pipe is not safe for two writers at once
        self.asking = threading.Lock()  # one request out at a time: its answer is ours

    def acquire(self, least: int, most: int) -> int:
        with self.asking:
            with self.sending:
                self.conn.send(("acquire", least, most))
            try:
                return int(self.conn.recv())
            except (EOFError, OSError):
                raise RuntimeError("the study's core budget is gone (kd is stopping)") from None

    def release(self, count: int) -> None:
        with self.sending:
            self.conn.send(("release", count))
