"""PyTorch-shaped modules: forward via __call__, Linear, the activations, Sequential, the tree."""

import math
import random

import pytest

import autograd
import nn
from autograd import Value, gradcheck


def small_seq(seed=0):
    rng = random.Random(seed)
    return nn.Sequential(nn.Linear(2, 3, rng=rng), nn.ReLU(), nn.Linear(3, 1, rng=rng))


# -- forward ------------------------------------------------------------------------------


def test_a_subclass_defines_forward_and_calling_the_module_runs_it():
    class Scale(nn.Module):
        def __init__(self):
            self.k = Value(3.0)

        def forward(self, x, offset=0.0):
            return x * self.k + offset

    out = Scale()(Value(2.0), offset=1.0)
    assert out.data == 7.0


def test_a_subclass_without_forward_says_to_define_it():
    class Empty(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match=r"Empty defines no forward\(\)"):
        Empty()([1.0])


def test_a_subclass_defining_call_still_works():
    class Old(nn.Module):
        def __call__(self, x):
            return x + 1.0

    assert Old()(Value(1.0)).data == 2.0
    cell = nn.RNNCell(2, 3, rng=random.Random(0))
    assert len(cell([1.0, 0.5])) == 3


def test_the_library_modules_define_forward():
    for cls in (nn.Neuron, nn.Layer, nn.MLP, nn.BatchNorm1d, nn.Linear, nn.Sequential, nn.ReLU):
        assert cls.forward is not nn.Module.forward and cls.__call__ is nn.Module.__call__
    mlp = nn.MLP(2, [3, 1], rng=random.Random(0))
    assert mlp.forward([0.5, 1.0]).data == mlp([0.5, 1.0]).data


# -- Linear -------------------------------------------------------------------------------


def test_linear_has_pytorch_shapes_and_returns_a_list():
    layer = nn.Linear(4, 3, rng=random.Random(0))
    assert len(layer.weight) == 3 and all(len(row) == 4 for row in layer.weight)
    assert len(layer.bias) == 3
    assert len(layer.parameters()) == 4 * 3 + 3
    out = nn.Linear(4, 1)([1.0, 2.0, 3.0, 4.0])
    assert isinstance(out, list) and len(out) == 1 and isinstance(out[0], Value)


def test_linear_is_affine_with_no_activation():
    layer = nn.Linear(2, 2, rng=random.Random(0))
    for row, (a, b) in zip(layer.weight, [(1.0, -2.0), (-3.0, 0.5)]):
        row[0].data, row[1].data = a, b
    layer.bias[0].data, layer.bias[1].data = -10.0, 0.25
    out = layer([2.0, 3.0])
    assert [v.data for v in out] == [2.0 - 6.0 - 10.0, -6.0 + 1.5 + 0.25]  # negative kept


def test_linear_without_bias_has_none_and_no_bias_parameters():
    layer = nn.Linear(3, 2, bias=False, rng=random.Random(1))
    assert layer.bias is None
    assert len(layer.parameters()) == 6
    assert list(layer.state_dict()) == [f"weight.{r}.{c}" for r in range(2) for c in range(3)]
    x = [0.5, -1.0, 2.0]
    expected = [sum(w.data * xi for w, xi in zip(row, x)) for row in layer.weight]
    assert [v.data for v in layer(x)] == pytest.approx(expected, abs=1e-15)
    assert repr(layer) == "Linear(in_features=3, out_features=2, bias=False)"


def test_linear_gradients_are_the_hand_computed_ones():
    layer = nn.Linear(3, 2, rng=random.Random(2))
    xs = [Value(0.5), Value(-1.0), Value(2.0)]
    out = layer(xs)
    loss = out[0] * 2.0 + out[1] * -3.0  # dL/dy = (2, -3)
    loss.backward()
    upstream = [2.0, -3.0]
    for j, row in enumerate(layer.weight):
        assert [w.grad for w in row] == [upstream[j] * x.data for x in xs]  # dL/dW = g x^T
        assert layer.bias[j].grad == upstream[j]
    for i, x in enumerate(xs):  # dL/dx = W^T g
        assert x.grad == pytest.approx(sum(upstream[j] * layer.weight[j][i].data
                                           for j in range(2)))


def test_linear_gradients_match_finite_differences():
    layer = nn.Linear(3, 2, rng=random.Random(3))
    assert gradcheck(lambda a, b, c: nn.losses.l2(layer([a, b, c])), [0.4, -0.7, 1.1])


