"""User-facing errors: one line naming the problem and the fix, exit code 2."""


class KDError(Exception):
    """Bad input from the user. The CLI prints ``str(err)`` on one line and exits with code 2."""

    exit_code = 2


class DataUnavailable(KDError):
    """Data that cannot be had right now: not cached while offline, the server unreachable, a
    damaged cache entry offline. Exit code 3, so scripts can tell it from bad input."""

    exit_code = 3
