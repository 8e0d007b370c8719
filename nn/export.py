"""Hand-off to PyTorch: ``to_torch``, ``from_torch``, ``save_safetensors``, ``load_safetensors``.

A chainrule model becomes a float64 ``torch.nn.Module`` with the same numbers (forward
and parameter gradients agree to rounding), a torch module of the same kinds comes back as
a chainrule module, and ``save_safetensors`` writes a ``.safetensors`` file under
PyTorch's names and shapes, which ``torch_model.load_state_dict(safetensors.torch.
load_file(path))`` reads into ``to_torch(model)``'s architecture with ``strict=True``.

torch, safetensors and numpy are optional extras (``pip install 'chainrule[torch]'``,
``pip install 'chainrule[safetensors]'``), imported only inside the functions that need
them, never by ``import nn`` or ``import nn.export``.

How each kind maps (chainrule -> PyTorch, names of the PyTorch state dict):

=====================  ================================  ====================================
chainrule              PyTorch                           weights
=====================  ================================  ====================================
``Linear(nin, nout)``  ``Linear(nin, nout, bias)``       ``weight`` (nout, nin), ``bias``: the
                                                         same layout, nothing transposed
``Sequential``         ``Sequential``, children ``0``,   each child's under ``{i}.``
                       ``1``, ... converted in order
``ReLU/Tanh/Sigmoid``  ``ReLU/Tanh/Sigmoid``             none
``MLP(nin, nouts)``    ``Sequential(Linear, act, ...,    ``{2k}.weight[j][i]`` =
                       Linear)``: one Linear per Layer,  ``layers[k].neurons[j].w[i]``,
                       an activation module after each   ``{2k}.bias[j]`` = ``...neurons[j].b``
                       hidden one, none after the last   (indices ``k``, not ``2k``, when the
                       (MLP's last layer is linear)      activation is ``"linear"``)
``BatchNorm1d``        ``BatchNorm1d(n, eps, momentum)`` ``weight`` = gamma, ``bias`` = beta,
                                                         ``running_mean``, ``running_var``,
                                                         ``num_batches_tracked`` (written as 0)
``RNN(nin, nhidden)``  ``RNN(nin, nhidden, nonlinearity, ``weight_ih_l0`` = W_xh transposed,
                       batch_first=True)``               ``weight_hh_l0`` = W_hh transposed,
                                                         ``bias_ih_l0`` = b, ``bias_hh_l0`` = 0
=====================  ================================  ====================================

BatchNorm1d needs no conversion: chainrule follows PyTorch's conventions exactly (biased
batch variance to normalise, unbiased variance into ``running_var``, ``running = (1 -
momentum) * running + momentum * batch``, the same ``eps``). ``num_batches_tracked`` only
matters to PyTorch when ``momentum=None`` (a cumulative average), which chainrule does not
have, so it is written as 0 and ignored on the way back.

The RNN's two biases: chainrule has one bias ``b`` where PyTorch adds ``bias_ih`` and
``bias_hh``; ``to_torch`` puts ``b`` in ``bias_ih_l0`` and zeros in ``bias_hh_l0``, and
loading a PyTorch state takes ``b = bias_ih_l0 + bias_hh_l0``, so a model trained in
PyTorch (with both biases nonzero) comes back with the same forward.

Calling conventions (a chainrule call and the PyTorch call that gives the same numbers):

* MLP, Linear, Sequential of them: ``model(x)`` with ``x`` a list of ``nin`` numbers is
  ``torch_model(torch.tensor(x, dtype=torch.float64))``, a tensor of shape ``(nout,)``
  (chainrule returns a single Value when ``nout == 1``); a batch of rows is a ``(N, nin)``
  tensor.
* BatchNorm1d: ``bn(batch)`` with N rows of ``num_features`` is ``torch_bn(tensor)`` with
  a ``(N, num_features)`` tensor.
* RNN: ``hs, h = rnn(xs, h0)`` (``xs``: T vectors of ``nin``) is ``out, h_n =
  torch_rnn(torch.tensor([xs]), torch.tensor([[h0]]))``: ``out`` is ``(1, T, nhidden)``
  with ``out[0][t] == hs[t]`` and ``h_n`` is ``(1, 1, nhidden)`` with ``h_n[0][0] == h``
  (a batch of one sequence, batch first; ``h0=None`` is zeros on both sides).

Train and eval modes are carried over module by module, both ways.

References: PyTorch ``torch.nn.Linear``, ``torch.nn.BatchNorm1d``, ``torch.nn.RNN`` and
``Module.load_state_dict``; the safetensors format (huggingface/safetensors).
"""

