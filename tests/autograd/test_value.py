"""Value: construction, every operation against its closed form, errors, edge values.

Expected numbers come from the ``math`` module and hand-derived derivatives, never
from the engine itself.
"""

import math
import re
from fractions import Fraction

import pytest

import autograd
from autograd import Value, gradcheck, no_grad

INF = math.inf
NAN = math.nan


def forward_and_grads(f, *data):
    """f applied to fresh leaves holding ``data``; the output and every leaf's gradient."""
    leaves = [Value(x) for x in data]
    out = f(*leaves)
    out.backward()
    return out, [leaf.grad for leaf in leaves]


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


# -- construction ---------------------------------------------------------------------------


def test_a_new_value_is_a_leaf_with_float_data_zero_grad_and_empty_label():
    v = Value(3)
    assert v.data == 3.0 and type(v.data) is float
    assert v.grad == 0.0 and type(v.grad) is float
    assert v.label == ""
    assert v.op == ""
    assert v.parents == ()


def test_label_is_stored():
    assert Value(1.5, label="x").label == "x"
    assert Value(1.5, "w").label == "w"


def test_other_real_numbers_are_converted_to_float():
    v = Value(Fraction(1, 4))
    assert v.data == 0.25 and type(v.data) is float


@pytest.mark.parametrize(
    "data, type_name",
    [
        (True, "bool"),
        (False, "bool"),
        ("1.0", "str"),
        (None, "NoneType"),
        (1j, "complex"),
        ([1.0], "list"),
        (Value(1.0), "Value"),
    ],
)
def test_non_numbers_and_bools_are_refused_with_a_type_error_naming_the_type(data, type_name):
    with pytest.raises(TypeError, match=type_name):
        Value(data)


def test_a_label_that_is_not_a_string_is_refused():
    with pytest.raises(TypeError):
        Value(1.0, label=3)


def test_data_grad_and_label_are_writable():
    v = Value(1.0)
    v.data, v.grad, v.label = 2.0, 0.5, "renamed"
    assert (v.data, v.grad, v.label) == (2.0, 0.5, "renamed")


def test_value_uses_slots_so_it_has_no_instance_dict():
    v = Value(1.0)
    assert not hasattr(v, "__dict__")
    with pytest.raises(AttributeError):
        v.unexpected_attribute = 1


# -- every operation: forward value and derivative against the closed form ---------------

# (id, f, inputs, expected output, expected d(output)/d(input) for every input)
BINARY_VALUE_CASES = [
    ("a+b", lambda a, b: a + b, (1.5, -0.75), 0.75, (1.0, 1.0)),
    ("a-b", lambda a, b: a - b, (1.5, -0.75), 2.25, (1.0, -1.0)),
    ("a*b", lambda a, b: a * b, (1.5, -0.75), -1.125, (-0.75, 1.5)),
    ("a/b", lambda a, b: a / b, (1.5, -0.75), -2.0, (1 / -0.75, -1.5 / 0.75**2)),
    ("a/b negative numerator", lambda a, b: a / b, (-3.0, 4.0), -0.75, (0.25, 3.0 / 16.0)),
    (
        "a**b",
        lambda a, b: a**b,
        (1.7, 2.3),
        math.pow(1.7, 2.3),
        (2.3 * math.pow(1.7, 1.3), math.pow(1.7, 2.3) * math.log(1.7)),
    ),
    (
        "a**b with base below one and negative exponent",
        lambda a, b: a**b,
        (0.4, -1.5),
        math.pow(0.4, -1.5),
        (-1.5 * math.pow(0.4, -2.5), math.pow(0.4, -1.5) * math.log(0.4)),
    ),
]

