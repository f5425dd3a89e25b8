"""Data sources on real data, no mocks: bundled scikit-learn sets, synthetic designs, users' files.

Every loader returns a Dataset with float/category features, labels 0..K-1 and class names;
every bad SPEC or file is a KDError with a one-line message naming the problem.
"""

import csv
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kdcli.data import Dataset, load_dataset
from kdcli.data.synthetic import binary_p, multiclass_p
from kdcli.errors import KDError

from support.paths import SHARED_DATASETS


def _error(spec, target=None) -> str:
    """Load a SPEC that must fail; return the one-line message of its KDError.

    Any other exception is a kdcli bug: the CLI reports it as an internal error (exit 1).
    """
    try:
        load_dataset(spec, target)
    except KDError as err:
        message = str(err)
    except Exception as err:
        pytest.fail(
            f"kdcli bug: {spec!r} raised {type(err).__name__}: {err} instead of a KDError, "
            "so `kd fit` reports an internal error (exit 1) instead of a user error (exit 2)"
        )
    else:
        pytest.fail(f"{spec!r} (target={target!r}) loaded without an error")
    assert message.strip(), "a KDError needs a message"
    assert "\n" not in message, f"kdcli bug: the message is not one line: {message!r}"
    return message


def _check_dataset(ds: Dataset, rows: int, features: int, classes: int) -> None:
    assert ds.X.shape == (rows, features)
    assert ds.y.shape == (rows,)
    assert ds.n_rows == rows
    assert ds.n_classes == classes
    assert len(ds.class_names) == classes
    assert ds.y.dtype == np.int64
    # labels are 0..K-1 and every class occurs (stratified splits need it)
    assert sorted(np.unique(ds.y).tolist()) == list(range(classes))
    assert isinstance(ds.X.index, pd.RangeIndex)


# --------------------------------------------------------------------------------------------
# sklearn:
# --------------------------------------------------------------------------------------------

SKLEARN_CASES = {
    # name: (rows, features, class names, rows per class)
    "breast_cancer": (569, 30, ["malignant", "benign"], [212, 357]),
    "digits": (1797, 64, [str(i) for i in range(10)], None),
    "wine": (178, 13, ["class_0", "class_1", "class_2"], [59, 71, 48]),
    "iris": (150, 4, ["setosa", "versicolor", "virginica"], [50, 50, 50]),
}


@pytest.mark.parametrize("name", list(SKLEARN_CASES))
def test_sklearn_datasets_load_with_shapes_and_class_names(name):
    rows, features, names, counts = SKLEARN_CASES[name]
    ds = load_dataset(f"sklearn:{name}")
    _check_dataset(ds, rows, features, len(names))
    assert ds.class_names == names
    if counts is not None:
        assert np.bincount(ds.y).tolist() == counts
    assert ds.name == f"sklearn:{name}"
    assert ds.p0 is None
    assert (ds.X.dtypes == "float64").all()
    assert not ds.X.isna().to_numpy().any()
    assert ds.meta["spec"] == f"sklearn:{name}"


def test_sklearn_digits_labels_are_the_digits():
    from sklearn.datasets import load_digits

    ds = load_dataset("sklearn:digits")
    np.testing.assert_array_equal(ds.y, load_digits().target)
    assert np.bincount(ds.y).min() >= 170


def test_source_name_is_case_insensitive():
    ds = load_dataset("SKLearn:iris")
    assert ds.n_rows == 150 and ds.n_classes == 3


# --------------------------------------------------------------------------------------------
# synthetic:
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "n", "d", "k"),
    [
        ("synthetic:binary", 5000, 10, 2),
        ("synthetic:multiclass?k=5", 5000, 10, 5),
        ("synthetic:binary?n=300&d=6", 300, 6, 2),
        ("synthetic:multiclass?n=400&d=3&k=3", 400, 3, 3),
    ],
)
def test_synthetic_shapes_and_p0_rows_sum_to_one(spec, n, d, k):
    ds = load_dataset(spec)
    _check_dataset(ds, n, d, k)
    assert ds.p0 is not None
    assert ds.p0.shape == (n, k)
    np.testing.assert_allclose(ds.p0.sum(axis=1), 1.0, atol=1e-12)
    assert (ds.p0 >= 0).all() and (ds.p0 <= 1).all()
    assert ds.class_names == [str(i) for i in range(k)]
    assert list(ds.X.columns) == [f"x{i}" for i in range(d)]
    assert ds.meta["n"] == n and ds.meta["d"] == d


