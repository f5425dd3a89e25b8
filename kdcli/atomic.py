"""Writing files atomically (temp file + rename), so a crash never leaves a half file.

Failures of the destination (a full disk, a read-only folder) are turned into one
:class:`~kdcli.errors.KDError` naming the path and the fix, here in one place
(:func:`destination_error`), for every command that writes. :func:`written_together` makes
several files appear together or not at all (a `kd fit --out` folder).
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from kdcli.errors import KDError

FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}


def destination_error(err: OSError, path: Path | str, option: str | None = None) -> KDError:
    """The one line for a write that failed at ``path``: what is wrong and what to do.
    ``option`` is the setting that chose the place (``--out``), so the fix can name it."""
    where = f"another {option}" if option else "another place to write"
    if err.errno in FULL:
        why = "the disk is full" if err.errno != errno.EFBIG else "the file is too large"
        return KDError(f"{why} at {path}; free space or choose {where}")
    if err.errno in NOT_WRITABLE:
        why = "a read-only file system" if err.errno == errno.EROFS else "permission denied"
        return KDError(f"{path} is not writable ({why}); choose {where}")
    if err.errno in (errno.ENOTDIR, errno.EEXIST):
        return KDError(f"{path}: a part of this path is a file, not a folder; choose {where}")
    if err.errno == errno.ENAMETOOLONG:
        return KDError(f"{path}: the name is too long for the file system; choose {where}")
    reason = err.strerror or type(err).__name__
    return KDError(f"cannot write {path}: {reason}; choose {where}")


@contextmanager
def translated(path: Path | str, option: str | None = None) -> Iterator[None]:
    """OSError inside the block becomes :func:`destination_error` for ``path``."""
    try:
        yield
    except OSError as err:
        raise destination_error(err, path, option) from err


@dataclass
class _Batch:
    folder: Path
    option: str | None
    pending: list[tuple[Path, Path]] = field(default_factory=list)  # (temp file, its place)


_batch: ContextVar[_Batch | None] = ContextVar("kd_atomic_batch", default=None)


def umask_mode(base: int) -> int:
    """``base`` (0o666 files, 0o777 folders) less the process umask, as open() would give."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def atomic_write(path: Path, write, option: str | None = None) -> None:
    """``write(tmp_path)`` writes the content; it appears at ``path`` whole or not at all.

    Inside :func:`written_together` it appears when the block ends, with the others. A failure of
    the destination is a KDError naming the path (the batch's folder) and ``option``.
    """
    path = Path(path)
    batch = _batch.get()
    option = batch.option if batch and batch.option else option
    with translated(batch.folder if batch else path, option):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            os.chmod(tmp, umask_mode(0o666))  # mkstemp makes 0600: results are for sharing
            write(Path(tmp))
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            if batch is None:
                os.replace(tmp, path)
            else:
                batch.pending.append((Path(tmp), path))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def atomic_write_text(path: Path, text: str, option: str | None = None) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), option)


@contextmanager
def written_together(folder: Path | str, option: str | None = None) -> Iterator[None]:
    """Files :func:`atomic_write` writes inside the block appear together when it ends, in the
    order written (so a run.json written last means the rest are there), or none of them: on any
    failure (a full disk half-way) the written parts are removed, and the folders the block made.
    """
    if _batch.get() is not None:  # inside another batch: its files go with that one's
        yield
        return
    folder = Path(folder)
    made, ancestor = [], folder
    with translated(folder, option):
        while not ancestor.exists() and ancestor != ancestor.parent:
            made.append(ancestor)
            ancestor = ancestor.parent
    batch = _Batch(folder, option)
    token = _batch.set(batch)
    try:
        yield
        with translated(folder, option):
            for tmp, path in batch.pending:
                os.replace(tmp, path)
    except BaseException:
        for tmp, _ in batch.pending:
            tmp.unlink(missing_ok=True)
        for path in made:  # innermost first; a folder that holds anything else stays
            try:
                path.rmdir()
            except OSError:
                break
        raise
    finally:
        _batch.reset(token)


def check_out_dir(path: Path, kind: str) -> None:
    """Refuse an --out that cannot be written, or that holds another kind of run, before any work.

    Creates nothing: a failed command leaves no folder behind.
    """
    path = Path(path)
    with translated(path, "--out"):  # a stat may fail too: a name too long, a folder not ours
        _check_out_dir(path, kind)


def _check_out_dir(path: Path, kind: str) -> None:
    if path.exists() and not path.is_dir():
        raise KDError(f"--out {path} is a file; give a folder (it is created if missing)")
    record = path / "run.json"
    if record.exists():
        try:
            recorded = json.loads(record.read_text(encoding="utf-8")).get("kind", "kd-fit")
        except (OSError, ValueError, AttributeError):
            recorded = kind  # damaged: a study sets it aside and recovers (study.results_dir)
        if recorded != kind:
            what = {"kd-benchmark": "a kd benchmark study", "kd-fit": "kd fit results"}
            raise KDError(
                f"--out {path} holds {what.get(recorded, 'other files')}; use another folder"
            )
    check_writable_place(path, "--out", "folder")


def check_writable_place(
    path: Path, option: str, kind: str = "folder", fix: str | None = None
) -> None:
    """Refuse, before any work, a ``path`` (to be made) whose nearest existing folder cannot be
    written: a file in its way, or no write permission. Makes nothing. As root, permissions do
    not stop a write; a read-only or full file system is then found by the write itself."""
    path = Path(path)
    fix = fix or f"choose another {kind}"
    with translated(path, option):
        ancestor = path if kind == "folder" else path.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise KDError(f"{option} {path}: {ancestor} is a file, so the {kind} cannot be made")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise KDError(f"{option} {path}: {ancestor} is not writable; {fix}")
        # access() answers yes to root, even where the kernel refuses (sysfs, some mounts):
        # a temporary file made and removed at once asks the file system itself
        fd, probe = tempfile.mkstemp(dir=ancestor, prefix=".kd-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
