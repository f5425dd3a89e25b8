"""A unit's estimated cost (its data's shape, the study's settings, recorded times), the order
units start in, and the ETA those estimates give."""

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from kdcli.data import load_dataset
from kdcli.data.openml_source import OpenMLConfig
from kdcli.settings import fit_settings, study_settings
from kdcli.study.cost import (
    DEFAULT_SHAPE,
    SKLEARN_SHAPES,
    UNIT_MODEL,
    LogLinear,
    Shape,
    eta_seconds,
    file_shape,
    longest_first,
    member_shapes,
    selection_share,
    student_fits,
    unit_estimates,
)
from kdcli.study.plan import Unit, plan_units
from kdcli.study.unit import payload, run_unit


@pytest.fixture
def cfg(tmp_path):
    return OpenMLConfig(cache_dir=tmp_path / "cache", offline=True)


def unit(dataset: str, repeat: int = 0, teacher: str = "lightgbm") -> Unit:
    return Unit(dataset, f"sklearn:{dataset}", repeat, 0, teacher)


# -- the model --------------------------------------------------------------------------------


def test_the_log_linear_model_refits_from_recorded_times():
    """Times made by a known model give it back, with no scatter; so project_cc18.py's fit of a
    recorded study is the model kd holds."""
    truth = LogLinear(-3.0, 0.5, 0.25, 0.75)
    rng = np.random.default_rng(0)
    shapes = [
        Shape(int(r), int(f), int(c))
        for r, f, c in zip(
            rng.integers(100, 100_000, 30),
            rng.integers(2, 500, 30),
            rng.integers(2, 30, 30),
            strict=True,
        )
    ]
    fitted, scatter = LogLinear.fit(shapes, [truth(s.rows, s.features, s.classes) for s in shapes])
    np.testing.assert_allclose(fitted.coefficients, truth.coefficients, atol=1e-9)
    assert scatter == pytest.approx(1.0)


def test_student_fits_are_the_fits_a_unit_makes(cfg):
    """The settings' correction counts what a real unit fits (c and α chosen by CV)."""
    study = study_settings(
        "demo",
        "iris",
        teacher_param=["n_estimators=10"],
        sizes="4,full",
        modes="raw,vanilla,corrected,mixed",
        folds=3,
        c_grid="0.1,1,10",
        alpha_grid="0,0.5,1",
    )
    fit = study.fit
    (u,) = plan_units(study, cfg)[0]
    out = run_unit(payload(fit, u, cfg, threads=1))
    assert out["timings"]["teacher_cached"] is False
    assert student_fits(fit) == 2 * (1 + 1 + (3 * 3 + 1) + (3 * 3 + 1))
    assert out["timings"]["fits"] == fit.teacher_fits + student_fits(fit)


def test_the_settings_scale_the_estimate():
    shape = Shape(20_000, 16, 26)
    default = UNIT_MODEL.seconds(shape, fit_settings(), 0.75)
    assert UNIT_MODEL.seconds(shape, fit_settings(modes="raw"), 0.75) < default / 5  # 1 teacher
    eight = UNIT_MODEL.seconds(shape, fit_settings(sizes="8"), 0.75)
    nested = UNIT_MODEL.seconds(shape, fit_settings(sizes="8,64,512"), 0.75)
    assert eight < nested < default * 0.9  # one 512-leaf fit serves 8, 64, 512; full its own
    assert UNIT_MODEL.seconds(shape, fit_settings(sizes="512,64,8"), 0.75) == nested
    assert UNIT_MODEL.seconds(shape, fit_settings(max_rows=2000), 0.75) < default / 3
    more = UNIT_MODEL.seconds(
        shape, fit_settings(modes="raw,vanilla,crossfit,corrected,mixed"), 0.75
    )
    assert more > default * 1.25
    # the study the model was fitted on: letter took 46 + 50 s a unit on one core
    assert 30 < more < 300


