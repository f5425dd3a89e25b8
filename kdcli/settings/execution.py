"""How and where work runs: threads, worker processes, an executor. Never part of the numbers."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from kdcli.errors import SettingError
from kdcli.settings import values

EXECUTORS = ("local", "dask")
# What a local worker needs under --memory-per-unit before its unit's data: the address space of
# a worker that imported kd, LightGBM and XGBoost and fitted iris (measured, see docs/studies.md:
# 731 MiB with LightGBM, 909 MiB with XGBoost, plus about 8 MiB per fit thread), with room.
MEMORY_FLOOR_MIB = 1024
MEMORY_PER_THREAD_MIB = 16
MEMORY_MAX_MIB = 2**30  # 1024T: well inside what setrlimit takes
_SIZE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(?:i?b)?", re.IGNORECASE)
_MIB_PER_UNIT = {"k": 1 / 1024, "": 1, "m": 1, "g": 1024, "t": 1024**2}


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


def memory_mib(param: str, value: object) -> int:
    """A memory size in whole MiB: ``4G``, ``1.5G``, ``512M``, ``4096`` (a bare number is MiB, as
    in Slurm's ``--mem``); K, M, G, T are powers of 1024, with or without B or iB."""
    text = str(value).strip()
    match = None if isinstance(value, bool) else _SIZE.fullmatch(text)
    if match is None:
        raise SettingError(
            param,
            f"{{opt}} '{values.text_of(text)}' is not a size; write e.g. 4G, 1.5G, 512M or 4096 "
            "(a bare number is MiB)",
        )
    mib = round(float(match[1]) * _MIB_PER_UNIT[match[2].lower()])
    if mib >= MEMORY_MAX_MIB:
        raise SettingError(param, f"{{opt}} {values.text_of(text)} is more than any machine has")
    return mib


def size_text(mib: int) -> str:
    """``4096`` → ``4G``, ``1536`` → ``1536M``: as the user may write it back."""
    return f"{mib // 1024}G" if mib and mib % 1024 == 0 else f"{mib}M"


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

    ``memory_per_unit`` (MiB; text such as ``4G`` is read by :func:`memory_mib`) caps each
    unit's worker (:mod:`kdcli.study.memory_cap`). Like the timeout it is not part of the study's
    identity: a study resumed with another cap is the same study.
    """

    jobs: int = 1  # units at once (worker processes, or Dask slots)
    threads: int | None = None  # fits side by side in a unit; None: see threads_per_fit
    executor: str = "local"
    address: str | None = None  # a Dask scheduler
    timeout_per_unit: float | None = None  # seconds
    spread_from: float = 10.0  # Dask: estimated unit seconds from which its fits spread
    memory_per_unit: int | str | None = None  # MiB (after checking), None: no cap

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
        if self.memory_per_unit is not None:
            object.__setattr__(self, "memory_per_unit", self._memory_cap())

    def _memory_cap(self) -> int:
        """The cap in MiB, refused below what a worker needs to load its libraries."""
        mib = memory_mib("memory_per_unit", self.memory_per_unit)
        threads = self.threads_per_fit
        floor = MEMORY_FLOOR_MIB + MEMORY_PER_THREAD_MIB * threads
        if mib < floor:
            given = values.text_of(str(self.memory_per_unit).strip())
            raise SettingError(
                "memory_per_unit",
                f"{{opt}} {given} is below the {size_text(floor)} a worker with {threads} fit "
                f"thread{'s' if threads > 1 else ''} needs to load its libraries; give at least "
                f"{size_text(floor)}",
            )
        return mib

    @property
    def memory_bytes(self) -> int | None:
        """The cap per unit in bytes; None: no cap."""
        return None if self.memory_per_unit is None else int(self.memory_per_unit) * 2**20

    @property
    def threads_per_fit(self) -> int:
        """Fits side by side in each unit: never more than the usable cores; on Dask never more,
        across ``jobs``, than those cores (locally the shared budget sees to that)."""
        cap = max(1, usable_cores() // self.jobs if self.executor == "dask" else usable_cores())
        return cap if self.threads is None else min(self.threads, cap)
