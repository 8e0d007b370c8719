"""Optimizers (SGD, Adam) and gradient-norm clipping.

Each optimizer keeps its per-parameter state in plain float lists beside the parameter
list, and ``step()`` is exactly the update rule PyTorch documents, applied to ``.data``
with no graph; so a trajectory can be checked number for number against the formulas.
``lr`` is a plain attribute: change it between steps for a schedule.

``state_dict()`` holds everything a resumed run needs, as plain JSON-ready data: the kind
of optimizer, the number of parameters, the hyperparameters and the per-parameter state
(SGD's momentum buffers; Adam's moments and step count). ``load_state_dict`` checks all
of it before changing anything and, as PyTorch's does, loads the hyperparameters too, so
a resumed run continues with the learning rate it stopped at (set ``opt.lr`` after
loading to change it). Parameters are matched by position: build the new optimizer over
the same ``model.parameters()``.

References: PyTorch ``torch.optim.SGD`` and ``torch.optim.Adam`` (the algorithm boxes
in their documentation), ``torch.nn.utils.clip_grad_norm_``; Kingma & Ba 2015, "Adam:
A Method for Stochastic Optimization".
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any, Iterable, Mapping, Optional

from autograd import Value

from ._checks import first_names, mismatched_keys, shorten
from .module import _is_finite_number

__all__ = ["Optimizer", "SGD", "Adam", "clip_grad_norm"]


def _check_number(name: str, x: object, low: float = 0.0, high: float = math.inf) -> float:
    if not isinstance(x, Real) or isinstance(x, bool) or not low <= x < high:
        interval = f"[{low}, {high})" if high != math.inf else f">= {low}"
        raise ValueError(f"{name} must be a number {interval}, got {shorten(repr(x))}")
    return float(x)


def _check_floats(where: str, name: str, values: object, n: int, low: float = -math.inf) -> list:
    """``values`` as a new list of ``n`` floats, each finite and >= ``low``, or ValueError."""
    if not isinstance(values, (list, tuple)):
        raise ValueError(
            f"{where}: {name} must be a list of {n} numbers, got {type(values).__name__}"
        )
    if len(values) != n:
        raise ValueError(f"{where}: {name} has {len(values)} entries, expected {n}")
    for i, value in enumerate(values):
        if not _is_finite_number(value) or value < low:
            kind = "a finite number" if low == -math.inf else f"a finite number >= {low}"
            raise ValueError(f"{where}: {name}[{i}] must be {kind}, got {shorten(repr(value))}")
    return [float(value) for value in values]


def _check_keys(where: str, what: str, given: Mapping, expected: Iterable[str]) -> None:
    """ValueError unless ``given`` has exactly the keys ``expected``."""
    missing, unexpected = mismatched_keys(given, list(expected))
    if missing or unexpected:
        raise ValueError(
            f"{where}: {what} has the wrong keys; missing: {first_names(missing)}; "
            f"unexpected: {first_names(unexpected)}"
        )


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

    # -- state dicts: each subclass says what it keeps and how to check it -------------

    #: The keys of the per-parameter state in ``state_dict()``, beside the common three.
    _state_keys: tuple[str, ...] = ()

    def _check_settings(self, where: str, settings: Mapping) -> dict[str, Any]:
        """The hyperparameters of ``settings`` checked as the constructor checks them."""
        return {"lr": _check_number(f"{where}: lr", settings["lr"])}

    def _state(self) -> dict[str, Any]:
        return {}

    def _check_state(self, where: str, state: Mapping) -> dict[str, Any]:
        """The attributes to set from ``state``, checked; ValueError if one is wrong."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """What resuming needs, as plain data (copies, safe to keep or save):
        ``{"type": "Adam", "params": n, "hyperparameters": {...}, ...}`` plus the
        subclass's per-parameter state."""
        settings = {k: list(v) if isinstance(v, tuple) else v for k, v in self._settings().items()}
        return {
            "type": type(self).__name__,
            "params": len(self.params),
            "hyperparameters": settings,
            **self._state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the hyperparameters and per-parameter state saved by ``state_dict()``.

        Everything is checked before anything changes; a state of another kind of
        optimizer, for another number of parameters, with a list of the wrong length, a
        non-finite number or a bad step count raises ValueError and leaves the optimizer
        as it was.
        """
        name = type(self).__name__
        where = f"{name}.load_state_dict"
        if not isinstance(state, Mapping):
            raise ValueError(f"{where} needs a dict from state_dict(), got {type(state).__name__}")
        if "type" not in state and isinstance(state.get("optimizer"), Mapping):
            raise ValueError(
                f"{where}: got a checkpoint, not an optimizer's state; load its optimizer "
                'part: optimizer.load_state_dict(checkpoint["optimizer"])'
            )
        kind = state.get("type")
        if "type" in state and kind != name:
            raise ValueError(
                f"{where}: the state is of type {shorten(repr(kind))}, not {name!r}; load "
                "it into the kind of optimizer that saved it"
            )
        _check_keys(where, "the state", state, ("type", "params", "hyperparameters",
                                                *self._state_keys))
        count = state["params"]
        if type(count) is not int or count != len(self.params):
            raise ValueError(
                f"{where}: the state is for {shorten(repr(count))} parameters, this {name} "
                f"has {len(self.params)}; build it over the parameters of the same model"
            )
        settings = state["hyperparameters"]
        if not isinstance(settings, Mapping):
            raise ValueError(
                f"{where}: hyperparameters must be a dict, got {shorten(repr(settings))}"
            )
        _check_keys(where, "hyperparameters", settings, self._settings())
        checked = {**self._check_settings(f"{where}: hyperparameters", settings),
                   **self._check_state(where, state)}
        for attr, value in checked.items():  # every check passed: now change things
            setattr(self, attr, value)


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

    _state_keys = ("momentum_buffers",)

    def _check_settings(self, where: str, settings: Mapping) -> dict[str, Any]:
        return {
            "lr": _check_number(f"{where}: lr", settings["lr"]),
            "momentum": _check_number(f"{where}: momentum", settings["momentum"]),
            "weight_decay": _check_number(f"{where}: weight_decay", settings["weight_decay"]),
        }

    def _state(self) -> dict[str, Any]:
        buffers = self.momentum_buffers
        return {"momentum_buffers": None if buffers is None else list(buffers)}

    def _check_state(self, where: str, state: Mapping) -> dict[str, Any]:
        buffers = state["momentum_buffers"]  # None: no step taken with momentum yet
        if buffers is not None:
            buffers = _check_floats(where, "momentum_buffers", buffers, len(self.params))
        return {"momentum_buffers": buffers}


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

    _state_keys = ("step", "m", "v")

    def _check_settings(self, where: str, settings: Mapping) -> dict[str, Any]:
        betas = settings["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(
                f"{where}: betas must be a pair (beta1, beta2), got {shorten(repr(betas))}"
            )
        return {
            "lr": _check_number(f"{where}: lr", settings["lr"]),
            "betas": (
                _check_number(f"{where}: betas[0]", betas[0], 0.0, 1.0),
                _check_number(f"{where}: betas[1]", betas[1], 0.0, 1.0),
            ),
            "eps": _check_number(f"{where}: eps", settings["eps"]),
            "weight_decay": _check_number(f"{where}: weight_decay", settings["weight_decay"]),
        }

    def _state(self) -> dict[str, Any]:
        return {"step": self.t, "m": list(self.m), "v": list(self.v)}

    def _check_state(self, where: str, state: Mapping) -> dict[str, Any]:
        step = state["step"]
        if type(step) is not int or step < 0:
            raise ValueError(
                f"{where}: step (the number of steps taken) must be an int >= 0, "
                f"got {shorten(repr(step))}"
            )
        n = len(self.params)
        return {
            "t": step,
            "m": _check_floats(where, "m", state["m"], n),
            # v averages squared gradients: a negative one would break sqrt in step().
            "v": _check_floats(where, "v", state["v"], n, low=0.0),
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
