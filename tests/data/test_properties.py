"""Property-based tests (Hypothesis) of the data layer: on any input, a KDError or a result.

Whatever text names a dataset or a suite, whatever bytes or columns a file holds, kd either
loads it into features a learner accepts (float64, or a category with text levels, no empty
column, labels 0..K-1) or says in one line what is wrong: never another exception, which the CLI
would report as an internal error. Examples are derandomized, so a run in CI is the run here.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kdcli.data import Dataset, load_dataset
from kdcli.data.catalog import list_row
from kdcli.data.openml_source import OpenMLConfig
from kdcli.data.spec import SOURCES, parse_spec
from kdcli.data.suites import Member, read_manifest, select, suite_members
from kdcli.errors import KDError


def fuzz(examples: int):
    """Deterministic (derandomized, no example database) and bounded, for a quick, stable CI."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """An empty folder, the working directory while a module's examples run (a spec's relative
    path then names nothing of the checkout)."""
    path = tmp_path_factory.mktemp("fuzz")
    old = Path.cwd()
    os.chdir(path)
    yield path
    os.chdir(old)


def outcome(call, *args, **kwargs):
    """The call's result, or None if it raised a KDError with a one-line message."""
    try:
        return call(*args, **kwargs)
    except KDError as err:
        message = str(err)
        assert message.strip() and "\n" not in message and "\r" not in message, repr(message)
        return None


def check_dataset(ds: Dataset | None) -> None:
    """What every loaded dataset promises the learners."""
    if ds is None:
        return
    assert isinstance(ds.X.index, pd.RangeIndex) and len(ds.X) == len(ds.y) > 0
    assert ds.y.dtype == np.int64 and set(np.unique(ds.y)) == set(range(ds.n_classes))
    assert ds.n_classes >= 2 and len(set(ds.class_names)) == ds.n_classes
    assert len(set(ds.X.columns)) == ds.X.shape[1]
    for name in ds.X.columns:
        column = ds.X[name]
        assert column.notna().any(), f"empty column {name!r} kept"
        if isinstance(column.dtype, pd.CategoricalDtype):
            assert all(isinstance(level, str) for level in column.cat.categories), name
        else:
            assert column.dtype == np.float64, (name, column.dtype)
            assert not np.isinf(column.to_numpy()).any(), name
    assert all(isinstance(n, str) and "\n" not in n for n in ds.notices)


# --------------------------------------------------------------------------------------------
# (a) dataset SPECs and suite names
# --------------------------------------------------------------------------------------------

prefixes = st.sampled_from([*SOURCES, "dir", "FILE", "Sklearn ", "", "openml-task "])
spec_texts = st.one_of(st.text(), st.builds(lambda p, t: f"{p}:{t}", prefixes, st.text()))


@fuzz(300)
@given(spec_texts)
def test_parse_spec_gives_a_source_and_a_name_or_a_kderror(text):
    parsed = outcome(parse_spec, text)
    if parsed is not None:
        source, name, params = parsed
        assert source in SOURCES and name and isinstance(params, dict)


local_sources = st.sampled_from(["sklearn", "file", "openml", "openml-task", "Sklearn", "x"])


@fuzz(200)
@given(st.builds(lambda p, t: f"{p}:{t}", local_sources, st.text()))
def test_loading_any_spec_gives_a_dataset_or_a_kderror(workdir, text):
    # offline, with an empty cache: no network, so an OpenML id is DataUnavailable (a KDError)
    cfg = OpenMLConfig(cache_dir=workdir / "cache", offline=True)
    check_dataset(outcome(load_dataset, text, openml=cfg))


synthetic_params = st.dictionaries(
    st.sampled_from(["n", "d", "k", "noise", "seed", "x", ""]),
    st.text(max_size=3),  # at most 999 rows and columns: the sample stays small
    max_size=4,
)


