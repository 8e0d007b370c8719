"""Safe arithmetic expressions for the CLI: ``ast`` parsing, a whitelist, no ``eval``.

An expression may use numbers, the variables given on the command line, ``+ - * / **``,
unary ``-`` and ``+``, and calls of ``exp log tanh sigmoid relu sqrt abs`` with one
argument. Anything else is refused with an ``ExpressionError`` that says what was wrong.
Nothing is ever compiled or run: the checked tree is walked and each node becomes the
matching Value operation, with an explicit stack (no recursion), so long expressions
cannot exhaust the Python stack.
"""

from __future__ import annotations

import ast
import keyword
import math
import operator
import re
import warnings
from typing import Callable, Collection, Mapping, Sequence, Union

from ..engine import topological_order
from ..value import Value

__all__ = [
    "ExpressionError",
    "FUNCTIONS",
    "MAX_LENGTH",
    "parse_variables",
    "parse_expression",
    "evaluate",
]

#: The longest expression accepted, in characters.
MAX_LENGTH = 1000

FUNCTIONS: dict[str, Callable[[Value], Value]] = {
    "exp": Value.exp,
    "log": Value.log,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "relu": Value.relu,
    "sqrt": Value.sqrt,
    "abs": abs,
    "softplus": Value.softplus,
}

BINARY: dict[type, Callable] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}

ALLOWED = (
    "allowed: numbers, the variables given, + - * / **, unary -, "
    "and " + " ".join(FUNCTIONS) + " with one argument"
)

# What a refused node is called in an error message.
_DESCRIPTIONS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripting",
    ast.Lambda: "a lambda",
    ast.IfExp: "a conditional expression",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.NamedExpr: "assignment (:=)",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.JoinedStr: "an f-string",
    ast.Starred: "unpacking (*)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "a slice",
}

_OPERATOR_SYMBOLS = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.Not: "not",
    ast.Invert: "~",
}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

Number = Union[Value, float]


class ExpressionError(ValueError):
    """An expression or a ``name=value`` that the CLI refuses; the message says why."""


def _show(text: str, limit: int = 40) -> str:
    """``text`` quoted for a one-line message, cut short when long."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return repr(text)


# -- variables ------------------------------------------------------------------------------


def parse_variables(items: Sequence[str]) -> dict[str, float]:
    """``["x=0.5", "w=-1"]`` as ``{"x": 0.5, "w": -1.0}``, in the order given.

    Names are ASCII identifiers that are neither Python keywords nor function names;
    values are finite numbers that ``float()`` accepts (``inf``, ``nan`` and ``1e400``,
    which would read as inf, are refused, as the engine refuses an exp that overflows).
    """
    variables: dict[str, float] = {}
    for item in items:
        name, equals, number = item.partition("=")
        if not equals:
            raise ExpressionError(
                f"expected a variable as name=number (e.g. x=0.5), got {_show(item)}"
            )
        name = name.strip()
        if not _NAME.match(name) or keyword.iskeyword(name):
            raise ExpressionError(
                f"{_show(name)} in {_show(item)} is not a valid variable name; use letters, "
                "digits and _ (not starting with a digit, not a Python keyword)"
            )
        if name in FUNCTIONS:
            raise ExpressionError(
                f"variable name {name!r} is taken by the function {name}(); choose another"
            )
        if name in variables:
            raise ExpressionError(f"variable {name!r} is given twice; give it once")
        try:
            variables[name] = float(number)
        except ValueError:
            raise ExpressionError(
                f"the value of {name} must be a number, got {_show(number)} (e.g. {name}=0.5)"
            ) from None
        if not math.isfinite(variables[name]):
            raise ExpressionError(
                f"the value of {name} must be a finite number, got {_show(number)}"
                + (" (too large for a float)" if "n" not in number.lower() else "")
            )
    return variables


# -- parsing and checking -------------------------------------------------------------------


def _children(node: ast.AST) -> list:
    """The sub-expressions of an allowed node, left to right."""
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _refuse(node: ast.AST, text: str, names: Collection[str]) -> str:
    """Why ``node`` is not allowed, or '' when it is."""
    source = ast.get_source_segment(text, node) or ""
    if isinstance(node, ast.Constant):
        value = node.value
        if type(value) not in (int, float):
            return f"{_show(source)} is not a number; only numbers are allowed as constants"
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            return f"the number {_show(source)} is too large for a float"
        return ""
    if isinstance(node, ast.Name):
        if node.id in names:
            return ""
        if node.id in FUNCTIONS:
            return f"{node.id} is a function; call it with one argument, e.g. {node.id}(x)"
        given = ", ".join(sorted(names)) or "none"
        return (
            f"unknown variable {node.id!r}; give it a value on the command line, "
            f"e.g. {node.id}=1.0 (variables given: {given})"
        )
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        kind = type(node.op)
        if kind in BINARY or kind in (ast.USub, ast.UAdd):
            return ""
        symbol = _OPERATOR_SYMBOLS.get(kind, kind.__name__)
        return f"the operator {symbol!r} is not allowed, in {_show(source)}; {ALLOWED}"
    if isinstance(node, ast.Call):
        function = node.func
        if not isinstance(function, ast.Name) or function.id not in FUNCTIONS:
            called = ast.get_source_segment(text, function) or "this"
            return f"cannot call {_show(called)}: only {' '.join(FUNCTIONS)} can be called"
        if node.keywords:
            return f"{function.id}() takes no keyword arguments, in {_show(source)}"
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            return f"unpacking (*) is not allowed, in {_show(source)}"
        if len(node.args) != 1:
            return (
                f"{function.id}() takes exactly one argument, got {len(node.args)} "
                f"in {_show(source)}"
            )
        return ""
    description = _DESCRIPTIONS.get(type(node), type(node).__name__)
    return f"{description} is not allowed: {_show(source)}; {ALLOWED}"


def parse_expression(text: str, names: Collection[str]) -> ast.expr:
    """Parse ``text`` and check every node against the whitelist; return the tree.

    ``names`` are the variables the expression may use. Raises ExpressionError, naming
    the first refused piece, for anything else (syntax errors included).
    """
    if not isinstance(text, str):
        raise ExpressionError(f"the expression must be a str, got {type(text).__name__}")
    text = text.strip()  # eval mode refuses leading spaces; positions refer to this text
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}"
        )
    if not text:
        raise ExpressionError("the expression is empty; write one, e.g. 'tanh(x*w + b)'")
    try:
        with warnings.catch_warnings():  # e.g. "1if": the whitelist decides, quietly
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset else ""
        detail = "" if error.msg == "invalid syntax" else f": {error.msg}"
        raise ExpressionError(f"invalid syntax{where} in {_show(text)}{detail}") from None
    except (ValueError, RecursionError, MemoryError) as error:
        # ValueError: a NUL character (Python < 3.12); the others: nesting too deep.
        reason = "it is nested too deeply" if not isinstance(error, ValueError) else error
        raise ExpressionError(f"cannot parse the expression: {reason}") from None
    stack: list = [tree.body]
    while stack:  # depth first, left to right: the first refusal is the leftmost
        node = stack.pop()
        reason = _refuse(node, text, names)
        if reason:
            raise ExpressionError(reason)
        stack.extend(reversed(_children(node)))
    return tree.body


# -- evaluation -----------------------------------------------------------------------------


def _apply(function: Callable, *operands: Number) -> Number:
    """``function(*operands)``; with numbers only, computed through Values anyway, so
    number-only parts (``2 ** 0.5``, ``1 / 0``) get the engine's checks and messages."""
    if any(isinstance(x, Value) for x in operands):
        return function(*operands)
    first, *rest = operands
    return function(Value(first), *rest).data


