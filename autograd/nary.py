"""N-ary nodes: ``sum`` and ``dot`` as one node each instead of a chain of binary ones.

A neuron's pre-activation w.x + b over n inputs is one ``dot`` node with one rule
instead of 2n nodes, which is where most of chainrule's speed comes from. Numbers may
stand among the operands; only Values become parents (in call order, duplicates kept).
"""

from __future__ import annotations

import builtins
from operator import mul
from typing import Iterable, Optional, Sequence

from .value import Op, Operand, Value, _constant, _node

__all__ = ["sum", "dot"]


def _number(x: object, where: str) -> float:
    c = _constant(x)
    if c is None:
        raise TypeError(f"{where} must be a Value or a number, got {type(x).__name__}: {x!r}")
    return c


# -- sum ------------------------------------------------------------------------------------


def sum(values: Iterable[Operand]) -> Value:  # noqa: A001 (autograd.sum, by design)
    """v1 + v2 + ... + vn as one node.   d/dvi = 1 for every Value operand.

    Numbers among the values are added into the result; with no Values at all the
    result is a leaf holding their total (0.0 for an empty iterable).
    """
    parents = []
    constant = 0.0
    for i, v in enumerate(values):
        if type(v) is Value:
            parents.append(v)
        else:
            constant += _number(v, f"sum: item {i}")
    if not parents:
        return Value(constant)
    data = builtins.sum([p.data for p in parents])
    if constant:
        return _node(data + constant, tuple(parents), SUM_CONSTANT, constant)
    return _node(data, tuple(parents), SUM)


def _sum_backward(node: Value) -> None:
    g = node.grad
    for p in node._parents:
        p.grad += g


def _sum_vjp(node: Value, g: Value) -> tuple:
    return (g,) * len(node._parents)


SUM = Op("sum", _sum_backward, _sum_vjp)
SUM_CONSTANT = Op("sum", _sum_backward, _sum_vjp, "sum + {}")


# -- dot ------------------------------------------------------------------------------------


def _all_values(seq: Sequence[object]) -> Optional[bool]:
    """True if every item is a Value, False if none is, None when they are mixed."""
    kinds = set(map(type, seq))
    if Value not in kinds:
        return False
    return True if len(kinds) == 1 else None


def dot(
    ws: Sequence[Operand], xs: Sequence[Operand], bias: Optional[Operand] = None
) -> Value:
    """sum_i ws[i] * xs[i] (+ bias) as one node.

    d/dws[i] = xs[i],  d/dxs[i] = ws[i],  d/dbias = 1.
    Either side may hold numbers (a layer's float inputs, say); only Values get gradients.
    """
    n = len(ws)
    if len(xs) != n:
        raise ValueError(f"dot: ws has {n} entries but xs has {len(xs)}; they must match")
    if bias is None or type(bias) is Value:
        offset = 0.0
    else:
        offset = _number(bias, "dot: bias")
    bias_parent = (bias,) if type(bias) is Value else ()
    w_values = _all_values(ws)
    x_values = _all_values(xs)

    if w_values and x_values:
        # The hidden-layer case: every operand is a Value.
        data = builtins.sum(map(mul, [w.data for w in ws], [x.data for x in xs]))
        parents = (*ws, *xs, *bias_parent)
        op, saved = DOT, n
    elif w_values is False and x_values is False:
        data = builtins.sum(
            _number(w, f"dot: ws[{i}]") * _number(x, f"dot: xs[{i}]")
            for i, (w, x) in enumerate(zip(ws, xs))
        )
        if not bias_parent:
            return Value(data + offset)  # nothing to differentiate: a constant
        parents, op, saved = bias_parent, SUM, None
    elif w_values is not None and x_values is not None:
        # One side all Values, the other all numbers (a first layer's inputs).
        values, numbers = (ws, xs) if w_values else (xs, ws)
        side = "xs" if w_values else "ws"
        saved = tuple(_number(c, f"dot: {side}[{i}]") for i, c in enumerate(numbers))
        data = builtins.sum(map(mul, [v.data for v in values], saved))
        parents = (*values, *bias_parent)
        op = DOT_NUMBERS
    else:
        ws = [w if type(w) is Value else _number(w, f"dot: ws[{i}]") for i, w in enumerate(ws)]
        xs = [x if type(x) is Value else _number(x, f"dot: xs[{i}]") for i, x in enumerate(xs)]
        data = builtins.sum(
            (w.data if type(w) is Value else w) * (x.data if type(x) is Value else x)
            for w, x in zip(ws, xs)
        )
        values = [w for w in ws if type(w) is Value] + [x for x in xs if type(x) is Value]
        parents = (*values, *bias_parent)
        op, saved = DOT_MIXED, (tuple(ws), tuple(xs), bool(bias_parent))
    if bias_parent:
        data += bias.data  # type: ignore[union-attr]
    return _node(data + offset, parents, op, saved)


def _dot_backward(node: Value) -> None:
    # parents = (w_1..w_n, x_1..x_n[, bias]); _saved = n
    g = node.grad
    parents = node._parents
    n = node._saved
    for w, x in zip(parents[:n], parents[n : 2 * n]):
        w.grad += g * x.data
        x.grad += g * w.data
    if len(parents) > 2 * n:
        parents[-1].grad += g


def _dot_vjp(node: Value, g: Value) -> tuple:
    parents = node._parents
    n = node._saved
    ws, xs = parents[:n], parents[n : 2 * n]
    shares = [g * x for x in xs] + [g * w for w in ws]
    return (*shares, *[g] * (len(parents) - 2 * n))


def _dot_numbers_backward(node: Value) -> None:
    # parents = (v_1..v_n[, bias]); _saved = the n numbers they multiply
    g = node.grad
    parents = node._parents
    numbers = node._saved
    for v, c in zip(parents, numbers):
        v.grad += g * c
    if len(parents) > len(numbers):
        parents[-1].grad += g


def _dot_numbers_vjp(node: Value, g: Value) -> tuple:
    numbers = node._saved
    shares = [g * c for c in numbers]
    return (*shares, *[g] * (len(node._parents) - len(numbers)))


def _dot_mixed_backward(node: Value) -> None:
    g = node.grad
    ws, xs, has_bias = node._saved
    for w, x in zip(ws, xs):
        w_is_value = type(w) is Value
        x_is_value = type(x) is Value
        if w_is_value:
            w.grad += g * (x.data if x_is_value else x)
        if x_is_value:
            x.grad += g * (w.data if w_is_value else w)
    if has_bias:
        node._parents[-1].grad += g


def _dot_mixed_vjp(node: Value, g: Value) -> tuple:
    ws, xs, has_bias = node._saved
    w_shares = [g * x for w, x in zip(ws, xs) if type(w) is Value]
    x_shares = [g * w for w, x in zip(ws, xs) if type(x) is Value]
    return (*w_shares, *x_shares, *[g] * has_bias)


DOT = Op("dot", _dot_backward, _dot_vjp)
DOT_NUMBERS = Op("dot", _dot_numbers_backward, _dot_numbers_vjp)
DOT_MIXED = Op("dot", _dot_mixed_backward, _dot_mixed_vjp)
