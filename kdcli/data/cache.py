"""The data cache: entries written whole or not at all, checked on every read.

An entry is a folder holding data files and ``meta.json``, which records each file's sha256 and
size. Entries are assembled in a temporary sibling folder and renamed into place, so an
interrupted download never leaves an entry that later reads as valid; a file changed or cut short
afterwards fails its checksum and is reported as corrupt.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from kdcli.errors import KDError

META = "meta.json"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def default_cache_dir() -> Path:
    """``datasets/cache`` in a checkout of kd; ``~/.cache/kd`` for an installed copy."""
    env = os.environ.get("KD_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    if (PROJECT_ROOT / "datasets").is_dir() and (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT / "datasets" / "cache"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kd"


class CorruptEntry(Exception):
    """A cache entry whose files do not match the checksums recorded when it was written."""

    def __init__(self, path: Path, why: str):
        super().__init__(f"{path}: {why}")
        self.path, self.why = path, why


def _umask_mode(base: int) -> int:
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_meta(entry: Path) -> dict | None:
    """The entry's metadata if complete and intact; None if absent; CorruptEntry if damaged."""
    meta_path = entry / META
    if not meta_path.exists():
        if entry.exists():
            raise CorruptEntry(entry, "incomplete entry (no meta.json)")
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        files = meta["files"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CorruptEntry(entry, f"unreadable meta.json ({err})") from None
    for name, info in files.items():
        path = entry / name
        if not path.exists():
            raise CorruptEntry(entry, f"{name} is missing")
        if path.stat().st_size != info["size"]:
            raise CorruptEntry(
                entry, f"{name} has {path.stat().st_size} bytes, expected {info['size']}"
            )
        if sha256_file(path) != info["sha256"]:
            raise CorruptEntry(entry, f"{name} fails its sha256 checksum")
    return meta


def is_cached(entry: Path) -> bool:
    """Quick check (sizes only) for listings; reading an entry verifies checksums."""
    try:
        meta = json.loads((entry / META).read_text(encoding="utf-8"))
        return all(
            (entry / n).exists() and (entry / n).stat().st_size == i["size"]
            for n, i in meta["files"].items()
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def write_entry(entry: Path, write_files, meta: dict) -> dict:
    """Create ``entry`` atomically: ``write_files(tmpdir)`` writes the data files, we add meta.json.

    Replaces an existing (e.g. corrupt) entry. Returns the metadata written.
    """
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".{entry.name}.", suffix=".tmp"))
    os.chmod(tmp, _umask_mode(0o777))  # mkdtemp makes 0700: a cache may be shared by workers
    try:
        write_files(tmp)
        files = {
            p.name: {"sha256": sha256_file(p), "size": p.stat().st_size}
            for p in sorted(tmp.iterdir())
            if p.is_file()
        }
        meta = {**meta, "files": files}
        (tmp / META).write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
        for p in tmp.iterdir():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
        if entry.exists():
            remove_entry(entry)
        os.replace(tmp, entry)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta


def remove_entry(entry: Path) -> None:
    """Delete an entry: first rename it aside, so a crash mid-delete leaves nothing that reads."""
    if not entry.exists():
        return
    trash = entry.with_name(f".{entry.name}.trash-{os.getpid()}")
    try:
        os.replace(entry, trash)
    except OSError as err:
        raise KDError(
            f"cannot remove the damaged cache entry {entry} ({err}); delete it by hand"
        ) from None
    shutil.rmtree(trash, ignore_errors=True)
