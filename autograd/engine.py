"""The backward sweep: order the graph, then apply the chain rule from the output down.

Every walk uses an explicit stack, never recursion, so a graph may be millions of nodes
deep, and every order is deterministic: it depends only on the graph and on each node's
parents order, never on memory addresses.

``backward()`` lists the interior nodes in depth-first postorder (each after all of its
parents), then runs their rules in reverse: every node before its operands, so a node's
gradient is complete by the time its rule sends it on. ``topological_order()`` (used by
drawing and ``grad``) is Kahn's algorithm read backwards, as in HIPS/autograd: count each
node's uses, then release a node once all its uses are done.

Two guarantees hold whatever happens mid-walk, Ctrl-C included, any number of times:

* **Walk marks never go stale.** Each walk takes a fresh *stamp* (a number larger than
  any before it) and marks nodes with it: OPEN is the stamp, LISTED the stamp + 1, and
  any smaller mark, left by an earlier walk however it ended, reads as unseen. So
  nothing ever has to clear marks, and an interrupted walk cannot mislead a later one.
* **Sweeps take turns.** ``backward``, ``grad`` and ``recorded_sweep`` hold one
  process-wide lock while they walk and sweep, so two threads differentiating graphs
  that share nodes accumulate both sweeps' gradients, one after the other, instead of
  losing some. (They hold the GIL throughout anyway; the lock costs a microsecond.)
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, Optional, Sequence

from .anomaly import AnomalyError, check_rule
from .grad_mode import _mode, slow_path
from .ops import LEAF

if TYPE_CHECKING:  # pragma: no cover
    from .value import Value

# A node's ``_walk`` slot holds the mark of the last walk that reached it. A new node
# holds UNSEEN, below every stamp. During the walk stamped s, a node marked s is OPEN
# (its parents are on the stack above it), s + 1 LISTED (in the order already; for
# ``gradients``, also a leaf noted once), anything below s unseen.
UNSEEN = 0


class _SweepState:
    """The lock that sweeps take turns with, and the last walk's stamp (one instance)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.last_stamp = UNSEEN

    def new_stamp(self) -> int:
        """A stamp above every mark any walk has made (call with ``lock`` held)."""
        # An interrupt before the store leaves the old value: no walk used the new one.
        stamp = self.last_stamp + 2
        self.last_stamp = stamp
        return stamp


_state = _SweepState()


def count_uses(root: "Value") -> dict:
    """Map every node reachable from ``root`` (root excluded) to its number of uses."""
    uses: dict = {}
    stack = [root]
    while stack:
        for parent in stack.pop().parents:
            if parent in uses:
                uses[parent] += 1
            else:
                uses[parent] = 1
                stack.append(parent)
    return uses


def topological_order(root: "Value") -> list:
    """Every node of ``root``'s graph, each after all of its parents; ``root`` last."""
    uses = count_uses(root)
    reverse_order = []
    ready = [root]
    while ready:
        node = ready.pop()
        reverse_order.append(node)
        for parent in node.parents:
            remaining = uses[parent] - 1
            uses[parent] = remaining
            if remaining == 0:
                ready.append(parent)
    reverse_order.reverse()
    return reverse_order


def backward(root: "Value") -> None:
    """Add d(root)/d(node) into ``node.grad`` for every node in ``root``'s graph."""
    # Each ``with _state.lock`` is one line: an exception raised by a line-event trace
    # function (a debugger, the interrupt tests) where a with-block's line is entered
    # again for the release would skip the release; on one line there is no such event.
    with _state.lock: _backward_locked(root)  # noqa: E701


def _backward_locked(root: "Value") -> None:
    earlier: list = []
    try:
        order = _interior_postorder(root, earlier, _state.new_stamp())
        root._grad += 1.0
        _sweep(order)
    finally:
        # Interior nodes' gradients from earlier calls go back, sweep done or not.
        for node, grad in earlier:
            node._grad += grad


