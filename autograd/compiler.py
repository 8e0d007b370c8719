"""``compile(fn)``: trace a loss once, then replay it as generated straight-line Python.

A training step rebuilds the same graph every time: one node object per operation, then
a walk to order them, then one rule call per node. ``compile`` does that once. It runs
``fn`` with the normal engine (the *trace*), lowers the graph to a flat program in the
order the engine's own sweep uses, and writes Python source for it: one line per node
for the forward value (``v12 = v7 * v3``) and one line per parent share for the
backward pass (``g7 += g12 * v3``), using the code templates of the op registry
(``Op.code``, see ``autograd/ops.py``). Every later call with arguments of the same
structure runs that code on plain floats: no Values, no walk, no call per node.

How a program is laid out:

* **Slots.** One list of floats, ``s``, carries everything across the boundaries of the
  generated functions: the leaves' data and gradients, the input numbers, and any
  value a later chunk needs. Within a chunk every value is a local variable.
* **Chunks.** CPython compiles one huge function slowly and with large-index locals,
  so the program is split into functions of at most ``CHUNK_LINES`` lines and
  ``CHUNK_NAMES`` variable references, run in order. A chunk loads what it uses from
  earlier chunks at its top and stores what later chunks use at its bottom. A
  repeating run of nodes (the same network on each sample) is cut into chunks of
  whole periods that come out the same text, compiled once; compile time stays
  linear in the graph's size. ``lines()`` lists the nodes' lines without all that.
* **Exactness.** The forward calls the same float operations (and the same domain
  checks) as each op's forward; the backward adds the same shares in the sweep's
  order: an interior node's gradient starts from ``0.0 + first share`` (as the
  engine's ``0.0 += share``), and a leaf's gradient is loaded from ``.grad``, has its
  shares added one by one and is stored back, so results are bit-identical to
  ``fn(*args).backward()``. Shares that reach no leaf needing a gradient (the input
  numbers) are never computed.

A trace is valid only while ``fn`` builds the same graph for the same argument
structure: ``fn`` must not branch on ``.data``. ``compile(fn, check=True)`` re-traces
at every call and names the first node that differs.
"""

from __future__ import annotations

import builtins
import math
import re
import threading
from itertools import chain, count
from numbers import Real
from operator import attrgetter, itemgetter
from typing import Any, Callable, Optional

from . import engine
from .grad_mode import enable_grad
from .ops import LEAF
from .value import Value

__all__ = ["compile", "Compiled", "CompileError", "side_effect", "CHUNK_LINES", "CHUNK_NAMES"]

#: The most lines one generated function holds (see the module docstring).
CHUNK_LINES = 8000
#: The most variable references one generated function holds: a ``dot`` line names
#: 2n + 1 variables, and CPython's compile time follows the references, not the lines.
CHUNK_NAMES = 24000

_data = attrgetter("_data")  # the slots behind the checked properties
_grad = attrgetter("_grad")
_tracing = threading.local()


class CompileError(RuntimeError):
    """``compile`` cannot replay ``fn``: a side effect, a changed graph, a bad argument."""


def side_effect(what: str) -> None:
    """Tell a ``compile`` trace in progress that the caller has a side effect.

    Code that changes state outside the graph (``nn.BatchNorm1d`` updating its running
    statistics in training mode) calls this before making the change; a compiled
    replay would skip it, so during a trace this raises ``CompileError`` naming
    ``what`` (and the change never happens). Outside a trace it does nothing.
    """
    fn = getattr(_tracing, "fn", None)
    if fn is not None:
        raise CompileError(
            f"compile: {_name(fn)} has a side effect the compiled replay would skip: "
            f"{what}. Call it without compile (or, for a module, in eval mode)"
        )


# -- arguments --------------------------------------------------------------------------


def _flatten(args: Any, tokens: list, numbers: list, values: list) -> None:
    """Walk nested lists/tuples: the structure into ``tokens``, leaves into the lists."""
    for x in args:
        kind = type(x)
        if kind is float:
            tokens.append(0)
            numbers.append(x)
        elif kind is Value:
            tokens.append(1)
            values.append(x)
        elif kind is list or kind is tuple:
            tokens.append((kind is list, len(x)))
            _flatten(x, tokens, numbers, values)
        elif kind is int or (isinstance(x, Real) and kind is not bool):
            tokens.append(0)
            numbers.append(float(x))
        else:
            raise TypeError(
                "compile: arguments must be numbers, Values or (nested) lists and tuples "
                f"of them, got {kind.__name__}: {x!r}"
            )


def _rebuild(args: Any, numbers: Any, values: Any) -> list:
    """``args`` with each number and Value replaced by the next item of the iterators."""
    out = []
    for x in args:
        kind = type(x)
        if kind is list or kind is tuple:
            items = _rebuild(x, numbers, values)
            out.append(items if kind is list else tuple(items))
        elif kind is Value:
            out.append(next(values))
        else:
            out.append(next(numbers))
    return out