@pytest.mark.parametrize("spec", ["synthetic:binary?n=20000", "synthetic:multiclass?n=20000&k=5"])
def test_synthetic_labels_follow_p0(spec):
    ds = load_dataset(spec)
    n, k = ds.p0.shape
    freq = np.bincount(ds.y, minlength=k) / n
    expected = ds.p0.mean(axis=0)
    # y | x ~ Categorical(p0(x)): the class frequency is within a few standard errors of mean p0
    se = np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(freq - expected) < 4 * se + 1e-3), (freq, expected)
    assert np.max(np.abs(freq - expected)) < 0.015
    # and calibrated, not only on average: within bins of p0 the label frequency tracks p0
    top = ds.p0.argmax(axis=1)
    for c in range(k):
        p = ds.p0[:, c]
        bins = np.digitize(p, [0.2, 0.4, 0.6, 0.8])
        for b in np.unique(bins):
            rows = bins == b
            if rows.sum() < 500:
                continue
            observed = np.mean(ds.y[rows] == c)
            assert abs(observed - p[rows].mean()) < 0.04, (c, b, observed, p[rows].mean())
    # the Bayes rule beats the base rate, i.e. p0 carries signal about y
    assert np.mean(top == ds.y) > freq.max() + 0.05


@pytest.mark.parametrize("design", ["binary", "multiclass"])
def test_synthetic_same_seed_same_data(design):
    a = load_dataset(f"synthetic:{design}?n=500&seed=7")
    b = load_dataset(f"synthetic:{design}?n=500&seed=7")
    pd.testing.assert_frame_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.p0, b.p0)


def test_synthetic_binary_other_seed_other_sample_same_function():
    noise = 0.1
    a = load_dataset("synthetic:binary?n=2000&seed=1")
    b = load_dataset("synthetic:binary?n=2000&seed=2")
    assert not np.allclose(a.X.to_numpy(), b.X.to_numpy())
    assert not np.array_equal(a.y, b.y)
    assert not np.allclose(a.p0, b.p0)
    for ds in (a, b):  # one p0 function, evaluated on each sample's own x
        p1 = (1 - noise) * binary_p(ds.X.to_numpy()) + noise / 2
        np.testing.assert_allclose(ds.p0[:, 1], p1, rtol=0, atol=1e-12)
        np.testing.assert_allclose(ds.p0[:, 0], 1 - p1, rtol=0, atol=1e-12)


def test_synthetic_multiclass_other_seed_same_function():
    noise, k = 0.1, 5
    a = load_dataset(f"synthetic:multiclass?n=2000&k={k}&seed=1")
    b = load_dataset(f"synthetic:multiclass?n=2000&k={k}&seed=2")
    assert not np.allclose(a.X.to_numpy(), b.X.to_numpy())
    assert not np.array_equal(a.y, b.y)
    for ds in (a, b):
        expected = (1 - noise) * multiclass_p(ds.X.to_numpy(), k) + noise / k
        np.testing.assert_allclose(ds.p0, expected, rtol=0, atol=1e-12)


def test_synthetic_noise_shrinks_p0_towards_uniform():
    clean = load_dataset("synthetic:binary?n=5000&noise=0")
    noisy = load_dataset("synthetic:binary?n=5000&noise=0.5")
    np.testing.assert_array_equal(clean.X.to_numpy(), noisy.X.to_numpy())  # same x, same seed
    np.testing.assert_allclose(clean.p0[:, 1], binary_p(clean.X.to_numpy()), atol=1e-12)
    p = noisy.p0[:, 1]
    assert p.min() >= 0.25 and p.max() <= 0.75
    # the bound is reached, not merely respected: p0 = 0.5 p + 0.25 over p in (0, 1)
    assert p.min() < 0.27 and p.max() > 0.73
    np.testing.assert_allclose(p, 0.5 * clean.p0[:, 1] + 0.25, atol=1e-12)
    assert clean.p0.min() < 0.01 and clean.p0.max() > 0.99
    assert noisy.meta["noise"] == 0.5


