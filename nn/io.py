"""Checkpoints: ``save`` and ``load`` as JSON, written atomically, read with validation.

Every file is a JSON object tagged with a ``format``, a ``version`` and a ``sha256``:

* ``save(module, path)`` writes ``{"format": "chainrule.state_dict", "version": 2,
  "module": "MLP", "sha256": ..., "state_dict": {name: float}}``; ``load`` returns it
  without the checksum. Restore a model with
  ``model.load_state_dict(nn.load(path)["state_dict"])``.
* ``save(dict, path)`` writes ``{"format": "chainrule.dict", "version": 2, "sha256": ...,
  "data": dict}``; ``load`` returns the dict. The tag keeps a plain dict apart from a
  checkpoint whose header was damaged: a JSON object without a known ``format`` is refused.
  Modules and optimizers anywhere inside the dict are saved as their ``state_dict()``, so
  one atomic file holds a run that can resume::

      nn.save({"model": model, "optimizer": opt, "step": 5}, path)
      checkpoint = nn.load(path)  # {"model": {name: float}, "optimizer": {...}, "step": 5}
      model.load_state_dict(checkpoint["model"])
      opt.load_state_dict(checkpoint["optimizer"])

  ``model.load_state_dict(checkpoint)`` itself is refused with a message giving that line.

``sha256`` is the SHA-256 of the canonical JSON of every other field
(``json.dumps(..., sort_keys=True, separators=(",", ":"), allow_nan=False)``). It covers
the parsed content, not the layout: reindenting the file, or spelling a number another way
(``1E-05`` for ``1e-05``), keeps it valid and loads the very same numbers; any other change
is refused. Version 1 checkpoints (written before the checksum existed) still load.

``load`` raises ValueError naming the file, and never changes anything, for a file that is
not one of these: over ``max_bytes``, not UTF-8, not JSON, nested more than ``MAX_DEPTH``
levels, holding a non-finite number in any spelling (``NaN``, ``Infinity``, ``1e400``), a
duplicate key, a missing or unknown ``format``, ``version`` or field, a wrong type, or a
wrong checksum.

Writing encodes the text first (so an unsavable object never touches the disk), writes it
to ``.<name>.tmp-<pid>`` beside ``path`` with the permission bits of the file it replaces,
fsyncs it, renames it over ``path`` with ``os.replace`` and fsyncs the folder: a reader sees
the old file or the new one, never half of one. A process killed mid-write leaves its
temporary file; the next ``save`` or ``load`` of the same path removes it once that process
is gone. No pickle: a checkpoint is data, never code.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
import threading
from itertools import accumulate
from typing import Any, Callable, Union

from ._checks import shorten
from .module import Module, _is_finite_number
from .optim import Optimizer

__all__ = ["save", "load", "FORMAT", "DICT_FORMAT", "MAX_BYTES", "MAX_DEPTH"]

FORMAT = "chainrule.state_dict"
DICT_FORMAT = "chainrule.dict"
VERSION = 2
CHECKSUM = "sha256"
#: ``load``'s default size limit. A parameter takes about 55 bytes of JSON, so 100 MB is
#: some 1.8 million parameters, far beyond what a scalar engine trains (the demo's model
#: is 16 kB); loading that much takes about 7 s and 800 MB, so more is refused unless asked.
MAX_BYTES = 100_000_000
#: Deepest nesting of arrays and objects that ``save`` writes and ``load`` reads (a
#: checkpoint has 2 levels); deeper text would exhaust the JSON parser's recursion.
MAX_DEPTH = 100
_MAX_INT_DIGITS = 4300  # Python's own default limit (sys.int_info), on every version

# The fields of each (format, version) that ``load`` reads.
_FIELDS = {
    (FORMAT, 1): {"format", "version", "module", "state_dict"},
    (FORMAT, 2): {"format", "version", "module", CHECKSUM, "state_dict"},
    (DICT_FORMAT, 2): {"format", "version", CHECKSUM, "data"},
}

PathLike = Union[str, "os.PathLike[str]"]

# Saves (and the removal of stale temporary files) are serialised within the process, so
# a temporary file named after this process is never one another thread is writing.
_lock = threading.Lock()


def _new_lock_in_child() -> None:
    # A fork while another thread saves would leave the child a lock nobody releases.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_in_child)


class _Refused(ValueError):
    """Raised by the parser hooks; ``load`` adds the file name."""


# -- encoding --------------------------------------------------------------------------


def _canonical_checksum(fields: dict, dumps: Callable[..., str] = json.dumps) -> str:
    canonical = dumps(fields, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _to_json(obj: Any, **options: Any) -> str:
    """``json.dumps`` without NaN or infinity, its errors in save's words."""
    options["allow_nan"] = False
    try:
        return json.dumps(obj, **options)
    except ValueError as error:  # NaN or infinity: not representable in JSON
        raise ValueError(
            f"save: cannot write a non-finite number to JSON ({error}); "
            "check the model for NaN or infinite parameters"
        ) from None
    except TypeError as error:
        raise TypeError(f"save: obj is not JSON-serialisable ({error})") from None
    except RecursionError:
        raise ValueError(f"save: obj is nested more than {MAX_DEPTH} levels deep") from None


