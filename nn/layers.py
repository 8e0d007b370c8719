"""Layers: ``Neuron``, ``Layer``, ``MLP`` and ``BatchNorm1d`` (``nn.Linear`` is in linear.py).

A neuron computes act(w . x + b) as one ``autograd.dot`` node plus one activation node
(none for ``"linear"``), which keeps graphs small and training fast. Layers take a list
of Values or plain floats (a batch of data needs no wrapping) and return a list; a
``Neuron`` and an ``MLP`` whose last layer has one output return a single Value.

References: micrograd ``nn.py`` (Neuron/Layer/MLP, linear last layer); Ioffe & Szegedy
2015, "Batch Normalization: Accelerating Deep Network Training by Reducing Internal
Covariate Shift"; PyTorch ``torch.nn.BatchNorm1d`` (running statistics convention).
"""

from __future__ import annotations

import math
import random
from operator import mul
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import autograd
from autograd import Value, data_of, floatmath

from ._checks import check_choice, check_size
from .init import check_scheme, initial_weights
from .module import Module

__all__ = ["ACTIVATIONS", "FLOAT_ACTIVATIONS", "Neuron", "Layer", "MLP", "BatchNorm1d"]

Input = Sequence[Union[Value, float]]

ACTIVATIONS: dict[str, Optional[Callable[[Value], Value]]] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": None,
}

_dot = autograd.dot
_matvec = autograd.matvec
_recording = autograd.is_grad_enabled


# The same activations on plain floats, for inference under no_grad: autograd.floatmath,
# the formulas the Value methods compute, so both paths give identical numbers.
FLOAT_ACTIVATIONS: dict[str, Optional[Callable[[float], float]]] = {
    "relu": floatmath.relu,
    "tanh": floatmath.tanh,
    "sigmoid": floatmath.sigmoid,
    "linear": None,
}
_relu = floatmath.relu


def _as_floats(owner: str, x: Input) -> list:
    """The input vector's numbers: Values read, numbers kept, anything else refused."""
    numbers = [v.data if type(v) is Value else v for v in x]
    # hot: a loop, not set(map(type, numbers)) <= {float, int}: 253 vs 444 ns on the
    # 2-number inputs of the RNN's no_grad path (8 a sequence), 768 vs 932 on 16.
    for v in numbers:
        kind = type(v)
        if kind is not float and kind is not int:
            raise TypeError(f"{owner} takes Values or numbers, got {kind.__name__}: {v!r}")
    return numbers


def _activation(name: str) -> Optional[Callable[[Value], Value]]:
    return ACTIVATIONS[check_choice("activation", name, ACTIVATIONS)]


def _has_length(x: object, n: int) -> bool:
    try:
        return len(x) == n  # type: ignore[arg-type]
    except TypeError:
        return False


def _check_input(owner: str, nin: int, x: object) -> None:
    try:
        n = len(x)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"{owner} takes a list of {nin} Values or numbers, got {type(x).__name__}"
        ) from None
    if n != nin:
        raise ValueError(f"{owner} expects {nin} inputs, got {n}")


def _require_activation(owner: str, activation: Optional[str]) -> None:
    # No default: a silent "relu" would clamp a hand-built output unit at 0.
    if activation is None:
        raise TypeError(
            f"{owner}: activation is required; pass one of "
            f"{', '.join(map(repr, ACTIVATIONS))} (\"linear\" for an output unit)"
        )