def test_synthetic_multiclass_noise_floor():
    ds = load_dataset("synthetic:multiclass?n=3000&k=4&noise=0.4")
    assert ds.p0.min() >= 0.4 / 4 - 1e-12
    assert ds.p0.max() <= 1 - 0.4 + 0.4 / 4 + 1e-12


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("synthetic:binary?foo=1", ["foo", "n, d, noise, seed"]),
        ("synthetic:multiclass?colour=red", ["colour"]),
        ("synthetic:binary?n=1.5", ["n=", "1.5", "integer"]),
        ("synthetic:binary?n=abc", ["n=", "abc", "integer"]),
        ("synthetic:binary?n=", ["n=", "integer"]),
        ("synthetic:multiclass?k=three", ["k=", "three", "integer"]),
        ("synthetic:binary?noise=abc", ["noise=", "abc", "number"]),
        ("synthetic:binary?noise=1", ["noise", "< 1", "noise=1.0"]),
        ("synthetic:binary?noise=1.5", ["noise", "< 1"]),
        ("synthetic:binary?noise=-0.1", ["noise", "0 <= noise"]),
        ("synthetic:multiclass?noise=1", ["noise", "< 1"]),
        ("synthetic:binary?n=5", ["n >= 20", "n=5"]),
        ("synthetic:binary?d=3", ["d >= 5", "d=3"]),
        ("synthetic:multiclass?k=2", ["3 <= k <= 50", "k=2"]),
        ("synthetic:multiclass?k=51", ["k=51"]),
        ("synthetic:trinary", ["unknown synthetic design", "trinary", "binary, multiclass"]),
        ("synthetic:", ["names no dataset"]),
        ("synthetic:binary?&&", ["cannot read parameters", "key=value"]),
    ],
)
def test_synthetic_bad_parameters(spec, words):
    message = _error(spec)
    for word in words:
        assert word in message, (word, message)


@pytest.mark.parametrize(
    ("spec", "words", "not_words"),
    [
        # d is what is too large (was: "use fewer rows", though n=100 is tiny)
        (
            "synthetic:binary?d=100000000&n=100",
            ["too many features", "d=100,000,000", "80.0 GB", "use d <= 100,000"],
            ["rows:", "fewer rows", "n <="],
        ),
        # exactly 2e8 values, 10 million columns: was accepted, and the process was killed
        ("synthetic:multiclass?d=10000000&n=20", ["too many features", "d <= 100,000"], ["n <="]),
        (
            "synthetic:binary?n=1000000000",
            ["too many rows", "n=1,000,000,000", "n <= 20,000,000"],
            ["features,", "d <="],
        ),
        (
            "synthetic:binary?n=1000000&d=1000",
            ["8.0 GB", "n <= 200,000 with d=1,000", "d <= 200 with n=1,000,000"],
            [],
        ),
    ],
)
def test_synthetic_size_errors_blame_what_is_too_large(spec, words, not_words):
    message = _error(spec)
    for word in words:
        assert word in message, (word, message)
    for word in not_words:
        assert word not in message, (word, message)


def test_synthetic_parameter_given_twice_is_refused():
    """Was: the last one won silently, as a dict keeps it."""
    message = _error("synthetic:binary?n=100&d=6&n=200")
    assert "gives the parameter 'n' more than once" in message


def test_synthetic_negative_seed_is_a_user_error():
    # BUG: numpy's default_rng refuses negative seeds with a bare ValueError, which the CLI
    # reports as an internal error (exit 1) instead of a user error (exit 2).
    message = _error("synthetic:binary?seed=-1")
    assert "seed" in message


# --------------------------------------------------------------------------------------------
# shared datasets (../shared/datasets, present for developers and CI, absent for users)
# --------------------------------------------------------------------------------------------


