"""Draw a Value's computation graph with graphviz, and save it as SVG, PNG, PDF or DOT.

Each Value is a record ``{ label | data 0.5 | grad 1.235e-05 }`` (4 significant digits)
and each operation a small node of its own, with one edge per operand occurrence
(``a + a`` draws two edges from ``a``) and one edge to the result. Fill colours:

* orange: the output, the Value you drew;
* blue: parameters, the leaves passed as ``parameters=`` (``model.parameters()``, say);
* green: other leaves that have a label (named inputs);
* grey: other leaves without a label (constants, usually);
* white: intermediate results;
* lavender: a collapsed module call (``collapse=``).

Real networks: ``parameters=model`` names the parameters, ``group=True`` boxes each
module call (a neuron, a layer, an RNN time step, found by ``autograd.draw_groups``),
``collapse=`` draws each call as one box, and ``expand_dot=True`` opens each ``dot`` into
its products and sum.

Nodes are numbered in topological order, so the same graph always gives the same DOT
text: ``v{i}`` is the i-th Value of ``topological_order(root)`` and ``op{i}`` the op that
made it; other nodes have other prefixes (``term``, ``termop``, ``params``, ``box``).
Every user string is escaped, for the DOT record syntax and for the SVG that ``dot``
writes. Only rendering needs the Graphviz ``dot`` program; ``.source`` never does.

Drawing needs the graphviz Python package (a dependency of chainrule), imported on the
first drawing: without it ``import autograd`` still works, and ``draw`` and ``save_graph``
raise ``GraphvizPackageNotFoundError``, which says how to install it.
"""

from __future__ import annotations

import subprocess
from types import ModuleType
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional, Union

from . import draw_groups, nary
from .engine import topological_order
from .value import Value

if TYPE_CHECKING:  # the classes themselves; at run time they come from __getattr__ below

    from ._graphviz import Drawing, GraphvizNotFoundError

__all__ = [
    "draw",
    "Drawing",
    "GraphvizNotFoundError",
    "GraphvizPackageNotFoundError",
    "FORMATS",
]

#: File suffix -> output format understood by ``save_graph``.
FORMATS = {
    ".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot", ".html": "html"
}

RANKDIRS = ("LR", "RL", "TB", "BT")

COLLAPSE = (None, "neuron", "layer")

# Legend text -> fill colour.
OUTPUT, PARAMETER, NAMED_LEAF, UNNAMED_LEAF = "output", "parameter", "named leaf", "unnamed leaf"
GROUP = "module call"
COLOURS = {
    OUTPUT: "#ffd8a8",
    PARAMETER: "#a5d8ff",
    NAMED_LEAF: "#b2f2bb",
    UNNAMED_LEAF: "#dee2e6",
    GROUP: "#e5dbff",
}
INTERMEDIATE_COLOUR = "white"

#: Labels longer than this many characters are cut, ending in ELLIPSIS (Graphviz fails
#: outright on labels of some 16 KB); the full text goes in the node's tooltip.
LONGEST_LABEL = 200
ELLIPSIS = "\u2026"
# dot refuses quoted strings over 16384 bytes; a longer tooltip is cut to fit.
LONGEST_TOOLTIP_BYTES = 16_000
#: Graph attributes for a quick layout of long chains with reuse (a value used far
#: downstream makes an edge across hundreds of ranks): no network-simplex passes for ranks
#: and positions, which on such graphs take minutes and barely change the picture. The
#: CLI's -o uses them: ``draw(y, graph_attr=FAST_LAYOUT)``.
FAST_LAYOUT = {"nslimit": "0", "nslimit1": "0"}
TABLE_WRAP = 20  # at most this many entries per band of a parameter table or a collapsed box

OP_STYLE = {"shape": "ellipse", "fontsize": "10", "height": "0.3", "margin": "0.04"}
TERM_STYLE = {"fontsize": "8", "fontcolor": "#495057"}  # the term labels on edges into a dot
# The cluster round a layer call, and the one round each unit (neuron) call inside it.
LAYER_STYLE = {"color": "#adb5bd", "style": "rounded,filled", "fillcolor": "#f8f9fa",
               "fontname": "Helvetica", "fontsize": "11"}  # fmt: skip
UNIT_STYLE = {"color": "#868e96", "style": "rounded,dashed", "fillcolor": "white",
              "fontname": "Helvetica", "fontsize": "9"}  # fmt: skip