CONSTANT_CASES = [
    ("x+c", lambda x: x + 2.5, 1.25, 3.75, 1.0),
    ("c+x", lambda x: 2.5 + x, 1.25, 3.75, 1.0),
    ("x+int", lambda x: x + 2, 1.25, 3.25, 1.0),
    ("x-c", lambda x: x - 2.5, 1.25, -1.25, 1.0),
    ("c-x", lambda x: 2.5 - x, 1.25, 1.25, -1.0),
    ("int-x", lambda x: 3 - x, 1.25, 1.75, -1.0),
    ("x*c", lambda x: x * -3.0, 1.25, -3.75, -3.0),
    ("c*x", lambda x: -3.0 * x, 1.25, -3.75, -3.0),
    ("int*x", lambda x: 4 * x, 1.25, 5.0, 4.0),
    ("x/c", lambda x: x / 4.0, 1.25, 0.3125, 0.25),
    ("c/x", lambda x: 2.0 / x, 1.25, 1.6, -2.0 / 1.25**2),
    ("int/x", lambda x: 3 / x, -0.5, -6.0, -3 / 0.25),
    ("x**2", lambda x: x**2, -1.5, 2.25, -3.0),
    ("x**3 negative base", lambda x: x**3, -1.5, -3.375, 3 * 2.25),
    ("x**-2 negative base", lambda x: x**-2, -0.5, 4.0, -2 * (-0.5) ** -3),
    ("x**0.5", lambda x: x**0.5, 2.25, 1.5, 0.5 / 1.5),
    ("x**-1.5", lambda x: x**-1.5, 0.64, math.pow(0.64, -1.5), -1.5 * math.pow(0.64, -2.5)),
    ("x**fraction", lambda x: x ** Fraction(1, 2), 2.25, 1.5, 1 / 3),
    ("2**x", lambda x: 2**x, 1.5, math.pow(2, 1.5), math.pow(2, 1.5) * math.log(2)),
    ("0.5**x", lambda x: 0.5**x, -1.5, math.pow(0.5, -1.5), math.pow(0.5, -1.5) * math.log(0.5)),
    ("1**x", lambda x: 1.0**x, 3.5, 1.0, 0.0),
]

UNARY_CASES = [
    ("neg", lambda x: -x, 1.25, -1.25, -1.0),
    ("neg of negative", lambda x: -x, -2.0, 2.0, -1.0),
    ("exp", lambda x: x.exp(), 0.7, math.exp(0.7), math.exp(0.7)),
    ("exp of negative", lambda x: x.exp(), -2.3, math.exp(-2.3), math.exp(-2.3)),
    ("log", lambda x: x.log(), 2.5, math.log(2.5), 1 / 2.5),
    ("log below one", lambda x: x.log(), 0.2, math.log(0.2), 5.0),
    ("tanh", lambda x: x.tanh(), 0.8, math.tanh(0.8), 1 / math.cosh(0.8) ** 2),
    ("tanh of negative", lambda x: x.tanh(), -1.3, math.tanh(-1.3), 1 / math.cosh(1.3) ** 2),
    (
        "sigmoid",
        lambda x: x.sigmoid(),
        0.8,
        sigmoid(0.8),
        math.exp(-0.8) / (1 + math.exp(-0.8)) ** 2,
    ),
    (
        "sigmoid of negative",
        lambda x: x.sigmoid(),
        -2.2,
        sigmoid(-2.2),
        math.exp(2.2) / (1 + math.exp(2.2)) ** 2,
    ),
    ("relu of positive", lambda x: x.relu(), 1.5, 1.5, 1.0),
    ("relu of negative", lambda x: x.relu(), -1.5, 0.0, 0.0),
    ("sqrt", lambda x: x.sqrt(), 6.25, 2.5, 0.2),
    ("sqrt below one", lambda x: x.sqrt(), 0.04, 0.2, 2.5),
    ("abs of positive", lambda x: abs(x), 1.5, 1.5, 1.0),
    ("abs of negative", lambda x: abs(x), -1.5, 1.5, -1.0),
]


@pytest.mark.parametrize(
    "f, inputs, expected, expected_grads",
    [pytest.param(*case[1:], id=case[0]) for case in BINARY_VALUE_CASES],
)
def test_binary_operation_between_values_matches_closed_form(f, inputs, expected, expected_grads):
    out, grads = forward_and_grads(f, *inputs)
    assert out.data == pytest.approx(expected, rel=1e-12)
    assert grads == pytest.approx(list(expected_grads), rel=1e-12)


