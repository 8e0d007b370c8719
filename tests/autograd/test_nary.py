"""autograd.sum and autograd.dot: one node each, right values and gradients in every mix."""

import math
import random
import struct

import pytest

import autograd
import nn
from autograd import Value, gradcheck, nary, no_grad, topological_order
from benchmarks.workloads import dense_dot_rules


def values(*data):
    return [Value(x) for x in data]


def same_objects(actual, expected):
    return len(actual) == len(expected) and all(a is e for a, e in zip(actual, expected))


# -- sum ----------------------------------------------------------------------------------------


def test_sum_is_one_node_whose_parents_are_the_values_in_order():
    a, b, c = values(1.5, -2.0, 4.25)
    s = autograd.sum([a, b, c])
    assert s.op == "sum"
    assert same_objects(s.parents, [a, b, c])
    order = topological_order(s)
    assert len(order) == 4 and order[-1] is s
    assert {id(v) for v in order[:-1]} == {id(a), id(b), id(c)}
    assert s.data == 1.5 - 2.0 + 4.25


def test_sum_gives_every_operand_gradient_one():
    xs = values(*[0.1 * i for i in range(7)])
    s = autograd.sum(xs)
    s.backward()
    assert s.data == pytest.approx(math.fsum(0.1 * i for i in range(7)), rel=1e-15)
    assert [x.grad for x in xs] == [1.0] * 7


def test_sum_with_a_repeated_operand_counts_each_occurrence():
    a, b = values(2.0, 3.0)
    s = autograd.sum([a, b, a, a])
    s.backward()
    assert s.data == 9.0
    assert (a.grad, b.grad) == (3.0, 1.0)
    assert same_objects(s.parents, [a, b, a, a])


def test_sum_adds_plain_numbers_but_only_values_are_parents():
    a, b = values(2.0, 3.0)
    s = autograd.sum([a, 2.5, b, 1, -0.5])
    s.backward()
    assert s.data == 8.0
    assert same_objects(s.parents, [a, b])
    assert (a.grad, b.grad) == (1.0, 1.0)


def test_sum_accepts_any_iterable():
    a, b = values(2.0, 3.0)
    s = autograd.sum(x for x in (a, b, 1.0))
    assert s.data == 6.0 and same_objects(s.parents, [a, b])


def test_sum_of_interior_nodes_applies_the_chain_rule():
    x = Value(0.5)
    s = autograd.sum([x * x, x.exp(), 3 * x])
    s.backward()
    assert s.data == pytest.approx(0.25 + math.exp(0.5) + 1.5, rel=1e-15)
    assert x.grad == pytest.approx(2 * 0.5 + math.exp(0.5) + 3, rel=1e-15)


def test_sum_of_only_numbers_is_a_leaf_holding_their_total():
    s = autograd.sum([1.5, 2, -0.25])
    assert isinstance(s, Value)
    assert s.data == 3.25 and type(s.data) is float
    assert s.parents == () and s.op == ""


def test_empty_sum_is_a_zero_leaf():
    s = autograd.sum([])
    assert isinstance(s, Value)
    assert s.data == 0.0 and s.parents == ()


@pytest.mark.parametrize("bad", ["1.0", None, True, 1j], ids=repr)
def test_sum_refuses_non_numbers_with_a_type_error(bad):
    with pytest.raises(TypeError):
        autograd.sum([Value(1.0), bad])


def test_sum_passes_gradcheck():
    assert gradcheck(lambda a, b, c: autograd.sum([a * b, b, 2.0, c.tanh(), a]), [0.3, -1.2, 0.7])


# -- dot ----------------------------------------------------------------------------------------


def test_dot_of_values_is_one_node_with_ws_then_xs_as_parents():
    ws, xs = values(0.5, -1.5, 2.0), values(3.0, 0.25, -1.0)
    d = autograd.dot(ws, xs)
    assert d.op == "dot"
    assert same_objects(d.parents, ws + xs)
    assert len(topological_order(d)) == 7
    assert d.data == 0.5 * 3.0 - 1.5 * 0.25 - 2.0


