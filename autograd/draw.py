"""Draw a Value's computation graph with graphviz, and save it as SVG, PNG, PDF or DOT.

Each Value is a record ``{ label | data 0.5000 | grad 1.0000 }`` and each operation a
small node of its own, with one edge per operand occurrence (``a + a`` draws two edges
from ``a``) and one edge to the result. Fill colours:

* orange: the output, the Value you drew;
* blue: parameters, the leaves passed as ``parameters=`` (``model.parameters()``, say);
* green: other leaves that have a label (named inputs);
* grey: other leaves without a label (constants, usually);
* white: intermediate results.

Nodes are numbered in topological order, so the same graph always gives the same DOT
text. Every user string is escaped, for the DOT record syntax and for the SVG that
``dot`` writes. Only rendering needs the Graphviz ``dot`` program; ``.source`` never does.

Drawing needs the graphviz Python package (a dependency of chainrule), imported on the
first drawing: without it ``import autograd`` still works, and ``draw`` and ``save_graph``
raise ``GraphvizPackageNotFoundError``, which says how to install it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Iterable, Optional, Union

from .engine import topological_order
from .value import Value

if TYPE_CHECKING:  # the classes themselves; at run time they come from __getattr__ below
    import graphviz

    from ._graphviz import Drawing, GraphvizNotFoundError

__all__ = [
    "draw",
    "save_graph",
    "Drawing",
    "GraphvizNotFoundError",
    "GraphvizPackageNotFoundError",
    "FORMATS",
]

#: File suffix -> output format understood by ``save_graph``.
FORMATS = {
    ".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot", ".html": "html"
}
#: Format -> writer, for the formats a higher layer makes: ``autograd.html`` puts its
#: step-through page here, since draw may not import it.
WRITERS: dict = {}

RANKDIRS = ("LR", "RL", "TB", "BT")

# Legend text -> fill colour.
OUTPUT, PARAMETER, NAMED_LEAF, UNNAMED_LEAF = "output", "parameter", "named leaf", "unnamed leaf"
COLOURS = {
    OUTPUT: "#ffd8a8",
    PARAMETER: "#a5d8ff",
    NAMED_LEAF: "#b2f2bb",
    UNNAMED_LEAF: "#dee2e6",
}
INTERMEDIATE_COLOUR = "white"


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


def _check_arguments(root: object, rankdir: object, max_nodes: object) -> None:
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


# -- drawing --------------------------------------------------------------------------------


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


def _fill_colour(node: Value, root: Value, parameters: set) -> str:
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


def draw(
    root: Value,
    rankdir: str = "LR",
    max_nodes: Optional[int] = 500,
    show_grad: bool = True,
    *,
    parameters: Optional[Iterable[Value]] = None,
    legend: bool = True,
) -> Drawing:
    """The computation graph of ``root`` as a ``graphviz.Digraph`` (a ``Drawing``).

    Values are records ``{ label | data 0.5000 | grad 1.0000 }`` (no label field for a
    Value without one, no grad field when ``show_grad`` is false); each operation is
    its own node, with one edge per operand occurrence. ``rankdir`` is graphviz's
    layout direction (LR, RL, TB or BT). Leaves listed in ``parameters`` are coloured
    as parameters; ``legend`` adds a key to the colours.

    Graphs with more than ``max_nodes`` Values raise ValueError after counting at most
    ``max_nodes + 1`` of them; ``max_nodes=None`` draws any size.

    In Jupyter a bare ``draw(y)`` displays inline; ``save_graph`` writes a file.

    >>> from autograd import Value
    >>> x = Value(0.5, label="x")
    >>> print(draw(x * 2, legend=False).source)  # doctest: +NORMALIZE_WHITESPACE
    digraph {
        graph [rankdir=LR]
        node [fontname=Helvetica fontsize=11]
        v0 [label="{ x | data 0.5000 | grad 0.0000 }" fillcolor="#b2f2bb" shape=record style=filled]
        v1 [label="{ data 1.0000 | grad 0.0000 }" fillcolor="#ffd8a8" shape=record style=filled]
        op1 [label="* 2" fontsize=10 height=0.3 margin=0.04 shape=ellipse]
        v0 -> op1
        op1 -> v1
    }
    """
    gv = _load_graphviz()  # at once: without graphviz nothing below could be drawn
    _check_arguments(root, rankdir, max_nodes)
    if max_nodes is not None:
        count = _count_nodes(root, max_nodes)
        if count > max_nodes:
            raise ValueError(
                f"draw: the graph has more than {max_nodes} Values (counting stopped at "
                f"{count}), over the limit max_nodes={max_nodes}; pass a larger "
                "max_nodes, or max_nodes=None to draw it anyway"
            )
    parameter_ids = set()
    for parameter in parameters if parameters is not None else ():
        if not isinstance(parameter, Value):
            raise TypeError(
                f"draw: parameters must be Values, got {type(parameter).__name__}: "
                f"{parameter!r:.80}"
            )
        parameter_ids.add(id(parameter))

    drawing = gv.Drawing(
        graph_attr={"rankdir": rankdir}, node_attr={"fontname": "Helvetica", "fontsize": "11"}
    )
    ids: dict = {}  # id(Value) -> node name, in topological order
    used_colours = set()
    for index, node in enumerate(topological_order(root)):
        name = f"v{index}"
        ids[id(node)] = name
        fields = [escape(node.label)] if node.label else []
        fields.append(f"data {node.data:.4f}")
        if show_grad:
            fields.append(f"grad {node.grad:.4f}")
        colour = _fill_colour(node, root, parameter_ids)
        used_colours.add(colour)
        drawing.node(
            name,
            label=gv.nohtml("{ " + " | ".join(fields) + " }"),
            shape="record",
            style="filled",
            fillcolor=colour,
        )
        if node.parents:
            op_name = f"op{index}"
            drawing.node(
                op_name,
                label=gv.nohtml(escape(op_label(node), record=False)),
                shape="ellipse",
                fontsize="10",
                height="0.3",
                margin="0.04",
            )
            for parent in node.parents:
                drawing.edge(ids[id(parent)], op_name)
            drawing.edge(op_name, name)

    if legend:
        shown = [category for category, colour in COLOURS.items() if colour in used_colours]
        drawing.node("legend", label=_legend(shown), shape="plaintext", fontsize="10")
    return drawing


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


def save_graph(
    graph: Union[Value, graphviz.Digraph],
    path: Union[str, "os.PathLike[str]"],
    *,
    timeout: Optional[float] = None,
    **draw_options: Any,
) -> Path:
    """Write ``graph`` (a Value, drawn with ``draw(graph, **draw_options)``, or a drawing)
    to ``path`` in the format its suffix names: .svg, .png, .pdf, .dot/.gv for DOT text,
    or .html for the step-through page of ``autograd.draw_html`` (of a Value only).

    Writes exactly that one file, only once rendering has succeeded, and returns its path.
    DOT needs no Graphviz program; the other formats need ``dot`` and raise
    ``GraphvizNotFoundError`` without it, or TimeoutError when it runs longer than
    ``timeout`` seconds (default: no limit). An unknown suffix raises ValueError before
    anything is drawn.
    """
    gv = _load_graphviz()  # at once, as draw does
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"save_graph: cannot tell the format from the file name {str(path)!r}; "
            f"end it in one of {', '.join(FORMATS)}"
        )
    if fmt in WRITERS:  # .html: made from the Value itself, not from a drawing
        return WRITERS[fmt](graph, path, timeout=timeout, **draw_options)
    if isinstance(graph, Value):
        graph = draw(graph, **draw_options)
    elif isinstance(graph, gv.GRAPHS):
        if draw_options:
            raise TypeError(
                f"save_graph: options {sorted(draw_options)} apply only when drawing a "
                "Value; this graph is drawn already"
            )
    else:
        raise TypeError(f"save_graph needs a Value or a graphviz graph, got {type(graph).__name__}")
    if fmt == "dot":
        data = graph.source.encode(graph.encoding)
    else:
        data = _render(graph, fmt, timeout)
    path.write_bytes(data)
    return path