def test_linear_builds_one_dot_node_per_output_like_layer():
    rng = random.Random(4)
    layer = nn.Linear(16, 16, rng=rng)
    out = layer([Value(0.1 * i) for i in range(16)])
    assert [v.op for v in out] == ["dot"] * 16


def test_linear_starts_uniform_within_one_over_sqrt_nin_drawn_from_rng():
    layer = nn.Linear(100, 20, rng=random.Random(5))
    bound = 1.0 / math.sqrt(100)
    values = [p.data for p in layer.parameters()]
    assert max(map(abs, values)) <= bound and max(map(abs, values)) > 0.95 * bound
    expected = random.Random(5)
    assert [w.data for w in layer.weight[0][:3]] == [expected.uniform(-bound, bound)
                                                     for _ in range(3)]


def test_linear_under_no_grad_gives_the_recorded_numbers():
    layer = nn.Linear(3, 4, rng=random.Random(6))
    x = [0.3, -1.2, 0.7]
    recorded = [v.data for v in layer(x)]
    with autograd.no_grad():
        assert [v.data for v in layer(x)] == recorded
    unbiased = nn.Linear(3, 4, bias=False, rng=random.Random(6))
    recorded = [v.data for v in unbiased(x)]
    with autograd.no_grad():
        assert [v.data for v in unbiased(x)] == recorded


def test_linear_state_dict_names_are_pytorch_names_with_the_scalar_index():
    assert list(nn.Linear(2, 2).state_dict()) == [
        "weight.0.0", "weight.0.1", "weight.1.0", "weight.1.1", "bias.0", "bias.1"]


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda: nn.Linear(0, 2), ValueError, "Linear: nin must be a positive int, got 0"),
    (lambda: nn.Linear(2, 1.5), ValueError, "Linear: nout must be a positive int, got 1.5"),
    (lambda: nn.Linear(2, 2, "yes"), TypeError, "bias must be True or False, got 'yes'"),
    (lambda: nn.Linear(2, 2)([1.0]), ValueError, "Linear expects 2 inputs, got 1"),
    (lambda: nn.Linear(2, 2)(1.0), TypeError, "Linear takes a list of 2"),
])
def test_linear_errors_say_what_was_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make()


# -- activations --------------------------------------------------------------------------


@pytest.mark.parametrize(("module", "method"), [
    (nn.ReLU(), Value.relu), (nn.Tanh(), Value.tanh), (nn.Sigmoid(), Value.sigmoid)])
def test_activations_apply_elementwise_to_a_list_or_a_value(module, method):
    xs = [Value(-1.5), Value(0.0), Value(2.0)]
    assert [v.data for v in module(xs)] == [method(x).data for x in xs]
    assert module(Value(-0.5)).data == method(Value(-0.5)).data
    assert [v.data for v in module([-1.5, 0, 2.0])] == [method(x).data for x in xs]
    assert module.parameters() == [] and module.state_dict() == {}
    assert repr(module) == f"{type(module).__name__}()"


def test_activation_passes_gradients_through():
    x = Value(0.3)
    nn.Tanh()([x])[0].backward()
    assert x.grad == pytest.approx(1 - math.tanh(0.3) ** 2)


def test_activation_refuses_a_batch_with_a_hint():
    with pytest.raises(TypeError, match="each row of a batch"):
        nn.ReLU()([[1.0, 2.0]])
    with pytest.raises(TypeError, match="ReLU takes a Value or a list"):
        nn.ReLU()("1.0")


# -- Sequential ---------------------------------------------------------------------------


def test_sequential_chains_its_modules():
    seq = small_seq()
    x = [0.5, -0.25]
    expected = seq[2](seq[1](seq[0](x)))
    assert [v.data for v in seq(x)] == [v.data for v in expected]
    assert nn.Sequential()(x) is x


def test_sequential_indexing_len_iteration_and_slices():
    seq = small_seq()
    first, relu, last = list(seq)
    assert len(seq) == 3
    assert seq[0] is first and seq[1] is relu and seq[-1] is last and seq[-3] is first
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[1] is relu
    assert head.parameters() == first.parameters()  # shared, not copied
    assert len(seq[5:]) == 0
    with pytest.raises(IndexError, match="index 3 is out of range for 3 modules"):
        seq[3]
    with pytest.raises(IndexError):
        seq[-4]
    with pytest.raises(TypeError, match="ints or slices"):
        seq["0"]


def test_a_slice_keeps_the_pytorch_names():
    tail = small_seq()[1:]
    assert [name for name, _ in tail.named_children()] == ["1", "2"]
    assert list(tail.state_dict())[0] == "2.weight.0.0"


