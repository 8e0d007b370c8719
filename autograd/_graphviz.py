"""The half of ``autograd.draw`` that needs the graphviz Python package.

``autograd.draw`` imports this module only when a drawing is made or saved, or when
``Drawing`` or ``GraphvizNotFoundError`` is asked for, so that ``import autograd`` works
without graphviz. Import those two names from ``autograd.draw``, not from here.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Optional

import graphviz
from graphviz import nohtml

__all__ = ["Drawing", "GraphvizNotFoundError", "GRAPHS", "nohtml"]

#: What ``save_graph`` accepts as a graph drawn already.
GRAPHS = (graphviz.Digraph, graphviz.Graph, graphviz.Source)

INSTALL_HINT = (
    "the Graphviz 'dot' program was not found on PATH, so the graph cannot be rendered; "
    "install it with 'sudo apt-get install graphviz' (Debian/Ubuntu), "
    "'brew install graphviz' (macOS) or 'conda install graphviz', then try again "
    "(draw(...).source gives the DOT text without it)"
)


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Rendering needs the Graphviz ``dot`` program, and it is not installed.

    A ``graphviz.ExecutableNotFound`` (so also a ``RuntimeError``) whose message says
    how to install Graphviz.
    """

    # Shown as autograd.draw.GraphvizNotFoundError, as before and as documented; that
    # lookup works too, through autograd.draw's __getattr__.
    __module__ = "autograd.draw"

    def __init__(self) -> None:
        RuntimeError.__init__(self, INSTALL_HINT)


@contextmanager
def _explain_missing_graphviz() -> Iterator[None]:
    try:
        yield
    except GraphvizNotFoundError:
        raise
    except graphviz.ExecutableNotFound as error:
        raise GraphvizNotFoundError() from error


class Drawing(graphviz.Digraph):
    """The ``graphviz.Digraph`` that ``draw`` returns.

    It is a plain Digraph (``.source``, ``.pipe()``, ``.render()``, inline display in
    Jupyter) except that rendering without the ``dot`` program raises
    ``GraphvizNotFoundError``, and a notebook then shows that message as text.
    """

    __module__ = "autograd.draw"

    def __repr__(self) -> str:
        # No memory address: a notebook's saved output stays the same run after run.
        return f"<Drawing: {len(self.body)} DOT statements; .source for the text>"

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        with _explain_missing_graphviz():
            return super().pipe(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> str:
        with _explain_missing_graphviz():
            return super().render(*args, **kwargs)

    def view(self, *args: Any, **kwargs: Any) -> str:
        with _explain_missing_graphviz():
            return super().view(*args, **kwargs)

    def _repr_mimebundle_(
        self,
        include: Optional[Iterable[str]] = None,
        exclude: Optional[Iterable[str]] = None,
        **kwargs: Any,
    ) -> dict:
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except GraphvizNotFoundError as error:
            return {"text/plain": str(error)}
