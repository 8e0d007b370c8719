"""The scalar ``Value`` and its operations: one block per op, the class at the end.

Each block holds one operation whole: its forward (which becomes a ``Value`` method),
its float rule (the derivative that ``backward()`` uses), its Value rule (the same
derivative as Value operations, for ``grad(..., create_graph=True)``) and the ``Op``
entry that binds them, with how the op is drawn, what its saved slot holds and where
the tests exercise it. ``autograd/ops.py`` explains the entries; ``class Value`` at the
bottom binds each forward to its operator or method name.

A forward computes the float result and, while grad mode is on, returns a node whose
``parents`` are the operand Values in call order (``a + a`` has ``(a, a)``). Constants
(the ``2`` in ``x * 2``) are not wrapped in Values: they live in the node's ``_saved``
slot, which keeps nodes small and graphs free of clutter. For the same reason a node
with a single parent stores that parent itself in ``_parents`` rather than a
one-element tuple (``parents`` always gives a tuple): most nodes have one parent, and
skipping the tuple saves memory, time and work for the cyclic garbage collector.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Iterable, Union

from . import engine, floatmath
from .grad_mode import slow_path
from .history import attach_slowly
from .ops import LEAF, Code, Example, Op, register

Number = Union[int, float]
Operand = Union["Value", int, float]

_new = object.__new__


def _node(data: float, parents: object, op: Op, saved: object = None) -> "Value":
    """The result of an operation: a graph node, or a leaf when grad mode is off."""
    out = _new(Value)
    out._data = data
    out._grad = 0.0
    out.label = ""
    out._walk = 0  # engine.UNSEEN
    if slow_path.count:
        attach_slowly(out, parents, op, saved)  # no_grad, anomaly mode or the gc hook
    else:
        out._parents = parents
        out._op = op
        out._saved = saved
    return out


def _constant(x: object) -> Union[Number, None]:
    """``x`` as a number usable beside a Value, or None when it is not a real number."""
    kind = type(x)
    if kind is float or kind is int:
        return x  # type: ignore[return-value]
    if isinstance(x, Real) and kind is not bool:
        return float(x)
    return None


def _fmt(x: float) -> str:
    return repr(float(x))


# -- a + b ----------------------------------------------------------------------------------


def _add(self: "Value", other: Operand) -> "Value":
    """a + b.   d/da = 1, d/db = 1."""
    kind = type(other)
    if kind is Value:
        return _node(self._data + other._data, (self, other), ADD)
    c = other if kind is float or kind is int else _constant(other)
    if c is None:
        return NotImplemented
    # hot: _node inlined (x + c and x * c are the commonest nodes); saves a call per node.
    out = _new(Value)
    out._data = self._data + c
    out._grad = 0.0
    out.label = ""
    out._walk = 0
    if slow_path.count:
        attach_slowly(out, self, ADD_CONSTANT, c)
    else:
        out._parents = self
        out._op = ADD_CONSTANT
        out._saved = c
    return out


def _add_float_rule(node: "Value") -> None:
    a, b = node._parents
    g = node._grad
    a._grad += g
    b._grad += g


def _add_value_rule(node: "Value", g: "Value") -> tuple:
    return g, g


ADD = register(Op("+", _add_float_rule, _add_value_rule, examples=(
    Example(lambda a, b: a + b, 2, edges=[(1e8, -3e7)]),
), code=Code("{a} + {b}", [("a", "+", "{g}"), ("b", "+", "{g}")])))


def _pass_through_float_rule(node: "Value") -> None:
    a = node._parents
    a._grad += node._grad


def _pass_through_value_rule(node: "Value", g: "Value") -> tuple:
    return (g,)


# c + a == a + c exactly in floating point, so both use _add and make the same node.
ADD_CONSTANT = register(Op(
    "+", _pass_through_float_rule, _pass_through_value_rule,
    label="+ {}", saved="the constant c",
    examples=(Example(lambda a: a + 2.5, 1, edges=[(1e8,)]), Example(lambda a: 3 + a, 1)),
    code=Code("{a} + {c}", [("a", "+", "{g}")]),
))


# -- a - b ----------------------------------------------------------------------------------


def _sub(self: "Value", other: Operand) -> "Value":
    """a - b.   d/da = 1, d/db = -1."""
    kind = type(other)
    if kind is Value:
        return _node(self._data - other._data, (self, other), SUB)
    c = other if kind is float or kind is int else _constant(other)
    if c is None:
        return NotImplemented
    return _node(self._data - c, self, SUB_CONSTANT, c)


def _sub_float_rule(node: "Value") -> None:
    a, b = node._parents
    g = node._grad
    a._grad += g
    b._grad -= g


def _sub_value_rule(node: "Value", g: "Value") -> tuple:
    return g, -g


SUB = register(Op("-", _sub_float_rule, _sub_value_rule, examples=(
    Example(lambda a, b: a - b, 2, edges=[(1e8, 3e7)]),
), code=Code("{a} - {b}", [("a", "+", "{g}"), ("b", "-", "{g}")])))
SUB_CONSTANT = register(Op(
    "-", _pass_through_float_rule, _pass_through_value_rule,
    label="- {}", saved="the constant c",
    examples=(Example(lambda a: a - 2.5, 1),),
    code=Code("{a} - {c}", [("a", "+", "{g}")]),
))


def _rsub(self: "Value", other: Number) -> "Value":
    """c - a.   d/da = -1."""
    c = _constant(other)
    if c is None:
        return NotImplemented
    return _node(c - self._data, self, RSUB_CONSTANT, c)


def _negate_float_rule(node: "Value") -> None:
    a = node._parents
    a._grad -= node._grad


def _negate_value_rule(node: "Value", g: "Value") -> tuple:
    return (-g,)


RSUB_CONSTANT = register(Op(
    "-", _negate_float_rule, _negate_value_rule, label="{} -", saved="the constant c",
    examples=(Example(lambda a: 2.5 - a, 1),),
    code=Code("{c} - {a}", [("a", "-", "{g}")]),
))


def _neg(self: "Value") -> "Value":
    """-a.   d/da = -1."""
    return _node(-self._data, self, NEG)


NEG = register(Op("neg", _negate_float_rule, _negate_value_rule, examples=(
    Example(lambda a: -a, 1, edges=[(1e8,)]),
), code=Code("-{a}", [("a", "-", "{g}")])))


# -- a * b ----------------------------------------------------------------------------------


def _mul(self: "Value", other: Operand) -> "Value":
    """a * b.   d/da = b, d/db = a."""
    kind = type(other)
    if kind is Value:
        return _node(self._data * other._data, (self, other), MUL)
    c = other if kind is float or kind is int else _constant(other)
    if c is None:
        return NotImplemented
    # hot: _node inlined (x + c and x * c are the commonest nodes); saves a call per node.
    out = _new(Value)
    out._data = self._data * c
    out._grad = 0.0
    out.label = ""
    out._walk = 0
    if slow_path.count:
        attach_slowly(out, self, MUL_CONSTANT, c)
    else:
        out._parents = self
        out._op = MUL_CONSTANT
        out._saved = c
    return out


def _mul_float_rule(node: "Value") -> None:
    a, b = node._parents
    g = node._grad
    a._grad += g * b._data
    b._grad += g * a._data


def _mul_value_rule(node: "Value", g: "Value") -> tuple:
    a, b = node._parents
    return g * b, g * a


MUL = register(Op("*", _mul_float_rule, _mul_value_rule, examples=(
    Example(lambda a, b: a * b, 2, edges=[(0.0, 0.0), (1e8, 1e-8)]),
), code=Code("{a} * {b}", [("a", "+", "{g} * {b}"), ("b", "+", "{g} * {a}")])))


def _scale_float_rule(node: "Value") -> None:
    a = node._parents
    a._grad += node._grad * node._saved


def _scale_value_rule(node: "Value", g: "Value") -> tuple:
    return (g * node._saved,)


# c * a == a * c exactly in floating point, so both use _mul and make the same node.
MUL_CONSTANT = register(Op(
    "*", _scale_float_rule, _scale_value_rule, label="* {}", saved="the constant c",
    examples=(Example(lambda a: a * -1.5, 1, edges=[(1e8,)]), Example(lambda a: 3 * a, 1)),
    code=Code("{a} * {c}", [("a", "+", "{g} * {c}")]),
))


# -- a / b ----------------------------------------------------------------------------------


def _truediv(self: "Value", other: Operand) -> "Value":
    """a / b.   d/da = 1/b, d/db = -a/b**2 = -(a/b)/b."""
    if type(other) is Value:
        if other._data == 0.0:
            _divides_by_zero(self._data, other._data)
        return _node(self._data / other._data, (self, other), DIV)
    c = _constant(other)
    if c is None:
        return NotImplemented
    if c == 0:
        _divides_by_zero(self._data, c)
    return _node(self._data / c, self, DIV_CONSTANT, c)


def _divides_by_zero(a: float, b: float) -> float:
    # The forward's error (compiled replay calls it too, so its message is the same).
    raise ZeroDivisionError(f"division: {_fmt(a)} / {_fmt(b)} divides by zero")


def _div_float_rule(node: "Value") -> None:
    a, b = node._parents
    g_over_b = node._grad / b._data
    a._grad += g_over_b
    b._grad -= g_over_b * node._data


def _div_value_rule(node: "Value", g: "Value") -> tuple:
    a, b = node._parents
    g_over_b = g / b
    return g_over_b, -(g_over_b * node)


DIV = register(Op("/", _div_float_rule, _div_value_rule, examples=(
    Example(lambda a, b: a / b, 2, low=(-3.0, 0.5), high=(3.0, 3.0)),
    Example(lambda a, b: a / b, 2, low=(-3.0, -3.0), high=(3.0, -0.5)),
), code=Code(
    "{a} / {b} if {b} else _divides_by_zero({a}, {b})",
    [("a", "+", "{g} / {b}"), ("b", "-", "{g} / {b} * {out}")],
    helpers={"_divides_by_zero": _divides_by_zero},
)))


def _div_constant_float_rule(node: "Value") -> None:
    a = node._parents
    a._grad += node._grad / node._saved


def _div_constant_value_rule(node: "Value", g: "Value") -> tuple:
    return (g / node._saved,)


DIV_CONSTANT = register(Op(
    "/", _div_constant_float_rule, _div_constant_value_rule,
    label="/ {}", saved="the constant c", examples=(Example(lambda a: a / 4.0, 1),),
    code=Code("{a} / {c}", [("a", "+", "{g} / {c}")]),
))


def _rtruediv(self: "Value", other: Number) -> "Value":
    """c / a.   d/da = -c/a**2 = -(c/a)/a."""
    c = _constant(other)
    if c is None:
        return NotImplemented
    if self._data == 0.0:
        _divides_by_zero(c, self._data)
    return _node(c / self._data, self, RDIV_CONSTANT, c)


def _rdiv_constant_float_rule(node: "Value") -> None:
    a = node._parents
    a._grad -= node._grad * node._data / a._data


def _rdiv_constant_value_rule(node: "Value", g: "Value") -> tuple:
    a = node._parents
    return (-(g * node) / a,)


RDIV_CONSTANT = register(Op(
    "/", _rdiv_constant_float_rule, _rdiv_constant_value_rule,
    label="{} /", saved="the constant c",
    examples=(
        Example(lambda a: 2.0 / a, 1, low=0.5, high=3.0),
        Example(lambda a: 2.0 / a, 1, low=-3.0, high=-0.5),
    ),
    code=Code(
        "{c} / {a} if {a} else _divides_by_zero({c}, {a})",
        [("a", "-", "{g} * {out} / {a}")],
        helpers={"_divides_by_zero": _divides_by_zero},
    ),
))


# -- powers ---------------------------------------------------------------------------------
# The three power ops share their checks: a forward whose errors name the operation, and
# a derivative that overflows to infinity instead of raising in the middle of backward().


def _power(base: float, exponent: float) -> float:
    """base ** exponent as a float, or a named error outside the real numbers."""
    if base == 0.0 and exponent < 0:
        raise ZeroDivisionError(
            f"pow: {_fmt(base)} ** {_fmt(exponent)} divides by zero "
            "(zero to a negative power)"
        )
    if base < 0.0 and math.isfinite(exponent) and not float(exponent).is_integer():
        raise ValueError(
            f"pow: {_fmt(base)} ** {_fmt(exponent)} is not a real number "
            "(a negative base needs an integer exponent)"
        )
    try:
        return float(base**exponent)
    except OverflowError:
        raise OverflowError(f"pow: {_fmt(base)} ** {_fmt(exponent)} overflows a float") from None


def _power_derivative(base: float, exponent: float) -> float:
    """d/dbase of base ** exponent = exponent * base ** (exponent - 1).

    x ** 0 is constant, so its derivative is 0 everywhere, at 0 included. At base 0
    with 0 < exponent < 1 (a square root, say) the slope is infinite.
    """
    if exponent == 0:
        return 0.0
    if base == 0.0 and exponent < 1:
        return math.inf
    try:
        return exponent * base ** (exponent - 1)
    except OverflowError:
        # A negative base only gets this far with an integer exponent (see _power).
        negative_power = base < 0.0 and (exponent - 1) % 2 == 1
        return math.copysign(math.inf, -exponent if negative_power else exponent)


def _check_value_exponent(base: float, exponent: float) -> None:
    # With a Value exponent, d/dexponent = base ** exponent * log(base), which has no
    # real value for a negative base: refuse now rather than give NaN in backward().
    if base < 0.0:
        raise ValueError(
            f"pow: base {_fmt(base)} is negative, so {_fmt(base)} ** exponent has no "
            "real derivative with respect to a Value exponent; use a number exponent"
        )


def _log_or_zero(base: float) -> float:
    # d/dexponent of base ** exponent at base 0: zero to a positive power stays 0.
    return math.log(base) if base > 0.0 else 0.0


def _checked_power(base: float, exponent: float) -> float:
    # A power with a Value exponent (or base c ** a), checked as its forward checks it.
    _check_value_exponent(base, exponent)
    return _power(base, exponent)


_POWER_HELPERS = {
    "_power": _power, "_checked_power": _checked_power,
    "_power_derivative": _power_derivative, "_log_or_zero": _log_or_zero,
}


def _pow(self: "Value", other: Operand) -> "Value":
    """a ** n.   d/da = n * a**(n-1) (0 everywhere when n == 0);
    with a Value exponent b also d/db = a**b * log(a) (0 at a == 0)."""
    if type(other) is Value:
        _check_value_exponent(self._data, other._data)
        return _node(_power(self._data, other._data), (self, other), POW)
    c = _constant(other)
    if c is None:
        return NotImplemented
    return _node(_power(self._data, c), self, POW_CONSTANT, c)


def _pow_float_rule(node: "Value") -> None:
    a, b = node._parents
    g = node._grad
    a._grad += g * _power_derivative(a._data, b._data)
    b._grad += g * node._data * _log_or_zero(a._data)


def _pow_value_rule(node: "Value", g: "Value") -> tuple:
    a, b = node._parents
    if a._data == 0.0:
        # a ** (b - 1) may not exist at 0: use the slope's value (no higher orders).
        d_base = g * _power_derivative(a._data, b._data)
    else:
        # Even at b == 0 keep b in the expression: its derivatives in b are not 0.
        d_base = g * b * a ** (b - 1)
    d_exponent = g * node * a.log() if a._data > 0.0 else g * 0.0
    return d_base, d_exponent


POW = register(Op("**", _pow_float_rule, _pow_value_rule, examples=(
    Example(lambda a, b: a**b, 2, low=(0.5, -2.0), high=(3.0, 2.0), edges=[(2.0, 0.0)],
            documented=[((0.0, 2.0), (0.0, 0.0))]),
), code=Code(
    "_checked_power({a}, {b})",
    [("a", "+", "{g} * _power_derivative({a}, {b})"),
     ("b", "+", "{g} * {out} * _log_or_zero({a})")],
    helpers=_POWER_HELPERS,
)))


def _pow_constant_float_rule(node: "Value") -> None:
    a = node._parents
    a._grad += node._grad * _power_derivative(a._data, node._saved)


def _pow_constant_value_rule(node: "Value", g: "Value") -> tuple:
    a = node._parents
    n = node._saved
    if n == 0 or (a._data == 0.0 and n < 1):
        return (g * _power_derivative(a._data, n),)
    return (g * n * a ** (n - 1),)


POW_CONSTANT = register(Op(
    "**", _pow_constant_float_rule, _pow_constant_value_rule,
    label="** {}", saved="the exponent n",
    examples=(
        Example(lambda a: a**3, 1, edges=[(0.0,), (1e5,)]),
        Example(lambda a: a**2.5, 1, low=0.5, high=3.0, documented=[((0.0,), (0.0,))]),
        Example(lambda a: a**-1, 1, low=0.5, high=3.0),
        Example(lambda a: a**0, 1, edges=[(0.0,)]),
        Example(lambda a: a**0.5, 1, low=0.5, high=3.0, documented=[((0.0,), (math.inf,))]),
    ),
    code=Code("_power({a}, {c})", [("a", "+", "{g} * _power_derivative({a}, {c})")],
              helpers=_POWER_HELPERS),
))


def _rpow(self: "Value", other: Number) -> "Value":
    """c ** a.   d/da = c**a * log(c) (0 at c == 0)."""
    c = _constant(other)
    if c is None:
        return NotImplemented
    return _node(_checked_power(c, self._data), self, RPOW_CONSTANT, c)


def _rpow_constant_float_rule(node: "Value") -> None:
    a = node._parents
    a._grad += node._grad * node._data * _log_or_zero(node._saved)


def _rpow_constant_value_rule(node: "Value", g: "Value") -> tuple:
    return (g * node * _log_or_zero(node._saved),)


RPOW_CONSTANT = register(Op(
    "**", _rpow_constant_float_rule, _rpow_constant_value_rule,
    label="{} **", saved="the base c",
    examples=(Example(lambda a: 2.0**a, 1), Example(lambda a: 0.0**a, 1, low=0.5, high=3.0)),
    code=Code("_checked_power({c}, {a})", [("a", "+", "{g} * {out} * _log_or_zero({c})")],
              helpers=_POWER_HELPERS),
))


# -- elementwise functions ------------------------------------------------------------------


def _exp(self: "Value") -> "Value":
    """exp(a).   d/da = exp(a)."""
    return _node(_float_exp(self._data), self, EXP)


def _float_exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(
            f"exp: exp({_fmt(x)}) overflows a float "
            "(the largest finite result is exp(709.78...))"
        ) from None


def _exp_float_rule(node: "Value") -> None:
    a = node._parents
    a._grad += node._grad * node._data


def _exp_value_rule(node: "Value", g: "Value") -> tuple:
    return (g * node,)


EXP = register(Op("exp", _exp_float_rule, _exp_value_rule, examples=(
    Example(lambda a: a.exp(), 1, edges=[(700.0,), (-700.0,)]),
), code=Code("_exp({a})", [("a", "+", "{g} * {out}")], helpers={"_exp": _float_exp})))


def _log(self: "Value") -> "Value":
    """Natural log.   d/da = 1/a.   Needs a > 0."""
    return _node(_float_log(self._data), self, LOG)


def _float_log(x: float) -> float:
    if x <= 0.0:
        raise ValueError(f"log: needs a positive number, got {_fmt(x)}")
    return math.log(x)


def _log_float_rule(node: "Value") -> None:
    a = node._parents
    a._grad += node._grad / a._data


def _log_value_rule(node: "Value", g: "Value") -> tuple:
    a = node._parents
    return (g / a,)


LOG = register(Op("log", _log_float_rule, _log_value_rule, examples=(
    Example(lambda a: a.log(), 1, low=0.1, high=10.0, edges=[(1e-8,), (1e8,)]),
), code=Code("_log({a})", [("a", "+", "{g} / {a}")], helpers={"_log": _float_log})))


def _tanh(self: "Value") -> "Value":
    """tanh(a).   d/da = 1 - tanh(a)**2.   Never overflows: tanh(1000) == 1.0."""
    return _node(_float_tanh(self._data), self, TANH)


_float_tanh = floatmath.tanh


def _tanh_float_rule(node: "Value") -> None:
    a = node._parents
    t = node._data
    a._grad += node._grad * (1.0 - t * t)


def _tanh_value_rule(node: "Value", g: "Value") -> tuple:
    return (g * (1.0 - node * node),)


TANH = register(Op("tanh", _tanh_float_rule, _tanh_value_rule, examples=(
    Example(lambda a: a.tanh(), 1, edges=[(1000.0,), (-20.0,)]),
), code=Code("_tanh({a})", [("a", "+", "{g} * (1.0 - {out} * {out})")],
             helpers={"_tanh": _float_tanh})))


def _sigmoid(self: "Value") -> "Value":
    """1 / (1 + exp(-a)).   d/da = s * (1 - s).   Never overflows."""
    return _node(_float_sigmoid(self._data), self, SIGMOID)


_float_sigmoid = floatmath.sigmoid


def _sigmoid_float_rule(node: "Value") -> None:
    a = node._parents
    s = node._data
    a._grad += node._grad * s * (1.0 - s)


def _sigmoid_value_rule(node: "Value", g: "Value") -> tuple:
    return (g * node * (1.0 - node),)


SIGMOID = register(Op("sigmoid", _sigmoid_float_rule, _sigmoid_value_rule, examples=(
    Example(lambda a: a.sigmoid(), 1, edges=[(800.0,), (-800.0,), (30.0,)]),
), code=Code("_sigmoid({a})", [("a", "+", "{g} * {out} * (1.0 - {out})")],
             helpers={"_sigmoid": _float_sigmoid})))


def _relu(self: "Value") -> "Value":
    """max(a, 0).   d/da = 1 for a > 0, else 0 (0 at a == 0).   NaN stays NaN."""
    x = self._data
    # hot: _node and floatmath.relu inlined (a ReLU follows every hidden neuron; saves
    # two calls per node); tests/autograd/test_registry.py pins both copies to the originals.
    out = _new(Value)
    out._data = x if x > 0.0 or x != x else 0.0
    out._grad = 0.0
    out.label = ""
    out._walk = 0
    if slow_path.count:
        attach_slowly(out, self, RELU, None)
    else:
        out._parents = self
        out._op = RELU
        out._saved = None
    return out


def _relu_slope(x: float) -> float:
    if x > 0.0:
        return 1.0
    return x if x != x else 0.0  # NaN in, NaN out


def _relu_float_rule(node: "Value") -> None:
    a = node._parents
    x = a._data
    if x > 0.0:
        a._grad += node._grad
    elif x != x:
        a._grad += x


def _relu_value_rule(node: "Value", g: "Value") -> tuple:
    a = node._parents
    return (g * _relu_slope(a._data),)


RELU = register(Op("relu", _relu_float_rule, _relu_value_rule, examples=(
    Example(lambda a: a.relu(), 1, edges=[(1e8,), (-1e8,)], kinks=[0.0],
            documented=[((0.0,), (0.0,))]),
), code=Code(
    "{a} if {a} > 0.0 or {a} != {a} else 0.0",
    # The rule's two branches; below 0 it adds nothing at all (not even 0.0).
    [("a", "+", "{g}", "{a} > 0.0"), ("a", "+", "{a}", "{a} != {a}")],
    # hot: one line instead of three where relu's share is its parent's first (most
    # are): 3-5% of the compiled moons step (2.06 ms against 2.13-2.18 ms without).
    first="{g} if {a} > 0.0 else ({a} if {a} != {a} else 0.0)",
)))


def _sqrt(self: "Value") -> "Value":
    """sqrt(a).   d/da = 1 / (2 sqrt(a)) (infinite at 0).   Needs a >= 0."""
    return _node(_float_sqrt(self._data), self, SQRT)


def _float_sqrt(x: float) -> float:
    if x < 0.0:
        raise ValueError(f"sqrt: needs a number >= 0, got {_fmt(x)}")
    return math.sqrt(x)


def _sqrt_float_rule(node: "Value") -> None:
    a = node._parents
    root = node._data
    a._grad += node._grad * (0.5 / root if root != 0.0 else math.inf)


def _sqrt_value_rule(node: "Value", g: "Value") -> tuple:
    if node._data == 0.0:
        return (g * math.inf,)
    return (g * 0.5 / node,)


SQRT = register(Op("sqrt", _sqrt_float_rule, _sqrt_value_rule, examples=(
    Example(lambda a: a.sqrt(), 1, low=0.1, high=10.0, edges=[(1e-8,), (1e8,)],
            documented=[((0.0,), (math.inf,))]),
), code=Code(
    "_sqrt({a})", [("a", "+", "{g} * (0.5 / {out} if {out} != 0.0 else _inf)")],
    helpers={"_sqrt": _float_sqrt, "_inf": math.inf},
)))


def _abs(self: "Value") -> "Value":
    """|a|.   d/da = sign(a) (0 at a == 0)."""
    return _node(abs(self._data), self, ABS)


def _sign(x: float) -> float:
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return x  # 0.0 (the subgradient we choose), or NaN


def _abs_float_rule(node: "Value") -> None:
    a = node._parents
    a._grad += node._grad * _sign(a._data)


def _abs_value_rule(node: "Value", g: "Value") -> tuple:
    a = node._parents
    return (g * _sign(a._data),)


ABS = register(Op("abs", _abs_float_rule, _abs_value_rule, examples=(
    Example(lambda a: abs(a), 1, edges=[(-1e8,)], kinks=[0.0], documented=[((0.0,), (0.0,))]),
), code=Code("abs({a})", [("a", "+", "{g} * _sign({a})")], helpers={"_sign": _sign})))


# -- softplus -------------------------------------------------------------------------------


def _softplus(self: "Value") -> "Value":
    """log(1 + exp(a)).   d/da = sigmoid(a).   Never overflows: softplus(1000) == 1000.0."""
    return _node(_float_softplus(self._data), self, SOFTPLUS)


def _float_softplus(x: float) -> float:
    # For a > 0, log(1 + exp(a)) = a + log(1 + exp(-a)): every exponent is <= 0.
    if x > 0.0:
        return x + math.log(1.0 + math.exp(-x))
    return math.log(1.0 + math.exp(x))


def _softplus_float_rule(node: "Value") -> None:
    a = node._parents
    a._grad += node._grad * _float_sigmoid(a._data)


def _softplus_value_rule(node: "Value", g: "Value") -> tuple:
    a = node._parents
    return (g * a.sigmoid(),)


SOFTPLUS = register(Op("softplus", _softplus_float_rule, _softplus_value_rule, examples=(
    Example(lambda a: a.softplus(), 1, edges=[(700.0,), (-700.0,), (1000.0,), (0.0,)]),
), code=Code("_softplus({a})", [("a", "+", "{g} * _sigmoid({a})")],
             helpers={"_softplus": _float_softplus, "_sigmoid": _float_sigmoid})))


# -- the class ------------------------------------------------------------------------------


def _as_float(data: object, where: str) -> float:
    kind = type(data)
    if kind is float:
        return data  # type: ignore[return-value]
    if kind is bool or not isinstance(data, Real):
        raise TypeError(f"{where} needs an int or float, got {kind.__name__}: {data!r}")
    try:
        return float(data)
    except OverflowError:
        digits = len(str(abs(int(data))))
        message = f"{where}: an int of {digits} digits is too large for a float"
        raise OverflowError(message) from None


def _assigned_number(number: object, attribute: str) -> float:
    """``number`` as the float to store in ``.data`` or ``.grad``; a TypeError that says
    what to write instead for anything else (a Value, a str, a bool, None for data)."""
    kind = type(number)
    if kind is not bool and isinstance(number, Real):
        return _as_float(number, f"Value.{attribute}")
    if attribute == "data":
        fix = (
            "assign a number, e.g. p.data -= lr * p.grad"
            if kind is Value
            else "assign an int or float"
        )
    else:
        fix = "reset gradients with zero_grad() or p.grad = 0.0"
    got = f"a Value (data={number._data!r})" if kind is Value else f"{kind.__name__} {number!r}"
    raise TypeError(f"Value.{attribute} must be an int or float, got {got}: {fix}")


def _compared(other: object, symbol: str) -> float:
    """The number to compare ``data`` with: a Value's data, or a real number."""
    if type(other) is Value:
        return other._data
    c = _constant(other)
    if c is None:
        raise TypeError(
            f"'{symbol}' compares a Value with a Value or a number, not {type(other).__name__}"
        )
    return c