from __future__ import annotations

import os
import random
from typing import Any, Mapping, NamedTuple, Optional, Union

from .layers import MLP, BatchNorm1d
from .linear import Linear, ReLU, Sigmoid, Tanh
from .module import Module
from .rnn import RNN
from .sequential import Sequential

__all__ = [
    "to_torch",
    "from_torch",
    "save_safetensors",
    "load_safetensors",
    "torch_state_dict",
    "load_torch_state_dict",
    "TORCH_INSTALL",
    "SAFETENSORS_INSTALL",
]

#: How to install what ``to_torch`` and ``from_torch`` need.
TORCH_INSTALL = "pip install 'chainrule[torch]' (or: pip install torch)"
#: How to install what ``save_safetensors`` and ``load_safetensors`` need.
SAFETENSORS_INSTALL = "pip install 'chainrule[safetensors]' (or: pip install safetensors numpy)"

PathLike = Union[str, "os.PathLike[str]"]

# chainrule activation name -> torch.nn class name (torch.nn.RNN takes "tanh" and "relu").
_TORCH_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}
_ELEMENTWISE = (ReLU, Tanh, Sigmoid)
_SUPPORTED = "Linear, Sequential, ReLU, Tanh, Sigmoid, MLP, BatchNorm1d, RNN"
_SUPPORTED_TORCH = (
    "torch.nn.Linear, Sequential, ReLU, Tanh, Sigmoid, BatchNorm1d and RNN (one layer, "
    "tanh or relu)"
)


# -- the optional imports --------------------------------------------------------------


def _import_torch(caller: str) -> Any:
    try:
        import torch
    except ImportError as error:
        raise ModuleNotFoundError(
            f"nn.export.{caller} needs PyTorch, which is not installed; "
            f"install it with {TORCH_INSTALL}",
            name="torch",
        ) from error
    return torch


def _import_safetensors(caller: str) -> tuple[Any, Any]:
    try:
        import numpy
        import safetensors.numpy
    except ImportError as error:
        raise ModuleNotFoundError(
            f"nn.export.{caller} needs the safetensors and numpy packages, which are not "
            f"installed; install them with {SAFETENSORS_INSTALL}",
            name=getattr(error, "name", None),
        ) from error
    return numpy, safetensors


# -- the layout: PyTorch's state-dict entries in terms of chainrule's ------------------


class _Entry(NamedTuple):
    """One entry of the PyTorch state dict and where its numbers live in chainrule's.

    ``names`` holds chainrule state-dict names nested in the tensor's shape (a list of
    rows for a matrix). ``role`` is ``"copy"`` (entry i is chainrule's ``names[i]``),
    ``"add"`` (PyTorch's second term of a chainrule sum: written as zeros, added into
    ``names`` when loading) or ``"count"`` (``num_batches_tracked``: an int64 scalar,
    written as 0, ignored when loading; ``names`` is None).
    """

    name: str
    names: Any
    role: str = "copy"


def _check_rnn_activation(rnn: RNN) -> str:
    if rnn.activation not in ("tanh", "relu"):
        raise ValueError(
            f"torch.nn.RNN has nonlinearity 'tanh' or 'relu' only; this RNN uses "
            f"{rnn.activation!r}. Build the chainrule RNN with activation='tanh' or 'relu'"
        )
    return rnn.activation


def _mlp_children(mlp: MLP) -> list[tuple[str, Any]]:
    """PyTorch's Sequential for ``mlp``: ("linear", layer) and ("act", name), in order."""
    children: list[tuple[str, Any]] = []
    for layer in mlp.layers:
        children.append(("linear", layer))
        if layer.activation != "linear":
            children.append(("act", layer.activation))
    return children