def _manifest_rows():
    manifest = SHARED_DATASETS / "MANIFEST.csv"
    if not manifest.is_file():
        return [pytest.param(None, id="shared-datasets-absent")]
    with manifest.open(newline="") as fh:
        return [pytest.param(row, id=row["name"]) for row in csv.DictReader(fh)]


def _require_shared():
    if not (SHARED_DATASETS / "MANIFEST.csv").is_file():
        pytest.skip(f"../shared/datasets not found: {SHARED_DATASETS} (MANIFEST.csv) is absent")


def test_shared_manifest_lists_every_file():
    _require_shared()
    on_disk = {p.name for p in SHARED_DATASETS.glob("*.tsv.gz")}
    with (SHARED_DATASETS / "MANIFEST.csv").open(newline="") as fh:
        listed = {row["file"] for row in csv.DictReader(fh)}
    assert on_disk, "no *.tsv.gz files in the shared folder"
    assert on_disk == listed


@pytest.mark.parametrize("row", _manifest_rows())
def test_shared_dataset_matches_manifest(row):
    _require_shared()
    path = SHARED_DATASETS / row["file"]
    ds = load_dataset(f"file:{path}")
    _check_dataset(ds, int(row["rows"]), int(row["features"]), int(row["classes"]))
    assert ds.meta["target"] == "target"
    assert ds.name == row["name"]
    assert "target" not in ds.X.columns
    assert not ds.X.isna().to_numpy().any()  # the README promises no missing values
    assert (ds.X.dtypes == "float64").all()  # and all columns numeric


# --------------------------------------------------------------------------------------------
# file: (tables written here, in tmp_path)
# --------------------------------------------------------------------------------------------


@pytest.fixture
def table():
    """A small table with a numeric and a text feature (both with a gap), a text label and a
    second, numeric label column."""
    return pd.DataFrame(
        {
            "size": [1.5, 2.0, np.nan, 4.0, 5.0, 6.5, 7.0, 8.0, 9.0],
            "colour": ["red", "blue", "red", None, "green", "blue", "red", "green", "blue"],
            "count": [3, 1, 4, 1, 5, 9, 2, 6, 5],
            "animal": ["dog", "cat", "emu", "cat", "dog", "emu", "dog", "cat", "emu"],
            "legs": [4, 4, 2, 4, 4, 2, 4, 4, 2],
        }
    )


def _write(frame: pd.DataFrame, path: Path) -> Path:
    name = path.name.lower()
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        sep = "\t" if name.endswith((".tsv", ".tsv.gz", ".tab")) else ","
        frame.to_csv(path, sep=sep, index=False)  # .gz suffix: pandas compresses
    return path


FORMATS = ["t.csv", "t.tsv", "t.csv.gz", "t.tsv.gz", "t.parquet", "t.tab", "t.CSV"]


def test_all_formats_load_identically(tmp_path, table):
    loaded = {}
    for filename in FORMATS:
        path = _write(table, tmp_path / filename)
        if filename.endswith(".gz"):
            with gzip.open(path, "rb") as fh:  # really compressed, not just named so
                fh.read(1)
        loaded[filename] = load_dataset(f"file:{path}", target="animal")
    reference = loaded["t.csv"]
    _check_dataset(reference, 9, 4, 3)
    for filename, ds in loaded.items():
        pd.testing.assert_frame_equal(ds.X, reference.X, check_categorical=True, obj=filename)
        np.testing.assert_array_equal(ds.y, reference.y, err_msg=filename)
        assert ds.class_names == reference.class_names, filename
        assert ds.name == "t"
        assert ds.meta["target"] == "animal"
        assert ds.meta["path"] == str((tmp_path / filename).resolve())


def test_string_labels_map_to_sorted_codes(tmp_path, table):
    ds = load_dataset(f"file:{_write(table, tmp_path / 'a.csv')}", target="animal")
    assert ds.class_names == ["cat", "dog", "emu"]
    np.testing.assert_array_equal(ds.y, [1, 0, 2, 0, 1, 2, 1, 0, 2])
    assert [ds.class_names[c] for c in ds.y] == table["animal"].tolist()
    assert "animal" not in ds.X.columns