# Grouped drawings: tighter spacing (the grouped 2-16-16-1 MLP: 3086 x 2461 pt instead of
# 3188 x 2605). What keeps them small is elsewhere: parameters in one table per neuron,
# drawn at the rank of the op that reads them (see _Statements.same_rank). newrank=true
# was tried and changed nothing.
GROUPED_LAYOUT = {"nodesep": "0.12", "ranksep": "0.3"}


# -- the graphviz package, imported when needed ----------------------------------------------
#
# graphviz stays a declared dependency, but `import autograd` must work without it and
# should not pay for importing it. So what needs graphviz lives in autograd._graphviz,
# imported on first use by draw and save_graph. Two public names here are graphviz
# subclasses (Drawing, GraphvizNotFoundError), and must stay importable without graphviz:
# the module __getattr__ below imports them on first lookup, or gives stand-ins when
# graphviz is missing. Binding them at import would mean importing graphviz with this
# module, or a class whose base is chosen at import time; the lookup avoids both.

PACKAGE_HINT = (
    "drawing needs the graphviz Python package, which is not installed: install it with "
    "'pip install graphviz', and for pictures (not .dot text) also the Graphviz 'dot' "
    "program ('sudo apt-get install graphviz', 'brew install graphviz' or "
    "'conda install graphviz')"
)


class GraphvizPackageNotFoundError(ModuleNotFoundError):
    """Drawing needs the graphviz Python package, and it is not installed.

    A ``ModuleNotFoundError`` (so an ``ImportError``) for ``graphviz`` whose message says
    how to install it. ``draw`` and ``save_graph`` raise it at once without the package.
    Without the package it is also what ``GraphvizNotFoundError`` names, so
    ``except GraphvizNotFoundError`` catches "Graphviz is missing" either way.
    """

    def __init__(self) -> None:
        super().__init__(PACKAGE_HINT, name="graphviz")


class _DrawingWithoutGraphviz:
    """What ``Drawing`` names without the graphviz package: making one says how to install it."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        raise GraphvizPackageNotFoundError()


_STAND_INS = {
    "Drawing": _DrawingWithoutGraphviz,
    "GraphvizNotFoundError": GraphvizPackageNotFoundError,
}


def _load_graphviz() -> ModuleType:
    """``autograd._graphviz``, imported if need be; without graphviz, raise the install hint."""
    try:
        from . import _graphviz
    except ModuleNotFoundError as error:
        if error.name != "graphviz":  # something else is broken: say so as it is
            raise
        raise GraphvizPackageNotFoundError() from error
    return _graphviz


def __getattr__(name: str) -> Any:
    """``Drawing`` and ``GraphvizNotFoundError``: graphviz's subclasses, or the stand-ins."""
    if name not in _STAND_INS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        return getattr(_load_graphviz(), name)
    except GraphvizPackageNotFoundError:
        return _STAND_INS[name]


def __dir__() -> list:
    return sorted(set(globals()) | set(_STAND_INS))


# -- escaping -------------------------------------------------------------------------------

_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "{": "\\{",
    "}": "\\}",
    "|": "\\|",
    "<": "\\<",
    ">": "\\>",
    " ": "\\ ",  # keeps runs of spaces, which records would collapse
    "&": "&amp;",  # dot would read "&lt;" as an entity; the text should show as typed
    "\n": "\\n",
}
# Outside records only these are special.
_PLAIN_ESCAPES = {char: _ESCAPES[char] for char in '\\"&\n'}


