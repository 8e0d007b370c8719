"""gradcheck and numerical_grad: pass on right gradients, report every input on wrong ones."""

import math
import re

import pytest

import autograd
from autograd import GradcheckError, Value, gradcheck, no_grad, numerical_grad

NUMBER = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|inf|nan)"


def parse_report(message):
    """(analytic, numeric, difference) from every line of a report that has all three."""
    rows = []
    for line in message.splitlines():
        found = [re.search(rf"{word}\D*?({NUMBER})", line) for word in ("analytic", "numeric")]
        difference = re.search(rf"difference\D*?({NUMBER})", line)
        if all(found) and difference:
            rows.append(tuple(float(m.group(1)) for m in (*found, difference)))
    return rows


@pytest.mark.parametrize(
    "f, inputs",
    [
        (lambda x: x * x, [1.5]),
        (lambda x, y: (x * y).exp() / (1 + x**2), [0.3, -1.2]),
        (lambda x, y, z: autograd.dot([x, y], [z, 2.0], bias=x).tanh() * z, [0.3, -1.2, 0.8]),
        (lambda x, y: (x * x + y * y).sqrt().log() + x.sigmoid() - (y**x), [0.7, 1.4]),
        (lambda x: x, [2.0]),
    ],
    ids=["square", "readme", "dot", "mixed", "identity"],
)
def test_gradcheck_returns_true_for_correct_gradients(f, inputs):
    assert gradcheck(f, inputs) is True


def test_gradcheck_accepts_values_as_inputs():
    assert gradcheck(lambda x, y: x * y.tanh(), [Value(0.5), Value(-2.0)]) is True


def test_gradcheck_raises_on_a_rule_that_is_wrong(monkeypatch):
    tanh_op = Value(0.0).tanh()._op

    def wrong_tanh_backward(node):
        (parent,) = node.parents
        parent.grad += node.grad * (1.0 + node.data**2)  # sign error: should be 1 - t**2

    monkeypatch.setattr(tanh_op, "float_rule", wrong_tanh_backward)
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: x.tanh(), [0.5])
    ((analytic, numeric, difference),) = parse_report(str(caught.value))
    t = math.tanh(0.5)
    assert analytic == pytest.approx(1 + t * t, rel=1e-12)
    assert numeric == pytest.approx(1 - t * t, rel=1e-6)
    assert difference == pytest.approx(analytic - numeric, rel=1e-9)


def test_gradcheck_error_lists_every_input_with_analytic_numeric_and_difference():
    # y is detached, so backward gives it 0 while finite differences see x.
    def f(x, y, z):
        return x * y.detach() + z * z

    x, y, z = 1.5, -2.0, 0.25
    with pytest.raises(GradcheckError) as caught:
        gradcheck(f, [x, y, z])
    rows = parse_report(str(caught.value))
    assert len(rows) == 3, str(caught.value)
    expected_analytic = [y, 0.0, 2 * z]
    expected_numeric = [y, x, 2 * z]
    for (analytic, numeric, difference), a, n in zip(rows, expected_analytic, expected_numeric):
        assert analytic == pytest.approx(a, abs=1e-12)
        assert numeric == pytest.approx(n, abs=1e-6)
        assert difference == pytest.approx(analytic - numeric, abs=1e-9)


def test_gradcheck_error_is_raised_for_a_missing_gradient_at_any_position():
    with pytest.raises(GradcheckError):
        gradcheck(lambda a, b, c: a + b + c.detach(), [1.0, 2.0, 3.0])


def test_gradcheck_leaves_the_callers_values_untouched():
    x, y = Value(0.5, label="x"), Value(-1.5, label="y")
    x.grad, y.grad = 0.25, -4.0
    assert gradcheck(lambda a, b: a * b + a.exp(), [x, y])
    with pytest.raises(GradcheckError):
        gradcheck(lambda a, b: a * b.detach(), [x, y])
    assert (x.data, y.data) == (0.5, -1.5)
    assert (x.grad, y.grad) == (0.25, -4.0)
    assert x.parents == () and y.parents == ()


def test_gradcheck_leaves_interior_input_values_and_their_graph_untouched():
    a = Value(0.5)
    h = a * 3.0
    assert gradcheck(lambda v: v.tanh(), [h])
    assert (a.grad, h.grad) == (0.0, 0.0)


def test_gradcheck_uses_its_tolerances_and_step():
    # Central differences of x**3 at 1 with step h give 3 + h**2 exactly (up to rounding).
    cube = lambda x: x**3  # noqa: E731
    with pytest.raises(GradcheckError):
        gradcheck(cube, [1.0], eps=1e-2, atol=1e-6, rtol=1e-6)
    assert gradcheck(cube, [1.0], eps=1e-2, atol=2e-4, rtol=0.0)
    assert gradcheck(cube, [1.0], eps=1e-2, atol=0.0, rtol=1e-4)


def test_gradcheck_works_even_when_called_inside_no_grad():
    with no_grad():
        assert gradcheck(lambda x, y: x * y + x.exp(), [0.5, -1.5]) is True


def test_numerical_grad_uses_central_differences():
    # Forward differences would give 3 + 3h = 3.003; central ones 3 + h**2 = 3.000001.
    (estimate,) = numerical_grad(lambda x: x**3, [1.0], eps=1e-3)
    assert estimate == pytest.approx(3.000001, abs=1e-9)


def test_numerical_grad_estimates_every_partial_derivative():
    estimates = numerical_grad(lambda x, y: x * y + y.exp(), [2.0, 0.5])
    assert estimates == pytest.approx([0.5, 2.0 + math.exp(0.5)], abs=1e-8)


def test_numerical_grad_leaves_the_callers_values_untouched():
    x = Value(0.5)
    x.grad = 1.25
    numerical_grad(lambda v: v * v, [x])
    assert (x.data, x.grad) == (0.5, 1.25)