def test_sequential_state_dict_names_are_pytorch_names():
    assert list(small_seq().state_dict()) == [
        "0.weight.0.0", "0.weight.0.1", "0.weight.1.0", "0.weight.1.1", "0.weight.2.0",
        "0.weight.2.1", "0.bias.0", "0.bias.1", "0.bias.2",
        "2.weight.0.0", "2.weight.0.1", "2.weight.0.2", "2.bias.0",
    ]


def test_sequential_state_dict_round_trips_into_a_fresh_model():
    source, target = small_seq(1), small_seq(2)
    target.load_state_dict(source.state_dict())
    assert target([0.1, 0.2])[0].data == source([0.1, 0.2])[0].data


def test_sequential_refuses_non_modules_and_a_list():
    with pytest.raises(TypeError, match="argument 1 is a function, not an nn.Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)
    with pytest.raises(TypeError, match=r"separate arguments: Sequential\(\*modules\)"):
        nn.Sequential([nn.ReLU()])


def test_sequential_trains():
    X, y = nn.data.make_moons(40, seed=0)
    model = nn.Sequential(nn.Linear(2, 8, rng=random.Random(0)), nn.Tanh(), nn.Linear(8, 1))
    opt = nn.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(30):
        loss = nn.losses.hinge([model(x)[0] for x in X], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data)
    assert losses[-1] < 0.5 * losses[0]


# -- the tree -----------------------------------------------------------------------------


def test_repr_prints_the_tree_like_pytorch():
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(),
                          nn.Linear(16, 1), nn.Sigmoid())
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=16, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Linear(in_features=16, out_features=16, bias=True)\n"
        "  (3): Tanh()\n"
        "  (4): Linear(in_features=16, out_features=1, bias=True)\n"
        "  (5): Sigmoid()\n"
        ")"
    )
    assert repr(nn.Sequential()) == "Sequential()"


def test_repr_nests_a_sequential_inside_a_module():
    class Net(nn.Module):
        def __init__(self):
            self.body = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
            self.head = nn.Linear(2, 1, bias=False)

    assert repr(Net()).splitlines() == [
        "Net(",
        "  8 parameters",
        "  (body): Sequential(",
        "    (0): Linear(in_features=2, out_features=2, bias=True)",
        "    (1): ReLU()",
        "  )",
        "  (head): Linear(in_features=2, out_features=1, bias=False)",
        ")",
    ]


def test_children_named_children_modules_and_named_modules():
    seq = small_seq()
    first, relu, last = seq
    assert seq.children() == [first, relu, last]
    assert seq.named_children() == [("0", first), ("1", relu), ("2", last)]
    assert seq.modules() == [seq, first, relu, last]
    assert seq.named_modules() == [("", seq), ("0", first), ("1", relu), ("2", last)]
    mlp = nn.MLP(2, [3, 1])
    names = [name for name, _ in mlp.named_modules()]
    assert names[:3] == ["", "layers.0", "layers.0.neurons.0"]
    assert names[-1] == "layers.1.neurons.0"
    assert [m for _, m in mlp.named_modules()] == mlp.modules()


def test_a_shared_child_is_one_child_under_its_first_name():
    relu = nn.ReLU()
    seq = nn.Sequential(relu, nn.Linear(1, 1), relu)
    assert [name for name, _ in seq.named_children()] == ["0", "1"]
    assert len(seq.modules()) == 3
    assert repr(seq).splitlines()[3] == "  (2): ReLU(...)  # shown above"


# -- Layer needs its activation -----------------------------------------------------------


@pytest.mark.parametrize("owner, build", [("Layer", lambda: nn.Layer(2, 3)),
                                          ("Neuron", lambda: nn.Neuron(2))])
def test_a_layer_or_neuron_without_an_activation_is_refused_naming_the_choices(owner, build):
    with pytest.raises(TypeError, match=f"{owner}: activation is required; pass one of 'relu', "
                                        "'tanh', 'sigmoid', 'linear'"):
        build()
    assert nn.Layer(2, 3, "linear")([1.0, 1.0])[0].op == "dot"
    assert nn.Neuron(2, "linear")([1.0, 1.0]).op == "dot"


def test_mlp_keeps_relu_hidden_layers_and_a_linear_last_layer_by_default():
    mlp = nn.MLP(2, [4, 4, 1])
    assert [layer.activation for layer in mlp.layers] == ["relu", "relu", "linear"]
