"""Toy datasets and batches: shapes, labels, reproducibility, geometry and errors."""

import math
import random

import pytest

import nn
from nn import data


@pytest.mark.parametrize("make", [data.make_moons, data.make_circles])
def test_binary_sets_have_n_points_labelled_plus_minus_one_half_each(make):
    X, y = make(101, seed=0)
    assert len(X) == len(y) == 101
    assert all(len(p) == 2 and all(isinstance(c, float) for c in p) for p in X)
    assert y.count(-1) == 50 and y.count(1) == 51


@pytest.mark.parametrize("make", [data.make_moons, data.make_circles, data.make_spirals])
def test_same_seed_same_data_other_seed_other_data(make):
    assert make(60, seed=3) == make(60, seed=3)
    assert make(60, seed=3) != make(60, seed=4)


@pytest.mark.parametrize("make", [data.make_moons, data.make_circles, data.make_spirals])
def test_generators_leave_the_global_random_state_alone(make):
    random.seed(11)
    expected = random.random()
    random.seed(11)
    make(30, seed=1)
    assert random.random() == expected


@pytest.mark.parametrize("make", [data.make_moons, data.make_circles])
def test_points_are_shuffled(make):
    _, y = make(100, seed=0)
    assert y != sorted(y)


def test_noiseless_moons_lie_on_their_half_circles():
    X, y = data.make_moons(40, noise=0.0, seed=0)
    for (a, b), label in zip(X, y):
        if label == -1:  # upper moon: unit circle, b >= 0
            assert math.hypot(a, b) == pytest.approx(1.0) and b >= -1e-12
        else:  # lower moon: unit circle around (1, 0.5), b <= 0.5
            assert math.hypot(a - 1.0, b - 0.5) == pytest.approx(1.0) and b <= 0.5 + 1e-12


def test_noise_moves_points_off_the_curve_by_about_its_size():
    X, y = data.make_moons(400, noise=0.1, seed=0)
    offsets = [
        math.hypot(a, b) - 1.0 if label == -1 else math.hypot(a - 1.0, b - 0.5) - 1.0
        for (a, b), label in zip(X, y)
    ]
    rms = math.sqrt(sum(o * o for o in offsets) / len(offsets))
    assert 0.07 < rms < 0.13


def test_noiseless_circles_have_radius_one_and_factor():
    X, y = data.make_circles(30, noise=0.0, factor=0.3, seed=0)
    for (a, b), label in zip(X, y):
        assert math.hypot(a, b) == pytest.approx(1.0 if label == -1 else 0.3)


def test_spirals_label_classes_zero_to_k_minus_one_with_radius_at_most_one():
    X, y = data.make_spirals(100, classes=3, seed=0)
    assert len(X) == 100
    assert sorted(set(y)) == [0, 1, 2]
    assert [y.count(k) for k in range(3)] == [34, 33, 33]
    assert max(math.hypot(a, b) for a, b in X) <= 1.0 + 1e-12


def test_noiseless_spiral_arms_follow_their_angle():
    X, y = data.make_spirals(30, classes=2, noise=0.0, seed=0)
    for (a, b), k in zip(X, y):
        r = math.hypot(a, b)
        if r > 1e-9:
            angle = 4.0 * k + 4.0 * r
            assert (a, b) == pytest.approx((r * math.sin(angle), r * math.cos(angle)))


@pytest.mark.parametrize("call", [
    lambda: data.make_moons(1),
    lambda: data.make_moons(10, noise=-0.1),
    lambda: data.make_moons(10.0),
    lambda: data.make_circles(10, factor=1.0),
    lambda: data.make_spirals(10, classes=1),
    lambda: data.make_spirals(2, classes=3),
])
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


# -- batches ------------------------------------------------------------------------------


def test_batches_cover_every_sample_once_with_a_short_last_batch():
    X = [[float(i), 0.0] for i in range(10)]
    y = list(range(10))
    got = list(data.batches(X, y, 4, rng=random.Random(0)))
    assert [len(xb) for xb, _ in got] == [4, 4, 2]
    assert sorted(label for _, yb in got for label in yb) == y
    for xb, yb in got:
        assert [int(x[0]) for x in xb] == yb  # rows and labels stay paired


def test_batches_without_shuffle_keep_the_order():
    y = list(range(7))
    got = [yb for _, yb in data.batches(y, y, 3, shuffle=False)]
    assert got == [[0, 1, 2], [3, 4, 5], [6]]


def test_shuffled_batches_are_reproducible_with_a_seeded_rng():
    y = list(range(20))
    a = [yb for _, yb in data.batches(y, y, 5, rng=random.Random(1))]
    b = [yb for _, yb in data.batches(y, y, 5, rng=random.Random(1))]
    assert a == b and sum(a, []) != y


def test_batches_check_arguments_at_the_call_not_at_the_first_batch():
    with pytest.raises(ValueError, match="X has 3 samples but y has 2"):
        data.batches([1, 2, 3], [1, 2], 2)
    with pytest.raises(ValueError, match="batch_size"):
        data.batches([1, 2], [1, 2], 0)


# -- label forms --------------------------------------------------------------------------


@pytest.mark.parametrize("make", [data.make_moons, data.make_circles])
def test_two_class_sets_give_plus_minus_one_by_default_and_zero_one_on_request(make):
    X, y = make(50, seed=3)
    X01, y01 = make(50, seed=3, labels="01")
    assert set(y) == {-1, 1} and make(50, seed=3, labels="pm1") == (X, y)
    assert X01 == X  # the same points in the same order
    assert y01 == [0 if label == -1 else 1 for label in y]
    assert all(type(label) is int for label in y01)


@pytest.mark.parametrize("make", [data.make_moons, data.make_circles])
@pytest.mark.parametrize("bad", ["0/1", "pm", 1, None, ["01"]])
def test_an_unknown_label_form_is_refused_naming_the_choices(make, bad):
    with pytest.raises(ValueError, match=f"{make.__name__}: labels must be one of 'pm1', '01'"):
        make(10, labels=bad)


def test_zero_one_labels_train_with_binary_cross_entropy():
    X, y = data.make_moons(40, seed=0, labels="01")
    model = nn.MLP(2, [8, 1], rng=random.Random(0))
    opt = nn.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(20):
        loss = nn.losses.binary_cross_entropy_with_logits([model(x) for x in X], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data)
    assert losses[-1] < losses[0]


def test_the_module_docstring_states_every_label_convention():
    doc = data.__doc__
    for text in ("-1 and +1", 'labels="01"', "0 .. classes-1", "0 or 1"):
        assert text in doc
