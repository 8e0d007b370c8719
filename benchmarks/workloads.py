"""The workloads, each written once per system: chainrule, micrograd and the float floor.

Every function returns seconds (or bytes) for one run; the harness in run.py repeats
them and takes medians. Nothing here special-cases a benchmark: chainrule is used
exactly as a notebook user would use it.
"""

from __future__ import annotations

import gc
import random
import time
import tracemalloc
from typing import Any, Callable

import autograd
import nn
from autograd import Value, nary, no_grad

from .floor import ALPHA, FloatMLP

STEPS_IN_SCHEDULE = 100  # micrograd's demo: lr = 1.0 - 0.9 * k / 100


def moons(n: int = 100, seed: int = 0) -> tuple[list[list[float]], list[int]]:
    return nn.data.make_moons(n, noise=0.1, seed=seed)


def learning_rate(k: int) -> float:
    return 1.0 - 0.9 * k / STEPS_IN_SCHEDULE


# -- the MLP training step ---------------------------------------------------------------


class dense_dot_rules:  # noqa: N801 (a context manager)
    """Inside, the dot rules add every term, zeros included: chainrule without its skip
    of zero gradients (``autograd/nary.py``, "Skipping a zero gradient"), the work
    micrograd and the floor always do. For the record, and for the skip's own test."""

    def __enter__(self) -> "dense_dot_rules":
        self.kept = (nary.DOT.float_rule, nary.DOT_NUMBERS.float_rule)
        nary.DOT.float_rule = _dense_dot_rule
        nary.DOT_NUMBERS.float_rule = _dense_dot_numbers_rule
        return self

    def __exit__(self, *exc_info: object) -> None:
        nary.DOT.float_rule, nary.DOT_NUMBERS.float_rule = self.kept


def _dense_dot_rule(node: Value) -> None:
    g, parents, n = node._grad, node._parents, node._saved
    for w, x in zip(parents, parents[n : 2 * n]):
        w._grad += g * x._data
        x._grad += g * w._data
    if len(parents) > 2 * n:
        parents[-1]._grad += g


def _dense_dot_numbers_rule(node: Value) -> None:
    g, parents, numbers = node._grad, node._parents, node._saved
    for v, c in zip(parents, numbers):
        v._grad += g * c
    if len(parents) > len(numbers):
        parents[-1]._grad += g


def chainrule_model(seed: int = 0) -> nn.MLP:
    return nn.MLP(2, [16, 16, 1], rng=random.Random(seed))


def chainrule_mlp_step(model: nn.MLP, X: list, y: list, k: int) -> float:
    """micrograd's demo step with chainrule: forward, hinge + L2, backward, SGD."""
    params = model.parameters()
    scores = [model(x) for x in X]
    loss = nn.losses.hinge(scores, y) + ALPHA * nn.losses.l2(params)
    model.zero_grad()
    loss.backward()
    lr = learning_rate(k)
    for p in params:
        p.data -= lr * p.grad
    return loss.data


def micrograd_model(chainrule: nn.MLP) -> Any:
    """micrograd's own MLP, started from the same weights as ``chainrule``."""
    from micrograd.nn import MLP

    model = MLP(2, [16, 16, 1])
    for theirs, ours in zip(model.parameters(), chainrule.parameters()):
        theirs.data = ours.data
    return model