def gradients(root: "Value", inputs: Sequence["Value"]) -> list:
    """d(root)/d(x) for each x in ``inputs`` as floats, leaving every ``.grad`` as it was.

    One ordinary sweep: the walk also lists the leaves, every gradient in the graph is
    set aside and zeroed, the sweep runs, the answers are read, and everything is put
    back. An input outside the graph gets 0.0.
    """
    if root._op is LEAF:
        return [1.0 if x is root else 0.0 for x in inputs]
    with _state.lock: return _gradients_locked(root, inputs)  # noqa: E701


def _gradients_locked(root: "Value", inputs: Sequence["Value"]) -> list:
    with _from_zero_gradients(root) as (order, stamp):
        in_graph = [x._walk == stamp + 1 for x in inputs]  # listed by this walk
        _sweep(order)
        return [x._grad if present else 0.0 for x, present in zip(inputs, in_graph)]


def recorded_sweep(root: "Value") -> list:
    """The sweep that ``backward()`` runs from zero gradients, step by step, leaving every
    ``.grad`` as it was.

    The engine's own walk and sweep on the real graph: every gradient in the graph is
    set aside and zeroed, ``root.grad`` becomes 1.0, and the rules run in the sweep's
    order; around each rule the parents' gradients are read. The numbers are those that
    ``root.backward()`` computes on a graph whose gradients are all 0, bit for bit,
    whatever the gradients held before; afterwards every gradient is put back.

    Args:
        root: the Value to differentiate, as for ``root.backward()``.

    Returns:
        One ``(node, parents, before, after)`` tuple per rule, in the order the rules
        run: ``parents`` are the node's distinct parents in order of first use (``a * a``
        has one), ``before`` and ``after`` their gradients (tuples of floats) just before
        and just after the node's rule. Empty when ``root`` is a leaf.

    Raises:
        Whatever a rule raises (``ZeroDivisionError`` from the rule of ``x.log()`` once
        ``x.data`` is set to 0, say), after every gradient is put back.
    """
    if root._op is LEAF:
        return []
    with _state.lock: return _recorded_sweep_locked(root)  # noqa: E701


def _recorded_sweep_locked(root: "Value") -> list:
    steps: list = []
    with _from_zero_gradients(root) as (order, _):
        for node in reversed(order):
            parents = tuple({id(parent): parent for parent in node.parents}.values())
            before = tuple(parent._grad for parent in parents)
            node._op.float_rule(node)
            steps.append((node, parents, before, tuple(parent._grad for parent in parents)))
    return steps


def sweep_order(root: "Value") -> list:
    """The interior nodes of ``root``'s graph in the order ``backward()`` lists them (its
    sweep runs their rules last first), leaving every ``.grad`` as it was."""
    if root._op is LEAF:
        return []
    with _state.lock: return _sweep_order_locked(root)  # noqa: E701


def _sweep_order_locked(root: "Value") -> list:
    earlier: list = []
    try:
        return _interior_postorder(root, earlier, _state.new_stamp())
    finally:
        for node, grad in earlier:
            node._grad = grad


@contextmanager
def _from_zero_gradients(root: "Value") -> Iterator[tuple[list, int]]:
    """Walk ``root``'s graph with every gradient in it set aside and zeroed, and
    ``root.grad`` at 1.0; yield (the sweep's order, the walk's stamp); then put every
    gradient back as it was. Call with ``_state.lock`` held."""
    earlier: list = []
    leaves: list = []
    kept: list = []
    order: list = []
    stamp = _state.new_stamp()
    try:
        order = _interior_postorder(root, earlier, stamp, leaves)
        kept = [leaf._grad for leaf in leaves]
        for leaf in leaves:
            leaf._grad = 0.0
        root._grad += 1.0
        yield order, stamp
    finally:
        for node in order:
            node._grad = 0.0
        for node, grad in earlier:
            node._grad = grad
        for leaf, grad in zip(leaves, kept):
            leaf._grad = grad


