"""The scalar ``Value``: one float, its gradient, its parents and how to differentiate it.

Every operation computes its float result and, while grad mode is on, returns a node
whose ``parents`` are the operand Values in call order (``a + a`` has ``(a, a)``) and
whose ``Op`` says how to send the output's gradient back to them. An ``Op`` holds two
rules, written next to the forward method they belong to:

* ``backward(node)``: the float rule used by ``Value.backward()``; it adds
  ``node.grad * d(node)/d(parent)`` into each parent's ``.grad``.
* ``vjp(node, g)``: the same derivative written with Value operations, used by
  ``autograd.grad(..., create_graph=True)``; it returns each parent's share of the
  output gradient ``g`` as Values, so the result can be differentiated again.

Rules receive the node as an argument instead of capturing it, so a graph holds no
reference cycles and is freed by reference counting as soon as it is dropped.
Constants (the ``2`` in ``x * 2``) are not wrapped in Values: they live in the node's
``_saved`` slot, which keeps nodes small and graphs free of clutter. For the same reason
a node with a single parent stores that parent itself in ``_parents`` rather than a
one-element tuple (``parents`` always gives a tuple): most nodes have one parent, and
skipping the tuple saves memory, time and work for the cyclic garbage collector.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Callable, Optional, Union

from . import engine, gc_policy
from .anomaly import remember_creation
from .grad_mode import _mode, slow_path_requests

Number = Union[int, float]
Operand = Union["Value", int, float]

_new = object.__new__


class Op:
    """One kind of operation: its display name, its float rule and its Value rule."""

    __slots__ = ("name", "backward", "vjp", "label")

    def __init__(
        self,
        name: str,
        backward: Optional[Callable[["Value"], None]],
        vjp: Optional[Callable[["Value", "Value"], tuple]],
        label: str = "",
    ) -> None:
        self.name = name
        self.backward = backward
        self.vjp = vjp
        # How drawings show the operation: its name, or a format where "{}" stands for
        # its number operand, e.g. "* {}" for x * 2.
        self.label = label or name

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


LEAF = Op("", None, None)


def _node(data: float, parents: object, op: Op, saved: object = None) -> "Value":
    """The result of an operation: a graph node, or a leaf when grad mode is off."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._pending = 0
    if slow_path_requests[0]:
        _attach_history_slowly(out, parents, op, saved)
    else:
        out._parents = parents
        out._op = op
        out._saved = saved
    return out


def _attach_history_slowly(out: "Value", parents: object, op: Op, saved: object) -> None:
    """Node creation while a no_grad or detect_anomaly block is open in some thread, or
    while the garbage-collector hook is out (see ``gc_policy``)."""
    if _mode.enabled:
        if not gc_policy.is_watching():
            gc_policy.start_watching()
        out._parents = parents
        out._op = op
        out._saved = saved
        if _mode.anomaly:
            remember_creation(out)
    else:
        out._parents = ()
        out._op = LEAF
        out._saved = None


def _constant(x: object) -> Optional[Number]:
    """``x`` as a number usable beside a Value, or None when it is not a real number."""
    kind = type(x)
    if kind is float or kind is int:
        return x  # type: ignore[return-value]
    if isinstance(x, Real) and kind is not bool:
        return float(x)
    return None


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


def _fmt(x: float) -> str:
    return repr(float(x))


# ---------------------------------------------------------------------------------------
# Powers share their checks: the forward (with errors that name the operation) and a
# derivative that overflows to infinity instead of raising in the middle of backward().


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
        raise OverflowError(
            f"pow: {_fmt(base)} ** {_fmt(exponent)} overflows a float"
        ) from None


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


