"""Replay a recorded study on P simulated cores: how long it would take under kd's old schedule
(whole units, one core each) and its new one (single fits on any free core), without running it.

Why: kd's per-fit traces (kdcli.science.budget) record each unit's fits, their batches, the
batches each batch waited for (``after``) and durations; a batch's fits are independent, and a
unit's batches form a DAG (independent parts of a unit, such as student sizes or modes, run at
once). That is enough to replay the study on any number of cores by discrete events (no
sleeping, no fitting), to see what 16 or 64 workers would give before renting them. Traces
recorded before kd ran parts of a unit at once have no ``after``: there every batch waits for
the one before it.

Model and its simplifications:

- A fit costs ``seconds * tokens`` core-seconds and is placed on one core for that long (a fit
  that held several tokens is stretched, not spread: this only lengthens the dependency chain;
  the default study's fits hold one token each).
- Only fits count: a unit's data loading, prediction and scoring between fits are left out, and
  durations are as recorded (on a busy 2-core machine they include that machine's contention).
- ``old`` (kd before issue 22): ``P`` units at once, each on one core running its fits one after
  another, units started in study order (or longest first, ``order="longest"``).
- ``new`` (kd since issue 22): at most ``units`` units in flight (default P), started longest
  first by total work; a batch is ready once its unit has started and every batch in its
  ``after`` is done; a free core takes the fit that became ready first (a batch's fits queue in
  their order, batches that become ready together in batch order).

The lower bound of any schedule is max(total work / P, longest chain), where a unit's chain is
the longest path through its batch DAG, a batch costing its longest fit.
"""

from __future__ import annotations

import gzip
import heapq
import json
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

POLICIES = ("old", "new")

Dag = tuple[list[list[float]], list[tuple[int, ...]]]  # per batch: its fits' work, its after


@dataclass(frozen=True)
class Fit:
    """One model fit of a unit: its batch (0, 1, ... in the order kd made them), wall seconds
    and the cores (tokens) it held."""

    batch: int
    seconds: float
    tokens: int = 1
    stage: str = ""

    @property
    def work(self) -> float:
        return self.seconds * self.tokens


@dataclass(frozen=True)
class Unit:
    """A unit's fits; ``shape`` (rows, features, classes) where the data's size is known;
    ``after[b]``: the batches batch b waits for, each numbered below b (None: a trace of before
    the DAG, where every batch waits for the one before it)."""

    unit: str
    dataset: str
    fits: tuple[Fit, ...]
    shape: tuple[int, int, int] | None = None
    after: tuple[tuple[int, ...], ...] | None = None

    def __post_init__(self) -> None:
        if self.after is None:
            return
        if any(not 0 <= f.batch < len(self.after) for f in self.fits):
            raise ValueError(f"{self.unit}: a fit's batch has no entry in after")
        if any(not 0 <= a < b for b, deps in enumerate(self.after) for a in deps):
            raise ValueError(f"{self.unit}: a batch may only wait for batches numbered below it")

    def dag(self) -> Dag:
        """Each batch's fit works (in fit order) and the batches it waits for, by position. With
        ``after``, batch b is position b (a batch of no fits costs nothing); without, the
        batches that have fits in batch order, each waiting for the one before."""
        if self.after is None:
            works = self.batches()
            return works, [(b - 1,) if b else () for b in range(len(works))]
        works: list[list[float]] = [[] for _ in self.after]
        for f in self.fits:
            works[f.batch].append(f.work)
        return works, list(self.after)

    def batches(self) -> list[list[float]]:
        """The work of each fit, batch by batch, in batch order (empty batches dropped)."""
        by: dict[int, list[float]] = {}
        for f in self.fits:
            by.setdefault(f.batch, []).append(f.work)
        return [by[b] for b in sorted(by)]

    @property
    def work(self) -> float:
        return sum(f.work for f in self.fits)

    @property
    def chain(self) -> float:
        """Seconds of the unit with unlimited cores: the longest path through its batches, a
        batch costing its longest fit."""
        works, after = self.dag()
        ends: list[float] = []  # batches wait only for lower numbers: one pass in order
        for fits, deps in zip(works, after, strict=True):
            ends.append(max((ends[a] for a in deps), default=0.0) + max(fits, default=0.0))
        return max(ends, default=0.0)

    def scaled(self, factor: float, unit: str, dataset: str, shape=None) -> Unit:
        """A copy whose every fit takes ``factor`` times as long (a synthetic unit)."""
        fits = tuple(Fit(f.batch, f.seconds * factor, f.tokens, f.stage) for f in self.fits)
        return Unit(unit, dataset, fits, shape, self.after)