@pytest.mark.parametrize(
    "f, x, expected, expected_grad",
    [pytest.param(*case[1:], id=case[0]) for case in CONSTANT_CASES + UNARY_CASES],
)
def test_operation_with_one_value_matches_closed_form(f, x, expected, expected_grad):
    out, (grad,) = forward_and_grads(f, x)
    assert out.data == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert grad == pytest.approx(expected_grad, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize(
    "f, inputs",
    [pytest.param(case[1], case[2], id=case[0]) for case in BINARY_VALUE_CASES]
    + [pytest.param(case[1], (case[2],), id=case[0]) for case in CONSTANT_CASES + UNARY_CASES],
)
def test_operation_passes_gradcheck(f, inputs):
    assert gradcheck(f, list(inputs)) is True


@pytest.mark.parametrize(
    "f, op",
    [
        (lambda a, b: a + b, "+"),
        (lambda a, b: a + 2.0, "+"),
        (lambda a, b: 2.0 + a, "+"),
        (lambda a, b: a - b, "-"),
        (lambda a, b: a - 2.0, "-"),
        (lambda a, b: 2.0 - a, "-"),
        (lambda a, b: a * b, "*"),
        (lambda a, b: a * 2.0, "*"),
        (lambda a, b: 2.0 * a, "*"),
        (lambda a, b: a / b, "/"),
        (lambda a, b: a / 2.0, "/"),
        (lambda a, b: 2.0 / a, "/"),
        (lambda a, b: a**b, "**"),
        (lambda a, b: a**2, "**"),
        (lambda a, b: 2**a, "**"),
        (lambda a, b: -a, "neg"),
        (lambda a, b: a.exp(), "exp"),
        (lambda a, b: a.log(), "log"),
        (lambda a, b: a.tanh(), "tanh"),
        (lambda a, b: a.sigmoid(), "sigmoid"),
        (lambda a, b: a.relu(), "relu"),
        (lambda a, b: a.sqrt(), "sqrt"),
        (lambda a, b: abs(a), "abs"),
        (lambda a, b: autograd.sum([a, b]), "sum"),
        (lambda a, b: autograd.dot([a], [b]), "dot"),
    ],
)
def test_each_operation_names_itself_in_op(f, op):
    assert f(Value(1.5), Value(2.0)).op == op


def test_result_data_is_always_a_float_even_with_int_operands():
    x = Value(2)
    for out in (x + 1, 1 + x, x - 1, 3 - x, x * 3, 3 * x, x / 2, 4 / x, x**2, 2**x, -x):
        assert type(out.data) is float, out


def test_real_numbers_other_than_int_and_float_work_as_operands():
    x = Value(1.0)
    assert (x + Fraction(1, 2)).data == 1.5
    assert (Fraction(1, 2) * x).data == 0.5


# Every binary operator, for the tests that must hold for each of them.
BINARY_OPERATIONS = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / b,
    lambda a, b: a**b,
]
BINARY_SYMBOLS = ["+", "-", "*", "/", "**"]


@pytest.mark.parametrize("other", ["2", None, 1j, True, [1.0]], ids=repr)
@pytest.mark.parametrize(
    "operation",
    BINARY_OPERATIONS,
    ids=BINARY_SYMBOLS,
)
def test_non_number_operands_raise_type_error_on_either_side(operation, other):
    with pytest.raises(TypeError):
        operation(Value(2.0), other)
    with pytest.raises(TypeError):
        operation(other, Value(2.0))


# -- reflected forms, powers and unary minus ------------------------------------------------


def test_number_operands_are_not_parents():
    x = Value(1.5)
    for out in (x * 2, 2 * x, x + 2, 2 + x, x - 2, 2 - x, x / 2, 2 / x, x**2, 2**x):
        assert len(out.parents) == 1 and out.parents[0] is x, out


def test_two_to_the_value_is_an_exponential_in_base_two():
    x = Value(3.0)
    y = 2**x
    y.backward()
    assert y.data == 8.0
    assert x.grad == pytest.approx(8.0 * math.log(2.0), rel=1e-14)


def test_value_exponent_gets_gradient_base_to_the_exponent_times_log_base():
    a, b = Value(3.0), Value(2.0)
    y = a**b
    y.backward()
    assert y.data == 9.0
    assert a.grad == pytest.approx(6.0, rel=1e-14)
    assert b.grad == pytest.approx(9.0 * math.log(3.0), rel=1e-14)


