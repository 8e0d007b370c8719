"""The backward sweep: topological order, accumulation, the classic pitfalls, deep graphs,
and graphs freed by reference counting alone."""

import gc
import itertools
import math
import os
import random
import sys
import types

import pytest

import autograd
from autograd import Value, topological_order


def reachable(root):
    """Every node of root's graph, found by an independent depth-first walk (by id)."""
    seen = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen[id(node)] = node
            stack.extend(node.parents)
    return seen


def assert_topological(root):
    """Each node once, after all of its parents, the root last, and nothing missing."""
    order = topological_order(root)
    position = {}
    for i, node in enumerate(order):
        assert id(node) not in position, f"{node!r} appears twice"
        position[id(node)] = i
    assert order[-1] is root
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)], f"{parent!r} after {node!r}"
    assert set(position) == set(reachable(root))
    return order


def every_grad(root):
    return [node.grad for node in topological_order(root)]


def all_ops_graph(x, w):
    """One graph using every operation, with reuse; returns the output."""
    h = (x * w + 0.5).tanh()
    s = autograd.sum([h, x, 1.5, h.sigmoid()])
    d = autograd.dot([w, 2.0, h], [x, s, 0.25], bias=w)
    e = autograd.dot([h, s], [x, w], bias=0.1)
    f = autograd.dot([x, w], [0.5, -1.0])
    p = (x * x + 1.0) ** 1.5 + (x * x + 1.0) ** w + 2.0**x + w**2
    q = (abs(d) + 1.0).log() + (e * e + 0.1).sqrt() - (-f).relu() + s.exp() / (1.0 + h * h)
    r = 3.0 - q / 2.0 + 1.0 / (p + 1.0) - x
    return r * (0.5 * r) + 1.0 + p


def random_graph(seed, size=300):
    """A seeded random DAG mixing every kind of operation; nodes labelled by creation."""
    rng = random.Random(seed)
    nodes = [Value(rng.uniform(0.5, 1.5), label=f"leaf{i}") for i in range(5)]
    for i in range(size):
        a, b = rng.choice(nodes), rng.choice(nodes)
        kind = rng.randrange(7)
        if kind == 0:
            out = a + b
        elif kind == 1:
            out = a * b * 0.5
        elif kind == 2:
            out = (a - b).tanh()
        elif kind == 3:
            out = autograd.sum([a, b, rng.choice(nodes), 1.0])
        elif kind == 4:
            out = autograd.dot([a, b, 0.5], [b, rng.choice(nodes), a], bias=a)
        elif kind == 5:
            out = a.sigmoid() + b
        else:
            out = a / (b * b + 1.0)
        out.label = f"n{i}"
        nodes.append(out)
    return autograd.sum(nodes[-20:])


# -- topological order ---------------------------------------------------------------------


def test_topological_order_of_a_leaf_is_just_the_leaf():
    x = Value(1.0)
    order = topological_order(x)
    assert len(order) == 1 and order[0] is x


def test_topological_order_puts_every_node_after_its_parents_and_the_root_last():
    assert_topological(all_ops_graph(Value(0.3), Value(-0.7)))


@pytest.mark.parametrize("seed", range(5))
def test_topological_order_of_random_graphs_is_valid(seed):
    assert_topological(random_graph(seed))


def test_topological_order_is_deterministic_across_rebuilds():
    graphs = [random_graph(seed=11) for _ in range(4)]  # kept alive: different addresses
    orders = [[node.label for node in topological_order(root)] for root in graphs]
    assert all(order == orders[0] for order in orders)
    assert topological_order(graphs[0]) == topological_order(graphs[0])


def test_topological_order_lists_a_node_used_twice_once():
    a = Value(2.0)
    b = a + a
    order = assert_topological(b * b)
    assert len(order) == 3


# -- the pitfalls ---------------------------------------------------------------------------


def test_a_plus_a_gives_gradient_two():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0


def test_reused_intermediate_gives_a_grad_four():
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert c.data == 12.0
    assert b.grad == 2.0
    assert a.grad == 4.0


def test_x_times_x_gives_two_x():
    x = Value(-1.25)
    (x * x).backward()
    assert x.grad == -2.5


def test_diamond_graph_sums_both_paths():
    # d = (3a) * exp(a):  dd/da = 3 exp(a) + 3a exp(a)
    a = Value(0.4)
    b = a * 3.0
    c = a.exp()
    d = b * c
    d.backward()
    assert d.data == pytest.approx(1.2 * math.exp(0.4), rel=1e-15)
    assert a.grad == pytest.approx(3 * math.exp(0.4) * (1 + 0.4), rel=1e-15)
    assert b.grad == pytest.approx(math.exp(0.4), rel=1e-15)
    assert c.grad == pytest.approx(1.2, rel=1e-15)


