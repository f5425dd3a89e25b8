"""Users' own files: CSV, TSV (optionally gzip-compressed) and parquet.

Whatever is in a file, reading it ends in a :class:`Dataset` or a one-line :class:`KDError`
naming the file and the problem: pandas and pyarrow raise dozens of exception types on damaged
or odd input, and a user should never see one of them.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from kdcli.data.dataset import Dataset, encode_labels, prepare_features
from kdcli.errors import KDError
from kdcli.text import one_line, shown

SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": None}
# a read this big or this wide takes seconds to minutes: say so before it starts
LONG_READ_BYTES = 64 * 2**20
LONG_READ_COLUMNS = 10_000


def local_path(text: str, what: str) -> Path:
    """A path a user typed, with ``~`` expanded; a path the system cannot even look up (an
    unknown ``~user``, a NUL byte, a name too long) is a :class:`KDError`."""
    if "\x00" in text:
        raise KDError(f"cannot use {what} '{shown(text)}': it holds a NUL byte; check the path")
    try:
        path = Path(text).expanduser()
        path.exists()  # raises on a name the system refuses (too long)
    except (OSError, ValueError, RuntimeError) as err:
        raise KDError(f"cannot use {what} '{shown(text)}': {one_line(err)}") from None
    return path


def table_format(path: Path) -> str:
    """'.parquet', or the text suffix (.csv, .tsv, .tab, .txt) before an optional ``.gz``."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".parquet":
        return ".parquet"
    text_suffix = (
        suffixes[-2]
        if suffixes and suffixes[-1] == ".gz" and len(suffixes) > 1
        else (suffixes[-1] if suffixes else "")
    )
    if text_suffix not in SUFFIXES:
        raise KDError(
            f"cannot tell the format of '{shown(path)}'; name it .csv, .tsv, .csv.gz, .tsv.gz or "
            ".parquet"
        )
    return text_suffix


def read_table(path: Path) -> pd.DataFrame:
    """Read a table by its suffix; ``.gz`` may follow a text suffix."""
    kind = table_format(path)
    if kind == ".parquet":
        return _read_parquet(path)
    return _read_text(path, SUFFIXES[kind], kind)


def read_batches(path: Path, rows: int = 100_000) -> Iterator[pd.DataFrame]:
    """A table by its suffix, ``rows`` at a time (a file larger than memory streams through);
    the same formats and one-line errors as :func:`read_table`. Types are inferred per batch:
    a reader of the batches checks each column against what it expects."""
    text_suffix = table_format(path)
    if text_suffix == ".parquet":
        yield from _parquet_batches(path, rows)
        return
    sep = SUFFIXES[text_suffix]
    options = {"sep": sep, "engine": "python"} if sep is None else {"sep": sep}
    with _text_errors(path, text_suffix):
        for frame in pd.read_csv(path, chunksize=rows, **options):
            _refuse_duplicate_header(path, [str(c) for c in frame.columns])
            yield frame


