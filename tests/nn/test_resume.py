"""Checkpoints that resume training: optimizer state dicts, one-file checkpoints, short errors."""

import math
import random

import pytest

import nn
from autograd import Value
from nn.optim import SGD, Adam

X, Y = nn.data.make_moons(30, noise=0.1, seed=0)


def model(seed=0):
    return nn.MLP(2, [8, 8, 1], rng=random.Random(seed))


def train(net, opt, steps):
    for _ in range(steps):
        loss = nn.losses.hinge([net(x) for x in X], Y)
        opt.zero_grad()
        loss.backward()
        opt.step()


OPTIMIZERS = {
    "sgd-momentum": lambda params, lr=0.05: SGD(params, lr=lr, momentum=0.9, weight_decay=1e-3),
    "adam": lambda params, lr=0.02: Adam(params, lr=lr, betas=(0.8, 0.99), weight_decay=1e-3),
}


@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_ten_steps_equal_five_saved_loaded_into_fresh_objects_and_five_more(tmp_path, kind):
    make = OPTIMIZERS[kind]
    straight = model()
    opt = make(straight.parameters())
    train(straight, opt, 10)

    first = model()
    first_opt = make(first.parameters())
    train(first, first_opt, 5)
    path = tmp_path / "run.json"
    nn.save({"model": first, "optimizer": first_opt, "step": 5}, path)
    del first, first_opt

    # Fresh objects: other starting weights and another lr, all replaced by the checkpoint.
    resumed = model(seed=99)
    resumed_opt = make(resumed.parameters(), lr=0.5)
    checkpoint = nn.load(path)
    assert checkpoint["step"] == 5
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    train(resumed, resumed_opt, 5)

    assert resumed.state_dict() == straight.state_dict()  # bit for bit
    assert resumed_opt.state_dict() == opt.state_dict()


@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_resuming_without_the_optimizer_state_differs(kind):
    # The test above has teeth: a fresh optimizer state changes the trajectory.
    make = OPTIMIZERS[kind]
    straight = model()
    train(straight, make(straight.parameters()), 10)
    first = model()
    train(first, make(first.parameters()), 5)
    train(first, make(first.parameters()), 5)
    assert first.state_dict() != straight.state_dict()


def test_load_returns_plain_data():
    net = model()
    opt = Adam(net.parameters(), lr=0.01)
    train(net, opt, 2)
    state = opt.state_dict()
    assert state["type"] == "Adam" and state["params"] == 105 and state["step"] == 2
    assert state["hyperparameters"] == {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8,
                                        "weight_decay": 0.0}
    assert len(state["m"]) == len(state["v"]) == 105
    sgd = SGD(net.parameters(), lr=0.1, momentum=0.5)
    assert sgd.state_dict()["momentum_buffers"] is None  # no step taken yet


def test_a_checkpoint_round_trips_as_plain_data(tmp_path):
    net = model()
    opt = SGD(net.parameters(), lr=0.1, momentum=0.9)
    train(net, opt, 1)
    path = tmp_path / "c.json"
    nn.save({"model": net, "optimizer": opt, "step": 5,
             "history": {"epochs": [1, 2], "best": {"epoch": 2, "loss": 0.25}},
             "both": [net, (1, 2)]}, path)
    loaded = nn.load(path)
    assert loaded == {"model": net.state_dict(), "optimizer": opt.state_dict(), "step": 5,
                      "history": {"epochs": [1, 2], "best": {"epoch": 2, "loss": 0.25}},
                      "both": [net.state_dict(), [1, 2]]}
    assert type(loaded["step"]) is int


def test_state_dict_is_a_copy_that_later_steps_leave_alone():
    net = model()
    opt = Adam(net.parameters())
    train(net, opt, 1)
    state = opt.state_dict()
    m = list(state["m"])
    train(net, opt, 1)
    assert state["m"] == m and state["step"] == 1


# -- validation: checked entirely before anything changes ----------------------------------


def trained_adam():
    net = model()
    opt = Adam(net.parameters(), lr=0.01)
    train(net, opt, 2)
    return opt


def trained_sgd():
    net = model()
    opt = SGD(net.parameters(), lr=0.01, momentum=0.9)
    train(net, opt, 2)
    return opt


def changed(state, **changes):
    state = dict(state, **{k: v for k, v in changes.items() if k != "hyper"})
    if "hyper" in changes:
        state["hyperparameters"] = dict(state["hyperparameters"], **changes["hyper"])
    return state