def _layout(
    module: Module, tp: str = "", cp: str = "", first: Optional[dict[int, str]] = None
) -> list[_Entry]:
    """PyTorch's state-dict entries for ``module``; ``tp``/``cp``: the two name prefixes.

    A module reached twice (shared) is listed by PyTorch under both names and by
    chainrule under the first only (``first``: module id -> that chainrule prefix).
    """
    first = {} if first is None else first
    cp = first.setdefault(id(module), cp)
    kind = type(module)
    if kind is Linear:
        rows, cols = range(module.out_features), range(module.in_features)
        entries = [_Entry(f"{tp}weight", [[f"{cp}weight.{r}.{c}" for c in cols] for r in rows])]
        if module.bias is not None:
            entries.append(_Entry(f"{tp}bias", [f"{cp}bias.{r}" for r in rows]))
        return entries
    if kind in _ELEMENTWISE:
        return []
    if kind is Sequential:
        # PyTorch numbers the children by position; chainrule names each child once, by
        # the name it was given (a slice keeps its modules' names: seq[2:] starts at "2").
        chainrule_names = {id(child): name for name, child in module.named_children()}
        entries = []
        for position, child in enumerate(module):
            name = chainrule_names[id(child)]
            entries.extend(_layout(child, f"{tp}{position}.", f"{cp}{name}.", first))
        return entries
    if kind is MLP:
        entries = []
        index = 0  # the Linear's index in PyTorch's Sequential
        for k, layer in enumerate(module.layers):
            neuron = f"{cp}layers.{k}.neurons"
            entries.append(_Entry(f"{tp}{index}.weight", [
                [f"{neuron}.{j}.w.{i}" for i in range(layer.nin)] for j in range(layer.nout)
            ]))
            entries.append(_Entry(f"{tp}{index}.bias", [
                f"{neuron}.{j}.b" for j in range(layer.nout)
            ]))
            index += 1 if layer.activation == "linear" else 2  # an activation module follows
        return entries
    if kind is BatchNorm1d:
        n = range(module.num_features)
        return [
            _Entry(f"{tp}weight", [f"{cp}gamma.{j}" for j in n]),
            _Entry(f"{tp}bias", [f"{cp}beta.{j}" for j in n]),
            _Entry(f"{tp}running_mean", [f"{cp}running_mean.{j}" for j in n]),
            _Entry(f"{tp}running_var", [f"{cp}running_var.{j}" for j in n]),
            _Entry(f"{tp}num_batches_tracked", None, "count"),
        ]
    if kind is RNN:
        _check_rnn_activation(module)
        nin, nhidden = range(module.nin), range(module.nhidden)
        bias = [f"{cp}cell.b.{j}" for j in nhidden]
        # Row-vector convention: h_j = sum_i x_i W_xh[i][j] + ..., so torch's (nhidden, nin)
        # weight_ih_l0[j][i] is W_xh[i][j], and likewise for W_hh.
        w_ih = [[f"{cp}cell.W_xh.{i}.{j}" for i in nin] for j in nhidden]  # nhidden x nin
        w_hh = [[f"{cp}cell.W_hh.{k}.{j}" for k in nhidden] for j in nhidden]
        return [
            _Entry(f"{tp}weight_ih_l0", w_ih),
            _Entry(f"{tp}weight_hh_l0", w_hh),
            _Entry(f"{tp}bias_ih_l0", bias),
            _Entry(f"{tp}bias_hh_l0", bias, "add"),
        ]
    raise TypeError(
        f"nn.export: {kind.__name__} has no PyTorch counterpart here; supported modules "
        f"are {_SUPPORTED}"
    )


def _fill(names: Any, lookup: Any) -> Any:
    """``names`` (nested lists of names) with every name replaced by ``lookup(name)``."""
    if isinstance(names, str):
        return lookup(names)
    return [_fill(item, lookup) for item in names]


def _shape(nested: Any) -> tuple[int, ...]:
    shape = []
    while isinstance(nested, (list, tuple)):
        shape.append(len(nested))
        nested = nested[0] if nested else None
    return tuple(shape)


