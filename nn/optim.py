"""Optimizers (SGD, Adam) and gradient-norm clipping.

Each optimizer keeps its per-parameter state in plain float lists beside the parameter
list, and ``step()`` is exactly the update rule PyTorch documents, applied to ``.data``
with no graph; so a trajectory can be checked number for number against the formulas.
``lr`` is a plain attribute: change it between steps for a schedule.

References: PyTorch ``torch.optim.SGD`` and ``torch.optim.Adam`` (the algorithm boxes
in their documentation), ``torch.nn.utils.clip_grad_norm_``; Kingma & Ba 2015, "Adam:
A Method for Stochastic Optimization".
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Iterable, Optional

from autograd import Value

__all__ = ["Optimizer", "SGD", "Adam", "clip_grad_norm"]


def _check_number(name: str, x: object, low: float = 0.0, high: float = math.inf) -> float:
    if not isinstance(x, Real) or isinstance(x, bool) or not low <= x < high:
        interval = f"[{low}, {high})" if high != math.inf else f">= {low}"
        raise ValueError(f"{name} must be a number {interval}, got {x!r}")
    return float(x)


def _parameter_list(params: Iterable[Value], owner: str) -> list[Value]:
    if isinstance(params, Value):
        raise TypeError(f"{owner}: params must be a list of Values, got a single Value")
    params = list(params)
    seen: dict[int, int] = {}
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"{owner}: params[{i}] must be a Value, got {type(p).__name__}")
        if id(p) in seen:
            raise ValueError(
                f"{owner}: params[{i}] is the same Value as params[{seen[id(p)]}]; "
                "pass each parameter once (it would be updated twice per step)"
            )
        seen[id(p)] = i
    if not params:
        raise ValueError(f"{owner}: got an empty parameter list; pass model.parameters()")
    return params


class Optimizer:
    """Base class: holds ``params`` and a learning rate ``lr``; subclasses define ``step``."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        name = type(self).__name__
        self.params = _parameter_list(params, name)
        self.lr = _check_number(f"{name}: lr", lr)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0.0 (``backward()`` accumulates)."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:  # pragma: no cover - abstract
        """Update every parameter's ``.data`` from its ``.grad``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self._settings().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"

    def _settings(self) -> dict[str, object]:
        return {"lr": self.lr}


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and weight decay (PyTorch's).

    For each parameter p with gradient g, at step t:
        g = g + weight_decay * p                      (if weight_decay != 0)
        b = g at t = 1, else b = momentum * b + g     (if momentum != 0; then g = b)
        p = p - lr * g
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _check_number("SGD: momentum", momentum)
        self.weight_decay = _check_number("SGD: weight_decay", weight_decay)
        #: One momentum buffer per parameter; None until the first step fills it.
        self.momentum_buffers: Optional[list[float]] = None

    def step(self) -> None:
        """Apply one update to every parameter (see the class docstring)."""
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        params = self.params
        if not mu and not wd:
            for p in params:
                p.data -= lr * p.grad
            return
        grads = [p.grad + wd * p.data for p in params] if wd else [p.grad for p in params]
        if mu:
            buffers = self.momentum_buffers
            if buffers is None:
                buffers = grads
            else:
                buffers = [mu * b + g for b, g in zip(buffers, grads)]
            self.momentum_buffers = buffers
            grads = buffers
        for p, g in zip(params, grads):
            p.data -= lr * g

    def _settings(self) -> dict[str, object]:
        return {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay}


class Adam(Optimizer):
    """Adam with PyTorch's update rule (L2 weight decay added to the gradient, not AdamW).

    For each parameter p with gradient g, at step t = 1, 2, ...:
        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g               (m, v start at 0)
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t),  v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            _check_number("Adam: betas[0]", betas[0], 0.0, 1.0),
            _check_number("Adam: betas[1]", betas[1], 0.0, 1.0),
        )
        self.eps = _check_number("Adam: eps", eps)
        self.weight_decay = _check_number("Adam: weight_decay", weight_decay)
        n = len(self.params)
        #: First and second moment estimates, one per parameter; t counts steps taken.
        self.m = [0.0] * n
        self.v = [0.0] * n
        self.t = 0

    def step(self) -> None:
        """Apply one update to every parameter (see the class docstring)."""
        self.t += 1
        beta1, beta2 = self.betas
        lr, eps, wd = self.lr, self.eps, self.weight_decay
        correction1 = 1.0 - beta1**self.t
        correction2 = 1.0 - beta2**self.t
        m, v = self.m, self.v
        sqrt = math.sqrt
        for i, p in enumerate(self.params):
            g = p.grad + wd * p.data if wd else p.grad
            m_i = m[i] = beta1 * m[i] + (1.0 - beta1) * g
            v_i = v[i] = beta2 * v[i] + (1.0 - beta2) * g * g
            p.data -= lr * (m_i / correction1) / (sqrt(v_i / correction2) + eps)

    def _settings(self) -> dict[str, object]:
        return {
            "lr": self.lr,
            "betas": self.betas,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }


def clip_grad_norm(
    params: Iterable[Value], max_norm: float, error_if_nonfinite: bool = False
) -> float:
    """Scale gradients so their joint L2 norm is at most ``max_norm``.

    PyTorch's rule (``torch.nn.utils.clip_grad_norm_``): total = sqrt(sum g**2) over all
    parameters; every gradient is multiplied by min(max_norm / (total + 1e-6), 1), the
    1e-6 guarding against dividing by zero. A non-finite total follows the same rule, as
    in PyTorch: a NaN anywhere makes every gradient NaN (and the total NaN), an infinite
    one sets the finite gradients to 0.

    Args:
        params: the parameters whose ``.grad`` to scale.
        max_norm: the largest norm allowed.
        error_if_nonfinite: raise instead when the total is NaN or infinite.

    Returns:
        The total norm before clipping.

    Raises:
        RuntimeError: ``error_if_nonfinite`` and a non-finite total; no gradient changes.
    """
    params = list(params)
    max_norm = _check_number("clip_grad_norm: max_norm", max_norm)
    grads = [p.grad for p in params]
    total = math.hypot(*grads)  # sqrt(sum g**2), without overflow
    if total == math.inf and any(g != g for g in grads):
        total = math.nan  # hypot(inf, nan) is inf; sqrt(inf**2 + nan**2), as PyTorch, is nan
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm: the total norm of the gradients is {total!r}, so they "
            "cannot be clipped; pass error_if_nonfinite=False to scale them anyway"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1.0 or coef != coef:  # min(coef, 1) with NaN kept, as torch.clamp keeps it
        for p in params:
            p.grad *= coef
    return total
