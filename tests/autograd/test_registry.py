"""The op registry: every registered op's two rules agree with each other and with
central finite differences, to first and second order, and the inlined copies of
node creation build exactly what ``_node`` builds.

Nothing here lists the ops by hand: a new op registered with its ``Example``s is
covered by every test in this file without editing it.
"""

import math
import random

import pytest

import autograd
from autograd import Value, detect_anomaly, enable_grad, gc_policy, grad, grad_mode, no_grad, value
from autograd.checkpointing import OUTPUT, SEGMENT
from autograd.ops import LEAF, Op, register, registered_ops

OPS = registered_ops()
CASES = [(op, i) for op in OPS for i in range(len(op.examples))]
CASE_IDS = [f"{op.label}-{i}" for op, i in CASES]
# A checkpoint's two ops come as a pair (outputs whose parent is a segment node) and
# cannot be built from leaves alone, so they have no Example; they are the only ops
# exempt, and tests/autograd/test_checkpoint.py holds them to runs without checkpointing.
PAIRED = {SEGMENT, OUTPUT}
RANDOM_POINTS = 6
G = 0.75  # the output gradient the rules are given: not 1, so a rule that drops it shows
ROUNDING = 2.2e-16


def step(x):
    """The finite-difference step for an operand of value ``x``: relative, never 0."""
    return 1e-6 * abs(x) if x != 0.0 else 1e-6


def build(op, example, point):
    leaves = [Value(x) for x in point]
    node = example.build(*leaves)
    assert node._op is op, f"{op!r}'s example built a {node._op!r} node"
    assert node.parents == tuple(leaves), f"{op!r}'s example must use each leaf once, in order"
    return node, leaves


def float_rule_shares(op, example, point):
    """What the float rule adds into each parent's grad, given the output gradient G."""
    node, leaves = build(op, example, point)
    node.grad = G
    op.float_rule(node)
    return [leaf.grad for leaf in leaves]


def random_points(example, rng):
    points = []
    while len(points) < RANDOM_POINTS:
        point = tuple(rng.uniform(lo, hi) for lo, hi in zip(example.low, example.high))
        if all(abs(x - k) > 1e-3 for x in point for k in example.kinks):
            points.append(point)
    return points


def close(a, b, tolerance):
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tolerance


def central_difference(f, point, j):
    """(f(x + h e_j) - f(x - h e_j)) / 2h for a list-valued f, and the rounding bound."""
    h = step(point[j])
    up = list(point)
    down = list(point)
    up[j] += h
    down[j] -= h
    f_up, f_down = f(tuple(up)), f(tuple(down))
    differences = [(u - d) / (2 * h) for u, d in zip(f_up, f_down)]
    rounding = [4 * ROUNDING * max(abs(u), abs(d)) / h for u, d in zip(f_up, f_down)]
    return differences, rounding


def test_the_registry_holds_every_op_a_node_can_hold_and_each_has_an_example():
    made = {
        (Value(1.0) + Value(2.0))._op, (Value(1.0) * 3)._op, Value(0.5).relu()._op,
        autograd.dot([Value(1.0)], [2.0])._op, autograd.sum([Value(1.0), 2.0])._op,
    }
    assert made <= set(OPS)
    assert LEAF not in OPS
    assert PAIRED <= set(OPS)
    for op in OPS:
        assert op.examples or op in PAIRED, f"{op!r} has no Example: the tests cannot exercise it"
        assert op.name and op.label and op.saved


def test_registering_an_op_twice_or_without_both_rules_is_refused():
    with pytest.raises(ValueError, match="registered already"):
        register(OPS[0])
    with pytest.raises(ValueError, match="both a float rule and a Value rule"):
        register(Op("half", lambda node: None, None))
    assert registered_ops() == OPS


