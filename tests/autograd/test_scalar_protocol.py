"""A Value behaves like a Python scalar where that is safe, and refuses bad assignments.

The scalar protocol reads ``data`` and returns plain numbers (no graph); ``==`` stays
identity, so Values remain usable as graph nodes and dict keys; ``.data`` and ``.grad``
take numbers only, with the fix in the message.
"""

import math
import operator
from fractions import Fraction

import pytest

import autograd
from autograd import Value


def test_item_returns_the_float():
    v = Value(2.5)
    assert v.item() == 2.5 and type(v.item()) is float


@pytest.mark.parametrize(
    "spec, expected", [(".3f", "3.142"), ("8.2e", "3.14e+00"), ("g", "3.14159")]
)
def test_format_formats_data(spec, expected):
    assert format(Value(3.14159), spec) == expected
    assert f"{Value(3.14159):{spec}}" == expected


def test_format_without_a_spec_is_the_repr():
    v = Value(1.0, label="x")
    assert f"{v}" == repr(v) == str(v)


def test_round_int_trunc_floor_ceil_return_numbers():
    v = Value(-2.675)
    assert round(v) == -3 and type(round(v)) is int
    assert round(v, 2) == round(-2.675, 2) and type(round(v, 2)) is float
    assert int(v) == -2 and math.trunc(v) == -2
    assert math.floor(v) == -3 and math.ceil(v) == -2
    assert all(type(f(v)) is int for f in (int, math.trunc, math.floor, math.ceil))


def test_int_of_a_non_finite_value_raises_like_float():
    with pytest.raises(OverflowError):
        int(Value(math.inf))
    with pytest.raises(ValueError):
        int(Value(math.nan))


def test_comparisons_read_data_with_values_or_numbers_and_return_bool():
    a, b = Value(1.0), Value(2.0)
    assert (a < b) is True and (a <= b) is True and (a > b) is False and (a >= b) is False
    assert a < 1.5 and a <= 1 and b > 1 and b >= 2 and 0 < a and 3 > b
    assert a < Fraction(3, 2)
    assert sorted([b, a]) == [a, b] and max(a, b) is b and min(a, b) is a


def test_comparing_with_something_not_a_number_names_both_sides():
    with pytest.raises(TypeError, match="'<' compares a Value with a Value or a number, not str"):
        Value(1.0) < "2"  # noqa: B015


def test_comparisons_build_no_graph():
    a, b = Value(1.0), Value(2.0)
    result = a < b
    assert type(result) is bool and a.parents == () and a.grad == 0.0


@pytest.mark.parametrize("x, truth", [(0.0, False), (-0.0, False), (1e-300, True), (-2.0, True),
                                      (math.nan, True), (math.inf, True)])
def test_bool_is_data_not_zero_like_a_pytorch_scalar(x, truth):
    assert bool(Value(x)) is truth
    assert bool(Value(x) * 1.0) is truth  # interior nodes too


def test_equality_is_identity_between_values():
    a, b = Value(1.0), Value(1.0)
    assert a == a and a != b and not (a == b)
    assert len({a, b, a}) == 2 and {a: 1}[a] == 1
    assert a in [b, a] and [b, a].index(a) == 1


@pytest.mark.parametrize("symbol, compare", [("==", operator.eq), ("!=", operator.ne)])
def test_equality_with_a_number_raises_and_says_to_compare_data(symbol, compare):
    v = Value(2.0)
    with pytest.raises(TypeError, match=rf"compare the numbers instead: v.data {symbol} 2.0"):
        compare(v, 2.0)
    with pytest.raises(TypeError, match="identity"):
        compare(2, v)


def test_equality_with_other_objects_is_false_as_for_any_object():
    v = Value(2.0)
    assert (v == "2.0") is False and (v != None) is True  # noqa: E711


# -- .data and .grad take numbers only ---------------------------------------------------


def test_assigning_a_value_to_data_raises_at_once_with_the_fix():
    p = Value(1.0)
    p.grad = 0.5
    with pytest.raises(TypeError) as caught:
        p.data = p - 0.1 * p.grad
    message = str(caught.value)
    assert "Value.data must be an int or float, got a Value (data=0.95)" in message
    assert "p.data -= lr * p.grad" in message
    assert p.data == 1.0  # nothing changed


