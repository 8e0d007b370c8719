"""The elementwise functions as plain functions, for a Value or a number.

``math.exp(v)`` accepts a Value (through ``float(v)``) and returns a float: the gradient
stops there, without a word. These are the drop-ins that keep it. Given a Value, each
returns the node its method makes (``autograd.exp(v)`` is ``v.exp()``); given a number,
the float that method computes, with the same domain errors (``autograd.log(-1.0)``
raises the ValueError that ``Value(-1.0).log()`` raises).

>>> import autograd
>>> x = autograd.Value(0.5)
>>> y = autograd.tanh(x) * 2
>>> y.backward(); round(x.grad, 6)
1.572895
>>> autograd.tanh(0.5) == y.data / 2
True
"""

from __future__ import annotations

from typing import Union

from . import floatmath
from .value import Value, _as_float, _float_exp, _float_log, _float_softplus, _float_sqrt

Number = Union[int, float]

__all__ = ["exp", "log", "tanh", "sigmoid", "relu", "sqrt", "softplus"]


def exp(x: Union[Value, Number]) -> Union[Value, float]:
    """e to the x.   d/dx = exp(x).   Overflow (x > 709.78...) raises OverflowError."""
    return x.exp() if isinstance(x, Value) else _float_exp(_as_float(x, "exp(x)"))


def log(x: Union[Value, Number]) -> Union[Value, float]:
    """The natural log.   d/dx = 1/x.   Needs x > 0 (ValueError otherwise)."""
    return x.log() if isinstance(x, Value) else _float_log(_as_float(x, "log(x)"))


def tanh(x: Union[Value, Number]) -> Union[Value, float]:
    """tanh(x).   d/dx = 1 - tanh(x)**2.   Never overflows."""
    return x.tanh() if isinstance(x, Value) else floatmath.tanh(_as_float(x, "tanh(x)"))


def sigmoid(x: Union[Value, Number]) -> Union[Value, float]:
    """1 / (1 + exp(-x)).   d/dx = sigmoid(x) (1 - sigmoid(x)).   Never overflows."""
    if isinstance(x, Value):
        return x.sigmoid()
    return floatmath.sigmoid(_as_float(x, "sigmoid(x)"))


def relu(x: Union[Value, Number]) -> Union[Value, float]:
    """max(x, 0).   d/dx = 1 for x > 0, else 0 (0 at x = 0)."""
    return x.relu() if isinstance(x, Value) else floatmath.relu(_as_float(x, "relu(x)"))


def sqrt(x: Union[Value, Number]) -> Union[Value, float]:
    """The square root.   d/dx = 1 / (2 sqrt(x)), infinite at 0.   Needs x >= 0."""
    return x.sqrt() if isinstance(x, Value) else _float_sqrt(_as_float(x, "sqrt(x)"))


def softplus(x: Union[Value, Number]) -> Union[Value, float]:
    """log(1 + exp(x)).   d/dx = sigmoid(x).   Never overflows."""
    if isinstance(x, Value):
        return x.softplus()
    return _float_softplus(_as_float(x, "softplus(x)"))
