"""The schedule simulator of benchmarks/replay.py: hand-worked traces (batch by batch, and batch
DAGs), the lower bound on random ones, trace files with and without ``after``, a real unit's
trace, the committed shared28 trace and the synthetic CC18 one."""

import gzip
import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.paths import BENCHMARKS

sys.path.insert(0, str(BENCHMARKS))
import bench_scaling
from replay import Fit, Unit, dump, from_trace, load, replay

from kdcli.data import load_dataset
from kdcli.experiment.split_fit import run_split
from kdcli.experiment.splits import make_splits
from kdcli.science import budget
from kdcli.settings import fit_settings
from kdcli.study.cost import LogLinear, Shape


def unit(name: str, *batches: list[float], shape=(100, 4, 2), after=None) -> Unit:
    """Batch b's fits take ``batches[b]`` seconds; ``after[b]``: what batch b waits for (None:
    the batch before)."""
    fits = tuple(Fit(b, s) for b, fits in enumerate(batches) for s in fits)
    return Unit(name, name, fits, shape, None if after is None else tuple(map(tuple, after)))


def test_one_unit_two_batches():
    """Batch 0 of 3 s and 1 s, then batch 1 of 2 s: its second batch waits for the 3 s fit."""
    u = unit("a", [3.0, 1.0], [2.0])
    assert (u.work, u.chain) == (6.0, 5.0)
    new = replay([u], 2, "new")
    assert new.makespan == 5.0 and new.bound == 5.0 and new.ratio == 1.0
    assert replay([u], 2, "old").makespan == 6.0  # one core, one fit after another
    assert replay([u], 1, "new").makespan == 6.0
    assert replay([u], 8, "new").makespan == 5.0  # more cores do not shorten the chain


def test_two_units_old_against_new():
    """Four 1 s fits of one unit and one of another on 2 cores: old gives each unit a core (4 s);
    new spreads the fits (A's four in 2 s, then B's first come, first served: 3 s)."""
    a, b = unit("a", [1.0] * 4), unit("b", [1.0])
    old, new = replay([a, b], 2, "old"), replay([a, b], 2, "new")
    assert old.makespan == 4.0 and new.makespan == 3.0
    assert new.work == 5.0 and new.bound == 2.5
    # one unit in flight: A alone on both cores (2 s), then B (1 s)
    assert replay([a, b], 2, "new", in_flight=1).makespan == 3.0
    # B first, if asked: B's fit and A's first together, then A's other three: 3 s as well
    assert replay([b, a], 2, "new", order="study").makespan == 3.0


def test_old_follows_study_order_unless_told_longest_first():
    """Units of 1, 1 and 4 s on 2 cores: in study order the 4 s unit starts at 1 s (5 s);
    longest first it starts at once (4 s); the new schedule starts it first too."""
    units = [unit("a", [1.0]), unit("b", [1.0]), unit("c", [4.0])]
    assert replay(units, 2, "old").makespan == 5.0
    assert replay(units, 2, "old", order="longest").makespan == 4.0
    assert replay(units, 2, "new").makespan == 4.0


def test_a_unit_of_no_fits_and_bad_arguments():
    empty = Unit("e", "e", ())
    assert replay([empty, unit("a", [2.0])], 2, "new").makespan == 2.0
    with pytest.raises(ValueError):
        replay([empty], 2, "fifo")
    with pytest.raises(ValueError):
        replay([empty], 0, "new")


def test_tokens_count_as_longer_fits():
    """A fit that held 2 tokens for 3 s is replayed as 6 s on one core."""
    u = Unit("a", "a", (Fit(0, 3.0, tokens=2), Fit(0, 1.0)))
    assert (u.work, u.chain) == (7.0, 6.0)
    assert replay([u], 4, "new").makespan == 6.0


durations = st.floats(min_value=0.0, max_value=50.0, allow_nan=False)
batches = st.lists(st.lists(durations, min_size=1, max_size=5), min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.lists(batches, min_size=1, max_size=8), st.integers(1, 9))
def test_makespan_never_beats_the_bound(shapes, cores):
    """No schedule ends before max(work / P, longest chain); the new one, with every unit in
    flight, ends by work / P + chain (list scheduling's guarantee)."""
    units = [unit(f"u{i}", *b) for i, b in enumerate(shapes)]
    tol = 1e-9 * (1 + sum(u.work for u in units))
    for policy in ("old", "new"):
        r = replay(units, cores, policy)
        assert r.makespan >= r.bound - tol
        assert r.makespan <= r.work + tol
    free = replay(units, cores, "new", in_flight=len(units))
    assert free.makespan <= free.work / cores + free.chain + tol


