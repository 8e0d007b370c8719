"""Toy datasets and mini-batching, in plain Python and reproducible from a seed.

Every generator returns ``(X, y)``: ``X`` a list of ``[x0, x1]`` points and ``y`` a list
of int labels, shuffled.

Label conventions, in one place:

* ``make_moons`` and ``make_circles`` label their two classes **-1 and +1** by default
  (``labels="pm1"``), ready for ``nn.losses.hinge`` and for ``sign(score)`` as a
  prediction; ``labels="01"`` gives **0 and 1** instead (-1 becomes 0, the same points),
  ready for ``nn.losses.binary_cross_entropy_with_logits``.
* ``make_spirals`` labels its classes **0 .. classes-1**, ready for
  ``nn.losses.cross_entropy``.
* ``binary_addition`` is the one sequence set: a list of ``(xs, ys)`` bit sequences for
  an RNN, each target bit 0 or 1 (see its docstring).

``seed`` seeds a private ``random.Random``: the same seed gives the same data on every
run, and the global ``random`` state is never touched.

References: scikit-learn ``make_moons`` / ``make_circles`` (the same shapes); the
CS231n spiral dataset (Karpathy, "Neural Networks Case Study").
"""

from __future__ import annotations

import math
import random
from typing import Iterator, Optional, Sequence

from ._checks import check_choice

__all__ = ["make_moons", "make_circles", "make_spirals", "binary_addition", "batches", "LABELS"]

Points = list[list[float]]

#: The label forms of the two-class sets: the label of each class, (first, second).
LABELS = {"pm1": (-1, 1), "01": (0, 1)}


def _two_classes(owner: str, labels: str, first: int, second: int) -> list[int]:
    """``first`` labels of the first class then ``second`` of the other, in form ``labels``."""
    low, high = LABELS[check_choice(f"{owner}: labels", labels, tuple(LABELS))]
    return [low] * first + [high] * second


def _check_count(name: str, n: object, minimum: int) -> int:
    if type(n) is not int or n < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {n!r}")
    return n


def _check_noise(name: str, noise: object) -> float:
    if not isinstance(noise, (int, float)) or isinstance(noise, bool) or not noise >= 0:
        raise ValueError(f"{name}: noise must be a number >= 0, got {noise!r}")
    return float(noise)


def _linspace(start: float, stop: float, n: int, endpoint: bool = True) -> list[float]:
    if n == 1:
        return [start]
    step = (stop - start) / (n - 1 if endpoint else n)
    return [start + i * step for i in range(n)]


def _jitter_and_shuffle(
    X: Points, y: list[int], noise: float, rng: random.Random
) -> tuple[Points, list[int]]:
    gauss = rng.gauss
    X = [[a + gauss(0.0, noise), b + gauss(0.0, noise)] for a, b in X] if noise else X
    order = list(range(len(X)))
    rng.shuffle(order)
    return [X[i] for i in order], [y[i] for i in order]


def make_moons(
    n: int = 100, noise: float = 0.1, seed: Optional[int] = None, labels: str = "pm1"
) -> tuple[Points, list[int]]:
    """Two interleaving half circles: ``n`` points, labels -1 (upper) and +1 (lower).

    The upper moon is (cos t, sin t), the lower (1 - cos t, 0.5 - sin t), t in [0, pi],
    with Gaussian noise of standard deviation ``noise`` on each coordinate.

    Args:
        n: the number of points (at least 2); the upper moon gets ``n // 2``.
        noise: the standard deviation of the noise (0 for none).
        seed: seeds a private ``random.Random``; the same seed gives the same data.
        labels: ``"pm1"`` for -1 / +1 (hinge loss), ``"01"`` for 0 / 1 (cross-entropy).

    Returns:
        ``(X, y)``: ``n`` points ``[x0, x1]`` and their int labels, shuffled.

    Raises:
        ValueError: ``n`` below 2, negative ``noise`` or an unknown ``labels``.
    """
    _check_count("make_moons: n", n, 2)
    noise = _check_noise("make_moons", noise)
    y = _two_classes("make_moons", labels, n // 2, n - n // 2)
    rng = random.Random(seed)
    upper, lower = n // 2, n - n // 2
    X = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, math.pi, upper)]
    X += [[1.0 - math.cos(t), 0.5 - math.sin(t)] for t in _linspace(0.0, math.pi, lower)]
    return _jitter_and_shuffle(X, y, noise, rng)


