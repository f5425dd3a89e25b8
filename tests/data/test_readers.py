"""Odd columns and odd files (issue 12): every file either loads into float/category features a
learner accepts, with a notice of what was done, or is refused in one line naming the problem; a
folder suite lists every member even when one cannot be read."""

import datetime as dt
import decimal
import json
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kdcli.data import load_dataset
from kdcli.data.dataset import encode_labels, prepare_features
from kdcli.data.suites import read_manifest, suite_members
from kdcli.errors import KDError

from conftest import one_line_error

LABELS = ["a", "b", "c", "d"] * 10  # 40 rows, four classes


def _parquet(path, **columns) -> str:
    """Write columns (pyarrow arrays or lists) and a 40-row target with pyarrow; its spec."""
    pq.write_table(pa.table({**columns, "target": LABELS}), path)
    return f"file:{path}"


def _error(spec: str) -> str:
    with pytest.raises(KDError) as info:
        load_dataset(spec)
    message = str(info.value)
    assert message and "\n" not in message, message
    return message


def _levels_are_text(column: pd.Series) -> bool:
    return isinstance(column.dtype, pd.CategoricalDtype) and all(
        isinstance(level, str) for level in column.cat.categories
    )


# --------------------------------------------------------------------------------------------
# 1. `kd datasets list --suite dir:PATH` lists every member, a broken one with its reason
# --------------------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path):
    """A good CSV, a parquet with a list column (the user's TypeError), a corrupt parquet, a
    binary .csv and a parquet with an empty column."""
    pd.DataFrame({"x": range(40), "target": LABELS}).to_csv(tmp_path / "good.csv", index=False)
    _parquet(tmp_path / "lists.parquet", tags=[[1, 2]] * 40)
    (tmp_path / "corrupt.parquet").write_bytes(b"PAR1" + bytes(range(256)) + b"PAR1")
    (tmp_path / "junk.csv").write_bytes(b"\x00\xff\xfe\x89PNG\r\n\x1a\n" * 20)
    _parquet(tmp_path / "sparse.parquet", x=list(range(40)), empty=pa.nulls(40, pa.float64()))
    return tmp_path


def test_dir_list_survives_a_list_column_and_names_it(kd, folder):
    code, out, err = kd("datasets", "list", "--suite", f"dir:{folder}", "--json")
    assert code == 0, err  # was: TypeError: unhashable type: 'numpy.ndarray', exit 1
    rows = {r["name"]: r for r in json.loads(out)}
    assert set(rows) == {"good", "lists", "corrupt", "junk", "sparse"}
    assert (rows["good"]["rows"], rows["good"]["classes"], rows["good"]["notices"]) == (40, 4, [])
    assert rows["lists"]["cached"] == "unreadable" and rows["lists"]["rows"] is None
    assert "column 'tags' holds lists" in rows["lists"]["notices"][0]
    assert "as parquet" in rows["corrupt"]["notices"][0]
    assert "junk.csv" in rows["junk"]["notices"][0] and rows["junk"]["cached"] == "unreadable"
    assert rows["sparse"]["features"] == 1
    assert rows["sparse"]["notices"] == ["column 'empty': no observed value, dropped"]


def test_dir_list_table_gives_each_reason_below_it(kd, folder):
    code, out, err = kd("datasets", "list", "--suite", f"dir:{folder}")
    assert code == 0, err
    lines = out.splitlines()
    assert sum("unreadable" in line for line in lines) == 3
    reasons = [line for line in lines if line.startswith(("lists: ", "corrupt: ", "junk: "))]
    assert len(reasons) == 3 and all(len(r.split(": ", 1)[1]) > 20 for r in reasons)
    assert "sparse: column 'empty': no observed value, dropped" in lines


def test_manifest_names_are_shown_as_text_not_markup(kd, tmp_path):
    (tmp_path / "sub[").mkdir()
    manifest = tmp_path / "sub[" / "x].csv"  # the table's title holds "[/x]"
    manifest.write_text("name,spec\nodd[/x],sklearn:iris\n[bold]b,sklearn:wine\n")
    code, out, err = kd("datasets", "list", "--suite", manifest)
    assert code == 0, err  # was: rich MarkupError, exit 1
    assert "odd[/x]" in out and "[bold]b" in out
    assert "sub[/x].csv: 2 datasets" in "".join(line.strip() for line in out.splitlines())


