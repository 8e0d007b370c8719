"""Grad mode: whether operations record the graph, per thread.

This is chainrule's only global state, and it is thread-local: turning recording
off in one thread never affects another.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _GradMode(threading.local):
    # The class attribute is every new thread's starting value.
    enabled = True


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when operations in this thread record the graph (the default)."""
    return _mode.enabled


class _SetGradEnabled:
    """Context manager and decorator that sets grad mode and restores it after."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._previous: list[bool] = []  # a stack, so one instance can be re-entered

    def __enter__(self) -> None:
        self._previous.append(_mode.enabled)
        _mode.enabled = self._enabled

    def __exit__(self, *exc_info: object) -> None:
        _mode.enabled = self._previous.pop()

    def __call__(self, function: F) -> F:
        enabled = self._enabled

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _SetGradEnabled(enabled):
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def no_grad() -> _SetGradEnabled:
    """Stop recording in this thread: results are leaves, as if made by ``Value(x)``.

    Use as ``with no_grad(): ...`` or as a decorator ``@no_grad()``.
    """
    return _SetGradEnabled(False)


def enable_grad() -> _SetGradEnabled:
    """Record again inside a ``no_grad`` block (context manager or decorator)."""
    return _SetGradEnabled(True)
