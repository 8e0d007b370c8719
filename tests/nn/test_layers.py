"""Neuron, Layer and MLP: values, graph shape, gradients, initialisation and errors."""

import math
import random

import pytest

import nn
from autograd import Value, gradcheck


def assert_parameter_grads(module, loss_of_module, eps=1e-6, tol=1e-5):
    """Every parameter's backward() gradient matches a central finite difference."""
    module.zero_grad()
    loss_of_module().backward()
    for name, p in module.named_parameters():
        x = p.data
        p.data = x + eps
        plus = loss_of_module().data
        p.data = x - eps
        minus = loss_of_module().data
        p.data = x
        numeric = (plus - minus) / (2 * eps)
        assert p.grad == pytest.approx(numeric, rel=1e-3, abs=tol), name


ACTIVATION_FUNCTIONS = {
    "relu": lambda s: max(s, 0.0),
    "tanh": math.tanh,
    "sigmoid": lambda s: 1 / (1 + math.exp(-s)),
    "linear": lambda s: s,
}


@pytest.mark.parametrize("activation", list(ACTIVATION_FUNCTIONS))
def test_neuron_computes_activation_of_w_dot_x_plus_b(activation):
    neuron = nn.Neuron(3, activation, rng=random.Random(1))
    neuron.b.data = 0.3
    x = [0.5, -1.0, 2.0]
    s = sum(w.data * xi for w, xi in zip(neuron.w, x)) + 0.3
    assert neuron(x).data == pytest.approx(ACTIVATION_FUNCTIONS[activation](s), rel=1e-12)


def test_neuron_is_one_dot_node_plus_one_activation_node():
    neuron = nn.Neuron(3, "tanh", rng=random.Random(0))
    out = neuron([1.0, 2.0, 3.0])
    assert out.op == "tanh"
    (pre,) = out.parents
    assert pre.op == "dot"
    assert list(pre.parents) == [*neuron.w, neuron.b]
    assert all(p.parents == () for p in pre.parents)


def test_linear_neuron_is_a_single_dot_node():
    out = nn.Neuron(2, "linear")([1.0, 2.0])
    assert out.op == "dot"


@pytest.mark.parametrize("activation", list(ACTIVATION_FUNCTIONS))
def test_neuron_gradients_match_finite_differences(activation):
    neuron = nn.Neuron(3, activation, rng=random.Random(4))
    neuron.b.data = 0.2
    assert gradcheck(lambda a, b, c: neuron([a, b, c]), [0.4, -0.7, 1.1])
    assert_parameter_grads(neuron, lambda: neuron([0.4, -0.7, 1.1]))


