"""grad(create_graph=True) and the functional layer: higher derivatives checked against
closed forms and finite differences."""

import math
import random

import pytest

import autograd
from autograd import Value, grad
from autograd.functional import grad_of, hessian, hvp, jacobian, value_and_grad


def derivatives(f, x0, order=3):
    """[f'(x0), f''(x0), ...] by repeated grad(create_graph=True)."""
    x = Value(x0)
    y = f(x)
    out = []
    for _ in range(order):
        (y,) = grad(y, [x], create_graph=True)
        out.append(y.data)
    return out


def close(a, b, rel=1e-9, abs_=1e-12):
    return a == pytest.approx(b, rel=rel, abs=abs_)


# (name, f, x0, [f', f'', f'''] at x0 in closed form)
T = math.tanh(0.7)
S = 1 / (1 + math.exp(-0.4))
CLOSED_FORMS = [
    ("x + c", lambda x: x + 2.5, 0.3, [1.0, 0.0, 0.0]),
    ("c - x", lambda x: 2.5 - x, 0.3, [-1.0, 0.0, 0.0]),
    ("x * x", lambda x: x * x, 0.3, [0.6, 2.0, 0.0]),
    ("x * x * x", lambda x: x * x * x, 0.3, [0.27, 1.8, 6.0]),
    ("c * x", lambda x: 3 * x, 0.3, [3.0, 0.0, 0.0]),
    ("x / c", lambda x: x / 4, 0.3, [0.25, 0.0, 0.0]),
    ("c / x", lambda x: 2 / x, 0.5, [-8.0, 32.0, -192.0]),
    ("x / (x + 1)", lambda x: x / (x + 1), 1.0, [0.25, -0.25, 0.375]),
    ("-x", lambda x: -x, 0.3, [-1.0, 0.0, 0.0]),
    ("x ** 4", lambda x: x**4, 0.5, [0.5, 3.0, 12.0]),
    ("x ** 0", lambda x: x**0, 0.0, [0.0, 0.0, 0.0]),
    ("x ** -1", lambda x: x**-1, 0.5, [-4.0, 16.0, -96.0]),
    ("x ** 2.5", lambda x: x**2.5, 2.0, [2.5 * 2**1.5, 3.75 * 2**0.5, 1.875 * 2**-0.5]),
    ("2 ** x", lambda x: 2**x, 0.3, [2**0.3 * math.log(2) ** k for k in (1, 2, 3)]),
    ("x ** x", lambda x: x**x, 1.0, [1.0, 2.0, 3.0]),
    ("exp", lambda x: x.exp(), 0.3, [math.exp(0.3)] * 3),
    ("log", lambda x: x.log(), 0.5, [2.0, -4.0, 16.0]),
    ("tanh", lambda x: x.tanh(), 0.7,
     [1 - T**2, -2 * T * (1 - T**2), (1 - T**2) * (6 * T**2 - 2)]),
    ("sigmoid", lambda x: x.sigmoid(), 0.4,
     [S * (1 - S), S * (1 - S) * (1 - 2 * S), S * (1 - S) * (1 - 6 * S + 6 * S**2)]),
    ("relu > 0", lambda x: (x * x).relu(), 0.5, [1.0, 2.0, 0.0]),
    ("relu < 0", lambda x: (x - 1).relu(), 0.5, [0.0, 0.0, 0.0]),
    ("sqrt", lambda x: x.sqrt(), 4.0, [0.25, -1 / 32, 3 / 256]),
    ("abs < 0", lambda x: abs(x * x * x), -0.5, [-0.75, 3.0, -6.0]),
    ("sum", lambda x: autograd.sum([x, x * x, 3.0]), 0.3, [1.6, 2.0, 0.0]),
    ("dot", lambda x: autograd.dot([x, x, 2.0], [x, 3.0, x], bias=x), 0.3,
     [2 * 0.3 + 3 + 2 + 1, 2.0, 0.0]),
]


