"""Gradient checkpointing: keep a segment's inputs and outputs, recompute its interior.

``checkpoint(fn, *args)`` runs ``fn(*args)`` once, notes what it read, and drops the
graph it built. What it returns comes back as *output* nodes whose one parent is a
hidden *segment* node; the segment's parents are the Values ``fn`` read from outside
(see "What fn reads" below). When ``backward()`` reaches the segment it runs ``fn``
again with recording on, sends the outputs' gradients through the recomputed graph
and drops it: the graph alive for backward holds one node per segment and one per
output instead of everything ``fn`` made. (Chen, Xu, Zhang & Guestrin 2016, "Training
Deep Nets with Sublinear Memory Cost"; Griewank & Walther 2000, "Revolve"; PyTorch's
``torch.utils.checkpoint.checkpoint``.)

Two registered ops do it, with no change to the engine's sweep. The sweep runs every
output's rule before the segment's (the segment is their parent): an output's rule
notes its gradient in the segment's saved state, in the order the rules run; the
segment's rule then recomputes and runs an inner sweep over the recomputed interior,
with the segment's inputs as a boundary that the inner walk does not enter. Every rule
there adds straight into the real ``.grad`` of the real inputs and parameters, as in a
run without checkpointing.

**What fn reads.** The Values among ``args`` (inside lists and tuples too) are its
inputs. Any other Value it reads must be a leaf (a parameter, reached through a module
or a closure): the first run is traced and the leaves its graph reaches become parents
of the segment, unless the caller names them (``reads=``, see ``checkpoint``). An
interior Value read any other way (a closure over an intermediate result) would be
recomputed as if it were part of the segment; it raises ``CheckpointError`` instead (at
once when any walk has marked it, during backward at the latest): pass it in ``args``.
Leaves that ``fn`` creates itself (constants) are new on every run; their gradients are
not kept.

**fn must be deterministic**: the recomputation must build the same graph with the same
numbers. Each recomputed output is compared with the first run's, bit for bit, and a
difference raises ``CheckpointError``. Nothing in ``nn`` draws random numbers in a
forward pass today; a module that ever does (dropout) must restore its random state for
the recomputation, as PyTorch does with the RNG.

**Bit-identical gradients.** A Value's gradient is a sum of contributions, and floating
point addition is not associative, so each Value must receive the same contributions
in the same order as without checkpointing. Three things keep that order:

* the inner walk starts from the outputs in the order the outer walk reached them
  (the output rules run in the reverse of that order and note it), so the interior is
  listed exactly as the plain walk lists it;
* the segment's parents are ordered so that the outer walk enters the segment's inputs
  in the order the plain walk would, coming from the interior;
* after the inner sweep each output's ``.grad`` is set to what its recomputed node
  holds, the whole of d(root)/d(output), as the plain run leaves it.

This gives the plain run's gradients bit for bit whenever the plain sweep runs the
segment's interior as one unbroken stretch of rules: chains of segments (an MLP cut
every k layers, an RNN cut every k steps, with a loss on the last step or on every
step, with or without truncation), nested segments, and inputs reused by several
segments that each run whole, all tested. If the plain sweep would interleave the
segment's rules with rules outside it that add into the same Value (the segment's
outputs consumed in separate branches, between which other code reads the segment's
inputs), the checkpointed sweep adds the same terms in another order: the gradients
then agree to rounding, not bit for bit.

``grad(..., create_graph=True)`` through a segment is supported and correct (the
segment's Value rule recomputes ``fn`` and differentiates the recomputed graph with
Value operations); its sums are grouped differently from a plain run, so it agrees
with it to rounding. ``compile(fn)`` of code that checkpoints runs ``fn`` inline while
tracing: a compiled replay keeps floats, not a graph, so there is nothing to save, and
the program is the plain computation's.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from typing import Any, Callable, Optional

from . import compiler, engine, gc_policy
from .anomaly import AnomalyError
from .grad_mode import enable_grad, is_anomaly_enabled, is_grad_enabled
from .ops import LEAF, Op, register
from .value import Value, _node

__all__ = ["checkpoint", "CheckpointError", "LazyOutputs", "SEGMENT", "OUTPUT", "segment_of"]


class CheckpointError(RuntimeError):
    """A checkpointed segment could not be recomputed as it was first run."""


class _Segment:
    """What a segment node saves: how to run ``fn`` again and what it gave the first time.

    ``arrivals`` collects ``(output node, gradient)`` from the output rules of the sweep
    whose walk marked the segment node with ``stamp``; the segment's rule consumes it.
    """

    __slots__ = ("fn", "args", "label", "data", "fresh", "arrivals", "stamp", "interior",
                 "inputs")

    def __init__(self, fn: Callable, args: tuple, label: str, data: array,
                 fresh: Optional[array], interior: int, inputs: int) -> None:
        self.fn = fn
        self.args = args
        self.label = label
        self.data = data  # every output's value, as doubles (8 bytes each)
        # Per output: the index of its output node, or -1 when fn returned an input or a
        # leaf; None when every output is its own (the usual case).
        self.fresh = fresh
        self.arrivals: list = []
        self.stamp = engine.UNSEEN
        self.interior = interior  # nodes the first run made, which backward makes again
        self.inputs = inputs  # how many of the segment's parents are interior Values

    def describe(self) -> str:
        return f"checkpoint segment {self.label!r}"


# -- the two ops ----------------------------------------------------------------------------


def _output_float_rule(node: "Value") -> None:
    """An output's rule: note its gradient for the segment (the segment's rule runs next)."""
    segment = node._parents
    state = segment._saved
    # The walk marks the segment LISTED with its own stamp: a new stamp means a new
    # sweep, so whatever an interrupted sweep left behind is dropped here.
    if state.stamp != segment._walk:
        state.stamp = segment._walk
        state.arrivals = []
    state.arrivals.append((node, node.grad))


def _output_value_rule(node: "Value", g: "Value") -> tuple:
    # For grad(create_graph=True): note the output's gradient Value for the segment's
    # Value rule (the reverse topological order reaches every output before it).
    segment = node._parents
    state = segment._saved
    if state.stamp != -1:
        state.stamp = -1
        state.arrivals = []
    state.arrivals.append((node, g))
    return (g * 0.0,)


OUTPUT = register(Op(
    "checkpoint output", _output_float_rule, _output_value_rule,
    saved="the output's index among fn's outputs",
))


def _segment_float_rule(node: "Value") -> None:
    """The segment's rule: recompute fn, sweep its graph with the outputs' gradients, drop it."""
    state = node._saved
    arrivals = state.arrivals if state.stamp == node._walk else []
    state.arrivals = []
    if not arrivals:
        return
    recomputed, order = _recompute(node, state, [output for output, _ in arrivals])
    for output, g in arrivals:
        recomputed[output._saved].grad += g
    try:
        engine._sweep(order)
    except AnomalyError as error:
        raise AnomalyError(f"{error} (inside {state.describe()}, recomputed during "
                           "backward)") from error
    except Exception as error:
        raise CheckpointError(
            f"{state.describe()}: the backward sweep of its recomputed graph raised "
            f"{type(error).__name__}: {error}") from error
    # Each output now gets the whole of d(root)/d(output), as a plain run leaves it.
    for output, _ in arrivals:
        output.grad = recomputed[output._saved].grad


def _segment_value_rule(node: "Value", g: "Value") -> tuple:
    """For grad(create_graph=True): the shares of the segment's parents, as Values."""
    state = node._saved
    arrivals = state.arrivals if state.stamp == -1 else []
    state.arrivals = []
    state.stamp = engine.UNSEEN
    parents = node.parents
    if not arrivals:
        return tuple(g * 0.0 for _ in parents)
    with engine._state.lock:
        recomputed, order = _recompute(node, state, [output for output, _ in arrivals])
    grads: dict = {}
    for output, share in arrivals:
        r = recomputed[output._saved]
        grads[r] = share if r not in grads else grads[r] + share
    with enable_grad():
        for inner in reversed(order):
            share_in = grads.get(inner)
            if share_in is None:
                continue
            for parent, share in zip(inner.parents, inner._op.value_rule(inner, share_in)):
                grads[parent] = share if parent not in grads else grads[parent] + share
        return tuple(grads[p] if p in grads else g * 0.0 for p in parents)