def _check_power_of_a_variable(node: ast.BinOp, base: Number) -> None:
    # a ** b with b depending on a variable: d/db = a**b * log(a) needs a > 0 (0 is
    # allowed: the engine takes 0 ** b as flat). Say so in the expression's own terms.
    value = base.data if isinstance(base, Value) else base
    if value < 0.0:
        raise ExpressionError(
            f"{ast.unparse(node)}: the base {ast.unparse(node.left)} is {value!r}, "
            f"negative, so the derivative with respect to the exponent, "
            f"{ast.unparse(node)} * log({ast.unparse(node.left)}), has no real value; "
            "write the exponent as a number (e.g. x**2) if it does not depend on a variable"
        )


def _evaluate(tree: ast.expr, env: Mapping[str, Value]) -> Number:
    results: list = []
    stack: list = [(tree, False)]
    while stack:  # post-order: a node runs once its children's results are on `results`
        node, children_done = stack.pop()
        children = _children(node)
        if children and not children_done:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children))
            continue
        if isinstance(node, ast.Constant):
            results.append(float(node.value))
        elif isinstance(node, ast.Name):
            results.append(env[node.id])
        elif isinstance(node, ast.BinOp):
            right = results.pop()
            left = results.pop()
            if isinstance(node.op, ast.Pow) and isinstance(right, Value):
                _check_power_of_a_variable(node, left)
            results.append(_apply(BINARY[type(node.op)], left, right))
        elif isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                results.append(_apply(operator.neg, results.pop()))
            # unary + leaves its operand as it is
        else:  # ast.Call, checked by parse_expression
            results.append(_apply(FUNCTIONS[node.func.id], results.pop()))
    (result,) = results
    return result


def evaluate(text: str, variables: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
    """Build the graph of ``text`` with each variable a labelled leaf Value.

    Returns ``(output, leaves)``, where ``leaves`` maps each variable name to its Value,
    in the order of ``variables``. The output is a Value even when the expression uses
    no variable. Domain errors (``log(0)``, ``x/0``, ``exp(1000)``) raise ExpressionError.
    """
    tree = parse_expression(text, variables)
    leaves = {name: Value(number, label=name) for name, number in variables.items()}
    try:
        result = _evaluate(tree, leaves)
    except (ArithmeticError, ValueError) as error:
        raise ExpressionError(str(error)) from None
    if not isinstance(result, Value):
        result = Value(result)
    if not math.isfinite(result.data):
        raise ExpressionError(f"{ast.unparse(tree)} is {result.data!r}: {_first_overflow(result)}")
    return result, leaves


def check_gradients(leaves: Mapping[str, Value]) -> None:
    """Refuse a non-finite gradient as the engine refuses an overflow (after backward)."""
    for name, leaf in leaves.items():
        if not math.isfinite(leaf.grad):
            raise ExpressionError(
                f"d/d{name} is {leaf.grad!r}: the derivative overflows a float or does not "
                "exist at this point"
            )


def _first_overflow(result: Value) -> str:
    """Which operation first made a non-finite value from finite operands."""
    for node in topological_order(result):
        if node.parents and not math.isfinite(node.data):
            numbers = [p.data for p in node.parents]
            if isinstance(node._saved, (int, float)) and not isinstance(node._saved, bool):
                numbers.append(node._saved)  # the constant of x * c, say
            operands = ", ".join(map(repr, numbers))
            return f"its {node.op!r} on {operands} overflows a float"
    return "it overflows a float"
