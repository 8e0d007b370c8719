"""Checkpoints: ``save`` and ``load`` as JSON, written atomically, read with validation.

``save(model, path)`` writes ``{"format": "chainrule.state_dict", "version": 1,
"module": "MLP", "state_dict": {name: float}}``; ``save(dict, path)`` writes any plain
JSON-able dict as it is. The text is encoded first (so an unsavable object never touches
the disk), written to a temporary file in the destination folder, flushed and fsynced,
then renamed over ``path`` with ``os.replace``: a reader sees the old file or the new
one, never half of one. No pickle: a checkpoint is data, never code.

Restore a model with ``model.load_state_dict(nn.load(path)["state_dict"])``.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any, Union

from .module import Module

__all__ = ["save", "load", "FORMAT"]

FORMAT = "chainrule.state_dict"
VERSION = 1

PathLike = Union[str, "os.PathLike[str]"]


def _payload(obj: Union[Module, dict]) -> dict:
    if isinstance(obj, Module):
        return {
            "format": FORMAT,
            "version": VERSION,
            "module": type(obj).__name__,
            "state_dict": obj.state_dict(),
        }
    if isinstance(obj, dict):
        return obj
    raise TypeError(f"save: obj must be a Module or a dict, got {type(obj).__name__}")


def _encode(payload: dict) -> str:
    try:
        return json.dumps(payload, indent=1, allow_nan=False) + "\n"
    except ValueError as error:  # NaN or infinity: not representable in JSON
        raise ValueError(
            f"save: cannot write a non-finite number to JSON ({error}); "
            "check the model for NaN or infinite parameters"
        ) from None
    except TypeError as error:
        raise TypeError(f"save: obj is not JSON-serialisable ({error})") from None


def _fsync_directory(folder: str) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) everywhere.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _create_temporary(folder: str, name: str) -> tuple[int, str]:
    """A new, empty, uniquely named file beside the destination: (descriptor, path).

    Made with mode 0o666 filtered by the umask, so the finished checkpoint gets the
    permissions of any other new file (tempfile.mkstemp would make it owner-only).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue
    raise FileExistsError(f"save: could not create a temporary file in {folder}")


def save(obj: Union[Module, dict], path: PathLike) -> None:
    """Write ``obj`` (a Module's state dict with a header, or a plain dict) to ``path``
    as JSON, atomically: ``path`` holds either its old content or the complete new one."""
    text = _encode(_payload(obj))
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = _create_temporary(folder, os.path.basename(path))
    try:
        with open(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise
    _fsync_directory(folder)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _check_checkpoint(data: dict, path: str) -> None:
    """A dict claiming to be a module checkpoint must carry a usable state dict."""
    if data.get("format") != FORMAT:
        return
    state = data.get("state_dict")
    if not isinstance(state, dict):
        raise ValueError(f"load: {path} is a chainrule checkpoint without a state_dict")
    for name, value in state.items():
        if type(value) not in (int, float):
            raise ValueError(
                f"load: {path}: state_dict entry {name!r} must be a number, got {value!r}"
            )


def load(path: PathLike) -> dict:
    """Read a JSON dict written by ``save``.

    Raises ValueError naming the file when it is truncated, not JSON, not a dict, or a
    checkpoint whose state dict is malformed; FileNotFoundError when it is missing.
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f, parse_constant=_reject_constant)
    except UnicodeDecodeError as error:
        raise ValueError(f"load: {path} is not a UTF-8 text file ({error})") from None
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise ValueError(
            f"load: {path} is not valid JSON ({error}); the file may be truncated or "
            "corrupt; save the checkpoint again"
        ) from None
    if not isinstance(data, dict):
        raise ValueError(f"load: {path} holds a JSON {type(data).__name__}, expected an object")
    _check_checkpoint(data, path)
    return data
