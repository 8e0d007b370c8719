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

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .value import Value


def count_uses(root: "Value") -> dict:
    """Map every node reachable from ``root`` (root excluded) to its number of uses."""
    uses: dict = {}
    stack = [root]
    pop = stack.pop
    push = stack.append
    while stack:
        for parent in pop()._parents:
            if parent in uses:
                uses[parent] += 1
            else:
                uses[parent] = 1
                push(parent)
    return uses


def topological_order(root: "Value") -> list:
    """Every node of ``root``'s graph, each after all of its parents; ``root`` last."""
    uses = count_uses(root)
    reverse_order = []
    ready = [root]
    while ready:
        node = ready.pop()
        reverse_order.append(node)
        for parent in node._parents:
            remaining = uses[parent] - 1
            uses[parent] = remaining
            if remaining == 0:
                ready.append(parent)
    reverse_order.reverse()
    return reverse_order


def backward(root: "Value") -> None:
    """Add d(root)/d(node) into ``node.grad`` for every node in ``root``'s graph."""
    uses: dict = {}
    # Interior nodes may still hold gradient from an earlier backward(). The sweep must
    # send back only this call's gradient, so set those aside and add them back after.
    earlier = []
    if root._parents and root.grad:
        earlier.append((root, root.grad))
        root.grad = 0.0
    stack = [root]
    pop = stack.pop
    push = stack.append
    while stack:
        for parent in pop()._parents:
            if parent in uses:
                uses[parent] += 1
            else:
                uses[parent] = 1
                push(parent)
                if parent.grad and parent._parents:
                    earlier.append((parent, parent.grad))
                    parent.grad = 0.0

    root.grad += 1.0
    ready = [root]
    pop = ready.pop
    push = ready.append
    while ready:
        node = pop()
        parents = node._parents
        if parents:
            node._op.backward(node)
            for parent in parents:
                remaining = uses[parent] - 1
                if remaining:
                    uses[parent] = remaining
                else:
                    push(parent)

    for node, grad in earlier:
        node.grad += grad
