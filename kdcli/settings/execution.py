"""How and where work runs: threads, worker processes, an executor. Never part of the numbers."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from kdcli.errors import SettingError
from kdcli.settings import values

EXECUTORS = ("local", "dask")


def usable_cores() -> int:
    """The CPUs this process may use: its affinity, capped by a cgroup CPU quota (containers,
    CI runners, Slurm), not every core of the machine."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    quota = cgroup_quota()
    return max(1, min(cores, math.floor(quota)) if quota is not None else cores)


def cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs allowed by the cgroup (v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``), None if no limit."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota_us <= 0 else quota_us / period_us
    except (OSError, ValueError):
        return None


def available_memory(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Bytes this process can still take: the kernel's MemAvailable, capped by what is left of a
    cgroup memory limit (containers, CI runners); None where neither can be read."""
    known = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                known.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    for limit, used in (
        ("memory.max", "memory.current"),  # cgroup v2
        ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"),  # v1
    ):
        try:
            text = (root / limit).read_text().strip()
            if text != "max" and int(text) < 2**60:  # v1 writes a huge number for no limit
                known.append(max(0, int(text) - int((root / used).read_text())))
            break
        except (OSError, ValueError):
            continue
    return min(known) if known else None


@dataclass(frozen=True)
class Execution:
    """How a study runs: ``jobs`` units at once; ``threads`` fits side by side in each.

    Locally every fit of the study holds a token of one core budget of the usable cores, shared
    by all ``jobs`` worker processes (:class:`kdcli.study.executors.LocalExecutor`). So a unit
    may run up to ``threads`` fits at once (default: the usable cores), and when fewer units run
    than there are cores, the running units' fits take the free ones; the study as a whole
    never runs more fits than usable cores. On Dask, a unit estimated to take at least
    ``spread_from`` seconds sends its fits to the cluster's free worker threads
    (:mod:`kdcli.study.spread`); a smaller one runs its fits itself, side by side on its fair
    share of the cores: usable cores // jobs.
    """

    jobs: int = 1  # units at once (worker processes, or Dask slots)
    threads: int | None = None  # fits side by side in a unit; None: see threads_per_fit
    executor: str = "local"
    address: str | None = None  # a Dask scheduler
    timeout_per_unit: float | None = None  # seconds
    spread_from: float = 10.0  # Dask: estimated unit seconds from which its fits spread

    def __post_init__(self) -> None:
        values.integer("jobs", self.jobs, 1)
        if self.threads is not None:
            values.integer("threads", self.threads, 1)
        values.choice("executor", self.executor, EXECUTORS)
        if self.address and self.executor != "dask":
            raise SettingError("address", "{opt} needs the dask executor (--executor dask)")
        if self.timeout_per_unit is not None:  # any text or number: NaN and inf refused
            seconds = values.positive(
                "timeout_per_unit", self.timeout_per_unit, "a positive number of seconds"
            )
            object.__setattr__(self, "timeout_per_unit", seconds)
        what = "a number of seconds, 0 or more"
        spread = values.number("spread_from", self.spread_from, -math.inf, math.inf, what)
        if spread < 0:
            raise SettingError("spread_from", f"{{opt}} must be {what}, got {spread}")
        object.__setattr__(self, "spread_from", spread)

    @property
    def threads_per_fit(self) -> int:
        """Fits side by side in each unit: never more than the usable cores; on Dask never more,
        across ``jobs``, than those cores (locally the shared budget sees to that)."""
        cap = max(1, usable_cores() // self.jobs if self.executor == "dask" else usable_cores())
        return cap if self.threads is None else min(self.threads, cap)
