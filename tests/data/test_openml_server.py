"""The real `openml` client against `OpenMLTestServer` (a local OpenML on 127.0.0.1).

These tests pin down what the client requests and how it fails (which exception, what it leaves in
its cache), so that kdcli's OpenML code path can be tested offline against the same server.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import arff
import openml
import pytest
import requests
from openml.exceptions import OpenMLServerError, OpenMLServerException, OpenMLServerNoResult

from support.openml_server import OpenMLTestServer
from support.paths import SHARED_OPENML

STORED = SHARED_OPENML / "cache" / "org" / "openml" / "test"

ANNEAL_PATHS = [
    "/api/v1/xml/data/2",
    "/api/v1/xml/data/features/2",
    "/api/v1/xml/data/qualities/2",
    "/data/v1/download/1666876/anneal.arff",
]
TASK_1882_PATHS = [
    "/api/v1/xml/task/1882",
    "/api/v1/xml/data/2",
    "/api/v1/xml/data/features/2",  # class labels come from the feature descriptions
    "/api_splits/get/1882/Task_1882_splits.arff",
]


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED_OPENML.is_dir():
        pytest.skip(
            f"../shared/openml-format not found: {SHARED_OPENML} is not beside this checkout"
        )
    return SHARED_OPENML


@contextlib.contextmanager
def isolated_openml_config(cache_dir: Path):
    """Point the client's cache at cache_dir; restore its server, cache and retry settings after."""
    config = openml.config
    saved_server = config.server
    saved_cache = config.get_config_as_dict()["cachedir"]
    saved_policy, saved_retries = config.retry_policy, config.connection_n_retries
    config.set_root_cache_directory(str(cache_dir))
    try:
        yield config
    finally:
        config.server = saved_server
        config.set_root_cache_directory(saved_cache)
        config.set_retry_policy(saved_policy, saved_retries)


@pytest.fixture
def openml_config(tmp_path):
    with isolated_openml_config(tmp_path) as config:
        yield config


@pytest.fixture
def server(shared_dir, openml_config):
    with OpenMLTestServer(shared_dir) as test_server:
        openml_config.server = test_server.url
        yield test_server


def cache_files(kind: str, entity_id: int) -> list[str]:
    """Files the client keeps for one dataset/task (its cache is keyed by the server's address)."""
    folder = Path(openml.config.get_cache_directory()) / kind / str(entity_id)
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# -- the files load end to end -------------------------------------------------------------------


def test_anneal_loads_with_its_quirks(server, caplog):
    dataset = openml.datasets.get_dataset(
        2, download_data=True, download_qualities=True, download_features_meta_data=True
    )
    X, y, categorical, names = dataset.get_data(target="class")

    assert server.requests == ANNEAL_PATHS
    assert 2 not in server.checksum_mismatches  # the published md5 is that of the file served
    assert "Received uncompressed content" not in caplog.text  # responses are gzipped
    assert X.shape == (898, 38)
    assert len(names) == 38
    assert sum(categorical) == 32
    assert sum(str(X[c].dtype) == "category" for c in X.columns) == 32
    assert int(X.isna().sum().sum()) == 22175  # as the README says; all in the features
    assert not y.isna().any()
    assert list(y.cat.categories) == ["1", "2", "3", "4", "5", "U"]
    counts = y.value_counts()
    assert counts["4"] == 0  # a declared class with no instance
    assert counts.to_dict() == {"3": 684, "2": 99, "5": 67, "U": 40, "1": 8, "4": 0}
    assert dataset.qualities["NumberOfInstances"] == 898

    # The client writes whole files only, plus pickles of what it parsed.
    assert cache_files("datasets", 2) == [
        "dataset.arff",
        "dataset.pkl.py3",
        "description.xml",
        "features.xml",
        "features.xml.pkl",
        "qualities.xml",
        "qualities.xml.pkl",
    ]
    cached = Path(openml.config.get_cache_directory()) / "datasets" / "2" / "dataset.arff"
    assert cached.read_bytes() == (STORED / "datasets" / "2" / "dataset.arff").read_bytes()

    # A second load comes from the cache alone.
    server.requests.clear()
    openml.datasets.get_dataset(2, download_data=True).get_data(target="class")
    assert server.requests == []


