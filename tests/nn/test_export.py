"""nn.export: chainrule models and PyTorch agree number for number, both ways and on disk.

Every test that needs torch, safetensors or numpy asks for it through a fixture that skips
when it is missing (CI does not install the extras); the missing-extras tests need none.
"""

import random
import subprocess
import sys
from pathlib import Path

import pytest

import nn
import nn.export
from autograd import Value

ROOT = Path(__file__).resolve().parents[2]
TOL = 1e-12


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def st_torch(torch):
    pytest.importorskip("numpy")
    pytest.importorskip("safetensors")
    return pytest.importorskip("safetensors.torch")


@pytest.fixture
def st_numpy():
    pytest.importorskip("numpy")
    pytest.importorskip("safetensors")
    return pytest.importorskip("safetensors.numpy")


def run_python(code):
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


# -- the extras are optional ---------------------------------------------------------------


def test_import_nn_and_nn_export_import_neither_torch_nor_numpy_nor_safetensors():
    result = run_python(
        "import sys, nn, nn.export\n"
        "print(sorted(m for m in ('torch', 'numpy', 'safetensors') if m in sys.modules))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_without_the_extras_each_function_says_how_to_install_them():
    # None in sys.modules makes `import torch` (and numpy, safetensors) fail as if missing.
    result = run_python(
        "import sys\n"
        "for name in ('torch', 'numpy', 'safetensors', 'safetensors.numpy'):\n"
        "    sys.modules[name] = None\n"
        "import nn, nn.export\n"
        "model = nn.MLP(2, [3, 1])\n"
        "calls = [lambda: nn.export.to_torch(model), lambda: nn.export.from_torch(object()),\n"
        "         lambda: nn.export.save_safetensors(model, 'never.safetensors'),\n"
        "         lambda: nn.export.load_safetensors('never.safetensors')]\n"
        "for call in calls:\n"
        "    try:\n"
        "        call()\n"
        "    except ModuleNotFoundError as error:\n"
        "        print(error)\n"
        "    else:\n"
        "        print('no error')\n"
        "print(nn.export.torch_state_dict(model)['0.weight'] == [[w.data for w in n.w]\n"
        "      for n in model.layers[0].neurons])\n"
    )
    assert result.returncode == 0, result.stderr
    to_torch, from_torch, save, load, state_ok = result.stdout.strip().splitlines()
    for message, caller in ((to_torch, "to_torch"), (from_torch, "from_torch")):
        assert f"nn.export.{caller} needs PyTorch" in message
        assert "pip install 'chainrule[torch]'" in message and "pip install torch" in message
    for message, caller in ((save, "save_safetensors"), (load, "load_safetensors")):
        assert f"nn.export.{caller} needs the safetensors and numpy packages" in message
        assert "pip install 'chainrule[safetensors]'" in message
    assert state_ok == "True"  # the PyTorch-layout state needs no extra at all
    assert not (ROOT / "never.safetensors").exists()


# -- helpers ---------------------------------------------------------------------------------


def assert_close(actual, expected, where=""):
    """Nested lists (or tensors' tolist()) equal entry by entry to within TOL."""
    if isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, f"{where}[{i}]")
    else:
        assert abs(actual - expected) <= TOL, f"{where}: {actual!r} != {expected!r}"


def data(values):
    if isinstance(values, Value):
        return values.data
    return [data(v) for v in values]


def grads(values):
    if isinstance(values, Value):
        return values.grad
    return [grads(v) for v in values]


def torch_layout_grads(model):
    """The chainrule parameters' gradients, under PyTorch's names and shapes."""
    params = model.parameters()
    saved = [p.data for p in params]
    for p in params:
        p.data = p.grad
    try:
        return nn.export.torch_state_dict(model)
    finally:
        for p, value in zip(params, saved):
            p.data = value