def test_dot_gives_each_weight_its_input_and_each_input_its_weight():
    ws, xs = values(0.5, -1.5, 2.0), values(3.0, 0.25, -1.0)
    d = autograd.dot(ws, xs)
    d.backward()
    assert [w.grad for w in ws] == [3.0, 0.25, -1.0]
    assert [x.grad for x in xs] == [0.5, -1.5, 2.0]


def test_dot_with_repeated_operands_accumulates_every_use():
    # dot([a, a], [b, a]) = a*b + a*a: d/da = b + 2a, d/db = a.
    a, b = values(1.5, -2.0)
    d = autograd.dot([a, a], [b, a])
    d.backward()
    assert d.data == 1.5 * -2.0 + 1.5 * 1.5
    assert a.grad == -2.0 + 2 * 1.5
    assert b.grad == 1.5


def test_dot_with_the_same_value_as_weight_input_and_bias():
    a = Value(3.0)
    d = autograd.dot([a], [a], bias=a)  # a*a + a
    d.backward()
    assert d.data == 12.0
    assert a.grad == 7.0


def test_dot_with_plain_floats_as_inputs():
    w1, w2 = values(0.5, -1.5)
    d = autograd.dot([w1, w2], [2.0, -4.0])
    d.backward()
    assert d.data == 1.0 + 6.0
    assert same_objects(d.parents, [w1, w2])
    assert (w1.grad, w2.grad) == (2.0, -4.0)


def test_dot_with_plain_floats_as_weights():
    x1, x2 = values(0.5, -1.5)
    d = autograd.dot([2.0, -4], [x1, x2])
    d.backward()
    assert d.data == 1.0 + 6.0
    assert same_objects(d.parents, [x1, x2])
    assert (x1.grad, x2.grad) == (2.0, -4.0)


def test_dot_with_numbers_and_values_mixed_on_both_sides():
    w1, w2, x1, x3 = values(0.5, -1.5, 2.0, 4.0)
    d = autograd.dot([w1, 3.0, w2], [x1, -2.0, x3])
    d.backward()
    assert d.data == 0.5 * 2.0 + 3.0 * -2.0 + -1.5 * 4.0
    assert same_objects(d.parents, [w1, w2, x1, x3])
    assert (w1.grad, w2.grad, x1.grad, x3.grad) == (2.0, 4.0, 0.5, -1.5)


def test_dot_mixed_with_a_value_repeated_across_sides():
    a, b = values(1.5, -2.0)
    d = autograd.dot([a, 2.0, b], [3.0, a, a])  # 3a + 2a + ab
    d.backward()
    assert d.data == 3 * 1.5 + 2 * 1.5 + 1.5 * -2.0
    assert a.grad == 3.0 + 2.0 + -2.0
    assert b.grad == 1.5


@pytest.mark.parametrize(
    "ws, xs",
    [
        (lambda a, b: [a, b], lambda a, b: [b, a]),
        (lambda a, b: [a, b], lambda a, b: [2.0, 3.0]),
        (lambda a, b: [2.0, 3.0], lambda a, b: [a, b]),
        (lambda a, b: [a, 2.0], lambda a, b: [3.0, b]),
    ],
    ids=["values", "number xs", "number ws", "mixed"],
)
@pytest.mark.parametrize("bias_kind", ["value", "number", "none"])
def test_dot_bias_is_added_and_a_value_bias_gets_gradient_one(ws, xs, bias_kind):
    a, b, c = values(1.5, -2.0, 0.75)
    bias = {"value": c, "number": 0.75, "none": None}[bias_kind]
    without = autograd.dot(ws(a, b), xs(a, b))
    d = autograd.dot(ws(a, b), xs(a, b), bias=bias)
    assert d.data == without.data + (0.0 if bias is None else 0.75)
    d.backward()
    if bias_kind == "value":
        assert d.parents[-1] is c
        assert c.grad == 1.0
    else:
        assert all(p is not c for p in d.parents)