def test_choosing_c_on_a_subsample_lowers_only_the_estimates_of_large_splits():
    """--select-rows (default 100,000 training rows): the fits that choose c and α take at most
    that many rows, the final students every row."""
    every = fit_settings(select_rows="all")
    for rows in (20_000, 130_000):  # 97,500 training rows at 0.75: below the cap
        shape = Shape(rows, 20, 2)
        assert UNIT_MODEL.seconds(shape, fit_settings(), 0.75) == UNIT_MODEL.seconds(
            shape, every, 0.75
        )
    big = Shape(1_000_000, 20, 2)
    capped, full = (
        UNIT_MODEL.seconds(big, fit_settings(), 0.75),
        UNIT_MODEL.seconds(big, every, 0.75),
    )
    assert capped < 0.75 * full
    assert 0 < selection_share(fit_settings()) < 1
    assert selection_share(fit_settings(modes="raw,vanilla")) == 0.0
    no_choice = fit_settings(modes="raw,vanilla")  # nothing to choose: nothing to subsample
    assert UNIT_MODEL.seconds(big, no_choice, 0.75) == UNIT_MODEL.seconds(
        big, fit_settings(modes="raw,vanilla", select_rows="all"), 0.75
    )


# -- the data's shape, without loading it -----------------------------------------------------


def test_bundled_shapes_are_the_loaders():
    for name, shape in SKLEARN_SHAPES.items():
        ds = load_dataset(f"sklearn:{name}")
        assert shape == Shape(ds.n_rows, ds.X.shape[1], ds.n_classes), name


def frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 5)).round(6)
    out = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)])
    out["label"] = rng.choice(["a", "b", "c", "d"], size=rows)
    return out


def test_file_shapes_from_metadata_or_the_head_of_the_file(tmp_path):
    """A parquet file's metadata is exact; a text file past its first megabyte is sized from
    the bytes per row of its head (plain or gzip), within a few percent."""
    big = frame(60_000)  # about 3.5 MB of text: the head is a fraction of it
    big.to_parquet(tmp_path / "big.parquet")
    assert file_shape(tmp_path / "big.parquet") == Shape(60_000, 5, 4)
    big.to_csv(tmp_path / "big.csv", index=False)
    with gzip.open(tmp_path / "big.tsv.gz", "wt") as fh:
        big.to_csv(fh, sep="\t", index=False)
    for name in ("big.csv", "big.tsv.gz"):
        shape = file_shape(tmp_path / name)
        assert (shape.features, shape.classes) == (5, 4), name
        assert abs(shape.rows - 60_000) < 0.05 * 60_000, (name, shape)
    frame(300).to_csv(tmp_path / "small.csv", index=False)
    assert file_shape(tmp_path / "small.csv") == Shape(300, 5, 4)  # read whole: exact


def test_a_folders_manifest_and_the_suites_numbers_come_first(tmp_path, cfg):
    folder = tmp_path / "data"
    folder.mkdir()
    frame(300).to_csv(folder / "one.csv", index=False)
    frame(200).to_csv(folder / "two.csv.gz", index=False)
    (folder / "MANIFEST.csv").write_text("name,file,rows,features,classes\none,one.csv,9000,50,7\n")
    dir_study = study_settings(f"dir:{folder}", teacher="lightgbm")
    assert member_shapes(dir_study, cfg) == {"one": Shape(9000, 50, 7), "two": Shape(200, 5, 4)}

    suite = tmp_path / "suite.csv"
    suite.write_text(
        "name,spec,rows,features,classes\n"
        "listed,synthetic:binary?n=300,12345,67,8\n"
        "synth,synthetic:multiclass?n=700&d=3&k=5\n"
        "gone,file:nowhere.csv\n"
        "remote,openml:999999999\n"
    )
    shapes = member_shapes(study_settings(str(suite)), cfg)
    assert shapes == {
        "listed": Shape(12345, 67, 8),
        "synth": Shape(700, 3, 5),
        "gone": None,  # an estimate never fails: the unit reports its own error
        "remote": None,
    }


# -- estimates and their order ----------------------------------------------------------------


def test_recorded_times_come_before_the_model():
    """A resume: the finished units of a dataset and teacher give the estimate of the rest;
    others get the model, scaled as the finished units compared with it (per teacher)."""
    study = study_settings("demo", teacher="lightgbm,rf")
    units = [unit(d, r, t) for d in ("iris", "wine") for r in (0, 1) for t in ("lightgbm", "rf")]
    shapes = {d: SKLEARN_SHAPES[d] for d in ("iris", "wine")}
    model = unit_estimates(study, units, shapes, {})
    for u in units:  # no teacher factor in the model: the same data, the same figure
        assert model[u.unit_id] == model[unit(u.dataset).unit_id] > 0

    iris_rf = unit("iris", 0, "rf").unit_id
    recorded = {unit("iris", 0).unit_id: 7.0, iris_rf: 40.0}
    est = unit_estimates(study, units, shapes, recorded)
    assert est[unit("iris", 1).unit_id] == 7.0
    assert est[unit("iris", 1, "rf").unit_id] == 40.0
    wine = model[unit("wine").unit_id]
    iris = model[unit("iris").unit_id]
    assert est[unit("wine", 1).unit_id] == pytest.approx(wine * 7.0 / iris)
    assert est[unit("wine", 1, "rf").unit_id] == pytest.approx(wine * 40.0 / iris)


