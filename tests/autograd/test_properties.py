"""Property tests: random expression trees over every operation, checked three ways.

1. Every leaf's gradient from ``backward()`` matches central finite differences.
2. Calling ``backward()`` twice doubles every gradient in the graph.
3. A subexpression shared by two paths gets the sum of both paths' contributions.

Trees use each operation through a wrapper that keeps it inside its domain and keeps
values moderate, so finite differences are valid: ``log(x*x + 0.5)``,
``sqrt(x*x + 0.1)``, ``a / (b*b + 1)``, ``exp(tanh(x))``, positive bases for real and
Value exponents. ReLU and |x| stay exact by rejecting any example whose perturbed
evaluations cross a kink (or come within 1e-3 of one).
"""

import functools
import math

from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autograd
from autograd import Value, numerical_grad, topological_order

MAX_MAGNITUDE = 1e4  # reject trees whose intermediate values get larger than this
KINK_MARGIN = 1e-3  # reject relu/abs pre-activations closer than this to 0
EPS = 1e-6

UNARY = ["neg", "exp", "log", "tanh", "sigmoid", "relu", "sqrt", "abs"]
BINARY = ["add", "sub", "mul", "div", "pow"]
WITH_CONSTANT = ["add_c", "sub_c", "mul_c", "div_c"]


class Trace:
    """What one evaluation saw: every intermediate value and every kink pre-activation."""

    def __init__(self):
        self.values = []
        self.kinks = []

    def ok(self):
        return all(math.isfinite(v) and abs(v) < MAX_MAGNITUDE for v in self.values) and all(
            abs(k) > KINK_MARGIN for k in self.kinks
        )


def evaluate(tree, xs, trace):
    """The Value (or number, for a constant) that ``tree`` denotes at leaves ``xs``."""
    kind = tree[0]
    if kind == "leaf":
        return xs[tree[1]]
    if kind == "const":
        return tree[1]
    if kind in UNARY:
        t = evaluate(tree[1], xs, trace)
        if kind == "neg":
            out = -t
        elif kind == "exp":
            out = t.tanh().exp()
        elif kind == "log":
            out = (t * t + 0.5).log()
        elif kind == "tanh":
            out = t.tanh()
        elif kind == "sigmoid":
            out = t.sigmoid()
        elif kind == "relu":
            trace.kinks.append(t.data)
            out = t.relu()
        elif kind == "sqrt":
            out = (t * t + 0.1).sqrt()
        else:
            trace.kinks.append(t.data)
            out = abs(t)
    elif kind == "pow_number":  # positive base, any real exponent
        _, sub, exponent = tree
        t = evaluate(sub, xs, trace)
        out = (t * t + 0.5) ** exponent
    elif kind == "pow_integer":  # any base, small non-negative integer exponent
        _, sub, exponent = tree
        out = evaluate(sub, xs, trace) ** exponent
    elif kind == "number_pow":  # c ** v with c > 0
        _, sub, base = tree
        out = base ** (2.0 * evaluate(sub, xs, trace).tanh())
    elif kind in WITH_CONSTANT:
        _, sub, c, reflected = tree
        t = evaluate(sub, xs, trace)
        if kind == "add_c":
            out = c + t if reflected else t + c
        elif kind == "sub_c":
            out = c - t if reflected else t - c
        elif kind == "mul_c":
            out = c * t if reflected else t * c
        else:
            out = c / (t * t + 1.0) if reflected else t / c
    elif kind in BINARY:
        a = evaluate(tree[1], xs, trace)
        b = evaluate(tree[2], xs, trace)
        if kind == "add":
            out = a + b
        elif kind == "sub":
            out = a - b
        elif kind == "mul":
            out = a * b
        elif kind == "div":
            out = a / (b * b + 1.0)
        else:
            out = (a * a + 0.5) ** b.tanh()
    elif kind == "sum":
        out = autograd.sum([evaluate(item, xs, trace) for item in tree[1]])
    elif kind == "dot":
        _, pairs, bias = tree
        ws = [evaluate(w, xs, trace) for w, _ in pairs]
        xs_ = [evaluate(x, xs, trace) for _, x in pairs]
        out = autograd.dot(ws, xs_, bias=None if bias is None else evaluate(bias, xs, trace))
    else:  # pragma: no cover
        raise AssertionError(f"unknown node {tree!r}")
    trace.values.append(out.data)
    return out


def as_function(tree, traces=None):
    """f(*leaves) -> Value for ``tree``; each call's Trace goes into ``traces``."""

    def f(*xs):
        trace = Trace()
        out = evaluate(tree, xs, trace)
        if traces is not None:
            traces.append(trace)
        return out if isinstance(out, Value) else Value(out)

    return f


small_constant = st.floats(-2.0, 2.0, allow_subnormal=False)
nonzero_constant = st.one_of(st.floats(0.25, 3.0), st.floats(-3.0, -0.25))


@functools.cache  # one strategy object per leaf count
def trees(n_leaves):
    leaf = st.tuples(st.just("leaf"), st.integers(0, n_leaves - 1))
    constant = st.tuples(st.just("const"), small_constant)

    def extend(children):
        item = st.one_of(children, children, constant)
        return st.one_of(
            # one branch per operation, so each is drawn about equally often
            *[st.tuples(st.just(kind), children) for kind in UNARY],
            *[st.tuples(st.just(kind), children, children) for kind in BINARY],
            *[
                st.tuples(st.just(kind), children, nonzero_constant, st.booleans())
                for kind in WITH_CONSTANT
            ],
            st.tuples(
                st.just("pow_number"),
                children,
                st.one_of(st.floats(-2.5, 2.5, allow_subnormal=False), st.integers(-3, 3)),
            ),
            st.tuples(st.just("pow_integer"), children, st.integers(0, 3)),
            st.tuples(st.just("number_pow"), children, st.floats(0.2, 3.0)),
            # sum and dot have one rule per mix of Values and numbers: draw each mix
            st.tuples(st.just("sum"), st.lists(item, max_size=4)),
            st.tuples(st.just("sum"), st.lists(children, min_size=1, max_size=4)),
            st.builds(
                lambda values, c: ("sum", [*values, ("const", c)]),
                st.lists(children, min_size=1, max_size=3),
                nonzero_constant,
            ),
            *[
                st.tuples(
                    st.just("dot"),
                    st.lists(st.tuples(w, x), min_size=minimum, max_size=4),
                    st.one_of(st.none(), item),
                )
                for w, x, minimum in [
                    (item, item, 0),
                    (children, children, 1),
                    (children, constant, 1),
                    (constant, children, 1),
                ]
            ],
            st.tuples(
                st.just("dot"),
                st.lists(
                    st.one_of(st.tuples(children, constant), st.tuples(constant, children)),
                    min_size=2,
                    max_size=4,
                ),
                st.one_of(st.none(), item),
            ),
        )

    return st.recursive(leaf, extend, max_leaves=16)


@st.composite
def expressions(draw, min_leaves=1, max_leaves=4):
    """(tree, point): a random expression tree and a point to differentiate it at."""
    n = draw(st.integers(min_leaves, max_leaves))
    tree = draw(trees(n))
    for _ in range(draw(st.integers(0, 2))):  # hypothesis favours small trees: grow some
        tree = (draw(st.sampled_from(BINARY)), tree, draw(trees(n)))
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
    assume(base.ok() and isinstance(out, Value))

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
    assume(isinstance(shared, Value))
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