def escape(text: str, record: bool = True) -> str:
    """``text`` as a DOT label (a record field when ``record``) that shows exactly as typed.

    Escapes quotes and backslashes (and for records ``| { } < >`` and spaces), keeps line
    breaks, writes ``&`` as an entity (dot passes entities through to the SVG) and shows
    control characters as ``\\xNN`` instead of writing them into the SVG, where they
    would not be well-formed XML.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    escapes = _ESCAPES if record else _PLAIN_ESCAPES
    parts = []
    for char in text:
        if char in escapes:
            parts.append(escapes[char])
        elif char.isprintable():
            parts.append(char)
        else:  # control characters, lone surrogates, ...: show the code, escaped
            parts.append(ascii(char)[1:-1].replace("\\", "\\\\"))
    return "".join(parts)


# -- the size guard -------------------------------------------------------------------------


def _count_nodes(root: Value, limit: int) -> int:
    """How many Values ``root``'s graph has, or ``limit + 1`` as soon as it has more.

    Stops at the first node over the limit, so refusing a huge graph costs O(limit).
    """
    seen = {root}
    stack = [root]
    while stack:
        for parent in stack.pop().parents:
            if parent not in seen:
                seen.add(parent)
                if len(seen) > limit:
                    return len(seen)
                stack.append(parent)
    return len(seen)


def _check_arguments(
    root: object,
    rankdir: object,
    max_nodes: object,
    digits: object,
    collapse: object,
) -> None:
    if not isinstance(root, Value):
        raise TypeError(f"draw needs a Value to draw, got {type(root).__name__}: {root!r:.80}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    if max_nodes is not None and (
        type(max_nodes) is not int or max_nodes < 1  # bool is refused too
    ):
        raise ValueError(
            f"draw: max_nodes must be a positive int or None (no limit), got {max_nodes!r}"
        )
    if type(digits) is not int or not 1 <= digits <= 17:
        raise ValueError(f"draw: digits must be an int from 1 to 17, got {digits!r}")
    if collapse not in COLLAPSE:
        raise ValueError(
            f"draw: collapse must be None, 'neuron' or 'layer', got {collapse!r:.80}"
        )


def _refuse_size(what: str, max_nodes: int) -> None:
    raise ValueError(
        f"draw: {what}, over the limit max_nodes={max_nodes}; pass a larger "
        "max_nodes, or max_nodes=None to draw it anyway"
    )


def _parameter_names(parameters: object) -> dict:
    """{id(parameter): its name, '' when it has none}, in the order given.

    ``parameters`` is None, a module (anything with ``named_parameters()``: autograd does
    not import nn), a dict name -> Value, or an iterable of Values. A Value given twice
    keeps its first name, as ``named_parameters()`` lists a shared Value once.
    """
    if parameters is None:
        return {}
    if callable(getattr(parameters, "named_parameters", None)):
        pairs = list(parameters.named_parameters())  # type: ignore[attr-defined]
    elif isinstance(parameters, Mapping):
        pairs = list(parameters.items())
    elif isinstance(parameters, (Value, str, bytes)):
        raise TypeError(
            "draw: parameters must be a list of Values, a dict name -> Value or a module, "
            f"got {type(parameters).__name__}: {parameters!r:.80}"
        )
    else:
        pairs = [("", parameter) for parameter in parameters]  # type: ignore[attr-defined]
    names: dict = {}
    for name, parameter in pairs:
        if not isinstance(parameter, Value):
            raise TypeError(
                f"draw: parameters must be Values, got {type(parameter).__name__}: "
                f"{parameter!r:.80}"
            )
        if not isinstance(name, str):
            raise TypeError(
                f"draw: parameter names must be strings, got {type(name).__name__}: {name!r:.80}"
            )
        names.setdefault(id(parameter), name)
    return names


# -- drawing --------------------------------------------------------------------------------


def format_number(x: float, digits: int = 4) -> str:
    """``x`` to ``digits`` significant digits: ``1.235e-05``, ``-0.3932``, ``1.2e+04``, ``0``.

    Significant digits rather than decimals, so that a gradient of 1e-5 shows as itself
    and not as ``0.0000``; a zero of either sign prints as ``0``.
    """
    if x == 0.0:
        return "0"
    return f"{x:.{digits}g}"


def shorten(text: str, limit: int = LONGEST_LABEL) -> str:
    """``text``, cut to ``limit`` characters ending in an ellipsis when it is longer."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _tooltip(text: str) -> str:
    """``text`` as a tooltip attribute: whole, unless dot could not read it (16 KB)."""
    limit = len(text)
    while True:
        escaped = escape(shorten(text, limit), record=False)
        if len(escaped.encode("utf-8")) <= LONGEST_TOOLTIP_BYTES:
            return escaped
        limit //= 2


def op_label(node: Value) -> str:
    """How a drawing names the operation that made ``node``: ``'*'``, ``'* 2'``, ``'2 -'``.

    The op's ``label`` is its name, or a format where ``{}`` stands for the number operand
    the node saved.
    """
    label = node._op.label
    if "{}" in label:
        saved = node._saved
        shown = f"{saved:g}" if isinstance(saved, float) else str(saved)
        return label.format(shown)
    return label


def _fill_colour(node: Value, root: Value, parameters: dict) -> str:
    if node is root:
        return COLOURS[OUTPUT]
    if node.parents:
        return INTERMEDIATE_COLOUR
    if id(node) in parameters:
        return COLOURS[PARAMETER]
    return COLOURS[NAMED_LEAF] if node.label else COLOURS[UNNAMED_LEAF]


def _legend(categories: list) -> str:
    rows = "".join(
        f'<tr><td bgcolor="{COLOURS[category]}">{category}</td></tr>' for category in categories
    )
    return f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="4">{rows}</table>>'