class Neuron(Module):
    """One unit: act(w . x + b) with ``nin`` weights ``w`` and a bias ``b``.

    ``activation`` must be given: ``"relu"``, ``"tanh"``, ``"sigmoid"`` or ``"linear"``
    (no default, so an output unit is never clamped at 0 by accident). Weights start
    from ``nn.init`` scheme ``init`` (``"uniform"``: U(-1, 1) as in micrograd;
    ``"xavier"``; ``"he"``), drawn from ``rng`` (a ``random.Random``; None uses the global
    ``random`` module); the bias starts at 0. ``fan_out`` (the width of the layer the
    neuron sits in) only matters to ``"xavier"``.
    """

    def __init__(
        self,
        nin: int,
        activation: Optional[str] = None,
        rng: Optional[random.Random] = None,
        init: str = "uniform",
        *,
        fan_out: int = 1,
    ) -> None:
        self.nin = check_size("Neuron: nin", nin)
        _require_activation("Neuron", activation)
        self.activation = activation
        self._act = _activation(activation)
        check_scheme(init)
        self.w = [Value(w) for w in initial_weights(init, nin, fan_out, rng)]
        self.b = Value(0.0)

    def forward(self, x: Input) -> Value:
        """act(w . x + b) for one input vector ``x`` of length ``nin``."""
        if not _has_length(x, self.nin):
            _check_input("Neuron", self.nin, x)
        out = _dot(self.w, x, self.b)
        act = self._act
        return act(out) if act is not None else out

    def extra_repr(self) -> str:
        return f"nin={self.nin}, activation={self.activation!r}"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs; returns a list of ``nout`` Values.

    ``activation`` must be given: ``"relu"``, ``"tanh"``, ``"sigmoid"`` or ``"linear"``
    (an output layer is usually ``"linear"``; ``nn.Linear`` is the PyTorch-shaped form).
    ``rng`` and ``init`` are as for ``Neuron`` (Xavier uses fan_out=nout).

    Raises:
        TypeError: ``activation`` omitted.
        ValueError: a size that is not a positive int, an unknown activation or init.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: Optional[str] = None,
        rng: Optional[random.Random] = None,
        init: str = "uniform",
    ) -> None:
        self.nin = check_size("Layer: nin", nin)
        self.nout = check_size("Layer: nout", nout)
        _require_activation("Layer", activation)
        self.activation = activation
        self._act = _activation(activation)
        check_scheme(init)
        self.neurons = [Neuron(nin, activation, rng, init, fan_out=nout) for _ in range(nout)]
        # The forward pass reads these lists directly: no per-call lookups. They hold the
        # Values gathered here (as parameters() caches them): change a weight through its
        # .data (optimizers, load_state_dict), not by putting a new Value in a neuron.
        self._rows = [list(n.w) for n in self.neurons]
        self._flat_weights = [w for row in self._rows for w in row]
        self._biases = [n.b for n in self.neurons]
        self._float_act = FLOAT_ACTIVATIONS[activation]

    def forward(self, x: Input) -> list[Value]:
        """[act(w_j . x + b_j) for each neuron j] for one input vector ``x``."""
        if not _has_length(x, self.nin):
            _check_input("Layer", self.nin, x)
        if not _recording():
            return [Value(v) for v in self.forward_floats(_as_floats("Layer", x))]
        # One dot node per neuron, as Neuron builds it; matvec reads x once for all.
        outs = _matvec(self._rows, x, self._biases, rows_data=self._weights_by_row())
        act = self._act
        return outs if act is None else list(map(act, outs))

    def read_floats(self) -> tuple[list[list[float]], list[float]]:
        """A snapshot of the weights (one list per neuron) and biases as floats."""
        return self._weights_by_row(), data_of(self._biases)

    def _weights_by_row(self) -> list[list[float]]:
        # hot: one pass over every weight, then a slice per neuron, instead of a pass
        # per neuron: 2.5% fewer instructions in a moons training step.
        n = self.nin
        flat = data_of(self._flat_weights)
        return [flat[i : i + n] for i in range(0, len(flat), n)]

    def forward_floats(
        self, x: Sequence[float], snapshot: Optional[tuple[list, list]] = None
    ) -> list[float]:
        """The layer on plain floats: what the dot and activation nodes would hold.

        Used for inference under ``no_grad``, where no node would be recorded anyway:
        the same arithmetic in the same order as each dot node, without building a
        Value per neuron. ``snapshot`` (from ``read_floats``) saves re-reading the
        weights for every row of a batch.
        """
        rows, biases = snapshot if snapshot is not None else self.read_floats()
        out = [sum(map(mul, row, x)) + b for row, b in zip(rows, biases)]
        act = self._float_act
        if act is _relu:
            # hot: floatmath.relu inlined, saving a call per unit: 0.3 us per 16-unit layer,
            # 8% of its forward with 2 inputs, 4% with 16. test_inference.py pins it equal.
            return [v if v > 0.0 or v != v else 0.0 for v in out]
        return out if act is None else list(map(act, out))

    def extra_repr(self) -> str:
        return f"nin={self.nin}, nout={self.nout}, activation={self.activation!r}"

    def __repr__(self) -> str:
        # nout identical neuron lines would drown the summary; the header says it all.
        return f"Layer({self.extra_repr()})"