SEGMENT = register(Op(
    "checkpoint", _segment_float_rule, _segment_value_rule,
    saved="fn, its arguments, its outputs' values and the outputs' gradients while a "
          "sweep runs",
))


# -- the first run ----------------------------------------------------------------------------


def checkpoint(fn: Callable[..., Any], *args: Any, label: str = "", lazy: bool = False,
               reads: Optional[Sequence[Value]] = None) -> Any:
    """Run ``fn(*args)`` without keeping its graph; recompute it during backward.

    Returns what ``fn`` returns, a Value or a (nested) list or tuple of Values, as
    output nodes of one segment: the same numbers, and gradients bit-identical to a run
    without checkpointing (see the module docstring for what is guaranteed). Under
    ``no_grad`` it just returns ``fn(*args)``.

    Args:
        fn: a deterministic function of ``args``. Values it reads other than through
            ``args`` must be leaves (parameters); ``args`` are kept and passed again
            during backward, so do not change them.
        *args: passed to ``fn``; the Values among them (inside lists and tuples too)
            are the segment's inputs.
        label: names the segment in errors and in ``memory_report`` (default
            ``checkpoint(<fn's name>)``).
        lazy: return a ``LazyOutputs`` sequence instead, whose item i (fn's i-th
            output, when fn returns a list or tuple) is made on first access: outputs
            never asked for cost nothing (how ``nn.RNN`` keeps only each segment's last
            state).
        reads: every leaf that ``fn`` reads other than through ``args`` (its
            parameters), when the caller knows them: the first run's graph is then not
            walked to find them, which saves about a tenth of a checkpointed run (how
            ``nn.RNN`` calls it). The segment's interior inputs are then taken in
            ``args`` order, the order in which the plain walk enters them when ``fn``
            reads every one of them as a layer or an RNN step does (each ``dot`` lists
            them in that order). Inside ``detect_anomaly()``
            the first run is walked anyway and checked: a leaf it reaches that is
            neither in ``reads`` nor among ``args`` (fn must then make no leaves of its
            own, such as ``Value(2.0)`` or ``detach()``), or inputs read in another
            order, raise CheckpointError.

    Returns:
        fn's result with every Value that fn made replaced by an output node; Values
        fn returns unchanged (its inputs, leaves) come back as themselves.

    Raises:
        TypeError: ``fn`` is not callable or returns something other than Values in
            lists and tuples.
        CheckpointError: ``fn`` reads an interior Value that is not among ``args``;
            during backward, ``fn`` fails or gives different numbers when recomputed
            (the message names the segment).
    """
    if not callable(fn):
        raise TypeError(f"checkpoint: fn must be callable, got {type(fn).__name__}")
    if not isinstance(label, str):
        raise TypeError(f"checkpoint: label must be a str, got {type(label).__name__}")
    if not is_grad_enabled() or getattr(compiler._tracing, "fn", None) is not None:
        # No graph to save (no_grad), or a compile trace: the replay keeps floats only.
        result = fn(*args)
        return LazyOutputs.of(result) if lazy else result
    label = label or f"checkpoint({getattr(fn, '__qualname__', type(fn).__name__)})"
    args = _copy_structure(args)
    inputs = _values_in(args)
    if reads is not None:
        reads = _leaves_in(reads, label)
    if reads is not None and not is_anomaly_enabled():
        live = gc_policy.live_graph_nodes()
        result = fn(*args)
        outputs = _flatten(result, "checkpoint: fn")
        # Nodes fn made that are still alive: what backward makes again.
        interior = max(0, gc_policy.live_graph_nodes() - live)
        parents, fresh = _known_parents(outputs, inputs, reads)
    else:
        before = engine._state.last_stamp
        result = fn(*args)
        outputs = _flatten(result, "checkpoint: fn")
        with engine._state.lock:
            parents, fresh, interior = _first_walk(outputs, inputs, before, label)
        if reads is not None:
            _check_reads(parents, _known_parents(outputs, inputs, reads)[0], label)
    if not parents or not interior:  # nothing to recompute toward: keep the result
        return LazyOutputs.of(result) if lazy else result
    state = _Segment(fn, args, label, array("d", [v.data for v in outputs]), fresh,
                     interior, sum(1 for p in parents if p._op is not LEAF))
    segment = _node(0.0, parents[0] if len(parents) == 1 else parents, SEGMENT, state)
    segment.label = label
    lazy_outputs = LazyOutputs(segment, outputs, result, {})
    del outputs, result  # the first run's graph goes here
    return lazy_outputs if lazy else lazy_outputs.everything()


