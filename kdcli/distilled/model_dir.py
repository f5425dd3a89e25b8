"""MODEL_DIR on disk: model.onnx, the native model files, card.json and card.md, written as one
unit and read back without pickle.

The folder is assembled beside its destination under a temporary name and renamed into place,
so a reader sees the whole model or none. A kill -9 half-way leaves only hidden folders of the
dead process: the next write to that destination removes its temporary folder, and puts back
an earlier model it had set aside but not yet replaced (:func:`recover`). Only an empty folder or an earlier kd model (with
``force``) is replaced; anything else at the destination is the user's and is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from kdcli.atomic import check_writable_place, translated
from kdcli.distilled.card import FORMAT, KIND, render_markdown
from kdcli.errors import KDError
from kdcli.text import shown

ONNX, CARD_JSON, CARD_MD = "model.onnx", "card.json", "card.md"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def recover(path: Path) -> None:
    """Undo what a killed write to ``path`` left: its temporary folder goes, and an earlier
    model it had set aside comes back if nothing took its place. Only the hidden folders of
    processes that no longer run are touched."""
    parent = path.parent
    if not parent.is_dir():
        return
    for leftover in sorted(parent.glob(f".{path.name}.*-*")):
        kind, _, pid = leftover.name[len(path.name) + 2 :].rpartition("-")
        if kind not in ("tmp", "old") or not pid.isdigit() or _alive(int(pid)):
            continue
        if kind == "old" and not path.exists() and not path.is_symlink() and is_model_dir(leftover):
            os.replace(leftover, path)
        else:
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, not ours to judge
        return True
    return True


def check_model_dir(path: Path, force: bool = False) -> None:
    """Refuse, before any fit, a destination kd may not write: a file, a link, a folder of
    anyone else's files, or an earlier model without ``force``."""
    path = Path(path)
    with translated(path, "--out"):
        recover(path)
        if path.is_symlink():
            raise KDError(f"--out {shown(path)} is a symbolic link; give a new folder instead")
        if path.exists() and not path.is_dir():
            raise KDError(f"--out {shown(path)} is a file; give a folder (it is created)")
        if path.is_dir() and any(path.iterdir()):
            if not is_model_dir(path):
                raise KDError(
                    f"--out {shown(path)} is not empty and holds no kd model; use a new or "
                    "empty folder"
                )
            if not force:
                raise KDError(
                    f"--out {shown(path)} holds an earlier kd model; add --force to replace it, "
                    "or use another folder"
                )
        check_writable_place(path, "--out", "folder")


def is_model_dir(path: Path) -> bool:
    try:
        card = json.loads((path / CARD_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(card, dict) and card.get("kind") == KIND


def write_model_dir(
    path: Path, onnx_bytes: bytes, card: dict, native: dict[str, str], force: bool = False
) -> None:
    """Write the model folder as one unit (see the module's docstring). ``native``: file name
    to text (LightGBM's model text); the card records every file's SHA-256."""
    path = Path(path)
    check_model_dir(path, force)
    files = {ONNX: onnx_bytes, **{name: text.encode() for name, text in native.items()}}
    card = {**card, "files": {name: sha256(data) for name, data in files.items()}}
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    old = path.parent / f".{path.name}.old-{os.getpid()}"
    with translated(path, "--out"):
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            tmp.mkdir()
            for name, data in files.items():
                (tmp / name).write_bytes(data)
            (tmp / CARD_MD).write_text(render_markdown(card), encoding="utf-8")
            (tmp / CARD_JSON).write_text(json.dumps(card, indent=2), encoding="utf-8")
            for name in os.listdir(tmp):
                _fsync(tmp / name)
            if path.is_dir():
                os.replace(path, old)  # an empty folder or an earlier model (checked above)
            os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if old.exists() and not path.exists():
                os.replace(old, path)  # put the earlier model back
            raise
        shutil.rmtree(old, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_model_dir(path: Path) -> tuple[dict, bytes]:
    """The card and the ONNX bytes of a model folder, checked: a kd model of a format this kd
    reads, whose model.onnx is the one its card names."""
    path = Path(path)
    if not path.is_dir():
        raise KDError(f"{shown(path)} is not a folder; give the MODEL_DIR kd distill wrote")
    try:
        card = json.loads((path / CARD_JSON).read_text(encoding="utf-8"))
    except OSError:
        raise KDError(
            f"{shown(path)} has no readable {CARD_JSON}; give the MODEL_DIR kd distill wrote"
        ) from None
    except ValueError:
        raise KDError(
            f"{shown(path / CARD_JSON)} is damaged (not JSON); distil the model again"
        ) from None
    if not isinstance(card, dict) or card.get("kind") != KIND:
        raise KDError(f"{shown(path)} holds no kd model; give the MODEL_DIR kd distill wrote")
    if card.get("format") != FORMAT:
        raise KDError(
            f"{shown(path)} is a kd model of format {card.get('format')}; this kd reads "
            f"format {FORMAT}: distil it again with this kd"
        )
    try:
        onnx_bytes = (path / ONNX).read_bytes()
    except OSError:
        raise KDError(f"{shown(path)} lacks {ONNX}; distil the model again") from None
    if sha256(onnx_bytes) != card.get("files", {}).get(ONNX):
        raise KDError(
            f"{shown(path / ONNX)} is not the file its card names (damaged or replaced); "
            "distil the model again"
        )
    return card, onnx_bytes