def test_zero_base_with_positive_value_exponent_has_finite_zero_gradients():
    a, b = Value(0.0), Value(2.0)
    y = a**b
    y.backward()
    assert y.data == 0.0
    assert (a.grad, b.grad) == (0.0, 0.0)


def test_unary_minus_negates_and_has_derivative_minus_one():
    x = Value(2.5)
    y = -x
    y.backward()
    assert (y.data, x.grad) == (-2.5, -1.0)
    assert y.parents[0] is x


def test_float_of_a_value_is_its_data():
    assert float(Value(2.5)) == 2.5
    node = Value(1.5) * 3
    assert float(node) == 4.5 and type(float(node)) is float


# -- repr -------------------------------------------------------------------------------------


def test_repr_of_a_leaf_shows_data_and_grad():
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"


def test_repr_shows_the_label_when_there_is_one():
    assert repr(Value(2.0, label="x")) == "Value(data=2.0, grad=0.0, label='x')"


def test_repr_of_a_node_shows_its_operation_and_current_grad():
    y = Value(3.0) * 2
    y.backward()
    assert repr(y) == "Value(data=6.0, grad=1.0, op='*')"


# -- parents and op: read-only, call order, duplicates kept ----------------------------------


def test_parents_and_op_are_read_only():
    a, b = Value(1.0), Value(2.0)
    y = a * b
    with pytest.raises(AttributeError):
        y.parents = (b, a)
    with pytest.raises(AttributeError):
        y.op = "+"
    assert isinstance(y.parents, tuple)
    assert y.parents[0] is a and y.parents[1] is b and y.op == "*"


@pytest.mark.parametrize(
    "f",
    BINARY_OPERATIONS,
    ids=BINARY_SYMBOLS,
)
def test_parents_are_the_operands_in_call_order(f):
    a, b = Value(1.5), Value(2.5)
    forward, backward = f(a, b), f(b, a)
    assert len(forward.parents) == 2 and len(backward.parents) == 2
    assert forward.parents[0] is a and forward.parents[1] is b
    assert backward.parents[0] is b and backward.parents[1] is a


@pytest.mark.parametrize(
    "f",
    [
        lambda a: a + a,
        lambda a: a - a,
        lambda a: a * a,
        lambda a: a / a,
        lambda a: a**a,
    ],
    ids=["+", "-", "*", "/", "**"],
)
def test_a_value_used_twice_appears_twice_in_parents(f):
    a = Value(1.5)
    parents = f(a).parents
    assert len(parents) == 2 and parents[0] is a and parents[1] is a


def test_duplicate_operands_get_the_sum_of_both_derivatives():
    cases = [
        (lambda a: a + a, 2.0),
        (lambda a: a - a, 0.0),
        (lambda a: a * a, 2 * 1.5),
        (lambda a: a / a, 0.0),
        (lambda a: a**a, math.pow(1.5, 1.5) * (1 + math.log(1.5))),
    ]
    for f, expected in cases:
        _, (grad,) = forward_and_grads(f, 1.5)
        assert grad == pytest.approx(expected, rel=1e-14, abs=1e-15)


# -- domain errors: exact type, operation and value in the message ---------------------------

ZERO = r"(?<![\w.])-?0(\.0+)?(?![\w.])"  # 0, 0.0 or -0.0 as a number on its own