def _plain(obj: Any, depth: int = 0) -> Any:
    """``obj`` with every Module and Optimizer inside dicts and lists replaced by its
    ``state_dict()``, and tuples by lists: the data the file will hold."""
    if depth > MAX_DEPTH:  # also stops a dict that contains itself
        raise ValueError(f"save: obj is nested more than {MAX_DEPTH} levels deep")
    if isinstance(obj, (Module, Optimizer)):
        return obj.state_dict()
    if isinstance(obj, dict):
        return {key: _plain(value, depth + 1) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(value, depth + 1) for value in obj]
    return obj


def _encode(obj: Union[Module, dict]) -> str:
    """The file's text: the tagged payload with its checksum, ready to write."""
    if isinstance(obj, Module):
        fields: dict = {"format": FORMAT, "version": VERSION, "module": type(obj).__name__}
        body = ("state_dict", obj.state_dict())
    elif isinstance(obj, dict):
        fields = {"format": DICT_FORMAT, "version": VERSION}
        body = ("data", _plain(obj))
    else:
        raise TypeError(
            f"save: obj must be a Module or a dict (such as {{'model': model, 'optimizer': "
            f"opt, 'step': 5}}), got {shorten(type(obj).__name__)}"
        )
    content = {**fields, body[0]: body[1]}
    if body[0] == "data":
        # The checksum is taken over what ``load`` will parse (int keys become strings,
        # tuples lists), so that the two agree; a state dict is already in that form.
        content = json.loads(_to_json(content))
    fields[CHECKSUM] = _canonical_checksum(content, _to_json)
    text = _to_json({**fields, body[0]: body[1]}, indent=1) + "\n"
    if _too_deep(text):
        raise ValueError(
            f"save: obj is nested more than {MAX_DEPTH} levels deep; load would refuse it"
        )
    return text


# -- paths and temporary files ----------------------------------------------------------


def _check_path(operation: str, path: PathLike) -> str:
    if isinstance(path, bytes):
        raise TypeError(f"{operation}: path must be a str or os.PathLike[str], got bytes")
    path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"{operation}: path must be a str or os.PathLike[str]")
    if not path:
        raise ValueError(f"{operation}: path is empty; give a file name such as 'model.json'")
    if not os.path.basename(path) or os.path.isdir(path):
        raise ValueError(
            f"{operation}: {_shown(path)} is a folder; give a file path such as "
            f"{_shown(os.path.join(path, 'model.json'))}"
        )
    return path


def _shown(path: str) -> str:
    """``path`` for an error message: its last 80 characters at most (messages stay short)."""
    return path if len(path) <= 80 else "..." + path[-77:]


