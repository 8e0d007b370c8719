"""chainrule's neural-network library, built only on autograd's public API.

>>> import random, nn
>>> model = nn.MLP(2, [16, 16, 1], rng=random.Random(0))
>>> len(model.parameters())
337
>>> score = model([0.5, -1.0])          # one output: a single Value
>>> loss = nn.losses.hinge([score], [1])
>>> loss.backward()

PyTorch-shaped, for the same model:

>>> model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
>>> list(model.state_dict())[:3]        # PyTorch's names, plus the scalar's index
['0.weight.0.0', '0.weight.0.1', '0.weight.1.0']

Modules: ``Module`` (subclasses define ``forward``), ``Neuron``, ``Layer``, ``MLP``,
``BatchNorm1d``, ``RNNCell``, ``RNN``; ``Linear``, ``Sequential``, ``ReLU``, ``Tanh``,
``Sigmoid``.
Submodules: ``nn.losses``, ``nn.optim``, ``nn.data``, ``nn.init``, ``nn.export`` (PyTorch
and safetensors; those packages are imported only when its functions run).
Helpers: ``clip_grad_norm``, ``save``, ``load``, ``checkpoint_sequential``.
"""

from autograd import __version__  # noqa: F401 (nn.__version__, the same as autograd's)

from . import data, export, init, losses, optim
from .io import load, save
from .layers import MLP, BatchNorm1d, Layer, Neuron, checkpoint_sequential
from .linear import Linear, ReLU, Sigmoid, Tanh
from .module import Module
from .optim import clip_grad_norm
from .rnn import RNN, RNNCell
from .sequential import Sequential

__all__ = [
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "BatchNorm1d",
    "RNNCell",
    "RNN",
    "Linear",
    "Sequential",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "losses",
    "optim",
    "data",
    "init",
    "export",
    "clip_grad_norm",
    "save",
    "load",
    "checkpoint_sequential",
]