def assert_same_parameter_grads(model, torch_model):
    expected = torch_layout_grads(model)
    names = []
    for name, p in torch_model.named_parameters():
        # torch's second RNN bias is added to the first, so it has the first's gradient.
        reference = expected["bias_ih_l0" if name == "bias_hh_l0" else name]
        assert_close(p.grad.tolist(), reference, name)
        names.append(name)
    assert names, "the torch module has no parameters"


def tensor(torch, values, requires_grad=False):
    return torch.tensor(values, dtype=torch.float64, requires_grad=requires_grad)


def randoms(rng, *shape):
    if not shape:
        return rng.uniform(-1.5, 1.5)
    return [randoms(rng, *shape[1:]) for _ in range(shape[0])]


# -- MLP ---------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("nouts", [[5, 4, 3], [4, 1]])
def test_mlp_forward_and_gradients_match_torch(torch, activation, nouts):
    rng = random.Random(len(nouts))
    model = nn.MLP(3, nouts, activation=activation, rng=rng)
    torch_model = nn.export.to_torch(model)
    assert all(p.dtype == torch.float64 for p in torch_model.parameters())
    batch = randoms(rng, 6, 3)
    weights = randoms(rng, 6, nouts[-1])  # a random linear loss makes every gradient count

    loss = Value(0.0)
    outputs = []
    for x, w in zip(batch, weights):
        out = model(x)
        out = [out] if isinstance(out, Value) else out
        outputs.append(data(out))
        loss = loss + sum(o * c for o, c in zip(out, w))
    loss.backward()

    torch_out = torch_model(tensor(torch, batch))
    (torch_out * tensor(torch, weights)).sum().backward()

    assert_close(torch_out.tolist(), outputs)
    assert_same_parameter_grads(model, torch_model)


def test_mlp_becomes_a_sequential_of_linear_and_activation_layers(torch):
    model = nn.MLP(2, [4, 3, 1], activation="tanh", rng=random.Random(0))
    torch_model = nn.export.to_torch(model)
    kinds = [type(child).__name__ for child in torch_model]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]  # the last layer is linear
    state = torch_model.state_dict()
    assert state["0.weight"].shape == (4, 2) and state["4.bias"].shape == (1,)
    # row j of a Linear's weight is neuron j's w
    assert state["2.weight"][1].tolist() == [w.data for w in model.layers[1].neurons[1].w]
    linear = nn.export.to_torch(nn.MLP(2, [3, 2], activation="linear", rng=random.Random(0)))
    assert [type(child).__name__ for child in linear] == ["Linear", "Linear"]


def test_train_and_eval_modes_are_carried_over(torch):
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    assert all(m.training for m in nn.export.to_torch(model).modules())
    model.eval()
    assert not any(m.training for m in nn.export.to_torch(model).modules())
    norm = nn.BatchNorm1d(3)
    norm.eval()
    torch_norm = nn.export.to_torch(norm)
    assert not torch_norm.training
    assert not nn.export.from_torch(torch_norm).training
    assert nn.export.from_torch(torch_norm.train()).training


def test_a_torch_state_loads_into_an_mlp_and_back(torch):
    source = nn.MLP(3, [4, 2], rng=random.Random(1))
    target = nn.MLP(3, [4, 2], rng=random.Random(2))
    nn.export.load_torch_state_dict(target, nn.export.to_torch(source).state_dict())
    assert target.state_dict() == source.state_dict()  # exactly: float64 all the way


def test_an_mlp_comes_back_as_the_equivalent_sequential(torch):
    model = nn.MLP(3, [4, 2], activation="sigmoid", rng=random.Random(13))
    back = nn.export.from_torch(nn.export.to_torch(model))
    assert [type(m).__name__ for m in back] == ["Linear", "Sigmoid", "Linear"]
    assert nn.export.torch_state_dict(back) == nn.export.torch_state_dict(model)
    x = [0.2, -0.7, 1.1]
    assert data(back(x)) == data(model(x))


# -- Linear, Sequential, ReLU / Tanh / Sigmoid ----------------------------------------------