def test_wide_diamond_through_every_operation_matches_closed_form():
    # y = a*b + a/b + a**b + tanh(a) + (b - a) with a, b > 0
    a, b = Value(0.7), Value(1.3)
    y = a * b + a / b + a**b + a.tanh() + (b - a)
    y.backward()
    da = 1.3 + 1 / 1.3 + 1.3 * 0.7**0.3 + 1 / math.cosh(0.7) ** 2 - 1
    db = 0.7 - 0.7 / 1.3**2 + 0.7**1.3 * math.log(0.7) + 1
    assert a.grad == pytest.approx(da, rel=1e-14)
    assert b.grad == pytest.approx(db, rel=1e-14)


def test_backward_accumulates_into_existing_leaf_gradients():
    a = Value(2.0)
    a.grad = 0.5
    (a * 3.0).backward()
    assert a.grad == 3.5


def test_backward_of_a_leaf_sets_its_gradient_to_one_and_accumulates():
    a = Value(2.0)
    a.backward()
    assert a.grad == 1.0
    a.backward()
    assert a.grad == 2.0


def test_backward_leaves_values_outside_the_graph_and_all_data_untouched():
    a, b, unrelated = Value(2.0), Value(3.0), Value(4.0)
    other = unrelated * 2.0
    y = a * b + a
    datas = [node.data for node in topological_order(y)]
    y.backward()
    assert [node.data for node in topological_order(y)] == datas
    assert (unrelated.grad, other.grad) == (0.0, 0.0)


def test_backward_twice_doubles_every_gradient_including_intermediate_nodes():
    root = all_ops_graph(Value(0.3), Value(-0.7))
    root.backward()
    first = every_grad(root)
    assert sum(g != 0.0 for g in first) > 20
    root.backward()
    assert every_grad(root) == pytest.approx([2 * g for g in first], rel=1e-13, abs=1e-300)
    assert topological_order(root)[-1].grad == 2.0


def test_backward_twice_on_the_pitfall_graph_doubles_a_and_b():
    a = Value(3.0)
    b = a + a
    c = b * b
    c.backward()
    c.backward()
    assert (a.grad, b.grad, c.grad) == (48.0, 24.0, 2.0)


def test_backward_of_a_subexpression_then_of_the_whole_adds_both_derivatives():
    # b = a*a, c = 3b + a.  db/da = 2a;  dc/da = 6a + 1;  dc/db = 3.
    a = Value(1.5)
    b = a * a
    c = b * 3.0 + a
    b.backward()
    assert (a.grad, b.grad) == (3.0, 1.0)
    c.backward()
    assert a.grad == 3.0 + (6 * 1.5 + 1)
    assert b.grad == 1.0 + 3.0
    assert c.grad == 1.0


def test_backward_of_the_whole_then_of_a_subexpression_adds_both_derivatives():
    a = Value(1.5)
    b = a * a
    c = b * 3.0 + a
    c.backward()
    assert (a.grad, b.grad) == (10.0, 3.0)
    b.backward()
    assert a.grad == 10.0 + 3.0
    assert b.grad == 3.0 + 1.0


def test_two_outputs_sharing_a_subgraph_each_add_their_own_derivative_once():
    # h = x*x;  y1 = h + 1 (dh = 1);  y2 = 3h (dh = 3).  dx = 2x * (1 + 3).
    x = Value(1.5)
    h = x * x
    y1 = h + 1.0
    y2 = h * 3.0
    y1.backward()
    y2.backward()
    assert h.grad == 4.0
    assert x.grad == 2 * 1.5 * 4.0
    assert (y1.grad, y2.grad) == (1.0, 1.0)


def test_backward_after_a_rule_raised_gives_correct_gradients():
    # Corrupt x after the forward pass so that log's rule divides by zero mid-sweep;
    # once x is repaired, a new backward must run over the whole graph as usual.
    x = Value(2.0)
    h = x.log()
    y = h * x + h.tanh()
    x.data = 0.0
    with pytest.raises(ZeroDivisionError):
        y.backward()
    x.data = 2.0
    for node in topological_order(y):
        node.grad = 0.0
    y.backward()
    dh = 2.0 + 1 / math.cosh(math.log(2.0)) ** 2
    assert h.grad == pytest.approx(dh, rel=1e-15)
    assert x.grad == pytest.approx(math.log(2.0) + dh / 2.0, rel=1e-15)


