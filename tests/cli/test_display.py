"""`kd benchmark`'s live display: its ETA weighs the units left by their estimated cost."""

import pytest

from kdcli.cli.display import EtaColumn, StudyDisplay
from kdcli.study.executors import Outcome
from kdcli.study.plan import Unit


def unit(name: str) -> Unit:
    return Unit(name, f"synthetic:binary?n={len(name)}", 0, 0, "lightgbm")


def test_the_eta_follows_the_estimates_of_the_units_left():
    """Three small units done as estimated, a big one running, two queued: the ETA is the big
    one's remaining time plus the queue's, not three units' mean times the units left."""
    display = StudyDisplay(quiet=True, live=False)
    assert display.eta() is None  # no estimates yet: rich shows -:--:--
    small = [unit(f"s{i}") for i in range(5)]
    big = [unit("big-a"), unit("big-b")]
    display.start(total=7, todo=7, skipped=0)
    display.estimated({**{u: 30.0 for u in big}, **{u: 2.0 for u in small}}, parallel=1)
    assert display.eta(now=0.0) == 70.0
    for u in small[:3]:
        display.unit_started(u)
        display.unit_finished(u, Outcome(u.unit_id, result={}, seconds=2.0))
    display.unit_started(big[0])
    t0 = display.started[big[0]]
    # 10 s into the first big unit: 20 s of it, 30 s of the other, 4 s of small units left
    assert display.eta(now=t0 + 10.0) == 54.0
    display.unit_finished(big[0], Outcome(big[0].unit_id, result={}, seconds=60.0))
    # it took twice its estimate: what is left is scaled by measured / estimated so far
    assert display.eta() == pytest.approx((30.0 + 4.0) * 66.0 / 36.0)


def test_a_failed_unit_leaves_the_eta_but_teaches_it_nothing():
    display = StudyDisplay(quiet=True, live=False)
    a, b = unit("a"), unit("bb")
    display.start(total=2, todo=2, skipped=0)
    display.estimated({a: 10.0, b: 10.0}, parallel=1)
    display.unit_started(a)
    display.unit_finished(a, Outcome(a.unit_id, error="boom", seconds=0.1))
    assert display.eta() == 10.0


def test_the_column_shows_hours_minutes_and_seconds():
    column = EtaColumn(lambda: 3725.4)
    assert column.render(None).plain == "1:02:05"
    assert EtaColumn(lambda: None).render(None).plain == "-:--:--"
