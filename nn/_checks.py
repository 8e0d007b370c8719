"""Constructor argument checks shared by ``nn``'s modules, each with its one error message.

They run when a module is built, never per call, so they may cost a function call.
"""

from __future__ import annotations

from typing import Collection, TypeVar

__all__ = ["check_size", "check_choice"]

T = TypeVar("T")


def check_size(what: str, n: object) -> int:
    """``n`` if it is a positive int (bool excluded), else ValueError naming ``what``."""
    if type(n) is not int or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return n


def check_choice(what: str, name: T, choices: Collection[object]) -> T:
    """``name`` if it is one of ``choices``, else ValueError listing them in order."""
    if name not in choices:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, choices))}, got {name!r}")
    return name