@pytest.mark.parametrize("bad", ["abc", None, True, 1j, [1.0]])
def test_assigning_a_non_number_to_data_raises_naming_the_attribute(bad):
    v = Value(1.0)
    expected = r"Value\.data must be an int or float, got " + type(bad).__name__
    with pytest.raises(TypeError, match=expected):
        v.data = bad
    assert v.data == 1.0


@pytest.mark.parametrize("bad", ["abc", True, 1j, Value(0.5)])
def test_assigning_a_non_number_to_grad_raises_and_says_how_to_reset(bad):
    v = Value(1.0)
    expected = r"Value\.grad must be an int or float, got .*zero_grad\(\)"
    with pytest.raises(TypeError, match=expected):
        v.grad = bad
    assert v.grad == 0.0


def test_ints_and_other_real_numbers_are_stored_as_floats():
    v = Value(1.0)
    v.data, v.grad = 3, Fraction(1, 4)
    assert (v.data, v.grad) == (3.0, 0.25) and type(v.data) is type(v.grad) is float
    v.data = math.inf  # non-finite numbers are allowed, as in Value(inf)
    assert v.data == math.inf


def test_an_int_too_large_for_a_float_is_refused_with_overflow_error():
    with pytest.raises(OverflowError, match="Value.data"):
        Value(1.0).data = 10**400


def test_grad_none_means_no_gradient_yet_and_backward_works():
    w = Value(3.0)
    w.grad = None  # PyTorch's set-to-none habit
    assert w.grad == 0.0
    (w * w).backward()
    assert w.grad == 6.0


def test_in_place_updates_through_the_properties_work():
    p = Value(1.0)
    (p * 2.0).backward()
    p.data -= 0.1 * p.grad
    p.grad *= 0.0
    assert p.data == 0.8 and p.grad == 0.0


# -- functional forms ---------------------------------------------------------------------

FUNCTIONS = ["exp", "log", "tanh", "sigmoid", "relu", "sqrt", "softplus"]


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("x", [0.3, 2.0, 7])
def test_a_function_of_a_value_is_the_methods_node(name, x):
    v = Value(x)
    out = getattr(autograd, name)(v)
    reference = getattr(Value(x), name)()
    assert type(out) is Value and out.op == reference.op and out.parents == (v,)
    assert repr(out.data) == repr(reference.data)
    out.backward()
    reference.backward()
    assert repr(v.grad) == repr(reference.parents[0].grad)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("x", [0.3, 2.0, 7, -0.0, 1e-300])
def test_a_function_of_a_number_is_the_float_the_method_computes(name, x):
    if name in ("log",) and x <= 0:
        return
    out = getattr(autograd, name)(x)
    assert type(out) is float
    assert repr(out) == repr(getattr(Value(x), name)().data)


@pytest.mark.parametrize("name, x", [("log", 0.0), ("log", -1.0), ("sqrt", -1.0), ("exp", 1000.0)])
def test_a_function_of_a_number_raises_the_engines_domain_error(name, x):
    with pytest.raises((ValueError, OverflowError)) as from_value:
        getattr(Value(x), name)()
    with pytest.raises(type(from_value.value)) as from_number:
        getattr(autograd, name)(x)
    assert str(from_number.value) == str(from_value.value)


@pytest.mark.parametrize("bad", ["1", None, True])
def test_a_function_refuses_what_is_not_a_number(bad):
    with pytest.raises(TypeError, match=r"exp\(x\) needs an int or float"):
        autograd.exp(bad)


def test_math_exp_of_a_value_gives_a_float_as_python_does_autograd_exp_keeps_the_gradient():
    x = Value(1.0)
    assert type(math.exp(x)) is float  # documented: float() drops out of the graph
    y = autograd.exp(x)
    y.backward()
    assert x.grad == math.exp(1.0)


def test_star_import_shadows_no_builtin():
    import builtins

    namespace: dict = {}
    exec("from autograd import *", namespace)
    shadowed = sorted(set(namespace) & set(dir(builtins)) - {"__builtins__"})
    assert shadowed == []
    assert "sum" not in namespace and "compile" not in namespace and "abs" not in namespace
    assert autograd.sum([Value(1.0), 2.0]).data == 3.0  # still reachable
    assert set(FUNCTIONS) <= set(namespace)


def test_data_of_reads_the_same_numbers_as_the_property():
    values = [Value(x) for x in (1.5, -0.0, math.inf, 3)]
    got = autograd.data_of(values)
    assert [repr(x) for x in got] == [repr(v.data) for v in values]
    assert autograd.data_of(v for v in values) == got and autograd.data_of([]) == []
