"""Inference under no_grad: plain floats through the layers, identical numbers, leaves out."""

import random

import pytest

import autograd
import nn
from autograd import Value, floatmath, no_grad
from nn.layers import ACTIVATIONS, FLOAT_ACTIVATIONS

INF, NAN = float("inf"), float("nan")
# Floats where activation formulas part ways: signed zeros, NaN, infinities, the
# smallest subnormal and normal, the largest float, and magnitudes where exp over- or
# underflows.
EDGES = [0.0, -0.0, NAN, INF, -INF, 5e-324, -5e-324, 2.2250738585072014e-308,
         1.7976931348623157e308, -1.7976931348623157e308, 1e-300, 1e300, -1e300,
         710.0, -710.0, 1e4, -1e4, 1.0, -1.0, 0.5, -2.5]
# Input vectors of 3 with negatives, zeros and large magnitudes.
EDGE_INPUTS = [[0.0, -0.0, 0.0], [-2.5, 0.0, 1e3], [1e150, -1e150, 3.0],
               [-1e300, 1e-300, 5e-324], [-1e4, 2e4, -3e4], [INF, -1.0, 0.0], [NAN, 1.0, -1.0]]


def bits(numbers):
    """Each float's exact value (float.hex), so 0.0 differs from -0.0 and NaN equals NaN."""
    return [float.hex(v) for v in numbers]


def test_the_float_activations_are_autograd_floatmath():
    assert FLOAT_ACTIVATIONS == {
        "relu": floatmath.relu, "tanh": floatmath.tanh, "sigmoid": floatmath.sigmoid,
        "linear": None,
    }
    assert FLOAT_ACTIVATIONS.keys() == ACTIVATIONS.keys()


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_each_float_activation_gives_exactly_what_its_value_method_gives(activation):
    as_float, as_value = FLOAT_ACTIVATIONS[activation], ACTIVATIONS[activation]
    assert bits(map(as_float, EDGES)) == bits(as_value(Value(v)).data for v in EDGES)


def test_the_inlined_relu_of_forward_floats_is_floatmath_relu():
    # One unit per edge value: weight 1 on the input 0.0, bias the value, so each
    # pre-activation is the value itself (-0.0 arrives as 0.0: 0.0 + -0.0 == 0.0).
    relu = nn.Layer(1, len(EDGES), activation="relu", rng=random.Random(0))
    linear = nn.Layer(1, len(EDGES), activation="linear", rng=random.Random(0))
    snapshot = ([[1.0]] * len(EDGES), list(EDGES))
    pre = linear.forward_floats([0.0], snapshot)
    assert bits(pre) == bits(0.0 + v for v in EDGES)
    assert bits(relu.forward_floats([0.0], snapshot)) == bits(map(floatmath.relu, pre))
    # And on the edge values as inputs, through a weight of 1 and a bias of -0.0.
    snapshot = ([[1.0]], [-0.0])
    for x in EDGES:
        (pre,) = linear.forward_floats([x], snapshot)
        assert bits(relu.forward_floats([x], snapshot)) == bits([floatmath.relu(pre)])


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_no_grad_layer_gives_exactly_the_recorded_numbers_at_edge_inputs(activation):
    layer = nn.Layer(3, 6, activation=activation, rng=random.Random(4))
    for x in EDGE_INPUTS:
        recorded = bits(v.data for v in layer(x))
        with no_grad():
            assert bits(v.data for v in layer(x)) == recorded


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("nouts", [[4, 1], [5, 3]])
def test_no_grad_mlp_gives_exactly_the_recorded_numbers(activation, nouts):
    model = nn.MLP(3, nouts, activation=activation, rng=random.Random(7))
    rng = random.Random(1)
    for x in [[rng.uniform(-3, 3) for _ in range(3)] for _ in range(20)] + EDGE_INPUTS:
        recorded = model(x)
        with no_grad():
            inferred = model(x)
        if nouts[-1] == 1:
            recorded, inferred = [recorded], [inferred]
        assert bits(v.data for v in inferred) == bits(v.data for v in recorded)
        assert all(v.parents == () and v.op == "" for v in inferred)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_no_grad_rnn_gives_exactly_the_recorded_numbers(activation):
    rnn = nn.RNN(3, 4, activation=activation, rng=random.Random(2))
    recorded, _ = rnn(EDGE_INPUTS)
    with no_grad():
        inferred, _ = rnn(EDGE_INPUTS)
    assert [bits(v.data for v in h) for h in inferred] == [
        bits(v.data for v in h) for h in recorded
    ]


