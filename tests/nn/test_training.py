"""End to end: an MLP learns the moons with mini-batch SGD in about a second."""

import random

import nn
from autograd import no_grad


def accuracy(model, X, y):
    with no_grad():
        return sum((model(x).data > 0) == (label > 0) for x, label in zip(X, y)) / len(y)


def test_mlp_learns_moons_to_95_percent_with_minibatch_sgd():
    rng = random.Random(0)
    X, y = nn.data.make_moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], rng=rng)
    params = model.parameters()
    optimizer = nn.optim.SGD(params, lr=0.1, momentum=0.9)
    assert accuracy(model, X, y) < 0.95  # it has to learn it
    for _epoch in range(15):
        for xb, yb in nn.data.batches(X, y, 20, rng=rng):
            loss = nn.losses.hinge([model(x) for x in xb], yb) + 1e-4 * nn.losses.l2(params)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    assert accuracy(model, X, y) >= 0.95


def test_mlp_learns_three_spirals_with_cross_entropy_and_adam():
    rng = random.Random(1)
    X, y = nn.data.make_spirals(60, classes=3, noise=0.1, seed=1)
    model = nn.MLP(2, [16, 3], activation="tanh", rng=rng)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(100):
        loss = nn.losses.cross_entropy([model(x) for x in X], y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with no_grad():
        predictions = [max(range(3), key=lambda k: scores[k].data)
                       for scores in map(model, X)]
    assert sum(p == t for p, t in zip(predictions, y)) / len(y) >= 0.9
