"""Training with autograd.compile gives the dynamic engine's parameters bit for bit.

The moons MLP with hinge + L2 (against the same loop fed Values, and fed plain floats as
the demo does), mini-batches with a smaller last batch, the binary-addition RNN with
BCE and gradient clipping, and BatchNorm1d, whose training mode compile refuses.
"""

import random

import pytest

import autograd
import nn
from autograd import CompileError, Value

ALPHA = 1e-4


def wrap(x):
    """Numbers as leaf Values, nested like ``x``: what a compiled fn sees inside."""
    if isinstance(x, (list, tuple)):
        return [wrap(v) for v in x]
    return Value(x)


def step_both(opts, compiled, dynamic, *args):
    """Zero the gradients and run both steps on ``args``: the same loss, bit for bit."""
    for opt in opts:
        opt.zero_grad()
    value = compiled(*args)
    out = dynamic(*[wrap(a) for a in args])
    out.backward()
    assert repr(value) == repr(out.data)


def moons_loss(model):
    params = model.parameters()

    def loss(X, y):
        scores = [model(x) for x in X]
        return nn.losses.hinge(scores, y) + ALPHA * nn.losses.l2(params)

    return loss


def sgd(params, lr):
    for p in params:
        p.data -= lr * p.grad


def state(model):
    return [repr(p.data) for p in model.parameters()] + [repr(p.grad) for p in model.parameters()]


def test_20_sgd_steps_on_moons_end_with_the_parameters_of_the_dynamic_loop():
    X, y = nn.data.make_moons(100, noise=0.1, seed=0)
    models = [nn.MLP(2, [16, 16, 1], rng=random.Random(0)) for _ in range(3)]
    compiled = autograd.compile(moons_loss(models[0]))
    by_values, by_floats = moons_loss(models[1]), moons_loss(models[2])
    for k in range(20):
        lr = 1.0 - 0.9 * k / 100
        for model in models:
            model.zero_grad()
        losses = [compiled(X, y)]
        for fn, args in ((by_values, (wrap(X), wrap(y))), (by_floats, (X, y))):
            out = fn(*args)
            out.backward()
            losses.append(out.data)
        for model in models:
            sgd(model.parameters(), lr)
        assert repr(losses[0]) == repr(losses[1]) == repr(losses[2]), k
    assert state(models[0]) == state(models[1]) == state(models[2])
    assert compiled.cache_size == 1


def test_mini_batches_of_changing_data_and_a_smaller_last_batch_match_and_retrace_once():
    X, y = nn.data.make_moons(70, noise=0.2, seed=1)
    models = [nn.MLP(2, [8, 1], rng=random.Random(1)) for _ in range(2)]
    compiled = autograd.compile(moons_loss(models[0]))
    dynamic = moons_loss(models[1])
    opts = [nn.optim.Adam(m.parameters(), lr=0.05) for m in models]
    for epoch in range(2):
        for Xb, yb in nn.data.batches(X, y, 32, rng=random.Random(epoch)):  # 32, 32, 6
            step_both(opts, compiled, dynamic, Xb, yb)
            for opt in opts:
                opt.step()
    assert state(models[0]) == state(models[1])
    assert compiled.cache_size == 2  # the batch of 32, the last batch of 6


def adder_loss(model):
    def loss(batch_xs, batch_ys):
        logits, targets = [], []
        for xs, ys in zip(batch_xs, batch_ys):
            logits += model(xs)
            targets += ys
        return nn.losses.binary_cross_entropy_with_logits(logits, targets)

    return loss


def test_the_binary_addition_rnn_with_bce_and_clipping_matches_the_dynamic_loop():
    from nn.examples.binary_addition import Adder

    sums = nn.data.binary_addition(40, bits=4, seed=3)
    models = [Adder(6, rng=random.Random(3)) for _ in range(2)]
    compiled = autograd.compile(adder_loss(models[0]))
    dynamic = adder_loss(models[1])
    opts = [nn.optim.Adam(m.parameters(), lr=0.05) for m in models]
    rng = random.Random(4)
    for _ in range(6):
        batch = rng.sample(sums, 8)
        xs = [b[0] for b in batch]
        ys = [[float(t) for t in b[1]] for b in batch]
        step_both(opts, compiled, dynamic, xs, ys)
        norms = [nn.clip_grad_norm(m.parameters(), 1.0) for m in models]
        assert repr(norms[0]) == repr(norms[1])
        for opt in opts:
            opt.step()
    assert state(models[0]) == state(models[1])
    assert compiled.cache_size == 1


def test_batchnorm_in_training_mode_is_refused_naming_the_module_and_eval_mode_compiles():
    bn = nn.BatchNorm1d(2)
    w = Value(0.5)

    def loss(batch):
        rows = bn([[x * w for x in row] for row in batch])
        return autograd.sum([v for row in rows for v in row])

    batch = [[1.0, 2.0], [3.0, -1.0], [0.5, 0.25]]
    with pytest.raises(CompileError, match=r"nn\.BatchNorm1d\(2\) in training mode updates"):
        autograd.compile(loss)(batch)
    assert bn.running_mean == [0.0, 0.0]  # refused before the update
    bn.eval()
    f = autograd.compile(loss)
    value = f(batch)
    grad = w.grad
    w.grad = 0.0
    out = loss(wrap(batch))
    out.backward()
    assert repr(value) == repr(out.data) and repr(grad) == repr(w.grad)