def last_item(values, value):
    return [*values[:-1], value]


ADAM_CASES = [
    (lambda s: trained_sgd().state_dict(), "the state is of type 'SGD', not 'Adam'"),
    (lambda s: changed(s, params=104), "the state is for 104 parameters, this Adam has 105"),
    (lambda s: changed(s, params=True), "the state is for True parameters"),
    (lambda s: changed(s, m=s["m"][:-1]), "m has 104 entries, expected 105"),
    (lambda s: changed(s, v=s["v"] + [0.0]), "v has 106 entries, expected 105"),
    (lambda s: changed(s, m=last_item(s["m"], math.nan)), r"m\[104\] must be a finite number"),
    (lambda s: changed(s, m=last_item(s["m"], math.inf)), r"m\[104\] must be a finite number"),
    (lambda s: changed(s, v=last_item(s["v"], -1e-9)), r"v\[104\] must be a finite number >= 0"),
    (lambda s: changed(s, v=last_item(s["v"], "0.1")), r"v\[104\] must be a finite number"),
    (lambda s: changed(s, m=None), "m must be a list of 105 numbers, got NoneType"),
    (lambda s: changed(s, step=-1), "step .* must be an int >= 0, got -1"),
    (lambda s: changed(s, step=2.0), "step .* must be an int >= 0, got 2.0"),
    (lambda s: changed(s, step=True), "step .* must be an int >= 0, got True"),
    (lambda s: changed(s, hyper={"lr": -0.1}), "hyperparameters: lr must be a number >= 0"),
    (lambda s: changed(s, hyper={"lr": math.nan}), "hyperparameters: lr must be a number"),
    (lambda s: changed(s, hyper={"betas": [1.0, 0.9]}), r"betas\[0\] must be a number \[0.0"),
    (lambda s: changed(s, hyper={"betas": [0.9]}), "betas must be a pair"),
    (lambda s: changed(s, hyperparameters=[0.01]), "hyperparameters must be a dict"),
    (lambda s: changed(s, hyper={"momentum": 0.9}), r"unexpected: 1 \(momentum\)"),
    (lambda s: {k: v for k, v in s.items() if k != "v"}, r"missing: 1 \(v\)"),
    (lambda s: changed(s, extra=1), r"unexpected: 1 \(extra\)"),
    (lambda s: [1, 2], "needs a dict from state_dict"),
    (lambda s: {"optimizer": s, "step": 2},
     r'optimizer.load_state_dict\(checkpoint\["optimizer"\]\)'),
]


@pytest.mark.parametrize(("make_bad", "message"), ADAM_CASES)
def test_a_bad_adam_state_raises_and_changes_nothing(make_bad, message):
    opt = trained_adam()
    before = opt.state_dict()
    # The lr changes too when a later field is wrong: nothing may be written early.
    bad = make_bad(changed(before, hyper={"lr": 0.5}))
    with pytest.raises(ValueError, match=message) as error:
        opt.load_state_dict(bad)
    assert len(str(error.value)) < 300 and "\n" not in str(error.value)
    assert opt.state_dict() == before and opt.lr == 0.01


@pytest.mark.parametrize(("make_bad", "message"), [
    (lambda s: trained_adam().state_dict(), "the state is of type 'Adam', not 'SGD'"),
    (lambda s: changed(s, momentum_buffers=s["momentum_buffers"][:3]),
     "momentum_buffers has 3 entries, expected 105"),
    (lambda s: changed(s, momentum_buffers=last_item(s["momentum_buffers"], -math.inf)),
     r"momentum_buffers\[104\] must be a finite number"),
    (lambda s: changed(s, hyper={"momentum": -0.5}), "momentum must be a number >= 0"),
    (lambda s: changed(s, hyper={"weight_decay": "0"}), "weight_decay must be a number"),
])
def test_a_bad_sgd_state_raises_and_changes_nothing(make_bad, message):
    opt = trained_sgd()
    before = opt.state_dict()
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(make_bad(before))
    assert opt.state_dict() == before


def test_sgd_loads_buffers_none_before_the_first_step():
    opt = trained_sgd()
    fresh_state = SGD(opt.params, lr=0.2, momentum=0.5).state_dict()
    opt.load_state_dict(fresh_state)
    assert opt.momentum_buffers is None and opt.lr == 0.2 and opt.momentum == 0.5