def test_two_batches_after_a_common_first():
    """Batch 0 (2 s), then batches 1 (3 s) and 2 (1 s, 1 s), each waiting for batch 0 only:
    the chain is 2 + 3 = 5 s, not 2 + 3 + 1 as it would be if batch 2 waited for batch 1."""
    u = unit("a", [2.0], [3.0], [1.0, 1.0], after=[(), (0,), (0,)])
    chained = unit("a", [2.0], [3.0], [1.0, 1.0])  # the old rule: each after the one before
    assert (u.work, u.chain, chained.chain) == (7.0, 5.0, 6.0)
    assert replay([u], 1, "new").makespan == 7.0  # one core: its work
    # 2 cores: batch 1's fit on one core (2 to 5 s), batch 2's two on the other (2 to 4 s)
    two = replay([u], 2, "new")
    assert (two.makespan, two.bound, two.ratio) == (5.0, 5.0, 1.0)
    assert replay([chained], 2, "new").makespan == 6.0
    assert replay([u], 8, "new").makespan == 5.0 and replay([chained], 8, "new").makespan == 6.0
    assert replay([u], 2, "old").makespan == replay([u], 8, "old").makespan == 7.0


def test_ready_fits_run_first_come_first_served():
    """The same DAG with batch 1 of two 1 s fits and batch 2 of one 3 s fit: on 2 cores batch
    1's fits are queued first (batch order) and take both cores, so the 3 s fit starts at 3 s
    (6 s, against a bound of 5); on 3 cores all start at 2 s; a batch waiting for both (1 s)
    starts when the later one ends."""
    u = unit("a", [2.0], [1.0, 1.0], [3.0], after=[(), (0,), (0,)])
    assert replay([u], 2, "new").makespan == 6.0 and replay([u], 2, "new").bound == 5.0
    assert replay([u], 3, "new").makespan == 5.0
    join = unit("a", [2.0], [1.0, 1.0], [3.0], [1.0], after=[(), (0,), (0,), (1, 2)])
    assert join.chain == 6.0 and replay([join], 3, "new").makespan == 6.0
    assert replay([join], 2, "new").makespan == 7.0


def test_a_batch_of_no_fits_costs_nothing_and_dependencies_must_point_back():
    """Batch 1 has no fits: batch 2, waiting for it, starts when batch 0 ends."""
    u = unit("a", [1.0], [], [2.0], after=[(), (0,), (1,)])
    assert u.chain == 3.0 and replay([u, unit("b", [1.0])], 2, "new").makespan == 3.0
    with pytest.raises(ValueError):
        unit("a", [1.0], [1.0], after=[(), (1,)])  # waits for itself
    with pytest.raises(ValueError):
        unit("a", [1.0], [1.0], after=[(1,), ()])  # waits for a later batch
    with pytest.raises(ValueError):
        unit("a", [1.0], [1.0], after=[()])  # batch 1 has no entry


def trace_fit(batch: int, start: float, end: float, after: list[int] | None) -> dict:
    fit = {"stage": "student", "label": "", "batch": batch, "start": start, "end": end}
    return {**fit, "tokens": 1, **({} if after is None else {"after": after})}


def test_a_trace_renumbers_after_with_its_batches():
    """kd's batches 4, 7, 9 (both after 4), 12 and 13 become 0 to 4, their ``after`` with them.
    12 and 13 wait for batches with no fits here (10, 11): each stands for the batches below
    it that had ended when the waiting batch started (12 at 3.5 s: 4, 7 and 9; 13 at 2.5 s:
    4 and 9, as 7 ended at 3 s). Without ``after`` the old rule holds."""
    spans = {4: (0.0, 1.0, []), 7: (1.0, 3.0, [4]), 9: (1.0, 2.0, [4])}
    spans |= {12: (3.5, 4.0, [10]), 13: (2.5, 5.0, [11])}
    fits = [trace_fit(b, s, e, a) for b, (s, e, a) in spans.items()]
    u = from_trace("u", "d", fits)
    assert [f.batch for f in u.fits] == [0, 1, 2, 3, 4]
    assert u.after == ((), (0,), (0,), (0, 1, 2), (0, 2))
    assert u.chain == 1.0 + 1.0 + 2.5  # 4, 9, 13 (4, 7, 12 takes 3.5 s)
    old = from_trace("u", "d", [trace_fit(b, s, e, None) for b, (s, e, _) in spans.items()])
    assert old.after is None and old.chain == 1.0 + 2.0 + 1.0 + 0.5 + 2.5


