"""Float formulas shared by a Value operation's forward and ``nn``'s float inference path.

Inference under ``no_grad`` runs layers on plain floats instead of Values; both paths
call these functions (or, where a call per unit is too dear, inline the same
expression beside a test that pins the two equal), so they give identical numbers by
construction. Standard library only; nothing here knows about Values.
"""

from __future__ import annotations

import math

__all__ = ["relu", "sigmoid", "tanh"]


def relu(x: float) -> float:
    """max(x, 0); NaN stays NaN."""
    return x if x > 0.0 or x != x else 0.0


def sigmoid(x: float) -> float:
    """1 / (1 + exp(-x)), in the form that cannot overflow for either sign of x."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)  # exp(-x) would overflow for very negative x; this form cannot
    return e / (1.0 + e)


tanh = math.tanh