def test_numeric_labels_keep_their_values_as_names(tmp_path):
    frame = pd.DataFrame({"x": range(6), "grade": [7, 3, 7, 11, 3, 11]})
    ds = load_dataset(f"file:{_write(frame, tmp_path / 'g.csv')}")
    # sorted numerically (3 < 7 < 11), not as text ("11" < "3")
    assert ds.class_names == ["3", "7", "11"]
    np.testing.assert_array_equal(ds.y, [1, 0, 1, 2, 0, 2])


def test_feature_dtypes_and_missing_values_are_kept(tmp_path, table):
    ds = load_dataset(f"file:{_write(table, tmp_path / 'a.csv')}", target="animal")
    assert list(ds.X.columns) == ["size", "colour", "count", "legs"]
    assert ds.X["size"].dtype == np.float64
    assert ds.X["count"].dtype == np.float64
    assert isinstance(ds.X["colour"].dtype, pd.CategoricalDtype)
    assert sorted(ds.X["colour"].cat.categories) == ["blue", "green", "red"]
    # the gaps stay where they were: no row dropped, no "nan" category invented
    assert ds.n_rows == len(table)
    assert ds.X["size"].isna().tolist() == table["size"].isna().tolist()
    assert ds.X["colour"].isna().tolist() == table["colour"].isna().tolist()
    assert ds.X["size"].isna().sum() == 1 and ds.X["colour"].isna().sum() == 1
    assert "nan" not in [str(c).lower() for c in ds.X["colour"].cat.categories]
    assert ds.X["colour"].iloc[0] == "red"
    assert ds.X["size"].iloc[6] == 7.0


def test_target_option_picks_another_column(tmp_path, table):
    path = _write(table, tmp_path / "a.csv")
    ds = load_dataset(f"file:{path}", target="legs")
    assert ds.meta["target"] == "legs"
    assert ds.class_names == ["2", "4"]
    np.testing.assert_array_equal(ds.y, (table["legs"] == 4).astype(int))
    # the default label column is now a feature like any other text column
    assert "legs" not in ds.X.columns
    assert isinstance(ds.X["animal"].dtype, pd.CategoricalDtype)


def test_default_target_is_the_last_column(tmp_path, table):
    ds = load_dataset(f"file:{_write(table, tmp_path / 'a.csv')}")
    assert ds.meta["target"] == "legs"
    assert ds.n_classes == 2
    assert "legs" not in ds.X.columns and "animal" in ds.X.columns


def test_default_target_is_target_column_wherever_it_is(tmp_path, table):
    frame = table.rename(columns={"animal": "target"})
    frame = frame[["target", *[c for c in frame.columns if c != "target"]]]  # target first
    ds = load_dataset(f"file:{_write(frame, tmp_path / 'a.tsv')}")
    assert ds.meta["target"] == "target"
    assert ds.class_names == ["cat", "dog", "emu"]
    assert list(ds.X.columns) == ["size", "colour", "count", "legs"]


def test_boolean_feature_becomes_float(tmp_path):
    frame = pd.DataFrame({"flag": [True, False, True, False], "y": ["a", "b", "a", "b"]})
    ds = load_dataset(f"file:{_write(frame, tmp_path / 'b.parquet')}")
    assert ds.X["flag"].dtype == np.float64
    assert ds.X["flag"].tolist() == [1.0, 0.0, 1.0, 0.0]


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nothere.csv"
    message = _error(f"file:{path}")
    assert "does not exist" in message and "nothere.csv" in message


def test_folder_is_not_a_file(tmp_path):
    message = _error(f"file:{tmp_path}")
    assert "folder" in message and str(tmp_path) in message


@pytest.mark.parametrize("filename", ["data.xlsx", "data", "data.json.gz", "data.gz"])
def test_unknown_suffix(tmp_path, filename):
    path = tmp_path / filename
    path.write_text("x,target\n1,a\n2,b\n")
    message = _error(f"file:{path}")
    assert "cannot tell the format" in message and filename in message
    assert ".csv" in message and ".parquet" in message


def test_missing_target_column_lists_columns(tmp_path, table):
    path = _write(table, tmp_path / "a.csv")
    message = _error(f"file:{path}", target="species")
    assert "'species'" in message
    for column in table.columns:
        assert column in message
    assert "--target" in message