def test_the_file_format_keeps_after_and_reads_old_files(tmp_path):
    """A DAG unit survives dump and load; a file written before ``after`` (no such column)
    loads with every batch after the one before."""
    u = unit("a", [2.0], [3.0], [1.0, 1.0], after=[(), (0,), (0,)])
    _, (back,) = load(dump([u], {}, tmp_path / "dag.json.gz"))
    assert back.after == ((), (0,), (0,)) and back.chain == 5.0
    old = {"stage": [0] * 4, "batch": [0, 1, 2, 2], "seconds": [2.0, 3.0, 1.0, 1.0]}
    row = {"unit": "a", "dataset": "a", "shape": None, **old, "tokens": [1] * 4}
    path = tmp_path / "old.json.gz"
    with gzip.open(path, "wt") as fh:
        json.dump({"header": {}, "stages": ["student"], "units": [row]}, fh)
    _, (before,) = load(path)
    assert before.after is None and before.chain == 6.0
    assert replay([before], 8, "new").makespan == 6.0


@st.composite
def dags(draw) -> Unit:
    """A unit of up to 6 batches (some of no fits), each waiting for a random set of earlier
    ones."""
    n = draw(st.integers(1, 6))
    works = [draw(st.lists(durations, max_size=4)) for _ in range(n)]
    after = [draw(st.sets(st.integers(0, b - 1), max_size=b)) if b else set() for b in range(n)]
    return unit("u", *works, after=[sorted(a) for a in after])


@settings(max_examples=200, deadline=None)
@given(st.lists(dags(), min_size=1, max_size=6), st.integers(1, 9))
def test_random_dags_respect_the_bound(units, cores):
    """On random batch DAGs: no schedule beats max(work / P, longest path); the new one never
    idles every core while a fit waits (so ends by the work), is within list scheduling's
    guarantee with every unit in flight, and with a core per fit ends with the longest path,
    which the old rule's chain (each batch after the one before) never undercuts."""
    units = [Unit(f"u{i}", "d", u.fits, u.shape, u.after) for i, u in enumerate(units)]
    tol = 1e-9 * (1 + sum(u.work for u in units))
    for policy in ("old", "new"):
        r = replay(units, cores, policy)
        assert r.bound - tol <= r.makespan <= r.work + tol
    free = replay(units, cores, "new", in_flight=len(units))
    assert free.makespan <= free.work / cores + free.chain + tol
    wide = replay(units, max(1, sum(len(u.fits) for u in units)), "new", in_flight=len(units))
    assert wide.makespan == pytest.approx(wide.chain, abs=tol)
    for u in units:
        assert u.chain <= Unit(u.unit, u.dataset, u.fits).chain + tol