def test_dot_of_numbers_only_is_a_constant_leaf():
    d = autograd.dot([1.0, 2], [3.0, -0.5], bias=0.5)
    assert isinstance(d, Value)
    assert d.data == 2.5 and d.parents == ()


def test_dot_of_numbers_only_with_a_value_bias_differentiates_the_bias():
    c = Value(0.25)
    d = autograd.dot([1.0, 2.0], [3.0, -0.5], bias=c)
    d.backward()
    assert d.data == 2.25
    assert c.grad == 1.0


def test_empty_dot_is_zero_plus_bias():
    assert autograd.dot([], []).data == 0.0
    c = Value(1.25)
    d = autograd.dot([], [], bias=c)
    d.backward()
    assert d.data == 1.25 and c.grad == 1.0


def test_dot_of_interior_nodes_applies_the_chain_rule():
    x = Value(0.5)
    d = autograd.dot([x * x, x.exp()], [x, 2.0], bias=x.tanh())
    d.backward()
    assert d.data == pytest.approx(0.125 + 2 * math.exp(0.5) + math.tanh(0.5), rel=1e-15)
    expected = 3 * 0.25 + 2 * math.exp(0.5) + 1 / math.cosh(0.5) ** 2
    assert x.grad == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    "ws_len, xs_len", [(2, 3), (3, 2), (0, 1)], ids=["short ws", "short xs", "empty ws"]
)
def test_dot_of_different_lengths_raises_value_error_giving_both_lengths(ws_len, xs_len):
    ws = values(*[1.0] * ws_len)
    xs = values(*[1.0] * xs_len)
    with pytest.raises(ValueError) as caught:
        autograd.dot(ws, xs)
    assert str(ws_len) in str(caught.value) and str(xs_len) in str(caught.value)


@pytest.mark.parametrize(
    "make",
    [
        lambda a: autograd.dot([a, "2"], [a, a]),
        lambda a: autograd.dot([a, a], [None, a]),
        lambda a: autograd.dot([a, a], [a, True]),
        lambda a: autograd.dot(["1", "2"], [a, a]),
        lambda a: autograd.dot([1.0, 2.0], [3.0, 1j]),
        lambda a: autograd.dot([a], [a], bias="1"),
        lambda a: autograd.dot([a], [a], bias=True),
    ],
    ids=["str weight", "None input", "bool input", "str weights", "complex", "str bias", "bool"],
)
def test_dot_refuses_non_numbers_with_a_type_error(make):
    with pytest.raises(TypeError):
        make(Value(1.0))


@pytest.mark.parametrize(
    "f",
    [
        lambda a, b, c: autograd.dot([a, b], [c, a]),
        lambda a, b, c: autograd.dot([a, b], [c, a], bias=b),
        lambda a, b, c: autograd.dot([a, b, c], [0.5, -2.0, 3.0], bias=1.0),
        lambda a, b, c: autograd.dot([0.5, -2.0], [a * b, c.tanh()]),
        lambda a, b, c: autograd.dot([a, 0.5, c], [2.0, b, a], bias=c),
        lambda a, b, c: autograd.dot([a, a], [b, a]).tanh(),
    ],
    ids=["values", "value bias", "number xs", "number ws", "mixed", "repeated"],
)
def test_dot_passes_gradcheck(f):
    assert gradcheck(f, [0.3, -1.2, 0.7])


def test_backward_twice_through_dot_doubles_gradients():
    a, b, c = values(0.5, -1.0, 2.0)
    d = autograd.dot([a, 3.0], [b, c], bias=a)
    d.backward()
    first = (a.grad, b.grad, c.grad)
    d.backward()
    assert (a.grad, b.grad, c.grad) == tuple(2 * g for g in first)


