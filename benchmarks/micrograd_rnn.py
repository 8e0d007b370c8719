"""The binary-addition RNN step ported to micrograd, for ``make bench``.

micrograd 0.1.0's ``Value`` has ``+ * ** relu`` only; ``tanh``, ``exp`` and ``log`` are
added here in its own style (a closure per node that adds the local derivative times
``out.grad``), attached to its class in this process only. Neurons are micrograd's:
``sum((wi * xi for wi, xi in zip(w, x)), b)``. The loss is the same BCE as chainrule's,
t softplus(-z) + (1 - t) softplus(z), with softplus(z) = log(1 + exp(z)) (the logits of
this workload stay small, so the naive form does not overflow).
"""

from __future__ import annotations

import math
from typing import Any


def _tanh(self: Any) -> Any:
    from micrograd.engine import Value

    t = math.tanh(self.data)
    out = Value(t, (self,), "tanh")

    def _backward() -> None:
        self.grad += (1 - t * t) * out.grad
    out._backward = _backward
    return out


def _exp(self: Any) -> Any:
    from micrograd.engine import Value

    out = Value(math.exp(self.data), (self,), "exp")

    def _backward() -> None:
        self.grad += out.data * out.grad
    out._backward = _backward
    return out


def _log(self: Any) -> Any:
    from micrograd.engine import Value

    out = Value(math.log(self.data), (self,), "log")

    def _backward() -> None:
        self.grad += out.grad / self.data
    out._backward = _backward
    return out


def install() -> None:
    """Give micrograd's Value ``tanh``, ``exp`` and ``log`` (this process only)."""
    from micrograd.engine import Value

    Value.tanh, Value.exp, Value.log = _tanh, _exp, _log


class Adder:
    """micrograd's port of ``nn.examples.binary_addition.Adder``, from its weights."""

    def __init__(self, chainrule_adder: Any) -> None:
        from micrograd.engine import Value

        install()
        # One micrograd Value per chainrule parameter, in chainrule's parameter order.
        theirs = {id(p): Value(p.data) for p in chainrule_adder.parameters()}
        self._parameters = [theirs[id(p)] for p in chainrule_adder.parameters()]
        cell = chainrule_adder.rnn.cell
        self.columns = [[theirs[id(w)] for w in column] for column in cell._columns]
        self.b = [theirs[id(b)] for b in cell.b]
        readout = chainrule_adder.readout.neurons[0]
        self.readout_w = [theirs[id(w)] for w in readout.w]
        self.readout_b = theirs[id(readout.b)]

    def parameters(self) -> list:
        return self._parameters

    def __call__(self, xs: list) -> list:
        h = [0.0] * len(self.b)
        logits = []
        for x in xs:
            xh = list(x) + h
            h = [sum((wi * xi for wi, xi in zip(column, xh)), b).tanh()
                 for column, b in zip(self.columns, self.b)]
            logits.append(sum((wi * hi for wi, hi in zip(self.readout_w, h)), self.readout_b))
        return logits


def _softplus(z: Any) -> Any:
    return (z.exp() + 1).log()


def step(model: Adder, batch: list, targets: list, k: int) -> float:
    """The same step as ``workloads.chainrule_rnn_step``: BCE, backward, SGD (lr 0.05)."""
    logits: list = []
    for xs in batch:
        logits += model(xs)
    flat = [t for ys in targets for t in ys]
    losses = [_softplus(-z) * t + _softplus(z) * (1.0 - t) for z, t in zip(logits, flat)]
    loss = sum(losses) * (1.0 / len(losses))
    params = model.parameters()
    for p in params:
        p.grad = 0.0
    loss.backward()
    for p in params:
        p.data -= 0.05 * p.grad
    return loss.data
