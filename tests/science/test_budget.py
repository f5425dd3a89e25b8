"""The core budget: fits hold tokens while they run, never more at once than the budget, a
forest takes what is free, a worker that ends gives its tokens back, and every fit is traced.

The budget here is the real one a study's workers use: a token broker thread and its clients
(kdcli.study.tokens), each client standing for one worker process."""

import multiprocessing as mp
import threading
import time
from collections import Counter

import numpy as np
import pytest

from kdcli.data import load_dataset
from kdcli.experiment.split_fit import run_split
from kdcli.experiment.splits import make_splits
from kdcli.science import budget
from kdcli.science.crossfit import fits
from kdcli.settings import fit_settings
from kdcli.study.tokens import TokenBroker, TokenClient

CTX = mp.get_context("spawn")


@pytest.fixture
def broker():
    made = TokenBroker(CTX, 2)
    try:
        yield made
    finally:
        made.close()
        budget.set_budget(None)


def _client(broker: TokenBroker) -> TokenClient:
    return TokenClient(broker.connect(), broker.size)


def _eventually(check, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


def test_without_a_budget_a_fit_takes_its_threads_and_nothing_is_counted():
    """kd fit, the API and Dask workers: no budget, the caller's thread count is the cap."""
    assert budget.current() is None
    with budget.Batch().slot("teacher", "full", threads=3, elastic=True) as got:
        assert got == 3 and budget.held() == 3
    assert budget.held() is None


def test_fits_across_workers_never_hold_more_tokens_than_the_budget(broker):
    """Three workers of eight threads each ask for 1 or 2 tokens again and again: at no time
    are more than 2 held, and every request is served (no deadlock, no starvation)."""
    in_use, most, lock, served = [0], [0], threading.Lock(), Counter()

    def worker(client: TokenClient, name: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        for _ in range(25):
            want = int(rng.integers(1, 3))
            got = client.acquire(want if rng.random() < 0.5 else 1, want)
            with lock:
                in_use[0] += got
                most[0] = max(most[0], in_use[0])
            time.sleep(0.0005)
            with lock:
                in_use[0] -= got
            client.release(got)
            served[name] += 1

    clients = [_client(broker) for _ in range(3)]  # a worker's threads share its client
    threads = [
        threading.Thread(target=worker, args=(clients[w], w, 10 * w + t))
        for w in range(3)
        for t in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert sum(served.values()) == 3 * 8 * 25
    assert most[0] == 2 and broker.most_lent == 2


def test_one_workers_threads_share_its_pipe_without_deadlock(broker):
    """A worker's threads ask through one client: one waits for a grant while another gives
    its tokens back, which must never wait on the first."""
    client = _client(broker)
    budget.set_budget(client)
    overlap, lock, running = [0], threading.Lock(), [0]

    def one(_item):
        with lock:
            running[0] += 1
            overlap[0] = max(overlap[0], running[0])
        time.sleep(0.002)
        with lock:
            running[0] -= 1
        return budget.held()

    got = fits(one, range(40), n_jobs=6, stage="select-c")
    assert got == [1] * 40
    assert overlap[0] == 2  # six threads, two tokens: two at a time, never more
    assert broker.most_lent == 2


def test_an_elastic_fit_takes_one_token_and_whatever_else_is_free(broker):
    """A forest (elastic) runs on the free tokens; any other multi-threaded fit waits for all
    its threads' tokens."""
    other = _client(broker)
    budget.set_budget(_client(broker))
    assert other.acquire(1, 1) == 1  # another worker holds one of the two tokens
    with budget.Batch().slot("teacher", "full", threads=2, elastic=True) as got:
        assert got == 1 and budget.held() == 1
    waited = []

    def boosted() -> None:
        with budget.Batch().slot("teacher", "full", threads=2) as tokens:
            waited.append(tokens)

    thread = threading.Thread(target=boosted)
    thread.start()
    time.sleep(0.2)
    assert waited == []  # one token is free, it needs two
    other.release(1)
    thread.join(10)
    assert waited == [2]
    with budget.Batch().slot("teacher", "full", threads=2, elastic=True) as got:
        assert got == 2  # all free now: the forest takes both


def test_a_worker_that_ends_holding_tokens_gives_them_back(broker):
    """The kernel closes a killed worker's pipe; the broker takes back what it held and drops
    what it asked for, so the budget never shrinks."""
    dying, waiting, alive = _client(broker), _client(broker), _client(broker)
    assert dying.acquire(2, 2) == 2
    waiting.conn.send(("acquire", 1, 1))  # a request that waits: none is free
    assert _eventually(lambda: len(broker.queue) == 1)
    waiting.conn.close()  # it dies while its request waits
    dying.conn.close()  # and this one while it holds both tokens
    assert _eventually(lambda: broker.free == 2 and not broker.queue)
    assert alive.acquire(2, 2) == 2


def test_a_split_traces_every_fit_it_makes():
    """Every fit of a unit is traced once, with its stage, batch, tokens and times: the
    teacher, its cross-fit and selection teachers, the c and α choices and the students."""
    spec = fit_settings(
        teacher_param=["n_estimators=10"],
        student="tree,rf",
        sizes="tree=4;rf=2,5",
        modes="raw,corrected,mixed",
        folds=3,
        c_grid="0.01,10",
        alpha_grid="0.2,0.8",
        select_c="nested",
    )
    ds = load_dataset("sklearn:iris")
    (split, *_rest) = make_splits(ds, spec)
    with budget.tracing() as traced:
        out = run_split(ds, split, spec, spec.teacher, threads=2)
    trace = traced["fits"]
    stages = Counter(f["stage"] for f in trace)
    students = stages.pop("student")
    # 3 selection folds: 3 out-of-fold pairs, 3 α teachers; per family 2 c x 3 folds, 2 α x 3
    assert stages == {
        "teacher": 1,
        "crossfit-teacher": 3,
        "selection-teacher": 3,
        "alpha-teacher": 3,
        "select-c": 12,
        "select-alpha": 12,
    }
    # raw, corrected, mixed per family; the nested rf 2,5 fits one more per distinct c or α
    assert 6 <= students <= 8
    assert len(trace) == out.timings["fits"]  # every fit counted is traced, once
    for fit in trace:
        assert 0 <= fit["start"] <= fit["end"] and fit["wait"] >= 0 and fit["tokens"] >= 1
    batches = sorted({f["batch"] for f in trace})
    assert batches == list(range(len(batches)))
    by_batch = {b: {f["stage"] for f in trace if f["batch"] == b} for b in batches}
    assert by_batch[0] == {"teacher", "crossfit-teacher"}  # the teachers come first
    assert by_batch[batches[-1]] == {"student"}
    # batches run one after another: every fit of a batch ends before the next batch starts
    for b in batches[1:]:
        before = max(f["end"] for f in trace if f["batch"] == b - 1)
        assert min(f["start"] for f in trace if f["batch"] == b) >= before
    labels = {f["label"] for f in trace if f["stage"] == "select-c"}
    assert "rf 2,5 corrected 0.01 fold 0" in labels


def test_tracing_is_per_thread():
    """Two units in one process (a Dask worker of two threads) keep their own traces."""
    got = {}

    def unit(name: str, n: int) -> None:
        with budget.tracing() as trace:
            fits(lambda _i: time.sleep(0.001), range(n), n_jobs=2, stage=name)
        got[name] = trace["fits"]

    threads = [threading.Thread(target=unit, args=(s, n)) for s, n in (("a", 3), ("b", 5))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert [f["stage"] for f in got["a"]] == ["a"] * 3
    assert [f["stage"] for f in got["b"]] == ["b"] * 5


def test_parts_run_side_by_side_after_a_trace_ended_in_the_same_thread():
    """A trace that ends leaves the thread as it found it: later parts still run."""
    with budget.tracing():
        pass
    with budget.own_budget(2):
        assert budget.side_by_side([lambda: 1, lambda: 2]) == [1, 2]