def test_manifest_bad_spec_and_missing_file_say_why(kd, tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"name,spec\nnope,foo:bar\ngone,file:{tmp_path / 'gone.csv'}\n")
    code, out, err = kd("datasets", "list", "--suite", manifest, "--json")
    assert code == 0, err
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["nope"]["cached"] == "bad spec"
    assert "unknown dataset source 'foo'" in rows["nope"]["notices"][0]
    assert rows["gone"]["cached"] == "missing" and "does not exist" in rows["gone"]["notices"][0]


# --------------------------------------------------------------------------------------------
# 2. mixed-type columns are text categories (with a notice), never ints and strings side by side
# --------------------------------------------------------------------------------------------


def test_csv_column_with_numbers_then_text_is_one_text_category(tmp_path):
    # pandas infers types per chunk of 2**18 rows: numbers in the first chunk and text after it
    # gave Python ints mixed with strings, which XGBoost and LightGBM cannot store as levels
    n = 2**18 + 100
    values = (np.arange(n) % 5).astype(object)
    values[-50:] = "other"
    path = tmp_path / "big.csv"
    pd.DataFrame({"code": values, "target": np.arange(n) % 2}).to_csv(path, index=False)
    ds = load_dataset(f"file:{path}")
    assert _levels_are_text(ds.X["code"])
    assert sorted(ds.X["code"].cat.categories) == ["0", "1", "2", "3", "4", "other"]
    assert ds.X["code"].iloc[7] == "2" and ds.X["code"].iloc[-1] == "other"


def test_mixed_python_objects_become_text_with_a_notice():
    frame = pd.DataFrame(
        {
            "mixed": pd.Series([1, "a", 2.5, None] * 5, dtype=object),
            "x": np.arange(20.0),
        }
    )
    notices: list[str] = []
    X = prepare_features(frame, notices)
    assert _levels_are_text(X["mixed"])
    assert sorted(X["mixed"].cat.categories) == ["1", "2.5", "a"]
    assert X["mixed"].isna().sum() == 5  # a missing value stays missing, not "None"
    assert notices == [
        "column 'mixed': mixed types (e.g. numbers and text), each value read as text (a category)"
    ]


def test_decimal_column_is_numbers(tmp_path):
    values = [decimal.Decimal("1.25"), None, decimal.Decimal("-3.50"), decimal.Decimal("2")] * 10
    ds = load_dataset(_parquet(tmp_path / "d.parquet", price=pa.array(values, pa.decimal128(6, 2))))
    assert ds.X["price"].dtype == np.float64  # was: a category of Decimal objects
    assert ds.X["price"].iloc[:4].tolist()[::2] == [1.25, -3.5]
    assert ds.X["price"].isna().sum() == 10


# --------------------------------------------------------------------------------------------
# 3. datetimes and durations are seconds; lists, records and binary values are refused
# --------------------------------------------------------------------------------------------


def test_datetimes_are_seconds_since_epoch_and_nat_is_missing(tmp_path):
    stamps = pd.Series(
        [pd.Timestamp("2020-01-01"), None, pd.Timestamp("1969-12-31 23:59"), pd.Timestamp(86400e9)]
        * 10
    )
    frame = pd.DataFrame(
        {
            "when": stamps,
            "when_paris": stamps.dt.tz_localize("Europe/Paris"),
            "day": [dt.date(2020, 1, 1), None, dt.date(1, 1, 1), dt.date(1970, 1, 2)] * 10,
            "target": LABELS,
        }
    )
    path = tmp_path / "dates.parquet"
    frame.to_parquet(path)
    ds = load_dataset(f"file:{path}")
    assert ds.X["when"].iloc[:4].tolist()[::2] == [1577836800.0, -60.0]
    assert ds.X["when_paris"].iloc[0] == 1577836800.0 - 3600  # midnight in Paris, in UTC
    assert ds.X["day"].iloc[2] == (dt.date(1, 1, 1) - dt.date(1970, 1, 1)).total_seconds()
    assert all(ds.X[c].dtype == np.float64 and ds.X[c].isna().sum() == 10 for c in ds.X)
    assert ds.notices == [
        "columns 'when', 'when_paris', 'day': dates, read as seconds since 1970-01-01 UTC "
        "(missing stays missing)"
    ]


def test_durations_are_seconds(tmp_path):
    spans = pd.to_timedelta(["1 day", None, "90s", "-2s"] * 10)
    path = tmp_path / "spans.parquet"
    pd.DataFrame({"span": spans, "target": LABELS}).to_parquet(path)
    ds = load_dataset(f"file:{path}")
    assert ds.X["span"].iloc[:4].tolist()[::2] == [86400.0, 90.0]
    assert ds.X["span"].iloc[3] == -2.0 and ds.X["span"].isna().sum() == 10
    assert ds.notices == ["column 'span': durations, read as seconds (missing stays missing)"]


