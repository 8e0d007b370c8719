"""PyTorch-shaped layers: ``Linear`` (affine, no activation) and ``ReLU``, ``Tanh``, ``Sigmoid``.

``Linear(nin, nout)`` holds ``weight`` as ``nout`` rows of ``nin`` Values, PyTorch's
layout, so ``weight[j]`` is output j's row and ``y_j = weight[j] . x + bias[j]``; its
state dict names are PyTorch's with the scalar index appended (``weight.1.0``, ``bias.1``).
Each output is one ``autograd.dot`` node, built by ``autograd.matvec`` as ``nn.Layer``
builds its neurons, so the two are equally fast. The activations are modules without
parameters, to put between layers in an ``nn.Sequential``.

Reference: PyTorch ``torch.nn.Linear`` (layout, names, the U(-1/sqrt(nin), 1/sqrt(nin))
initialisation of weight and bias), ``torch.nn.ReLU`` / ``Tanh`` / ``Sigmoid``.
"""

from __future__ import annotations

import math
import random
from numbers import Real
from operator import mul
from typing import Callable, Optional, Sequence, Union

import autograd
from autograd import Value, data_of

from ._checks import check_size
from .layers import Input, _as_floats, _check_input, _has_length
from .module import Module

__all__ = ["Linear", "ReLU", "Tanh", "Sigmoid"]

_matvec = autograd.matvec
_recording = autograd.is_grad_enabled


class Linear(Module):
    """An affine layer ``y = weight x + bias``: ``nout`` outputs of ``nin`` inputs each.

    ``weight`` is a list of ``nout`` lists of ``nin`` Values and ``bias`` a list of
    ``nout`` Values, or None with ``bias=False``. Every one starts from
    U(-1/sqrt(nin), 1/sqrt(nin)), as in PyTorch, drawn from ``rng`` (a ``random.Random``;
    None uses the global ``random`` module) in the order weight (row by row), then bias.

    ``linear(x)`` takes a list of ``nin`` Values or numbers and returns a list of
    ``nout`` Values, one output included; no activation is applied.

    Args:
        nin: the number of inputs (PyTorch's ``in_features``).
        nout: the number of outputs (``out_features``).
        bias: whether to add a learned bias.
        rng: where the starting values are drawn from.

    Raises:
        ValueError: ``nin`` or ``nout`` not a positive int.
        TypeError: ``bias`` not a bool.
    """

    def __init__(
        self, nin: int, nout: int, bias: bool = True, *, rng: Optional[random.Random] = None
    ) -> None:
        self.in_features = check_size("Linear: nin", nin)
        self.out_features = check_size("Linear: nout", nout)
        if not isinstance(bias, bool):
            raise TypeError(f"Linear: bias must be True or False, got {bias!r}")
        bound = 1.0 / math.sqrt(nin)
        uniform = (rng if rng is not None else random).uniform
        self.weight = [[Value(uniform(-bound, bound)) for _ in range(nin)] for _ in range(nout)]
        self.bias = [Value(uniform(-bound, bound)) for _ in range(nout)] if bias else None
        self._flat_weights = [w for row in self.weight for w in row]

    def forward(self, x: Input) -> list[Value]:
        """[weight[j] . x + bias[j] for each output j] for one input vector ``x``."""
        if not _has_length(x, self.in_features):
            _check_input("Linear", self.in_features, x)
        if not _recording():
            return [Value(v) for v in self.forward_floats(_as_floats("Linear", x))]
        return _matvec(self.weight, x, self.bias)

    def forward_floats(self, x: Sequence[float]) -> list[float]:
        """The layer on plain floats, the numbers the dot nodes would hold (no_grad)."""
        n = self.in_features
        flat = data_of(self._flat_weights)
        rows = [flat[i : i + n] for i in range(0, len(flat), n)]
        # A dot node without a bias adds 0.0 (which turns -0.0 into 0.0): so do we.
        biases = data_of(self.bias) if self.bias is not None else [0.0] * len(rows)
        return [sum(map(mul, row, x)) + b for row, b in zip(rows, biases)]

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


Activated = Union[Value, list[Value]]


class _Elementwise(Module):
    """A function applied to one Value, or to each item of a list; no parameters."""

    _function: Callable[[Value], Value]

    def forward(self, x: Union[Value, float, Sequence[Union[Value, float]]]) -> Activated:
        """The function of ``x`` (a Value or number) or of each item of the list ``x``.

        Numbers become Values first, so the result is always Values.
        """
        function = self._function
        if type(x) is Value:
            return function(x)
        name = type(self).__name__
        if isinstance(x, Real) and not isinstance(x, bool):
            return function(Value(x))
        if isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
            raise TypeError(
                f"{name} takes a Value or a list of Values or numbers, got {type(x).__name__}"
            )
        out = []
        for i, item in enumerate(x):
            if type(item) is not Value:
                if not isinstance(item, Real) or isinstance(item, bool):
                    raise TypeError(
                        f"{name}: x[{i}] is a {type(item).__name__}, not a Value or number; "
                        f"{name} takes one vector (apply it to each row of a batch)"
                    )
                item = Value(item)
            out.append(function(item))
        return out

    def extra_repr(self) -> str:
        return ""


class ReLU(_Elementwise):
    """``max(0, x)`` elementwise (the derivative at 0 is 0)."""

    _function = staticmethod(Value.relu)


class Tanh(_Elementwise):
    """``tanh(x)`` elementwise."""

    _function = staticmethod(Value.tanh)


class Sigmoid(_Elementwise):
    """``1 / (1 + exp(-x))`` elementwise."""

    _function = staticmethod(Value.sigmoid)
