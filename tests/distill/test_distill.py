"""`kd distill` end to end: every family's model.onnx gives the in-memory student's
probabilities, `kd predict` gives DistilledModel.predict_proba, the card round-trips, --mode auto
chooses as the science says, the outer estimate is honest, and bad input is one line."""

import json

import numpy as np
import pandas as pd
import pytest

import kdcli
from kdcli.data.synthetic import make_synthetic
from kdcli.science.targets import to_proba

from conftest import one_line_error, run_kd

pytestmark = pytest.mark.heavy(seconds=40)  # its file starts early under pytest-xdist

FAST = {  # small grids and teachers: the tests check the plumbing, not the numbers
    "teacher_param": ["n_estimators=30"],
    "c_grid": "0.01,1",
    "alpha_grid": "0,0.5,1",
    "select_c": "paper",
}


def labelled_frame(n: int, k: int, seed: int) -> pd.DataFrame:
    """Numbers, two text categories (one tied to the label) and missing values in both kinds;
    the label in column 'y' as text."""
    X, y, _p0 = make_synthetic("binary" if k == 2 else "multiclass", n, 5, 0.1, seed, k=k)
    rng = np.random.default_rng(seed + 100)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d", "e"])
    frame["colour"] = np.where(
        rng.random(n) < 0.7, np.array(["red", "green", "blue"])[y % 3], "grey"
    )
    frame["size"] = rng.choice(["S", "M", "L", "XL"], n)
    frame.loc[rng.random(n) < 0.05, "a"] = np.nan
    frame.loc[rng.random(n) < 0.05, "colour"] = np.nan
    frame["y"] = np.array(["no", "yes", "maybe"])[y]
    return frame


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("distill")
    out = {}
    for k in (2, 3):
        train = labelled_frame(500, k, seed=k)
        test = labelled_frame(300, k, seed=k + 10)
        test.loc[test.index[:5], "size"] = "XXL"  # a level the model never saw
        out[k] = (root / f"train{k}.csv", root / f"test{k}.csv")
        train.to_csv(out[k][0], index=False)
        test.to_csv(out[k][1], index=False)
    return out


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("family,size", [("tree", 16), ("rf", 5), ("gbdt", 10), ("linear", 1)])
def test_model_onnx_and_kd_predict_give_the_students_probabilities(
    family, size, k, files, tmp_path, capsys
):
    train, test = files[k]
    model = kdcli.distill(
        f"file:{train}", target="y", student=family, size=size, estimate_folds=0, threads=2, **FAST
    )
    frame = pd.read_csv(test).drop(columns="y")
    coded = model.coded(frame)
    assert coded.unseen == {"size": 5}
    P = model.predict_proba(frame)
    raw = model.student.predict(coded.codes)
    card = model.card["student"]
    Q = to_proba(raw, k, card["scale"], card["eps"])
    assert np.abs(P - Q).max() <= 1e-5
    assert np.allclose(P.sum(axis=1), 1.0, atol=1e-6)
    assert len(np.unique(P[:, 0].round(4))) > 3  # not a constant student

    out = model.save(tmp_path / "model")
    loaded = kdcli.load_model(out)
    assert loaded.card == json.loads((out / "card.json").read_text())
    assert {k_: v for k_, v in loaded.card.items() if k_ != "files"} == model.card
    assert np.array_equal(loaded.predict_proba(frame), P)
    assert list(loaded.predict(frame)) == list(np.asarray(model.classes_)[P.argmax(axis=1)])

    preds = tmp_path / "preds.parquet"
    code, _out, err = run_kd(["predict", out, test, "--out", preds], capsys)
    assert code == 0, err
    got = pd.read_parquet(preds)
    assert list(got.columns) == [f"p_{c}" for c in model.classes_] + ["label"]
    assert np.array_equal(got.iloc[:, :k].to_numpy(), P)
    assert "5 row(s) with a level the model never saw" in err
    natives = sorted(p.name for p in out.iterdir())
    assert ("lightgbm-0.txt" in natives) == (family == "gbdt")


