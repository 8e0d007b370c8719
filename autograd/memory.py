"""``memory_report(root)``: what a graph keeps alive for backward, and where it came from.

The bytes are measured, not estimated: ``sys.getsizeof`` of every distinct object the
graph holds (each node, its parents tuple, its value and gradient floats, its label, what it saves:
a constant, a tuple of numbers, a segment's state), each counted once however many
nodes share it. That is what ``tracemalloc`` sees the graph allocate, which is how the
benchmark measures memory per node (``benchmarks/workloads.py``, ``chain_memory``);
``tests/autograd/test_memory.py`` holds the two to within a few percent. Objects the graph
points at but does not own (a checkpointed ``fn`` and its closure) are not counted.

Attribution to modules needs the parameters' names (``memory_report(root, model)``) and
uses the rules of grouped drawings (``autograd/draw_groups.py``): a node that reads
parameters of one module was made by that module (a neuron's ``dot`` node), an
activation joins the node it reads, and a module's units make up its layer
(``layers.0``, ``cell``); a parameter belongs to its layer too. Anything else (a loss)
is ``(no module)``. Checkpointed segments get one line each: the segment node, the
outputs still alive, and the number of nodes backward will make again.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from . import checkpointing, draw_groups
from .engine import topological_order
from .ops import LEAF
from .value import Value

__all__ = ["memory_report", "MemoryReport", "Row", "SegmentRow"]

NO_MODULE = "(no module)"
LEAF_NAME = "leaf"


@dataclass
class Row:
    """Nodes, edges (parent references) and bytes of one part of a graph."""

    nodes: int = 0
    edges: int = 0
    bytes: int = 0

    def add(self, edges: int, nbytes: int) -> None:
        """Count one more node, with its edges and bytes."""
        self.nodes += 1
        self.edges += edges
        self.bytes += nbytes


@dataclass
class SegmentRow:
    """One checkpointed segment: what it keeps alive, and what backward makes again."""

    label: str
    outputs: int  # its output nodes in this graph
    inputs: int  # interior Values it reads (its boundary)
    leaves: int  # leaves it reads (parameters)
    bytes: int  # the segment node, its saved state and its outputs
    recomputed: int  # nodes fn made the first time, made again during backward


@dataclass
class MemoryReport:
    """What a graph keeps alive for backward (see ``memory_report``).

    ``nodes`` counts every Value of the graph, ``interior`` those made by operations,
    ``leaves`` the rest; ``edges`` the parent references; ``bytes`` what they hold.
    ``by_op`` and ``by_module`` map a name to a ``Row``; ``segments`` lists a
    ``SegmentRow`` per checkpointed segment, in topological order.
    """

    nodes: int
    interior: int
    leaves: int
    edges: int
    bytes: int
    by_op: dict = field(default_factory=dict)
    by_module: dict = field(default_factory=dict)
    segments: list = field(default_factory=list)

    MAX_SEGMENT_LINES = 8

    def table(self) -> str:
        """The report as a plain-text table."""
        lines = [f"{self.nodes:,} nodes ({self.interior:,} interior, {self.leaves:,} "
                 f"leaves), {self.edges:,} edges, {_fmt_bytes(self.bytes)}"]
        sections = [("op", self.by_op)]
        if self.by_module:
            sections.append(("module", self.by_module))
        for title, rows in sections:
            width = max([len(title)] + [len(name) for name in rows])
            lines.append("")
            lines.append(f"{title:<{width}}  {'nodes':>10}  {'edges':>10}  {'bytes':>10}  share")
            for name, row in sorted(rows.items(), key=lambda item: -item[1].bytes):
                share = row.bytes / self.bytes if self.bytes else 0.0
                lines.append(f"{name:<{width}}  {row.nodes:>10,}  {row.edges:>10,}  "
                             f"{_fmt_bytes(row.bytes):>10}  {share:6.1%}")
        if self.segments:
            lines.append("")
            lines.append(f"{len(self.segments):,} checkpointed segments, recomputed during "
                         "backward:")
            for row in self.segments[:self.MAX_SEGMENT_LINES]:
                lines.append(f"  {row.label}: 1 node + {row.outputs:,} outputs, "
                             f"{_fmt_bytes(row.bytes)}; reads {row.inputs:,} inputs and "
                             f"{row.leaves:,} leaves; recomputes {row.recomputed:,} nodes")
            hidden = len(self.segments) - self.MAX_SEGMENT_LINES
            if hidden > 0:
                lines.append(f"  ... and {hidden:,} more (report.segments lists them all)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"MemoryReport(\n{self.table()}\n)"

    __str__ = table


def _fmt_bytes(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.2f} MB"
    if n >= 10_000:
        return f"{n / 1e3:.1f} kB"
    return f"{n:,} B"


def _names(model: Any) -> dict:
    """{id(parameter): dotted name} from a module (``named_parameters()``) or a dict."""
    if model is None:
        return {}
    if callable(getattr(model, "named_parameters", None)):
        pairs = list(model.named_parameters())
    elif isinstance(model, Mapping):
        pairs = list(model.items())
    else:
        raise TypeError("memory_report: model must be a module (with named_parameters()) "
                        f"or a dict name -> Value, got {type(model).__name__}")
    names: dict = {}
    for name, parameter in pairs:
        if not isinstance(parameter, Value):
            raise TypeError(f"memory_report: parameter {name!r} is a "
                            f"{type(parameter).__name__}, not a Value")
        names.setdefault(id(parameter), str(name))
    return names


def _layer_of_parameter(name: str) -> str:
    module = draw_groups.module_of(name)
    if module.rpartition(".")[2].isdigit():  # a unit of a list: its layer is the list's owner
        module = draw_groups.module_of(module)
    return module or "model"


class _Sizer:
    """``sys.getsizeof`` of each distinct object, counted the first time it is seen."""

    def __init__(self) -> None:
        self.seen: set = set()

    def __call__(self, *objects: Any) -> int:
        total = 0
        seen = self.seen
        for obj in objects:
            if obj is None or id(obj) in seen:
                continue
            seen.add(id(obj))
            total += sys.getsizeof(obj)
        return total

    def saved(self, saved: Any) -> int:
        """A node's saved slot: a number, a tuple or list of numbers, or a segment's state."""
        state = saved if isinstance(saved, checkpointing._Segment) else None
        if state is None:
            if type(saved) in (tuple, list):
                return self(saved, *[x for x in saved if type(x) is float])
            return self(saved) if type(saved) is float else 0
        total = self(state, state.data, state.fresh, state.arrivals)
        stack = [state.args]
        while stack:  # the copied structure of args (lists and tuples), not its Values
            item = stack.pop()
            if type(item) in (list, tuple):
                total += self(item)
                stack.extend(item)
        return total


def memory_report(root: Value, model: Optional[Any] = None) -> MemoryReport:
    """What the graph of ``root`` keeps alive for backward: nodes, edges and bytes.

    Broken down by op, by module when ``model`` (a module, or a dict name -> parameter)
    is given, and one line per checkpointed segment; ``repr`` prints it as a table and
    every number is an attribute (see ``MemoryReport``).
    """
    if not isinstance(root, Value):
        raise TypeError(f"memory_report: root must be a Value, got {type(root).__name__}")
    names = _names(model)
    order = topological_order(root)
    size = _Sizer()
    by_op: dict = {}
    per_node = []
    interior = edges = total = 0
    outputs_of: dict = {}
    for node in order:
        parents = node._parents
        is_leaf = node._op is LEAF  # not ``not parents``: a bare parent Value may be falsy
        count = 0 if is_leaf else (len(parents) if type(parents) is tuple else 1)
        nbytes = size(node, node.data, node.grad, node.label or None)
        if not is_leaf and type(parents) is tuple:  # a leaf's () is the one empty tuple
            nbytes += size(parents)
        nbytes += size.saved(node._saved)
        if not is_leaf:
            interior += 1
            name = node._op.label.replace("{}", "c")
        else:
            name = LEAF_NAME
        if node._op is checkpointing.OUTPUT:
            outputs_of.setdefault(id(parents), []).append(nbytes)
        row = by_op.get(name)
        if row is None:
            row = by_op[name] = Row()
        row.add(count, nbytes)
        edges += count
        total += nbytes
        per_node.append((count, nbytes))

    by_module: dict = {}
    if names:
        groups = draw_groups.infer_groups(order, names)
        for i, (node, (count, nbytes)) in enumerate(zip(order, per_node)):
            unit = groups.unit_of.get(i)
            if unit is not None:
                module = unit.layer.module if unit.layer is not None else unit.module
                module = module or "model"
            elif node._op is LEAF and id(node) in names:
                module = _layer_of_parameter(names[id(node)])
            else:
                module = NO_MODULE
            row = by_module.get(module)
            if row is None:
                row = by_module[module] = Row()
            row.add(count, nbytes)

    segments = []
    for node, (_, nbytes) in zip(order, per_node):
        state = checkpointing.segment_of(node)
        if state is None:
            continue
        outputs = outputs_of.get(id(node), [])
        parents = node.parents
        segments.append(SegmentRow(
            label=state.label, outputs=len(outputs), inputs=state.inputs,
            leaves=sum(1 for p in parents if p._op is LEAF),
            bytes=nbytes + sum(outputs), recomputed=state.interior))
    return MemoryReport(len(order), interior, len(order) - interior, edges, total, by_op,
                        by_module, segments)
