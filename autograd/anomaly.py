"""Anomaly mode: find the operation whose backward rule first made a NaN or infinity.

Inside ``with autograd.detect_anomaly():`` every node remembers the line of user code
that created it and is checked as it is made (an operation that turns finite operands
into a NaN or infinity raises at once), and ``backward()`` checks each gradient as it is
produced, raising ``AnomalyError`` at the first non-finite one with the operation, the
values involved and that line. Outside the block none of this costs anything: the
engine's ordinary sweep has no checks in it (see engine.py) and node creation takes its
fast path.
"""

from __future__ import annotations

import math
import os
import sys
from typing import TYPE_CHECKING, Sequence

from . import grad_mode

if TYPE_CHECKING:  # pragma: no cover
    from .value import Value

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class AnomalyError(FloatingPointError):
    """Raised in anomaly mode when backward produces a NaN or infinite gradient."""


class detect_anomaly:  # noqa: N801 (a context manager, named like PyTorch's)
    """Context manager: check every gradient in backward() and report where it went bad.

    >>> import autograd
    >>> x = autograd.Value(float("inf"))
    >>> with autograd.detect_anomaly():
    ...     y = (x * 0.0).exp()
    ...     y.backward()
    Traceback (most recent call last):
      ...
    autograd.anomaly.AnomalyError: ...
    """

    def __init__(self) -> None:
        self._previous: list[tuple] = []  # a stack, so one instance can be re-entered

    def __enter__(self) -> "detect_anomaly":
        self._previous.append(grad_mode.enter_anomaly_mode())
        return self

    def __exit__(self, *exc_info: object) -> None:
        grad_mode.exit_anomaly_mode(self._previous.pop())


def _user_code_site() -> str:
    """'file:line in function' of the innermost caller outside the autograd package."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:  # pragma: no cover (only autograd itself on the stack)
        return "an unknown place"
    code = frame.f_code
    return f"{code.co_filename}:{frame.f_lineno} in {code.co_name}"


def remember_creation(node: "Value") -> None:
    """Note where ``node`` was made (anomaly mode only; called by node creation)."""
    grad_mode.note_creation_site(node, _user_code_site())


def check_forward(node: "Value") -> None:
    """Raise AnomalyError if ``node``'s op just made a NaN or infinity from finite
    operands (anomaly mode only; called by node creation). Non-finite inputs are the
    program's own and are not blamed on the op that receives them."""
    data = node.data
    if data - data == 0.0:  # finite: the common case, one subtraction
        return
    operands = [parent.data for parent in node.parents]
    saved = node._saved
    if isinstance(saved, float):
        operands.append(saved)
    if all(map(math.isfinite, operands)):
        where = grad_mode.creation_site(node)
        created = f" at {where}" if where else ""
        shown = ", ".join(map(repr, operands))
        raise AnomalyError(
            f"detect_anomaly: the forward of {node.op!r} made {data!r} from finite "
            f"operands ({shown}){created}"
        )


def _describe(node: "Value") -> str:
    label = f" {node.label!r}" if node.label else ""
    return f"{node.op or 'leaf'!r}{label} (data={node.data!r}, grad={node.grad!r})"


def check_rule(node: "Value", grads_before: Sequence[float]) -> None:
    """Raise AnomalyError if ``node``'s rule just turned a parent's gradient non-finite."""
    for i, (parent, before) in enumerate(zip(node.parents, grads_before)):
        after = parent.grad
        if not math.isfinite(after) and math.isfinite(before):
            where = grad_mode.creation_site(node)
            created = f"; it was created at {where}" if where else ""
            raise AnomalyError(
                f"detect_anomaly: the backward rule of {_describe(node)} made the "
                f"gradient of its operand {i}, {_describe(parent)}, {after!r}{created}"
            )
