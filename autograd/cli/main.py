"""The expression CLI: the value of an expression and its gradient, optionally drawn.

    python -m autograd "tanh(x*w + b)" x=0.5 w=-1.25 b=0.1 -o graph.svg
    chainrule "tanh(x*w + b)" x=0.5 w=-1.25 b=0.1

Exit status 0 on success; 2, with one ``chainrule: error: ...`` line on stderr, for
anything refused or failing. The expression is parsed with ``ast`` and checked against
a whitelist (see ``autograd.cli.expression``); it is never evaluated as Python.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn, Optional, Sequence

from ..draw import FAST_LAYOUT, FORMATS, GraphvizPackageNotFoundError, draw
from ..saving import save_graph
from .expression import FUNCTIONS, MAX_LENGTH, check_gradients, evaluate, parse_variables

PROG = "chainrule"

DESCRIPTION = f"""\
Evaluate an expression, differentiate it, and print the value and the gradient with
respect to each variable, in the order the variables are given.

The expression may use numbers, the variables given as name=number, + - * / **,
unary -, and the functions {" ".join(FUNCTIONS)}
(one argument each). Nothing else is accepted, and nothing is ever run as Python.
At most {MAX_LENGTH} characters.
"""

EPILOG = f"""\
example:
  {PROG} "tanh(x*w + b)" x=0.5 w=-1.25 b=0.1 -o graph.svg

prints:
  value = -0.48154979836430806
  d/dx  = -0.9601372396191178
  d/dw  = 0.3840548958476471
  d/db  = 0.7681097916952943

An expression that starts with - goes after --:  {PROG} -- "-x**2" x=3
Exit status: 0 on success; 2, with one error line on stderr, otherwise.
"""


# -o waits at most RENDER_TIMEOUT + FALLBACK_TIMEOUT = 5 s for Graphviz: dot with
# FAST_LAYOUT (well under 2 s for any 1000-character expression measured), then, if dot
# is still not done, the force-directed sfdp, which is quicker still but less tidy.
RENDER_TIMEOUT = 3.5
FALLBACK_TIMEOUT = 1.5
FALLBACK_ENGINE = "sfdp"
PICTURES = (".svg", ".png", ".pdf")  # what the fallback can draw: pictures of a drawing
MAX_MESSAGE = 400  # characters; argparse echoes arguments, which may be huge

_OPTIONS = ("-h", "--help", "-o", "--output")


class _UsageError(Exception):
    """An argparse error, to be reported on one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse would print the usage and the message on two lines, then exit
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("expression", help='the expression, e.g. "tanh(x*w + b)"')
    parser.add_argument(
        "variables",
        nargs="*",
        default=[],
        metavar="name=number",
        help="a value for each variable, e.g. x=0.5",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        type=Path,
        help="also draw the graph to FILE; the format comes from its suffix: " + " ".join(FORMATS),
    )
    return parser


def _dash_hint(argv: Optional[Sequence[str]]) -> str:
    """A hint when an argument that argparse took for an option was an expression."""
    for arg in sys.argv[1:] if argv is None else argv:
        if arg == "--":
            break
        if arg.startswith("-") and arg.split("=")[0] not in _OPTIONS and not arg.startswith("-o"):
            return f' (an expression that starts with - goes after --: {PROG} -- "-x*2" x=1)'
    return ""


def _format_lines(value: float, gradients: dict) -> list:
    rows = [("value", value)] + [(f"d/d{name}", grad) for name, grad in gradients.items()]
    width = max(len(key) for key, _ in rows)
    return [f"{key:<{width}} = {number!r}" for key, number in rows]


def _fail(message: object) -> int:
    line = " ".join(str(message).split())  # one line, whatever the message held
    if len(line) > MAX_MESSAGE:
        line = line[: MAX_MESSAGE - 3] + "..."
    print(f"{PROG}: error: {line}", file=sys.stderr)
    return 2


def _save(output: object, path: Path) -> None:
    """Draw ``output`` to ``path``, waiting at most 5 s for Graphviz in all.

    The expression's length limit bounds the graph's size; the timeouts bound Graphviz,
    whose dot can take minutes on a few hundred nodes with long edges (a variable used
    at every step) without FAST_LAYOUT. The Value itself goes to ``save_graph``, so that
    every format it knows works here too.
    """
    options = {"max_nodes": None, "graph_attr": FAST_LAYOUT}
    try:
        save_graph(output, path, timeout=RENDER_TIMEOUT, **options)
    except TimeoutError:
        if path.suffix.lower() not in PICTURES:
            raise
        drawing = draw(output, **options)
        drawing.engine = FALLBACK_ENGINE
        save_graph(drawing, path, timeout=FALLBACK_TIMEOUT)
        print(
            f"{PROG}: note: dot took over {RENDER_TIMEOUT:g} s to lay out the graph, so "
            f"{FALLBACK_ENGINE} drew it instead (a looser layout)",
            file=sys.stderr,
        )


def _run(argv: Optional[Sequence[str]]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        return _fail(f"{error}{_dash_hint(argv)}")
    if args.output is not None and args.output.suffix.lower() not in FORMATS:
        return _fail(
            f"cannot tell the picture format from {str(args.output)!r}; "
            f"end the file name in one of {', '.join(FORMATS)}"
        )
    try:
        variables = parse_variables(args.variables)
        output, leaves = evaluate(args.expression, variables)
        output.backward()
        check_gradients(leaves)
    except (ArithmeticError, ValueError) as error:  # ExpressionError is a ValueError
        return _fail(error)
    if args.output is not None:
        try:
            _save(output, args.output)
        except (OSError, RuntimeError, GraphvizPackageNotFoundError) as error:
            return _fail(f"cannot write {str(args.output)!r}: {error}")
    gradients = {name: leaf.grad for name, leaf in leaves.items()}
    print("\n".join(_format_lines(output.data, gradients)))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI on ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    try:
        return _run(argv)
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0
    except Exception as error:  # a bug: still one line, never a traceback
        return _fail(f"internal error ({type(error).__name__}: {error}); please report it")
