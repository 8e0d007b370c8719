"""The op registry: ``Op``, ``LEAF`` and the list of every operation a graph node can hold.

An ``Op`` describes one kind of node. It is declared once, in one block right below
the forward that makes its nodes (``value.py``, ``nary.py``), and registered there::

    ADD = register(Op("+", _add_float_rule, _add_value_rule, saved="nothing",
                      examples=(Example(lambda a, b: a + b, arity=2),)))

Its entries:

* ``name``: what ``Value.op`` reports (``'+'``, ``'tanh'``, ``'dot'``).
* ``float_rule(node)``: the derivative on floats, used by ``Value.backward()``. It adds
  ``node.grad * d(node)/d(parent)`` into each parent's ``.grad``.
* ``value_rule(node, g)``: the same derivative written with Value operations, used by
  ``autograd.grad(..., create_graph=True)``. It returns each parent's share of the
  output gradient ``g`` (a tuple of Values, one per parent occurrence), so the result
  can be differentiated again.
* ``label``: how a drawing names the op node; ``{}`` stands for the node's saved
  constant (``'* {}'`` draws ``x * 2`` as ``* 2``).
* ``saved``: what the node's ``_saved`` slot holds, in words (``'nothing'``,
  ``'the constant c'``, ``'n, the number of weights'``).
* ``examples``: where the op is defined and the edge cases it documents, so that the
  test suite can exercise every registered op without a hand-kept list (see
  ``Example``).
* ``code``: how ``autograd.compile`` writes one node of the op as Python source (see
  ``Code``): the forward as an expression, the float rule as one ``+=``/``-=`` line per
  parent share, in the float rule's own order.

Rules receive their node as an argument instead of closing over it, so a graph holds
no reference cycles and is freed by reference counting as soon as it is dropped.

Everything that needs "every op" reads ``registered_ops()``: the garbage-collector
policy's live-node count, drawing, the compiler and the tests. A new per-op entry is one
more keyword argument here.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Union

__all__ = ["Op", "LEAF", "Example", "Code", "register", "registered_ops", "registered_count"]

FloatRule = Callable[[Any], None]
ValueRule = Callable[[Any, Any], tuple]


class Example:
    """How the tests exercise one op: one node of it, built from leaf Values.

    ``build(*leaves)`` makes exactly one node of the op whose parents are ``leaves`` in
    order (``arity`` of them). Random points are drawn uniformly from ``[low, high]``
    (each a number for every operand, or a tuple with one per operand). ``edges`` are
    more points the op's docstring promises something about (large magnitudes, say),
    checked like random ones. ``documented`` pairs a
    point with the derivatives the docstring gives there, for points where finite
    differences cannot check them (at a kink, or where the slope is infinite).
    ``kinks`` are operand values at which the derivative jumps; random trees keep away
    from them.
    """

    __slots__ = ("build", "arity", "low", "high", "edges", "documented", "kinks")

    def __init__(
        self,
        build: Callable[..., Any],
        arity: int,
        low: Union[float, tuple[float, ...]] = -3.0,
        high: Union[float, tuple[float, ...]] = 3.0,
        *,
        edges: Sequence[tuple[float, ...]] = (),
        documented: Sequence[tuple[tuple[float, ...], tuple[float, ...]]] = (),
        kinks: Sequence[float] = (),
    ) -> None:
        self.build = build
        self.arity = arity
        self.low = low if isinstance(low, tuple) else (low,) * arity
        self.high = high if isinstance(high, tuple) else (high,) * arity
        self.edges = tuple(edges)
        self.documented = tuple(documented)
        self.kinks = tuple(kinks)
        if not len(self.low) == len(self.high) == arity:
            raise ValueError(f"Example: low and high need {arity} bounds each")


class Code:
    """How ``autograd.compile`` writes one node of an op as straight-line Python.

    Fixed-arity ops give templates, ``str.format`` strings over these fields: ``{a}``,
    ``{b}`` the parents' values (in parents order), ``{c}`` the saved constant as a
    literal, ``{out}`` the node's value and ``{g}`` its gradient, each a plain name or
    literal, so a template need not parenthesise them.

    * ``forward``: an expression for the node's value, the same float operations as the
      op's forward (calling the same checks, so domain errors are the engine's own).
    * ``backward``: the float rule's shares, in the rule's order, each
      ``(parent, sign, expression)`` or ``(parent, sign, expression, condition)``:
      ``parent`` is ``"a"`` or ``"b"``, ``sign`` is ``"+"`` or ``"-"`` (the rule's
      ``+=`` or ``-=``), and a share with a condition is added only where the
      condition holds, as the rule's ``if`` does (relu adds nothing below 0).
    * ``helpers``: the functions the templates call, by name.
    * ``first``: optionally, for a one-parent op, the parent's gradient written at once
      when this node's shares are the first into an interior node's gradient. That
      gradient starts at 0.0 and is never -0.0 (0.0 + x is never -0.0), so, for relu,
      ``{g} if {a} > 0.0 else ...`` replaces ``0.0`` and two ``if`` lines, bit for bit.
    * ``reads_out``, ``reads_parents``: whether the shares read the node's value and
      its parents' values (found in the templates; n-ary ops say so).
    * ``skips_zero``: the float rule returns at once when the node's gradient is 0 and
      its value finite (it would add only zeros: ``dot``); the node's lines then do the
      same, and set the gradients they would have started to 0.0.

    N-ary ops (``sum``, ``dot``) pass functions instead, given the node itself, its
    parents' names and ``const`` (a constant's literal): ``forward(node, names, const)``
    returns the expression and ``backward(node, g, out, names, const)`` the shares, as
    ``(parent index, sign, expression[, condition])``. So a dot node's code is written
    for its own arity, one product per pair, without a loop at run time.
    """

    __slots__ = ("forward", "backward", "helpers", "first", "reads_out", "reads_parents",
                 "skips_zero")

    def __init__(
        self,
        forward: Union[str, Callable[..., str]],
        backward: Union[Sequence[tuple], Callable[..., list]],
        helpers: Optional[dict] = None,
        *,
        first: Optional[str] = None,
        reads_out: Optional[bool] = None,
        reads_parents: Optional[bool] = None,
        skips_zero: bool = False,
    ) -> None:
        self.forward = forward
        self.skips_zero = skips_zero
        self.backward = backward if callable(backward) else tuple(backward)
        self.helpers = dict(helpers or {})
        self.first = first
        text = "" if callable(backward) else " ".join(" ".join(s[2:]) for s in backward)
        self.reads_out = ("{out}" in text or callable(backward)) if reads_out is None else reads_out
        if reads_parents is None:
            reads_parents = "{a}" in text or "{b}" in text or callable(backward)
        self.reads_parents = reads_parents


class Op:
    """One kind of operation: its name, its two derivative rules and how it is drawn."""

    __slots__ = ("name", "float_rule", "value_rule", "label", "saved", "examples", "code")

    def __init__(
        self,
        name: str,
        float_rule: Optional[FloatRule],
        value_rule: Optional[ValueRule],
        *,
        label: str = "",
        saved: str = "nothing",
        examples: Sequence[Example] = (),
        code: Optional[Code] = None,
    ) -> None:
        self.name = name
        self.float_rule = float_rule
        self.value_rule = value_rule
        self.label = label or name
        self.saved = saved
        self.examples = tuple(examples)
        self.code = code

    def __repr__(self) -> str:
        return f"Op({self.label!r})" if self.label != self.name else f"Op({self.name!r})"


#: The op of a leaf: a Value made by ``Value(x)``, or by any operation under no_grad.
LEAF = Op("", None, None)

_REGISTRY: list[Op] = []


def register(op: Op) -> Op:
    """Add ``op`` to the registry and return it (so a declaration is one statement)."""
    if op is LEAF or op in _REGISTRY:
        raise ValueError(f"register: {op!r} is the leaf op or is registered already")
    if op.float_rule is None or op.value_rule is None:
        raise ValueError(f"register: {op!r} needs both a float rule and a Value rule")
    _REGISTRY.append(op)
    return op


def registered_count() -> int:
    """How many ops are registered (cheaper than ``len(registered_ops())``)."""
    return len(_REGISTRY)


def registered_ops() -> tuple[Op, ...]:
    """Every registered op, in the order of registration (``LEAF`` is not one)."""
    return tuple(_REGISTRY)
