"""N-ary nodes: ``sum`` and ``dot`` as one node each instead of a chain of binary ones.

A neuron's pre-activation w.x + b over n inputs is one ``dot`` node with one rule
instead of 2n nodes, which is where most of chainrule's speed comes from. Numbers may
stand among the operands; only Values become parents (in call order, duplicates kept).
"""

from __future__ import annotations

import builtins
import math
from operator import mul
from typing import Iterable, Optional, Sequence

from .ops import Code, Example, Op, register
from .value import Operand, Value, _constant, _float_exp, _node

__all__ = ["sum", "dot", "matvec", "logsumexp"]


# How compiled code adds n floats exactly as builtins.sum does: left to right from 0 (as
# CPython 3.11 and earlier do), or, where sum() compensates its rounding (3.12 and
# later), by calling sum() itself on the same floats in the same order.
_SUM_IS_SEQUENTIAL = builtins.sum([1.0, 1e100, 1.0, -1e100]) == 0.0
_SUM_HELPERS = {"_sum": builtins.sum}


def _sum_code(terms: Sequence[str]) -> str:
    """Python source for builtins.sum over ``terms`` (expressions), bit for bit.

    Up to 64 terms as a chain of additions (no call); more as a call on a tuple, since
    CPython's compiler recurses once per operator of a chain.
    """
    if not terms:
        return "0"
    if _SUM_IS_SEQUENTIAL and len(terms) <= 64:
        return "0.0 + " + " + ".join(terms)
    return f"_sum(({', '.join(terms)},))"


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
    data = builtins.sum([p._data for p in parents])
    if constant:
        return _node(data + constant, tuple(parents), SUM_CONSTANT, constant)
    return _node(data, tuple(parents), SUM)


def _sum_float_rule(node: Value) -> None:
    g = node._grad
    for p in node._parents:
        p._grad += g


def _sum_value_rule(node: Value, g: Value) -> tuple:
    return (g,) * len(node._parents)


def _sum_forward_code(node: Value, names: list, const: object) -> str:
    total = _sum_code(names)
    return total if node._op is SUM else f"{total} + {const(node._saved)}"


def _sum_backward_code(node: Value, g: str, out: str, names: list, const: object) -> list:
    return [(i, "+", g) for i in range(len(names))]


SUM_CODE = Code(
    _sum_forward_code, _sum_backward_code, helpers=_SUM_HELPERS, reads_out=False,
    reads_parents=False,
)
SUM = register(Op("sum", _sum_float_rule, _sum_value_rule, examples=(
    Example(lambda a, b, c: sum([a, b, c]), 3),
    Example(lambda a: sum([a]), 1, edges=[(1e8,)]),
), code=SUM_CODE))
SUM_CONSTANT = register(Op(
    "sum", _sum_float_rule, _sum_value_rule, label="sum + {}",
    saved="the total of the number operands",
    examples=(Example(lambda a, b: sum([a, 1.5, b]), 2),), code=SUM_CODE,
))


# -- dot ------------------------------------------------------------------------------------


# How an operand list is made up: VALUES (every item a Value), NUMBERS or MIXED.
VALUES, NUMBERS, MIXED = "values", "numbers", "mixed"
_PLAIN_NUMBERS = frozenset((float, int))


def _operands(
    seq: Sequence[object], where: str, data: Optional[list] = None
) -> tuple[str, Sequence, Optional[list]]:
    """(kind, items, data): the data of every item when all are Values, else None.

    The common case, all Values, is recognised while reading their data in one pass
    (``data``, when the caller has already made that pass); anything else is checked
    item by item and numbers are validated.
    """
    if data is None:
        data = [v._data for v in seq if type(v) is Value]
    if data and len(data) == len(seq):
        return VALUES, seq, data
    kinds = set(map(type, seq))
    if kinds <= _PLAIN_NUMBERS:
        return NUMBERS, seq, None
    checked = [x if type(x) is Value else _number(x, f"{where}[{i}]") for i, x in enumerate(seq)]
    return (MIXED if Value in kinds else NUMBERS), checked, None


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
    return _dot_node(_operands(ws, "dot: ws"), _operands(xs, "dot: xs"), bias)