def _sweep(order: list) -> None:
    """Run the rules, consumers before their operands: each node's gradient is complete
    when its rule runs."""
    if slow_path.count and _mode.anomaly:
        _sweep_checked(order)
        return
    for node in reversed(order):
        # hot: two steps, not node._op.float_rule(node): CPython 3.11 cannot specialise
        # a method-style call of a function stored in a slot; it can this.
        rule = node._op.float_rule
        rule(node)


def _interior_postorder(
    root: "Value", earlier: list, stamp: int, leaves: Optional[list] = None
) -> list:
    """Every interior node of the graph, each after all of its interior parents.

    An iterative depth-first walk: a node is listed once all its parents are, so the
    list read backwards puts every node before its operands. Leaves (parameters,
    inputs) have no rule to run and are not listed. The walk keeps its marks (OPEN =
    ``stamp``, LISTED = ``stamp + 1``, see the top of this module) in each node's
    ``_walk`` slot, much cheaper than a set keyed by node.

    Interior nodes may still hold gradient from an earlier backward(); the sweep must
    send back only this call's gradient, so those are set to 0 here and listed in
    ``earlier``, to be added back at the end. Given a ``leaves`` list, the walk also
    lists every leaf once (marking it LISTED), for ``gradients``.
    """
    order: list = []
    if root._op is LEAF:
        return order
    emit = order.append
    stack = [root]
    push = stack.append
    pop = stack.pop
    opened, listed = stamp, stamp + 1  # a mark below ``opened`` is unseen by this walk
    leaf = LEAF  # hot: a local, read once for every parent below
    # The one-parent case (``_parents`` holds the parent itself) and the tuple case are
    # written out separately: this is the hot loop of every training step. It is a
    # ``while True`` loop because CPython 3.11 specialises a function's bytecode only
    # after 8 calls or unconditional backward jumps; a ``while stack:`` loop ends in a
    # conditional jump, so one backward() over a long chain would run unspecialised.
    while True:
        if not stack:
            break
        node = stack[-1]
        mark = node._walk
        if mark < opened:  # unseen
            node._walk = opened
            parents = node._parents
            # Open a run of one-parent nodes (a chain) straight away, without a trip
            # round the loop for each; stop at a tuple of parents and push those.
            while type(parents) is not tuple:
                if parents._walk >= opened:
                    break
                if parents._op is leaf:
                    if leaves is not None:
                        parents._walk = listed
                        leaves.append(parents)
                    break
                parents._walk = opened
                push(parents)
                parents = parents._parents
            else:
                if leaves is None:
                    # hot: backward's case on its own, without the leaves test: most
                    # edges of a training step end at a weight, a leaf. 0.9% fewer
                    # instructions on 3 moons steps; faster in 5 of 6 A/B step pairs.
                    for parent in parents:
                        if parent._op is not leaf and parent._walk < opened:
                            push(parent)
                else:
                    for parent in parents:
                        if parent._op is not leaf:
                            if parent._walk < opened:
                                push(parent)
                        elif parent._walk < opened:
                            parent._walk = listed
                            leaves.append(parent)
        else:
            pop()
            if mark == opened:  # every parent above it on the stack is listed now
                node._walk = listed
                emit(node)
                if node._grad:
                    earlier.append((node, node._grad))
                    node._grad = 0.0
    return order


def _sweep_checked(order: list) -> None:
    """The sweep with every new gradient checked (anomaly mode)."""
    root = order[-1]
    if not math.isfinite(root._grad):
        raise AnomalyError(f"detect_anomaly: the output's gradient is {root._grad!r}")
    for node in reversed(order):
        parents = node.parents
        grads_before = [parent._grad for parent in parents]
        node._op.float_rule(node)
        check_rule(node, grads_before)
