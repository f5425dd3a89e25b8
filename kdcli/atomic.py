"""Writing files atomically (temp file + rename), so a crash never leaves a half file.

Failures of the destination (a full disk, a read-only folder) are turned into one
:class:`~kdcli.errors.KDError` naming the path and the fix, here in one place
(:func:`destination_error`), for every command that writes. :func:`written_together` makes
several files appear together or not at all (a `kd fit --out` folder).

A rename replaces whatever has the name, so kd never renames onto anything but a regular file:
a symbolic link is followed and its target written (made, if the link dangles); a FIFO, device,
socket or folder there is refused. Only a file the user names as the destination
(:func:`write_destination`: `kd report --out`) is written through a FIFO or character device.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kdcli.errors import KDError

FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}


def destination_error(
    err: OSError, path: Path | str, option: str | None = None, fix: str | None = None
) -> KDError:
    """The one line for a write that failed at ``path``: what is wrong and what to do.
    ``option`` is the setting that chose the place (``--out``), so the fix can name it; without
    one (kd's own files in a folder it was given) the fix is what can be done there, or ``fix``."""
    if err.errno in FULL:
        why = "the disk is full" if err.errno != errno.EFBIG else "the file is too large"
        where = f"or choose another {option}" if option else "there, then run the command again"
        return KDError(f"{why} at {path}; {fix or 'free space ' + where}")
    if err.errno in NOT_WRITABLE:
        why = "a read-only file system" if err.errno == errno.EROFS else "permission denied"
        return KDError(f"{path} is not writable ({why}); {_fix(option, fix, _writable(path))}")
    if err.errno in (errno.ENOTDIR, errno.EEXIST):
        return KDError(
            f"{path}: a part of this path is a file, not a folder; "
            + _fix(option, fix, "move that file away")
        )
    if err.errno == errno.ENAMETOOLONG:
        return KDError(
            f"{path}: the name is too long for the file system; "
            + _fix(option, fix, "use a shorter folder name")
        )
    reason = err.strerror or type(err).__name__
    return KDError(f"cannot write {path}: {reason}; {_fix(option, fix, 'fix that')}")


def _fix(option: str | None, fix: str | None, remedy: str) -> str:
    """The fix of a message: ``fix`` as given, another ``option``, or ``remedy`` where no option
    chose the place (kd's own files: a study's records, its units)."""
    if fix:
        return fix
    return f"choose another {option}" if option else f"{remedy}, then run the command again"


def _writable(path: Path | str) -> str:
    parent = Path(path).parent
    return f"make {parent if str(parent) != '.' else 'the current folder'} writable"


@contextmanager
def translated(
    path: Path | str, option: str | None = None, fix: str | None = None
) -> Iterator[None]:
    """OSError inside the block becomes :func:`destination_error` for ``path``."""
    try:
        yield
    except OSError as err:
        raise destination_error(err, path, option, fix) from err


# -- what is at a path ------------------------------------------------------------------------

SPECIAL = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def special_kind(st: os.stat_result | None) -> str | None:
    """What a non-regular file is, in words ("a named pipe (FIFO)"); None for a regular file or
    nothing there."""
    if st is None:
        return None
    return next((words for test, words in SPECIAL if test(st.st_mode)), None)


def resolved(path: Path) -> tuple[Path, os.stat_result | None]:
    """Where a write to ``path`` lands, and what is there (None: nothing yet). A symbolic link to
    a regular file, or a dangling one, gives its final target (to be replaced or made); a FIFO or
    device keeps the name given (written through, never renamed onto), so that /proc's links,
    such as /dev/stdout's to a pipe, still work. OSError escapes."""
    path = Path(path)
    try:
        st = os.stat(path)  # the kernel follows every link, /proc's own too
    except FileNotFoundError:
        st = None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise KDError(f"{path} is a symbolic link that loops; point it at a file") from None
        raise
    if not os.path.islink(path) or (st is not None and not stat.S_ISREG(st.st_mode)):
        return path, st
    target = Path(os.path.realpath(path))
    if os.path.islink(target):  # realpath stops where links loop
        raise KDError(f"{path} is a symbolic link that loops; point it at a file")
    return target, st


def refuse_special(path: Path, kind: str, option: str | None) -> KDError:
    """A rename would replace it (a FIFO, a device): refused, with the fix that exists."""
    tail = f" or choose another {option}" if option else ", then run the command again"
    return KDError(
        f"{path} is {kind}, not a regular file, so kd will not replace it; move it away{tail}"
    )


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


class Writer(Protocol):
    """Writes the content to the path it is given (a temporary file); its return is unused.

    A protocol, not a Callable, so a lambda with a bound default (``lambda tmp, fmt=fmt: ...``)
    still type-checks."""

    def __call__(self, tmp: Path, /) -> object: ...


def atomic_write(
    path: Path, write: Writer, option: str | None = None, fix: str | None = None
) -> None:
    """``write(tmp_path)`` writes the content; it appears at ``path`` whole or not at all.

    Inside :func:`written_together` it appears when the block ends, with the others. A failure of
    the destination is a KDError naming the path (the batch's folder) and ``option`` (or ``fix``).
    A symbolic link at ``path`` is followed, its target written; a FIFO, device, socket or folder
    there is refused, never replaced.
    """
    path = Path(path)
    batch = _batch.get()
    option = batch.option if batch and batch.option else option
    with translated(batch.folder if batch else path, option, fix):
        target, st = resolved(path)
        if (kind := special_kind(st)) is not None:
            raise refuse_special(path, kind, option)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        try:
            os.chmod(tmp, umask_mode(0o666))  # mkstemp makes 0600: results are for sharing
            write(Path(tmp))
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            if batch is None:
                os.replace(tmp, target)
            else:
                batch.pending.append((Path(tmp), target))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def write_destination(path: Path, write: Writer, option: str) -> None:
    """A file the user named (``option``: `kd report --out`): a FIFO or character device there is
    written through (``write(path)``, no rename, so it stays what it is); anything else as
    :func:`atomic_write` does (a symbolic link's target replaced, other special files refused)."""
    path = Path(path)
    with translated(path, option):
        target, st = resolved(path)
    if st is not None and (stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode)):
        try:
            write(target)
        except OSError as err:
            reason = err.strerror or type(err).__name__
            raise KDError(
                f"cannot write to {path} ({special_kind(st)}): {reason}; choose another {option}"
            ) from err
        return
    atomic_write(path, write, option)


def atomic_write_text(
    path: Path, text: str, option: str | None = None, fix: str | None = None
) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), option, fix)


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
