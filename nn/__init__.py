"""chainrule's neural-network library, built only on autograd's public API.

>>> import random, nn
>>> model = nn.MLP(2, [16, 16, 1], rng=random.Random(0))
>>> len(model.parameters())
337
>>> score = model([0.5, -1.0])          # one output: a single Value
>>> loss = nn.losses.hinge([score], [1])
>>> loss.backward()

Modules: ``Module``, ``Neuron``, ``Layer``, ``MLP``, ``BatchNorm1d``.
Submodules: ``nn.losses``, ``nn.optim``, ``nn.data``, ``nn.init``, ``nn.export`` (PyTorch
and safetensors; those packages are imported only when its functions run).
Helpers: ``clip_grad_norm``, ``save``, ``load``.
"""

from . import data, export, init, losses, optim
from .io import load, save
from .layers import MLP, BatchNorm1d, Layer, Neuron
from .module import Module
from .optim import clip_grad_norm
from .rnn import RNN, RNNCell

__all__ = [
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "BatchNorm1d",
    "RNNCell",
    "RNN",
    "losses",
    "optim",
    "data",
    "init",
    "export",
    "clip_grad_norm",
    "save",
    "load",
]