@dataclass(frozen=True)
class Replay:
    """One replay: seconds from the first fit to the last, against the lower bound."""

    policy: str
    cores: int
    units: int  # in flight at most
    makespan: float
    work: float
    chain: float
    bound: float

    @property
    def ratio(self) -> float:
        """makespan / lower bound: 1 is as good as any schedule could be."""
        return self.makespan / self.bound if self.bound > 0 else 1.0

    def as_dict(self) -> dict:
        out = {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}
        return {**out, "ratio": round(self.ratio, 3)}


def replay(
    units: Sequence[Unit],
    cores: int,
    policy: str,
    in_flight: int | None = None,
    order: str = "",
) -> Replay:
    """Replay ``units`` (in study order) on ``cores`` simulated cores under ``policy``.

    ``in_flight``: units at once (default ``cores``). ``order``: ``study`` or ``longest``
    (default: study for old, longest for new, as kd did and does)."""
    if policy not in POLICIES:
        raise ValueError(f"policy {policy!r}: one of {', '.join(POLICIES)}")
    if cores < 1:
        raise ValueError("cores must be at least 1")
    slots = in_flight or cores
    order = order or ("study" if policy == "old" else "longest")
    queue = longest_first(units) if order == "longest" else list(units)
    if policy == "old":
        makespan = _whole_units([u.work for u in queue], min(slots, cores))
    else:
        makespan = _single_fits([u.dag() for u in queue], cores, slots)
    work = sum(u.work for u in units)
    chain = max((u.chain for u in units), default=0.0)
    return Replay(policy, cores, slots, makespan, work, chain, max(work / cores, chain))


def longest_first(units: Sequence[Unit]) -> list[Unit]:
    """Decreasing total work; ties keep study order (a stable sort), as kd orders units."""
    return sorted(units, key=lambda u: -u.work)


def _whole_units(works: Iterable[float], cores: int) -> float:
    """Each unit on the core that frees first, in the given order."""
    free = [0.0] * cores
    for w in works:
        heapq.heappush(free, heapq.heappop(free) + w)
    return max(free)


def _single_fits(units: Sequence[Dag], cores: int, in_flight: int) -> float:
    """List scheduling of fits: units start in the given order while fewer than ``in_flight``
    run; a free core takes the oldest ready fit; a batch becomes ready when the last fit of
    every batch in its ``after`` ends (a batch of no fits is done once ready)."""
    pending = deque(range(len(units)))
    ready: deque[tuple[int, int, float]] = deque()  # (unit, batch, work) of fits to run
    running: list[tuple[float, int, int, int]] = []  # (end, sequence, unit, batch): a heap
    waiting = [[len(deps) for deps in after] for _, after in units]  # per batch: undone after
    left = [[len(fits) for fits in works] for works, _ in units]  # per batch: fits not ended
    unfinished = [len(works) for works, _ in units]  # per unit: batches not done
    children: list[list[list[int]]] = []
    for works, after in units:
        children.append([[] for _ in works])
        for b, deps in enumerate(after):
            for a in deps:
                children[-1][a].append(b)
    now, free, active, seq = 0.0, cores, 0, 0

    def settle(u: int, batches: Iterable[int]) -> None:
        """Settle unit u's ``batches``: one with fits still to run is ready (its fits queued);
        one with none left (all ended, or none at all) is done, and what waited only for it
        is settled next. The unit leaves the flight when its last batch is done."""
        nonlocal active
        todo = deque(batches)
        while todo:
            b = todo.popleft()
            if left[u][b]:
                ready.extend((u, b, w) for w in units[u][0][b])
                continue
            unfinished[u] -= 1  # a batch of no fits is done once ready
            for c in children[u][b]:
                waiting[u][c] -= 1
                if not waiting[u][c]:
                    todo.append(c)
        if not unfinished[u]:
            active -= 1

    while True:
        while active < in_flight and pending:
            u = pending.popleft()
            active += 1
            settle(u, [b for b, n in enumerate(waiting[u]) if not n])
        while free and ready:
            u, b, w = ready.popleft()
            heapq.heappush(running, (now + w, seq, u, b))
            seq, free = seq + 1, free - 1
        if not running:
            return now
        now, _, u, b = heapq.heappop(running)
        free, left[u][b] = free + 1, left[u][b] - 1
        if not left[u][b]:
            settle(u, [b])


