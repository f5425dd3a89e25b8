"""A stop signal whose exception is lost (raised while a finalizer ran, where Python prints
"Exception ignored" and drops it) is not lost to kd: the study takes it once the unit that finishes next is kept."""

import signal
import sys
import weakref

import pytest

from kdcli.errors import Terminated
from kdcli.study.runner import StudyProgress
from kdcli.study.signals import stop_signals_interrupt


class Thing:
    pass


@pytest.fixture(autouse=True)
def pythons_ctrl_c():
    """Python's own SIGINT handler, as an interactive kd has it: a process started with SIGINT
    ignored (under nohup, a background job of a script) keeps it ignored, and kd leaves a
    caller's choice alone, so these tests would fail there (they did, in a run started so)."""
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, inherited)


@pytest.fixture
def told(monkeypatch) -> list[BaseException]:
    """What reaches the interpreter's hook for lost exceptions (it prints them)."""
    seen: list[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda args: seen.append(args.exc_value))
    return seen


@pytest.mark.parametrize(
    ("signum", "raised"), [(signal.SIGTERM, Terminated), (signal.SIGINT, KeyboardInterrupt)]
)
def test_a_stop_lost_in_a_finalizer_is_raised_again_without_a_traceback(signum, raised, told):
    hook = sys.unraisablehook
    with stop_signals_interrupt() as stop:
        thing = Thing()
        weakref.finalize(thing, signal.raise_signal, signum)  # the handler runs inside it
        del thing  # the finalizer runs now, and the exception it raises is dropped
        assert stop.raised()
        with pytest.raises(raised):
            stop.check()
    assert told == []  # no "Exception ignored" traceback for it
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # all put back
    assert sys.unraisablehook is hook


def test_without_a_stop_check_does_nothing_and_other_lost_exceptions_are_still_told(told):
    def fails():
        raise ValueError("not a stop")

    with stop_signals_interrupt() as stop:
        thing = Thing()
        weakref.finalize(thing, fails)
        del thing
        stop.check()
    assert [str(e) for e in told] == ["not a stop"]


class _LosesTheStop(StudyProgress):
    """Sends SIGTERM from a finalizer as the first unit starts: its exception is dropped."""

    def unit_started(self, unit):
        thing = Thing()
        weakref.finalize(thing, signal.raise_signal, signal.SIGTERM)
        del thing


def test_a_study_takes_a_lost_stop_after_keeping_the_unit_that_finished(tmp_path, told):
    import kdcli

    suite = tmp_path / "suite.csv"
    suite.write_text("name,spec\niris,sklearn:iris\nwine,sklearn:wine\n")
    spec = kdcli.study_settings(
        str(suite), teacher_param=["n_estimators=5"], sizes="2", modes="raw,vanilla"
    )
    cfg = kdcli.OpenMLConfig(cache_dir=tmp_path / "cache", offline=True)
    out = tmp_path / "out"
    report = kdcli.run_study(spec, out, threads=1, openml=cfg, progress=_LosesTheStop())
    assert report.interrupted and report.terminated
    assert report.ran == 1 and report.done == 1  # the unit in flight is kept, the next not run
    assert told == []