def _interrupt_after(lines, call, package_dir):
    """Run call(), raising KeyboardInterrupt (a Ctrl-C) at its ``lines``-th line of
    autograd code. Returns where it interrupted, or None if call() finished first."""
    count = 0
    where = None

    def local(frame, event, arg):
        nonlocal count, where
        if event == "line":
            count += 1
            if count == lines:
                where = f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"
                raise KeyboardInterrupt
        return local

    def tracer(frame, event, arg):
        filename = frame.f_code.co_filename
        # gc_policy's hook runs whenever the collector does, not as part of call()
        if filename.startswith(package_dir) and not filename.endswith("gc_policy.py"):
            return local
        return None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        call()
    except KeyboardInterrupt:
        assert where is not None
    finally:
        sys.settrace(previous)
    return where


def test_backward_interrupted_at_any_point_leaves_the_graph_usable():
    # Ctrl-C may land anywhere in a long backward(). Whatever gradients it left behind,
    # zeroing them and calling backward() again must give the right answer.
    def build():
        x, w = Value(0.3), Value(-0.7)
        h = (x * w).tanh()
        return autograd.dot([h, x], [w, h], bias=h * 2.0) + h

    reference = build()
    reference.backward()
    expected = every_grad(reference)
    package_dir = os.path.dirname(os.path.abspath(autograd.__file__)) + os.sep
    broken_by = []
    for lines in itertools.count(1):
        root = build()
        where = _interrupt_after(lines, root.backward, package_dir)
        for node in topological_order(root):
            node.grad = 0.0
        root.backward()
        if every_grad(root) != pytest.approx(expected, rel=1e-14):
            broken_by.append(where)
        if where is None:
            break
    assert lines > 20, "the tracer never interrupted backward()"
    assert not broken_by, (
        f"after a KeyboardInterrupt at {list(dict.fromkeys(broken_by))}, "
        "a later backward() on the same graph gave wrong gradients"
    )


# -- size: no recursion anywhere --------------------------------------------------------------


def test_a_200000_deep_chain_backpropagates_without_recursion_error():
    factor = 1.0 - 1e-6
    x = Value(1.0)
    y = x
    for _ in range(200_000):
        y = y * factor
    assert len(topological_order(y)) == 200_001
    y.backward()
    assert x.grad == pytest.approx(math.pow(factor, 200_000), rel=1e-9)
    assert y.data == pytest.approx(math.pow(factor, 200_000), rel=1e-9)
    del y  # dropping the chain must not recurse either


def test_builtin_sum_over_50000_values_backpropagates():
    xs = [Value(float(i)) for i in range(50_000)]
    total = sum(xs)
    assert total.data == 49_999 * 50_000 / 2
    total.backward()
    assert all(x.grad == 1.0 for x in xs)


# -- memory: no reference cycles ----------------------------------------------------------


def test_a_dropped_graph_is_freed_by_reference_counting_without_gc():
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        x, w = Value(0.3), Value(-0.7)
        baseline = sys.getrefcount(x), sys.getrefcount(w)
        out = all_ops_graph(x, w)
        out.backward()
        assert x.grad != 0.0 and w.grad != 0.0
        del out
        assert (sys.getrefcount(x), sys.getrefcount(w)) == baseline
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()


def _referents_that_could_hold_a_node(obj):
    """What obj refers to, skipping module globals and types (which hold no nodes)."""
    if isinstance(obj, types.FunctionType):
        cells = [cell.cell_contents for cell in obj.__closure__ or ()]
        return cells + list(obj.__defaults__ or ()) + list((obj.__kwdefaults__ or {}).values())
    if isinstance(obj, (types.ModuleType, type)):
        return []
    return gc.get_referents(obj)


def _can_reach(start, target):
    seen = set()
    stack = list(start)
    while stack:
        obj = stack.pop()
        if obj is target:
            return True
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        stack.extend(_referents_that_could_hold_a_node(obj))
    return False


def test_no_node_can_reach_itself_through_its_rule_saved_data_or_parents():
    root = all_ops_graph(Value(0.3), Value(-0.7))
    nodes = topological_order(root)
    assert len({node.op for node in nodes}) >= 14
    for node in nodes:
        assert not _can_reach(gc.get_referents(node), node), f"{node!r} is in a cycle"