@fuzz(100)
@given(st.sampled_from(["binary", "multiclass", "other", ""]), synthetic_params)
def test_any_synthetic_parameters_give_a_design_or_a_kderror(design, params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    check_dataset(outcome(load_dataset, f"synthetic:{design}?{query}"))


@fuzz(150)
@given(st.one_of(st.text(), st.builds(lambda t: f"dir:{t}", st.text())))
def test_any_suite_name_gives_members_or_a_kderror(workdir, text):
    members = outcome(suite_members, text)
    if members is not None:
        assert members and all(m.name and m.spec for m in members)
        outcome(select, members, text)


@fuzz(100)
@given(st.text(), st.text())
def test_listing_any_member_gives_a_row(workdir, name, spec):
    row = list_row(Member(name=name, spec=spec), OpenMLConfig(cache_dir=workdir, offline=True))
    assert row["cached"] in ("yes", "no", "damaged", "bad spec", "missing", "file", "unreadable")
    assert row["cached"] != "bad spec" or row["notices"]


# --------------------------------------------------------------------------------------------
# (b) files: arbitrary bytes, then valid CSV and parquet with odd columns
# --------------------------------------------------------------------------------------------


def load_bytes(folder: Path, name: str, data: bytes, target: str | None = None):
    path = folder / name
    path.write_bytes(data)
    return outcome(load_dataset, f"file:{path}", target)


@fuzz(80)
@given(st.binary(max_size=400), st.sampled_from(["a.csv", "a.tsv", "a.txt", "a.parquet"]))
def test_any_bytes_in_a_file_give_a_dataset_or_a_kderror(workdir, data, name):
    check_dataset(load_bytes(workdir, name, data))


@fuzz(80)
@given(st.binary(max_size=400), st.booleans())
def test_any_bytes_in_a_gzip_file_give_a_dataset_or_a_kderror(workdir, data, compress):
    # compressed: the codec and the tokenizer see random text; raw: gzip sees a damaged file
    check_dataset(load_bytes(workdir, "a.tsv.gz", gzip.compress(data) if compress else data))


@fuzz(60)
@given(st.integers(0, 10_000), st.binary(min_size=1, max_size=8))
def test_a_damaged_parquet_gives_a_kderror(workdir, where, junk):
    buffer = io.BytesIO()
    pd.DataFrame({"x": range(50), "target": ["a", "b"] * 25}).to_parquet(buffer)
    data = bytearray(buffer.getvalue())
    at = where % len(data)
    data[at : at + len(junk)] = junk
    check_dataset(load_bytes(workdir, "damaged.parquet", bytes(data)))


cells = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "NA", "nan", "inf", "-inf", "True", "false", "1e999", "2020-01-01", " "]),
    st.text(max_size=6),
)


@st.composite
def text_tables(draw) -> tuple[list[str], list[list[str]]]:
    """Odd cells under odd names; the last column a good two-class target unless ``pick``."""
    width = draw(st.integers(1, 5))
    rows = draw(st.integers(0, 12))
    header = draw(st.lists(st.text(max_size=4), min_size=width, max_size=width))
    body = draw(
        st.lists(st.lists(cells, min_size=width, max_size=width), min_size=rows, max_size=rows)
    )
    return [*header, "target"], [[*row, "pq"[i % 2]] for i, row in enumerate(body)]


@fuzz(150)
@given(text_tables(), st.sampled_from([("t.csv", ","), ("t.tsv.gz", "\t")]), st.booleans())
def test_valid_csv_with_odd_columns_gives_a_dataset_or_a_kderror(workdir, table, fmt, pick):
    header, rows = table
    name, sep = fmt
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\n").writerows([header, *rows])
    data = out.getvalue().encode("utf-8", "surrogatepass")
    if name.endswith(".gz"):
        data = gzip.compress(data)
    target = header[0] if pick else None  # --target: the first column, whatever it holds
    check_dataset(load_bytes(workdir, name, data, target))


def nullable(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), values)


