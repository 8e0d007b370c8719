"""Grad mode: whether operations record the graph, per thread (and anomaly mode).

Grad mode is thread-local: turning recording off in one thread never affects another.
This module owns all of the recording state: nothing else writes it. Two switches,

* ``enabled`` (``no_grad`` / ``enable_grad``): record the graph or make leaves;
* ``anomaly`` (``autograd.detect_anomaly``): remember where each node was created and
  check every gradient during backward;

and the process-wide ``slow_path`` counter that tells node creation when to look at them.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Callable, Generator, Optional, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _GradMode(threading.local):
    # Class attributes are every new thread's starting values.
    enabled = True
    anomaly = False
    creation_sites: Optional[dict] = None  # node -> where it was made, in anomaly mode


_mode = _GradMode()


class SlowPathRequests:
    """Why node creation must take its slow path right now, counted across all threads.

    One request for each open ``no_grad`` or ``detect_anomaly`` block, and one while
    the garbage-collector hook of ``gc_policy`` is out (the first node recorded puts it
    back). While ``count`` is 0 (nearly always) every thread records plainly, so
    building a node needs no thread-local lookup, which would cost about as much as the
    node itself. Only this module writes ``count``, under ``lock``.
    """

    __slots__ = ("count", "lock")

    def __init__(self) -> None:
        self.count = 1  # the gc hook starts out
        self.lock = threading.Lock()


slow_path = SlowPathRequests()


def request_slow_path(delta: int) -> None:
    """Add ``delta`` requests (+1 when a block opens, -1 when it closes)."""
    with slow_path.lock:
        slow_path.count += delta


def request_slow_path_locked(delta: int) -> None:
    """``request_slow_path`` for a caller that already holds ``slow_path.lock``."""
    slow_path.count += delta


def enter_anomaly_mode() -> tuple:
    """Turn anomaly mode on in this thread; returns what ``exit_anomaly_mode`` restores."""
    request_slow_path(+1)
    previous = (_mode.anomaly, _mode.creation_sites)
    if not _mode.anomaly:
        _mode.creation_sites = {}
    _mode.anomaly = True
    return previous


def exit_anomaly_mode(previous: tuple) -> None:
    _mode.anomaly, _mode.creation_sites = previous
    request_slow_path(-1)


def note_creation_site(node: object, site: str) -> None:
    """Remember where ``node`` was made (anomaly mode only)."""
    _mode.creation_sites[node] = site  # type: ignore[index]


def creation_site(node: object) -> Optional[str]:
    """Where ``node`` was made, if it was made in this thread's anomaly mode."""
    sites = _mode.creation_sites
    return sites.get(node) if sites else None


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` in this thread."""
    return _mode.anomaly


def is_grad_enabled() -> bool:
    """True when operations in this thread record the graph (the default)."""
    return not slow_path.count or _mode.enabled


class _SetGradEnabled:
    """Context manager and decorator that sets grad mode and restores it after."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._previous: list[bool] = []  # a stack, so one instance can be re-entered

    def __enter__(self) -> None:
        if not self._enabled:
            request_slow_path(+1)
        self._previous.append(_mode.enabled)
        _mode.enabled = self._enabled

    def __exit__(self, *exc_info: object) -> None:
        _mode.enabled = self._previous.pop()
        if not self._enabled:
            request_slow_path(-1)

    def __call__(self, function: F) -> F:
        enabled = self._enabled
        if inspect.isgeneratorfunction(function):
            return _generator_in_mode(function, enabled)  # type: ignore[return-value]

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _SetGradEnabled(enabled):
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _generator_in_mode(function: Callable[..., Generator], enabled: bool) -> Callable:
    """A generator function whose body runs in the given grad mode every time it resumes,
    while the code that drives it keeps its own mode between one item and the next."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Generator:
        with _SetGradEnabled(enabled):
            generator = function(*args, **kwargs)
        resume: Callable[[], Any] = functools.partial(generator.send, None)
        while True:
            try:
                with _SetGradEnabled(enabled):
                    item = resume()
            except StopIteration as stop:
                return stop.value
            try:
                sent = yield item
            except GeneratorExit:
                with _SetGradEnabled(enabled):
                    generator.close()
                raise
            except BaseException as error:  # thrown in by the caller: pass it on
                resume = functools.partial(generator.throw, error)
            else:
                resume = functools.partial(generator.send, sent)

    return wrapper


def no_grad(function: Optional[F] = None) -> Any:
    """Stop recording in this thread: results are leaves, as if made by ``Value(x)``.

    Use as ``with no_grad(): ...`` or as a decorator, ``@no_grad()`` or ``@no_grad``. A
    decorated generator function runs its body without recording each time it resumes.
    """
    switch = _SetGradEnabled(False)
    return switch if function is None else switch(function)


def enable_grad() -> _SetGradEnabled:
    """Record again inside a ``no_grad`` block (context manager or decorator)."""
    return _SetGradEnabled(True)