def matvec(
    rows: Sequence[Sequence[Operand]],
    xs: Sequence[Operand],
    biases: Optional[Sequence[Optional[Operand]]] = None,
    *,
    rows_data: Optional[Sequence[list]] = None,
) -> list[Value]:
    """[dot(rows[j], xs, biases[j]) for each j]: one ``dot`` node per row.

    The same nodes as calling ``dot`` row by row, built faster: ``xs`` is checked and
    read once for all rows. This is a layer of neurons sharing one input vector.
    ``rows_data``, when given, is ``[[w.data for w in row] for row in rows]`` read by
    the caller, whose rows must then hold only Values (a layer reads all its weights in
    one pass, cheaper than a pass per row).
    """
    if biases is None:
        biases = [None] * len(rows)
    elif len(biases) != len(rows):
        raise ValueError(f"matvec: {len(rows)} rows but {len(biases)} biases; they must match")
    n = len(xs)
    x_kind, xs, x_data = _operands(xs, "matvec: xs")
    if x_kind is NUMBERS:
        xs = tuple(xs)  # one snapshot shared by every row's node
    x_operands = (x_kind, xs, x_data)
    out = []
    for j, (row, bias) in enumerate(zip(rows, biases)):
        if len(row) != n:
            raise ValueError(f"matvec: rows[{j}] has {len(row)} entries but xs has {n}")
        # The layer cases, written out: a row of Values and a Value bias, applied to
        # Values (a hidden layer) or to numbers (a first layer).
        if rows_data is None:
            w_data = [w._data for w in row if type(w) is Value]
        else:
            w_data = rows_data[j]
        if type(bias) is Value and n and len(w_data) == n:
            if x_data is not None:
                data = builtins.sum(map(mul, w_data, x_data)) + bias._data
                out.append(_node(data, (*row, *xs, bias), DOT, n))
                continue
            if x_kind is NUMBERS:
                data = builtins.sum(map(mul, w_data, xs)) + bias._data
                out.append(_node(data, (*row, bias), DOT_NUMBERS, xs))
                continue
        w_operands = _operands(row, f"matvec: rows[{j}]", w_data)
        out.append(_dot_node(w_operands, x_operands, bias))
    return out


def _dot_node(w_operands: tuple, x_operands: tuple, bias: object) -> Value:
    w_kind, ws, w_data = w_operands
    x_kind, xs, x_data = x_operands
    if bias is None:
        extra: tuple = ()
        offset = 0.0
    elif type(bias) is Value:
        extra = (bias,)
        offset = bias._data
    else:
        extra = ()
        offset = _number(bias, "dot: bias")
        # A number bias is kept only by the general form's saved slot (the compiled
        # replay needs it), so it takes that form whatever the operands are.
        if w_kind is not NUMBERS or x_kind is not NUMBERS:
            w_kind = MIXED

    if w_kind is VALUES and x_kind is VALUES:
        # A hidden layer: parents = (w_1..w_n, x_1..x_n[, bias]); _saved = n.
        data = builtins.sum(map(mul, w_data, x_data))
        return _node(data + offset, (*ws, *xs, *extra), DOT, len(ws))
    if w_kind is VALUES and x_kind is NUMBERS:
        # A first layer: parents = (w_1..w_n[, bias]); _saved = the input numbers.
        data = builtins.sum(map(mul, w_data, xs))
        return _node(data + offset, (*ws, *extra), DOT_NUMBERS, tuple(xs))
    if w_kind is NUMBERS and x_kind is VALUES:
        data = builtins.sum(map(mul, ws, x_data))
        return _node(data + offset, (*xs, *extra), DOT_NUMBERS, tuple(ws))
    if w_kind is NUMBERS and x_kind is NUMBERS and not extra:
        return Value(builtins.sum(map(mul, ws, xs)) + offset)  # a constant
    # Values and numbers mixed within a side (or a number bias, or a Value bias on
    # numbers): the general, slower form.
    data = builtins.sum(
        (w._data if type(w) is Value else w) * (x._data if type(x) is Value else x)
        for w, x in zip(ws, xs)
    )
    values = [w for w in ws if type(w) is Value] + [x for x in xs if type(x) is Value]
    return _node(
        data + offset, (*values, *extra), DOT_MIXED, (tuple(ws), tuple(xs), bias)
    )


# Skipping a zero gradient. A dot node whose gradient is 0 (a ReLU above it that is off;
# a sample that hinge already classifies with margin, whose whole subgraph then gets 0)
# would add g * x = +-0.0 to every operand's gradient and g to the bias's. Adding +-0.0
# changes no float except -0.0 (to +0.0), and gradients never are -0.0 unless set so by
# hand: a sum that starts from +0.0 cannot reach -0.0. So the rule returns at once, with
# bit-identical results, when g is 0 and the node's value is finite: a finite sum of
# products means every operand was finite (inf or NaN times anything is not finite), so
# no term would have been NaN (0 * inf). Only an operand set to inf or NaN between the
# forward pass and backward would make a difference. On the moons step 61% of dot nodes
# have a zero gradient at the first step and over 90% after 20 steps; in one make bench
# run the step took 8.2 ms, against 11.7 ms for the same step with every zero term added
# (its "every zero term added" row; tests/autograd/test_nary.py holds the two equal).