def test_longest_first_keeps_the_plan_order_on_ties():
    units = [unit(d, r) for d in ("a", "b", "c") for r in (0, 1)]
    cost = {"a": 1.0, "b": 5.0, "c": 1.0}
    est = {u.unit_id: cost[u.dataset] for u in units}
    assert [(u.dataset, u.repeat) for u in longest_first(units, est)] == [
        ("b", 0),
        ("b", 1),
        ("a", 0),
        ("a", 1),
        ("c", 0),
        ("c", 1),
    ]
    assert unit_estimates(study_settings("demo"), [unit("x")], {}, {}) == {
        unit("x").unit_id: UNIT_MODEL.seconds(DEFAULT_SHAPE, study_settings("demo").fit, 0.75)
    }


# -- the ETA ----------------------------------------------------------------------------------


def test_the_eta_sees_big_units_left_where_counting_units_does_not():
    """The issue's case: at 3 of 12 units done, counting units said 17 s where about 80 s were
    left. Nine small units of 2 s and three big ones of 22 s, one at a time."""
    small, big = 2.0, 22.0
    finished = [(small, small)] * 3
    queued = [small] * 6 + [big] * 3
    truth = sum(queued)  # 78 s
    elapsed = sum(m for _, m in finished)
    by_count = elapsed / 3 * 9  # rich's remaining time: the mean unit so far, times units left
    assert by_count == 18.0 and by_count < truth / 4
    assert eta_seconds(queued, [], finished, parallel=1) == pytest.approx(truth)


def test_the_eta_learns_from_measured_times():
    """A machine twice as slow as the estimates: the ETA doubles after the first units."""
    queued = [10.0, 10.0, 20.0]
    assert eta_seconds(queued, [], [], 1) == 40.0
    assert eta_seconds(queued, [], [(5.0, 10.0), (5.0, 10.0)], 1) == 80.0


def test_the_eta_counts_running_units_and_the_longest_one_left():
    # four at once: the 60 s unit, not the mean share, sets the end
    assert eta_seconds([60.0, 1.0, 1.0, 1.0], [], [], parallel=4) == 60.0
    assert eta_seconds([4.0] * 8, [], [], parallel=4) == 8.0
    # a unit of 30 s running for 20 s has 10 s left; one past its estimate has none
    assert eta_seconds([], [(30.0, 20.0)], [], 1) == 10.0
    assert eta_seconds([], [(30.0, 45.0)], [], 1) == 0.0
    assert eta_seconds([], [], [(1.0, 1.0)], 2) == 0.0


def test_project_cc18_fits_the_model_kd_holds(tmp_path):
    """The committed stage models are what the projection script fits on a recorded study
    (here one made from those models, so the fit is exact)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import project_cc18

    names = ["a", "b", "c", "d", "e", "f"]
    sizes = [(150, 4, 3), (5000, 20, 2), (20000, 16, 26), (800, 70, 4), (48000, 14, 2)]
    sizes += [(2000, 216, 10)]
    (tmp_path / "units").mkdir()
    for name, (r, f, c) in zip(names, sizes, strict=True):
        for repeat in (0, 1):
            t = {
                "teacher": UNIT_MODEL.teacher(r, f, c),
                "students": UNIT_MODEL.students(r, f, c),
            }
            path = tmp_path / "units" / f"{name}__r{repeat}_f0__lightgbm.timings.json"
            path.write_text(json.dumps(t))
    stages = project_cc18.stage_seconds(tmp_path)
    manifest = pd.DataFrame(sizes, index=names, columns=["rows", "features", "classes"])
    joined = manifest.join(stages)
    for stage in ("teacher", "students"):
        fitted, _ = LogLinear.fit(project_cc18.shapes(joined), joined[stage])
        expected = getattr(UNIT_MODEL, stage).coefficients
        np.testing.assert_allclose(fitted.coefficients, expected, atol=1e-6)