DOMAIN_ERRORS = [
    ("log of zero", lambda: Value(0.0).log(), ValueError, ["log", ZERO]),
    ("log of negative", lambda: Value(-2.5).log(), ValueError, ["log", r"-2\.5"]),
    ("log of -inf", lambda: Value(-INF).log(), ValueError, ["log", "-inf"]),
    ("sqrt of negative", lambda: Value(-0.25).sqrt(), ValueError, ["sqrt", r"-0\.25"]),
    ("half power of negative", lambda: Value(-8.0) ** 0.5, ValueError, ["pow", r"-8\.0"]),
    ("third power of negative", lambda: Value(-8.0) ** (1 / 3), ValueError, ["pow", r"-8\.0"]),
    (
        "value exponent of negative base",
        lambda: Value(-2.0) ** Value(2.0),
        ValueError,
        ["pow", r"-2\.0"],
    ),
    (
        "negative number to a value power",
        lambda: (-2.0) ** Value(3.0),
        ValueError,
        ["pow", r"-2\.0"],
    ),
    ("zero to minus one", lambda: Value(0.0) ** -1, ZeroDivisionError, ["pow", ZERO, "-1"]),
    ("zero to minus half", lambda: Value(0.0) ** -0.5, ZeroDivisionError, ["pow", r"-0\.5"]),
    (
        "zero to a negative value exponent",
        lambda: Value(0.0) ** Value(-2.0),
        ZeroDivisionError,
        ["pow", r"-2(\.0)?"],
    ),
    (
        "zero number to a negative value power",
        lambda: 0.0 ** Value(-1.5),
        ZeroDivisionError,
        ["pow", r"-1\.5"],
    ),
    ("value / 0", lambda: Value(7.25) / 0, ZeroDivisionError, ["division", r"7\.25", ZERO]),
    ("value / -0.0", lambda: Value(7.25) / -0.0, ZeroDivisionError, ["division", r"7\.25"]),
    (
        "value / zero value",
        lambda: Value(7.25) / Value(0.0),
        ZeroDivisionError,
        ["division", r"7\.25", ZERO],
    ),
    ("number / zero value", lambda: 7.25 / Value(0.0), ZeroDivisionError, ["division", r"7\.25"]),
    ("exp overflow", lambda: Value(710.0).exp(), OverflowError, ["exp", r"710(\.0)?"]),
    ("pow overflow", lambda: Value(10.0) ** 400, OverflowError, ["pow", r"10(\.0)?", "400"]),
    (
        "pow overflow with value exponent",
        lambda: Value(10.0) ** Value(400.0),
        OverflowError,
        ["pow", "400"],
    ),
    ("number to a value power overflow", lambda: 10.0 ** Value(400.0), OverflowError, ["400"]),
    (
        "negative base to a huge odd power",
        lambda: Value(-10.0) ** 401,
        OverflowError,
        ["pow", r"-10(\.0)?"],
    ),
]


@pytest.mark.parametrize(
    "make, error, patterns", [pytest.param(*case[1:], id=case[0]) for case in DOMAIN_ERRORS]
)
def test_domain_error_has_exact_type_and_names_operation_and_value(make, error, patterns):
    with pytest.raises(error) as caught:
        make()
    assert caught.type is error
    message = str(caught.value)
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"


@pytest.mark.parametrize(
    "make, error", [pytest.param(case[1], case[2], id=case[0]) for case in DOMAIN_ERRORS]
)
def test_domain_errors_raise_even_when_not_recording(make, error):
    with no_grad():
        with pytest.raises(error):
            make()


def test_pow_derivative_that_overflows_becomes_a_signed_infinity_not_an_error():
    # d/dx x**-1 = -x**-2 = -1e600 at x = -1e-300; d/dx x**-2 = -2 x**-3 = +2e360 at -1e-120.
    x = Value(-1e-300)
    y = x**-1
    y.backward()
    assert y.data == pytest.approx(-1e300)
    assert x.grad == -INF
    x = Value(-1e-120)
    y = x**-2
    y.backward()
    assert y.data == pytest.approx(1e240)
    assert x.grad == INF


# -- saturating functions, subgradients and x ** 0 -------------------------------------------


@pytest.mark.parametrize(
    "f, x, limit",
    [
        (lambda v: v.tanh(), 1000.0, 1.0),
        (lambda v: v.tanh(), -1000.0, -1.0),
        (lambda v: v.sigmoid(), 1000.0, 1.0),
        (lambda v: v.sigmoid(), -1000.0, 0.0),
        (lambda v: v.sigmoid(), -745.5, 0.0),
    ],
    ids=["tanh(1000)", "tanh(-1000)", "sigmoid(1000)", "sigmoid(-1000)", "sigmoid(-745.5)"],
)
def test_tanh_and_sigmoid_saturate_to_their_limits_without_error(f, x, limit):
    out, (grad,) = forward_and_grads(f, x)
    assert out.data == limit
    assert grad == 0.0


