"""Check analytic gradients against central finite differences.

    df/dx_i ~= (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)      error O(eps**2)

``gradcheck`` uses PyTorch's defaults and, on failure, reports every input in one
message, so a wrong rule shows which partial derivative is off and by how much.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence, Union

from .grad_mode import enable_grad, no_grad
from .value import Value

Function = Callable[..., Value]


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when analytic and numerical gradients disagree."""


def _leaves(inputs: Sequence[Union[Value, float]]) -> list[Value]:
    # Fresh leaves: the caller's Values and their .grad are never touched.
    return [Value(x.data if isinstance(x, Value) else x) for x in inputs]


def _evaluate(f: Function, points: Sequence[float]) -> float:
    with no_grad():
        out = f(*[Value(x) for x in points])
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    return out.data


def numerical_grad(
    f: Function, inputs: Sequence[Union[Value, float]], eps: float = 1e-6
) -> list[float]:
    """Central-difference estimate of df/dx_i for every input."""
    point = [x.data if isinstance(x, Value) else float(x) for x in inputs]
    estimates = []
    for i, x in enumerate(point):
        point[i] = x + eps
        plus = _evaluate(f, point)
        point[i] = x - eps
        minus = _evaluate(f, point)
        point[i] = x
        estimates.append((plus - minus) / (2.0 * eps))
    return estimates


def analytic_grad(f: Function, inputs: Sequence[Union[Value, float]]) -> list[float]:
    """df/dx_i from ``backward()``, computed on fresh copies of the inputs."""
    leaves = _leaves(inputs)
    with enable_grad():  # even when called inside no_grad: we need the graph
        out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    out.backward()
    return [leaf.grad for leaf in leaves]


def _close(analytic: float, numeric: float, atol: float, rtol: float) -> bool:
    if math.isinf(analytic) or math.isinf(numeric):
        return analytic == numeric
    return abs(analytic - numeric) <= atol + rtol * abs(numeric)


def gradcheck(
    f: Function,
    inputs: Sequence[Union[Value, float]],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare ``backward()``'s gradients of ``f(*inputs)`` with central differences.

    ``f`` takes one Value per input and returns a Value. Returns True when every
    |analytic - numeric| <= atol + rtol * |numeric|; otherwise raises GradcheckError
    listing every input with its analytic and numeric gradient and their difference.
    """
    if not inputs:
        raise ValueError("gradcheck: needs at least one input")
    analytic = analytic_grad(f, inputs)
    numeric = numerical_grad(f, inputs, eps)
    rows = []
    failed = False
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        ok = _close(a, n, atol, rtol)
        failed |= not ok
        name = inputs[i].label if isinstance(inputs[i], Value) and inputs[i].label else ""
        rows.append(
            f"  input {i}{' (' + name + ')' if name else ''}: analytic {a!r}, "
            f"numeric {n!r}, difference {a - n!r}{'' if ok else '  <-- mismatch'}"
        )
    if failed:
        raise GradcheckError(
            f"gradcheck failed (eps={eps}, atol={atol}, rtol={rtol}):\n" + "\n".join(rows)
        )
    return True
