"""Errors kd raises on purpose: one line naming the problem and the fix.

The CLI prints ``str(err)`` (or, for a :class:`SettingError`, the same text with the command-line
option's name) and exits with ``err.exit_code``; Python callers catch them like any exception.
"""

from __future__ import annotations


class KDError(Exception):
    """Bad input from the user (exit code 2)."""

    exit_code = 2


class DataUnavailable(KDError):
    """Data that cannot be had right now: not cached while offline, the server unreachable, a
    damaged cache entry offline. Exit code 3, so scripts can tell it from bad input."""

    exit_code = 3


class SettingError(KDError, ValueError):
    """A bad value of one named setting.

    ``message`` may hold ``{opt}`` where the setting is named: from Python it reads as the
    parameter (``sizes``), on the command line as the option (``--sizes``).
    """

    def __init__(self, param: str, message: str) -> None:
        self.param = param
        self.message = message
        super().__init__(self.render(param))

    def render(self, name: str) -> str:
        return self.message.replace("{opt}", name)

    @property
    def option(self) -> str:
        """The command-line spelling of the setting."""
        return "--" + self.param.replace("_", "-")


class Terminated(KeyboardInterrupt):
    """SIGTERM (what `timeout`, schedulers and service managers send), taken like Ctrl-C: stop
    cleanly, keep what is finished; the CLI exits 143 (128 + 15) instead of 130."""
