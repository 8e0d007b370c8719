"""Module: parameter discovery and names, modes, state dicts and their validation."""

import math
import random

import pytest

import nn
from autograd import Value


class Pair(nn.Module):
    """A hand-made module: a Value, a nested list, a child and things to ignore."""

    def __init__(self):
        self.scale = Value(2.0)
        self.grid = [[Value(1.0), Value(2.0)], [Value(3.0)]]
        self.inner = nn.Neuron(2, "relu", rng=random.Random(0))
        self.size = 3  # not a Module or Value: ignored
        self.notes = ["text", 1.5]  # a list without Values: ignored
        self._hidden = Value(9.0)  # private: ignored

    def __call__(self, x):
        return self.inner(x) * self.scale


def small_mlp(seed=0):
    return nn.MLP(2, [3, 2], rng=random.Random(seed))


def test_named_parameters_use_dotted_paths_through_lists_and_children():
    names = [name for name, _ in Pair().named_parameters()]
    assert names == ["scale", "grid.0.0", "grid.0.1", "grid.1.0", "inner.w.0", "inner.w.1",
                     "inner.b"]


def test_mlp_parameter_names_point_at_the_right_values():
    model = nn.MLP(2, [16, 16, 1], rng=random.Random(0))
    named = dict(model.named_parameters())
    assert len(named) == 337
    assert named["layers.0.neurons.3.w.1"] is model.layers[0].neurons[3].w[1]
    assert named["layers.2.neurons.0.b"] is model.layers[2].neurons[0].b
    assert list(named)[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1",
                               "layers.0.neurons.0.b"]


def test_parameters_follow_named_parameters_order():
    model = small_mlp()
    assert model.parameters() == [p for _, p in model.named_parameters()]
    assert all(a is b for a, (_, b) in zip(model.parameters(), model.named_parameters()))


def test_parameters_returns_a_fresh_list_each_call():
    model = small_mlp()
    first = model.parameters()
    first.clear()
    assert len(model.parameters()) == 2 * 3 + 3 + 3 * 2 + 2


def test_shared_value_is_listed_once_under_its_first_name():
    class Tied(nn.Module):
        def __init__(self):
            self.a = Value(1.0)
            self.b = [self.a, Value(2.0)]

    names = [name for name, _ in Tied().named_parameters()]
    assert names == ["a", "b.1"]


def test_modules_lists_each_descendant_once_parents_first():
    model = small_mlp()
    modules = model.modules()
    assert modules[0] is model
    assert modules[1] is model.layers[0]
    assert modules[2] is model.layers[0].neurons[0]
    assert len(modules) == 1 + 2 + 3 + 2


def test_zero_grad_resets_every_parameter():
    model = small_mlp()
    model([1.0, -2.0])[0].backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_eval_and_train_propagate_to_every_descendant():
    model = Pair()
    assert model.training and model.inner.training
    assert model.eval() is model
    assert not model.training and not model.inner.training
    model.train()
    assert model.training and model.inner.training


def test_train_rejects_a_non_bool_mode():
    with pytest.raises(TypeError, match="bool"):
        small_mlp().train("no")


def test_state_dict_maps_names_to_floats():
    model = Pair()
    state = model.state_dict()
    assert list(state) == [name for name, _ in model.named_parameters()]
    assert state["scale"] == 2.0 and state["grid.1.0"] == 3.0
    assert all(type(v) is float for v in state.values())


def test_load_state_dict_copies_values_in():
    source, target = small_mlp(seed=1), small_mlp(seed=2)
    target.load_state_dict(source.state_dict())
    assert target.state_dict() == source.state_dict()
    assert [v.data for v in target([0.3, -0.4])] == [v.data for v in source([0.3, -0.4])]


def test_load_state_dict_accepts_ints():
    model = Pair()
    state = {name: 1 for name in model.state_dict()}
    model.load_state_dict(state)
    assert model.scale.data == 1.0 and type(model.scale.data) is float


def test_mismatched_state_lists_missing_and_unexpected_and_changes_nothing():
    model = small_mlp()
    before = model.state_dict()
    state = dict(before)
    del state["layers.1.neurons.0.b"]
    state["layers.9.w.0"] = 0.5
    state = {name: 7.0 for name in state}
    with pytest.raises(ValueError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert "missing: 1 (layers.1.neurons.0.b)" in message
    assert "unexpected: 1 (layers.9.w.0)" in message
    assert model.state_dict() == before


@pytest.mark.parametrize("bad", [True, "1.0", None, math.nan, math.inf, -math.inf, [1.0],
                                 10**400])
def test_bad_value_in_state_raises_and_changes_nothing(bad):
    model = small_mlp()
    before = model.state_dict()
    state = {name: 0.25 for name in before}
    state[list(state)[-1]] = bad  # the last entry: earlier ones would be written first
    with pytest.raises(ValueError, match="finite int or float"):
        model.load_state_dict(state)
    assert model.state_dict() == before


def test_load_state_dict_rejects_a_non_mapping():
    with pytest.raises(ValueError, match="dict"):
        small_mlp().load_state_dict([("layers.0.neurons.0.b", 1.0)])


def test_buffers_are_saved_and_restored():
    bn = nn.BatchNorm1d(2)
    bn([[1.0, 2.0], [3.0, 6.0]])
    state = bn.state_dict()
    assert state["running_mean.1"] == pytest.approx(0.4)
    fresh = nn.BatchNorm1d(2)
    fresh.load_state_dict(state)
    assert fresh.running_mean == bn.running_mean
    assert fresh.running_var == bn.running_var


def test_buffers_of_children_get_the_child_prefix():
    class Net(nn.Module):
        def __init__(self):
            self.norm = nn.BatchNorm1d(1)

    assert list(Net().state_dict()) == ["norm.gamma.0", "norm.beta.0", "norm.running_mean.0",
                                        "norm.running_var.0"]


def test_repr_shows_the_tree_and_parameter_count():
    assert repr(nn.MLP(2, [16, 16, 1])).splitlines() == [
        "MLP(",
        "  nin=2, nouts=[16, 16, 1], activation='relu', 337 parameters",
        "  (layers.0): Layer(nin=2, nout=16, activation='relu')",
        "  (layers.1): Layer(nin=16, nout=16, activation='relu')",
        "  (layers.2): Layer(nin=16, nout=1, activation='linear')",
        ")",
    ]
    assert repr(Pair()).splitlines()[2] == "  (inner): Neuron(nin=2, activation='relu')"


def test_package_docstring_example_runs():
    import doctest

    assert doctest.testmod(nn, raise_on_error=False).failed == 0


def test_a_child_used_twice_or_a_cycle_is_walked_once():
    class Twice(nn.Module):
        def __init__(self):
            self.a = nn.Neuron(1, "relu")
            self.b = self.a
            self.me = [self]

    model = Twice()
    assert [name for name, _ in model.named_parameters()] == ["a.w.0", "a.b"]
    assert model.modules() == [model, model.a]
    assert repr(model).splitlines()[3:] == ["  (b): Neuron(...)  # shown above",
                                            "  (me.0): Twice(...)  # shown above", ")"]