@pytest.mark.parametrize("x", [-30.0, -5.0, -0.1, 0.0, 0.1, 5.0, 30.0])
def test_sigmoid_agrees_with_the_textbook_formula_on_both_sides_of_zero(x):
    out, (grad,) = forward_and_grads(lambda v: v.sigmoid(), x)
    s = sigmoid(x)
    assert out.data == pytest.approx(s, rel=1e-13)
    assert grad == pytest.approx(s * (1 - s), rel=1e-12)


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_relu_derivative_at_zero_is_zero(zero):
    out, (grad,) = forward_and_grads(lambda v: v.relu(), zero)
    assert out.data == 0.0
    assert grad == 0.0


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_abs_derivative_at_zero_is_zero(zero):
    out, (grad,) = forward_and_grads(abs, zero)
    assert out.data == 0.0
    assert grad == 0.0


@pytest.mark.parametrize("x", [0.0, -0.0, 1.0, -2.5, 3.0, 1e-300])
@pytest.mark.parametrize("zero", [0, 0.0], ids=["int 0", "float 0.0"])
def test_power_zero_is_one_with_derivative_zero_everywhere(x, zero):
    out, (grad,) = forward_and_grads(lambda v: v**zero, x)
    assert out.data == 1.0
    assert grad == 0.0


@pytest.mark.parametrize("x", [0.0, 1.0, 2.5])
def test_value_exponent_zero_gives_base_derivative_zero(x):
    out, (base_grad, exponent_grad) = forward_and_grads(lambda a, b: a**b, x, 0.0)
    assert out.data == 1.0
    assert base_grad == 0.0
    assert exponent_grad == pytest.approx(math.log(x) if x > 0 else 0.0, abs=1e-300)


def test_power_one_at_zero_has_derivative_one_and_power_two_has_zero():
    assert forward_and_grads(lambda v: v**1, 0.0)[1] == [1.0]
    assert forward_and_grads(lambda v: v**2, 0.0)[1] == [0.0]


def test_sqrt_and_half_power_at_zero_have_infinite_derivative():
    out, (grad,) = forward_and_grads(lambda v: v.sqrt(), 0.0)
    assert (out.data, grad) == (0.0, INF)
    out, (grad,) = forward_and_grads(lambda v: v**0.5, 0.0)
    assert (out.data, grad) == (0.0, INF)


# -- non-finite inputs pass through ---------------------------------------------------------

ALL_ONE_INPUT_OPS = {
    "x+1": lambda v: v + 1,
    "1-x": lambda v: 1 - v,
    "x*2": lambda v: v * 2,
    "x*x": lambda v: v * v,
    "x/2": lambda v: v / 2,
    "2/x": lambda v: 2 / v,
    "x**2": lambda v: v**2,
    "x**0.5": lambda v: v**0.5,
    "2**x": lambda v: 2**v,
    "x**x": lambda v: v**v,
    "neg": lambda v: -v,
    "exp": lambda v: v.exp(),
    "log": lambda v: v.log(),
    "tanh": lambda v: v.tanh(),
    "sigmoid": lambda v: v.sigmoid(),
    "relu": lambda v: v.relu(),
    "sqrt": lambda v: v.sqrt(),
    "abs": abs,
    "sum": lambda v: autograd.sum([v, 1.0, v]),
    "dot": lambda v: autograd.dot([v, 2.0], [v, v], bias=1.0),
}

# Ops whose derivative depends on x, so a NaN input must give a NaN gradient.
X_DEPENDENT_DERIVATIVE = {
    "x*x", "2/x", "x**2", "x**0.5", "2**x", "x**x", "exp", "log",
    "tanh", "sigmoid", "relu", "sqrt", "abs", "dot",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(ALL_ONE_INPUT_OPS))
def test_nan_input_gives_nan_output_without_error(name):
    out = ALL_ONE_INPUT_OPS[name](Value(NAN))
    assert math.isnan(out.data)


@pytest.mark.parametrize("name", sorted(X_DEPENDENT_DERIVATIVE))
def test_nan_input_gives_nan_gradient_instead_of_a_hidden_number(name):
    _, (grad,) = forward_and_grads(ALL_ONE_INPUT_OPS[name], NAN)
    assert math.isnan(grad)