def _parquet_batches(path: Path, rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    with _parquet_errors(path):
        source = pq.ParquetFile(path)
        _refuse_duplicate_header(path, source.schema_arrow.names)
        for batch in source.iter_batches(batch_size=rows):
            yield batch.to_pandas()


@contextmanager
def _parquet_errors(path: Path) -> Iterator[None]:
    """pyarrow raises many types for a file that is not parquet: one line naming the file."""
    try:
        yield
    except KDError:
        raise
    except Exception as err:
        raise KDError(f"cannot read '{shown(path)}' as parquet: {one_line(err)}") from err


@contextmanager
def _text_errors(path: Path, suffix: str) -> Iterator[None]:
    """The tokenizer, gzip, zlib and the codec raise many types: one line naming the file."""
    try:
        yield
    except KDError:
        raise
    except pd.errors.EmptyDataError:
        raise KDError(f"'{shown(path)}' is empty; it needs a header row and data rows") from None
    except Exception as err:
        raise KDError(
            f"cannot read '{shown(path)}' as a {suffix or 'text'} table: {one_line(err)}"
        ) from err


def _read_parquet(path: Path) -> pd.DataFrame:
    """A parquet file; its column names are checked first (pyarrow allows one name twice and
    then fails to read it, with a message about its internals)."""
    import pyarrow.parquet as pq

    with _parquet_errors(path):
        names = pq.read_schema(path).names
        _refuse_duplicate_header(path, names)
        _announce_long_read(path, len(names))
        return pd.read_parquet(path)


def _read_text(path: Path, sep: str | None, suffix: str) -> pd.DataFrame:
    """A delimited text table. ``low_memory=False``: pandas otherwise infers a column's type per
    chunk of rows, and a column with numbers early and text later arrives as Python ints mixed
    with strings."""
    options: dict[str, Any] = (
        {"sep": sep, "engine": "python"} if sep is None else {"sep": sep, "low_memory": False}
    )
    with _text_errors(path, suffix):
        _announce_long_read(path, _rough_width(path, sep))
        frame = pd.read_csv(path, **options)
        if _maybe_renamed([str(c) for c in frame.columns]):
            # the header as written (pandas renamed a repeat x to x.1); read only when needed:
            # a header row read on its own costs seconds on a file of 100,000 columns
            header = pd.read_csv(
                path, header=None, nrows=1, dtype=str, keep_default_na=False, **options
            ).iloc[0]
            _refuse_duplicate_header(path, [str(v) for v in header if v != ""])  # "" is Unnamed
        return frame


def _refuse_duplicate_header(path: Path, names: list[str]) -> None:
    """pandas renames a repeated column (``x``, ``x.1``): refuse instead, naming it. One count
    of all names (linear): a count per name took minutes on a file of 100,000 columns."""
    dupes = sorted(name for name, n in Counter(names).items() if n > 1)
    if dupes:
        raise KDError(
            f"'{shown(path)}' names the column '{shown(dupes[0])}' more than once; give each "
            "column its own name"
        )


def _maybe_renamed(names: list[str]) -> bool:
    """Whether pandas may have renamed a repeated column: it calls the repeats of ``x`` ``x.1``,
    ``x.2``, so some name is another name plus ``.N``."""
    present = set(names)
    for name in names:
        base, dot, number = name.rpartition(".")
        if dot and number.isdigit() and base in present:
            return True
    return False


def _rough_width(path: Path, sep: str | None) -> int:
    """About how many columns the first line holds (quotes are not parsed), for the notice of a
    long read only; 0 where it cannot tell."""
    import gzip
    import zlib

    try:
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as file:
            line = file.readline(2**24)
    except (OSError, EOFError, ValueError, zlib.error):
        return 0
    return line.count(sep) + 1 if sep and line else 0


def _announce_long_read(path: Path, columns: int) -> None:
    """A big or wide file takes a while to read and convert: one line on stderr before, so a
    user is not left without output. Only in the main process: a study's units load their data
    in worker processes, where a line per unit would only break the live display."""
    try:
        size = path.stat().st_size
    except OSError:
        return
    if size < LONG_READ_BYTES and columns < LONG_READ_COLUMNS:
        return
    if multiprocessing.parent_process() is not None:
        return
    print(
        f"kd: notice: reading '{shown(path)}' ({size / 2**20:,.0f} MB, {columns:,} columns); "
        "this may take a while",
        file=sys.stderr,
        flush=True,
    )


def load_file(path_str: str, target: str | None = None) -> Dataset:
    path = local_path(path_str, "the file")
    if not path.exists():
        raise KDError(f"file '{shown(path)}' does not exist; check the path after 'file:'")
    if path.is_dir():
        raise KDError(f"'{shown(path)}' is a folder; name one file after 'file:'")
    if not path.is_file():  # a FIFO or a device: read more than once, or without end
        raise KDError(
            f"'{shown(path)}' is not a regular file (a pipe or a device); save the data to a "
            "file and name that after 'file:'"
        )
    frame = read_table(path)
    if frame.shape[1] < 2:
        raise KDError(
            f"'{shown(path)}' has {frame.shape[1]} column(s); it needs features and a target "
            "column (is the separator right for its suffix?)"
        )
    if len(frame) == 0:
        raise KDError(f"'{shown(path)}' has no data rows, only a header")
    columns = [str(c) for c in frame.columns]
    _refuse_duplicate_header(path, columns)  # parquet may repeat a name; str() may merge two
    frame.columns = columns
    if target is None:
        target = "target" if "target" in columns else columns[-1]
    elif target not in columns:
        listed = ", ".join(shown(c) for c in columns[:8]) + (", ..." if len(columns) > 8 else "")
        raise KDError(
            f"'{shown(path)}' has no column '{shown(target)}'; choose one of {listed} with --target"
        )
    labels = frame.pop(target)  # in place: drop() copies every column of a wide file
    y, names = encode_labels(labels, column=target)
    notices: list[str] = []
    X = prepare_features(frame, notices)
    return Dataset(
        name=path.name.split(".")[0] or path.name,
        X=X,
        y=y,
        class_names=names,
        meta={"path": str(path.resolve()), "target": target},
        notices=notices,
    )