def _copy_structure(args: Any) -> Any:
    """``args`` with every list copied (so later changes to them do not matter); tuples
    are kept as they are unless they hold lists."""
    kind = type(args)
    if kind is list:
        return [_copy_structure(a) for a in args]
    if kind is tuple and _holds_a_list(args):
        return tuple(_copy_structure(a) for a in args)
    return args


def _holds_a_list(items: tuple) -> bool:
    stack = list(items)
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is list:
            return True
        if kind is tuple:
            stack.extend(item)
    return False


def _values_in(args: Any) -> list:
    """The distinct Values in ``args`` (nested lists and tuples), in order."""
    found: dict = {}
    stack = [args]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is list or kind is tuple:
            stack.extend(reversed(item))
        elif isinstance(item, Value):
            found.setdefault(id(item), item)
    return list(found.values())


def _flatten(result: Any, where: str) -> list:
    """Every Value of ``result`` (a Value or nested lists and tuples), in order."""
    kind = type(result)
    if kind is Value:
        return [result]
    flat: list = []
    stack = [result]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is list or kind is tuple:
            if all(type(v) is Value for v in item):  # the common case: one flat list
                flat.extend(item)
            else:
                stack.extend(reversed(item))
        elif isinstance(item, Value):
            flat.append(item)
        else:
            raise TypeError(
                f"{where} must return a Value or lists and tuples of Values, got "
                f"{kind.__name__}: {item!r:.80}")
    return flat