def test_target_with_one_class(tmp_path):
    frame = pd.DataFrame({"x": [1, 2, 3, 4], "target": ["cat"] * 4})
    message = _error(f"file:{_write(frame, tmp_path / 'one.csv')}")
    assert "only one class" in message and "cat" in message


def test_target_with_missing_labels(tmp_path):
    frame = pd.DataFrame({"x": [1, 2, 3, 4, 5], "target": ["a", None, "b", None, "a"]})
    message = _error(f"file:{_write(frame, tmp_path / 'gaps.csv')}")
    assert "2 missing label" in message and "'target'" in message


def test_one_column_file(tmp_path):
    path = tmp_path / "semicolons.csv"
    path.write_text("x;target\n1;a\n2;b\n")
    message = _error(f"file:{path}")
    assert "1 column" in message and "separator" in message


def test_not_gzip_compressed(tmp_path):
    path = tmp_path / "plain.csv.gz"
    path.write_text("x,target\n1,a\n2,b\n")
    message = _error(f"file:{path}")
    assert "cannot read" in message and "plain.csv.gz" in message


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("foo:bar", ["unknown dataset source", "'foo'", "sklearn, synthetic, file"]),
        ("breast_cancer", ["no source", "SOURCE:NAME"]),
        ("sklearn:mnist", ["unknown scikit-learn dataset", "'mnist'", "breast_cancer", "iris"]),
        ("sklearn:", ["names no dataset"]),
        ("file:", ["names no dataset"]),
    ],
)
def test_bad_specs(spec, words):
    message = _error(spec)
    for word in words:
        assert word in message, (word, message)


# Malformed files that a user can easily have. Each must be a one-line KDError (exit 2 in the
# CLI); at the time of writing each escapes as a library exception (a kdcli bug, see the report).


def test_empty_file_is_a_user_error(tmp_path):
    # BUG: pandas' EmptyDataError is not caught in read_table.
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert "empty.csv" in _error(f"file:{path}")


def test_header_only_file_is_a_user_error(tmp_path):
    # BUG: encode_labels indexes names[0] of an empty list (IndexError).
    path = tmp_path / "header.csv"
    path.write_text("x,target\n")
    message = _error(f"file:{path}")
    assert "row" in message


def test_corrupt_parquet_is_a_user_error(tmp_path):
    # BUG: pd.read_parquet errors (pyarrow.ArrowInvalid) are not caught in read_table.
    path = tmp_path / "broken.parquet"
    path.write_text("this is not parquet\n")
    assert "broken.parquet" in _error(f"file:{path}")


def test_ragged_csv_message_is_one_line(tmp_path):
    # BUG: pandas' tokenizer message ends in a newline, so the CLI prints a blank second line.
    path = tmp_path / "ragged.csv"
    path.write_text("x,target\n1,a\n2,b,3,4\n3,a\n")
    assert "ragged.csv" in _error(f"file:{path}")  # _error checks the message is one line


def test_infinities_are_missing_values(tmp_path):
    from kdcli.data import load_dataset

    path = tmp_path / "inf.csv"
    path.write_text("x,y,target\n1,inf,a\n2,-inf,b\n3,4,a\n4,5,b\n")
    ds = load_dataset(f"file:{path}")
    assert ds.X["y"].isna().tolist() == [True, True, False, False]
    assert ds.X["x"].notna().all()


def test_the_tests_keep_kds_cache_out_of_the_checkout(tmp_path, monkeypatch):
    """kd's default cache in a checkout is its datasets/cache; tests/conftest.py points the
    tests at a folder of their own, and a kd run in a test writes there."""
    import os

    from kdcli.data.cache import PROJECT_ROOT, default_cache_dir

    ours = default_cache_dir()
    assert not ours.resolve().is_relative_to(PROJECT_ROOT.resolve()), ours
    assert os.environ["KD_CACHE_DIR"] == str(ours)  # so processes the tests start use it too
    monkeypatch.delenv("KD_CACHE_DIR")  # and the default it replaces is the checkout's
    assert default_cache_dir() == PROJECT_ROOT / "datasets" / "cache"