def test_the_card_says_what_was_fitted_and_reads_back(files, tmp_path):
    train, _test = files[3]
    model = kdcli.distill(f"file:{train}", target="y", estimate_folds=2, threads=2, **FAST)
    card = model.card
    assert card["data"]["classes"] == sorted(["no", "yes", "maybe"])
    columns = {c["name"]: c for c in card["data"]["columns"]}
    assert columns["colour"]["kind"] == "category" and "red" in columns["colour"]["levels"]
    assert columns["a"]["kind"] == "number"
    modes = [c["mode"] for c in card["selection"]["candidates"]]
    assert modes == ["raw", "vanilla", "crossfit", "corrected", "mixed"]
    assert card["student"]["mode"] in modes
    assert all(c["se"] > 0 and len(c["folds"]) == 5 for c in card["selection"]["candidates"])
    assert set(card["estimate"]["metrics"]) >= {"error", "auc", "log_loss"}
    assert len(card["estimate"]["modes"]) == 2
    assert card["latency"]["single_row_p99_ms"] >= card["latency"]["single_row_p50_ms"] > 0
    assert card["student"]["n_leaves"] == 64 and card["student"]["onnx_bytes"] > 0
    assert card["teacher"]["name"] == "lightgbm" and card["teacher"]["n_trees"] > 0
    out = model.save(tmp_path / "m")
    md = (out / "card.md").read_text()
    assert "Expected held-out performance" in md and "← chosen" in md
    # the same seed, the same model: nothing depends on the run
    again = kdcli.distill(f"file:{train}", target="y", estimate_folds=2, threads=1, **FAST)
    assert again.onnx_bytes == model.onnx_bytes
    assert again.card["estimate"] == card["estimate"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auto_takes_a_cross_fit_target_from_an_overfit_teacher_and_labels_from_a_useless_one(
    seed,
):
    """A forest of full-depth trees (20 of them) fits its training rows almost exactly (its
    in-sample probabilities are close to the labels), so out-of-fold probabilities carry what the
    vanilla ones lose. A one-split booster of learning rate 0.01 predicts the class shares:
    nothing to learn from."""
    data = "synthetic:binary?n=2000&noise=0.2"
    overfit = kdcli.distill(
        data, student="tree", size=64, estimate_folds=0, threads=2, seed=seed,
        teacher="rf", teacher_param=["n_estimators=20"],
    )  # fmt: skip
    assert overfit.card["student"]["mode"] in ("crossfit", "corrected")
    scores = {c["mode"]: c["cv"] for c in overfit.card["selection"]["candidates"]}
    assert scores["crossfit"] < scores["vanilla"] - 0.02
    useless = kdcli.distill(
        data, student="tree", size=64, estimate_folds=0, threads=2, seed=seed,
        teacher_param=["n_estimators=1", "num_leaves=2", "learning_rate=0.01"],
        select_metric="error",
    )  # fmt: skip
    assert useless.card["student"]["mode"] == "raw"


def test_the_outer_estimate_covers_the_error_on_new_rows():
    """Over seeds, the outer estimate (mean ± SE over 5 outer folds, the whole procedure in
    each) lies within 2 SE and a margin of the student's error on 20,000 new rows of the same
    distribution."""
    X_new, y_new, _ = make_synthetic("binary", 20_000, 10, 0.2, seed=999)
    new = pd.DataFrame(X_new, columns=[f"x{i}" for i in range(10)])
    inside = []
    for seed in range(4):
        model = kdcli.distill(
            f"synthetic:binary?n=800&noise=0.2&seed={seed}", student="tree", size=16,
            estimate_folds=5, threads=2, seed=seed, **FAST,
        )  # fmt: skip
        est = model.card["estimate"]["metrics"]["error"]
        truth = float(np.mean(model.predict(new).astype(int) != y_new))
        inside.append(abs(est["mean"] - truth) <= 2 * est["se"] + 0.02)
    assert sum(inside) >= 3, inside


def test_bad_prediction_input_is_one_line_and_writes_nothing(files, tmp_path, capsys):
    train, test = files[2]
    model = kdcli.distill(f"file:{train}", target="y", estimate_folds=0, threads=2, **FAST)
    model_dir = model.save(tmp_path / "m")
    good = pd.read_csv(test)
    cases = {
        "missing": good.drop(columns=["b"]),
        "extra": good.assign(z=1.0),
        "wrong type": good.assign(a="tall"),
        "category where a number": good.assign(c=np.where(good.index % 2, "x", "y")),
    }
    for name, frame in cases.items():
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        out = tmp_path / f"{name}-preds.csv"
        line = one_line_error(*run_kd(["predict", model_dir, path, "--out", out], capsys))
        assert not out.exists(), name
        assert {"missing": "lacks column", "extra": "--ignore-extra"}.get(name, "text") in line
    empty = tmp_path / "empty.csv"
    good.head(0).to_csv(empty, index=False)
    assert "no rows" in one_line_error(*run_kd(["predict", model_dir, empty], capsys))
    whole, batched = tmp_path / "whole.csv", tmp_path / "batched.csv"
    assert run_kd(["predict", model_dir, test, "--out", whole], capsys)[0] == 0
    code, _, err = run_kd(
        ["predict", model_dir, test, "--out", batched, "--batch-rows", "7"], capsys
    )
    assert code == 0 and whole.read_text() == batched.read_text(), err
    assert "5 row(s) with a level the model never saw" in err  # counted over every batch
    ignored = tmp_path / "extra-ok.parquet"
    code, _, err = run_kd(
        ["predict", model_dir, tmp_path / "extra.csv", "--out", ignored, "--ignore-extra"], capsys
    )
    assert code == 0 and len(pd.read_parquet(ignored)) == len(good), err


def test_bad_distill_input_is_one_line_and_nothing_is_written(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("a user's file")
    cases = [
        (["--out", mine], "holds no kd model"),
        (["--out", tmp_path / "a", "--estimate-folds", "1"], "--estimate-folds"),
        (["--out", tmp_path / "b", "--mode", "teacher"], "--mode"),
        (["--out", tmp_path / "c", "--student", "tree,rf"], "one family"),
        (["--out", tmp_path / "d", "--size", "1"], "--size"),
    ]
    for args, words in cases:
        line = one_line_error(*run_kd(["distill", "-q", *args], capsys))
        assert words in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_model_dir_is_written_whole_replaced_only_with_force_and_checked_on_load(tmp_path, capsys):
    out = tmp_path / "m"
    args = ["distill", "-q", "--estimate-folds", "0", "--size", "4", "--out", out]
    args += ["--teacher-param", "n_estimators=20", "--select-c", "paper"]  # quick fits
    assert run_kd(args, capsys)[0] == 0
    first = (out / "model.onnx").read_bytes()
    assert "--force" in one_line_error(*run_kd(args, capsys))
    assert run_kd([*args, "--force", "--student", "linear"], capsys)[0] == 0
    assert (out / "model.onnx").read_bytes() != first
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
    (out / "model.onnx").write_bytes(first)  # a file the card does not name
    data = tmp_path / "x.csv"
    kdcli.load_dataset("sklearn:breast_cancer").X.head(3).to_csv(data, index=False)
    line = one_line_error(*run_kd(["predict", out, data], capsys))
    assert "not the file its card names" in line
    (out / "card.json").write_text("{")
    assert "damaged" in one_line_error(*run_kd(["predict", out, data], capsys))


def test_size_auto_takes_the_best_size_within_the_budget(tmp_path, capsys):
    out = tmp_path / "m"
    args = ["distill", "-q", "--estimate-folds", "0", "--select-c", "paper", "--c-grid", "0.01,1"]
    args += ["--alpha-grid", "0,1", "--teacher-param", "n_estimators=30", "--size", "auto"]
    code, _, err = run_kd([*args, "--max-bytes", "3k", "--out", out], capsys)
    assert code == 0, err
    card = json.loads((out / "card.json").read_text())
    table = card["size_choice"]["sizes"]
    assert [r["size"] for r in table] == [4, 8, 16, 32, 64, 128, 256, 512, 1024, "full"]
    chosen = [r for r in table if r["chosen"]]
    assert len(chosen) == 1 and chosen[0]["size"] == card["student"]["size"]
    assert (out / "model.onnx").stat().st_size == chosen[0]["onnx_bytes"] <= 3000
    assert "How the size was chosen (budget: at most 3,000 bytes" in (out / "card.md").read_text()
    assert all(r["within_budget"] == (r["onnx_bytes"] <= 3000) for r in table)
    feasible = [r for r in table if r["within_budget"]]
    top = min(feasible, key=lambda r: r["cv"])
    first = next(r for r in feasible if r["cv"] <= top["cv"] + top["se"])
    assert chosen[0] is not None and first["size"] == chosen[0]["size"]
    tiny = ["--max-bytes", "100", "--dataset", "sklearn:iris"]  # every size fitted, then refused
    line = one_line_error(*run_kd([*args, *tiny, "--out", tmp_path / "x"], capsys))
    assert "no tree student fits the budget (--max-bytes 100)" in line
    line = one_line_error(
        *run_kd([*args[:-2], "--max-bytes", "3k", "--out", tmp_path / "y"], capsys)
    )
    assert "--size auto" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_a_killed_write_leaves_nothing_the_next_one_does_not_clean_up(tmp_path, capsys):
    """kill -9 between the two renames of a --force write: the earlier model sits in a hidden
    folder of the dead process and the new one in another; the next write puts the earlier
    model back, removes the rest, and only then judges the destination."""
    out = tmp_path / "m"
    args = ["distill", "-q", "--estimate-folds", "0", "--size", "4", "--out", out]
    args += ["--teacher-param", "n_estimators=20", "--select-c", "paper"]
    assert run_kd(args, capsys)[0] == 0
    card = (out / "card.json").read_text()
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    out.rename(tmp_path / f".m.old-{dead}")
    (tmp_path / f".m.tmp-{dead}").mkdir()
    (tmp_path / f".m.tmp-{dead}" / "model.onnx").write_bytes(b"half")
    assert "--force" in one_line_error(*run_kd(args, capsys))  # the earlier model is back
    assert (out / "card.json").read_text() == card
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