def _leaves_in(reads: Any, label: str) -> list:
    """``reads`` as a list of leaf Values, or a TypeError naming the segment."""
    if isinstance(reads, (str, bytes)) or not isinstance(reads, Sequence):
        raise TypeError(f"checkpoint {label!r}: reads must be a list of leaf Values (the "
                        f"parameters fn reads), got {type(reads).__name__}")
    for v in reads:
        if not isinstance(v, Value) or v._op is not LEAF:
            raise TypeError(f"checkpoint {label!r}: reads must hold leaf Values (the "
                            f"parameters fn reads), got {v!r:.80}")
    return list(reads)


def _known_parents(outputs: list, inputs: list, reads: list) -> tuple:
    """(the segment's parents, each output's node index or -1) without a walk.

    The parents are the leaves in ``reads`` and among the inputs, then the interior
    inputs in ``args`` order: the outer walk enters parents last first, as the plain
    walk enters the inputs of a ``dot`` that lists them in that order.
    """
    seen = {id(v) for v in reads}
    leaves = list(reads)
    interior_inputs = []
    for v in inputs:
        if v._op is not LEAF:
            interior_inputs.append(v)
        elif id(v) not in seen:
            seen.add(id(v))
            leaves.append(v)
    _, fresh = _output_indices(outputs, {id(v) for v in interior_inputs})
    return tuple(leaves + interior_inputs), fresh


