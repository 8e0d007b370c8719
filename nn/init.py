"""Weight initialisation schemes for a neuron's incoming weights (biases start at 0).

* ``"uniform"`` (the default, micrograd's): every weight ~ U(-1, 1).
* ``"xavier"`` (Glorot uniform): U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), which
  keeps the activation variance steady through tanh and sigmoid layers.
* ``"he"`` (Kaiming uniform, gain sqrt(2)): U(-a, a) with a = sqrt(6 / fan_in), which
  does the same for ReLU layers.

``rng`` is a ``random.Random``; ``None`` draws from the global ``random`` module, so
``random.seed(s)`` makes a model reproducible as in micrograd.

References: Glorot & Bengio 2010, "Understanding the difficulty of training deep
feedforward neural networks"; He et al. 2015, "Delving Deep into Rectifiers";
PyTorch ``torch.nn.init.xavier_uniform_`` and ``kaiming_uniform_``.
"""

from __future__ import annotations

import math
import random
from typing import Optional

from ._checks import check_choice

__all__ = ["SCHEMES", "check_scheme", "initial_weights"]

SCHEMES = ("uniform", "xavier", "he")


def check_scheme(init: str) -> None:
    """Raise ValueError unless ``init`` names one of ``SCHEMES``."""
    check_choice("init", init, SCHEMES)


def initial_weights(
    init: str, fan_in: int, fan_out: int, rng: Optional[random.Random] = None
) -> list[float]:
    """``fan_in`` starting weights for one neuron under scheme ``init`` (see module doc)."""
    check_scheme(init)
    if init == "uniform":
        bound = 1.0
    elif init == "xavier":
        bound = math.sqrt(6.0 / (fan_in + fan_out))
    else:
        bound = math.sqrt(6.0 / fan_in)
    uniform = (rng if rng is not None else random).uniform
    return [uniform(-bound, bound) for _ in range(fan_in)]