@pytest.mark.parametrize("op, index", CASES, ids=CASE_IDS)
def test_float_rule_value_rule_and_finite_differences_agree(op, index):
    example = op.examples[index]
    rng = random.Random(f"{op.label}-{index}")
    for point in random_points(example, rng) + list(example.edges):
        first = float_rule_shares(op, example, point)

        # 1. The float rule against central finite differences of the forward.
        with no_grad():
            def forward(p):
                return [op_of(example, p).data]

            for j, d in enumerate(first):
                (numeric,), (rounding,) = central_difference(forward, point, j)
                tolerance = 1e-6 * abs(d) + G * rounding + 1e-12
                assert close(G * numeric, d, tolerance), (
                    f"{op!r} at {point}: float rule gives {d!r} for operand {j}, "
                    f"finite differences {G * numeric!r}"
                )

        # 2. The Value rule gives the same first derivative as the float rule ...
        node, leaves = build(op, example, point)
        g = Value(G)
        with enable_grad():
            shares = op.value_rule(node, g)
        assert len(shares) == len(leaves) and all(type(s) is Value for s in shares)
        for j, (share, d) in enumerate(zip(shares, first)):
            assert close(share.data, d, 1e-12 * abs(d) + 1e-300), (
                f"{op!r} at {point}: Value rule gives {share.data!r} for operand {j}, "
                f"float rule {d!r}"
            )
            # ... is linear in the output gradient ...
            (by_g,) = grad(share, [g])
            assert close(G * by_g, d, 1e-12 * abs(d) + 1e-300)

        # 3. ... and its own derivative is the finite difference of the first.
        def first_derivatives(p):
            return float_rule_shares(op, example, p)

        for j in range(len(leaves)):
            numeric, rounding = central_difference(first_derivatives, point, j)
            for i, share in enumerate(shares):
                analytic = grad(share, leaves)[j]
                tolerance = 1e-5 * abs(analytic) + rounding[i] + 1e-9
                assert close(analytic, numeric[i], tolerance), (
                    f"{op!r} at {point}: d(share {i})/d(operand {j}) is {analytic!r} by the "
                    f"Value rule, {numeric[i]!r} by finite differences of the float rule"
                )


def op_of(example, point):
    return example.build(*[Value(x) for x in point])


@pytest.mark.parametrize("op, index", CASES, ids=CASE_IDS)
def test_both_rules_give_the_documented_derivatives_where_differences_cannot(op, index):
    example = op.examples[index]
    for point, documented in example.documented:
        first = float_rule_shares(op, example, point)
        node, leaves = build(op, example, point)
        with enable_grad():
            shares = op.value_rule(node, Value(G))
        for j, expected in enumerate(documented):
            assert close(first[j], G * expected, 0.0), (op, point, j, first[j])
            assert close(shares[j].data, G * expected, 0.0), (op, point, j, shares[j].data)


# -- the inlined copies of _node ------------------------------------------------------------

# Each hot forward that inlines _node, and the _node call it stands for.
INLINED = {
    "x + c": (lambda x: x + 2.5, lambda x: value._node(x.data + 2.5, x, value.ADD_CONSTANT, 2.5)),
    "x * c": (lambda x: x * 2.5, lambda x: value._node(x.data * 2.5, x, value.MUL_CONSTANT, 2.5)),
    "relu": (
        lambda x: x.relu(),
        lambda x: value._node(autograd.floatmath.relu(x.data), x, value.RELU, None),
    ),
}
SLOTS = Value.__slots__


def slots(v):
    return {name: getattr(v, name) for name in SLOTS}


@pytest.mark.parametrize("name", INLINED)
@pytest.mark.parametrize("x", [1.5, -1.5, 0.0, -0.0, math.inf, -math.inf, math.nan, 1e-310])
def test_an_inlined_node_has_the_same_slots_as_node_makes(name, x):
    inlined, reference = INLINED[name]
    operand = Value(x)
    a, b = inlined(operand), reference(operand)
    assert type(a) is type(b) is Value
    got, expected = slots(a), slots(b)
    for key in ("_data", "_saved"):
        g, e = got.pop(key), expected.pop(key)
        assert repr(g) == repr(e), f"{name} at {x!r}: {key} {g!r} != {e!r}"  # nan, -0.0 too
    assert got["_parents"] is expected["_parents"] is operand
    assert got == expected