def _output_indices(outputs: list, input_ids: set) -> tuple:
    """(the outputs fn made, in order, repeats included; each output's node index, -1
    for an input or a leaf fn returned as it was, or None when every output is fn's own
    and distinct)."""
    fresh: list = []
    index_of: dict = {}
    made = []
    for v in outputs:
        if v._op is not LEAF and id(v) not in input_ids:
            fresh.append(index_of.setdefault(id(v), len(index_of)))
            made.append(v)
        else:
            fresh.append(-1)  # fn returned an input or a leaf: it comes back as itself
    # The usual case, every output made by fn and each once, needs no table.
    return made, None if len(index_of) == len(fresh) else array("l", fresh)


def _check_reads(walked: tuple, known: tuple, label: str) -> None:
    """In anomaly mode: the parents the walk found are those ``reads`` implies."""
    named = {id(p) for p in known}
    missing = [p for p in walked if p._op is LEAF and id(p) not in named]
    if missing:
        raise CheckpointError(
            f"checkpoint segment {label!r}: fn reads {len(missing)} leaves that are not in "
            f"reads, first {missing[0]!r:.80}; pass them in reads (or leave reads out)")
    if [p for p in walked if p._op is not LEAF] != [p for p in known if p._op is not LEAF]:
        raise CheckpointError(
            f"checkpoint segment {label!r}: with reads, fn must read every interior Value "
            "of its args, in args order (as a layer or an RNN step does); leave reads out")


def _first_walk(outputs: list, inputs: list, before: int, label: str) -> tuple:
    """(the segment's parents, each output's node index or -1, how many nodes fn made).

    A depth-first walk of the first run's graph from its outputs, last output first as
    a consumer reading them in order would reach them, that does not enter the inputs:
    it lists the leaves it meets and the interior inputs in the order the plain walk
    would enter them. The parents are the leaves, then those inputs last first, so the
    outer walk (which enters parents last first) enters them in the plain order.
    Call with ``engine._state.lock`` held.
    """
    # Two stamps: the inputs are marked with the first, so telling an input from an
    # unseen node is one comparison of marks; the walk itself uses the second.
    boundary = engine._state.new_stamp()
    stamp = engine._state.new_stamp()
    opened, listed = stamp, stamp + 1
    for v in inputs:
        if v._op is not LEAF:
            v._walk = boundary
    leaves: list = []
    entered: list = []
    roots, fresh = _output_indices(outputs, {id(v) for v in inputs if v._op is not LEAF})
    interior = 0
    stack = roots
    push, pop, leaf = stack.append, stack.pop, leaves.append
    leaf_op = LEAF  # a leaf is told by its op: a bare parent Value is falsy when it is 0
    while True:  # as engine._interior_postorder (see there for why ``while True``)
        if not stack:
            break
        node = stack[-1]
        mark = node._walk
        if mark < opened:
            if mark == boundary:
                pop()
                node._walk = listed
                entered.append(node)
                continue
            if mark and mark <= before + 1:
                raise CheckpointError(_foreign(label, node))
            node._walk = opened
            parents = node._parents
            if type(parents) is not tuple:  # one parent, stored bare
                if parents._walk < opened:
                    if parents._op is not leaf_op:
                        push(parents)
                    else:
                        parents._walk = listed
                        leaf(parents)
                continue
            for parent in parents:
                if parent._walk < opened:
                    if parent._op is not leaf_op:
                        push(parent)
                    else:
                        parent._walk = listed
                        leaf(parent)
        else:
            pop()
            if mark == opened:
                node._walk = listed
                interior += 1
    entered.reverse()
    return tuple(leaves + entered), fresh, interior


def _foreign(label: str, node: "Value") -> str:
    return (f"checkpoint segment {label!r}: fn reads {node!r}, an interior Value that "
            "is not among its args; pass it to checkpoint as an argument (only leaves, "
            "such as parameters, may be read another way)")


