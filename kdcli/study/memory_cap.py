"""A memory cap per unit (``kd benchmark --memory-per-unit SIZE``): how a local worker holds
itself to it, how a unit that ran past it is told from other failures, and what it means on Dask.

Why ``RLIMIT_AS`` (the address-space limit of ``setrlimit``) rather than a cgroup: it needs no
root and no systemd delegation, works the same in a container and on a CI runner, and limits one
process, the unit's worker, and nothing else. A cgroup v2 ``memory.max`` would cap resident
memory, which is what one means by memory, but kd can only create a cgroup where one has been
delegated to it. The price: address space is not resident memory. Every mapping counts, touched
or not: shared libraries, thread stacks, OpenMP pools, allocator reservations (glibc reserves 64
MiB per malloc arena, mimalloc in pyarrow 1 GiB at its first allocation and, refused, takes
less). So a worker holds glibc to :data:`ARENAS` malloc arenas under a cap, and the cap must sit
somewhat above what a unit keeps resident; a worker that imported kd, LightGBM and XGBoost and
fitted iris needs 0.7 to 0.9 GiB of address space (kdcli.settings.execution.MEMORY_FLOOR_MIB).

A unit past the cap fails cleanly: numpy raises MemoryError, LightGBM and XGBoost raise their
errors of ``std::bad_alloc``, a thread or library that cannot be mapped raises its error, and a
compiled library that cannot recover ends the worker. Each is recorded as a failure of kind
``memory`` (its line reads ``failed: memory: ...``); ``--retry-failed --memory-per-unit SIZE``
runs it again with a larger cap.

On Dask, workers watch their resident memory themselves (``--memory-limit``: the nanny pauses a
worker at 80 % and restarts it at 95 %), and kd cannot change a remote worker's limit: with
``--address`` the cap is the workers' own and kd says so; the local cluster kd starts gets
``memory_limit`` = the cap per single-threaded worker. A unit whose workers were killed comes back
as Dask's KilledWorker, recorded as kind ``memory`` too.
"""

from __future__ import annotations

import ctypes
import resource

from kdcli.settings.execution import size_text

ARENAS = 2  # glibc malloc arenas of a capped worker (MALLOC_ARENA_MAX), whatever its threads
M_ARENA_MAX = -8  # mallopt's parameter number (glibc malloc.h)
# words of the errors a failed allocation raises: numpy, C++ (LightGBM, XGBoost), the loader
# (errno ENOMEM), Python's own; and, under a cap, a thread whose stack cannot be mapped
SIGNS = ("unable to allocate", "bad_alloc", "cannot allocate memory", "failed to map segment")
CAPPED_SIGNS = ("can't start new thread",)


def limit_address_space(cap: int) -> None:
    """Hold this process to ``cap`` bytes of address space, and glibc to :data:`ARENAS` arenas
    (each would reserve 64 MiB per thread that allocates: address space, never memory)."""
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, ARENAS)
    except (OSError, AttributeError):  # not glibc (musl, macOS): no arenas to hold
        pass


def failure(err: BaseException, short: str, detail: str, cap: int | None) -> tuple[str, str, str]:
    """The one line, detail and kind (``memory`` or ``error``) of a unit that raised ``err``."""
    if type(err).__name__ == "KilledWorker":  # Dask's, not imported where Dask is not
        return (*killed_worker(short, detail, cap), "memory")
    if is_memory_error(err, cap):
        return (*memory_failure(short, detail, cap), "memory")
    return short, detail, "error"


def is_memory_error(err: BaseException, cap: int | None = None) -> bool:
    """Whether ``err``, or an error it was raised from or while handling, is a failed
    allocation (an error kd wraps in its own keeps the original as its cause or context)."""
    signs = SIGNS + CAPPED_SIGNS if cap else SIGNS
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, MemoryError):
            return True
        if any(sign in str(current).lower() for sign in signs):
            return True
        current = current.__cause__ or current.__context__
    return False


def _cap(cap: int) -> str:
    return f"--memory-per-unit {size_text(cap // 2**20)}"


def _advice(cap: int | None) -> str:
    if not cap:
        return "run it where there is more memory, or with fewer --jobs beside it"
    more = size_text(-(-2 * cap // 2**30) * 1024)  # twice the cap, in whole GiB
    return f"rerun it with more: the same command with --retry-failed --memory-per-unit {more}"


def memory_failure(short: str, detail: str, cap: int | None) -> tuple[str, str]:
    """The one line and the detail of a unit that failed to allocate, from its error's."""
    if not cap:
        return (
            f"failed: memory: {short}",
            f"the unit ran out of memory; {_advice(None)}\n\n{detail}",
        )
    why = f"the unit needed more memory than {_cap(cap)}; {_advice(cap)}"
    return f"failed: memory: past {_cap(cap)} ({short})", f"{why}\n\n{detail}"


def died_under_cap(line: str, detail: str, cap: int | None) -> tuple[str, str, str]:
    """A worker that ended without a result: under a cap, a memory failure (a compiled library
    that cannot allocate ends its process, so the cap is the likely cause); else an error."""
    if not cap:
        return line, detail, "error"
    why = (
        f"the worker ran under {_cap(cap)}, and a compiled library that cannot allocate ends its "
        f"process, so the cap is the likely cause; {_advice(cap)}"
    )
    return f"failed: memory: past {_cap(cap)}? ({line})", f"{why}\n\n{detail}", "memory"


def killed_worker(short: str, detail: str, cap: int | None) -> tuple[str, str]:
    """Dask's KilledWorker: the workers that ran the unit died, as many times as Dask allows;
    the nanny restarting a worker past its memory limit is the usual reason. ``cap``: the limit
    kd gave its own local cluster's workers (None: workers it did not start)."""
    limit = _cap(cap) if cap else "dask worker --memory-limit"
    more = _advice(cap) if cap else "start the workers with more"
    why = (
        f"every Dask worker that ran the unit died, most likely restarted by its nanny past its "
        f"memory limit ({limit}); {more}"
    )
    return f"failed: memory: Dask workers killed running it ({short})", f"{why}\n\n{detail}"


def address_notice(address: str, cap: int) -> str:
    """What --memory-per-unit does with workers kd did not start: nothing; say so."""
    size = size_text(cap // 2**20)
    return (
        f"--memory-per-unit {size}: the workers at {address} keep their own memory limit and kd "
        f"does not change it; start them with `dask worker {address} --nthreads 1 "
        f"--memory-limit {size}iB` to cap each unit"
    )
