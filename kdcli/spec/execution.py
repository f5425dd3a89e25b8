"""How and where work runs: threads, worker processes, an executor. Never part of the numbers."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from kdcli.errors import SpecError
from kdcli.spec import values

EXECUTORS = ("local", "dask")


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity), not every core of the machine."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Execution:
    jobs: int = 1  # units at once (worker processes, or Dask slots)
    threads: int | None = None  # per model fit; None = usable cores // jobs
    executor: str = "local"
    address: str | None = None  # a Dask scheduler
    timeout_per_unit: float | None = None  # seconds

    def __post_init__(self) -> None:
        values.integer("jobs", self.jobs, 1)
        if self.threads is not None:
            values.integer("threads", self.threads, 1)
        values.choice("executor", self.executor, EXECUTORS)
        if self.address and self.executor != "dask":
            raise SpecError("address", "{opt} needs the dask executor (--executor dask)")
        if self.timeout_per_unit is not None and not (
            self.timeout_per_unit > 0 and math.isfinite(self.timeout_per_unit)
        ):
            raise SpecError(
                "timeout_per_unit",
                f"{{opt}} must be a positive number, got {self.timeout_per_unit}",
            )

    @property
    def threads_per_fit(self) -> int:
        return self.threads if self.threads is not None else max(1, usable_cores() // self.jobs)
