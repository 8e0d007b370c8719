"""Argument checks and message helpers shared by ``nn``'s modules, each with its one wording.

The checks run when a module is built, never per call, so they may cost a function call.
The helpers keep error messages short (under 300 characters) whatever the user passed:
a mismatch over hundreds of names says how many, and shows the first few.
"""

from __future__ import annotations

from typing import Collection, Iterable, TypeVar

__all__ = ["check_size", "check_choice", "shorten", "first_names", "mismatched_keys"]

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


def shorten(text: str, width: int = 40) -> str:
    """``text`` itself if it has at most ``width`` characters, else its start and "..."."""
    return text if len(text) <= width else text[: width - 3] + "..."


def first_names(names: Iterable[object], shown: int = 3, width: int = 24) -> str:
    """How many ``names`` there are and the first ``shown`` of them, each cut to ``width``:
    ``"337 (layers.0.neurons.0.w.0, layers.0.neurons.0.w.1, layers.0.neurons.0.b, and
    334 more)"``, or ``"none"``."""
    names = [name if isinstance(name, str) else repr(name) for name in names]
    if not names:
        return "none"
    listed = ", ".join(shorten(name, width) for name in names[:shown])
    rest = len(names) - shown
    return f"{len(names)} ({listed}{f', and {rest} more' if rest > 0 else ''})"


def mismatched_keys(given: Iterable[object], expected: list) -> tuple[list, list]:
    """(the ``expected`` keys not in ``given``, the ``given`` keys not expected), in order."""
    given = list(given)
    given_set, expected_set = set(given), set(expected)
    missing = [key for key in expected if key not in given_set]
    return missing, [key for key in given if key not in expected_set]