def sequential(rng, bias=True):
    return nn.Sequential(
        nn.Linear(3, 5, rng=rng), nn.ReLU(), nn.Linear(5, 4, bias=bias, rng=rng), nn.Tanh(),
        nn.Sequential(nn.Linear(4, 2, rng=rng), nn.Sigmoid()),
    )


@pytest.mark.parametrize("bias", [True, False])
def test_sequential_of_linear_and_activations_matches_torch(torch, bias):
    rng = random.Random(14)
    model = sequential(rng, bias)
    torch_model = nn.export.to_torch(model)
    kinds = [type(m).__name__ for m in torch_model.modules()]
    assert kinds == ["Sequential", "Linear", "ReLU", "Linear", "Tanh", "Sequential", "Linear",
                     "Sigmoid"]
    assert (torch_model[2].bias is None) is (not bias)
    batch = randoms(rng, 5, 3)
    weights = randoms(rng, 5, 2)

    inputs = [[Value(x) for x in row] for row in batch]
    outputs = [model(row) for row in inputs]
    sum(o * c for out, ws in zip(outputs, weights) for o, c in zip(out, ws)).backward()

    torch_inputs = tensor(torch, batch, requires_grad=True)
    torch_out = torch_model(torch_inputs)
    (torch_out * tensor(torch, weights)).sum().backward()

    assert_close(torch_out.tolist(), data(outputs))
    assert_close(torch_inputs.grad.tolist(), grads(inputs), "input gradient")
    assert_same_parameter_grads(model, torch_model)


def test_linear_keeps_pytorchs_layout_and_names(torch):
    linear = nn.Linear(3, 2, rng=random.Random(15))
    state = nn.export.to_torch(linear).state_dict()
    assert list(state) == ["weight", "bias"]
    assert state["weight"].tolist() == data(linear.weight)  # (nout, nin), not transposed
    assert state["bias"].tolist() == data(linear.bias)


def test_sequential_round_trip_keeps_state_and_modes(torch):
    model = sequential(random.Random(16), bias=False)
    model[4].eval()
    back = nn.export.from_torch(nn.export.to_torch(model))
    assert [type(m).__name__ for m in back.modules()] == [
        type(m).__name__ for m in model.modules()
    ]
    assert back.state_dict() == model.state_dict()
    assert [m.training for m in back.modules()] == [m.training for m in model.modules()]
    assert nn.export.to_torch(model)[4].training is False


def test_torch_sequential_with_named_children_comes_back_numbered(torch):
    from collections import OrderedDict

    torch.manual_seed(1)
    torch_model = torch.nn.Sequential(OrderedDict(
        hidden=torch.nn.Linear(2, 3, dtype=torch.float64), act=torch.nn.ReLU(),
        out=torch.nn.Linear(3, 1, dtype=torch.float64),
    ))
    model = nn.export.from_torch(torch_model)
    assert [name for name, _ in model.named_children()] == ["0", "1", "2"]
    x = [0.4, -0.3]
    assert_close(data(model(x)), torch_model(tensor(torch, x)).tolist())


def test_a_shared_module_stays_shared_both_ways(torch):
    shared = nn.Linear(2, 2, rng=random.Random(17))
    model = nn.Sequential(shared, nn.Tanh(), shared)
    torch_model = nn.export.to_torch(model)
    assert torch_model[0] is torch_model[2]
    x = [0.3, -0.8]
    assert_close(torch_model(tensor(torch, x)).tolist(), data(model(x)))
    back = nn.export.from_torch(torch_model)
    assert back[0] is back[2] and back.state_dict() == model.state_dict()


def test_a_slice_of_a_sequential_exports_under_torchs_position_names(torch):
    model = sequential(random.Random(18))
    tail = model[2:]  # its children keep their names 2, 3, 4
    torch_tail = nn.export.to_torch(tail)
    assert list(torch_tail.state_dict()) == ["0.weight", "0.bias", "2.0.weight", "2.0.bias"]
    x = [0.5, -0.1, 0.9, 0.3, -1.2]
    assert_close(torch_tail(tensor(torch, x)).tolist(), data(tail(x)))