def test_a_real_units_trace_replays(tmp_path):
    """A unit fitted here (iris, LightGBM teacher, tree students) under a core budget, so its
    sizes run at once: its trace becomes one simulated unit of the same fits, batches, batch
    DAG and work, which survives the file format; on one core it takes its work, with a core
    per fit its chain, shorter than if each batch had waited for the one before."""
    spec = fit_settings(
        teacher_param=["n_estimators=10"], modes="raw,corrected", folds=3, c_grid="0.1,10"
    )
    ds = load_dataset("sklearn:iris")
    (split, *_rest) = make_splits(ds, spec)
    with budget.tracing() as traced, budget.own_budget(2):
        run_split(ds, split, spec, spec.teacher, threads=2)
    fits = traced["fits"]
    u = from_trace("iris__r0_f0__lightgbm", "iris", fits, (150, 4, 3))
    assert len(u.fits) == len(fits)
    assert [f.batch for f in u.fits] == sorted(f.batch for f in u.fits)
    assert len(u.batches()) == len({f["batch"] for f in fits}) >= 2
    number = {b: i for i, b in enumerate(sorted({f["batch"] for f in fits}))}
    assert u.after is not None and len(u.after) == len(number)
    for f in fits:
        assert u.after[number[f["batch"]]] == tuple(sorted(number[a] for a in f["after"]))
    assert len(set(u.after)) < len(u.after)  # batches side by side, waiting for the same
    assert u.chain < Unit(u.unit, u.dataset, u.fits).chain
    assert u.work == pytest.approx(sum((f["end"] - f["start"]) * f["tokens"] for f in fits))
    header, (back,) = load(dump([u], {"kd_commit": "x"}, tmp_path / "t.json.gz"))
    assert header == {"kd_commit": "x"}
    assert back.shape == (150, 4, 3) and [f.stage for f in back.fits] == [f.stage for f in u.fits]
    assert back.work == pytest.approx(u.work, abs=1e-3) and back.after == u.after
    assert replay([back], 1, "new").makespan == pytest.approx(back.work)
    assert replay([back], 1, "old").makespan == pytest.approx(back.work)
    assert replay([back], len(fits), "new").makespan == pytest.approx(back.chain)


@pytest.fixture(scope="module")
def shared28():
    return load(bench_scaling.SHARED28)


def test_the_committed_trace(shared28):
    """28 units of the default study, every one with its fits and shape, under 300 KB."""
    header, units = shared28
    assert bench_scaling.SHARED28.stat().st_size < 300_000
    assert len(units) == 28 and len({u.dataset for u in units}) == 28
    assert all(u.fits and u.shape and all(f.seconds >= 0 for f in u.fits) for u in units)
    assert len(header["kd_commit"]) == 40 and header["machine"]["cores"] == 2
    with gzip.open(bench_scaling.SHARED28, "rt") as fh:
        assert set(json.load(fh)) == {"header", "stages", "units"}


def test_new_is_no_slower_than_old_on_the_recorded_trace(shared28):
    _, units = shared28
    old, new = replay(units, 16, "old"), replay(units, 16, "new")
    assert new.makespan <= old.makespan
    assert new.bound == old.bound and new.makespan >= new.bound


def test_the_synthetic_cc18_trace_matches_its_projection(shared28):
    """72 tasks x 10 folds, in suite order; a measured task's units are its own recorded unit
    scaled to 90% training rows, any other's the nearest recorded unit scaled to the model."""
    header, units = shared28
    cc18 = bench_scaling.cc18_units(units, header["openml_cc18_task"])
    tasks = bench_scaling.cc18_tasks()
    assert len(tasks) == 72 and len(cc18) == 720
    assert [u.dataset for u in cc18[:10]] == [tasks[0]["name"]] * 10
    model, _ = LogLinear.fit([Shape(*u.shape) for u in units], [u.work for u in units])
    own = {u.dataset: u for u in units}
    letter = next(u for u in cc18 if u.dataset == "letter")  # measured: task 6
    assert letter.work == pytest.approx(own["letter"].work * 1.2**model.log_rows)
    assert [f.batch for f in letter.fits] == [f.batch for f in own["letter"].fits]
    cifar = next(u for u in cc18 if u.dataset == "CIFAR_10")
    assert cifar.work == pytest.approx(model(60000 * 1.2, 3072, 10))
    nearest = bench_scaling.nearest(units, (60000, 3072, 10))
    assert len(cifar.fits) == len(nearest.fits)


def test_the_cc18_projection_has_a_bootstrap_interval_around_it(shared28):
    """The model refitted on the 28 recorded units drawn with replacement: an interval that
    holds the projection, the same for the same seed, and wide (the largest tasks lie far
    outside the measured shapes)."""
    header, units = shared28
    tasks_of = header["openml_cc18_task"]
    point = 10 * sum(bench_scaling.task_work(units, tasks_of)) / 32
    cc18 = bench_scaling.cc18_units(units, tasks_of)
    assert point == pytest.approx(sum(u.work for u in cc18) / 32)
    low, high = bench_scaling.projection_interval(units, tasks_of, 32, draws=60, seed=1)
    assert low < point < high and high > 1.5 * low
    assert (low, high) == bench_scaling.projection_interval(units, tasks_of, 32, draws=60, seed=1)