@pytest.mark.parametrize(
    ("column", "words"),
    [
        (pa.array([[1, 2], None, [], [3]] * 10), "holds lists or records"),
        (pa.array([{"a": 1}, None, {"a": 2}, {"a": 3}] * 10), "holds lists or records"),
        (
            pa.array([[("k", 1)], None, [], [("j", 2)]] * 10, pa.map_(pa.string(), pa.int64())),
            "holds lists or records",
        ),
        (pa.array([b"\x00", None, b"ab", b"c"] * 10), "holds binary values"),
    ],
    ids=["list", "struct", "map", "binary"],
)
def test_nested_and_binary_columns_are_refused_naming_the_column(tmp_path, column, words):
    message = _error(_parquet(tmp_path / "nested.parquet", x=list(range(40)), odd=column))
    assert f"column 'odd' {words}" in message and "drop that column" in message


def test_a_target_of_lists_is_refused(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": list(range(40)), "target": [[k % 2] for k in range(40)]}), path)
    assert "the target column 'target' holds lists" in _error(f"file:{path}")


def test_every_odd_column_type_fits_in_lightgbm_and_xgboost():
    """What the learners get must be what they can store: numbers and text levels, nothing else
    (levels of Timestamps gave 'Circular reference detected', mixed levels 'object of type int
    has no len()')."""
    import lightgbm
    import xgboost

    hours = pd.date_range("2020-01-01", periods=40, freq="h")
    frame = pd.DataFrame(
        {
            "when": hours,
            "span": pd.to_timedelta(np.arange(40), unit="s"),
            "hour_level": pd.Categorical(hours),
            "mixed": pd.Series([1, "a", 2.5, None] * 10, dtype=object),
            "price": pd.Series([decimal.Decimal(k) / 4 for k in range(40)], dtype=object),
            "flag": pd.array([True, None, False, True] * 10, dtype="boolean"),
        }
    )
    X = prepare_features(frame)
    assert _levels_are_text(X["hour_level"]) and _levels_are_text(X["mixed"])
    assert all(X[c].dtype == np.float64 for c in ("when", "span", "price", "flag"))
    y = np.arange(40) % 2
    lightgbm.LGBMClassifier(n_estimators=2, min_child_samples=2, verbose=-1).fit(X, y)
    xgboost.XGBClassifier(n_estimators=2, enable_categorical=True, tree_method="hist").fit(X, y)


# --------------------------------------------------------------------------------------------
# 4. an all-missing column is dropped with a notice naming it
# --------------------------------------------------------------------------------------------


def test_empty_columns_are_dropped_with_a_notice(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text(
        "a,gone,b,also_gone,target\n" + "".join(f"{i},,x{i % 3},,{i % 2}\n" for i in range(10))
    )
    ds = load_dataset(f"file:{path}")
    assert list(ds.X.columns) == ["a", "b"]
    assert ds.notices == ["columns 'gone', 'also_gone': no observed value, dropped"]
    assert ds.subsample(6, seed=0).notices == ds.notices  # a subsample says the same


def test_many_empty_columns_are_counted_not_all_named():
    frame = pd.DataFrame({f"e{i}": [np.nan] * 3 for i in range(8)} | {"x": [1.0, 2.0, 3.0]})
    notices: list[str] = []
    X = prepare_features(frame, notices)
    assert list(X.columns) == ["x"]
    assert notices == [
        "columns 'e0', 'e1', 'e2', 'e3', 'e4' and 3 more: no observed value, dropped"
    ]


def test_no_feature_with_a_value_is_refused(tmp_path):
    path = tmp_path / "hollow.csv"
    path.write_text("a,b,target\n,,x\n,,y\n")
    assert "none of the 2 feature column(s) has an observed value" in _error(f"file:{path}")


# --------------------------------------------------------------------------------------------
# found on the way: rows matched by index, paths the system refuses, manifest values
# --------------------------------------------------------------------------------------------


def test_parquet_with_its_own_index_keeps_its_features(tmp_path):
    frame = pd.DataFrame({"x": np.arange(40.0) + 1, "target": LABELS}, index=np.arange(40) + 100)
    path = tmp_path / "indexed.parquet"
    frame.to_parquet(path)  # pandas stores the index; reading restores it
    ds = load_dataset(f"file:{path}")
    assert ds.X["x"].tolist() == frame["x"].tolist()  # was: all missing, realigned by label


def test_features_are_matched_to_rows_by_position():
    # OpenML rows without a label are dropped before this: the index then has gaps
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["p", "q", "p"]}, index=[0, 2, 5])
    out = prepare_features(X)
    assert out["x"].tolist() == [1.0, 2.0, 3.0] and out["c"].tolist() == ["p", "q", "p"]