# -- BatchNorm1d ---------------------------------------------------------------------------


def batchnorm(rng, features=3):
    norm = nn.BatchNorm1d(features, eps=1e-3, momentum=0.25)
    for p in norm.parameters():
        p.data = rng.uniform(0.5, 1.5)
    norm.running_mean = [rng.uniform(-1, 1) for _ in range(features)]
    norm.running_var = [rng.uniform(0.5, 2) for _ in range(features)]
    return norm


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_forward_gradients_and_running_stats_match_torch(torch, training):
    rng = random.Random(3)
    norm = batchnorm(rng)
    norm.train(training)
    torch_norm = nn.export.to_torch(norm)
    assert torch_norm.eps == norm.eps and torch_norm.momentum == norm.momentum
    assert torch_norm.training is training
    rows = randoms(rng, 6, 3)
    weights = randoms(rng, 6, 3)

    inputs = [[Value(x) for x in row] for row in rows]
    out = norm(inputs)
    sum(y * c for row, ws in zip(out, weights) for y, c in zip(row, ws)).backward()

    torch_inputs = tensor(torch, rows, requires_grad=True)
    torch_out = torch_norm(torch_inputs)
    (torch_out * tensor(torch, weights)).sum().backward()

    assert_close(torch_out.tolist(), data(out))
    assert_close(torch_inputs.grad.tolist(), grads(inputs), "input gradient")
    assert_same_parameter_grads(norm, torch_norm)
    # after a training forward both moved their running statistics the same way
    assert_close(torch_norm.running_mean.tolist(), norm.running_mean, "running_mean")
    assert_close(torch_norm.running_var.tolist(), norm.running_var, "running_var")


def test_batchnorm_round_trip_keeps_parameters_and_running_stats(torch):
    norm = batchnorm(random.Random(4))
    norm([[0.1, 0.2, 0.3], [0.5, -0.4, 1.0]])  # running stats moved once
    back = nn.export.from_torch(nn.export.to_torch(norm))
    assert type(back) is nn.BatchNorm1d
    assert (back.eps, back.momentum) == (norm.eps, norm.momentum)
    assert back.state_dict() == norm.state_dict()


def test_batchnorm_writes_num_batches_tracked_for_strict_loading(torch):
    state = nn.export.torch_state_dict(nn.BatchNorm1d(2))
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert state["num_batches_tracked"] == 0
    assert nn.export.to_torch(nn.BatchNorm1d(2)).num_batches_tracked.dtype == torch.int64


# -- RNN ---------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("with_h0", [False, True])
def test_rnn_forward_and_gradients_match_torch(torch, activation, with_h0):
    rng = random.Random(5)
    rnn = nn.RNN(3, 4, activation=activation, rng=rng)
    torch_rnn = nn.export.to_torch(rnn)
    assert type(torch_rnn) is torch.nn.RNN and torch_rnn.batch_first
    assert torch_rnn.nonlinearity == activation
    xs = randoms(rng, 5, 3)
    h0 = randoms(rng, 4) if with_h0 else None
    weights = randoms(rng, 5, 4)

    inputs = [[Value(x) for x in step] for step in xs]
    h0_values = [Value(v) for v in h0] if with_h0 else None
    hs, h = rnn(inputs, h0_values)
    sum(v * c for step, ws in zip(hs, weights) for v, c in zip(step, ws)).backward()

    # chainrule's one sequence is a batch of one, batch first: (1, T, nin), h0 (1, 1, nhidden)
    torch_xs = tensor(torch, [xs], requires_grad=True)
    torch_h0 = tensor(torch, [[h0]], requires_grad=True) if with_h0 else None
    out, h_n = torch_rnn(torch_xs, torch_h0)
    (out[0] * tensor(torch, weights)).sum().backward()

    assert out.shape == (1, 5, 4) and h_n.shape == (1, 1, 4)
    assert_close(out[0].tolist(), data(hs))
    assert_close(h_n[0][0].tolist(), data(h))
    assert_close(torch_xs.grad[0].tolist(), grads(inputs), "input gradient")
    if with_h0:
        assert_close(torch_h0.grad[0][0].tolist(), grads(h0_values), "h0 gradient")
    assert_same_parameter_grads(rnn, torch_rnn)