@pytest.mark.parametrize("name,f,x0,expected", CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
def test_first_second_and_third_derivatives_match_closed_forms(name, f, x0, expected):
    got = derivatives(f, x0)
    for order, (g, e) in enumerate(zip(got, expected), start=1):
        assert close(g, e), f"{name}: derivative {order} is {g}, expected {e}"


def test_value_exponent_gets_second_derivatives_in_both_arguments():
    # f(a, b) = a ** b: f_b = a^b ln a, f_bb = a^b ln(a)^2, f_ab = a^(b-1) (1 + b ln a)
    a0, b0 = 1.7, 2.3
    a, b = Value(a0), Value(b0)
    da, db = grad(a**b, [a, b], create_graph=True)
    assert close(da.data, b0 * a0 ** (b0 - 1))
    assert close(db.data, a0**b0 * math.log(a0))
    (d_bb,) = grad(db, [b])
    d_ab, d_ba = grad(da, [b])[0], grad(db, [a])[0]
    assert close(d_bb, a0**b0 * math.log(a0) ** 2)
    assert close(d_ab, a0 ** (b0 - 1) * (1 + b0 * math.log(a0)))
    assert close(d_ba, d_ab)


def test_division_by_a_value_gets_mixed_second_derivatives():
    # f = a / b: f_ab = -1/b^2, f_bb = 2a/b^3
    a, b = Value(1.5), Value(-0.8)
    da, db = grad(a / b, [a, b], create_graph=True)
    assert close(grad(da, [b])[0], -1 / 0.64)
    assert close(grad(db, [b])[0], 2 * 1.5 / (-0.8) ** 3)
    assert close(grad(db, [a])[0], -1 / 0.64)


def random_function(seed):
    """A smooth function of three Values built from random ops."""
    rng = random.Random(seed)
    unary = [
        lambda v: v.tanh(),
        lambda v: v.sigmoid(),
        lambda v: (v * 0.3).exp(),
        lambda v: (v * v + 1).log(),
        lambda v: (v * v + 0.5).sqrt(),
    ]
    binary = [
        lambda p, q: p * q,
        lambda p, q: p + q,
        lambda p, q: p - q * 0.5,
        lambda p, q: p / (q * q + 1),
        lambda p, q: autograd.dot([p, q], [q, 0.7], bias=p),
    ]
    plan = [(rng.randrange(5), rng.randrange(5), rng.randrange(3), rng.randrange(3))
            for _ in range(4)]

    def f(x, y, z):
        vs = [x, y, z]
        for u, b, i, j in plan:
            vs.append(unary[u](binary[b](vs[-1 - i], vs[-1 - j])))
        return autograd.sum(vs[3:]) + x * y * z

    return f


@pytest.mark.parametrize("seed", range(6))
def test_mixed_partials_are_symmetric(seed):
    h = hessian(random_function(seed), [0.3, -0.6, 0.9])
    for i in range(3):
        for j in range(3):
            assert h[i][j] == pytest.approx(h[j][i], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_hvp_equals_hessian_times_v_and_finite_difference_of_gradients(seed):
    f = random_function(seed)
    xs, v = [0.3, -0.6, 0.9], [0.5, -1.0, 2.0]
    got = hvp(f, xs, v)
    h = hessian(f, xs)
    by_matrix = [sum(h[i][j] * v[j] for j in range(3)) for i in range(3)]
    eps = 1e-5
    g = grad_of(f)
    plus = g(*[x + eps * c for x, c in zip(xs, v)])
    minus = g(*[x - eps * c for x, c in zip(xs, v)])
    by_differences = [(p - m) / (2 * eps) for p, m in zip(plus, minus)]
    assert got == pytest.approx(by_matrix, rel=1e-9, abs=1e-12)
    assert got == pytest.approx(by_differences, rel=1e-5, abs=1e-7)


def test_grad_leaves_every_grad_untouched():
    x, w = Value(0.5), Value(-1.5)
    x.grad, w.grad = 7.0, -3.0
    h = (x * w).tanh()
    y = h * h + x
    y.backward()
    before = [(n, n.grad) for n in autograd.topological_order(y)]
    grad(y, [x, w])
    grad(y, [x, w], create_graph=True)
    assert [(n, n.grad) for n in autograd.topological_order(y)] == before


def test_grad_matches_backward():
    x, w, b = Value(0.5), Value(-1.5), Value(0.2)
    y = (x * w + b).tanh() * x
    got = grad(y, [x, w, b])
    y.backward()
    assert got == [x.grad, w.grad, b.grad]


def test_grad_of_an_unrelated_input_is_zero():
    x, unrelated = Value(2.0), Value(5.0)
    y = x * x
    assert grad(y, [x, unrelated]) == [4.0, 0.0]
    first, second = grad(y, [x, unrelated], create_graph=True)
    assert isinstance(second, Value) and second.data == 0.0
    assert first.data == 4.0


def test_grad_with_respect_to_an_intermediate_node():
    x = Value(0.3)
    h = x * 3
    y = h * h
    assert grad(y, [h]) == [pytest.approx(2 * 0.9)]


def test_create_graph_entries_are_values_and_float_entries_are_floats():
    x = Value(1.0)
    y = x.exp()
    assert all(isinstance(g, float) for g in grad(y, [x]))
    assert all(isinstance(g, Value) for g in grad(y, [x], create_graph=True))


def test_grad_rejects_non_values():
    with pytest.raises(TypeError, match="inputs\\[0\\]"):
        grad(Value(1.0), [1.0])
    with pytest.raises(TypeError, match="output"):
        grad(1.0, [Value(1.0)])


def test_create_graph_records_even_inside_no_grad():
    x = Value(0.4)
    y = x.tanh()
    with autograd.no_grad():
        (g,) = grad(y, [x], create_graph=True)
    (second,) = grad(g, [x])
    assert close(second, -2 * math.tanh(0.4) * (1 - math.tanh(0.4) ** 2))


def test_value_and_grad_and_grad_of_take_and_return_floats():
    f = value_and_grad(lambda a, b: a * b + a.exp())
    value, gradient = f(1.0, 2.0)
    assert value == pytest.approx(2 + math.e)
    assert gradient == pytest.approx([2 + math.e, 1.0])
    assert grad_of(lambda a: a * a * a)(2.0) == [12.0]


def test_jacobian_of_a_vector_function():
    jac = jacobian(lambda a, b: [a * b, a + b, a.tanh()], [1.0, 2.0])
    assert jac == [[2.0, 1.0], [1.0, 1.0], [pytest.approx(1 - math.tanh(1.0) ** 2), 0.0]]


def test_hvp_checks_the_length_of_v():
    with pytest.raises(ValueError, match="v has 1 entries but there are 2 inputs"):
        hvp(lambda a, b: a * b, [1.0, 2.0], [1.0])


def test_newtons_method_converges_quadratically():
    # Minimise f(x) = exp(x) - 2x (minimum at ln 2) with x <- x - f'(x) / f''(x).
    def f(x):
        return x.exp() - 2 * x

    target = math.log(2)
    x0 = 1.5
    errors = []
    for _ in range(5):
        x = Value(x0)
        (d1,) = grad(f(x), [x], create_graph=True)
        (d2,) = grad(d1, [x])
        x0 -= d1.data / d2
        errors.append(abs(x0 - target))
    # Quadratic convergence: e_{k+1} <= C e_k^2 with a modest C (here f'''/2f'' = 1/2).
    for before, after in zip(errors, errors[1:]):
        if before > 1e-7:
            assert after <= 1.0 * before**2
    assert errors[4] < 1e-12


def test_grad_of_a_leaf_and_of_the_output_itself():
    x = Value(2.0)
    assert grad(x, [x, Value(1.0)]) == [1.0, 0.0]
    y = x * 3
    assert grad(y, [y, x]) == [1.0, 3.0]


def test_grad_leaves_earlier_gradients_of_leaves_and_interior_nodes_exactly():
    x, w = Value(0.5), Value(-2.0)
    h = x * w
    y = h.tanh() + x
    y.backward()  # every node now holds a gradient
    before = {id(n): n.grad for n in autograd.topological_order(y)}
    assert grad(y, [w, h, x]) == pytest.approx([w.grad, h.grad, x.grad])
    assert {id(n): n.grad for n in autograd.topological_order(y)} == before
    y.backward()  # and backward still works normally afterwards: it doubles
    assert x.grad == pytest.approx(2 * before[id(x)])


def test_grad_matches_backward_on_a_graph_with_shared_parameters():
    w = Value(0.7)
    xs = [Value(float(i)) for i in range(5)]
    y = autograd.sum([(w * x).tanh() * w for x in xs])
    got = grad(y, [w, *xs])
    y.backward()
    assert got == [w.grad] + [x.grad for x in xs]