def _pairs(names: Any, values: Any, where: str) -> list[tuple[str, Any]]:
    """(chainrule name, number) for each position, or ValueError if the shapes differ."""
    if isinstance(names, str):
        if isinstance(values, (list, tuple)):
            raise ValueError(f"{where}: expected a number, got a list {values!r}")
        return [(names, values)]
    if not isinstance(values, (list, tuple)) or len(values) != len(names):
        raise ValueError(f"{where}: expected {len(names)} items, got {values!r}")
    pairs = []
    for i, (name, value) in enumerate(zip(names, values)):
        pairs.extend(_pairs(name, value, f"{where}[{i}]"))
    return pairs


def torch_state_dict(module: Module) -> dict[str, Any]:
    """``module``'s state under PyTorch's names and shapes, as nested lists of floats.

    The names and shapes are those of ``to_torch(module).state_dict()`` (``0.weight``:
    ``nout`` rows of ``nin``; ``running_var``; ``weight_ih_l0`` ...); ``num_batches_tracked``
    is the int 0. Needs no extra package. Raises TypeError for a module kind that has no
    PyTorch counterpart (see the module docstring).
    """
    state = module.state_dict()
    out: dict[str, Any] = {}
    for entry in _layout(module):
        if entry.role == "count":
            out[entry.name] = 0
        elif entry.role == "add":
            out[entry.name] = _fill(entry.names, lambda name: 0.0)
        else:
            out[entry.name] = _fill(entry.names, state.__getitem__)
    return out


def _as_nested(value: Any) -> Any:
    """A tensor or array as nested lists of Python numbers; lists and numbers as given."""
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else value


def load_torch_state_dict(module: Module, state: Mapping[str, Any]) -> None:
    """Copy a state in PyTorch's names and shapes into ``module``.

    ``state`` maps each name of ``torch_state_dict(module)`` to nested lists of numbers,
    a NumPy array or a torch tensor: ``load_safetensors(path)``, or a torch module's
    ``state_dict()``. The names must match exactly and each shape must be the one
    expected; an RNN's ``bias_hh_l0`` is added into ``b``; ``num_batches_tracked`` is
    ignored. Everything is checked (then by ``module.load_state_dict``: finite numbers,
    variances >= 0) before anything changes: on any mismatch a ValueError says which
    entry, and ``module`` is left untouched.
    """
    if not isinstance(state, Mapping):
        raise ValueError(
            f"load_torch_state_dict needs a dict of name -> tensor, got {type(state).__name__}"
        )
    layout = _layout(module)
    expected = [entry.name for entry in layout]
    missing = [name for name in expected if name not in state]
    unexpected = [str(name) for name in state if name not in set(expected)]
    if missing or unexpected:
        raise ValueError(
            f"load_torch_state_dict: state does not match {type(module).__name__}'s PyTorch "
            f"layout; missing: {', '.join(missing) or 'none'}; "
            f"unexpected: {', '.join(unexpected) or 'none'}"
        )
    chainrule_state: dict[str, Any] = {}
    # The copies first, then the second terms added into them.
    for role in ("copy", "add"):
        for entry in layout:
            if entry.role != role:
                continue
            values = _as_nested(state[entry.name])
            if _shape(values) != _shape(entry.names):
                raise ValueError(
                    f"load_torch_state_dict: {entry.name} has shape {_shape(values)}, "
                    f"expected {_shape(entry.names)}"
                )
            for name, value in _pairs(entry.names, values, entry.name):
                if role == "copy":
                    chainrule_state[name] = value
                    continue
                first = chainrule_state[name]
                if type(value) not in (int, float) or type(first) not in (int, float):
                    raise ValueError(
                        f"load_torch_state_dict: {entry.name} and the entry it adds to must "
                        f"hold numbers, got {first!r} and {value!r}"
                    )
                chainrule_state[name] = first + value
    module.load_state_dict(chainrule_state)


# -- to_torch / from_torch ---------------------------------------------------------------


