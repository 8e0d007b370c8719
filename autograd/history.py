"""How a new node gets its history: the one seam between node creation and the modes.

``value._node`` (and its inlined copies) records a node's parents, op and saved slot
directly while ``grad_mode.slow_path.count`` is 0, which is nearly always. Otherwise
it calls ``attach_slowly``, and only here does node creation reach the modes that make
recording different:

* grad mode (``no_grad``): the result is a leaf, with no parents and the ``LEAF`` op;
* the garbage-collector policy (``gc_policy``): the first node recorded while its hook
  is out puts the hook back;
* anomaly mode (``detect_anomaly``): the node remembers the line of user code that
  made it, and a NaN or infinity made from finite operands raises at once.

Nothing here knows about ``Value``: it fills in the slots of a node made elsewhere.
"""

from __future__ import annotations

from typing import Any

from . import gc_policy
from .anomaly import check_forward, remember_creation
from .grad_mode import _mode
from .ops import LEAF, Op


def attach_slowly(out: Any, parents: object, op: Op, saved: object) -> None:
    """Give ``out`` its history, or none under ``no_grad``: the slow path of ``_node``."""
    if _mode.enabled:
        if not gc_policy.is_watching():
            gc_policy.start_watching()
        out._parents = parents
        out._op = op
        out._saved = saved
        if _mode.anomaly:
            remember_creation(out)
            check_forward(out)
    else:
        out._parents = ()
        out._op = LEAF
        out._saved = None