def _equality_with_number(number: object, symbol: str) -> None:
    raise TypeError(
        f"Value {symbol} {number!r}: '==' between Values is identity (they are graph nodes); "
        f"compare the numbers instead: v.data {symbol} {number!r}"
    )


class Value:
    """A scalar in a computation graph: ``data``, its gradient ``grad`` and its history.

    >>> x = Value(2.0, label="x")
    >>> y = x * x + 3 * x
    >>> y.backward()
    >>> y.data, x.grad
    (10.0, 7.0)
    """

    # _parents: a tuple of Values, or the one parent itself (see the module docstring).
    # _walk: the engine's walk mark during backward() (engine.UNSEEN at all other times).
    # _data, _grad: the number and its gradient behind the checked ``data`` and ``grad``
    # properties. The engine, the ops and compiled code read and write the slots
    # directly, so the checks cost nothing on the hot path.
    __slots__ = ("_data", "_grad", "label", "_parents", "_op", "_saved", "_walk")

    def __init__(self, data: Number, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        self._data = _as_float(data, "Value(data)")
        self._grad = 0.0
        self.label = label
        self._parents: object = ()
        self._op = LEAF
        self._saved: object = None
        self._walk = engine.UNSEEN

    # -- graph structure (read-only) -----------------------------------------------------

    @property
    def parents(self) -> tuple["Value", ...]:
        """The operand Values, in call order, duplicates kept; ``()`` for a leaf."""
        parents = self._parents
        return parents if type(parents) is tuple else (parents,)

    @property
    def op(self) -> str:
        """The operation that made this Value (``'*'``, ``'tanh'``, ...); ``''`` for a leaf."""
        return self._op.name

    # -- the number and its gradient, checked on assignment -------------------------------

    @property
    def data(self) -> float:
        """The number this Value holds; assign an int or float (``p.data -= lr * p.grad``)."""
        return self._data

    @data.setter
    def data(self, number: object) -> None:
        if type(number) is not float:
            number = _assigned_number(number, "data")
        self._data = number

    @property
    def grad(self) -> float:
        """d(output)/d(self), accumulated by ``backward()``; 0.0 until then.

        Assign an int or float; ``None`` (PyTorch's "no gradient yet") is stored as 0.0.
        """
        return self._grad

    @grad.setter
    def grad(self, number: object) -> None:
        if type(number) is not float:
            number = 0.0 if number is None else _assigned_number(number, "grad")
        self._grad = number

    def item(self) -> float:
        """The number this Value holds, as a float (PyTorch's ``tensor.item()``)."""
        return self._data

    def __repr__(self) -> str:
        parts = [f"data={self._data!r}", f"grad={self._grad!r}"]
        if self.label:
            parts.append(f"label={self.label!r}")
        if self._op is not LEAF:
            parts.append(f"op={self._op.name!r}")
        return f"Value({', '.join(parts)})"

    # -- a Python scalar where that is safe: these read ``data`` and return plain numbers,
    # outside the graph (no gradient flows through them) --------------------------------

    def __float__(self) -> float:
        return self._data

    def __int__(self) -> int:
        return int(self._data)

    def __trunc__(self) -> int:
        return math.trunc(self._data)

    def __floor__(self) -> int:
        return math.floor(self._data)

    def __ceil__(self) -> int:
        return math.ceil(self._data)

    def __round__(self, ndigits: object = None) -> Number:
        return round(self._data, ndigits)  # type: ignore[call-overload]

    def __format__(self, spec: str) -> str:
        """``f"{v:.3f}"`` formats ``v.data``; ``f"{v}"`` is ``repr(v)``."""
        return format(self._data, spec) if spec else repr(self)

    def __bool__(self) -> bool:
        """``v.data != 0``, as for a PyTorch scalar (so ``if loss:`` reads the number)."""
        return self._data != 0.0

    def __lt__(self, other: Operand) -> bool:
        return self._data < _compared(other, "<")

    def __le__(self, other: Operand) -> bool:
        return self._data <= _compared(other, "<=")

    def __gt__(self, other: Operand) -> bool:
        return self._data > _compared(other, ">")

    def __ge__(self, other: Operand) -> bool:
        return self._data >= _compared(other, ">=")

    # ``==`` stays identity, because Values are graph nodes and dict keys (the engine,
    # draw and grad key on them). Comparing with a number would then be silently False
    # beside a ``<=`` that reads ``data``, so it raises instead.
    def __eq__(self, other: object) -> bool:
        if type(other) is Value:
            return self is other
        if _constant(other) is not None:
            _equality_with_number(other, "==")
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if type(other) is Value:
            return self is not other
        if _constant(other) is not None:
            _equality_with_number(other, "!=")
        return NotImplemented

    __hash__ = object.__hash__

    # -- gradients -----------------------------------------------------------------------

    def backward(self) -> None:
        """Add d(self)/d(node) into ``node.grad`` for every node of the graph.

        Gradients accumulate, as in PyTorch: calling ``backward()`` twice doubles every
        gradient. Reset parameters with a module's or optimizer's ``zero_grad()``.
        """
        engine.backward(self)

    def detach(self) -> "Value":
        """A new leaf with the same data (and label): gradients do not flow through it."""
        return Value(self._data, self.label)

    # -- the operations, each defined in its block above -----------------------------------

    __add__ = __radd__ = _add
    __sub__ = _sub
    __rsub__ = _rsub
    __neg__ = _neg
    __mul__ = __rmul__ = _mul
    __truediv__ = _truediv
    __rtruediv__ = _rtruediv
    __pow__ = _pow
    __rpow__ = _rpow
    __abs__ = _abs
    exp = _exp
    log = _log
    tanh = _tanh
    sigmoid = _sigmoid
    relu = _relu
    sqrt = _sqrt
    softplus = _softplus

    def __pos__(self) -> "Value":
        return self


def data_of(values: "Iterable[Value]") -> list:
    """The ``data`` of every Value in ``values``, as a list of floats.

    The same numbers as ``[v.data for v in values]``, read straight from the slot: nn's
    float paths snapshot their weights with it.
    """
    # hot: skips the property's Python call: per Value, 30 vs 64 ns on a row of 8 (the
    # call included), 10 vs 42 ns on long lists. The RNN's no_grad path reads 1,552
    # weights a batch of 16; through the property it ran 1.25x slower.
    return [v._data for v in values]