def test_no_grad_layer_accepts_values_and_numbers_and_returns_leaves():
    layer = nn.Layer(2, 3, activation="tanh", rng=random.Random(0))
    x = [Value(0.5), -1.0]
    recorded = [v.data for v in layer(x)]
    with no_grad():
        out = layer(x)
    assert [v.data for v in out] == recorded
    assert all(v.parents == () for v in out)


def test_no_grad_inference_keeps_input_checks():
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    with no_grad():
        with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
            model([1.0, 2.0, 3.0])
        with pytest.raises(TypeError, match="str"):
            model([1.0, "a"])


def test_nan_input_stays_nan_in_inference():
    model = nn.MLP(1, [2, 1], rng=random.Random(0))
    with no_grad():
        out = model([float("nan")])
    assert out.data != out.data


def test_inference_reads_current_weights_after_an_update():
    model = nn.MLP(2, [3, 1], activation="linear", rng=random.Random(0))
    with no_grad():
        before = model([1.0, 1.0]).data
    model.layers[-1].neurons[0].b.data += 1.0
    with no_grad():
        after = model([1.0, 1.0]).data
    assert after == pytest.approx(before + 1.0)
    assert autograd.is_grad_enabled()


def test_a_batch_gives_the_outputs_of_its_rows_in_both_modes():
    model = nn.MLP(2, [4, 4, 2], rng=random.Random(3))
    X = [[0.5, -1.0], [2.0, 0.25], [Value(1.5), 3]]
    one_by_one = [[v.data for v in model(x)] for x in X]
    recorded = model(X)
    assert [[v.data for v in out] for out in recorded] == one_by_one
    assert all(v.parents for out in recorded for v in out)  # real graphs
    with no_grad():
        inferred = model(X)
    assert [[v.data for v in out] for out in inferred] == one_by_one
    assert all(v.parents == () for out in inferred for v in out)


def test_a_batch_checks_every_row():
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    with no_grad():
        with pytest.raises(ValueError, match="expects 2 inputs, got 1"):
            model([[1.0, 2.0], [1.0]])


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
def test_rnn_under_no_grad_gives_exactly_the_recording_forwards_numbers(activation):
    rnn = nn.RNN(3, 5, activation, rng=random.Random(7))
    xs = [list(x) for x in EDGE_INPUTS] + [[1, -2, 3]]
    for h0 in (None, [0.5, -0.25, 0.0, -0.0, 2.0], [Value(1.0)] * 5):
        hs, h = rnn(xs, h0)
        with no_grad():
            hs_floats, h_floats = rnn(xs, h0)
        assert len(hs_floats) == len(hs) and h_floats is hs_floats[-1]
        for recorded, inferred in zip(hs, hs_floats):
            assert bits(v.data for v in recorded) == bits(v.data for v in inferred)
            assert all(v.parents == () for v in inferred)


def test_rnn_under_no_grad_still_checks_its_input():
    rnn = nn.RNN(2, 3)
    with no_grad(), pytest.raises(ValueError, match="expected nin=2"):
        rnn([[1.0, 2.0, 3.0]])
    with no_grad(), pytest.raises(TypeError, match="RNN: xs takes Values or numbers"):
        rnn([[1.0, "x"]])


def test_the_adder_under_no_grad_gives_exactly_the_recording_logits():
    from nn.examples.binary_addition import Adder

    model = Adder(8, rng=random.Random(1))
    xs = [[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    recorded = model(xs)
    with no_grad():
        inferred = model(xs)
    assert bits(v.data for v in recorded) == bits(v.data for v in inferred)
    assert bits(model.rnn.forward_floats(xs)[-1]) == bits(v.data for v in model.rnn(xs)[1])