def test_layer_returns_one_value_per_neuron_even_for_one_output():
    assert len(nn.Layer(2, 5, "relu")([1.0, 2.0])) == 5
    out = nn.Layer(2, 1, "linear")([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 1


def test_layer_matches_its_neurons():
    layer = nn.Layer(3, 4, "sigmoid", rng=random.Random(2))
    x = [0.1, 0.2, -0.3]
    assert [v.data for v in layer(x)] == [n(x).data for n in layer.neurons]


def test_layer_accepts_values_floats_and_ints_alike():
    layer = nn.Layer(3, 2, "tanh", rng=random.Random(3))
    floats = [v.data for v in layer([1.0, -2.0, 0.5])]
    assert [v.data for v in layer([Value(1.0), Value(-2.0), Value(0.5)])] == floats
    assert [v.data for v in layer([1, Value(-2.0), 0.5])] == floats


def test_layer_sends_gradient_to_value_inputs():
    layer = nn.Layer(2, 3, "tanh", rng=random.Random(5))
    assert gradcheck(lambda a, b: nn.losses.l2(layer([a, b])), [0.3, -0.8])
    assert_parameter_grads(layer, lambda: nn.losses.l2(layer([0.3, -0.8])))


def test_mlp_has_337_parameters_for_2_16_16_1():
    assert len(nn.MLP(2, [16, 16, 1]).parameters()) == 337


def test_mlp_with_one_output_returns_a_value_else_a_list():
    assert isinstance(nn.MLP(2, [4, 1])([1.0, 2.0]), Value)
    out = nn.MLP(2, [4, 3])([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 3


def test_mlp_hidden_layers_use_the_activation_and_the_last_is_linear():
    model = nn.MLP(2, [4, 4, 2], activation="tanh")
    assert [layer.activation for layer in model.layers] == ["tanh", "tanh", "linear"]
    assert [(layer.nin, layer.nout) for layer in model.layers] == [(2, 4), (4, 4), (4, 2)]


def test_mlp_output_can_be_negative_because_the_last_layer_is_linear():
    model = nn.MLP(2, [8, 1], rng=random.Random(0))
    last = model.layers[-1].neurons[0]
    for w in last.w:
        w.data = -1.0
    last.b.data = -1.0
    assert model([0.5, 0.5]).data <= -1.0  # a ReLU output could not go below 0


def test_mlp_gradients_match_finite_differences():
    model = nn.MLP(2, [4, 3, 1], activation="tanh", rng=random.Random(6))
    assert gradcheck(lambda a, b: model([a, b]), [0.5, -0.25])
    assert_parameter_grads(model, lambda: model([0.5, -0.25]))


def test_same_rng_seed_gives_the_same_weights():
    a = nn.MLP(2, [5, 1], rng=random.Random(42)).state_dict()
    b = nn.MLP(2, [5, 1], rng=random.Random(42)).state_dict()
    c = nn.MLP(2, [5, 1], rng=random.Random(43)).state_dict()
    assert a == b and a != c


def test_without_rng_the_global_random_module_is_used():
    random.seed(7)
    a = nn.MLP(2, [5, 1]).state_dict()
    random.seed(7)
    assert nn.MLP(2, [5, 1]).state_dict() == a


def weights_and_biases(module):
    named = module.named_parameters()
    return ([p.data for name, p in named if not name.endswith(".b")],
            [p.data for name, p in named if name.endswith(".b")])


@pytest.mark.parametrize(
    ("init", "bound"),
    [("uniform", 1.0), ("xavier", math.sqrt(6 / (40 + 30))), ("he", math.sqrt(6 / 40))],
)
def test_init_schemes_draw_uniform_weights_within_their_bound_and_zero_biases(init, bound):
    layer = nn.Layer(40, 30, "relu", rng=random.Random(0), init=init)
    weights, biases = weights_and_biases(layer)
    assert max(abs(w) for w in weights) <= bound
    assert max(abs(w) for w in weights) > 0.95 * bound  # 1200 draws fill the interval
    assert sum(weights) / len(weights) == pytest.approx(0.0, abs=0.05 * bound)
    assert biases == [0.0] * 30


def test_default_init_is_micrograd_uniform_minus_one_to_one():
    neuron = nn.Neuron(4, "relu", rng=random.Random(9))
    expected = random.Random(9)
    assert [w.data for w in neuron.w] == [expected.uniform(-1, 1) for _ in range(4)]


@pytest.mark.parametrize("make", [
    lambda: nn.Neuron(2, "softmax"),
    lambda: nn.Layer(2, 2, "Relu"),
    lambda: nn.MLP(2, [2, 1], activation="gelu"),
])
def test_unknown_activation_raises_naming_the_choices(make):
    with pytest.raises(ValueError, match="'relu', 'tanh', 'sigmoid', 'linear'"):
        make()


def test_unknown_init_raises_naming_the_choices():
    with pytest.raises(ValueError, match="'uniform', 'xavier', 'he'"):
        nn.MLP(2, [2, 1], init="normal")


@pytest.mark.parametrize("make", [
    lambda: nn.Neuron(0, "relu"),
    lambda: nn.Layer(2, -1, "relu"),
    lambda: nn.MLP(2, []),
    lambda: nn.MLP(2, [3, 0]),
    lambda: nn.MLP(2.0, [3]),
    lambda: nn.MLP(2, 3),
])
def test_bad_sizes_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize(
    "module", [nn.Neuron(2, "relu"), nn.Layer(2, 3, "relu"), nn.MLP(2, [3, 1])]
)
def test_wrong_input_length_says_what_was_expected(module):
    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        module([1.0, 2.0, 3.0])


def test_a_bare_number_input_is_a_type_error_asking_for_a_list():
    with pytest.raises(TypeError, match="list of 2"):
        nn.Layer(2, 1, "linear")(1.0)