# -- traces on disk: gzip JSON, one column per field ----------------------------------------


def dump(units: Sequence[Unit], header: dict, path: Path) -> Path:
    """Write ``units`` to ``path`` (gzip JSON): each unit's fits as columns, stages by index,
    and, where known, ``after`` (per batch, the batches it waits for)."""
    stages = sorted({f.stage for u in units for f in u.fits})
    rows = []
    for u in units:
        row = {
            "unit": u.unit,
            "dataset": u.dataset,
            "shape": list(u.shape) if u.shape else None,
            "stage": [stages.index(f.stage) for f in u.fits],
            "batch": [f.batch for f in u.fits],
            "seconds": [round(f.seconds, 4) for f in u.fits],
            "tokens": [f.tokens for f in u.fits],
        }
        if u.after is not None:
            row["after"] = [list(deps) for deps in u.after]
        rows.append(row)
    text = json.dumps({"header": header, "stages": stages, "units": rows}, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write(text)
    return path


def load(path: Path) -> tuple[dict, list[Unit]]:
    """The header and units of a trace written by :func:`dump` (a unit without ``after``:
    every batch waits for the one before it)."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    stages = data["stages"]
    units = []
    for r in data["units"]:
        fits = tuple(
            Fit(b, s, t, stages[i])
            for i, b, s, t in zip(r["stage"], r["batch"], r["seconds"], r["tokens"], strict=True)
        )
        after = r.get("after")
        units.append(
            Unit(
                r["unit"],
                r["dataset"],
                fits,
                tuple(r["shape"]) if r["shape"] else None,
                None if after is None else tuple(tuple(deps) for deps in after),
            )
        )
    return data["header"], units


def from_trace(unit: str, dataset: str, fits: Iterable[dict], shape=None) -> Unit:
    """A unit from the ``trace["fits"]`` of its timings.json; batches renumbered 0, 1, ... in
    the order kd numbered them, and ``after`` with them (a trace whose fits lack ``after``:
    None, every batch waits for the one before)."""
    fits = list(fits)
    number = {b: i for i, b in enumerate(sorted({f["batch"] for f in fits}))}
    ordered = sorted(fits, key=lambda f: (number[f["batch"]], f["start"]))
    return Unit(
        unit,
        dataset,
        tuple(
            Fit(number[f["batch"]], f["end"] - f["start"], int(f["tokens"]), f["stage"])
            for f in ordered
        ),
        shape,
        _after(fits, number) if fits and all("after" in f for f in fits) else None,
    )


def _after(fits: list[dict], number: dict[int, int]) -> tuple[tuple[int, ...], ...]:
    """Per batch (renumbered by ``number``, kd's number -> ours), the batches it waits for.

    A batch that ``after`` names but that has no fits in the trace (one made inside another's
    fit, or of no items) is unknown: it stands for every batch numbered below it that had
    ended by the time the waiting batch's first fit started (all it could have waited for, so
    the DAG may gain edges, never lose one)."""
    first: dict[int, float] = {}  # per kd batch: its first fit's start, its last fit's end
    last: dict[int, float] = {}
    for f in fits:
        b = f["batch"]
        first[b] = min(first.get(b, math.inf), f["start"])
        last[b] = max(last.get(b, -math.inf), f["end"])
    deps: dict[int, set[int]] = {b: set() for b in number}
    for f in fits:
        b = f["batch"]
        for a in f["after"]:
            known = [a] if a in number else [c for c in number if c < a and last[c] <= first[b]]
            deps[b].update(known)
    return tuple(tuple(sorted(number[a] for a in deps[b])) for b in number)
