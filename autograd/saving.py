"""``save_graph``: a graph to a file, in the format its file name's suffix names.

It sits above both kinds of picture it can write: ``autograd.draw``'s (SVG, PNG, PDF, DOT)
and ``autograd.html``'s step-through page.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Union

from .draw import FORMATS, _load_graphviz, _render, draw
from .html import draw_html
from .value import Value

__all__ = ["save_graph"]


def save_graph(
    graph: Any,  # a Value, or a drawing (a graphviz graph)
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
    if fmt == "html":  # the page replays the backward pass: made from the Value itself
        if not isinstance(graph, Value):
            raise TypeError(
                "save_graph: an .html page replays the backward pass, so it needs the Value, "
                f"not a drawing: got {type(graph).__name__}"
            )
        return draw_html(graph, timeout=timeout, **draw_options).save(path)
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
