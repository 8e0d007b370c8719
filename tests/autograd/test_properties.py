"""Property tests: random expression trees over every registered operation, checked three ways.

1. Every leaf's gradient from ``backward()`` matches central finite differences.
2. Calling ``backward()`` twice doubles every gradient in the graph.
3. A subexpression shared by two paths gets the sum of both paths' contributions.

The operations come from the op registry: each tree node applies one ``Example`` of a
registered op (so an op added to the registry is drawn here without editing this file).
Each operand is first squashed into the example's domain, ``center + half * tanh(t)``,
which keeps values moderate and finite differences valid. ReLU and |x| stay exact by
rejecting any example whose perturbed evaluations cross a kink (or come within 1e-3 of
one).
"""

import functools
import math

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd import Value, numerical_grad, topological_order
from autograd.ops import registered_ops

MAX_MAGNITUDE = 1e4  # reject trees whose intermediate values get larger than this
KINK_MARGIN = 1e-3  # reject relu/abs pre-activations closer than this to 0
EPS = 1e-6

# Every (op, example) of the registry, each drawn about equally often.
EXAMPLES = [example for op in registered_ops() for example in op.examples]


class Trace:
    """What one evaluation saw: every intermediate value and every kink distance."""

    def __init__(self):
        self.values = []
        self.kinks = []

    def ok(self):
        return all(math.isfinite(v) and abs(v) < MAX_MAGNITUDE for v in self.values) and all(
            abs(k) > KINK_MARGIN for k in self.kinks
        )


def into_domain(t, low, high):
    """``t`` (a Value) squashed into the open interval (low, high)."""
    center, half = (low + high) / 2, (high - low) / 2
    return t.tanh() * half + center


def evaluate(tree, xs, trace):
    """The Value that ``tree`` denotes at leaves ``xs``."""
    if tree[0] == "leaf":
        return xs[tree[1]]
    _, index, children = tree
    example = EXAMPLES[index]
    operands = []
    for child, low, high in zip(children, example.low, example.high):
        operand = into_domain(evaluate(child, xs, trace), low, high)
        trace.kinks.extend(operand.data - k for k in example.kinks)
        operands.append(operand)
    out = example.build(*operands)
    trace.values.append(out.data)
    return out


def as_function(tree, traces=None):
    """f(*leaves) -> Value for ``tree``; each call's Trace goes into ``traces``."""

    def f(*xs):
        trace = Trace()
        out = evaluate(tree, xs, trace)
        if traces is not None:
            traces.append(trace)
        return out

    return f


@functools.cache  # one strategy object per leaf count
def trees(n_leaves):
    leaf = st.tuples(st.just("leaf"), st.integers(0, n_leaves - 1))

    def extend(children):
        return st.one_of(
            *[
                st.tuples(
                    st.just("op"),
                    st.just(index),
                    st.lists(children, min_size=example.arity, max_size=example.arity),
                )
                for index, example in enumerate(EXAMPLES)
            ]
        )

    return st.recursive(leaf, extend, max_leaves=16)


BINARY = [i for i, example in enumerate(EXAMPLES) if example.arity == 2]


@st.composite
def expressions(draw, min_leaves=1, max_leaves=4):
    """(tree, point): a random expression tree and a point to differentiate it at."""
    n = draw(st.integers(min_leaves, max_leaves))
    tree = draw(trees(n))
    for _ in range(draw(st.integers(0, 2))):  # hypothesis favours small trees: grow some
        tree = ("op", draw(st.sampled_from(BINARY)), [tree, draw(trees(n))])
    point = draw(st.lists(st.floats(-2.0, 2.0, allow_subnormal=False), min_size=n, max_size=n))
    return tree, point


def gradients_at(tree, point):
    leaves = [Value(x) for x in point]
    out = as_function(tree)(*leaves)
    out.backward()
    return out, [leaf.grad for leaf in leaves]


def kink_signs(trace):
    return [k > 0 for k in trace.kinks]


@settings(max_examples=300)
@given(expressions())
def test_every_leaf_gradient_matches_central_finite_differences(expression):
    tree, point = expression
    base = Trace()
    evaluate(tree, [Value(x) for x in point], base)
    assume(base.ok())

    out, analytic = gradients_at(tree, point)

    traces = []
    numeric = numerical_grad(as_function(tree, traces), point, eps=EPS)
    # Finite differences are only valid if no perturbation crossed a relu/abs kink.
    assume(all(kink_signs(t) == kink_signs(base) for t in traces))

    scale = max([1.0] + [abs(v) for v in base.values])
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        tolerance = 1e-5 + 1e-4 * max(abs(a), abs(n)) + 1e-9 * scale
        assert abs(a - n) <= tolerance, (
            f"leaf {i}: analytic {a!r}, numeric {n!r} for {tree!r} at {point!r}"
        )


@given(expressions())
def test_backward_twice_doubles_every_gradient_in_a_random_graph(expression):
    tree, point = expression
    base = Trace()
    out = evaluate(tree, [Value(x) for x in point], base)
    assume(base.ok())

    out.backward()
    nodes = topological_order(out)
    first = [node.grad for node in nodes]
    out.backward()
    second = [node.grad for node in nodes]

    scale = 1.0 + max(abs(g) for g in first)
    for node, g1, g2 in zip(nodes, first, second):
        assert math.isclose(g2, 2 * g1, rel_tol=1e-12, abs_tol=1e-12 * scale), (
            f"{node!r}: {g1!r} then {g2!r} in {tree!r} at {point!r}"
        )


@given(expressions(), trees(2))
def test_shared_subexpression_gets_the_sum_over_both_paths(inner_expression, outer):
    # out = B(s, s) with s = A(x) built once. The chain rule over both paths gives
    # d out/dx = (dB/du + dB/dv)(s, s) * dA/dx, with each factor computed separately.
    inner, point = inner_expression
    trace = Trace()
    leaves = [Value(x) for x in point]
    shared = evaluate(inner, leaves, trace)
    out = evaluate(outer, [shared, shared], trace)
    assume(trace.ok())
    out.backward()
    combined = [leaf.grad for leaf in leaves]

    _, (d_u, d_v) = gradients_at(outer, [shared.data, shared.data])
    _, d_inner = gradients_at(inner, point)
    for i, (got, d_a) in enumerate(zip(combined, d_inner)):
        expected = (d_u + d_v) * d_a
        bound = 1e-9 * (1.0 + (abs(d_u) + abs(d_v)) * abs(d_a))
        assert abs(got - expected) <= bound, (
            f"leaf {i}: {got!r} != ({d_u!r} + {d_v!r}) * {d_a!r} for {inner!r} in {outer!r}"
        )
