"""Which data a study's units were made from, so a resume never mixes old data with new.

Each finished unit records the hash of the data it was made from (:func:`data_fingerprint`, the
hash the teacher cache keys on). On resume the datasets read from the user's files (``file:``,
and so every ``dir:`` suite) are hashed again and a unit of other data is set aside and redone.
A file is read again only when its size, modification time or inode changed since the last
resume (a stamp kept in run.json beside its hash). OpenML datasets are immutable by id and
checksummed in kd's cache; ``sklearn:`` and ``synthetic:`` data are made by code from the
spec, which the study's settings fix: those are not read again.
"""

from __future__ import annotations

import os
from pathlib import Path

from kdcli.data import load_dataset
from kdcli.data.openml_source import OpenMLConfig
from kdcli.data.spec import parse_spec
from kdcli.data.suites import Member
from kdcli.errors import KDError
from kdcli.study.teacher_cache import data_fingerprint


def file_stamp(spec: str) -> dict | None:
    """Size, modification time and inode of a ``file:`` dataset; None for any other source or a
    file that cannot be looked up (its units then fail as they would)."""
    try:
        source, name, _ = parse_spec(spec)
        if source != "file":
            return None
        st = os.stat(Path(name).expanduser())
    except (KDError, OSError, ValueError):
        return None
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino}


def current_hashes(
    members: list[Member], names: list[str], cfg: OpenMLConfig, memo: dict
) -> dict[str, str]:
    """Dataset name -> the hash of its data as it is now, for the file datasets among ``names``.

    ``memo`` (run.json's ``data``: name -> spec, stamp and hash) is consulted and updated: an
    unchanged stamp means an unchanged file, so a resume of a large suite reads nothing again.
    """
    out: dict[str, str] = {}
    wanted = set(names)
    for member in members:
        if member.name not in wanted:
            continue
        stamp = file_stamp(member.spec)
        if stamp is None:
            continue
        known = memo.get(member.name) or {}
        if known.get("spec") == member.spec and known.get("stamp") == stamp and known.get("sha256"):
            out[member.name] = known["sha256"]
            continue
        try:
            ds = load_dataset(member.spec, None, cfg)
        except KDError:  # unreadable now: its units to run fail, and say why
            continue
        out[member.name] = data_fingerprint(ds.X, ds.y)
        memo[member.name] = {"spec": member.spec, "stamp": stamp, "sha256": out[member.name]}
    return out