def micrograd_mlp_step(model: Any, X: list, y: list, k: int) -> float:
    """The training step of micrograd's demo notebook, as written there."""
    from micrograd.engine import Value as MValue

    inputs = [list(map(MValue, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    loss = data_loss + reg_loss
    model.zero_grad()
    loss.backward()
    lr = learning_rate(k)
    for p in model.parameters():
        p.data -= lr * p.grad
    return loss.data


def floor_model(chainrule: nn.MLP) -> FloatMLP:
    layers = [
        [[w.data for w in neuron.w] + [neuron.b.data] for neuron in layer.neurons]
        for layer in chainrule.layers
    ]
    return FloatMLP(layers)


def floor_mlp_step(model: FloatMLP, X: list, y: list, k: int) -> float:
    return model.step(X, y, learning_rate(k))[0]


WARMUP_STEPS = 2  # untimed, for every system alike: caches and specialised bytecode


def time_steps(step: Callable[[Any, list, list, int], float], model: Any, X: list,
               y: list, steps: int) -> list[float]:
    """Seconds for each of ``steps`` training steps, after ``WARMUP_STEPS`` untimed ones."""
    for k in range(WARMUP_STEPS):
        step(model, X, y, k)
    times = []
    for k in range(WARMUP_STEPS, WARMUP_STEPS + steps):
        start = time.perf_counter()
        step(model, X, y, k)
        times.append(time.perf_counter() - start)
    return times


# -- inference: recording forward vs no_grad -------------------------------------------


def chainrule_forward(model: nn.MLP, X: list, record: bool) -> float:
    """The model on the whole batch, recording a graph or under no_grad; seconds."""
    start = time.perf_counter()
    if record:
        scores = model(X)
    else:
        with no_grad():
            scores = model(X)
    del scores  # dropping the graph is part of the cost
    return time.perf_counter() - start


# -- the elementary chain ----------------------------------------------------------------


def chain(value_type: Callable[[float], Any], steps: int) -> float:
    """Build y = y * 0.999 + 0.001 ``steps`` times, backward, drop: seconds.

    The harness runs it once untimed first (as for every workload and every system).
    """
    start = time.perf_counter()
    x = value_type(0.5)
    y = x
    for _ in range(steps):
        y = y * 0.999 + 0.001
    y.backward()
    del y
    return time.perf_counter() - start


def chain_memory(value_type: Callable[[float], Any], steps: int) -> float:
    """Bytes allocated per chain step while the graph of ``steps`` steps is alive."""
    gc.collect()
    tracemalloc.start()
    try:
        x = value_type(0.5)
        y = x
        for _ in range(steps):
            y = y * 0.999 + 0.001
        current, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del y, x
    gc.collect()
    return current / steps


def chainrule_value(x: float) -> Value:
    return Value(x)


# -- the compiled MLP step ---------------------------------------------------------------


def chainrule_compiled_mlp_step(model: nn.MLP) -> Callable[[Any, list, list, int], float]:
    """The same step with the forward and backward replayed by ``autograd.compile``."""
    params = model.parameters()

    def loss_fn(X: list, y: list) -> Value:
        scores = [model(x) for x in X]
        return nn.losses.hinge(scores, y) + ALPHA * nn.losses.l2(params)

    compiled = autograd.compile(loss_fn)

    def step(model: nn.MLP, X: list, y: list, k: int) -> float:
        model.zero_grad()
        loss = compiled(X, y)
        lr = learning_rate(k)
        for p in params:
            p.data -= lr * p.grad
        return loss

    return step


# -- the RNN: binary addition, RNN(2, 8), batch 16 ----------------------------------------


def rnn_batch(seed: int = 0, size: int = 16) -> tuple[list, list]:
    """16 sums of 8-bit numbers: their bit pairs and their target bits."""
    sums = nn.data.binary_addition(size, 8, seed=seed)
    return [xs for xs, _ in sums], [ys for _, ys in sums]


def rnn_model(seed: int = 0) -> Any:
    from nn.examples.binary_addition import Adder

    return Adder(8, rng=random.Random(seed))


def _rnn_loss(model: Any, batch: list, targets: list) -> Value:
    logits: list = []
    for xs in batch:
        logits += model(xs)
    flat = [t for ys in targets for t in ys]
    return nn.losses.binary_cross_entropy_with_logits(logits, flat)


def chainrule_rnn_step(model: Any, batch: list, targets: list, k: int) -> float:
    """One training step of the binary-addition example: BCE, backward, SGD."""
    params = model.parameters()
    loss = _rnn_loss(model, batch, targets)
    model.zero_grad()
    loss.backward()
    for p in params:
        p.data -= 0.05 * p.grad
    return loss.data


def chainrule_compiled_rnn_step(model: Any) -> Callable[[Any, list, list, int], float]:
    params = model.parameters()
    compiled = autograd.compile(lambda batch, targets: _rnn_loss(model, batch, targets))

    def step(model: Any, batch: list, targets: list, k: int) -> float:
        model.zero_grad()
        loss = compiled(batch, targets)
        for p in params:
            p.data -= 0.05 * p.grad
        return loss

    return step


def rnn_forward(model: Any, batch: list, record: bool) -> float:
    """The adder on the whole batch, recording a graph or under no_grad; seconds."""
    start = time.perf_counter()
    if record:
        logits = [model(xs) for xs in batch]
    else:
        with no_grad():
            logits = [model(xs) for xs in batch]
    del logits
    return time.perf_counter() - start


# -- a heavy heap: the chain built beside many other live objects ---------------------------


def heavy_heap(megabytes: int) -> list:
    """About ``megabytes`` MB of plain Python objects the collector must scan.

    Small lists of an int and a float, each about 135 B with its items. (Tuples of
    numbers would not do: the collector stops tracking a tuple of untracked items the
    first time it sees one, so such a heap costs full collections nothing.)
    """
    return [[i, float(i)] for i in range(megabytes * 1_000_000 // 135)]
