"""OpenML datasets (``openml:ID``) and tasks (``openml-task:ID``) through the official client.

The ``openml`` client downloads; kd keeps what it needs in its own cache (parquet for the data,
npz for a task's official splits, JSON metadata with checksums; see ``cache.py``), so nothing is
read back through pickle and every read is verified. The client's own cache lives in a temporary
folder during a download and is thrown away after it.

Network behaviour: every request has a time-out; failures (server errors, time-outs, dropped or
truncated transfers) are retried with exponential back-off and then reported in one line. With
``offline=True`` the network is never touched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse
from xml.parsers.expat import ExpatError

import numpy as np
import pandas as pd

from kdcli.data.cache import CorruptEntry, default_cache_dir, is_cached, read_meta, write_entry
from kdcli.data.dataset import Dataset, OuterSplit, encode_labels, prepare_features
from kdcli.errors import DataUnavailable, KDError
from kdcli.text import one_line, shown

_T = TypeVar("_T")

DEFAULT_SERVER = "https://www.openml.org/api/v1/xml"
_CLIENT_LOCK = threading.Lock()  # the client's configuration is global


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class OpenMLConfig:
    """Where the cache is, which server to ask, and how hard to try."""

    cache_dir: Path = field(default_factory=default_cache_dir)
    server: str = DEFAULT_SERVER
    offline: bool = False
    retries: int = 4
    backoff: float = 1.0  # seconds before the 2nd try; doubles each time
    timeout: float = 60.0  # seconds per request

    @classmethod
    def from_env(
        cls, cache_dir: Path | None = None, server: str | None = None, offline: bool | None = None
    ) -> OpenMLConfig:
        """Explicit arguments win over KD_CACHE_DIR, KD_OPENML_SERVER, KD_OFFLINE and the
        tuning variables KD_OPENML_RETRIES, KD_OPENML_BACKOFF, KD_OPENML_TIMEOUT."""
        try:
            retries = int(os.environ.get("KD_OPENML_RETRIES", 4))
            backoff = float(os.environ.get("KD_OPENML_BACKOFF", 1.0))
            timeout = float(os.environ.get("KD_OPENML_TIMEOUT", 60.0))
        except ValueError as err:
            raise KDError(f"bad KD_OPENML_* environment variable: {err}") from None
        if retries < 1 or backoff < 0 or timeout <= 0:
            raise KDError(
                "KD_OPENML_RETRIES must be >= 1, KD_OPENML_BACKOFF >= 0, KD_OPENML_TIMEOUT > 0"
            )
        return cls(
            cache_dir=Path(cache_dir).expanduser() if cache_dir else default_cache_dir(),
            server=(server or os.environ.get("KD_OPENML_SERVER") or DEFAULT_SERVER).rstrip("/"),
            offline=_env_flag("KD_OFFLINE") if offline is None else offline,
            retries=retries,
            backoff=backoff,
            timeout=timeout,
        )

    @property
    def server_dir(self) -> Path:
        """Cache folder of this server: ids are only unique per server."""
        netloc = urlparse(self.server).netloc or "local"
        return self.cache_dir / "openml" / netloc.replace(":", "_")

    def dataset_entry(self, dataset_id: int) -> Path:
        return self.server_dir / f"dataset-{dataset_id}"

    def task_entry(self, task_id: int) -> Path:
        return self.server_dir / f"task-{task_id}"


def parse_id(kind: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value <= 0 or str(value) != text.strip():
        raise KDError(f"'{kind}:{shown(text)}' needs a positive integer id, e.g. {kind}:31")
    return value


# ---------------------------------------------------------------------------------------------
# the client, with a time-out, a throw-away cache and kd's retry policy


@contextlib.contextmanager
def _client(cfg: OpenMLConfig) -> Iterator[Any]:
    """The openml module configured for one download; its global settings are restored after."""
    import openml
    import requests

    with _CLIENT_LOCK, tempfile.TemporaryDirectory(prefix="kd-openml-") as tmp:
        saved = openml.config.get_config_as_dict()
        session: Any = requests.Session  # typed Any: mypy forbids assigning to a method
        original_request = session.request

        def request_with_timeout(self, method, url, **kwargs):
            # the client sets no time-out: a silent server would block forever
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = cfg.timeout
            return original_request(self, method, url, **kwargs)

        try:
            openml.config.server = cfg.server
            openml.config.set_root_cache_directory(tmp)
            openml.config.set_retry_policy("human", n_retries=1)  # kd retries, with back-off
            session.request = request_with_timeout
            yield openml
        finally:
            session.request = original_request
            openml.config.server = saved["server"]
            openml.config.set_root_cache_directory(saved["cachedir"])
            openml.config.set_retry_policy(
                saved["retry_policy"], n_retries=saved["connection_n_retries"]
            )


def _retrying(cfg: OpenMLConfig, what: str, call: Callable[[Any], _T]) -> _T:
    """Run ``call(openml)``; retry transient failures with exponential back-off."""
    import requests
    from openml.exceptions import OpenMLHashException, OpenMLServerError, OpenMLServerException

    # KeyError: an error page that is XML but not OpenML's (the client looks for oml:error)
    transient = (
        requests.exceptions.RequestException,
        OpenMLHashException,
        ExpatError,
        ConnectionError,
        TimeoutError,
        KeyError,
    )
    last: Exception | None = None
    for attempt in range(1, cfg.retries + 1):
        try:
            with _client(cfg) as openml:
                return call(openml)
        except OpenMLServerException as err:
            if getattr(err, "code", None) == 107:  # database busy: worth another try
                last = err
            else:
                raise KDError(
                    f"OpenML ({cfg.server}) has no {what}: {one_line(err, 160)}"
                ) from None
        except (OpenMLServerError, *transient) as err:
            last = err
        if attempt < cfg.retries:
            time.sleep(cfg.backoff * 2 ** (attempt - 1))
    raise DataUnavailable(
        f"could not fetch {what} from {cfg.server} after {cfg.retries} tries "
        f"({type(last).__name__}: {one_line(last, 160)}); check the network or --openml-server, "
        f"or use --offline with a cache that has it"
    )


def _not_cached(what: str, spec: str, entry: Path) -> KDError:
    return DataUnavailable(
        f"{what} is not in the cache ({entry}) and kd is offline; run `kd datasets fetch {spec}` "
        "where a network exists, or point --cache-dir at a cache that has it"
    )


def _checked_meta(cfg: OpenMLConfig, entry: Path) -> dict | None:
    """Valid metadata, or None when the entry must be (re)fetched. Offline, damage is reported."""
    try:
        return read_meta(entry)
    except CorruptEntry as err:
        if cfg.offline:
            raise DataUnavailable(
                f"the cached entry {entry} is damaged ({err.why}); delete that folder and fetch "
                "it again where a network exists"
            ) from None
        return None  # re-fetched below


# ---------------------------------------------------------------------------------------------
# datasets


def fetch_dataset(dataset_id: int, cfg: OpenMLConfig) -> dict:
    """Make sure the dataset is in kd's cache; return its metadata. No network if cached."""
    entry = cfg.dataset_entry(dataset_id)
    meta = _checked_meta(cfg, entry)
    if meta is not None:
        return meta
    if cfg.offline:
        raise _not_cached(f"OpenML dataset {dataset_id}", f"openml:{dataset_id}", entry)

    def download(openml):
        d = openml.datasets.get_dataset(
            dataset_id,
            download_data=True,
            download_qualities=False,
            download_features_meta_data=False,
        )
        frame, _, _, _ = d.get_data(include_row_id=False, include_ignore_attribute=False)
        return d, frame

    d, frame = _retrying(cfg, f"dataset {dataset_id}", download)
    if isinstance(frame, np.ndarray) or not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    frame.columns = [str(c) for c in frame.columns]
    meta = {
        "kind": "openml-dataset",
        "id": dataset_id,
        "name": d.name,
        "version": d.version,
        "server": cfg.server,
        "default_target": d.default_target_attribute,
        "rows": len(frame),
        "columns": int(frame.shape[1]),
        "fetched": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return write_entry(entry, lambda tmp: frame.to_parquet(tmp / "data.parquet"), meta)


def _frame(entry: Path) -> pd.DataFrame:
    return pd.read_parquet(entry / "data.parquet")


def _dataset_from_frame(frame: pd.DataFrame, target: str, name: str, what: str) -> Dataset:
    if target not in frame.columns:
        shown = ", ".join(list(frame.columns)[:8])
        raise KDError(f"{what} has no column '{target}'; choose one of {shown}, ... with --target")
    label = frame[target]
    nominal = (
        isinstance(label.dtype, pd.CategoricalDtype)
        or label.dtype == object
        or pd.api.types.is_string_dtype(label)
        or pd.api.types.is_bool_dtype(label)
    )
    if not nominal:
        raise KDError(
            f"{what} has a numeric target '{target}' (a regression problem); kd distils "
            "classifiers: choose a nominal column with --target"
        )
    keep = label.notna().to_numpy()
    if not keep.all():  # OpenML allows missing labels; rows without one cannot be used
        frame, label = frame[keep], label[keep]
    y, names = encode_labels(label, column=target)
    notices: list[str] = []
    X = prepare_features(frame.drop(columns=[target]), notices)
    return Dataset(
        name=name,
        X=X,
        y=y,
        class_names=names,
        meta={"target": target, "dropped_unlabelled_rows": int((~keep).sum())},
        notices=notices,
    )


def load_openml_dataset(text: str, target: str | None, cfg: OpenMLConfig) -> Dataset:
    dataset_id = parse_id("openml", text)
    meta = fetch_dataset(dataset_id, cfg)
    target = target or meta.get("default_target")
    if not target or "," in str(target):
        raise KDError(
            f"OpenML dataset {dataset_id} has no single default target "
            f"({target!r}); name one with --target"
        )
    ds = _dataset_from_frame(
        _frame(cfg.dataset_entry(dataset_id)),
        target,
        meta["name"],
        f"OpenML dataset {dataset_id} ({meta['name']})",
    )
    ds.meta.update(openml_dataset=dataset_id, server=cfg.server)
    return ds


# ---------------------------------------------------------------------------------------------
# tasks


def fetch_task(task_id: int, cfg: OpenMLConfig) -> dict:
    """Task description and official splits into kd's cache (and its dataset)."""
    entry = cfg.task_entry(task_id)
    meta = _checked_meta(cfg, entry)
    if meta is None:
        if cfg.offline:
            raise _not_cached(f"OpenML task {task_id}", f"openml-task:{task_id}", entry)
        meta = _download_task(task_id, cfg, entry)
    fetch_dataset(int(meta["dataset_id"]), cfg)
    return meta


def _download_task(task_id: int, cfg: OpenMLConfig, entry: Path) -> dict:
    def download(openml):
        from openml.tasks import TaskType

        task = openml.tasks.get_task(
            task_id,
            download_splits=False,
            download_data=False,
            download_qualities=False,
            download_features_meta_data=False,
        )
        if task.task_type_id != TaskType.SUPERVISED_CLASSIFICATION:
            return task, None
        task.download_split()
        repeats, folds, _samples = task.get_split_dimensions()
        arrays = {}
        for r in range(repeats):
            for f in range(folds):
                train, test = task.get_train_test_split_indices(fold=f, repeat=r, sample=0)
                arrays[f"train_{r}_{f}"] = np.asarray(train, dtype=np.int64)
                arrays[f"test_{r}_{f}"] = np.asarray(test, dtype=np.int64)
        return task, (repeats, folds, arrays)

    task, splits = _retrying(cfg, f"task {task_id}", download)
    if splits is None:
        raise KDError(
            f"OpenML task {task_id} is a {task.task_type} task; kd needs supervised "
            "classification (skip it or choose another task)"
        )
    repeats, folds, arrays = splits
    meta = {
        "kind": "openml-task",
        "id": task_id,
        "dataset_id": int(task.dataset_id),
        "target": task.target_name,
        "task_type": str(task.task_type),
        "estimation_procedure": task.estimation_procedure.get("type"),
        "repeats": repeats,
        "folds": folds,
        "server": cfg.server,
        "fetched": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return write_entry(entry, lambda tmp: np.savez(tmp / "splits.npz", **arrays), meta)


def load_openml_task(text: str, _target: str | None, cfg: OpenMLConfig) -> Dataset:
    task_id = parse_id("openml-task", text)
    meta = fetch_task(task_id, cfg)
    dataset_id = int(meta["dataset_id"])
    data_meta = read_meta(cfg.dataset_entry(dataset_id)) or {}
    frame = _frame(cfg.dataset_entry(dataset_id))
    n_rows = len(frame)
    ds = _dataset_from_frame(
        frame, meta["target"], data_meta.get("name", f"task-{task_id}"), f"OpenML task {task_id}"
    )
    if ds.meta["dropped_unlabelled_rows"]:
        raise KDError(
            f"OpenML task {task_id} has rows without a label; kd cannot map its official splits"
        )
    with np.load(cfg.task_entry(task_id) / "splits.npz", allow_pickle=False) as npz:
        splits = [
            OuterSplit(
                repeat=r,
                fold=f,
                train=np.sort(npz[f"train_{r}_{f}"]),
                test=np.sort(npz[f"test_{r}_{f}"]),
            )
            for r in range(meta["repeats"])
            for f in range(meta["folds"])
        ]
    for s in splits:
        if len(s.train) and (s.train.max() >= n_rows or s.test.max() >= n_rows):
            raise KDError(
                f"OpenML task {task_id}'s splits point past the {n_rows} rows of its "
                "dataset; delete its cache entry and fetch it again"
            )
    ds.name = f"{data_meta.get('name', 'task')} (task {task_id})"
    ds.outer_splits = splits
    ds.meta.update(
        openml_task=task_id,
        openml_dataset=dataset_id,
        server=cfg.server,
        task_repeats=meta["repeats"],
        task_folds=meta["folds"],
    )
    return ds


def _entry_state(entry: Path) -> str:
    try:
        return "valid" if read_meta(entry) is not None else "missing"
    except CorruptEntry:
        return "damaged"


def cache_status(source: str, ident: int, cfg: OpenMLConfig, verify: bool = False) -> str:
    """'valid', 'missing' or 'damaged' for a dataset or a task with its data.

    ``verify`` reads every file and checks its sha256; otherwise sizes only (for listings).
    """

    def state(entry: Path) -> str:
        if verify:
            return _entry_state(entry)
        return "valid" if is_cached(entry) else ("damaged" if entry.exists() else "missing")

    if source == "openml":
        return state(cfg.dataset_entry(ident))
    task_state = state(cfg.task_entry(ident))
    if task_state != "valid":
        return task_state
    try:
        meta = read_meta(cfg.task_entry(ident)) or {}
    except CorruptEntry:
        return "damaged"
    return state(cfg.dataset_entry(int(meta.get("dataset_id", -1))))
