"""chainrule's autograd: a scalar automatic-differentiation engine.

>>> from autograd import Value
>>> x = Value(3.0)
>>> y = x * x
>>> y.backward()
>>> x.grad
6.0
"""

from . import floatmath, functional, gc_policy, ops
from ._version import __version__  # noqa: F401 (a module attribute, not for import *)
from .anomaly import AnomalyError, detect_anomaly
from .checkpointing import CheckpointError, checkpoint
from .compiler import CompileError, compile, side_effect  # noqa: F401 (not in __all__)
from .draw import draw
from .elementwise import exp, log, relu, sigmoid, softplus, sqrt, tanh
from .engine import topological_order
from .functional import grad
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck, numerical_grad
from .html import draw_html
from .memory import MemoryReport, memory_report
from .nary import dot, logsumexp, matvec, sum  # noqa: F401 (sum: not in __all__)
from .saving import save_graph
from .value import Value, data_of

# ``from autograd import *`` must not shadow a builtin: ``sum`` and ``compile`` are
# reached as ``autograd.sum`` and ``autograd.compile`` (a test checks every name).
__all__ = [
    "Value",
    "data_of",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "exp",
    "log",
    "tanh",
    "sigmoid",
    "relu",
    "sqrt",
    "softplus",
    "dot",
    "matvec",
    "logsumexp",
    "gradcheck",
    "GradcheckError",
    "numerical_grad",
    "topological_order",
    "grad",
    "floatmath",
    "functional",
    "gc_policy",
    "ops",
    "detect_anomaly",
    "AnomalyError",
    "draw",
    "save_graph",
    "draw_html",
    "checkpoint",
    "CheckpointError",
    "memory_report",
    "MemoryReport",
]