def test_sum_and_dot_under_no_grad_are_leaves():
    a, b = values(1.5, 2.0)
    with no_grad():
        s = autograd.sum([a, b])
        d = autograd.dot([a], [b], bias=a)
    assert (s.data, d.data) == (3.5, 4.5)
    assert s.parents == () and d.parents == ()


# -- logsumexp ----------------------------------------------------------------------------------


def test_logsumexp_is_one_node_with_the_softmax_weights_as_gradient():
    zs = values(1.0, 2.0, -0.5)
    out = autograd.logsumexp(zs)
    assert out.op == "logsumexp" and same_objects(out.parents, zs)
    assert out.data == pytest.approx(math.log(sum(math.exp(z.data) for z in zs)), rel=1e-15)
    out.backward()
    total = sum(math.exp(z.data) for z in zs)
    for z in zs:
        assert z.grad == pytest.approx(math.exp(z.data) / total, rel=1e-14)
    assert gradcheck(lambda a, b, c: autograd.logsumexp([a, b, c]), [1.0, 2.0, -0.5])


def test_logsumexp_subtracts_the_max_inside_so_huge_logits_work():
    assert autograd.logsumexp(values(1000.0, 1000.0)).data == 1000.0 + math.log(2.0)
    assert autograd.logsumexp(values(-1000.0)).data == -1000.0
    assert autograd.logsumexp([Value(-math.inf), Value(0.0)]).data == 0.0


def test_logsumexp_takes_numbers_as_leaves_and_refuses_nothing():
    assert autograd.logsumexp([0.0, Value(0.0)]).data == math.log(2.0)
    with pytest.raises(ValueError, match="logsumexp: needs at least one value"):
        autograd.logsumexp([])
    with pytest.raises(TypeError, match="logsumexp: item 0"):
        autograd.logsumexp(["a"])


# -- a zero gradient skips the dot rule ------------------------------------------------------


def _bits(x):
    return struct.pack("<d", x)  # tells -0.0 from 0.0 and compares NaNs


def _moons_steps(steps=4):
    model = nn.MLP(2, [16, 16, 1], rng=random.Random(0))
    X, y = nn.data.make_moons(60, seed=1)
    skipped = 0
    for _ in range(steps):
        params = model.parameters()
        loss = nn.losses.hinge([model(x) for x in X], y) + 1e-4 * nn.losses.l2(params)
        model.zero_grad()
        loss.backward()
        skipped += sum(1 for n in autograd.engine.sweep_order(loss)
                       if n.op == "dot" and n.grad == 0.0)
        for p in params:
            p.data -= 0.5 * p.grad
    return [_bits(p.data) for p in model.parameters()], skipped


def test_skipping_dot_rules_with_a_zero_gradient_changes_no_bit():
    skipping, skipped = _moons_steps()
    assert skipped > 1000  # most samples are classified with margin: their dots get 0
    with dense_dot_rules():
        dense, _ = _moons_steps()
    assert nary.DOT.float_rule is nary._dot_float_rule  # put back
    assert skipping == dense


def test_a_zero_gradient_still_reaches_an_infinite_operand_as_nan():
    # The skip needs a finite node value: here the rule runs, and 0 * inf is NaN, as in
    # the dense rule (and in PyTorch).
    w, x = Value(math.inf), Value(-1.0)
    d = autograd.dot([w], [x])
    d.relu().backward()  # the ReLU is off: d gets 0
    assert d.grad == 0.0 and math.isnan(x.grad) and w.grad == 0.0
    c = Value(math.inf)
    e = autograd.dot([c], [-1.0])  # numbers on one side: the dot_numbers form
    e.relu().backward()
    assert c.grad == 0.0 and _bits(c.grad) == _bits(0.0 + 0.0 * -1.0)