class Value:
    """A scalar in a computation graph: ``data``, its gradient ``grad`` and its history.

    >>> x = Value(2.0, label="x")
    >>> y = x * x + 3 * x
    >>> y.backward()
    >>> y.data, x.grad
    (10.0, 7.0)
    """

    # _pending is the engine's scratch counter during backward(); 0 at all other times.
    # _parents: a tuple of Values, or the one parent itself (see the module docstring).
    __slots__ = ("data", "grad", "label", "_parents", "_op", "_saved", "_pending")

    def __init__(self, data: Number, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        self.data = _as_float(data, "Value(data)")
        self.grad = 0.0
        self.label = label
        self._parents: object = ()
        self._op = LEAF
        self._saved: object = None
        self._pending = 0

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

    def __repr__(self) -> str:
        parts = [f"data={self.data!r}", f"grad={self.grad!r}"]
        if self.label:
            parts.append(f"label={self.label!r}")
        if self._parents:
            parts.append(f"op={self._op.name!r}")
        return f"Value({', '.join(parts)})"

    def __float__(self) -> float:
        return self.data

    # -- gradients -----------------------------------------------------------------------

    def backward(self) -> None:
        """Add d(self)/d(node) into ``node.grad`` for every node of the graph.

        Gradients accumulate, as in PyTorch: calling ``backward()`` twice doubles every
        gradient. Reset parameters with a module's or optimizer's ``zero_grad()``.
        """
        engine.backward(self)

    def detach(self) -> "Value":
        """A new leaf with the same data (and label): gradients do not flow through it."""
        return Value(self.data, self.label)

    # -- addition and subtraction ----------------------------------------------------------

    def __add__(self, other: Operand) -> "Value":
        """a + b.   d/da = 1, d/db = 1."""
        kind = type(other)
        if kind is Value:
            return _node(self.data + other.data, (self, other), ADD)
        c = other if kind is float or kind is int else _constant(other)
        if c is None:
            return NotImplemented
        out = _new(Value)  # _node, inlined: x * c and x + c are the hottest paths
        out.data = self.data + c
        out.grad = 0.0
        out.label = ""
        out._pending = 0
        if slow_path_requests[0]:
            _attach_history_slowly(out, self, ADD_CONSTANT, c)
        else:
            out._parents = self
            out._op = ADD_CONSTANT
            out._saved = c
        return out

    # c + a == a + c exactly in floating point, so the reflected form is the same method.
    __radd__ = __add__

    @staticmethod
    def _add_backward(node: "Value") -> None:
        a, b = node._parents
        g = node.grad
        a.grad += g
        b.grad += g

    @staticmethod
    def _add_vjp(node: "Value", g: "Value") -> tuple:
        return g, g

    @staticmethod
    def _pass_through_backward(node: "Value") -> None:
        a = node._parents
        a.grad += node.grad

    @staticmethod
    def _pass_through_vjp(node: "Value", g: "Value") -> tuple:
        return (g,)

    def __sub__(self, other: Operand) -> "Value":
        """a - b.   d/da = 1, d/db = -1."""
        kind = type(other)
        if kind is Value:
            return _node(self.data - other.data, (self, other), SUB)
        c = other if kind is float or kind is int else _constant(other)
        if c is None:
            return NotImplemented
        return _node(self.data - c, self, SUB_CONSTANT, c)

    def __rsub__(self, other: Number) -> "Value":
        """c - a.   d/da = -1."""
        c = _constant(other)
        if c is None:
            return NotImplemented
        return _node(c - self.data, self, RSUB_CONSTANT, c)

    @staticmethod
    def _sub_backward(node: "Value") -> None:
        a, b = node._parents
        g = node.grad
        a.grad += g
        b.grad -= g

    @staticmethod
    def _sub_vjp(node: "Value", g: "Value") -> tuple:
        return g, -g

    def __neg__(self) -> "Value":
        """-a.   d/da = -1."""
        return _node(-self.data, self, NEG)

    @staticmethod
    def _neg_backward(node: "Value") -> None:
        a = node._parents
        a.grad -= node.grad

    @staticmethod
    def _neg_vjp(node: "Value", g: "Value") -> tuple:
        return (-g,)

    def __pos__(self) -> "Value":
        return self

    # -- multiplication and division -------------------------------------------------------

    def __mul__(self, other: Operand) -> "Value":
        """a * b.   d/da = b, d/db = a."""
        kind = type(other)
        if kind is Value:
            return _node(self.data * other.data, (self, other), MUL)
        c = other if kind is float or kind is int else _constant(other)
        if c is None:
            return NotImplemented
        out = _new(Value)  # _node, inlined: x * c and x + c are the hottest paths
        out.data = self.data * c
        out.grad = 0.0
        out.label = ""
        out._pending = 0
        if slow_path_requests[0]:
            _attach_history_slowly(out, self, MUL_CONSTANT, c)
        else:
            out._parents = self
            out._op = MUL_CONSTANT
            out._saved = c
        return out

    __rmul__ = __mul__  # c * a == a * c exactly in floating point

    @staticmethod
    def _mul_backward(node: "Value") -> None:
        a, b = node._parents
        g = node.grad
        a.grad += g * b.data
        b.grad += g * a.data

    @staticmethod
    def _mul_vjp(node: "Value", g: "Value") -> tuple:
        a, b = node._parents
        return g * b, g * a

    @staticmethod
    def _scale_backward(node: "Value") -> None:
        a = node._parents
        a.grad += node.grad * node._saved

    @staticmethod
    def _scale_vjp(node: "Value", g: "Value") -> tuple:
        return (g * node._saved,)

    def __truediv__(self, other: Operand) -> "Value":
        """a / b.   d/da = 1/b, d/db = -a/b**2 = -(a/b)/b."""
        if type(other) is Value:
            if other.data == 0.0:
                raise ZeroDivisionError(
                    f"division: {_fmt(self.data)} / {_fmt(other.data)} divides by zero"
                )
            return _node(self.data / other.data, (self, other), DIV)
        c = _constant(other)
        if c is None:
            return NotImplemented
        if c == 0:
            raise ZeroDivisionError(
                f"division: {_fmt(self.data)} / {_fmt(c)} divides by zero"
            )
        return _node(self.data / c, self, DIV_CONSTANT, c)

    def __rtruediv__(self, other: Number) -> "Value":
        """c / a.   d/da = -c/a**2 = -(c/a)/a."""
        c = _constant(other)
        if c is None:
            return NotImplemented
        if self.data == 0.0:
            raise ZeroDivisionError(
                f"division: {_fmt(c)} / {_fmt(self.data)} divides by zero"
            )
        return _node(c / self.data, self, RDIV_CONSTANT, c)

    @staticmethod
    def _div_backward(node: "Value") -> None:
        a, b = node._parents
        g_over_b = node.grad / b.data
        a.grad += g_over_b
        b.grad -= g_over_b * node.data

    @staticmethod
    def _div_vjp(node: "Value", g: "Value") -> tuple:
        a, b = node._parents
        g_over_b = g / b
        return g_over_b, -(g_over_b * node)

    @staticmethod
    def _div_constant_backward(node: "Value") -> None:
        a = node._parents
        a.grad += node.grad / node._saved

    @staticmethod
    def _div_constant_vjp(node: "Value", g: "Value") -> tuple:
        return (g / node._saved,)

    @staticmethod
    def _rdiv_constant_backward(node: "Value") -> None:
        a = node._parents
        a.grad -= node.grad * node.data / a.data

    @staticmethod
    def _rdiv_constant_vjp(node: "Value", g: "Value") -> tuple:
        a = node._parents
        return (-(g * node) / a,)

    # -- powers ----------------------------------------------------------------------------

    def __pow__(self, other: Operand) -> "Value":
        """a ** n.   d/da = n * a**(n-1) (0 everywhere when n == 0);
        with a Value exponent b also d/db = a**b * log(a) (0 at a == 0)."""
        if type(other) is Value:
            _check_value_exponent(self.data, other.data)
            return _node(_power(self.data, other.data), (self, other), POW)
        c = _constant(other)
        if c is None:
            return NotImplemented
        return _node(_power(self.data, c), self, POW_CONSTANT, c)

    def __rpow__(self, other: Number) -> "Value":
        """c ** a.   d/da = c**a * log(c) (0 at c == 0)."""
        c = _constant(other)
        if c is None:
            return NotImplemented
        _check_value_exponent(c, self.data)
        return _node(_power(c, self.data), self, RPOW_CONSTANT, c)

    @staticmethod
    def _pow_backward(node: "Value") -> None:
        a, b = node._parents
        g = node.grad
        a.grad += g * _power_derivative(a.data, b.data)
        b.grad += g * node.data * _log_or_zero(a.data)

    @staticmethod
    def _pow_vjp(node: "Value", g: "Value") -> tuple:
        a, b = node._parents
        if a.data == 0.0:
            # a ** (b - 1) may not exist at 0: use the slope's value (no higher orders).
            d_base = g * _power_derivative(a.data, b.data)
        else:
            # Even at b == 0 keep b in the expression: its derivatives in b are not 0.
            d_base = g * b * a ** (b - 1)
        d_exponent = g * node * a.log() if a.data > 0.0 else g * 0.0
        return d_base, d_exponent

    @staticmethod
    def _pow_constant_backward(node: "Value") -> None:
        a = node._parents
        a.grad += node.grad * _power_derivative(a.data, node._saved)

    @staticmethod
    def _pow_constant_vjp(node: "Value", g: "Value") -> tuple:
        a = node._parents
        n = node._saved
        if n == 0 or (a.data == 0.0 and n < 1):
            return (g * _power_derivative(a.data, n),)
        return (g * n * a ** (n - 1),)

    @staticmethod
    def _rpow_constant_backward(node: "Value") -> None:
        a = node._parents
        a.grad += node.grad * node.data * _log_or_zero(node._saved)

    @staticmethod
    def _rpow_constant_vjp(node: "Value", g: "Value") -> tuple:
        return (g * node * _log_or_zero(node._saved),)

    # -- elementwise functions -------------------------------------------------------------

    def exp(self) -> "Value":
        """exp(a).   d/da = exp(a)."""
        try:
            result = math.exp(self.data)
        except OverflowError:
            raise OverflowError(
                f"exp: exp({_fmt(self.data)}) overflows a float "
                "(the largest finite result is exp(709.78...))"
            ) from None
        return _node(result, self, EXP)

    @staticmethod
    def _exp_backward(node: "Value") -> None:
        a = node._parents
        a.grad += node.grad * node.data

    @staticmethod
    def _exp_vjp(node: "Value", g: "Value") -> tuple:
        return (g * node,)

    def log(self) -> "Value":
        """Natural log.   d/da = 1/a.   Needs a > 0."""
        x = self.data
        if x <= 0.0:
            raise ValueError(f"log: needs a positive number, got {_fmt(x)}")
        return _node(math.log(x), self, LOG)

    @staticmethod
    def _log_backward(node: "Value") -> None:
        a = node._parents
        a.grad += node.grad / a.data

    @staticmethod
    def _log_vjp(node: "Value", g: "Value") -> tuple:
        a = node._parents
        return (g / a,)

    def tanh(self) -> "Value":
        """tanh(a).   d/da = 1 - tanh(a)**2.   Never overflows: tanh(1000) == 1.0."""
        return _node(math.tanh(self.data), self, TANH)

    @staticmethod
    def _tanh_backward(node: "Value") -> None:
        a = node._parents
        t = node.data
        a.grad += node.grad * (1.0 - t * t)

    @staticmethod
    def _tanh_vjp(node: "Value", g: "Value") -> tuple:
        return (g * (1.0 - node * node),)

    def sigmoid(self) -> "Value":
        """1 / (1 + exp(-a)).   d/da = s * (1 - s).   Never overflows."""
        x = self.data
        if x >= 0.0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:  # exp(-x) would overflow for very negative x; this form cannot
            e = math.exp(x)
            s = e / (1.0 + e)
        return _node(s, self, SIGMOID)

    @staticmethod
    def _sigmoid_backward(node: "Value") -> None:
        a = node._parents
        s = node.data
        a.grad += node.grad * s * (1.0 - s)

    @staticmethod
    def _sigmoid_vjp(node: "Value", g: "Value") -> tuple:
        return (g * node * (1.0 - node),)

    def relu(self) -> "Value":
        """max(a, 0).   d/da = 1 for a > 0, else 0 (0 at a == 0).   NaN stays NaN."""
        x = self.data
        out = _new(Value)  # _node, inlined: a ReLU follows every hidden neuron
        out.data = x if x > 0.0 or x != x else 0.0
        out.grad = 0.0
        out.label = ""
        out._pending = 0
        if slow_path_requests[0]:
            _attach_history_slowly(out, self, RELU, None)
        else:
            out._parents = self
            out._op = RELU
            out._saved = None
        return out

    @staticmethod
    def _relu_slope(x: float) -> float:
        if x > 0.0:
            return 1.0
        return x if x != x else 0.0  # NaN in, NaN out

    @staticmethod
    def _relu_backward(node: "Value") -> None:
        a = node._parents
        x = a.data
        if x > 0.0:
            a.grad += node.grad
        elif x != x:
            a.grad += x

    @staticmethod
    def _relu_vjp(node: "Value", g: "Value") -> tuple:
        a = node._parents
        return (g * Value._relu_slope(a.data),)

    def sqrt(self) -> "Value":
        """sqrt(a).   d/da = 1 / (2 sqrt(a)) (infinite at 0).   Needs a >= 0."""
        x = self.data
        if x < 0.0:
            raise ValueError(f"sqrt: needs a number >= 0, got {_fmt(x)}")
        return _node(math.sqrt(x), self, SQRT)

    @staticmethod
    def _sqrt_slope(root: float) -> float:
        return 0.5 / root if root != 0.0 else math.inf

    @staticmethod
    def _sqrt_backward(node: "Value") -> None:
        a = node._parents
        a.grad += node.grad * Value._sqrt_slope(node.data)

    @staticmethod
    def _sqrt_vjp(node: "Value", g: "Value") -> tuple:
        if node.data == 0.0:
            return (g * math.inf,)
        return (g * 0.5 / node,)

    def __abs__(self) -> "Value":
        """|a|.   d/da = sign(a) (0 at a == 0)."""
        return _node(abs(self.data), self, ABS)

    @staticmethod
    def _sign(x: float) -> float:
        if x > 0.0:
            return 1.0
        if x < 0.0:
            return -1.0
        return x  # 0.0 (the subgradient we choose), or NaN

    @staticmethod
    def _abs_backward(node: "Value") -> None:
        a = node._parents
        a.grad += node.grad * Value._sign(a.data)

    @staticmethod
    def _abs_vjp(node: "Value", g: "Value") -> tuple:
        a = node._parents
        return (g * Value._sign(a.data),)


ADD = Op("+", Value._add_backward, Value._add_vjp)
ADD_CONSTANT = Op("+", Value._pass_through_backward, Value._pass_through_vjp, "+ {}")
SUB = Op("-", Value._sub_backward, Value._sub_vjp)
SUB_CONSTANT = Op("-", Value._pass_through_backward, Value._pass_through_vjp, "- {}")
RSUB_CONSTANT = Op("-", Value._neg_backward, Value._neg_vjp, "{} -")
NEG = Op("neg", Value._neg_backward, Value._neg_vjp)
MUL = Op("*", Value._mul_backward, Value._mul_vjp)
MUL_CONSTANT = Op("*", Value._scale_backward, Value._scale_vjp, "* {}")
DIV = Op("/", Value._div_backward, Value._div_vjp)
DIV_CONSTANT = Op("/", Value._div_constant_backward, Value._div_constant_vjp, "/ {}")
RDIV_CONSTANT = Op("/", Value._rdiv_constant_backward, Value._rdiv_constant_vjp, "{} /")
POW = Op("**", Value._pow_backward, Value._pow_vjp)
POW_CONSTANT = Op("**", Value._pow_constant_backward, Value._pow_constant_vjp, "** {}")
RPOW_CONSTANT = Op("**", Value._rpow_constant_backward, Value._rpow_constant_vjp, "{} **")
EXP = Op("exp", Value._exp_backward, Value._exp_vjp)
LOG = Op("log", Value._log_backward, Value._log_vjp)
TANH = Op("tanh", Value._tanh_backward, Value._tanh_vjp)
SIGMOID = Op("sigmoid", Value._sigmoid_backward, Value._sigmoid_vjp)
RELU = Op("relu", Value._relu_backward, Value._relu_vjp)
SQRT = Op("sqrt", Value._sqrt_backward, Value._sqrt_vjp)
ABS = Op("abs", Value._abs_backward, Value._abs_vjp)
