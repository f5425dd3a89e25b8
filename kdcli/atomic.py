"""Writing files atomically (temp file + rename), so a crash never leaves a half file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from kdcli.errors import KDError


def umask_mode(base: int) -> int:
    """``base`` (0o666 files, 0o777 folders) less the process umask, as open() would give."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def atomic_write(path: Path, write) -> None:
    """``write(tmp_path)`` writes the content; it appears at ``path`` whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, umask_mode(0o666))  # mkstemp makes 0600: results are for sharing
    try:
        write(Path(tmp))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def check_out_dir(path: Path, kind: str) -> None:
    """Refuse an --out that cannot be written, or that holds another kind of run, before any work.

    Creates nothing: a failed command leaves no folder behind.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise KDError(f"--out {path} is a file; give a folder (it is created if missing)")
    record = path / "run.json"
    if record.exists():
        try:
            recorded = json.loads(record.read_text(encoding="utf-8")).get("kind", "kd-fit")
        except (OSError, ValueError):
            recorded = "unknown"
        if recorded != kind:
            what = {"kd-benchmark": "a kd benchmark study", "kd-fit": "kd fit results"}
            raise KDError(
                f"--out {path} holds {what.get(recorded, 'other files')}; use another folder"
            )
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise KDError(f"--out {path}: {ancestor} is a file, so the folder cannot be made")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise KDError(f"--out {path}: {ancestor} is not writable; choose another folder")