@pytest.mark.parametrize(
    "f, x, expected",
    [
        (lambda v: v + 1, INF, INF),
        (lambda v: v * -2, INF, -INF),
        (lambda v: v - v, INF, NAN),
        (lambda v: v * 0, INF, NAN),
        (lambda v: 1 / v, -INF, -0.0),
        (lambda v: v.exp(), INF, INF),
        (lambda v: v.exp(), -INF, 0.0),
        (lambda v: v.log(), INF, INF),
        (lambda v: v.tanh(), INF, 1.0),
        (lambda v: v.tanh(), -INF, -1.0),
        (lambda v: v.sigmoid(), INF, 1.0),
        (lambda v: v.sigmoid(), -INF, 0.0),
        (lambda v: v.relu(), INF, INF),
        (lambda v: v.relu(), -INF, 0.0),
        (lambda v: v.sqrt(), INF, INF),
        (abs, -INF, INF),
        (lambda v: v**2, -INF, INF),
    ],
    ids=[
        "inf+1", "inf*-2", "inf-inf", "inf*0", "1/-inf", "exp(inf)", "exp(-inf)", "log(inf)",
        "tanh(inf)", "tanh(-inf)", "sigmoid(inf)", "sigmoid(-inf)", "relu(inf)", "relu(-inf)",
        "sqrt(inf)", "abs(-inf)", "(-inf)**2",
    ],
)  # fmt: skip
def test_infinite_inputs_pass_through_to_the_ieee_result(f, x, expected):
    out = f(Value(x))
    if math.isnan(expected):
        assert math.isnan(out.data)
    else:
        assert out.data == expected


def test_relu_of_nan_is_nan():
    assert math.isnan(Value(NAN).relu().data)


# -- not recording ----------------------------------------------------------------------------

RECORDED_OPS = {
    "a+b": lambda a, b: a + b,
    "a+c": lambda a, b: a + 2.0,
    "c-a": lambda a, b: 2.0 - a,
    "a*b": lambda a, b: a * b,
    "a/b": lambda a, b: a / b,
    "c/a": lambda a, b: 2.0 / a,
    "a**b": lambda a, b: a**b,
    "a**c": lambda a, b: a**3,
    "c**a": lambda a, b: 2.0**a,
    "neg": lambda a, b: -a,
    "exp": lambda a, b: a.exp(),
    "log": lambda a, b: a.log(),
    "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: a.sigmoid(),
    "relu": lambda a, b: a.relu(),
    "sqrt": lambda a, b: a.sqrt(),
    "abs": lambda a, b: abs(a),
    "sum": lambda a, b: autograd.sum([a, b, 1.0]),
    "dot": lambda a, b: autograd.dot([a, b], [b, a], bias=a),
    "dot numbers": lambda a, b: autograd.dot([a, b], [2.0, 3.0]),
    "dot mixed": lambda a, b: autograd.dot([a, 2.0], [3.0, b], bias=1.0),
}


@pytest.mark.parametrize("name", sorted(RECORDED_OPS))
def test_results_made_under_no_grad_are_leaves_with_the_same_data(name):
    f = RECORDED_OPS[name]
    a, b = Value(1.5), Value(0.5)
    recorded = f(a, b)
    with no_grad():
        unrecorded = f(a, b)
    assert recorded.parents and recorded.op
    assert unrecorded.parents == () and unrecorded.op == ""
    assert unrecorded.data == recorded.data
    unrecorded.backward()
    assert (a.grad, b.grad) == (0.0, 0.0)


def test_an_int_too_large_for_a_float_is_refused_naming_value():
    with pytest.raises(OverflowError, match=r"Value\(data\): an int of 401 digits"):
        Value(10**400)


def test_softplus_never_overflows_and_its_slope_is_the_sigmoid():
    assert Value(1000.0).softplus().data == 1000.0
    assert Value(-1000.0).softplus().data == 0.0
    assert Value(0.0).softplus().data == math.log(2.0)
    assert math.isnan(Value(math.nan).softplus().data)
    assert Value(math.inf).softplus().data == math.inf
    x = Value(0.0)
    x.softplus().backward()
    assert x.grad == 0.5
    big = Value(800.0)
    big.softplus().backward()
    assert big.grad == 1.0
