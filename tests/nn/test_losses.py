"""Losses: values by hand, gradients, stability at extreme logits, input forms, errors."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import Value, gradcheck
from nn import losses


def values(*xs):
    return [Value(x) for x in xs]


# -- mse ----------------------------------------------------------------------------------


def test_mse_is_the_mean_of_squared_differences():
    p = values(1.0, 2.0, -1.0)
    loss = losses.mse(p, [0.0, 4.0, -1.5])
    assert loss.data == pytest.approx((1.0 + 4.0 + 0.25) / 3)
    loss.backward()
    assert [v.grad for v in p] == pytest.approx([2 * 1.0 / 3, 2 * -2.0 / 3, 2 * 0.5 / 3])


def test_mse_accepts_one_sample_and_rows():
    assert losses.mse(Value(3.0), 1.0).data == 4.0
    rows = [values(1.0, 2.0), values(3.0, 4.0)]
    assert losses.mse(rows, [[1.0, 0.0], [3.0, 2.0]]).data == pytest.approx(8.0 / 4)


def test_mse_is_one_dot_node_scaled():
    loss = losses.mse(values(1.0, 2.0), [0.0, 0.0])
    assert loss.op == "*" and loss.parents[0].op == "dot"


def test_mse_gradcheck():
    assert gradcheck(lambda a, b, c: losses.mse([a, b], [c, 0.5]), [0.3, -1.2, 2.0])


def test_mse_length_mismatch_raises():
    with pytest.raises(ValueError, match="2 predictions but 3 targets"):
        losses.mse(values(1.0, 2.0), [1.0, 2.0, 3.0])


def test_mse_of_nothing_raises():
    with pytest.raises(ValueError, match="no samples"):
        losses.mse([], [])


# -- hinge --------------------------------------------------------------------------------


def test_hinge_is_the_mean_of_relu_one_minus_margin():
    scores = values(2.0, 0.5, -0.3, 0.2)
    loss = losses.hinge(scores, [1, 1, 1, -1])
    assert loss.data == pytest.approx((0.0 + 0.5 + 1.3 + 1.2) / 4)
    loss.backward()
    # d/ds = -y / n where the margin is short of 1, else 0
    assert [s.grad for s in scores] == pytest.approx([0.0, -0.25, -0.25, 0.25])


def test_hinge_accepts_one_sample():
    assert losses.hinge(Value(-1.0), -1).data == 0.0
    assert losses.hinge(Value(0.0), 1).data == 1.0


def test_hinge_gradcheck():
    assert gradcheck(lambda a, b: losses.hinge([a, b], [1, -1]), [0.3, 0.4])


@pytest.mark.parametrize("bad", [0, 2, 0.5])
def test_hinge_rejects_labels_other_than_plus_minus_one(bad):
    with pytest.raises(ValueError, match="-1 or \\+1"):
        losses.hinge(values(1.0, 2.0), [1, bad])


# -- binary cross-entropy ------------------------------------------------------------------


def naive_bce(z, t):
    s = 1 / (1 + math.exp(-z))
    return -(t * math.log(s) + (1 - t) * math.log(1 - s))


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def test_bce_matches_the_textbook_formula():
    zs, ts = [0.5, -1.5, 3.0], [1.0, 0.0, 0.25]
    loss = losses.binary_cross_entropy_with_logits(values(*zs), ts)
    assert loss.data == pytest.approx(sum(map(naive_bce, zs, ts)) / 3, rel=1e-12)


@pytest.mark.parametrize("z", [-3.0, -0.5, 0.0, 0.5, 3.0])
@pytest.mark.parametrize("t", [0.0, 0.3, 1.0])
def test_bce_gradient_is_sigmoid_minus_target_even_at_zero(z, t):
    logit = Value(z)
    losses.binary_cross_entropy_with_logits(logit, t).backward()
    assert logit.grad == pytest.approx(sigmoid(z) - t, rel=1e-12, abs=1e-15)


def test_bce_is_stable_for_huge_logits():
    big, small = Value(1000.0), Value(-1000.0)
    assert losses.binary_cross_entropy_with_logits(big, 1.0).data == 0.0
    assert losses.binary_cross_entropy_with_logits(big, 0.0).data == 1000.0
    loss = losses.binary_cross_entropy_with_logits(small, 1.0)
    assert loss.data == 1000.0
    loss.backward()
    assert small.grad == -1.0


def test_bce_gradcheck():
    f = lambda a, b: losses.binary_cross_entropy_with_logits([a, b], [1.0, 0.2])  # noqa: E731
    assert gradcheck(f, [0.7, -2.0])


def test_bce_rejects_targets_outside_zero_one():
    with pytest.raises(ValueError, match=r"\[0, 1\].*\(y \+ 1\) / 2"):
        losses.binary_cross_entropy_with_logits(values(1.0), [-1])


# -- softmax and cross-entropy ------------------------------------------------------------


def naive_softmax(zs):
    exps = [math.exp(z) for z in zs]
    return [e / sum(exps) for e in exps]


def test_softmax_matches_the_definition():
    zs = [1.0, -0.5, 2.0]
    assert [p.data for p in losses.softmax(values(*zs))] == pytest.approx(naive_softmax(zs))


def test_softmax_handles_logits_of_1000():
    probs = [p.data for p in losses.softmax(values(1000.0, 0.0, 1000.0))]
    assert probs == pytest.approx([0.5, 0.0, 0.5])


def test_softmax_gradcheck():
    assert gradcheck(lambda a, b, c: losses.softmax([a, b, c])[1], [0.2, -1.0, 0.7])


@given(st.lists(st.floats(-50, 50), min_size=1, max_size=6))
def test_softmax_sums_to_one(zs):
    assert math.fsum(p.data for p in losses.softmax(values(*zs))) == pytest.approx(1.0)


def test_cross_entropy_is_minus_log_softmax_of_the_target():
    zs = [1.0, -0.5, 2.0]
    assert losses.cross_entropy(values(*zs), 0).data == pytest.approx(
        -math.log(naive_softmax(zs)[0]), rel=1e-12
    )


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    zs = values(1.0, -0.5, 2.0)
    losses.cross_entropy(zs, 2).backward()
    p = naive_softmax([1.0, -0.5, 2.0])
    assert [z.grad for z in zs] == pytest.approx([p[0], p[1], p[2] - 1.0], rel=1e-12)


def test_cross_entropy_handles_logits_of_1000():
    assert losses.cross_entropy(values(1000.0, 0.0), 0).data == pytest.approx(0.0, abs=1e-300)
    assert losses.cross_entropy(values(0.0, 1000.0), 0).data == pytest.approx(1000.0)
    zs = values(1000.0, -1000.0, 999.0)
    loss = losses.cross_entropy(zs, 1)
    assert loss.data == pytest.approx(2000.0 + math.log(1 + math.exp(-1)), rel=1e-12)
    loss.backward()
    assert math.isfinite(zs[0].grad) and zs[1].grad == pytest.approx(-1.0)


def test_cross_entropy_batch_is_the_mean_of_the_rows():
    rows = [values(1.0, 2.0), values(0.0, -1.0), values(3.0, 3.0)]
    targets = [1, 0, 1]
    expected = sum(losses.cross_entropy(r, t).data for r, t in zip(rows, targets)) / 3
    assert losses.cross_entropy(rows, targets).data == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_gradcheck():
    f = lambda a, b, c, d: losses.cross_entropy([[a, b], [c, d]], [0, 1])  # noqa: E731
    assert gradcheck(f, [0.5, -0.2, 1.5, 0.3])


@given(st.lists(st.floats(-30, 30), min_size=2, max_size=5), st.data())
def test_cross_entropy_is_non_negative_and_matches_log_softmax(zs, data):
    target = data.draw(st.integers(0, len(zs) - 1))
    loss = losses.cross_entropy(values(*zs), target).data
    assert loss >= 0.0
    log_p = math.log(losses.softmax(values(*zs))[target].data)  # >= exp(-60): no underflow
    assert loss == pytest.approx(-log_p, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("target", [2, -1, 1.0, True])
def test_cross_entropy_rejects_a_bad_class_index(target):
    with pytest.raises(ValueError, match=r"class index, an int in \[0, 2\)"):
        losses.cross_entropy(values(1.0, 2.0), target)


def test_cross_entropy_batch_needs_one_target_per_row():
    with pytest.raises(ValueError, match="2 rows of logits need a list of 2"):
        losses.cross_entropy([values(1.0, 2.0), values(0.0, 1.0)], [0])


# -- l2 -----------------------------------------------------------------------------------


def test_l2_is_the_sum_of_squares_as_one_dot_node():
    ps = values(1.0, -2.0, 0.5)
    loss = losses.l2(ps)
    assert loss.data == pytest.approx(5.25)
    assert loss.op == "dot"
    loss.backward()
    assert [p.grad for p in ps] == [2.0, -4.0, 1.0]


def test_l2_gradcheck():
    assert gradcheck(lambda a, b: losses.l2([a, b]), [0.3, -1.7])


def old_bce(z, t):
    """The formula binary_cross_entropy_with_logits used before softplus: by the sign of z."""
    if z >= 0.0:
        return z * (1.0 - t) + math.log(math.exp(-z) + 1.0)
    return -z * t + math.log(math.exp(z) + 1.0)


@pytest.mark.parametrize("t", [0.0, 1.0, 0.5, 0.2, 0.9, 1e-3])
@pytest.mark.parametrize("z", [0.0, -0.0, 1e-8, -1e-8, 0.3, -0.3, 2.0, -2.0, 10.0, -10.0, 40.0,
                               -40.0, 700.0, -700.0, 1000.0, -1000.0])
def test_bce_with_softplus_stays_within_1e_15_of_the_formula_it_replaced(z, t):
    new = losses.binary_cross_entropy_with_logits(Value(z), t).data
    old = old_bce(z, t)
    assert abs(new - old) <= 1e-15 * abs(old), (z, t, new, old)
    if t in (0.0, 1.0):
        assert new == old  # one softplus term is exactly the old form's


def test_bce_builds_the_same_graph_for_either_sign_of_the_logit():
    ops = []
    for z in (-2.0, 2.0):
        loss = losses.binary_cross_entropy_with_logits([Value(z)], [0.25])
        ops.append([v.op for v in autograd.topological_order(loss)])
    assert ops[0] == ops[1]


def test_every_loss_takes_its_targets_as_values_and_gives_what_numbers_give():
    cases = [
        (losses.hinge, [0.3, -1.2], [1, -1]),
        (losses.binary_cross_entropy_with_logits, [0.3, -1.2], [1.0, 0.25]),
        (losses.mse, [0.3, -1.2], [0.5, -1.0]),
    ]
    for loss, scores, targets in cases:
        by_numbers = [Value(s) for s in scores]
        by_values = [Value(s) for s in scores]
        a = loss(by_numbers, targets)
        b = loss(by_values, [Value(t) for t in targets])
        a.backward()
        b.backward()
        assert repr(a.data) == repr(b.data), loss
        assert [repr(v.grad) for v in by_numbers] == [repr(v.grad) for v in by_values], loss


def test_hinge_refuses_a_value_label_other_than_plus_minus_one():
    with pytest.raises(ValueError, match="labels must be -1 or \\+1"):
        losses.hinge([Value(0.5)], [Value(0.0)])


def test_softmax_and_cross_entropy_read_no_data_so_their_graph_is_the_same_for_any_logits():
    def ops(logits, k):
        loss = losses.cross_entropy([Value(z) for z in logits], k)
        return [v.op for v in autograd.topological_order(loss)]

    assert ops([5.0, -1.0, 2.0], 0) == ops([-3.0, 9.0, 0.5], 0)
    probs = losses.softmax([Value(z) for z in (1000.0, 0.0)])
    assert [p.data for p in probs] == [1.0, 0.0]


def test_compiled_cross_entropy_is_bit_identical_to_the_dynamic_engine():
    import random

    rng = random.Random(3)
    weights = [Value(rng.uniform(-1, 1)) for _ in range(6)]

    def loss_fn(xs, targets):
        rows = [[autograd.dot(weights[2 * c : 2 * c + 2], x) for c in range(3)] for x in xs]
        return losses.cross_entropy(rows, targets)

    compiled = autograd.compile(loss_fn)
    for _ in range(5):
        xs = [[rng.uniform(-30, 30), rng.uniform(-30, 30)] for _ in range(4)]
        targets = [rng.randrange(3) for _ in range(4)]
        for w in weights:
            w.grad = 0.0
        value = compiled(xs, targets)
        grads = [w.grad for w in weights]
        for w in weights:
            w.grad = 0.0
        loss = loss_fn(xs, targets)
        loss.backward()
        assert value == loss.data
        assert grads == [w.grad for w in weights]