class LazyOutputs(Sequence):
    """A segment's outputs, each made the first time it is read (``checkpoint(lazy=True)``).

    Item i is fn's i-th output (fn's result itself when it is not a list or tuple):
    its Values replaced by output nodes, made once and then kept here. Outputs that are
    never read are never made, and the graph keeps nothing for them.
    """

    def __init__(self, segment: Optional["Value"], outputs: list, result: Any,
                 made: dict) -> None:
        self._segment = segment
        self._made = made  # output node index -> its node, when an output repeats
        items = result if type(result) in (list, tuple) else [result]
        self._single = type(result) not in (list, tuple)
        self._kind = type(result) if not self._single else list
        self._length = len(items)
        self._cache: dict = {}
        if segment is None:
            self._plain: Optional[list] = list(items)
            return
        self._plain = None
        # Each item's structure and first flat output index; when every item has the
        # same structure (an RNN segment's states), one shape and a stride stand for all.
        # The Values fn returned unchanged (inputs, leaves) are kept by item; the Values
        # fn made are not: they would hold the first run's graph.
        fresh = segment._saved.fresh
        shapes = [_shape(item) for item in items]
        sizes = [_size(shape) for shape in shapes]
        first = shapes[0] if shapes else None
        if all(_same_shape(shape, first) for shape in shapes):
            self._shape: Any = first
            self._stride: Optional[int] = sizes[0] if sizes else 0
            self._shapes: Optional[list] = None
            self._starts: Optional[array] = None
        else:
            self._shape, self._stride = None, None
            self._shapes = shapes
            self._starts = array("l", [0] * len(sizes))
            for i in range(1, len(sizes)):
                self._starts[i] = self._starts[i - 1] + sizes[i - 1]
        self._kept: dict = {}
        if fresh is not None:
            for flat, v in enumerate(outputs):
                if fresh[flat] < 0:
                    self._kept[flat] = v

    @classmethod
    def of(cls, result: Any) -> "LazyOutputs":
        """Plain results (no segment) behind the same interface."""
        return cls(None, [], result, {})

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += self._length
        if not 0 <= i < self._length:
            raise IndexError(f"LazyOutputs: index {i} out of range for {self._length} outputs")
        if self._plain is not None:
            return self._plain[i]
        item = self._cache.get(i)
        if item is None:
            item = self._cache[i] = self._make(i)
        return item

    def _make(self, i: int) -> Any:
        if self._shapes is None:
            shape, start = self._shape, i * self._stride  # type: ignore[operator]
        else:
            shape, start = self._shapes[i], self._starts[i]  # type: ignore[index]
        segment = self._segment
        state = segment._saved  # type: ignore[union-attr]
        fresh, data, made, kept = state.fresh, state.data, self._made, self._kept

        def output(flat: int) -> Any:
            if fresh is None:  # every output its own: no table to look in
                return _node(data[flat], segment, OUTPUT, flat)
            index = fresh[flat]
            if index < 0:
                return kept.pop(flat)  # an input or a leaf, as fn returned it
            node = made.get(index)
            if node is None:
                node = made[index] = _node(data[flat], segment, OUTPUT, flat)
            return node

        return _rebuild(shape, output, start)[0]

    def everything(self) -> Any:
        """The whole result, as ``checkpoint(fn, *args)`` returns it."""
        items = [self[i] for i in range(len(self))]
        return items[0] if self._single else self._kind(items)


class _Flat:
    """The shape of a list or tuple of ``n`` Values, kept as two fields, not n Nones."""

    __slots__ = ("kind", "n")

    def __init__(self, kind: type, n: int) -> None:
        self.kind = kind
        self.n = n


def _shape(result: Any) -> Any:
    """``result``'s structure without its Values (so it keeps no node alive)."""
    kind = type(result)
    if kind is list or kind is tuple:
        if all(isinstance(item, Value) for item in result):
            return _Flat(kind, len(result))
        return kind(_shape(item) for item in result)
    return None


