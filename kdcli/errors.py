"""User-facing errors: one line naming the problem and the fix, exit code 2."""


class KDError(Exception):
    """Bad input from the user. The CLI prints ``str(err)`` on one line and exits with code 2."""

    exit_code = 2