def _dot_float_rule(node: Value) -> None:
    # parents = (w_1..w_n, x_1..x_n[, bias]); _saved = n
    g = node._grad
    if not g and node._data - node._data == 0.0:
        return  # it would add nothing: see "Skipping a zero gradient" above
    parents = node._parents
    n = node._saved
    for w, x in zip(parents, parents[n : 2 * n]):  # zip stops after the n weights
        w._grad += g * x._data
        x._grad += g * w._data
    if len(parents) > 2 * n:
        parents[-1]._grad += g


def _dot_value_rule(node: Value, g: Value) -> tuple:
    parents = node._parents
    n = node._saved
    ws, xs = parents[:n], parents[n : 2 * n]
    shares = [g * x for x in xs] + [g * w for w in ws]
    return (*shares, *[g] * (len(parents) - 2 * n))


def _dot_forward_code(node: Value, names: list, const: object) -> str:
    n = node._saved
    total = _sum_code([f"{names[i]} * {names[n + i]}" for i in range(n)])
    return f"{total} + {names[-1] if len(names) > 2 * n else '0.0'}"


def _dot_backward_code(node: Value, g: str, out: str, names: list, const: object) -> list:
    n = node._saved
    shares = []
    for i in range(n):  # interleaved, as the float rule adds them
        shares.append((i, "+", f"{g} * {names[n + i]}"))
        shares.append((n + i, "+", f"{g} * {names[i]}"))
    if len(names) > 2 * n:
        shares.append((len(names) - 1, "+", g))
    return shares


DOT = register(Op(
    "dot", _dot_float_rule, _dot_value_rule, saved="n, the number of weights",
    examples=(
        Example(lambda w1, w2, x1, x2, b: dot([w1, w2], [x1, x2], b), 5, edges=[(1e8,) * 5]),
        Example(lambda w1, x1: dot([w1], [x1]), 2),
    ),
    code=Code(_dot_forward_code, _dot_backward_code, helpers=_SUM_HELPERS, reads_out=False,
              skips_zero=True),
))


def _dot_numbers_float_rule(node: Value) -> None:
    # parents = (v_1..v_n[, bias]); _saved = the n numbers they multiply
    g = node._grad
    if not g and node._data - node._data == 0.0:
        return  # it would add nothing: see "Skipping a zero gradient" above
    parents = node._parents
    numbers = node._saved
    for v, c in zip(parents, numbers):
        v._grad += g * c
    if len(parents) > len(numbers):
        parents[-1]._grad += g


def _dot_numbers_value_rule(node: Value, g: Value) -> tuple:
    numbers = node._saved
    shares = [g * c for c in numbers]
    return (*shares, *[g] * (len(node._parents) - len(numbers)))


def _dot_numbers_forward_code(node: Value, names: list, const: object) -> str:
    numbers = node._saved
    total = _sum_code([f"{name} * {const(c)}" for name, c in zip(names, numbers)])
    return f"{total} + {names[-1] if len(names) > len(numbers) else '0.0'}"


def _dot_numbers_backward_code(
    node: Value, g: str, out: str, names: list, const: object
) -> list:
    numbers = node._saved
    shares = [(i, "+", f"{g} * {const(c)}") for i, c in enumerate(numbers)]
    if len(names) > len(numbers):
        shares.append((len(names) - 1, "+", g))
    return shares


DOT_NUMBERS = register(Op(
    "dot", _dot_numbers_float_rule, _dot_numbers_value_rule,
    saved="the numbers the Value operands multiply",
    examples=(
        Example(lambda w1, w2, b: dot([w1, w2], [0.5, -1.5], b), 3),
        Example(lambda x1, x2: dot([2.0, -0.25], [x1, x2]), 2),
    ),
    code=Code(
        _dot_numbers_forward_code, _dot_numbers_backward_code, helpers=_SUM_HELPERS,
        reads_out=False, reads_parents=False, skips_zero=True,
    ),
))


def _dot_mixed_float_rule(node: Value) -> None:
    g = node._grad
    ws, xs, bias = node._saved
    for w, x in zip(ws, xs):
        w_is_value = type(w) is Value
        x_is_value = type(x) is Value
        if w_is_value:
            w._grad += g * (x._data if x_is_value else x)
        if x_is_value:
            x._grad += g * (w._data if w_is_value else w)
    if type(bias) is Value:
        bias._grad += g


def _dot_mixed_value_rule(node: Value, g: Value) -> tuple:
    ws, xs, bias = node._saved
    w_shares = [g * x for w, x in zip(ws, xs) if type(w) is Value]
    x_shares = [g * w for w, x in zip(ws, xs) if type(x) is Value]
    return (*w_shares, *x_shares, *[g] * (type(bias) is Value))