def _temporary_prefix(path: str) -> str:
    return f".{os.path.basename(path)}.tmp-"


def _is_alive(pid: int) -> bool:
    if os.name != "posix":  # on Windows os.kill(pid, 0) would terminate the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # PermissionError: alive, someone else's
        return True
    return True


def _remove_stale_temporaries(path: str) -> None:
    """Remove the temporary files of ``path`` left by dead processes (and by earlier
    holders of this process's id). Call with ``_lock`` held."""
    folder = os.path.dirname(os.path.abspath(path))
    prefix = _temporary_prefix(path)
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for entry in entries:
        digits = entry[len(prefix) :]
        if not (entry.startswith(prefix) and digits.isascii() and digits.isdigit()):
            continue
        pid = int(digits)
        if pid == os.getpid() or (pid > 0 and not _is_alive(pid)):
            try:
                os.remove(os.path.join(folder, entry))
            except OSError:
                pass


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


def _create_temporary(path: str) -> tuple[int, str]:
    """The new, empty temporary file of ``path``: (descriptor, temporary path).

    It gets the permission bits of the file it will replace, or for a new file mode 0o666
    filtered by the umask, like any other new file (tempfile.mkstemp would make it
    owner-only). Call with ``_lock`` held, after ``_remove_stale_temporaries``.
    """
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, _temporary_prefix(path) + str(os.getpid()))
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(temporary, flags, 0o666)
    if mode is not None:
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            else:
                os.chmod(temporary, mode)
        except BaseException:
            os.close(fd)
            os.remove(temporary)
            raise
    return fd, temporary


def save(obj: Union[Module, dict], path: PathLike) -> None:
    """Write ``obj`` (a Module's state dict with a header, or a dict) to ``path`` as
    checksummed JSON, atomically: ``path`` holds either its old content or the complete
    new one, with its permission bits kept. Modules and optimizers inside a dict are
    written as their state dicts: ``save({"model": model, "optimizer": opt, "step": 5},
    path)`` keeps a resumable run in one file.

    Raises ValueError for an empty path, a folder, a non-finite number or nesting deeper
    than ``MAX_DEPTH``, and TypeError for an object JSON cannot hold, before anything is
    written.
    """
    path = _check_path("save", path)
    text = _encode(obj)
    folder = os.path.dirname(os.path.abspath(path))
    with _lock:
        _remove_stale_temporaries(path)
        fd, temporary = _create_temporary(path)
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


# -- decoding ---------------------------------------------------------------------------

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_NESTING = {"[": 1, "{": 1, "]": -1, "}": -1}