def test_loaded_hyperparameters_replace_the_constructor_ones_and_are_settable_after():
    source = trained_adam()
    target = Adam(source.params, lr=0.3, betas=(0.5, 0.6), eps=1e-3)
    target.load_state_dict(source.state_dict())
    assert (target.lr, target.betas, target.eps, target.t) == (0.01, (0.9, 0.999), 1e-8, 2)
    assert target.m == source.m and target.m is not source.m
    target.lr = 0.001  # a schedule may still change it
    assert target.state_dict()["hyperparameters"]["lr"] == 0.001


def test_optimizer_messages_stay_short_whatever_the_state_holds():
    opt = trained_adam()
    state = opt.state_dict()
    huge = {f"key_{i}_" + "x" * 50: i for i in range(500)}
    for bad in [{**state, **huge}, changed(state, type="A" * 10_000),
                changed(state, params=10**100), changed(state, step=[0] * 10_000),
                changed(state, m=last_item(state["m"], "y" * 10_000))]:
        with pytest.raises(ValueError) as error:
            opt.load_state_dict(bad)
        assert len(str(error.value)) < 300, str(error.value)


# -- module messages ----------------------------------------------------------------------


def sequential_337():
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                         nn.Linear(16, 1))


def test_a_337_parameter_mismatch_says_how_many_and_shows_the_first_few():
    mlp = nn.MLP(2, [16, 16, 1])
    seq = sequential_337()
    assert len(mlp.parameters()) == len(seq.parameters()) == 337
    with pytest.raises(ValueError) as error:
        mlp.load_state_dict(seq.state_dict())
    message = str(error.value)
    assert len(message) < 300 and "\n" not in message
    assert message == (
        "load_state_dict: state does not match MLP (337 entries given, 337 expected); "
        "missing: 337 (layers.0.neurons.0.w.0, layers.0.neurons.0.w.1, layers.0.neurons.0.b, "
        "and 334 more); unexpected: 337 (0.weight.0.0, 0.weight.0.1, 0.weight.1.0, and 334 "
        "more)"
    )


def test_module_messages_stay_short_for_long_names_and_values():
    net = model()
    names = list(net.state_dict())
    state = {("n" * 1000 if i == 0 else name): 0.0 for i, name in enumerate(names)}
    bad_value = dict.fromkeys(names, 0.0)
    bad_value[names[-1]] = "v" * 10_000
    for bad in (state, bad_value, {("k" * 500): {"a": 1}}):
        with pytest.raises(ValueError) as error:
            net.load_state_dict(bad)
        assert len(str(error.value)) < 300, str(error.value)


def test_loading_a_whole_checkpoint_into_a_model_shows_the_fix(tmp_path):
    net = model()
    opt = Adam(net.parameters())
    path = tmp_path / "run.json"
    nn.save({"model": net, "optimizer": opt, "step": 0}, path)
    before = net.state_dict()
    with pytest.raises(ValueError) as error:
        net.load_state_dict(nn.load(path))
    message = str(error.value)
    assert 'model.load_state_dict(checkpoint["model"])' in message
    assert "\n" not in message and len(message) < 300
    assert net.state_dict() == before
    nn.save(net, path)  # the module format: its state sits under "state_dict"
    with pytest.raises(ValueError, match=r'checkpoint\["state_dict"\]'):
        net.load_state_dict(nn.load(path))


def test_io_messages_stay_short_for_long_paths_and_contents(tmp_path):
    folder = tmp_path
    for _ in range(3):
        folder = folder / ("d" * 200)
    folder.mkdir(parents=True)
    path = folder / "bad.json"
    path.write_text('{"format": "' + "f" * 5000 + '"}')
    with pytest.raises(ValueError) as error:
        nn.load(path)
    assert len(str(error.value)) < 300
    fields = ", ".join(f'"extra{i}{"e" * 100}": 1' for i in range(100))
    path.write_text('{"format": "chainrule.dict", "version": 2, ' + fields + "}")
    with pytest.raises(ValueError) as error:
        nn.load(path)
    assert len(str(error.value)) < 300
    with pytest.raises(ValueError) as error:
        nn.load(folder)
    assert len(str(error.value)) < 300


def test_saving_an_optimizer_alone_asks_for_a_checkpoint_dict(tmp_path):
    opt = Adam([Value(1.0)])
    with pytest.raises(TypeError, match="'optimizer': opt"):
        nn.save(opt, tmp_path / "o.json")
    assert not (tmp_path / "o.json").exists()