def test_rnn_weights_are_transposed_and_the_second_bias_is_zero(torch):
    rnn = nn.RNN(2, 3, rng=random.Random(6))
    state = nn.export.to_torch(rnn).state_dict()
    assert state["weight_ih_l0"].shape == (3, 2) and state["weight_hh_l0"].shape == (3, 3)
    assert state["weight_ih_l0"].T.tolist() == data(rnn.cell.W_xh)
    assert state["weight_hh_l0"].T.tolist() == data(rnn.cell.W_hh)
    assert state["bias_ih_l0"].tolist() == data(rnn.cell.b)
    assert state["bias_hh_l0"].tolist() == [0.0, 0.0, 0.0]


def test_rnn_round_trip_keeps_the_state(torch):
    rnn = nn.RNN(3, 2, activation="relu", rng=random.Random(7))
    back = nn.export.from_torch(nn.export.to_torch(rnn))
    assert type(back) is nn.RNN and back.activation == "relu"
    assert back.state_dict() == rnn.state_dict()


def test_a_torch_rnn_with_both_biases_comes_back_with_their_sum(torch):
    torch.manual_seed(0)
    torch_rnn = torch.nn.RNN(3, 4, batch_first=False, dtype=torch.float64)  # either layout
    rnn = nn.export.from_torch(torch_rnn)
    xs = randoms(random.Random(8), 6, 3)
    out, _ = torch_rnn(tensor(torch, xs).unsqueeze(1))  # (T, 1, nin) without batch_first
    hs, _ = rnn(xs)
    assert_close(out[:, 0].tolist(), data(hs))


# -- what is refused -------------------------------------------------------------------------


def test_from_torch_names_an_unsupported_torch_module(torch):
    with pytest.raises(TypeError, match=r"torch\.nn\.modules\.conv\.Conv1d is not supported"):
        nn.export.from_torch(torch.nn.Conv1d(1, 1, 1))
    with pytest.raises(TypeError, match="LSTM is not supported"):
        nn.export.from_torch(torch.nn.LSTM(2, 2))
    with pytest.raises(TypeError, match=r"dropout\.Dropout is not supported"):
        nn.export.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout()))
    with pytest.raises(TypeError, match="takes a torch.nn.Module, got list"):
        nn.export.from_torch([1.0])


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda tnn: tnn.RNN(2, 2, num_layers=2), "num_layers=2"),
        (lambda tnn: tnn.RNN(2, 2, bidirectional=True), "bidirectional=True"),
        (lambda tnn: tnn.RNN(2, 2, bias=False), "bias=False"),
        (lambda tnn: tnn.BatchNorm1d(2, affine=False), "affine=False"),
        (lambda tnn: tnn.BatchNorm1d(2, momentum=None), "momentum=None"),
        (lambda tnn: tnn.BatchNorm1d(2, track_running_stats=False), "track_running_stats"),
    ],
)
def test_from_torch_refuses_settings_chainrule_does_not_have(torch, make, match):
    with pytest.raises(ValueError, match=match):
        nn.export.from_torch(make(torch.nn))


def test_to_torch_refuses_what_torch_cannot_express(torch):
    with pytest.raises(TypeError, match="Neuron has no PyTorch counterpart"):
        nn.export.to_torch(nn.Neuron(2, "relu"))
    with pytest.raises(TypeError, match="Layer has no PyTorch counterpart"):
        nn.export.to_torch(nn.Sequential(nn.Linear(2, 2), nn.Layer(2, 2, "relu")))
    with pytest.raises(ValueError, match="'sigmoid'"):
        nn.export.to_torch(nn.RNN(2, 2, activation="sigmoid"))