def test_no_labels_is_refused():
    with pytest.raises(KDError, match="has no rows"):
        encode_labels(pd.Series([], dtype=object), column="y")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("~no_such_user_kd/x.csv", "cannot use the file"),
        ("/tmp/" + "a" * 300 + ".csv", "cannot use the file"),
        ("bad\x00name.csv", "holds a NUL byte"),
    ],
)
def test_paths_the_system_refuses_are_user_errors(text, words):
    assert words in _error(f"file:{text}")


@pytest.mark.parametrize(
    "suite", ["dir:~no_such_user_kd", "dir:" + "b" * 300, "dir:a\x00b", "~x.csv"]
)
def test_suites_the_system_refuses_are_user_errors(suite):
    with pytest.raises(KDError):
        suite_members(suite)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name,spec,rows\na,sklearn:iris,many\n", "rows 'many' on line 2 is not a whole number"),
        ("name,spec,rows\na,sklearn:iris,1.5\n", "rows '1.5' on line 2"),
        ("name,spec\na,sklearn:iris\n,sklearn:wine\n", "line 3 has no name"),
        ("name,spec\na,\n", "line 2 has no spec"),
        ("name,spec\n", "lists no datasets"),
        ("", "is empty"),
        ("name,spec\n\xff\xfe,x\n", "cannot read the suite manifest"),
        # a row with more values than the header: was read with its values shifted
        ("name,spec\na,sklearn:iris\nb,sklearn:wine,x\n", "line 3 has 3 values but the header"),
        ("# c\nname,spec\niris,sklearn:iris,extra\n", "line 3 has 3 values"),
        ("name,spec,rows\na,sklearn:iris,150,7\n", "line 2 has 4 values but the header names 3"),
        ("name,spec,name\na,sklearn:iris,b\n", "names the column 'name' twice"),
    ],
)
def test_manifest_values_are_checked(tmp_path, text, words):
    path = tmp_path / "m.csv"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(KDError, match=words.replace("(", r"\(").replace(".", r"\.")) as info:
        read_manifest(path)
    assert "\n" not in str(info.value)