def _torch_module(module: Module, torch: Any, memo: dict[int, Any]) -> Any:
    """A float64 torch module with ``module``'s architecture and modes (weights unset).

    ``memo`` (module id -> torch module) keeps a shared chainrule module shared.
    """
    if id(module) in memo:
        return memo[id(module)]
    tnn, f64 = torch.nn, torch.float64
    kind = type(module)
    if kind is Linear:
        built = tnn.Linear(
            module.in_features, module.out_features, bias=module.bias is not None, dtype=f64
        )
    elif kind in _ELEMENTWISE:
        built = getattr(tnn, kind.__name__)()
    elif kind is Sequential:
        built = tnn.Sequential(*[_torch_module(child, torch, memo) for child in module])
    elif kind is MLP:
        children = []
        for what, item in _mlp_children(module):
            if what == "linear":
                child = tnn.Linear(item.nin, item.nout, dtype=f64)
                child.training = item.training
            else:
                child = getattr(tnn, _TORCH_ACTIVATIONS[item])()
                child.training = module.training
            children.append(child)
        built = tnn.Sequential(*children)
    elif kind is BatchNorm1d:
        built = tnn.BatchNorm1d(
            module.num_features, eps=module.eps, momentum=module.momentum, dtype=f64
        )
    elif kind is RNN:
        built = tnn.RNN(
            module.nin, module.nhidden, num_layers=1, nonlinearity=_check_rnn_activation(module),
            bias=True, batch_first=True, dtype=f64,
        )
    else:
        _layout(module)  # raises the TypeError naming the kind
        raise AssertionError(kind)  # pragma: no cover
    built.training = module.training
    memo[id(module)] = built
    return built


def to_torch(module: Module) -> Any:
    """A float64 ``torch.nn.Module`` computing what ``module`` computes, with its weights.

    The forward and the parameter gradients agree with chainrule's to rounding; train
    and eval modes (and BatchNorm's running statistics) are carried over. The module
    docstring lists the mapping of each kind and of the call conventions.

    Raises:
        ModuleNotFoundError: torch is not installed (the message says how to install it).
        TypeError: ``module`` is a kind with no PyTorch counterpart here.
        ValueError: an RNN whose activation torch.nn.RNN does not have (sigmoid, linear).
    """
    torch = _import_torch("to_torch")
    built = _torch_module(module, torch, {})
    tensors = {}
    for name, value in torch_state_dict(module).items():
        dtype = torch.int64 if isinstance(value, int) else torch.float64
        tensors[name] = torch.tensor(value, dtype=dtype)
    built.load_state_dict(tensors, strict=True)
    return built


def _torch_name(module: Any) -> str:
    kind = type(module)
    return f"{kind.__module__}.{kind.__qualname__}"


def _refuse(module: Any, what: str) -> None:
    raise ValueError(f"from_torch: {_torch_name(module)} with {what} has no chainrule counterpart")


def _from_torch(module: Any, torch: Any, memo: dict[int, Module]) -> Module:
    """The chainrule module for ``module``; ``memo`` keeps shared torch modules shared."""
    if id(module) in memo:
        return memo[id(module)]
    tnn = torch.nn
    kind = type(module)
    rng = random.Random(0)  # construction draws weights; keep the global generator untouched
    built: Module
    if kind is tnn.Sequential:
        built = Sequential(*[_from_torch(child, torch, memo) for child in module])
        built.training = module.training  # the children carry their own modes
        memo[id(module)] = built
        return built
    if kind is tnn.Linear:
        built = Linear(
            module.in_features, module.out_features, bias=module.bias is not None, rng=rng
        )
    elif kind in (tnn.ReLU, tnn.Tanh, tnn.Sigmoid):
        built = {tnn.ReLU: ReLU, tnn.Tanh: Tanh, tnn.Sigmoid: Sigmoid}[kind]()
    elif kind is tnn.BatchNorm1d:
        if not module.affine:
            _refuse(module, "affine=False")
        if not module.track_running_stats:
            _refuse(module, "track_running_stats=False")
        if module.momentum is None:
            _refuse(module, "momentum=None (a cumulative average); give it a number")
        built = BatchNorm1d(module.num_features, eps=module.eps, momentum=module.momentum)
    elif kind is tnn.RNN:
        if module.num_layers != 1:
            _refuse(module, f"num_layers={module.num_layers}; chainrule's RNN has one layer")
        if module.bidirectional:
            _refuse(module, "bidirectional=True")
        if module.proj_size:
            _refuse(module, f"proj_size={module.proj_size}")
        if not module.bias:
            _refuse(module, "bias=False (chainrule's RNN always has a bias)")
        built = RNN(module.input_size, module.hidden_size, module.nonlinearity, rng)
    else:
        raise TypeError(
            f"from_torch: {_torch_name(module)} is not supported; supported torch modules "
            f"are {_SUPPORTED_TORCH}"
        )
    load_torch_state_dict(built, module.state_dict())
    built.train(module.training)
    memo[id(module)] = built
    return built


