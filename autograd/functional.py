"""Gradients as return values, and derivatives of derivatives.

``grad(output, inputs)`` returns d(output)/d(input) for each input without touching any
``.grad``. With ``create_graph=True`` the results are Values whose own graph can be
differentiated again: the backward sweep is run with every rule's Value form
(``Op.value_rule``), so each step of the chain rule becomes ordinary graph nodes.

On top of it, a thin functional layer for functions of plain floats (in the spirit of
HIPS/autograd and JAX): ``value_and_grad``, ``grad_of``, ``jacobian``, ``hessian`` and
``hvp``, the Hessian-vector product computed by double backward,

    H v = d/dx (grad f(x) . v),

so the n x n Hessian is never built (Pearlmutter 1994, "Fast exact multiplication by
the Hessian").
"""

from __future__ import annotations

from typing import Callable, Sequence

from . import nary
from .engine import gradients, topological_order
from .grad_mode import enable_grad
from .ops import LEAF
from .value import Value

Floats = Sequence[float]
Function = Callable[..., Value]


def grad(
    output: Value, inputs: Sequence[Value], create_graph: bool = False
) -> list:
    """d(output)/d(input) for each input, as a list in the inputs' order.

    An input the output does not depend on gets 0.0. No ``.grad`` anywhere changes.
    With ``create_graph=False`` the entries are floats (one ordinary backward sweep);
    with ``create_graph=True`` they are Values that can be differentiated again, to any
    order.
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"grad: inputs[{i}] must be a Value, got {type(x).__name__}")
    if create_graph:
        return _grad_as_values(output, inputs)
    return gradients(output, inputs)


def _grad_as_values(output: Value, inputs: Sequence[Value]) -> list[Value]:
    order = topological_order(output)
    # Only nodes with a path to some input need their gradient (pruning the rest keeps
    # the new graph small): in topological order, a node leads to an input if it is one
    # or one of its parents does.
    wanted = set(inputs)
    leads_to_input = set()
    for node in order:
        if node in wanted or any(p in leads_to_input for p in node.parents):
            leads_to_input.add(node)

    grads: dict = {output: Value(1.0)}
    with enable_grad():
        for node in reversed(order):
            g = grads.get(node)
            if g is None or node._op is LEAF or node not in leads_to_input:
                continue
            shares = node._op.value_rule(node, g)
            for parent, share in zip(node.parents, shares):
                if parent in leads_to_input:
                    previous = grads.get(parent)
                    grads[parent] = share if previous is None else previous + share
    zero = Value(0.0)
    return [grads[x] if x in grads else zero for x in inputs]


def _leaves(xs: Floats, where: str) -> list[Value]:
    if len(xs) == 0:
        raise ValueError(f"{where}: needs at least one input")
    return [Value(x.data if isinstance(x, Value) else x) for x in xs]


def _call(f: Function, leaves: list[Value], where: str) -> Value:
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"{where}: f must return a Value, got {type(out).__name__}")
    return out


def value_and_grad(f: Function) -> Callable[..., tuple[float, list[float]]]:
    """Turn ``f(*Values) -> Value`` into ``g(*floats) -> (f value, [df/dx_i])``."""

    def value_and_gradient(*xs: float) -> tuple[float, list[float]]:
        leaves = _leaves(xs, "value_and_grad")
        out = _call(f, leaves, "value_and_grad")
        return out.data, grad(out, leaves)

    return value_and_gradient


def grad_of(f: Function) -> Callable[..., list[float]]:
    """Turn ``f(*Values) -> Value`` into ``g(*floats) -> [df/dx_i]``."""
    both = value_and_grad(f)
    return lambda *xs: both(*xs)[1]


def jacobian(f: Callable[..., Sequence[Value]], xs: Floats) -> list[list[float]]:
    """J[i][j] = d f_i / d x_j for ``f(*Values) -> list of Values`` at the point ``xs``."""
    leaves = _leaves(xs, "jacobian")
    outputs = f(*leaves)
    if isinstance(outputs, Value):
        outputs = [outputs]
    return [grad(out, leaves) for out in outputs]


def hessian(f: Function, xs: Floats) -> list[list[float]]:
    """H[i][j] = d^2 f / dx_i dx_j at ``xs``: one double-backward row per input."""
    leaves = _leaves(xs, "hessian")
    gradient = grad(_call(f, leaves, "hessian"), leaves, create_graph=True)
    return [grad(g_i, leaves) for g_i in gradient]


def hvp(f: Function, xs: Floats, v: Floats) -> list[float]:
    """The Hessian of ``f`` at ``xs`` times the vector ``v``, by double backward.

    One backward builds grad f as Values, a single ``dot`` node forms grad f . v, and a
    second backward differentiates that: two sweeps, whatever the number of inputs.
    """
    leaves = _leaves(xs, "hvp")
    if len(v) != len(leaves):
        raise ValueError(f"hvp: v has {len(v)} entries but there are {len(leaves)} inputs")
    gradient = grad(_call(f, leaves, "hvp"), leaves, create_graph=True)
    directional = nary.dot(gradient, [float(c) for c in v])
    return grad(directional, leaves)

