"""Which data a study's units were made from: file datasets are hashed again on resume, only
when their stamp (size, modification time, inode) moved."""

import os

import numpy as np
import pandas as pd

from kdcli.data import load_dataset
from kdcli.data.openml_source import OpenMLConfig
from kdcli.data.suites import Member
from kdcli.study.data_state import current_hashes, file_stamp
from kdcli.study.teacher_cache import data_fingerprint


def _write(path, flip=False):
    x = np.arange(40, dtype=float)
    y = (x % 2).astype(int)
    pd.DataFrame({"x": x, "target": 1 - y if flip else y}).to_csv(path, index=False)


def _hash(spec):
    ds = load_dataset(spec)
    return data_fingerprint(ds.X, ds.y)


def test_file_datasets_are_hashed_as_the_units_hash_them(tmp_path):
    data = tmp_path / "d.csv"
    _write(data)
    members = [Member("d", f"file:{data}"), Member("iris", "sklearn:iris")]
    cfg = OpenMLConfig(cache_dir=tmp_path / "cache", offline=True)
    memo = {}
    now = current_hashes(members, ["d", "iris"], cfg, memo)
    assert now == {"d": _hash(f"file:{data}")}  # code-made data is not read again
    assert memo["d"]["stamp"] == file_stamp(f"file:{data}") and memo["d"]["sha256"] == now["d"]
    assert current_hashes(members, ["iris"], cfg, memo) == {}  # only the names asked for


def test_an_unchanged_stamp_reads_nothing_and_a_changed_one_reads_again(tmp_path):
    data = tmp_path / "d.csv"
    _write(data)
    spec = f"file:{data}"
    cfg = OpenMLConfig(cache_dir=tmp_path / "cache", offline=True)
    memo = {}
    first = current_hashes([Member("d", spec)], ["d"], cfg, memo)["d"]
    stamp = os.stat(data)
    # same size and times, other content: the stamp says unchanged, so the memo answers
    _write(data, flip=True)
    os.utime(data, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert os.stat(data).st_size == stamp.st_size
    assert current_hashes([Member("d", spec)], ["d"], cfg, memo)["d"] == first
    os.utime(data, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000))
    again = current_hashes([Member("d", spec)], ["d"], cfg, memo)["d"]
    assert again == _hash(spec) != first


def test_a_file_that_cannot_be_read_is_not_judged(tmp_path):
    cfg = OpenMLConfig(cache_dir=tmp_path / "cache", offline=True)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01")
    members = [Member("gone", f"file:{tmp_path / 'gone.csv'}"), Member("bad", f"file:{bad}")]
    assert current_hashes(members, ["gone", "bad"], cfg, {}) == {}