def _dot_mixed_terms(node: Value, names: list, const: object) -> tuple[list, list]:
    # Each operand of each pair as source: a parent's name, or a number's literal.
    # Parents are the Value ws, then the Value xs, then a Value bias.
    ws, xs, _ = node._saved
    position = 0
    sides = []
    for side in (ws, xs):
        terms = []
        for v in side:
            if type(v) is Value:
                terms.append((position, names[position]))
                position += 1
            else:
                terms.append((None, const(v)))
        sides.append(terms)
    return sides[0], sides[1]


def _dot_mixed_forward_code(node: Value, names: list, const: object) -> str:
    w_terms, x_terms = _dot_mixed_terms(node, names, const)
    bias = node._saved[2]
    total = _sum_code([f"{w} * {x}" for (_, w), (_, x) in zip(w_terms, x_terms)])
    if bias is None:
        return f"{total} + 0.0"
    return f"{total} + {names[-1] if type(bias) is Value else const(bias)}"


def _dot_mixed_backward_code(node: Value, g: str, out: str, names: list, const: object) -> list:
    w_terms, x_terms = _dot_mixed_terms(node, names, const)
    shares = []
    for (wi, w), (xi, x) in zip(w_terms, x_terms):
        if wi is not None:
            shares.append((wi, "+", f"{g} * {x}"))
        if xi is not None:
            shares.append((xi, "+", f"{g} * {w}"))
    if type(node._saved[2]) is Value:
        shares.append((len(names) - 1, "+", g))
    return shares


DOT_MIXED = register(Op(
    "dot", _dot_mixed_float_rule, _dot_mixed_value_rule,
    saved="(ws, xs, bias): both operand lists and the bias as given (None, a number "
          "or the last parent)",
    examples=(
        Example(lambda w1, x2, b: dot([w1, 0.7], [-0.4, x2], b), 3),
        Example(lambda b: dot([2.0], [3.0], b), 1),
        Example(lambda w1, w2, x1, x2: dot([w1, w2], [x1, x2], -0.5), 4),
        Example(lambda w1: dot([w1], [0.5], 0.25), 1),
    ),
    code=Code(
        _dot_mixed_forward_code, _dot_mixed_backward_code, helpers=_SUM_HELPERS,
        reads_out=False,
    ),
))


# -- logsumexp ------------------------------------------------------------------------------


def logsumexp(values: Iterable[Operand]) -> Value:
    """log(exp(v1) + ... + exp(vn)) as one node.   d/dvi = exp(vi - out), the softmax weights.

    Computed as log(sum_i exp(vi - m)) + m with m = max(vi), inside the forward, so no
    exponent is positive and logits of +-1000 work; the graph is the same whatever the
    data. Numbers among the values become leaves. Needs at least one value.
    """
    parents = tuple(v if type(v) is Value else Value(_number(v, f"logsumexp: item {i}"))
                    for i, v in enumerate(values))
    if not parents:
        raise ValueError("logsumexp: needs at least one value, got none")
    return _node(_float_logsumexp([p._data for p in parents]), parents, LOGSUMEXP)


def _float_logsumexp(xs: Sequence[float]) -> float:
    m = max(xs)
    if m == math.inf or m == -math.inf:
        # exp(x - m) would be nan for x = m; the answer is m unless a nan is present.
        return m if all(x == x for x in xs) else math.nan
    total = builtins.sum([math.exp(x - m) for x in xs])  # >= 1: the largest term is 1
    return math.log(total) + m


def _logsumexp_float_rule(node: Value) -> None:
    g = node._grad
    out = node._data
    for p in node._parents:
        p._grad += g * _float_exp(p._data - out)


def _logsumexp_value_rule(node: Value, g: Value) -> tuple:
    return tuple(g * (p - node).exp() for p in node._parents)


def _logsumexp_forward_code(node: Value, names: list, const: object) -> str:
    return f"_logsumexp(({', '.join(names)},))"


def _logsumexp_backward_code(
    node: Value, g: str, out: str, names: list, const: object
) -> list:
    return [(i, "+", f"{g} * _exp({name} - {out})") for i, name in enumerate(names)]


LOGSUMEXP = register(Op(
    "logsumexp", _logsumexp_float_rule, _logsumexp_value_rule,
    examples=(
        Example(lambda a, b, c: logsumexp([a, b, c]), 3,
                edges=[(1000.0, 999.0, -1000.0), (-700.0, -710.0, -800.0)]),
        Example(lambda a: logsumexp([a]), 1, edges=[(1000.0,), (-1000.0,)]),
        Example(lambda a, b: logsumexp([a, b]), 2, edges=[(0.0, 0.0), (1e8, -1e8)]),
    ),
    code=Code(
        _logsumexp_forward_code, _logsumexp_backward_code,
        helpers={"_logsumexp": _float_logsumexp, "_exp": _float_exp},
        reads_out=True, reads_parents=True,
    ),
))