def _aliases(values: list) -> tuple:
    """For each argument Value, the index of its first occurrence (repeats share slots)."""
    first: dict = {}
    return tuple(first.setdefault(id(v), i) for i, v in enumerate(values))


# -- lowering: the graph as a flat program ----------------------------------------------


class _Graph:
    """The traced graph in program order: leaves first, then interior nodes in postorder."""

    def __init__(self, root: Value, inputs: list, arguments: list) -> None:
        order = engine.sweep_order(root)
        input_of = {id(v): j for j, v in enumerate(inputs)}
        argument_of = {id(v): j for j, v in enumerate(arguments)}
        index: dict = {}
        leaves: list = []
        # Each leaf: ("x", j) the j-th input number, ("a", j) the j-th argument Value,
        # ("p", leaf) any other leaf (a parameter, a constant made inside fn).
        kinds: list = []

        def add_leaf(leaf: Value) -> None:
            index[id(leaf)] = len(leaves)
            leaves.append(leaf)
            key = id(leaf)
            if key in input_of:
                kinds.append(("x", input_of[key]))
            elif key in argument_of:
                kinds.append(("a", argument_of[key]))
            else:
                kinds.append(("p", leaf))

        if not order:
            add_leaf(root)
        for node in order:
            operands = node._parents  # a bare parent is not in a tuple
            for parent in operands if type(operands) is tuple else (operands,):
                if parent._op is LEAF and id(parent) not in index:
                    add_leaf(parent)
        index.update(zip(map(id, order), count(len(leaves))))
        self.root = root
        self.leaves = leaves
        self.kinds = kinds
        self.order = order
        self.index = index

    def signature(self) -> list:
        """What check=True compares: each interior node's op, parents and constants."""
        index = self.index
        out = []
        for node in self.order:
            parents = tuple(index[id(p)] for p in node.parents)
            out.append((node._op, parents, _describe(node._saved, index)))
        leaf_kinds = [k if k[0] != "p" else ("p", id(k[1])) for k in self.kinds]
        return [leaf_kinds] + out


def _describe(saved: object, index: dict) -> object:
    # A node's saved slot in a comparable form: Values by index, floats by repr (nan == nan).
    if type(saved) is tuple:
        return tuple(_describe(x, index) for x in saved)
    if type(saved) is Value:
        return ("node", index.get(id(saved)))
    if type(saved) is float:
        return repr(saved)
    return saved


# -- code generation --------------------------------------------------------------------

_NOT_NAME = re.compile(r"[^0-9A-Za-z_]")