def _size(shape: Any) -> int:
    """How many Values a structure from ``_shape`` holds."""
    if type(shape) is _Flat:
        return shape.n
    if type(shape) in (list, tuple):
        return sum(_size(item) for item in shape)
    return 1


def _same_shape(a: Any, b: Any) -> bool:
    if type(a) is _Flat:
        return type(b) is _Flat and a.kind is b.kind and a.n == b.n
    if type(a) in (list, tuple):
        return (type(b) is type(a) and len(a) == len(b)
                and all(_same_shape(x, y) for x, y in zip(a, b)))
    return a is None and b is None


def _rebuild(shape: Any, replace: Callable[[int], Any], start: int = 0) -> tuple:
    """The structure ``shape`` with its k-th Value given by ``replace(k)``; the next k."""
    if type(shape) is _Flat:
        return shape.kind(replace(k) for k in range(start, start + shape.n)), start + shape.n
    kind = type(shape)
    if kind is list or kind is tuple:
        items = []
        for item in shape:
            built, start = _rebuild(item, replace, start)
            items.append(built)
        return kind(items), start
    return replace(start), start + 1


# -- the recomputation -------------------------------------------------------------------------


def _recompute(segment: "Value", state: _Segment, roots_from: list) -> tuple:
    """Run fn again; return (its outputs, the inner sweep's order of its interior).

    ``roots_from`` are the output nodes in the order their rules ran: the reverse of
    the order the outer walk reached them, so pushing their recomputed nodes in this
    order makes the inner walk reach them as the plain walk did. Call with
    ``engine._state.lock`` held.
    """
    start = engine._state.last_stamp
    try:
        with enable_grad():
            result = state.fn(*state.args)
        recomputed = _flatten(result, "checkpoint: fn")
    except Exception as error:
        raise CheckpointError(
            f"{state.describe()}: recomputing fn during backward raised "
            f"{type(error).__name__}: {error}") from error
    del result
    data = state.data
    if len(recomputed) != len(data):
        raise CheckpointError(
            f"{state.describe()}: fn returned {len(recomputed)} Values when recomputed, "
            f"{len(data)} the first time; fn must be deterministic")
    for k, (r, first) in enumerate(zip(recomputed, data)):
        again = r.data
        if not (again == first and math.copysign(1.0, again) == math.copysign(1.0, first)
                or again != again and first != first):
            raise CheckpointError(
                f"{state.describe()}: output {k} is {again!r} when recomputed, {first!r} "
                "the first time; fn must be deterministic (restore any random state)")
    stamp = engine._state.new_stamp()
    opened, listed = stamp, stamp + 1
    for parent in segment.parents:
        if parent._op is not LEAF:
            parent._walk = listed  # the boundary: the inner walk does not enter it
    order: list = []
    stack = [recomputed[output._saved] for output in roots_from]
    emit, push, pop = order.append, stack.append, stack.pop
    leaf_op = LEAF
    limit = start + 1  # a mark from a walk before fn ran again: a node it did not make
    while True:  # as engine._interior_postorder (see there for why ``while True``)
        if not stack:
            break
        node = stack[-1]
        mark = node._walk
        if mark < opened:
            if mark and mark <= limit:
                raise CheckpointError(_foreign(state.label, node))
            if node._op is leaf_op:
                pop()
                continue
            node._walk = opened
            parents = node._parents
            if type(parents) is not tuple:
                if parents._op is not leaf_op and parents._walk < opened:
                    push(parents)
                continue
            for parent in parents:
                if parent._op is not leaf_op and parent._walk < opened:
                    push(parent)
        else:
            pop()
            if mark == opened:
                node._walk = listed
                emit(node)
    return recomputed, order


# -- for memory_report and drawing -----------------------------------------------------------


def segment_of(node: "Value") -> Optional[_Segment]:
    """The saved state of a segment node (``SEGMENT``), or None for any other node."""
    return node._saved if node._op is SEGMENT else None