def test_task_1882_splits_match_the_arff(server):
    task = openml.tasks.get_task(1882, download_splits=True)

    assert server.requests == TASK_1882_PATHS
    assert task.dataset_id == 2
    assert task.get_split_dimensions() == (10, 10, 1)
    train, test = task.get_train_test_split_indices(repeat=0, fold=0)
    assert set(train).isdisjoint(test)
    assert sorted([*train, *test]) == list(range(898))

    with (STORED / "tasks" / "1882" / "datasplits.arff").open() as fh:
        splits = arff.load(fh)
    expected_test = {
        int(rowid)
        for kind, rowid, repeat, fold in splits["data"]
        if kind == "TEST" and repeat == 0 and fold == 0
    }
    assert set(test) == expected_test
    assert cache_files("tasks", 1882) == ["datasplits.arff", "datasplits.pkl.py3", "task.xml"]
    assert cache_files("datasets", 2) == ["description.xml", "features.xml", "features.xml.pkl"]


def test_iris_loads_from_arff_without_parquet(server):
    dataset = openml.datasets.get_dataset(61, download_data=True, download_qualities=True)
    X, y, _, _ = dataset.get_data(target="class")

    # No parquet/MinIO request: the served description has no parquet_url.
    assert server.requests == [
        "/api/v1/xml/data/61",
        "/api/v1/xml/data/qualities/61",
        "/data/v1/download/61/iris.arff",
    ]
    assert X.shape == (150, 4)
    assert y.nunique() == 3
    assert dataset.qualities["NumberOfInstances"] == 150


def test_suite_146_lists_its_tasks(server):
    suite = openml.study.get_suite(146)

    assert server.requests == ["/api/v1/xml/study/146"]
    assert suite.tasks == [4, 5, 6]
    assert suite.data == [1]


# -- errors the server reports in OpenML's format -------------------------------------------------


def test_unknown_dataset_raises_no_result(server):
    with pytest.raises(OpenMLServerNoResult) as info:
        openml.datasets.get_dataset(999999)

    assert isinstance(info.value, OpenMLServerException)
    assert info.value.code == 111
    assert server.requests == ["/api/v1/xml/data/999999"]
    assert cache_files("datasets", 999999) == []


def test_unknown_task_raises_server_exception_not_no_result(server):
    with pytest.raises(OpenMLServerException) as info:
        openml.tasks.get_task(999999)

    # 151 is not among the codes the client turns into OpenMLServerNoResult.
    assert type(info.value) is OpenMLServerException
    assert info.value.code == 151
    assert server.requests == ["/api/v1/xml/task/999999"]


def test_task_on_missing_dataset_raises_no_result_and_clears_its_cache(server):
    with pytest.raises(OpenMLServerNoResult) as info:
        openml.tasks.get_task(3)

    assert info.value.code == 111
    assert server.requests == ["/api/v1/xml/task/3", "/api/v1/xml/data/3"]
    assert cache_files("tasks", 3) == []


def test_errors_use_openml_status_and_xml_and_responses_are_gzipped(server):
    unknown = requests.get(f"{server.url}/data/999999", timeout=5)
    assert unknown.status_code == 412
    assert "<oml:code>111</oml:code>" in unknown.text

    gzipped = requests.get(f"{server.url}/data/2", timeout=5, stream=True)
    raw = gzipped.raw.read(decode_content=False)
    assert gzipped.headers["Content-Encoding"] == "gzip"
    assert int(gzipped.headers["Content-Length"]) == len(raw)

    plain = requests.get(f"{server.url}/data/2", headers={"Accept-Encoding": "identity"}, timeout=5)
    assert "Content-Encoding" not in plain.headers
    assert int(plain.headers["Content-Length"]) == len(plain.content)
    assert (
        f"<oml:url>{server.base_url}/data/v1/download/1666876/anneal.arff</oml:url>" in plain.text
    )


# -- faults ---------------------------------------------------------------------------------------


def test_one_500_is_retried(server):
    openml.config.set_retry_policy("human", n_retries=2)
    server.fail_next(1, 500)

    dataset = openml.datasets.get_dataset(2)

    assert dataset.name == "anneal"
    assert server.requests == ["/api/v1/xml/data/2", "/api/v1/xml/data/2"]


def test_500s_beyond_the_retries_raise_server_error(server):
    openml.config.set_retry_policy("human", n_retries=2)
    server.fail_next(5, 500)

    with pytest.raises(OpenMLServerError) as info:
        openml.datasets.get_dataset(2)

    # The HTML page is not XML: after the last try the client raises the base OpenMLServerError,
    # which is NOT an OpenMLServerException (no code).
    assert type(info.value) is OpenMLServerError
    assert "Status code: 500" in str(info.value)
    assert server.requests == ["/api/v1/xml/data/2"] * 2
    assert cache_files("datasets", 2) == []


