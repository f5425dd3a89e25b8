"""User text inside kd's messages: always one printable line.

A SPEC, a path, a column name or a library's message may hold a newline, a control character
or a lone surrogate (an undecodable byte of a file name); echoed raw, it would break the one
line the CLI prints, or fail to print at all.
"""

from __future__ import annotations


def shown(text: object) -> str:
    """``text`` with each unprintable character escaped as Python writes it (``\\n``, ``\\x00``)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def one_line(text: object, limit: int | None = None) -> str:
    """A message, or an exception's, on one printable line (pandas' tokenizer ends one in a
    newline), cut to ``limit`` characters with '…'; an exception without one is its type."""
    line = shown(" ".join(str(text).split()))
    if not line and isinstance(text, BaseException):
        line = type(text).__name__
    if limit is not None and len(line) > limit:
        line = line[: limit - 1] + "…"
    return line
