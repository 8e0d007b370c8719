"""The backward sweep: order the graph, then apply the chain rule from the output down.

Every walk uses an explicit stack, never recursion, so a graph may be millions of nodes
deep, and every order is deterministic: it depends only on the graph and on each node's
parents order, never on memory addresses.

``backward()`` lists the interior nodes in depth-first postorder (each after all of its
parents), then runs their rules in reverse: every node before its operands, so a node's
gradient is complete by the time its rule sends it on. ``topological_order()`` (used by
drawing and ``grad``) is Kahn's algorithm read backwards, as in HIPS/autograd: count each
node's uses, then release a node once all its uses are done.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Optional, Sequence

from .anomaly import AnomalyError, check_rule
from .grad_mode import _mode, slow_path

if TYPE_CHECKING:  # pragma: no cover
    from .value import Value

# The walk mark each node keeps in its ``_walk`` slot while ``backward()`` orders the
# graph. Every node is UNSEEN outside a walk (new nodes start so, and the sweep puts
# them back); UNSEEN is 0 so that the hot loop can test it as ``not mark``.
UNSEEN = 0
OPEN = 1  # its parents are on the stack above it
LISTED = 2  # in the order already (or, for ``gradients``, a leaf noted once)


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
    earlier: list = []
    try:
        order = _interior_postorder(root, earlier)
        root.grad += 1.0
        _sweep(order)
    except BaseException:
        # An error, or Ctrl-C, part-way: leave no mark set, or every later backward()
        # through these nodes would be silently wrong.
        _clear_walk_marks(root)
        raise
    finally:
        for node, grad in earlier:
            node.grad += grad


def gradients(root: "Value", inputs: Sequence["Value"]) -> list:
    """d(root)/d(x) for each x in ``inputs`` as floats, leaving every ``.grad`` as it was.

    One ordinary sweep: the walk also lists the leaves, every gradient in the graph is
    set aside and zeroed, the sweep runs, the answers are read, and everything is put
    back. An input outside the graph gets 0.0.
    """
    if not root._parents:
        return [1.0 if x is root else 0.0 for x in inputs]
    earlier: list = []
    leaves: list = []
    kept: list = []
    order: list = []
    try:
        order = _interior_postorder(root, earlier, leaves)
        in_graph = [x._walk == LISTED for x in inputs]
        kept = [leaf.grad for leaf in leaves]
        for leaf in leaves:
            leaf.grad = 0.0
            leaf._walk = UNSEEN
        root.grad += 1.0
        _sweep(order)
        return [x.grad if present else 0.0 for x, present in zip(inputs, in_graph)]
    except BaseException:
        _clear_walk_marks(root)
        raise
    finally:
        for node in order:
            node.grad = 0.0
        for node, grad in earlier:
            node.grad = grad
        for leaf, grad in zip(leaves, kept):
            leaf.grad = grad


def _sweep(order: list) -> None:
    """Run the rules, consumers before their operands: each node's gradient is complete
    when its rule runs. The marks go back to UNSEEN on the way."""
    if slow_path.count and _mode.anomaly:
        _sweep_checked(order)
        return
    for node in reversed(order):
        node._walk = 0  # UNSEEN, as a constant: no global lookup per node
        # hot: two steps, not node._op.float_rule(node): CPython 3.11 cannot specialise
        # a method-style call of a function stored in a slot; it can this.
        rule = node._op.float_rule
        rule(node)


def _interior_postorder(root: "Value", earlier: list, leaves: Optional[list] = None) -> list:
    """Every interior node of the graph, each after all of its interior parents.

    An iterative depth-first walk: a node is listed once all its parents are, so the
    list read backwards puts every node before its operands. Leaves (parameters,
    inputs) have no rule to run and are not listed. The walk keeps its marks (UNSEEN,
    OPEN, LISTED) in each node's ``_walk`` slot, much cheaper than a set keyed by node.

    Interior nodes may still hold gradient from an earlier backward(); the sweep must
    send back only this call's gradient, so those are set to 0 here and listed in
    ``earlier``, to be added back at the end. Given a ``leaves`` list, the walk also
    lists every leaf once (marking it LISTED), for ``gradients``.
    """
    order: list = []
    if not root._parents:
        return order
    emit = order.append
    stack = [root]
    push = stack.append
    pop = stack.pop
    opened, listed = OPEN, LISTED  # hot: locals, not a global lookup per node
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
        if not mark:  # UNSEEN
            node._walk = opened
            parents = node._parents
            # Open a run of one-parent nodes (a chain) straight away, without a trip
            # round the loop for each; stop at a tuple of parents and push those.
            while type(parents) is not tuple:
                if parents._walk:
                    break
                if not parents._parents:
                    if leaves is not None:
                        parents._walk = listed
                        leaves.append(parents)
                    break
                parents._walk = opened
                push(parents)
                parents = parents._parents
            else:
                for parent in parents:
                    if parent._parents:
                        if not parent._walk:
                            push(parent)
                    elif leaves is not None and not parent._walk:
                        parent._walk = listed
                        leaves.append(parent)
        else:
            pop()
            if mark == opened:  # every parent above it on the stack is listed now
                node._walk = listed
                emit(node)
                if node.grad:
                    earlier.append((node, node.grad))
                    node.grad = 0.0
    return order


def _sweep_checked(order: list) -> None:
    """The sweep with every new gradient checked (anomaly mode)."""
    root = order[-1]
    if not math.isfinite(root.grad):
        raise AnomalyError(f"detect_anomaly: the output's gradient is {root.grad!r}")
    for node in reversed(order):
        node._walk = UNSEEN
        parents = node.parents
        grads_before = [parent.grad for parent in parents]
        node._op.float_rule(node)
        check_rule(node, grads_before)


def _clear_walk_marks(root: "Value") -> None:
    # After an error mid-walk, put every mark back to UNSEEN so the graph stays usable.
    root._walk = UNSEEN
    seen = {root}
    stack = [root]
    while stack:
        for parent in stack.pop().parents:
            if parent not in seen:
                seen.add(parent)
                parent._walk = UNSEEN
                stack.append(parent)


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
        ``x.data`` is set to 0, say), after every gradient and walk mark is put back.
    """
    steps: list = []
    if not root._parents:
        return steps
    earlier: list = []
    leaves: list = []
    kept: list = []
    order: list = []
    try:
        order = _interior_postorder(root, earlier, leaves)
        kept = [leaf.grad for leaf in leaves]
        for leaf in leaves:
            leaf.grad = 0.0
            leaf._walk = UNSEEN
        root.grad += 1.0
        for node in reversed(order):
            node._walk = UNSEEN
            parents = tuple({id(parent): parent for parent in node.parents}.values())
            before = tuple(parent.grad for parent in parents)
            node._op.float_rule(node)
            steps.append((node, parents, before, tuple(parent.grad for parent in parents)))
        return steps
    except BaseException:
        _clear_walk_marks(root)
        raise
    finally:
        for node in order:
            node.grad = 0.0
        for node, grad in earlier:
            node.grad = grad
        for leaf, grad in zip(leaves, kept):
            leaf.grad = grad