def _too_deep(text: str) -> bool:
    """Whether ``text`` nests arrays and objects more than ``MAX_DEPTH`` levels deep,
    found without recursion (brackets inside strings do not count)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_NESTING.__getitem__, brackets)), default=0) > MAX_DEPTH


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text} is out of range (it would load as {value})")
    return value


def _parse_int(text: str) -> int:
    if len(text) > _MAX_INT_DIGITS:
        raise _Refused(f"an integer has {len(text)} digits, more than {_MAX_INT_DIGITS}")
    return int(text)


def _parse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a finite number (and not valid JSON)")


def _unique_keys(pairs: list) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise _Refused(f"the key {shorten(repr(duplicate))} appears twice in one object")
    return obj


def _few(names: list[str]) -> str:
    """The first three of ``names``, each cut short, as a list, and how many more."""
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return f"{[shorten(name, 24) for name in names[:3]]}{more}" if names else ""


def _check_fields(data: Any, shown: str) -> dict:
    """What ``load`` returns for the parsed file ``data``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError(f"load: {shown} holds a JSON {type(data).__name__}, expected an object")
    if "format" not in data:
        raise ValueError(
            f'load: {shown} has no "format" field, so it is not a file written by nn.save '
            "(a plain dict saved before version 2 had none: read such a file with json.load)"
        )
    kind, version = data["format"], data.get("version")
    if kind not in (FORMAT, DICT_FORMAT):
        raise ValueError(
            f"load: {shown} has format {shorten(repr(kind))}; nn.load reads {FORMAT!r} and "
            f"{DICT_FORMAT!r}"
        )
    fields = _FIELDS.get((kind, version)) if type(version) is int else None
    if fields is None:
        known = sorted(v for k, v in _FIELDS if k == kind)
        given = "no version" if version is None else f"version {shorten(repr(version))}"
        raise ValueError(
            f"load: {shown} is a {kind} file with {given}; this chainrule reads "
            f"version {' and '.join(map(str, known))} (a newer chainrule may have written it)"
        )
    if set(data) != fields:
        raise ValueError(
            f"load: {shown} ({kind}, version {version}) has the wrong fields: "
            f"missing {sorted(fields - set(data)) or 'none'}, "
            f"unexpected {_few(sorted(map(str, set(data) - fields))) or 'none'}"
        )
    if CHECKSUM in fields:
        recorded = data.pop(CHECKSUM)
        if recorded != _canonical_checksum(data):
            raise ValueError(
                f"load: {shown} fails its checksum: the file is damaged (or was edited); "
                "save the checkpoint again or use a backup"
            )
    if kind == DICT_FORMAT:
        if not isinstance(data["data"], dict):
            raise ValueError(
                f"load: {shown}: data must be an object, got {shorten(repr(data['data']))}"
            )
        return data["data"]
    if not isinstance(data["module"], str):
        raise ValueError(
            f"load: {shown}: module must be a string, got {shorten(repr(data['module']))}"
        )
    state = data["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"load: {shown} is a chainrule checkpoint without a state_dict")
    for name, value in state.items():
        if not _is_finite_number(value):
            raise ValueError(
                f"load: {shown}: state_dict entry {shorten(repr(name))} must be a number, "
                f"got {shorten(repr(value))}"
            )
    return data


def load(path: PathLike, max_bytes: int = MAX_BYTES) -> dict:
    """Read a file written by ``save``: a checkpoint (with ``state_dict``) or a plain dict.

    Raises ValueError naming the file when it is not one this version reads (see the
    module docstring), larger than ``max_bytes`` (pass a larger value to read it), empty
    or a folder; FileNotFoundError when it is missing. Removes temporary files of
    ``path`` left by dead processes.
    """
    path = _check_path("load", path)
    shown = _shown(path)
    if type(max_bytes) is not int or max_bytes < 1:
        raise ValueError(f"load: max_bytes must be a positive int, got {shorten(repr(max_bytes))}")
    with _lock:
        _remove_stale_temporaries(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        raw = f.read(max_bytes + 1) if size <= max_bytes else b""
    if size > max_bytes or len(raw) > max_bytes:
        raise ValueError(
            f"load: {shown} is {max(size, len(raw)):,} bytes, over the limit of "
            f"max_bytes={max_bytes:,}; if you trust it, call nn.load(path, max_bytes=...) "
            "with a larger limit"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"load: {shown} is not a UTF-8 text file ({error})") from None
    if _too_deep(text):
        raise ValueError(f"load: {shown} is nested more than {MAX_DEPTH} levels deep")
    try:
        data = json.loads(
            text,
            parse_float=_parse_float,
            parse_int=_parse_int,
            parse_constant=_parse_constant,
            object_pairs_hook=_unique_keys,
        )
    except _Refused as error:
        raise ValueError(f"load: {shown}: {error}") from None
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise ValueError(
            f"load: {shown} is not valid JSON ({error}); the file may be truncated or "
            "corrupt; save the checkpoint again"
        ) from None
    except (RecursionError, MemoryError) as error:
        raise ValueError(f"load: {shown} could not be parsed ({type(error).__name__})") from None
    return _check_fields(data, shown)