@pytest.mark.parametrize("name", INLINED)
def test_an_inlined_node_is_a_leaf_under_no_grad_like_node(name):
    inlined, reference = INLINED[name]
    x = Value(0.5)
    with no_grad():
        a, b = inlined(x), reference(x)
    for v in (a, b):
        assert v._parents == () and v._op is LEAF and v._saved is None and v.grad == 0.0


@pytest.mark.parametrize("name", INLINED)
def test_an_inlined_node_remembers_its_creation_in_anomaly_mode_like_node(name):
    inlined, reference = INLINED[name]
    x = Value(0.5)
    with detect_anomaly():
        a, b = inlined(x), reference(x)
        assert grad_mode.creation_site(a) is not None
        assert grad_mode.creation_site(b) is not None
        assert a._op is b._op and a.parents == b.parents == (x,)


@pytest.mark.parametrize("name", INLINED)
def test_an_inlined_node_puts_the_gc_hook_back_like_node(name, monkeypatch):
    inlined, _ = INLINED[name]
    calls = []
    monkeypatch.setattr(gc_policy, "is_watching", lambda: False)
    monkeypatch.setattr(gc_policy, "start_watching", lambda: calls.append(name))
    grad_mode.request_slow_path(+1)  # keeps node creation on its slow path
    try:
        inlined(Value(0.5))
    finally:
        grad_mode.request_slow_path(-1)
    assert calls == [name]


# -- the code templates: compiled replay against the engine ---------------------------------

SPECIAL = (0.0, -0.0, math.nan, math.inf, -math.inf, 1e-310)


def special_points(example):
    """Each operand in turn set to each special float, the others at the middle of the range."""
    middle = tuple((lo + hi) / 2 for lo, hi in zip(example.low, example.high))
    points = []
    for j in range(example.arity):
        for x in SPECIAL:
            point = list(middle)
            point[j] = x
            points.append(tuple(point))
    return points


def run_with_grads(run, point, start_grad):
    """(value, leaf grads) as reprs after ``run(leaves)``, or the error it raises."""
    leaves = [Value(x) for x in point]
    for leaf in leaves:
        leaf.grad = start_grad
    try:
        data = run(leaves)
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        return type(error), str(error)
    return repr(data), [repr(leaf.grad) for leaf in leaves]


def dynamic_run(example, point, start_grad):
    def run(leaves):
        out = example.build(*leaves)
        out.backward()
        return out.data

    return run_with_grads(run, point, start_grad)


def compiled_run(compiled, point, start_grad):
    return run_with_grads(lambda leaves: compiled(*leaves), point, start_grad)


@pytest.mark.parametrize("op, index", CASES, ids=CASE_IDS)
def test_compiled_code_gives_the_engines_value_and_gradients_bit_for_bit(op, index):
    example = op.examples[index]
    rng = random.Random(f"compiled-{op.label}-{index}")
    compiled = autograd.compile(example.build)
    forward_only = autograd.compile(example.build, grad=False)
    points = random_points(example, rng) + list(example.edges) + special_points(example)
    points += [point for point, _ in example.documented]
    for point in points:
        for start_grad in (0.0, -0.0, 0.25):
            expected = dynamic_run(example, point, start_grad)
            got = compiled_run(compiled, point, start_grad)
            assert got == expected, f"{op!r} at {point}, grads from {start_grad}: {got}"
        # Numbers as inputs, and the forward-only program, give the same value.
        try:
            value = repr(forward_only(*point))
        except (ValueError, ZeroDivisionError, OverflowError) as error:
            value = (type(error), str(error))
        failed = isinstance(expected[0], type)
        assert value == (expected if failed else expected[0]), f"{op!r} at {point}"
    assert compiled.cache_size == 1