# pyarrow type -> strategy of one value of it (None is a missing value)
ARROW = {
    "int8": (pa.int8(), st.integers(-128, 127)),
    "uint64": (pa.uint64(), st.integers(0, 2**64 - 1)),
    "int64": (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "float16": (pa.float16(), st.floats(width=16).map(np.float16)),
    "float64": (pa.float64(), st.floats()),
    "bool": (pa.bool_(), st.booleans()),
    "string": (pa.string(), st.text(max_size=5)),
    "large_string": (pa.large_string(), st.text(max_size=5)),
    "binary": (pa.binary(), st.binary(max_size=4)),
    "date32": (pa.date32(), st.dates()),
    "time64": (pa.time64("us"), st.times()),
    "timestamp": (pa.timestamp("us"), st.datetimes(dt.datetime(1700, 1, 1))),
    "timestamp_tz": (pa.timestamp("ms", tz="America/New_York"), st.integers(-(2**40), 2**40)),
    "duration": (pa.duration("s"), st.integers(-(2**40), 2**40)),
    "decimal": (pa.decimal128(12, 3), st.decimals(-(10**8), 10**8, places=3, allow_nan=False)),
    "list": (pa.list_(pa.int32()), st.lists(st.integers(-5, 5), max_size=3)),
    "struct": (pa.struct([("a", pa.int64())]), st.builds(lambda a: {"a": a}, st.integers(0, 9))),
    "dictionary": (pa.dictionary(pa.int8(), pa.string()), st.sampled_from(["p", "q", "r"])),
    "null": (pa.null(), st.none()),
}


@st.composite
def arrow_tables(draw) -> pa.Table:
    """Feature columns of random types (names may clash) beside a good two-class target."""
    rows = draw(st.integers(2, 12))
    kinds = draw(st.lists(st.sampled_from(sorted(ARROW)), min_size=1, max_size=4))
    odd_names = st.sampled_from(["a", "b", "c", "", "0", "x y", "é\n", "target"])
    names = draw(st.lists(odd_names, min_size=len(kinds), max_size=len(kinds), unique=True))
    arrays = []
    for kind in kinds:
        arrow_type, values = ARROW[kind]
        column = draw(st.lists(nullable(values), min_size=rows, max_size=rows))
        if kind == "dictionary":
            arrays.append(pa.array(column, pa.string()).dictionary_encode())
        else:
            arrays.append(pa.array(column, arrow_type))
    labels = pa.array(["p", "q"] * (rows // 2) + ["p"] * (rows % 2))
    return pa.table([*arrays, labels], names=[*names, "target"])


@fuzz(200)
@given(arrow_tables())
def test_valid_parquet_with_any_column_types_gives_a_dataset_or_a_kderror(workdir, table):
    path = workdir / "typed.parquet"
    pq.write_table(table, path)
    check_dataset(outcome(load_dataset, f"file:{path}", "target"))


@fuzz(60)
@given(
    st.lists(
        st.one_of(
            st.integers(),
            st.floats(),
            st.text(max_size=4),
            st.booleans(),
            st.none(),
            # no signalling NaN: no file holds one, and pandas cannot even test it for NaN
            st.decimals(allow_nan=True).filter(lambda d: not d.is_snan()),
            st.datetimes(),
            st.timedeltas(),
            st.dates(),
        ),
        min_size=4,
        max_size=12,
    )
)
def test_an_object_column_of_any_python_values_is_readable(values):
    """The mixes pandas itself can hand over (a CSV read in chunks, an OpenML frame)."""
    from kdcli.data.dataset import prepare_features

    frame = pd.DataFrame({"odd": pd.Series(values, dtype=object), "x": np.arange(len(values))})
    notices: list[str] = []
    X = outcome(prepare_features, frame, notices)
    if X is not None:
        assert list(X.columns)[-1] == "x" and len(X) == len(values)
        odd = X["odd"] if "odd" in X else None
        if odd is not None and isinstance(odd.dtype, pd.CategoricalDtype):
            assert all(isinstance(level, str) for level in odd.cat.categories)
        elif odd is not None:
            assert odd.dtype == np.float64 and not np.isinf(odd.to_numpy()).any()


# --------------------------------------------------------------------------------------------
# (c) suite manifests
# --------------------------------------------------------------------------------------------


@fuzz(120)
@given(st.one_of(st.text().map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary()))
def test_any_manifest_gives_members_or_a_kderror(workdir, data):
    path = workdir / "suite.csv"
    path.write_bytes(data)
    members = outcome(read_manifest, path)
    if members is not None:
        check_members(members)


manifest_cells = st.one_of(
    st.text(max_size=6), st.integers(-5, 10**12).map(str), st.sampled_from(["", "1.0", "nan"])
)


header_words = st.sampled_from(["name", "spec", "rows", "task_id", " classes", "x"])
manifest_headers = st.one_of(
    st.lists(header_words, max_size=5),
    st.lists(header_words, max_size=3).map(lambda extra: ["name", "spec", *extra]),
)


@fuzz(150)
@given(manifest_headers, st.lists(st.lists(manifest_cells, min_size=5, max_size=5), max_size=6))
def test_any_tabular_manifest_gives_members_or_a_kderror(workdir, header, rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *[r[: len(header)] for r in rows]])
    path = workdir / "table.csv"
    path.write_bytes(out.getvalue().encode("utf-8", "surrogatepass"))
    members = outcome(read_manifest, path)
    if members is not None:
        check_members(members)


def check_members(members: list[Member]) -> None:
    assert members and len({m.name for m in members}) == len(members)
    for m in members:
        assert m.name.strip() == m.name and m.name and m.spec
        numbers = (m.rows, m.features, m.classes, m.task_id, m.dataset_id)
        assert all(v is None or (isinstance(v, int) and v >= 0) for v in numbers)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.one_of(st.text(), st.builds(lambda t: f"dir:{t}", st.text())), st.text(max_size=8))
def test_kd_datasets_list_never_reports_an_internal_error(workdir, kd, suite, names):
    """End to end: exit 0, or 2/3 with one line; never the internal-error exit 1."""
    code, _, err = kd("datasets", "list", "--suite", suite, "--datasets", names, "--json")
    assert code in (0, 2, 3), err
    assert code == 0 or (err.startswith("kd: error: ") and err.count("\n") == 1), err
