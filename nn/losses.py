"""Loss functions that reduce a model's outputs to one Value.

Conventions shared by every loss:

* **One sample or a batch.** A binary or regression loss takes one prediction (a Value)
  with one target, or a list of predictions with a list of targets. ``cross_entropy``
  takes one vector of logits with one class index, or a list of logit vectors with a
  list of class indices. ``mse`` also accepts rows (lists of lists) and compares them
  element by element.
* **Mean reduction.** The result is the mean over the samples (over the elements for
  ``mse``), so the loss scale does not depend on the batch size.
* **Few nodes.** Reductions are single n-ary ``autograd.sum`` / ``autograd.dot`` nodes,
  not chains of additions.

Labels: ``hinge`` wants -1/+1 (what ``nn.data``'s binary sets return);
``binary_cross_entropy_with_logits`` wants probabilities in [0, 1] (use (y + 1) / 2).
Targets and labels may be numbers or Values (inside ``autograd.compile`` they arrive as
leaf Values). No loss picks its operations or constants by reading ``.data``, so each
builds the same graph for every batch of the same shape and can be compiled bit for bit
(``softmax`` and ``cross_entropy`` use the ``autograd.logsumexp`` op, which subtracts the
largest logit inside its own forward).

References: micrograd ``demo.ipynb`` (SVM max-margin loss plus L2); PyTorch
``BCEWithLogitsLoss`` and ``CrossEntropyLoss`` (stable formulations).
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Sequence, Union

import autograd
from autograd import Value

__all__ = ["mse", "hinge", "binary_cross_entropy_with_logits", "cross_entropy", "softmax", "l2"]

Scalar = Union[Value, float]
Scalars = Union[Scalar, Sequence[Scalar]]

_sum = autograd.sum
_dot = autograd.dot
_logsumexp = autograd.logsumexp


def _is_scalar(x: object) -> bool:
    return type(x) is Value or (isinstance(x, Real) and type(x) is not bool)


def _samples(x: object, what: str, loss: str) -> list:
    """One scalar -> [x]; a list or tuple -> a list of its items."""
    if _is_scalar(x):
        return [x]
    if isinstance(x, (list, tuple)):
        return list(x)
    raise TypeError(f"{loss}: {what} must be a Value, a number or a list of them, got {x!r}")


def _matched(predictions: object, targets: object, loss: str) -> tuple[list, list]:
    ps = _samples(predictions, "predictions", loss)
    ts = _samples(targets, "targets", loss)
    if len(ps) != len(ts):
        raise ValueError(
            f"{loss}: {len(ps)} predictions but {len(ts)} targets; give one target per "
            "prediction"
        )
    if not ps:
        raise ValueError(f"{loss}: no samples; pass at least one prediction")
    return ps, ts


def _data(x: Scalar) -> float:
    return x.data if type(x) is Value else float(x)


def mse(predictions: Union[Scalars, Sequence[Sequence[Scalar]]], targets: object) -> Value:
    """Mean squared error: mean over all elements of (prediction - target)**2.

    ``predictions`` is a Value, a list of Values, or a list of rows (lists of Values);
    ``targets`` has the same shape, with numbers or Values.
    """
    ps, ts = _matched(predictions, targets, "mse")
    diffs = []
    for i, (p, t) in enumerate(zip(ps, ts)):
        if isinstance(p, (list, tuple)) or isinstance(t, (list, tuple)):
            row_p, row_t = _matched(p, t, f"mse (row {i})")
            diffs.extend(a - b for a, b in zip(row_p, row_t))
        else:
            diffs.append(p - t)
    return _dot(diffs, diffs) * (1.0 / len(diffs))


def hinge(scores: Scalars, labels: Union[float, Sequence[float]]) -> Value:
    """SVM max-margin loss (micrograd's demo): mean of relu(1 - y * score).

    ``labels`` are -1 or +1; a sample counts as classified with margin when
    y * score >= 1, and then costs nothing.
    """
    ss, ys = _matched(scores, labels, "hinge")
    margins = []
    for i, (s, y) in enumerate(zip(ss, ys)):
        label = _data(y) if _is_scalar(y) else y
        if label != 1 and label != -1:
            raise ValueError(
                f"hinge: labels must be -1 or +1, got {y!r} at index {i} "
                "(map 0/1 labels with y = 2 * label - 1)"
            )
        if type(s) is not Value:
            s = Value(s)
        margins.append((s * -y + 1.0).relu())  # 1 - y * s
    return _sum(margins) * (1.0 / len(margins))


def binary_cross_entropy_with_logits(
    logits: Scalars, targets: Union[float, Sequence[float]]
) -> Value:
    """Mean of -[t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))], computed stably.

    -log sigmoid(z) = softplus(-z) and -log(1 - sigmoid(z)) = softplus(z), so each sample
    is t softplus(-z) + (1 - t) softplus(z): two ``softplus`` nodes, which never overflow
    (z = +-1000 is fine), and the same operations whatever the sign of z, so the graph
    does not depend on the data. (The shorter softplus(z) - z t would lose the small
    loss of a confident right answer to cancellation: z = 10, t = 1.) The gradient is
    sigmoid(z) - t. ``targets`` are probabilities in [0, 1], numbers or Values.
    """
    zs, ts = _matched(logits, targets, "binary_cross_entropy_with_logits")
    losses = []
    for i, (z, t) in enumerate(zip(zs, ts)):
        if not 0.0 <= _data(t) <= 1.0:
            raise ValueError(
                f"binary_cross_entropy_with_logits: targets must be in [0, 1], got {t!r} "
                f"at index {i} (map -1/+1 labels with t = (y + 1) / 2)"
            )
        if type(z) is not Value:
            z = Value(z)
        losses.append((-z).softplus() * t + z.softplus() * (1.0 - t))
    return _sum(losses) * (1.0 / len(losses))


def _logits(z: object, loss: str) -> list[Value]:
    if not isinstance(z, (list, tuple)) or not z:
        raise ValueError(f"{loss}: logits must be a non-empty list of Values, got {z!r}")
    return [v if type(v) is Value else Value(v) for v in z]


def softmax(logits: Sequence[Scalar]) -> list[Value]:
    """exp(z_i) / sum_j exp(z_j) = exp(z_i - logsumexp(z)) for one vector of logits.

    Every exponent is <= 0 (logsumexp(z) >= max(z)), so logits of 1000 work.
    """
    zs = _logits(logits, "softmax")
    lse = _logsumexp(zs)
    return [(z - lse).exp() for z in zs]


def _class_index(target: object, classes: int, where: str) -> Union[int, Value]:
    # A Value target (how an int arrives inside autograd.compile) is checked, not read.
    number = target
    if type(target) is Value and math.isfinite(target.data) and target.data.is_integer():
        number = int(target.data)
    if type(number) is not int or not 0 <= number < classes:
        raise ValueError(
            f"cross_entropy: {where} must be a class index, an int in [0, {classes}), "
            f"got {target!r}"
        )
    return target


def _picked(zs: list[Value], k: Union[int, Value]) -> Value:
    """zs[k]; for a Value k, dot(zs, one_hot(k)) built from k without reading its data.

    relu(1 - |k - j|) is exactly 1.0 at j == k and 0.0 at every other integer j, so the
    dot adds z_k to zeros: the same float as zs[k], and the same graph for every k.
    """
    if type(k) is int:
        return zs[k]
    return _dot(zs, [(1.0 - abs(k - j)).relu() for j in range(len(zs))])


def cross_entropy(
    logits: Union[Sequence[Scalar], Sequence[Sequence[Scalar]]],
    target: Union[int, Sequence[int]],
) -> Value:
    """-log softmax(z)[target] = logsumexp(z) - z[target], mean over a batch.

    One sample: ``logits`` is a list of C Values, ``target`` an int in [0, C).
    A batch: ``logits`` is a list of such lists and ``target`` a list of ints. A target
    may also be a Value holding the index (inside ``autograd.compile`` ints arrive so).
    ``autograd.logsumexp`` subtracts max(z) inside its forward, so logits of 1000 work.
    """
    batched = isinstance(logits, (list, tuple)) and bool(logits) and not _is_scalar(logits[0])
    rows = list(logits) if batched else [logits]
    if batched:
        if not isinstance(target, (list, tuple)) or len(target) != len(rows):
            raise ValueError(
                f"cross_entropy: {len(rows)} rows of logits need a list of {len(rows)} "
                f"class indices, got {target!r}"
            )
        targets = list(target)
    else:
        targets = [target]
    losses = []
    for i, (row, t) in enumerate(zip(rows, targets)):
        zs = _logits(row, "cross_entropy")
        k = _class_index(t, len(zs), f"target {i}" if batched else "target")
        losses.append(_logsumexp(zs) - _picked(zs, k))
    if len(losses) == 1:
        return losses[0]
    return _sum(losses) * (1.0 / len(losses))


def l2(params: Sequence[Value]) -> Value:
    """Sum of squares of ``params`` as one ``dot`` node (micrograd's regulariser).

    Multiply by the strength yourself: ``loss + 1e-4 * l2(model.parameters())``.
    """
    params = list(params)
    return _dot(params, params)