class MLP(Module):
    """A multilayer perceptron: ``Layer(nin, nouts[0])``, ..., with a linear last layer.

    Hidden layers use ``activation``; the last layer is linear, as in micrograd, so the
    output is a raw score (use it with ``nn.losses``). Returns a Value when
    ``nouts[-1] == 1``, else a list. ``MLP(2, [16, 16, 1])`` has 337 parameters.
    ``rng`` and ``init`` are as for ``Neuron``; one ``rng`` feeds every layer in order.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        rng: Optional[random.Random] = None,
        init: str = "uniform",
    ) -> None:
        check_size("MLP: nin", nin)
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"MLP: nouts must be a non-empty list of layer sizes, got {nouts!r}")
        for i, n in enumerate(nouts):
            check_size(f"MLP: nouts[{i}]", n)
        _activation(activation)
        check_scheme(init)
        self.nin = nin
        self.nouts = list(nouts)
        self.activation = activation
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < last else "linear", rng, init)
            for i in range(len(nouts))
        ]

    def forward(self, x: Union[Input, Sequence[Input]]) -> Any:
        """The network's output for one input vector ``x`` of length ``nin``.

        ``x`` may also be a batch, a list of input vectors: the result is then the list
        of their outputs. Under ``no_grad`` a batch reads every weight once for all rows.
        """
        if isinstance(x, (list, tuple)) and x and isinstance(x[0], (list, tuple)):
            return self._batch(x)
        if not _recording():
            return self._infer(x, [layer.read_floats() for layer in self.layers])
        for layer in self.layers:
            x = layer.forward(x)  # the layers are ours: no need to go through __call__
        return x[0] if len(x) == 1 else x  # type: ignore[return-value]

    def _batch(self, rows: Sequence[Input]) -> list:
        if _recording():
            return [self(row) for row in rows]
        snapshots = [layer.read_floats() for layer in self.layers]
        return [self._infer(row, snapshots) for row in rows]

    def _infer(self, x: Input, snapshots: list) -> Union[Value, list[Value]]:
        # Inference: plain floats from layer to layer, Values only at the end.
        if not _has_length(x, self.nin):
            _check_input("MLP", self.nin, x)
        numbers = _as_floats("MLP", x)
        for layer, snapshot in zip(self.layers, snapshots):
            numbers = layer.forward_floats(numbers, snapshot)
        out = [Value(v) for v in numbers]
        return out[0] if len(out) == 1 else out

    def extra_repr(self) -> str:
        return (
            f"nin={self.nin}, nouts={self.nouts}, activation={self.activation!r}, "
            f"{len(self.parameters())} parameters"
        )


class BatchNorm1d(Module):
    """Batch normalisation over a batch of feature vectors (Ioffe & Szegedy 2015).

    Called on a batch (a list of N rows of ``num_features`` Values or numbers), returns
    N rows: y = gamma * (x - mean) / sqrt(var + eps) + beta, feature by feature.

    * Training mode (the default) uses the batch mean and the biased batch variance
      (divide by N), and updates the running statistics with PyTorch's convention:
      running = (1 - momentum) * running + momentum * batch_statistic, where the
      variance fed in is the unbiased one (divide by N - 1). N must be at least 2.
    * Eval mode (``.eval()``) uses ``running_mean`` and ``running_var`` instead and
      accepts any batch size, one included.

    ``gamma`` (starts at 1) and ``beta`` (at 0) are lists of parameters;
    ``running_mean`` (0) and ``running_var`` (1) are lists of floats saved in the
    state dict as buffers.
    """

    buffer_names = ("running_mean", "running_var")

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        self.num_features = check_size("BatchNorm1d: num_features", num_features)
        if not (isinstance(eps, (int, float)) and eps > 0 and math.isfinite(eps)):
            raise ValueError(f"BatchNorm1d: eps must be a positive number, got {eps!r}")
        if not (isinstance(momentum, (int, float)) and 0.0 <= momentum <= 1.0):
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1], got {momentum!r}")
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.gamma = [Value(1.0) for _ in range(num_features)]
        self.beta = [Value(0.0) for _ in range(num_features)]
        self.running_mean = [0.0] * num_features
        self.running_var = [1.0] * num_features

    def _check_state(self, state: Mapping[str, float], prefix: str) -> None:
        """A running variance must be finite and >= 0: eval divides by sqrt(var + eps)."""
        for i in range(len(self.running_var)):
            name = f"{prefix}running_var.{i}"
            value = state[name]
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(
                    f"load_state_dict: {name} is a variance, so it must be finite and "
                    f">= 0, got {value!r}"
                )

    def _check_batch(self, batch: Sequence[Input]) -> int:
        if isinstance(batch, (str, bytes)) or not isinstance(batch, Sequence):
            raise TypeError(
                f"BatchNorm1d takes a batch: a list of rows of {self.num_features} values, "
                f"got {type(batch).__name__}"
            )
        for i, row in enumerate(batch):
            if not isinstance(row, Sequence):
                raise ValueError(
                    f"BatchNorm1d({self.num_features}): row {i} is {row!r}, not a list of "
                    f"{self.num_features} values; pass a batch (a list of rows)"
                )
            if len(row) != self.num_features:
                raise ValueError(
                    f"BatchNorm1d({self.num_features}): row {i} has {len(row)} features, "
                    f"expected {self.num_features}"
                )
        return len(batch)

    def forward(self, batch: Sequence[Input]) -> list[list[Value]]:
        """Normalise ``batch`` (N rows) feature by feature; returns N rows."""
        n = self._check_batch(batch)
        if n == 0:
            raise ValueError("BatchNorm1d: the batch is empty; pass at least one row")
        columns = []
        if self.training:
            if n < 2:
                raise ValueError(
                    "BatchNorm1d: a training batch needs at least 2 rows to estimate a "
                    f"variance, got {n}; use a larger batch or call .eval() first"
                )
            # The running statistics are plain floats updated from .data: a compiled
            # replay would skip them, so compile refuses to trace this.
            autograd.side_effect(
                f"nn.BatchNorm1d({self.num_features}) in training mode updates its "
                "running_mean and running_var"
            )
            inv_n = 1.0 / n
            m = self.momentum
            for j, (gamma, beta) in enumerate(zip(self.gamma, self.beta)):
                column = [row[j] for row in batch]
                mean = autograd.sum(column) * inv_n
                centered = [x - mean for x in column]
                var = autograd.dot(centered, centered) * inv_n  # biased: divide by N
                scale = (var + self.eps) ** -0.5 * gamma
                columns.append([c * scale + beta for c in centered])
                self.running_mean[j] = (1.0 - m) * self.running_mean[j] + m * mean.data
                unbiased = var.data * n / (n - 1)
                self.running_var[j] = (1.0 - m) * self.running_var[j] + m * unbiased
        else:
            for j, (gamma, beta) in enumerate(zip(self.gamma, self.beta)):
                mu = self.running_mean[j]
                scale = gamma * (1.0 / math.sqrt(self.running_var[j] + self.eps))
                columns.append([(row[j] - mu) * scale + beta for row in batch])
        return [list(row) for row in zip(*columns)]

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


def checkpoint_sequential(modules: Sequence[Any], x: Any, every: int = 1) -> Any:
    """``x`` through each of ``modules`` in turn, checkpointing every ``every`` of them.

    The modules are cut into runs of ``every`` (the last may be shorter); each run is
    one ``autograd.checkpoint`` segment, so backward keeps only what enters and leaves
    each run and recomputes the rest: for an MLP, ``checkpoint_sequential(model.layers,
    x, every=2)`` gives the same output and bit-identical gradients as ``model(x)``
    (except that a one-output MLP returns a Value, and this returns the last layer's
    list). Under ``no_grad`` it just runs the modules.
    """
    if type(every) is not int or every < 1:
        raise ValueError(f"checkpoint_sequential: every must be a positive int, got {every!r}")
    modules = list(modules)
    if not modules:
        raise ValueError("checkpoint_sequential: modules is empty")
    for first in range(0, len(modules), every):
        run = modules[first : first + every]

        def forward(x: Any, run: list = run) -> Any:
            for module in run:
                x = module(x)
            return x

        last = first + len(run) - 1
        x = autograd.checkpoint(forward, x, label=f"modules {first}-{last}")
    return x