def test_rules_are_shared_by_all_nodes_of_one_kind():
    # A rule shared by every product cannot hold any particular product.
    a, b, c, d = Value(1.0), Value(2.0), Value(3.0), Value(4.0)
    p, q = a * b, c * d
    assert p._op is q._op
    assert p not in gc.get_referents(p._op) and q not in gc.get_referents(q._op)
    assert (a.tanh())._op is (b.tanh())._op
    assert autograd.dot([a], [b])._op is autograd.dot([c], [d])._op


# -- recorded_sweep: backward() step by step, for the step-through page --------------------


def _backward_watched(root):
    """root.backward() itself, with every rule wrapped to note (node, parents, before,
    after) around it: what recorded_sweep must reproduce."""
    noted = []
    for node in topological_order(root):
        if not node.parents:
            continue

        def watched(node, rule=node._op.float_rule):
            parents = list({id(p): p for p in node.parents}.values())
            before = tuple(p.grad for p in parents)
            rule(node)
            noted.append((node, tuple(parents), before, tuple(p.grad for p in parents)))

        node._op = types.SimpleNamespace(float_rule=watched)  # this node's only
    root.backward()
    return noted


def _reused_graph(x=0.75):
    a = Value(x, label="a")
    return a * a + a


GRAPHS = {
    "a*a + a": _reused_graph,
    "every op": lambda: all_ops_graph(Value(0.3), Value(-0.7)),
    "random": lambda: random_graph(4, size=120),
}


@pytest.mark.parametrize("build", GRAPHS.values(), ids=GRAPHS)
def test_recorded_sweep_is_backward_step_by_step_bit_for_bit(build):
    recorded, watched = build(), build()
    steps = autograd.engine.recorded_sweep(recorded)
    expected = _backward_watched(watched)
    assert len(steps) == len(expected) == sum(1 for n in topological_order(recorded) if n.parents)
    index = {id(n): i for i, n in enumerate(topological_order(recorded))}
    index_watched = {id(n): i for i, n in enumerate(topological_order(watched))}
    for (node, parents, before, after), (w_node, w_parents, w_before, w_after) in zip(
        steps, expected
    ):
        assert index[id(node)] == index_watched[id(w_node)]
        assert [index[id(p)] for p in parents] == [index_watched[id(p)] for p in w_parents]
        # repr: bit for bit, and nan == nan
        assert list(map(repr, before)) == list(map(repr, w_before))
        assert list(map(repr, after)) == list(map(repr, w_after))


def test_recorded_sweep_of_a_reused_node_shows_each_accumulation_into_it():
    root = _reused_graph(0.75)  # y = a*a + a: dy/da = 2a + 1
    (add, add_parents, add_before, add_after), (mul, mul_parents, mul_before, mul_after) = (
        autograd.engine.recorded_sweep(root)
    )
    a = mul.parents[0]
    assert add is root and mul_parents == (a,)  # a * a: one parent, listed once
    assert add_parents == (mul, a) and add_before == (0.0, 0.0) and add_after == (1.0, 1.0)
    assert mul_before == (1.0,) and mul_after == (1.0 + 2 * 0.75,)
    root.backward()
    assert a.grad == mul_after[0]


def test_recorded_sweep_records_as_if_from_zero_and_puts_every_gradient_back():
    root = all_ops_graph(Value(0.3), Value(-0.7))
    root.backward()
    root.backward()  # interior and leaf gradients all nonzero now
    nodes = topological_order(root)
    nodes[0].grad = float("nan")
    held = [repr(node.grad) for node in nodes]
    steps = autograd.engine.recorded_sweep(root)
    assert [repr(node.grad) for node in nodes] == held
    fresh = all_ops_graph(Value(0.3), Value(-0.7))
    fresh.backward()
    last = {}
    for _, parents, _, after in steps:
        last.update(zip(map(id, parents), after))
    final = [last.get(id(node), 1.0 if node is root else 0.0) for node in nodes]
    assert list(map(repr, final)) == list(map(repr, every_grad(fresh)))


def test_recorded_sweep_of_a_leaf_is_empty_and_leaves_its_gradient():
    x = Value(2.0)
    x.grad = 3.0
    assert autograd.engine.recorded_sweep(x) == []
    assert x.grad == 3.0


def test_recorded_sweep_that_raises_puts_every_gradient_and_mark_back():
    x = Value(2.0)
    h = x.log()
    y = h * x + h.tanh()
    y.backward()
    held = every_grad(y)
    x.data = 0.0  # log's rule divides by zero mid-sweep
    with pytest.raises(ZeroDivisionError):
        autograd.engine.recorded_sweep(y)
    assert every_grad(y) == held
    x.data = 2.0
    assert len(autograd.engine.recorded_sweep(y)) == 4