def test_a_mismatched_torch_state_is_refused_and_changes_nothing(torch):
    model = nn.MLP(2, [3, 1], rng=random.Random(9))
    before = model.state_dict()
    state = nn.export.to_torch(nn.MLP(2, [4, 1], rng=random.Random(0))).state_dict()
    with pytest.raises(ValueError, match=r"0\.weight has shape \(4, 2\), expected \(3, 2\)"):
        nn.export.load_torch_state_dict(model, state)
    with pytest.raises(ValueError, match="missing: 2.bias; unexpected: 2.b"):
        state = nn.export.torch_state_dict(model)
        state["2.b"] = state.pop("2.bias")
        nn.export.load_torch_state_dict(model, state)
    norm = nn.BatchNorm1d(2)
    bad = nn.export.torch_state_dict(norm)
    bad["running_var"] = [1.0, -1.0]
    with pytest.raises(ValueError, match="running_var.1 is a variance"):
        nn.export.load_torch_state_dict(norm, bad)
    assert model.state_dict() == before and norm.running_var == [1.0, 1.0]


# -- safetensors -------------------------------------------------------------------------------


def models():
    rng = random.Random(10)
    norm = batchnorm(rng)
    norm([[0.3, 0.1, -0.2], [0.0, 0.7, 0.4]])
    return [nn.MLP(3, [4, 2], rng=rng), norm, nn.RNN(3, 2, rng=rng), sequential(rng)]


ARCHITECTURES = [
    lambda: nn.MLP(3, [4, 2]),
    lambda: nn.BatchNorm1d(3),
    lambda: nn.RNN(3, 2),
    lambda: sequential(random.Random(0)),
]


@pytest.mark.parametrize("index", range(4), ids=["MLP", "BatchNorm1d", "RNN", "Sequential"])
def test_a_safetensors_file_loads_into_torch_strictly(tmp_path, st_torch, torch, index):
    model = models()[index]
    path = tmp_path / "model.safetensors"
    nn.export.save_safetensors(model, path)
    tensors = st_torch.load_file(str(path))
    assert all(t.dtype == (torch.int64 if "num_batches" in n else torch.float64)
               for n, t in tensors.items())
    # a fresh torch module of the same architecture, with other weights, takes the file
    fresh = nn.export.to_torch(ARCHITECTURES[index]())
    fresh.load_state_dict(tensors, strict=True)
    expected = nn.export.to_torch(model).state_dict()
    assert list(fresh.state_dict()) == list(expected)
    for name, value in expected.items():
        assert torch.equal(fresh.state_dict()[name], value), name


def test_safetensors_round_trip_into_a_chainrule_model(tmp_path, st_numpy):
    path = tmp_path / "rnn.safetensors"
    rnn = nn.RNN(3, 2, rng=random.Random(11))
    nn.export.save_safetensors(rnn, str(path))
    assert not [p for p in tmp_path.iterdir() if p.name != "rnn.safetensors"]  # no temporaries
    tensors = nn.export.load_safetensors(path)
    assert sorted(tensors) == ["bias_hh_l0", "bias_ih_l0", "weight_hh_l0", "weight_ih_l0"]
    assert tensors["weight_ih_l0"] == [[row[j].data for row in rnn.cell.W_xh] for j in range(2)]
    target = nn.RNN(3, 2, rng=random.Random(12))
    nn.export.load_torch_state_dict(target, tensors)
    assert target.state_dict() == rnn.state_dict()
    norm_path = tmp_path / "norm.safetensors"
    nn.export.save_safetensors(nn.BatchNorm1d(2), norm_path)
    assert nn.export.load_safetensors(norm_path)["num_batches_tracked"] == 0


def test_load_safetensors_refuses_a_file_in_another_format(tmp_path, st_numpy):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="is not a .safetensors file"):
        nn.export.load_safetensors(path)