def make_circles(
    n: int = 100,
    noise: float = 0.1,
    factor: float = 0.5,
    seed: Optional[int] = None,
    labels: str = "pm1",
) -> tuple[Points, list[int]]:
    """A small circle inside a large one: ``n`` points, labels -1 (outer) and +1 (inner).

    The outer circle has radius 1, the inner radius ``factor``; noise as in ``make_moons``.

    Args:
        n: the number of points (at least 2); the outer circle gets ``n // 2``.
        noise: the standard deviation of the noise (0 for none).
        factor: the inner circle's radius, 0 < factor < 1.
        seed: seeds a private ``random.Random``; the same seed gives the same data.
        labels: ``"pm1"`` for -1 / +1 (hinge loss), ``"01"`` for 0 / 1 (cross-entropy).

    Returns:
        ``(X, y)``: ``n`` points ``[x0, x1]`` and their int labels, shuffled.

    Raises:
        ValueError: ``n`` below 2, negative ``noise``, ``factor`` outside (0, 1) or an
            unknown ``labels``.
    """
    _check_count("make_circles: n", n, 2)
    noise = _check_noise("make_circles", noise)
    if not isinstance(factor, (int, float)) or not 0.0 < factor < 1.0:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor!r}")
    y = _two_classes("make_circles", labels, n // 2, n - n // 2)
    rng = random.Random(seed)
    outer, inner = n // 2, n - n // 2
    X = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, 2 * math.pi, outer, False)]
    X += [
        [factor * math.cos(t), factor * math.sin(t)]
        for t in _linspace(0.0, 2 * math.pi, inner, False)
    ]
    return _jitter_and_shuffle(X, y, noise, rng)


def make_spirals(
    n: int = 300, classes: int = 3, noise: float = 0.2, seed: Optional[int] = None
) -> tuple[Points, list[int]]:
    """``classes`` interleaved spiral arms, ``n`` points in all, labels 0 .. classes-1.

    Arm k has radius r from 0 to 1 and angle 4k + 4r (radians) plus Gaussian noise of
    standard deviation ``noise`` on the angle, as in CS231n; the points are
    (r sin(angle), r cos(angle)). The arms get n // classes points each, the first
    n % classes arms one more.
    """
    _check_count("make_spirals: classes", classes, 2)
    _check_count("make_spirals: n", n, classes)
    noise = _check_noise("make_spirals", noise)
    rng = random.Random(seed)
    X: Points = []
    y: list[int] = []
    for k in range(classes):
        count = n // classes + (k < n % classes)
        for r in _linspace(0.0, 1.0, count):
            angle = 4.0 * k + 4.0 * r + (rng.gauss(0.0, noise) if noise else 0.0)
            X.append([r * math.sin(angle), r * math.cos(angle)])
            y.append(k)
    return _jitter_and_shuffle(X, y, 0.0, rng)


BitSequence = tuple[list[list[float]], list[int]]


def binary_addition(n: int, bits: int = 8, seed: Optional[int] = None) -> list[BitSequence]:
    """``n`` additions a + b of two random ``bits``-bit numbers, as bit sequences.

    Returns a list of ``n`` pairs ``(xs, ys)``, each of length ``bits + 1``, least
    significant bit first: ``xs[t] = [a_t, b_t]`` (floats 0.0 or 1.0) and ``ys[t]`` is
    bit t of a + b (an int, 0 or 1). The last step reads ``[0.0, 0.0]`` and its target is
    the carry out, so the sequence holds the whole sum (a + b < 2**(bits + 1)). a and b
    are drawn uniformly from [0, 2**bits), independently; pairs may repeat. Decode with
    ``sum(bit << t for t, bit in enumerate(ys))``.

    >>> xs, ys = binary_addition(1, bits=3, seed=0)[0]
    >>> len(xs), len(ys)
    (4, 4)
    >>> a = sum(int(x[0]) << t for t, x in enumerate(xs))
    >>> b = sum(int(x[1]) << t for t, x in enumerate(xs))
    >>> sum(bit << t for t, bit in enumerate(ys)) == a + b
    True
    """
    _check_count("binary_addition: n", n, 1)
    _check_count("binary_addition: bits", bits, 1)
    rng = random.Random(seed)
    sequences = []
    for _ in range(n):
        a = rng.getrandbits(bits)
        b = rng.getrandbits(bits)
        total = a + b
        xs = [[float(a >> t & 1), float(b >> t & 1)] for t in range(bits + 1)]
        ys = [total >> t & 1 for t in range(bits + 1)]
        sequences.append((xs, ys))
    return sequences


def batches(
    X: Sequence,
    y: Sequence,
    batch_size: int,
    shuffle: bool = True,
    rng: Optional[random.Random] = None,
) -> Iterator[tuple[list, list]]:
    """Yield ``(Xb, yb)`` mini-batches covering the data once (one epoch).

    Every batch has ``batch_size`` samples except possibly the last. With ``shuffle``,
    the order is drawn from ``rng`` (a ``random.Random``; None uses the global
    ``random`` module); without it, the data's order is kept. Arguments are checked
    at the call, before the first batch.
    """
    if len(X) != len(y):
        raise ValueError(f"batches: X has {len(X)} samples but y has {len(y)}; they must match")
    _check_count("batches: batch_size", batch_size, 1)
    order = list(range(len(X)))
    if shuffle:
        (rng if rng is not None else random).shuffle(order)
    return _batches(X, y, batch_size, order)


def _batches(
    X: Sequence, y: Sequence, batch_size: int, order: list[int]
) -> Iterator[tuple[list, list]]:
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        yield [X[i] for i in chunk], [y[i] for i in chunk]
