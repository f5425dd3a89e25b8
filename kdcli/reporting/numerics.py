"""Numerics of the report kept quiet: a NaN or inf value is named once in the report's notes,
not repeated by numpy's warnings off the one line of output."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np


@contextmanager
def quiet_numerics() -> Iterator[None]:
    """Silence numpy's warnings on NaN or inf: such a value (named in the notes) makes its
    cell's mean and spread NaN or inf, and the warnings would only repeat that, off the one
    line of output. Shared by building the report and drawing its plots."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", over="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