class _Writer:
    """Collects each node's lines and tracks the values that cross a chunk boundary.

    A node's lines come as a format string over placeholders and the variables they
    stand for (``"{0} = {1} * {2}"`` with ``("v9", "v4", "v7")``). Once every node is
    in, ``assemble`` writes each chunk with chunk-local names (``c0``, ``c1``, ... in
    order of first use), so chunks that do the same thing to different nodes (the same
    network on each sample, each step of a chain) are the same text, compiled once.
    A chunk reads what it needs with one ``itemgetter`` call and writes what later
    chunks need into a fresh block of slots with one slice assignment.
    """

    def __init__(self, first_free: int) -> None:
        self.chunks: list = [[]]
        self.defined_in: dict = {}  # variable -> the chunk that last assigned it
        self.loads: list = [set()]  # per chunk, variables read from earlier chunks
        self.stores: list = [set()]  # per chunk, variables later chunks read
        self.slot: dict = {}  # variable -> its slot in s (final once assemble() ran)
        self.next_slot = first_free
        self.readable: list = []
        self.backward_from: Optional[int] = None  # the first chunk of the backward pass

    def new_chunk(self) -> None:
        if self.chunks[-1]:
            self.chunks.append([])
            self.loads.append(set())
            self.stores.append(set())

    def nodes(self, groups: list) -> None:
        """Add a run of groups, each (text, names, uses, defines), to the last chunk."""
        here = len(self.chunks) - 1
        defined_in = self.defined_in
        loads, stores = self.loads[here], self.stores
        add = loads.add
        # hot: one call per chunk, not per node, with the lookups hoisted: on a
        # 100,000-node chain _emit takes 0.15 s instead of 0.17-0.19 (phase timers).
        for _, _, uses, defines in groups:
            for name in uses:
                chunk = defined_in[name]
                if chunk != here:
                    add(name)
                    if chunk >= 0:
                        stores[chunk].add(name)
            for name in defines:
                defined_in[name] = here
        self.chunks[-1] += [(text, names) for text, names, _, _ in groups]

    def preset(self, name: str, slot: int) -> None:
        """A variable the caller puts in slot ``slot`` before the program runs."""
        self.defined_in[name] = -1
        self.slot[name] = slot

    def keep(self, name: str) -> None:
        """Make sure ``name``'s final value is in a slot when the program ends."""
        chunk = self.defined_in[name]
        if chunk >= 0:
            self.stores[chunk].add(name)

    def assemble(self, namespace: dict) -> list:
        """Compile each distinct chunk once; returns the calls (function, loader, offset)."""
        functions: dict = {}
        calls = []
        slot = self.slot
        for k, groups in enumerate(self.chunks):
            if not groups:  # nothing to do (a graph that is one leaf)
                self.readable.append(None)
                continue
            # hot: a chunk is keyed by its shape (its nodes' texts and which of its
            # variables are the same), so a repeated chunk is never formatted again:
            # on a 100,000-node chain assemble takes 0.14 s instead of 0.23 (phase timers).
            flat = list(chain.from_iterable([names for _, names in groups]))
            local = dict(zip(dict.fromkeys(flat), count()))  # first use order
            loads_here, stores_here = self.loads[k], self.stores[k]
            loads = [name for name in local if name in loads_here]
            stores = [name for name in local if name in stores_here]
            key = (tuple([text for text, _ in groups]), tuple(map(local.__getitem__, flat)),
                   tuple(map(local.__getitem__, loads)), tuple(map(local.__getitem__, stores)))
            function = functions.get(key)
            if function is None:
                function = functions[key] = _compile_chunk(groups, local, loads, stores,
                                                            namespace)
            loader = itemgetter(*[slot[n] for n in loads]) if loads else None
            base = self.next_slot
            self.next_slot += len(stores)
            self.readable.append(([slot[n] for n in loads], loads, base, stores))
            for i, name in enumerate(stores):
                slot[name] = base + i
            calls.append((function, loader, base))
        self.distinct = len(functions)
        self.loads = self.stores = []  # only what source() needs is kept
        return calls

    def source(self) -> str:
        """The program with its nodes' names: the same lines the chunk functions run."""
        parts = []
        for k, groups in enumerate(self.chunks):
            if self.readable[k] is None:
                continue
            slots, loads, base, stores = self.readable[k]
            lines = [f"def _chunk{k}(s):"]
            if loads:
                shown = ", ".join(f"s[{i}]" for i in slots)
                lines.append(f"    {', '.join(loads)} = {shown}")
            lines += ["    " + text.format(*names) for text, names in groups]
            if len(stores) == 1:
                lines.append(f"    s[{base}] = {stores[0]}")
            elif stores:
                lines.append(f"    s[{base}:{base + len(stores)}] = {', '.join(stores)}")
            parts.append("\n".join(lines))
        return "\n\n\n".join(parts) + "\n"

    def lines(self, part: str) -> list:
        """The node lines of ``part`` with their nodes' names, without the chunks'
        ``def``, loads and stores (see ``Compiled.lines``)."""
        split = len(self.chunks) if self.backward_from is None else self.backward_from
        chunks = {"forward": self.chunks[:split], "backward": self.chunks[split:],
                  "all": self.chunks}[part]
        return [line for groups in chunks for text, names in groups
                for line in text.format(*names).split("\n    ")]


def _compile_chunk(groups: list, local: dict, loads: list, stores: list,
                   namespace: dict) -> Callable:
    """One chunk's function: its variables named ``c0``, ``c1``, ... in order of first use."""
    name = {n: f"c{i}" for n, i in local.items()}
    lines = ["def _chunk(s, _load, _o):"]
    if loads:
        lines.append(f"    {', '.join([name[n] for n in loads])} = _load(s)")
    lines += ["    " + text.format(*map(name.__getitem__, names)) for text, names in groups]
    if len(stores) == 1:
        lines.append(f"    s[_o] = {name[stores[0]]}")
    elif stores:
        lines.append(f"    s[_o:_o + {len(stores)}] = {', '.join([name[n] for n in stores])}")
    text = "\n".join(lines) + "\n"
    exec(builtins.compile(text, "<autograd.compile>", "exec"), namespace)
    return namespace.pop("_chunk")