def from_torch(module: Any) -> Module:
    """The chainrule module equivalent to the torch module ``module``, with its weights.

    Supported: ``torch.nn.Linear`` becomes ``nn.Linear``; ``Sequential`` becomes
    ``nn.Sequential`` of the converted children (named ``0``, ``1``, ... whatever their
    torch names); ``ReLU``, ``Tanh`` and ``Sigmoid`` become nn's; ``BatchNorm1d``
    (affine, tracking running statistics, a numeric momentum) becomes ``nn.BatchNorm1d``
    with its running statistics; ``RNN`` (one layer, unidirectional, with biases, tanh or
    relu; batch_first either way) becomes ``nn.RNN`` with ``b = bias_ih_l0 +
    bias_hh_l0``. Only these exact types: a subclass may compute something else.
    Train/eval mode is kept, module by module, and a shared module stays shared.
    ``from_torch(to_torch(m))`` has ``m``'s state (an MLP comes back as the equivalent
    ``nn.Sequential`` of ``Linear`` and activation modules, with the same PyTorch-layout
    state, ``torch_state_dict``).

    Raises:
        ModuleNotFoundError: torch is not installed (the message says how to install it).
        TypeError: ``module`` is a torch module type with no chainrule counterpart here
            (the message names it).
        ValueError: a supported type with a setting chainrule does not have.
    """
    torch = _import_torch("from_torch")
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch takes a torch.nn.Module, got {type(module).__name__}")
    return _from_torch(module, torch, {})


# -- safetensors -------------------------------------------------------------------------


def save_safetensors(module: Module, path: PathLike) -> None:
    """Write ``module``'s weights to ``path`` in the ``.safetensors`` format, float64.

    The tensors are ``torch_state_dict(module)``'s, under PyTorch's names and shapes, so
    ``to_torch(model).load_state_dict(safetensors.torch.load_file(path))`` works with
    ``strict=True`` (``num_batches_tracked`` is an int64 scalar). The file is written
    beside ``path`` and renamed over it, so a reader never sees half a file. Needs the
    ``safetensors`` and ``numpy`` packages, not torch.
    """
    numpy, safetensors = _import_safetensors("save_safetensors")
    arrays = {}
    for name, value in torch_state_dict(module).items():
        dtype = numpy.int64 if isinstance(value, int) else numpy.float64
        arrays[name] = numpy.asarray(value, dtype=dtype)
    data = safetensors.numpy.save(arrays, metadata={"format": "pt"})
    path = os.fspath(path)
    temporary = os.path.join(
        os.path.dirname(path) or ".", f".{os.path.basename(path)}.tmp-{os.getpid()}"
    )
    try:
        with open(temporary, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def load_safetensors(path: PathLike) -> dict[str, Any]:
    """The tensors of a ``.safetensors`` file as ``{name: nested lists of numbers}``.

    Floats come back as Python floats (a matrix as a list of rows), integer tensors as
    ints, a scalar tensor as a number. To load the file into a chainrule model, pass the
    result to ``load_torch_state_dict(model, ...)``. Needs ``safetensors`` and ``numpy``.
    Raises ValueError naming ``path`` for a file that is not in the format.
    """
    _, safetensors = _import_safetensors("load_safetensors")
    path = os.fspath(path)
    try:
        arrays = safetensors.numpy.load_file(path)
    except safetensors.SafetensorError as error:
        raise ValueError(f"load_safetensors: {path} is not a .safetensors file: {error}") from None
    return {name: array.tolist() for name, array in arrays.items()}