def _html(text: str) -> str:
    """``text`` (shortened) as the text of a graphviz HTML-like label, showing as typed."""
    parts = []
    for char in shorten(text.replace("\r\n", "\n").replace("\r", "\n")):
        if char in _HTML_ESCAPES:
            parts.append(_HTML_ESCAPES[char])
        elif char.isprintable():
            parts.append(char)
        else:
            parts.append(ascii(char)[1:-1])
    return "".join(parts)


_HTML_ESCAPES = {
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "\n": "<br/>",
}


def _table(title: str, entries: list, colour: str, across: bool, show_grad: bool) -> str:
    """An HTML-like label: ``title`` over one (name, data, grad) cell group per entry.

    ``across``: entries side by side (three rows: names, data, grads), for a left-right
    layout where height is scarce; otherwise one row per entry. Either way at most
    ``TABLE_WRAP`` entries go in one band, and further bands follow.
    """
    fields = 3 if show_grad else 2
    per_band = -(-len(entries) // -(-len(entries) // TABLE_WRAP)) if entries else 1
    bands = [entries[i : i + per_band] for i in range(0, len(entries), per_band)] or [[]]
    rows = []
    if across:
        width = max(len(band) for band in bands) + 1
        for band in bands:
            columns = list(zip(*band))[:fields] if band else [()] * fields
            for heading, column in zip(("", "<i>data</i>", "<i>grad</i>"), columns):
                cells = "".join(f"<td>{cell}</td>" for cell in column)
                rows.append(f'<tr><td align="left">{heading}</td>{cells}</tr>')
    else:
        width = fields * len(bands)
        lines = max(len(band) for band in bands)
        for line in range(lines):
            cells = ""
            for band in bands:
                entry = band[line] if line < len(band) else ("",) * 3
                cells += "".join(f"<td>{cell}</td>" for cell in entry[:fields])
            rows.append(f"<tr>{cells}</tr>")
    header = f'<tr><td colspan="{width}" bgcolor="{colour}"><b>{title}</b></td></tr>'
    return (
        '<<table border="0" cellborder="1" cellspacing="0" cellpadding="2">'
        + header
        + "".join(rows)
        + "</table>>"
    )


def _dot_terms(node: Value) -> tuple:
    """(terms, bias): each product of a ``dot`` node as (a, b) (Values or numbers).

    Read off the node's parents and saved operands in the layouts of autograd/nary.py.
    """
    parents = node._parents
    if node._op is nary.DOT:  # parents = (w_1..w_n, x_1..x_n[, bias]); _saved = n
        n = node._saved
        terms = list(zip(parents[:n], parents[n : 2 * n]))
        bias = parents[2 * n] if len(parents) > 2 * n else None
    elif node._op is nary.DOT_NUMBERS:  # parents = (v_1..v_n[, bias]); _saved = numbers
        numbers = node._saved
        terms = list(zip(parents, numbers))
        bias = parents[len(numbers)] if len(parents) > len(numbers) else None
    else:  # DOT_MIXED: _saved = (ws, xs, bias), the bias a Value, a number or None
        ws, xs, bias = node._saved
        terms = list(zip(ws, xs))
        if type(bias) is not Value:
            bias = None  # a number bias is drawn from the node's data, as "+ c"
    return terms, bias


def _term_labels(node: Value) -> list:
    """The label of each edge into a ``dot`` op node: which term each operand is in."""
    parents = node._parents
    if node._op is nary.DOT:
        n = node._saved
        labels = [f"w{k + 1}" for k in range(n)] + [f"x{k + 1}" for k in range(n)]
    elif node._op is nary.DOT_NUMBERS:
        labels = [str(k + 1) for k in range(len(node._saved))]
    else:
        ws, xs, _ = node._saved
        labels = [f"w{k + 1}" for k, w in enumerate(ws) if type(w) is Value]
        labels += [f"x{k + 1}" for k, x in enumerate(xs) if type(x) is Value]
    return labels + ["b"] * (len(parents) - len(labels))


def _is_dot(node: Value) -> bool:
    return node._op in (nary.DOT, nary.DOT_NUMBERS, nary.DOT_MIXED)


class _Picture:
    """What a drawing will hold, worked out before any graphviz statement is made."""

    def __init__(self, root: Value, names: dict, options: dict) -> None:
        self.root = root
        self.names = names
        self.digits = options["digits"]
        self.show_grad = options["show_grad"]
        self.across = options["rankdir"] in ("LR", "RL")
        self.order = topological_order(root)
        self.index = {id(node): i for i, node in enumerate(self.order)}
        self.groups = None
        self.box_of: dict = {}  # node index -> the collapsed Group that replaces it
        self.boxes: list = []
        self.hidden: dict = {}  # id(parameter) -> its table's name, or None: not drawn
        self.tables: list = []  # (name, module, its parameters, the unit it sits in or None)
        if options["group"] or options["collapse"] is not None:
            self._group(options["collapse"])

    # -- grouping --------------------------------------------------------------------

    def _group(self, collapse: Optional[str]) -> None:
        if not any(self.names.values()):
            raise ValueError(
                "draw: group=True and collapse= need named parameters, to tell which module "
                "made each node: pass parameters=model (or dict(model.named_parameters()))"
            )
        self.groups = groups = draw_groups.infer_groups(self.order, self.names)
        if collapse is not None:
            self.boxes = groups.units if collapse == "neuron" else groups.layers
            for box in self.boxes:
                for i in box.nodes:
                    self.box_of[i] = box
        calls: dict = {}  # module -> its unit groups
        for unit in groups.units:
            calls.setdefault(unit.module, []).append(unit)
        in_graph = {id(node): node for node in self.order if not node.parents}
        by_module: dict = {}
        for key, name in self.names.items():  # named_parameters order: w.0, w.1, ..., b
            module = draw_groups.module_of(name)
            if key in in_graph and module in calls:
                by_module.setdefault(module, []).append(in_graph[key])
        for k, (module, parameters) in enumerate(by_module.items()):
            table = f"params{k}"
            home = calls[module][0] if len(calls[module]) == 1 else None
            self.tables.append((table, module, parameters, home))
            for parameter in parameters:
                self.hidden[id(parameter)] = None if collapse is not None else table

    def outputs(self) -> dict:
        """{box: the indices of its nodes that something outside it reads, or the root}."""
        found: dict = {box: set() for box in self.boxes}
        box_of = self.box_of
        for i, node in enumerate(self.order):
            here = box_of.get(i)
            for parent in node.parents:
                j = self.index[id(parent)]
                there = box_of.get(j)
                if there is not None and there is not here:
                    found[there].add(j)
        last = len(self.order) - 1
        if last in box_of:
            found[box_of[last]].add(last)
        return {box: sorted(indices) for box, indices in found.items()}

    # -- text ------------------------------------------------------------------------

    def name_of(self, node: Value) -> str:
        """A Value's own label, else its parameter name, else ''.

        The label wins: it was set by hand on that very Value, while a parameter name
        is derived from where the module keeps it.
        """
        return node.label or self.names.get(id(node), "")

    def short_name_of(self, node: Value) -> str:
        """``name_of``, relative to its module when the parameter is in a module's table."""
        if node.label or id(node) not in self.hidden:
            return self.name_of(node)
        name = self.names[id(node)]
        return _relative(name, draw_groups.module_of(name))

    def number(self, x: float) -> str:
        return format_number(x, self.digits)

    def record(self, name: str, data: float, grad: float) -> str:
        fields = [escape(shorten(name))] if name else []
        fields.append(f"data {self.number(data)}")
        if self.show_grad:
            fields.append(f"grad {self.number(grad)}")
        return "{ " + " | ".join(fields) + " }"

    def entry(self, name: str, node: Value) -> tuple:
        return (_html(name), self.number(node.data), self.number(node.grad))


def _relative(name: str, module: str) -> str:
    return name[len(module) + 1 :] if module and name.startswith(module + ".") else name


class _Statements:
    """Node statements by cluster, and edges, emitted in a fixed order."""

    def __init__(self) -> None:
        self.nodes: dict = {None: []}  # cluster Group (or None: top level) -> node kwargs
        self.edges: list = []
        self.seen_edges: set = set()
        # cluster -> (its parameter table, the op node reading it): drawn at one rank,
        # so that the table does not take a rank of its own before the call. Else the
        # ranks of consecutive calls overlap, and graphviz stacks their boxes one above
        # the other instead of side by side.
        self.same_rank: dict = {}

    def node(self, cluster: Any, **attributes: Any) -> None:
        self.nodes.setdefault(cluster, []).append(attributes)

    def edge(self, tail: str, head: str, once: bool = False, **attributes: Any) -> None:
        """An edge; with ``once``, only the first between these two nodes is drawn."""
        if once:
            if (tail, head) in self.seen_edges:
                return
            self.seen_edges.add((tail, head))
        self.edges.append((tail, head, attributes))


def draw(
    root: Value,
    rankdir: str = "LR",
    max_nodes: Optional[int] = 500,
    show_grad: bool = True,
    *,
    parameters: Union[None, Iterable[Value], Mapping[str, Value], Any] = None,
    legend: bool = True,
    digits: int = 4,
    expand_dot: bool = False,
    group: bool = False,
    collapse: Optional[str] = None,
    graph_attr: Optional[Mapping[str, str]] = None,
) -> Drawing:
    """Draw the computation graph of ``root`` as a ``graphviz.Digraph`` (a ``Drawing``).

    Values are records ``{ label | data 0.5 | grad 1.235e-05 }`` and each operation is
    its own node, with one edge per operand occurrence; each edge into a ``dot`` carries
    its term (``w1``, ``x1``, ``b``; ``1``, ``2`` when the other side is numbers). In
    Jupyter a bare ``draw(y)`` displays inline; ``save_graph`` writes a file.

    Args:
        root: the Value whose graph is drawn (orange).
        rankdir: graphviz's layout direction: LR, RL, TB or BT.
        max_nodes: refuse graphs with more Values than this (counting stops at
            ``max_nodes + 1``); with ``collapse``, the limit is on what is drawn
            instead (boxes and the Values outside them). None draws any size.
        show_grad: show each Value's grad beside its data.
        parameters: the model's parameters, coloured blue: a list of Values, a dict
            name -> Value, or a module (anything with ``named_parameters()``). Named
            parameters show their names, unless the Value has a label of its own.
        legend: add a key to the colours.
        digits: significant digits of data and grad (``-0.3932`` with 4).
        expand_dot: draw each ``dot`` node as its products ``w*x`` (each with its data
            and its grad, the dot's grad) and their sum, as in the lecture's neuron.
        group: draw the nodes made by each module call (a neuron, a layer, an RNN time
            step) in a labelled box, a module's parameters as one table in it. Needs
            named ``parameters``; see ``autograd.draw_groups`` for how calls are found.
        collapse: ``"neuron"`` or ``"layer"``: draw each such call as one box holding
            its outputs' data and grad (parameters left out). Needs named ``parameters``.
        graph_attr: more Graphviz graph attributes, e.g. ``FAST_LAYOUT`` for long
            chains that reuse a value far downstream.

    Returns:
        A ``Drawing``: a graphviz Digraph whose DOT text depends only on the graph.

    Raises:
        GraphvizPackageNotFoundError: the graphviz Python package is not installed.
        TypeError: ``root`` is not a Value, or ``parameters`` holds something else.
        ValueError: a bad option, the graph is over ``max_nodes``, or ``group`` or
            ``collapse`` without named parameters.

    >>> from autograd import Value
    >>> x = Value(0.5, label="x")
    >>> print(draw(x * 2, legend=False).source)  # doctest: +NORMALIZE_WHITESPACE
    digraph {
        graph [rankdir=LR]
        node [fontname=Helvetica fontsize=11]
        v0 [label="{ x | data 0.5 | grad 0 }" fillcolor="#b2f2bb" shape=record style=filled]
        v1 [label="{ data 1 | grad 0 }" fillcolor="#ffd8a8" shape=record style=filled]
        op1 [label="* 2" fontsize=10 height=0.3 margin=0.04 shape=ellipse]
        v0 -> op1
        op1 -> v1
    }
    """
    gv = _load_graphviz()  # at once: without graphviz nothing below could be drawn
    _check_arguments(root, rankdir, max_nodes, digits, collapse)
    if max_nodes is not None and collapse is None:
        count = _count_nodes(root, max_nodes)
        if count > max_nodes:
            what = f"the graph has more than {max_nodes} Values (counting stopped at {count})"
            _refuse_size(what, max_nodes)
    names = _parameter_names(parameters)
    options = {
        "digits": digits, "show_grad": show_grad, "rankdir": rankdir,
        "group": group, "collapse": collapse,
    }  # fmt: skip
    picture = _Picture(root, names, options)
    statements = _Statements()
    used_colours = _plan(picture, statements, expand_dot, group)
    if max_nodes is not None and collapse is not None:
        drawn = sum(
            not attributes["name"].startswith(("op", "termop"))
            for body in statements.nodes.values()
            for attributes in body
        )
        if drawn > max_nodes:
            _refuse_size(f"collapsed, the graph would draw {drawn} boxes and values", max_nodes)

    attributes = {"rankdir": rankdir}
    if picture.groups is not None:
        attributes.update(GROUPED_LAYOUT)
    attributes.update(graph_attr or {})
    drawing = gv.Drawing(
        graph_attr=attributes, node_attr={"fontname": "Helvetica", "fontsize": "11"}
    )
    _emit(gv, drawing, picture, statements)
    if legend:
        shown = [category for category, colour in COLOURS.items() if colour in used_colours]
        drawing.node("legend", label=_legend(shown), shape="plaintext", fontsize="10")
    return drawing


def _plan(picture: _Picture, out: _Statements, expand_dot: bool, group: bool) -> set:
    """Fill ``out`` with every node and edge of the picture; return the colours used."""
    order, index = picture.order, picture.index
    units = picture.groups.unit_of if picture.groups is not None and group else {}
    used_colours = set()
    box_names = {id(box): f"box{k}" for k, box in enumerate(picture.boxes)}
    tables_home = {table: home for table, _, _, home in picture.tables}

    def source(parent: Value) -> tuple:
        """(the drawn node an edge from ``parent`` starts at, whether it stands for more)."""
        if id(parent) in picture.hidden:
            return picture.hidden[id(parent)], True
        j = index[id(parent)]
        box = picture.box_of.get(j)
        if box is not None:
            return box_names[id(box)], True
        return f"v{j}", False

    def connect(parent: Value, head: str, cluster: Any = None, **attributes: Any) -> None:
        tail, shared = source(parent)
        if tail is None:
            return
        if shared:
            attributes = {}
            if tail in tables_home and tables_home[tail] is cluster is not None:
                out.same_rank.setdefault(cluster, (tail, head))
        out.edge(tail, head, once=shared, **attributes)

    for i, node in enumerate(order):
        if i in picture.box_of or id(node) in picture.hidden:
            continue
        cluster = units.get(i)
        colour = _fill_colour(node, picture.root, picture.names)
        used_colours.add(colour)
        name = picture.name_of(node)
        attributes = {"tooltip": _tooltip(name)} if len(name) > LONGEST_LABEL else {}
        out.node(
            cluster, name=f"v{i}", label=picture.record(name, node.data, node.grad),
            shape="record", style="filled", fillcolor=colour, **attributes,
        )  # fmt: skip
        if not node.parents:
            continue
        op = f"op{i}"
        if expand_dot and _is_dot(node):
            _expand(picture, out, cluster, i, node, connect)
        else:
            out.node(cluster, name=op, label=escape(op_label(node), record=False), **OP_STYLE)
            labels = _term_labels(node) if _is_dot(node) else [None] * len(node.parents)
            for parent, term in zip(node.parents, labels):
                term_style = {"headlabel": term, **TERM_STYLE} if term else {}
                connect(parent, op, cluster, **term_style)
        out.edge(op, f"v{i}")

    all_outputs = picture.outputs()
    for k, box in enumerate(picture.boxes):
        colour = COLOURS[GROUP]
        used_colours.add(colour)
        outputs = all_outputs[box]
        entries = []
        for position, j in enumerate(outputs):
            node = order[j]
            unit = picture.groups.unit_of.get(j)
            name = node.label
            if not name and unit is not None and unit is not box and len(box.members) > 1:
                name = _relative(unit.module, box.module)
            if not name:
                name = str(position) if len(outputs) > 1 else "out"
            entries.append(picture.entry(name, node))
        cluster = box.layer if group and box.layer is not box and box.layer is not None else None
        if cluster is not None and len(cluster.members) == 1:
            cluster = None
        label = _table(_html(box.label), entries, colour, picture.across, picture.show_grad)
        out.node(
            ("layer", cluster) if cluster is not None else None,
            name=f"box{k}", label=label, shape="plaintext", margin="0",
        )  # fmt: skip
        members = set(box.nodes)
        for i in box.nodes:
            for parent in order[i].parents:
                if index[id(parent)] not in members:
                    tail, _ = source(parent)
                    if tail is not None and tail != f"box{k}":
                        out.edge(tail, f"box{k}", once=True)

    for table, module, parameters, home in picture.tables:
        if picture.hidden.get(id(parameters[0])) is None:
            continue  # collapsed: left out
        used_colours.add(COLOURS[PARAMETER])
        entries = [picture.entry(picture.short_name_of(p), p) for p in parameters]
        title = _html("parameters" if home is not None else f"{module or 'model'} parameters")
        label = _table(title, entries, COLOURS[PARAMETER], picture.across, picture.show_grad)
        out.node(home, name=table, label=label, shape="plaintext", margin="0")
    return used_colours


def _expand(
    picture: _Picture, out: _Statements, cluster: Any, i: int, node: Value, connect: Any
) -> None:
    """A ``dot`` node as its products and their sum: ``w1*x1``, ``w2*x2``, ``+`` (+ b).

    Each product's data is its operands' product and its grad the dot's grad (d dot /
    d term = 1), read off the node; nothing is run again.
    """
    terms, bias = _dot_terms(node)
    products = []
    for k, (a, b) in enumerate(terms, start=1):
        product = (a.data if type(a) is Value else a) * (b.data if type(b) is Value else b)
        products.append(product)
        sides = [picture.short_name_of(v) if type(v) is Value else f"{v:g}" for v in (a, b)]
        name = "*".join(sides) if all(sides) else ""
        term, term_op = f"term{i}_{k}", f"termop{i}_{k}"
        numbers = [f"{v:g}" for v in (a, b) if type(v) is not Value]
        op_text = "*" if not numbers else "* " + " * ".join(numbers)
        out.node(
            cluster, name=term, label=picture.record(name, product, node.grad),
            shape="record", style="filled", fillcolor=INTERMEDIATE_COLOUR,
        )  # fmt: skip
        out.node(cluster, name=term_op, label=escape(op_text, record=False), **OP_STYLE)
        for v in (a, b):
            if type(v) is Value:
                connect(v, term_op, cluster)
        out.edge(term_op, term)
        out.edge(term, f"op{i}")
    total = sum(products)  # summed as nary's dot sums them, so the same float
    if bias is not None:
        total += bias.data
        connect(bias, f"op{i}", cluster, headlabel="b", **TERM_STYLE)
    rest = node.data - total  # a number bias, which the node keeps only in its data
    label = "+" if rest == 0.0 or rest != rest else f"+ {picture.number(rest)}"
    out.node(cluster, name=f"op{i}", label=escape(label, record=False), **OP_STYLE)


def _emit(gv: ModuleType, drawing: Any, picture: _Picture, statements: _Statements) -> None:
    """Write the planned statements: top-level nodes, then each layer and unit cluster."""

    def add_nodes(graph: Any, body: list) -> None:
        for attributes in body:
            attributes = dict(attributes)
            name = attributes.pop("name")
            label = attributes.pop("label")
            wrapped = label if label.startswith("<") else gv.nohtml(label)
            graph.node(name, label=wrapped, **attributes)

    def same_rank(graph: Any, unit: Any) -> None:
        if unit in statements.same_rank:
            table, op = statements.same_rank[unit]
            graph.body.append(f"\t{{rank=same; {table}; {op}}}\n")

    nodes = statements.nodes
    add_nodes(drawing, nodes[None])
    if picture.groups is not None:
        unit_numbers = {id(unit): k for k, unit in enumerate(picture.groups.units)}
        for k, layer in enumerate(picture.groups.layers):
            inside = [unit for unit in layer.members if unit in nodes]
            own = nodes.get(("layer", layer), [])
            if not inside and not own:
                continue
            single = len(layer.members) == 1
            with drawing.subgraph(name=f"cluster_layer{k}") as cluster:
                cluster.attr(label=escape(shorten(layer.label), record=False), **LAYER_STYLE)
                add_nodes(cluster, own)
                for unit in inside:
                    if single:
                        add_nodes(cluster, nodes[unit])
                        same_rank(cluster, unit)
                        continue
                    with cluster.subgraph(name=f"cluster_unit{unit_numbers[id(unit)]}") as inner:
                        inner.attr(label=escape(shorten(_relative(unit.label, layer.module)),
                                                record=False), **UNIT_STYLE)  # fmt: skip
                        add_nodes(inner, nodes[unit])
                        same_rank(inner, unit)
    for tail, head, attributes in statements.edges:
        drawing.edge(tail, head, **attributes)


# -- saving ---------------------------------------------------------------------------------


def _render(graph: Any, fmt: str, timeout: Optional[float]) -> bytes:
    """Run Graphviz on ``graph``'s source and return the picture's bytes."""
    command = [graph.engine, f"-T{fmt}"]
    try:
        finished = subprocess.run(
            command,
            input=graph.source.encode(graph.encoding),
            capture_output=True,
            timeout=timeout,
        )
    except FileNotFoundError:
        raise _load_graphviz().GraphvizNotFoundError() from None
    except subprocess.TimeoutExpired:  # run() has killed the process
        raise TimeoutError(
            f"Graphviz took longer than {timeout:g} s to lay out the graph and was stopped; "
            "values reused far downstream make long edges that are slow to lay out: "
            "draw a smaller graph, or save it as .dot"
        ) from None
    if finished.returncode != 0:
        detail = finished.stderr.decode(errors="replace").strip() or "no message"
        raise RuntimeError(
            f"Graphviz failed (exit status {finished.returncode}) on {' '.join(command)}: {detail}"
        )
    return finished.stdout