def _chunk_bounds(kinds: list, sizes: list, refs: list) -> list:
    """Where to end each chunk of a run of nodes (``kinds`` holds each node's format
    string as a small int, ``sizes`` its lines, ``refs`` its variable references).

    A chunk holds about ``CHUNK_LINES`` lines and ``CHUNK_NAMES`` references at most.
    When the run repeats itself (the same network on each sample, each step of a
    chain), the repeating stretch gets chunks of the same whole number of periods,
    all starting at the same phase, so they come out the same text and are compiled
    once; what comes before and after it gets chunks of its own.
    """
    n = len(kinds)
    lines = builtins.sum(sizes)
    names = builtins.sum(refs)
    if (lines <= CHUNK_LINES and names <= CHUNK_NAMES) or n < 2:
        return [n]
    per = builtins.max(1, round(builtins.min(CHUNK_LINES * n / lines, CHUNK_NAMES * n / names)))
    found = _period(kinds, per)
    if found is None:
        return _even(0, n, per)
    d, lo, hi = found
    periods = (hi - lo) // d
    most = builtins.max(1, per // d)  # periods per chunk
    if periods < 2:
        return _even(0, n, per)
    if periods > most:
        # The most periods a chunk can hold that leave the fewest over (they go to the
        # tail, which is compiled once anyway).
        most = builtins.min(range(builtins.max(1, most // 2), most + 1),
                            key=lambda m: (periods % m, -m))
    else:
        most = periods
    bounds = _even(0, lo, per) if lo else []
    step = most * d
    end = lo + (periods // most) * step
    bounds += range(lo + step, end + 1, step)
    if end < n:
        bounds += _even(end, n, per)
    return bounds


def _even(start: int, stop: int, per: int) -> list:
    """Ends of chunks of ``per`` nodes from ``start`` to ``stop`` (the last one shorter)."""
    return list(range(start + per, stop, per)) + [stop]


def _periodic_extent(kinds: list, d: int) -> tuple:
    """The widest ``[lo, hi)`` around the middle with kinds[i] == kinds[i + d] inside.

    Each way it gallops (stretches of 64, 128, ... nodes), then bisects the stretch
    that fails, so the cost follows the extent found, not the length of the run.
    """
    n = len(kinds)
    middle = n // 2
    lo, step = middle, 64  # kinds[i] == kinds[i + d] for lo <= i < middle
    while lo > 0:
        start = builtins.max(0, lo - step)
        if kinds[start:lo] == kinds[start + d : lo + d]:
            lo, step = start, 2 * step
            continue
        low, high = start + 1, lo  # the smallest s with kinds[s:lo] == kinds[s + d:lo + d]
        while low < high:
            mid = (low + high) // 2
            if kinds[mid:lo] == kinds[mid + d : lo + d]:
                high = mid
            else:
                low = mid + 1
        lo = low
        break
    end, step = middle, 64  # kinds[i] == kinds[i + d] for middle <= i < end
    while end < n - d:
        stop = builtins.min(n - d, end + step)
        if kinds[end:stop] == kinds[end + d : stop + d]:
            end, step = stop, 2 * step
            continue
        low, high = end, stop - 1  # the largest t with kinds[end:t] == kinds[end + d:t + d]
        while low < high:
            mid = (low + high + 1) // 2
            if kinds[end:mid] == kinds[end + d : mid + d]:
                low = mid
            else:
                high = mid - 1
        end = low
        break
    return lo, end + d


def _period(kinds: list, per: int) -> Optional[tuple]:
    """The period around the middle of the run that repeats the furthest, with how far
    it does: ``(d, lo, hi)`` with kinds[i] == kinds[i + d] for lo <= i < hi - d, or None.

    The smallest period is not always the one wanted: in an RNN on a batch each time
    step repeats within a sequence, but only the whole sequence repeats throughout.
    """
    n = len(kinds)
    middle = n // 2
    x = kinds[middle]
    position = middle
    best = None
    for _ in range(512):  # candidates: where the middle node's kind comes again
        try:
            position = kinds.index(x, position + 1, builtins.min(n, middle + 8 * per + 64))
        except ValueError:
            break
        d = position - middle
        width = builtins.min(builtins.max(2 * d, 64), n - middle - d)
        if width < d or kinds[middle : middle + width] != kinds[position : position + width]:
            continue
        lo, hi = _periodic_extent(kinds, d)
        if best is None or hi - lo > best[2] - best[1]:
            best = (d, lo, hi)
        if 2 * (hi - lo) >= n:
            break
        position = builtins.max(position, hi - 1)  # a longer period repeats past it
    return best


class _Program:
    """One traced argument structure: its generated code and how to feed it.

    Slots of ``s``: the parameters' data, the argument Values' data, the input numbers,
    the parameters' gradients, the argument Values' gradients, then the values that
    cross from one chunk to a later one.
    """

    def __init__(
        self, graph: _Graph, with_grad: bool, check: bool, numbers: int, arguments: int
    ) -> None:
        leaves, kinds, order, index = graph.leaves, graph.kinds, graph.order, graph.index
        nleaves = len(leaves)
        nodes = leaves + order
        names = [f"v{i}" for i in range(len(nodes))]
        for i, node in enumerate(nodes):
            if node.label:
                label = _NOT_NAME.sub("", node.label)[:20]
                if label:
                    names[i] = f"v{i}_{label}"
        grads = ["g" + name[1:] for name in names]
        namespace: dict = {"__builtins__": builtins}
        constants: dict = {}

        def const(x: object) -> str:
            kind = type(x)
            if (kind is float and math.isfinite(x)) or kind is int:
                text = repr(x)
                return f"({text})" if text[0] == "-" else text
            key = (kind, repr(x))
            if key not in constants:
                constants[key] = f"_k{len(constants)}"
                namespace[constants[key]] = x
            return constants[key]

        self.params = [kind[1] for kind in kinds if kind[0] == "p"]
        nparams = len(self.params)
        data_base = {"p": 0, "a": nparams, "x": nparams + arguments}
        grad_base = {"p": nparams + arguments + numbers, "a": 2 * nparams + arguments + numbers}
        w = _Writer(2 * (nparams + arguments) + numbers)
        p = 0
        leaf_position = []  # each leaf's position among its kind's slots
        for i, kind in enumerate(kinds):
            position = p if kind[0] == "p" else kind[1]
            p += kind[0] == "p"
            leaf_position.append(position)
            w.preset(names[i], data_base[kind[0]] + position)
            if kind[0] != "x":
                w.preset(grads[i], grad_base[kind[0]] + position)
        needs = [kind[0] != "x" for kind in kinds]  # does the gradient reach a leaf's .grad?
        helpers: dict = {}

        # The forward: one line per interior node, in postorder. A node's text depends
        # only on its op, its saved constant and its arity, so it is made once per kind.
        parent_indices = []
        keys: list = []  # each node's text key (see _saved_key), for the backward too
        groups = []
        texts: dict = {}
        seen_ops = set()
        for k, node in enumerate(order):
            i = nleaves + k
            op = node._op
            code = op.code
            if op not in seen_ops:
                if code is None:
                    raise CompileError(f"compile: op {op!r} has no code template")
                for name, helper in code.helpers.items():
                    if helpers.setdefault(name, helper) is not helper:
                        raise CompileError(f"compile: two ops give different helpers {name!r}")
                seen_ops.add(op)
            # hot: the parents' slot read directly (a bare parent is not in a tuple) and
            # a nonzero float constant keyed by itself, not its repr (and the backward
            # reusing the key): on a 100,000-node chain the forward and backward
            # lowering take 0.37 s instead of 0.45, the first call 0.78 s instead of 0.84.
            operands = node._parents
            if type(operands) is tuple:
                parents = list(map(index.__getitem__, map(id, operands)))
            else:
                parents = [index[id(operands)]]
            parent_indices.append(parents)
            pnames = list(map(names.__getitem__, parents))
            saved = node._saved
            if saved is None:
                key = (op, len(parents))
            elif type(saved) is float and saved:  # equal nonzero floats have one repr
                key = (op, len(parents), saved, float)
            else:
                key = _saved_key(op, saved, len(parents))
            keys.append(key)
            text = texts.get(key) if key is not None else None
            if text is None:
                holders = _holders(1, len(parents))
                if callable(code.forward):
                    expression = code.forward(node, holders, const)
                else:
                    expression = code.forward.format_map(_Fields(holders, node, const, "", ""))
                text = "{0} = " + expression
                if key is not None:
                    texts[key] = text
            groups.append((text, (names[i], *pnames), pnames, (names[i],)))
            needs.append(with_grad and any(map(needs.__getitem__, parents)))
        namespace.update(helpers)
        _emit(w, groups)

        root = index[id(graph.root)]
        w.keep(names[root])
        written = []
        if with_grad:
            groups = _backward(order, nleaves, names, grads, parent_indices, keys, needs, const,
                               root)
            w.new_chunk()
            w.backward_from = len(w.chunks) - 1
            _emit(w, groups)
            for i, kind in enumerate(kinds):
                if kind[0] != "x" and w.defined_in[grads[i]] >= 0:
                    w.keep(grads[i])
                    written.append(i)
        self.calls = w.assemble(namespace)
        self.distinct_chunks = w.distinct
        self.root_slot = w.slot[names[root]]
        # (kind, position, slot): the write-back of each leaf gradient the code changed.
        self.grad_writes = [(kinds[i][0], leaf_position[i], w.slot[grads[i]]) for i in written]
        self.slot_count = w.next_slot
        w.slot = w.defined_in = {}
        self._writer = w  # for .source, written when first asked for
        self._source: Optional[str] = None
        self.node_count = len(nodes)
        self.signature = graph.signature() if check else None
        self.param_ids = {id(leaf) for leaf in self.params}

    @property
    def source(self) -> str:
        if self._source is None:
            self._source = self._writer.source()
        return self._source

    def lines(self, part: str) -> list:
        return self._writer.lines(part)

    def run(self, numbers: list, arguments: list) -> float:
        params = self.params
        s = [*map(_data, params), *map(_data, arguments), *numbers]
        s += map(_grad, params)
        s += map(_grad, arguments)
        s += [0.0] * (self.slot_count - len(s))
        for function, loader, offset in self.calls:
            function(s, loader, offset)
        for kind, position, slot in self.grad_writes:
            (params if kind == "p" else arguments)[position]._grad = s[slot]
        return s[self.root_slot]


# Placeholders for the variables of one node's lines: "{0}", "{1}", ...
_HOLDERS = [f"{{{k}}}" for k in range(4096)]


def _holders(start: int, count: int) -> list:
    if start + count <= len(_HOLDERS):
        return _HOLDERS[start : start + count]
    return [f"{{{k}}}" for k in range(start, start + count)]


def _emit(w: _Writer, groups: list) -> None:
    """Hand a run of node groups to the writer, chunk by chunk (see ``_chunk_bounds``)."""
    texts = [text for text, _, _, _ in groups]
    number = dict(zip(dict.fromkeys(texts), count()))
    ids = list(map(number.__getitem__, texts))
    sizes = [text.count("\n") + 1 for text in number]
    refs = [text.count("{") for text in number]  # each placeholder is one reference
    bounds = _chunk_bounds(ids, [sizes[i] for i in ids], [refs[i] for i in ids])
    start = 0
    for end in bounds:
        w.nodes(groups[start:end])
        if end < len(groups):
            w.new_chunk()
        start = end


def _saved_key(op: object, saved: object, arity: int) -> object:
    """What a node's code text depends on besides its op and arity, or None (uncached)."""
    kind = type(saved)
    if saved is None or kind is int:
        return (op, arity, saved)
    if kind is float:
        return (op, arity, repr(saved))  # repr: -0.0 and 0.0 are different constants
    if kind is tuple and all([type(x) is float or type(x) is int for x in saved]):
        return (op, arity, repr(saved))
    return None  # DOT_MIXED holds Values: written node by node


def _backward(order, nleaves, names, grads, parent_indices, keys, needs, const,
              root) -> list:
    """The sweep as node groups: each node's shares, last node first, in its rule's order.

    Each group is (text, names, uses, defines); in ``text``, ``{0}`` is the node's
    gradient, ``{1}`` its value, then its parents' values, then their gradients. A
    group's text depends on the node's kind and, for each parent, on whether it needs
    a gradient, is a leaf, has a gradient started yet and repeats an earlier parent;
    each distinct case is written once (``_backward_group``) and reused.
    """
    started = set()  # interior gradients assigned so far
    if root >= nleaves:
        groups = [("{0} = 1.0", (grads[root],), (), (grads[root],))]  # the engine's 0.0 + 1.0
        started.add(root)
    elif needs[root]:  # fn returned a leaf: a parameter or an argument Value
        groups = [("{0} += 1.0", (grads[root],), (grads[root],), (grads[root],))]
    else:
        return []  # fn returned one of its input numbers: no gradient goes anywhere
    cache: dict = {}
    for k in range(len(order) - 1, -1, -1):
        i = nleaves + k
        if not needs[i]:
            continue
        node = order[k]
        parents = parent_indices[k]
        if len(parents) == 1:
            j = parents[0]
            flags: tuple = ((needs[j], j < nleaves, j in started, 0),)
        else:
            first: dict = {}
            flags = tuple([
                (needs[j], j < nleaves, j in started, first.setdefault(j, position))
                for position, j in enumerate(parents)
            ])
        key = keys[k]
        made = cache.get((key, flags)) if key is not None else None
        if made is None:
            made = _backward_group(node, flags, const)
            if key is not None:
                cache[key, flags] = made
        text, uses, defines, starts = made
        if text is None:
            continue
        variables = (grads[i], names[i], *map(names.__getitem__, parents),
                     *map(grads.__getitem__, parents))
        for position in starts:
            started.add(parents[position])
        groups.append((text, variables, list(map(variables.__getitem__, uses)),
                       list(map(variables.__getitem__, defines))))
    return groups


def _backward_group(node: Value, flags: tuple, const: Callable) -> tuple:
    """One node's backward lines over placeholders: (text, uses, defines, starts).

    ``uses`` and ``defines`` are indices into the group's variables, ``starts`` the
    parent positions whose gradient this group assigns for the first time.
    """
    code = node._op.code
    n = len(flags)
    holders = _holders(2, n)
    targets = _holders(2 + n, n)
    g, out = "{0}", "{1}"
    if callable(code.backward):
        shares = code.backward(node, g, out, holders, const)
    else:
        fields = _Fields(holders, node, const, g, out)
        shares = [
            (_POSITION[share[0]], share[1], *[t.format_map(fields) for t in share[2:]])
            for share in code.backward
        ]
    lines = []
    uses = {0}
    if code.reads_out:
        uses.add(1)
    if code.reads_parents:
        uses.update(range(2, 2 + n))
    defines: set = set()
    started: set = set()  # parents' canonical positions started in this group
    starts = []
    if code.first is not None and n == 1:
        needs, leaf, was_started, _ = flags[0]
        if needs and not leaf and not was_started:
            fields = _Fields(holders, node, const, g, out)
            lines.append(f"{targets[0]} = {code.first.format_map(fields)}")
            defines.add(2 + n)
            starts.append(0)
            shares = ()
    for share in shares:
        position = share[0]
        needs, leaf, was_started, canonical = flags[position]
        if not needs:
            continue
        sign, expression = share[1], share[2]
        condition = share[3] if len(share) > 3 else None
        target = targets[canonical]  # a repeated parent shares its first slot's name
        variable = 2 + n + canonical
        if not leaf and not was_started and canonical not in started:
            started.add(canonical)
            starts.append(canonical)
            defines.add(variable)  # assigned here first: nothing to read
            if condition is None:
                # 0.0 + g is g: an interior gradient is never -0.0 (0.0 - g is not -g).
                bare = expression == g and sign == "+"
                lines.append(f"{target} = {g}" if bare else f"{target} = 0.0 {sign} {expression}")
                continue
            lines.append(f"{target} = 0.0")
        elif variable not in defines:
            uses.add(variable)  # an earlier node's share, or a leaf's .grad
            defines.add(variable)
        if condition is None:
            lines.append(f"{target} {sign}= {expression}")
        else:
            lines.append(f"if {condition}: {target} {sign}= {expression}")
    if not lines:
        return None, (), (), ()
    if code.skips_zero:
        # As the float rule: nothing to add when g is 0 and the node's value finite; the
        # gradients these lines would start are then 0.0 + +-0.0, that is 0.0.
        uses.add(1)
        body = "\n        ".join(lines)
        text = f"if {g} or {out} - {out} != 0.0:\n        {body}"
        if starts:
            text += f"\n    else:\n        {' = '.join([targets[c] for c in starts])} = 0.0"
        return text, tuple(sorted(uses)), tuple(sorted(defines)), tuple(starts)
    return "\n    ".join(lines), tuple(sorted(uses)), tuple(sorted(defines)), tuple(starts)


_POSITION = {"a": 0, "b": 1}


class _Fields(dict):
    """The names a template's fields stand for (see ``ops.Code``)."""

    def __init__(self, pnames: list, node: Value, const: Callable, g: str, out: str) -> None:
        super().__init__(g=g, out=out)
        if pnames:
            self["a"] = pnames[0]
        if len(pnames) > 1:
            self["b"] = pnames[1]
        self.node, self.const = node, const

    def __missing__(self, key: str) -> str:
        if key == "c":
            self["c"] = self.const(self.node._saved)
            return self["c"]
        raise KeyError(key)


# -- the compiled function --------------------------------------------------------------


class Compiled:
    """What ``compile(fn)`` returns: call it like ``fn``; it returns a float.

    ``cache_size`` is the number of argument structures traced so far, ``source`` the
    generated code of the structure called last and ``lines()`` its node lines alone.
    """

    def __init__(self, fn: Callable[..., Value], grad: bool, check: bool) -> None:
        self.fn = fn
        self.grad = grad
        self.check = check
        self._programs: dict = {}
        self._last: Optional[_Program] = None
        self.__wrapped__ = fn
        self.__doc__ = getattr(fn, "__doc__", None)

    @property
    def cache_size(self) -> int:
        """How many argument structures have been traced and compiled."""
        return len(self._programs)

    @property
    def source(self) -> str:
        """The generated Python of the last call's program (empty before the first)."""
        return self._last.source if self._last is not None else ""

    def lines(self, part: str = "all") -> list[str]:
        """The last call's generated code as one list of node lines, without boilerplate.

        ``source`` is the program as it runs: functions of a few thousand lines, each
        opening with a line that loads the values it needs and closing with one that
        stores the values later ones need. This is just the lines the nodes wrote,
        unindented, with the nodes' names (``v12 = v7 * v3``, ``g7 += g12 * v3``):
        ``part`` is ``"forward"`` (one line per node, in postorder), ``"backward"`` (each
        node's gradient shares, from the output back) or ``"all"``. Empty before the
        first call.
        """
        if part not in ("forward", "backward", "all"):
            raise ValueError(f"lines: part must be 'forward', 'backward' or 'all', got {part!r}")
        return self._last.lines(part) if self._last is not None else []

    def __repr__(self) -> str:
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        return f"<compiled {name}: {self.cache_size} traced structure(s)>"

    def __call__(self, *args: Any) -> float:
        tokens: list = []
        numbers: list = []
        values: list = []
        _flatten(args, tokens, numbers, values)
        key: tuple = tuple(tokens)
        if values:
            for j, v in enumerate(values):
                if v._op is not LEAF:
                    raise CompileError(
                        f"compile: argument Value {j} ({v!r}) is not a leaf; a compiled fn "
                        "treats argument Values as inputs, so pass v.detach() or its .data"
                    )
            aliases = _aliases(values)
            key = (key, aliases)
            unique = [v for j, v in enumerate(values) if aliases[j] == j]
        else:
            unique = values
        program = self._programs.get(key)
        if program is None:
            program = self._trace(args, numbers, values, unique, key)
        elif self.check:
            self._check(program, args, numbers, values)
        if values and not program.param_ids.isdisjoint(map(id, unique)):
            raise CompileError(
                "compile: an argument Value is also a leaf fn reaches directly (a "
                "parameter?); pass parameters by closing over them, not as arguments"
            )
        self._last = program
        return program.run(numbers, unique)

    def _run_fn(self, args: Any, numbers: list, values: list) -> tuple:
        """Run ``fn`` on fresh leaves; returns (root, input leaves, argument leaves).

        Argument Values are replaced by fresh leaves too (one per distinct Value), so
        the graph tells them apart from the parameters fn reaches by itself.
        """
        inputs = [Value(x) for x in numbers]
        proxy_of: dict = {}
        for v in values:
            if id(v) not in proxy_of:
                proxy_of[id(v)] = Value(v.data, v.label)
        rebuilt = _rebuild(args, iter(inputs), (proxy_of[id(v)] for v in values))
        _tracing.fn, outer = self.fn, getattr(_tracing, "fn", None)
        try:
            with enable_grad():
                root = self.fn(*rebuilt)
        finally:
            _tracing.fn = outer
        if type(root) is not Value:
            raise TypeError(
                f"compile: {_name(self.fn)} must return one Value (a scalar loss), got "
                f"{type(root).__name__}"
            )
        return root, inputs, list(proxy_of.values())

    def _trace(self, args: Any, numbers: list, values: list, unique: list, key: object):
        root, inputs, arguments = self._run_fn(args, numbers, values)
        graph = _Graph(root, inputs, arguments)
        program = _Program(graph, self.grad, self.check, len(numbers), len(unique))
        self._programs[key] = program
        return program

    def _check(self, program: _Program, args: Any, numbers: list, values: list) -> None:
        root, inputs, arguments = self._run_fn(args, numbers, values)
        new = _Graph(root, inputs, arguments).signature()
        old = program.signature
        if new[0] != old[0]:
            raise CompileError(
                f"compile(check=True): {_name(self.fn)} reached different leaves than when "
                "it was traced (it branches on .data, or reads other parameters)"
            )
        nleaves = len(old[0])
        for k, (a, b) in enumerate(zip(old[1:], new[1:])):
            if a != b:
                raise CompileError(
                    f"compile(check=True): node v{nleaves + k} differs from the traced graph: "
                    f"traced {_show(a)}, this call made {_show(b)}. {_name(self.fn)} must "
                    "build the same graph at every call: don't branch on .data inside a "
                    "compiled fn"
                )
        if len(old) != len(new):
            raise CompileError(
                f"compile(check=True): the traced graph had {len(old) - 1} interior nodes, "
                f"this call made {len(new) - 1}: don't branch on .data inside a compiled fn"
            )


def _name(fn: object) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


def _show(entry: tuple) -> str:
    op, parents, saved = entry
    operands = ", ".join(f"v{j}" for j in parents)
    shown = f"{op.name}({operands})"
    return shown if saved is None else f"{shown} with saved {saved!r}"


def compile(  # noqa: A001 (autograd.compile, by design: it shadows the builtin)
    fn: Callable[..., Value], grad: bool = True, check: bool = False
) -> Compiled:
    """Trace ``fn`` once per argument structure and replay it as generated Python.

    The first call with a given structure of arguments (nesting, lengths, which items
    are Values) runs ``fn`` with the normal engine, each number wrapped as a leaf
    Value, and compiles the graph it returns into straight-line Python; later calls
    run that code on plain floats. Each call reads the current ``.data`` of every leaf
    the graph reached (parameters an optimizer updates in place are seen), returns the
    output's value and, with ``grad``, adds d(output)/d(leaf) into each leaf's
    ``.grad`` (argument Values included), bit-identical to ``v = fn(*args);
    v.backward()``. ``fn`` must build the same graph for the same argument structure:
    don't branch on ``.data`` inside it. The trace records whatever the grad mode of
    the caller; a replay does no anomaly checks (run ``fn`` itself under
    ``detect_anomaly`` to find a non-finite gradient).

    Args:
        fn: takes numbers, Values, or (nested) lists and tuples of them, and returns
            one Value. Argument Values must be leaves.
        grad: also compute gradients (``False``: forward only, for inference).
        check: re-trace ``fn`` at every call and raise if its graph differs from the
            traced one (slow; for finding a data-dependent branch).

    Returns:
        A callable with ``fn``'s arguments that returns a float; ``.source`` shows the
        generated code, ``.lines("forward")`` / ``.lines("backward")`` just its node
        lines, and ``.cache_size`` counts the traced structures.

    Raises:
        CompileError: ``fn`` has a side effect outside the graph (``nn.BatchNorm1d`` in
            training mode), its graph changed (with ``check``), or an argument Value
            is not a leaf or is also a parameter.
        TypeError: an argument is not a number, Value, list or tuple, or ``fn`` does
            not return a Value.
        ValueError, ZeroDivisionError, OverflowError: a domain error of an op, with
            the engine's own message (``log: needs a positive number, got -1.0``).
    """
    if not callable(fn):
        raise TypeError(f"compile: fn must be callable, got {type(fn).__name__}")
    return Compiled(fn, bool(grad), bool(check))
