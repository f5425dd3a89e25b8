"""Users' own files: CSV, TSV (optionally gzip-compressed) and parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kdcli.data.dataset import Dataset, encode_labels, prepare_features
from kdcli.errors import KDError

SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": None}


def read_table(path: Path) -> pd.DataFrame:
    """Read a table by its suffix; ``.gz`` may follow a text suffix."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".parquet":
        try:
            return pd.read_parquet(path)
        except Exception as err:  # pyarrow raises several types for a file that is not parquet
            raise KDError(f"cannot read '{path}' as parquet: {_one_line(err)}") from err
    text_suffix = (
        suffixes[-2]
        if suffixes and suffixes[-1] == ".gz" and len(suffixes) > 1
        else (suffixes[-1] if suffixes else "")
    )
    if text_suffix not in SUFFIXES:
        raise KDError(
            f"cannot tell the format of '{path}'; name it .csv, .tsv, .csv.gz, .tsv.gz or .parquet"
        )
    sep = SUFFIXES[text_suffix]
    engine = "python" if sep is None else "c"
    try:
        header = pd.read_csv(path, sep=sep, engine=engine, header=None, nrows=1).iloc[0]
        names = [str(v) for v in header]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise KDError(
                f"'{path}' names the column '{dupes[0]}' more than once; give each "
                "column its own name"
            )
        return pd.read_csv(path, sep=sep, engine=engine)
    except pd.errors.EmptyDataError:
        raise KDError(f"'{path}' is empty; it needs a header row and data rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError) as err:
        raise KDError(
            f"cannot read '{path}' as a {text_suffix or 'text'} table: {_one_line(err)}"
        ) from err


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())


def load_file(path_str: str, target: str | None = None) -> Dataset:
    path = Path(path_str).expanduser()
    if not path.exists():
        raise KDError(f"file '{path}' does not exist; check the path after 'file:'")
    if path.is_dir():
        raise KDError(f"'{path}' is a folder; name one file after 'file:'")
    frame = read_table(path)
    if frame.shape[1] < 2:
        raise KDError(
            f"'{path}' has {frame.shape[1]} column(s); it needs features and a target column "
            "(is the separator right for its suffix?)"
        )
    if len(frame) == 0:
        raise KDError(f"'{path}' has no data rows, only a header")
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if target is None:
        target = "target" if "target" in columns else columns[-1]
    elif target not in columns:
        shown = ", ".join(columns[:8]) + (", ..." if len(columns) > 8 else "")
        raise KDError(f"'{path}' has no column '{target}'; choose one of {shown} with --target")
    y, names = encode_labels(frame[target], column=target)
    X = prepare_features(frame.drop(columns=[target]))
    return Dataset(
        name=path.name.split(".")[0],
        X=X,
        y=y,
        class_names=names,
        meta={"path": str(path.resolve()), "target": target},
    )
