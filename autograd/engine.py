"""The backward sweep: order the graph, then apply the chain rule from the output down.

Both walks use explicit stacks, never recursion, so a graph may be millions of nodes
deep. The order is deterministic: it depends only on the graph and on each node's
parents order, never on memory addresses.

Ordering is Kahn's algorithm read backwards (as in HIPS/autograd): first count, for
every node, how many times it is used as an operand inside the graph; then start from
the output and release a node once every one of its uses has sent its gradient back.
A released node's gradient is complete, so its rule can run at once.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .anomaly import AnomalyError, check_rule
from .grad_mode import _mode, special_blocks_open

if TYPE_CHECKING:  # pragma: no cover
    from .value import Value


def _parents_of(node: "Value") -> tuple:
    parents = node._parents  # a tuple, or a single parent stored bare (see value.py)
    return parents if type(parents) is tuple else (parents,)


def count_uses(root: "Value") -> dict:
    """Map every node reachable from ``root`` (root excluded) to its number of uses."""
    uses: dict = {}
    stack = [root]
    while stack:
        for parent in _parents_of(stack.pop()):
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
        for parent in _parents_of(node):
            remaining = uses[parent] - 1
            uses[parent] = remaining
            if remaining == 0:
                ready.append(parent)
    reverse_order.reverse()
    return reverse_order


def backward(root: "Value") -> None:
    """Add d(root)/d(node) into ``node.grad`` for every node in ``root``'s graph."""
    earlier: list = []
    try:
        _count_uses_in_place(root, earlier)
        root.grad += 1.0
        if special_blocks_open[0] and _mode.anomaly:
            _sweep_checked(root)
        else:
            _sweep(root)
    except BaseException:
        # An error, or Ctrl-C, part-way: leave no counter set, or every later
        # backward() through these nodes would be silently wrong.
        _reset_counters(root)
        raise
    finally:
        for node, grad in earlier:
            node.grad += grad


# The two passes below are the hot loops of every training step. Each handles the
# one-parent case (``_parents`` holds the parent itself) and the tuple case separately,
# with the per-parent work written out in both, because a helper call per edge would
# cost more than the work itself.


def _count_uses_in_place(root: "Value", earlier: list) -> None:
    """Pass 1: count each interior node's uses in the graph, in its own ``_pending`` slot.

    A slot is much cheaper than a dict keyed by node, and leaves (parameters, inputs)
    need no count at all: they have no rule to run. Interior nodes may still hold
    gradient from an earlier backward(); the sweep must send back only this call's
    gradient, so those are set to 0 here and listed in ``earlier``, to be added back at
    the end.
    """
    if root._parents and root.grad:
        earlier.append((root, root.grad))
        root.grad = 0.0
    fresh = []  # nodes seen for the first time; checked for earlier gradient below
    stack = [root]
    pop = stack.pop
    push = stack.append
    see = fresh.append
    while stack:
        parents = pop()._parents
        if type(parents) is tuple:
            for parent in parents:
                if parent._parents:  # leaves have no rule to wait for: not counted
                    uses = parent._pending
                    parent._pending = uses + 1
                    if not uses:
                        push(parent)
                        see(parent)
        elif parents._parents:
            uses = parents._pending
            parents._pending = uses + 1
            if not uses:
                push(parents)
                see(parents)
    for node in fresh:
        if node.grad:
            earlier.append((node, node.grad))
            node.grad = 0.0


def _sweep(root: "Value") -> None:
    """Pass 2: release a node once all its uses have sent their gradient back.

    A released node's gradient is complete, so its rule runs at once. Every counter
    is back to 0 at the end.
    """
    ready = [root]
    pop = ready.pop
    push = ready.append
    while ready:
        node = pop()
        parents = node._parents
        if type(parents) is tuple:
            if parents:
                node._op.backward(node)
                for parent in parents:
                    if parent._parents:
                        uses = parent._pending - 1
                        parent._pending = uses
                        if not uses:
                            push(parent)
        else:
            node._op.backward(node)
            if parents._parents:
                uses = parents._pending - 1
                parents._pending = uses
                if not uses:
                    push(parents)


def _sweep_checked(root: "Value") -> None:
    """``_sweep`` with every new gradient checked (anomaly mode)."""
    if not math.isfinite(root.grad):
        raise AnomalyError(f"detect_anomaly: the output's gradient is {root.grad!r}")
    ready = [root]
    while ready:
        node = ready.pop()
        parents = _parents_of(node)
        if parents:
            grads_before = [parent.grad for parent in parents]
            node._op.backward(node)
            check_rule(node, grads_before)
            for parent in parents:
                if parent._parents:
                    parent._pending -= 1
                    if not parent._pending:
                        ready.append(parent)


def _reset_counters(root: "Value") -> None:
    # After an error mid-sweep, put every counter back to 0 so the graph stays usable.
    root._pending = 0
    seen = {root}
    stack = [root]
    while stack:
        for parent in _parents_of(stack.pop()):
            if parent not in seen:
                seen.add(parent)
                parent._pending = 0
                stack.append(parent)