def test_well_formed_error_page_escapes_as_key_error(server):
    # A non-200 body that parses as XML but has no <oml:error> is neither retried nor wrapped:
    # the client's error parser raises KeyError('oml:error').
    openml.config.set_retry_policy("human", n_retries=2)
    server.fail_next(1, 503, body=b"<html><body>Service Unavailable</body></html>")

    with pytest.raises(KeyError, match="oml:error"):
        openml.datasets.get_dataset(2)
    assert server.requests == ["/api/v1/xml/data/2"]


def test_stopped_server_refuses_connections(server):
    openml.config.set_retry_policy("human", n_retries=1)
    port = server.port
    server.stop()

    start = time.monotonic()
    with pytest.raises(requests.exceptions.ConnectionError):
        openml.datasets.get_dataset(2)
    assert time.monotonic() - start < 2
    assert cache_files("datasets", 2) == []

    # Restart on the same port (the client's cache is keyed by host:port), then a second server.
    server.start()
    assert server.port == port
    assert openml.datasets.get_dataset(2).name == "anneal"
    server.stop()
    with OpenMLTestServer(server.shared_dir, port=port) as again:
        assert again.url == server.url
        assert openml.datasets.get_dataset(2, download_data=True).name == "anneal"


def test_truncated_download_is_retried(server):
    openml.config.set_retry_policy("human", n_retries=2)
    server.truncate_next(1)

    dataset = openml.datasets.get_dataset(2, download_data=True)

    assert server.requests == [
        "/api/v1/xml/data/2",
        "/data/v1/download/1666876/anneal.arff",
        "/data/v1/download/1666876/anneal.arff",
    ]
    assert dataset.get_data()[0].shape == (898, 39)
    cached = Path(openml.config.get_cache_directory()) / "datasets" / "2" / "dataset.arff"
    assert cached.read_bytes() == (STORED / "datasets" / "2" / "dataset.arff").read_bytes()


def test_truncated_download_without_retry_leaves_no_partial_file(server):
    openml.config.set_retry_policy("human", n_retries=1)
    server.truncate_next(1)

    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        openml.datasets.get_dataset(2, download_data=True)

    # The body is read in full before the file is written, and get_dataset removes the dataset's
    # cache folder on any error: no partial dataset.arff (and no description.xml) is left.
    assert cache_files("datasets", 2) == []
    cache_root = Path(openml.config.get_cache_directory())
    assert not list(cache_root.rglob("*.arff"))


def test_truncated_split_download_leaves_no_task_cache(server):
    openml.config.set_retry_policy("human", n_retries=1)
    server.truncate_next(1)

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        openml.tasks.get_task(1882, download_splits=True)

    assert server.requests == TASK_1882_PATHS
    assert cache_files("tasks", 1882) == []
    # The dataset's metadata, fully downloaded before the failure, stays cached.
    assert cache_files("datasets", 2) == ["description.xml", "features.xml", "features.xml.pkl"]


def test_hanging_server_really_hangs(server):
    # The client itself sets no time-out (it would wait the full 5 s), so probe with requests.
    server.hang_next(1, 5)

    start = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{server.url}/data/2", timeout=0.5)
    assert time.monotonic() - start < 2

    assert requests.get(f"{server.url}/data/2", timeout=5).status_code == 200  # next one answers
    start = time.monotonic()
    server.stop()  # wakes the still-hanging handler instead of waiting for it
    assert time.monotonic() - start < 1
    assert server.requests == ["/api/v1/xml/data/2", "/api/v1/xml/data/2"]


def test_config_is_restored(shared_dir, tmp_path):
    def snapshot():
        config = openml.config
        cache = config.get_config_as_dict()["cachedir"]
        return config.server, os.fspath(cache), config.retry_policy, config.connection_n_retries

    before = snapshot()
    with isolated_openml_config(tmp_path) as config, OpenMLTestServer(shared_dir) as test_server:
        config.server = test_server.url
        config.set_retry_policy("human", n_retries=2)
        assert snapshot() == (test_server.url, str(tmp_path), "human", 2)
        assert openml.datasets.get_dataset(2).name == "anneal"
    assert snapshot() == before
