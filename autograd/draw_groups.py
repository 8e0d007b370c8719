"""Which module call made each node of a graph, inferred when a drawing is made.

Nothing is recorded while a graph is built: no slot on ``Value``, nothing added to node
creation, so grouping costs nothing unless ``draw(..., group=True)`` or ``collapse=`` asks
for it. Instead the groups are read off the finished graph and the parameters' names
(``named_parameters()``), by three rules:

1. **Units.** A node that reads parameters directly, all of one module, was made by a call
   of that module (a neuron's ``dot`` node reads its weights and bias). The module is the
   parameter's name less its attribute and indices: ``layers.0.neurons.3.w.1`` belongs to
   ``layers.0.neurons.3``, ``cell.W_hh.2.0`` to ``cell``. Calls are told apart by the
   node's other operands: every neuron of one layer call reads the same inputs, an RNN
   cell at step t reads x_t and h_{t-1}. (A first layer's inputs are numbers, saved in the
   node: ``matvec`` saves one tuple for all the rows of a call, so that tuple tells its
   calls apart.)
2. **Activations.** A node with one operand, made by a function (``relu``, ``tanh``: an op
   without a number operand), whose operand was placed by rule 1, joins that call.
3. **Layers.** Calls of sibling modules (``layers.1.neurons.0``, ``layers.1.neurons.1``,
   ...) that read the same inputs form one call of their parent module (``layers.1``).
   A module that is not one of a list (an RNN's ``cell``) is its own layer.

Calls of one module are numbered in topological order (an RNN's time steps: call 0, 1,
...). The inference is one pass over the topological order, linear in the graph's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .nary import DOT_NUMBERS

__all__ = ["Group", "Groups", "infer_groups", "module_of"]


def module_of(name: str) -> str:
    """The module a dotted name belongs to: its trailing indices and one attribute dropped.

    ``layers.0.neurons.3.w.1`` -> ``layers.0.neurons.3``; ``layers.0.neurons.3`` ->
    ``layers.0``; ``cell.W_xh.0.1`` -> ``cell``; ``b`` -> ``''`` (the top module).
    """
    parts = name.split(".")
    while parts and parts[-1].isdigit():
        parts.pop()
    return ".".join(parts[:-1])


def _is_list_item(module: str) -> bool:
    return module.rpartition(".")[2].isdigit()


@dataclass(eq=False)
class Group:
    """One call of one module: the nodes it made (topological indices, in order)."""

    module: str
    inputs: tuple  # what tells this call apart from other calls of the module
    call: int = 0  # calls of one module are numbered in topological order
    calls: int = 1  # how many calls of the module the graph holds
    nodes: list = field(default_factory=list)
    members: list = field(default_factory=list)  # a layer's unit groups
    layer: Optional["Group"] = None  # a unit's layer (itself when it is its own layer)

    @property
    def label(self) -> str:
        """``layers.1.neurons.3``, or ``cell, call 2`` when the module was called more than once."""
        name = self.module or "model"
        return f"{name}, call {self.call}" if self.calls > 1 else name


@dataclass
class Groups:
    """The units (neuron-level calls) and layers of a graph, and where each node went."""

    units: list  # Group, in topological order of their first node
    layers: list  # Group, likewise; each has .members
    unit_of: dict  # topological index -> unit Group


def _inputs_key(node: object, parents: tuple, names: dict) -> tuple:
    key = tuple(id(p) for p in parents if id(p) not in names)
    if node._op is DOT_NUMBERS:  # type: ignore[attr-defined]
        key += (id(node._saved),)  # type: ignore[attr-defined]
    return key


def _number_calls(groups: list) -> None:
    per_module: dict = {}
    for group in groups:
        group.call = per_module.get(group.module, 0)
        per_module[group.module] = group.call + 1
    for group in groups:
        group.calls = per_module[group.module]


def infer_groups(order: list, names: dict) -> Groups:
    """The module calls of the graph whose topological order is ``order``.

    ``names`` maps ``id(parameter)`` to its dotted name. Nodes that no rule places (the
    loss, say) belong to no group.
    """
    index = {id(node): i for i, node in enumerate(order)}
    calls: dict = {}  # (module, inputs) -> unit Group
    unit_of: dict = {}
    core: set = set()  # indices placed by rule 1
    for i, node in enumerate(order):
        parents = node.parents
        if not parents:
            continue
        modules = {module_of(names[id(p)]) for p in parents if id(p) in names}
        if len(modules) == 1:
            (module,) = modules
            key = (module, _inputs_key(node, parents, names))
            unit = calls.get(key)
            if unit is None:
                unit = calls[key] = Group(module, key[1])
            unit.nodes.append(i)
            unit_of[i] = unit
            core.add(i)
        elif not modules and len(parents) == 1 and "{}" not in node._op.label:
            parent = index[id(parents[0])]
            if parent in core:
                unit = unit_of[parent]
                unit.nodes.append(i)
                unit_of[i] = unit
    units = list(calls.values())  # dicts keep insertion order: topological
    _number_calls(units)

    layers_by_key: dict = {}
    for unit in units:
        if _is_list_item(unit.module):
            key = (module_of(unit.module), unit.inputs)
        else:
            key = (unit.module, unit.inputs, "own")
        layer = layers_by_key.get(key)
        if layer is None:
            layer = layers_by_key[key] = Group(key[0], unit.inputs)
        layer.members.append(unit)
        layer.nodes.extend(unit.nodes)
        unit.layer = layer
    layers = list(layers_by_key.values())
    for layer in layers:
        layer.nodes.sort()
        if not layer.module and len(layer.members) == 1:  # a list item of the top module
            layer.module = layer.members[0].module
    _number_calls(layers)
    return Groups(units, layers, unit_of)