def test_manifest_sizes_may_be_blank_or_written_as_floats(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("# comment\nname, spec, rows\n a , sklearn:iris, 150.0\nb,sklearn:wine,\n")
    members = read_manifest(path)
    assert [(m.name, m.spec, m.rows) for m in members] == [
        ("a", "sklearn:iris", 150),
        ("b", "sklearn:wine", None),
    ]


def test_a_manifest_row_with_extra_values_is_one_line_naming_the_line(kd, tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("# my suite\nname,spec\n\nwine,sklearn:wine\niris,sklearn:iris,150\n")
    line = one_line_error(*kd("datasets", "list", "--suite", path, "--json"))
    assert "mine.csv: line 5 has 3 values but the header names 2 columns (name, spec)" in line
    assert "remove the extra values, or quote a value that holds a comma" in line


def test_manifest_comments_quotes_and_empty_trailing_values(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(
        '# top\nname,spec # the two columns\n"a,1",sklearn:iris,\n"b#2",sklearn:wine # note\n'
    )
    members = read_manifest(path)
    assert [(m.name, m.spec) for m in members] == [("a,1", "sklearn:iris"), ("b#2", "sklearn:wine")]


def test_unnamed_columns_are_not_duplicates(tmp_path):
    path = tmp_path / "unnamed.csv"
    path.write_text(",,1.0,1.00,target\n1,2,3,4,a\n5,6,7,8,b\n")
    ds = load_dataset(f"file:{path}")  # was: "names the column 'nan' more than once"
    assert list(ds.X.columns) == ["Unnamed: 0", "Unnamed: 1", "1.0", "1.00"]


def test_a_parquet_naming_a_column_twice_is_refused_in_plain_words(tmp_path):
    path = tmp_path / "twice.parquet"
    table = pa.table([pa.array([1, 2]), pa.array([3, 4]), pa.array(["a", "b"])], ["x", "x", "y"])
    pq.write_table(table, path)
    assert "names the column 'x' more than once" in _error(f"file:{path}")


# --------------------------------------------------------------------------------------------
# issue 20: wide files load (linear checks, one conversion for all number columns) and say so
# --------------------------------------------------------------------------------------------

WIDE_ROWS, WIDE_COLUMNS = 20, 20_000


def _wide_frame() -> pd.DataFrame:
    """20 rows x 20,000 float columns with a few odd ones among them: ints, booleans, text, an
    infinity and a column with no value, so the block conversion must keep each in its place."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        rng.standard_normal((WIDE_ROWS, WIDE_COLUMNS)),
        columns=[f"f{i}" for i in range(WIDE_COLUMNS)],
    )
    frame["f7"] = np.arange(WIDE_ROWS)  # ints
    frame["f8"] = np.arange(WIDE_ROWS) % 2 == 0  # booleans
    frame["f9"] = ["u", "v"] * (WIDE_ROWS // 2)  # text
    frame.loc[3, "f10"] = np.inf  # no measurement
    frame["f11"] = np.nan  # no value at all: dropped, with a notice
    frame["target"] = ["a", "b"] * (WIDE_ROWS // 2)
    return frame


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_wide_file_loads_with_its_columns_in_place_and_a_notice(tmp_path, capsys, suffix):
    frame = _wide_frame()
    path = tmp_path / f"wide{suffix}"
    frame.to_parquet(path) if suffix == ".parquet" else frame.to_csv(path, index=False)
    ds = load_dataset(f"file:{path}")
    expected = [c for c in frame.columns if c not in ("f11", "target")]
    assert list(ds.X.columns) == expected and ds.X.shape == (WIDE_ROWS, WIDE_COLUMNS - 1)
    assert ds.X["f7"].dtype == np.float64 and ds.X["f7"].tolist() == list(range(WIDE_ROWS))
    assert ds.X["f8"].tolist() == [1.0, 0.0] * (WIDE_ROWS // 2)
    assert _levels_are_text(ds.X["f9"])
    assert np.isnan(ds.X.loc[3, "f10"]) and ds.X["f10"].notna().sum() == WIDE_ROWS - 1
    np.testing.assert_allclose(ds.X["f12345"], frame["f12345"])
    assert ds.notices == ["column 'f11': no observed value, dropped"]
    # a long read is announced before it starts (was: minutes without a word)
    err = capsys.readouterr().err
    assert "reading" in err and f"wide{suffix}" in err and "20,001 columns" in err


def test_a_small_file_is_read_without_a_notice(tmp_path, capsys):
    path = tmp_path / "small.csv"
    pd.DataFrame({"x": range(40), "target": LABELS}).to_csv(path, index=False)
    load_dataset(f"file:{path}")
    assert capsys.readouterr().err == ""


def test_a_repeated_name_deep_in_a_wide_csv_is_found(tmp_path):
    names = [f"f{i}" for i in range(WIDE_COLUMNS)] + ["f19000", "target"]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + ",".join(["1"] * len(names)) + "\n")
    assert "names the column 'f19000' more than once" in _error(f"file:{path}")


def test_names_that_look_like_pandas_renames_are_not_repeats(tmp_path):
    path = tmp_path / "dots.csv"
    path.write_text("x,x.1,x.2.1,target\n1,2,3,a\n4,5,6,b\n")
    assert list(load_dataset(f"file:{path}").X.columns) == ["x", "x.1", "x.2.1"]


def test_block_conversion_is_the_column_by_column_conversion():
    """prepare_features converts number columns together: the same floats, NaN where ±inf or
    missing, as feature_column gives each one alone."""
    from kdcli.data.dataset import feature_column

    frame = pd.DataFrame(
        {
            "i8": np.array([1, -2, 3], dtype=np.int8),
            "u64": np.array([2**63, 1, 0], dtype=np.uint64),
            "f32": np.array([0.5, np.inf, np.nan], dtype=np.float32),
            "b": [True, False, True],
            "text": ["a", None, "b"],
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "when": pd.to_datetime(["2020-01-01", None, "2021-01-01"]),
        }
    )
    expected = pd.DataFrame({c: feature_column(frame[c], c)[0] for c in frame.columns})
    pd.testing.assert_frame_equal(prepare_features(frame), expected)


def test_a_pipe_named_like_a_table_is_refused_not_read(tmp_path):
    """A FIFO (made here, never one of the system's) would be read without end, or twice."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    assert "is not a regular file" in _error(f"file:{fifo}")
