"""BatchNorm1d: training statistics, the closed-form gradient, running stats, eval mode."""

import math
import random

import pytest

import autograd
import nn
from autograd import Value, gradcheck

BATCH = [[1.0, -2.0, 0.5], [3.0, 0.0, 0.25], [-1.0, 4.0, 1.0], [2.5, 1.0, -0.75]]


def column(rows, j):
    return [row[j] for row in rows]


def mean(xs):
    return sum(xs) / len(xs)


def biased_var(xs):
    m = mean(xs)
    return sum((x - m) ** 2 for x in xs) / len(xs)


def weighted_sum(rows, weights):
    return autograd.sum([autograd.dot(row, w) for row, w in zip(rows, weights)])


def test_training_output_is_normalised_per_feature():
    bn = nn.BatchNorm1d(3)
    out = bn(BATCH)
    assert len(out) == 4 and all(len(row) == 3 for row in out)
    for j in range(3):
        ys = [v.data for v in column(out, j)]
        var = biased_var(column(BATCH, j))
        assert mean(ys) == pytest.approx(0.0, abs=1e-12)
        assert biased_var(ys) == pytest.approx(var / (var + 1e-5), rel=1e-12)


def test_training_output_uses_gamma_and_beta():
    bn = nn.BatchNorm1d(3)
    bn.gamma[1].data, bn.beta[1].data = 2.0, -0.5
    out = bn(BATCH)
    xs = column(BATCH, 1)
    m, var = mean(xs), biased_var(xs)
    expected = [2.0 * (x - m) / math.sqrt(var + 1e-5) - 0.5 for x in xs]
    assert [v.data for v in column(out, 1)] == pytest.approx(expected, rel=1e-12)


def test_gradients_match_the_closed_form():
    rng = random.Random(0)
    n, features = len(BATCH), 3
    bn = nn.BatchNorm1d(features)
    for j, g in enumerate([1.5, -0.7, 0.3]):
        bn.gamma[j].data = g
        bn.beta[j].data = 0.1 * j
    h = [[Value(x) for x in row] for row in BATCH]
    dy = [[rng.uniform(-1, 1) for _ in range(features)] for _ in range(n)]
    weighted_sum(bn(h), dy).backward()  # so dL/dy = dy

    for j in range(features):
        xs = column(BATCH, j)
        m, var = mean(xs), biased_var(xs)
        inv_std = (var + 1e-5) ** -0.5
        hhat = [(x - m) * inv_std for x in xs]
        d = column(dy, j)
        gamma = bn.gamma[j].data
        assert bn.gamma[j].grad == pytest.approx(sum(a * b for a, b in zip(d, hhat)), rel=1e-9)
        assert bn.beta[j].grad == pytest.approx(sum(d), rel=1e-12)
        sum_d = sum(d)
        sum_d_hhat = sum(a * b for a, b in zip(d, hhat))
        for i in range(n):
            dh = (1 / n) * gamma * inv_std * (n * d[i] - sum_d - hhat[i] * sum_d_hhat)
            assert h[i][j].grad == pytest.approx(dh, rel=1e-9, abs=1e-12)


def test_training_gradients_match_finite_differences():
    bn = nn.BatchNorm1d(2)
    bn.gamma[0].data = 1.3
    weights = [[0.3, -1.2], [0.8, 0.5], [-0.4, 1.1]]

    def loss(*flat):
        rows = [list(flat[0:2]), list(flat[2:4]), list(flat[4:6])]
        return weighted_sum(bn(rows), weights)

    assert gradcheck(loss, [0.2, 1.0, -0.5, 2.0, 1.5, -1.0])


def test_running_statistics_follow_pytorch_convention():
    bn = nn.BatchNorm1d(3, momentum=0.1)
    bn(BATCH)
    n = len(BATCH)
    for j in range(3):
        xs = column(BATCH, j)
        unbiased = biased_var(xs) * n / (n - 1)
        assert bn.running_mean[j] == pytest.approx(0.1 * mean(xs), rel=1e-12)
        assert bn.running_var[j] == pytest.approx(0.9 * 1.0 + 0.1 * unbiased, rel=1e-12)


def test_running_statistics_are_exponential_moving_averages():
    bn = nn.BatchNorm1d(1, momentum=0.25)
    first, second = [[1.0], [3.0]], [[10.0], [14.0]]
    bn(first)
    bn(second)
    assert bn.running_mean[0] == pytest.approx(0.75 * (0.25 * 2.0) + 0.25 * 12.0)
    assert bn.running_var[0] == pytest.approx(0.75 * (0.75 + 0.25 * 2.0) + 0.25 * 8.0)


def test_eval_uses_running_statistics_and_accepts_one_row():
    bn = nn.BatchNorm1d(2)
    bn.running_mean[:] = [1.0, -2.0]
    bn.running_var[:] = [4.0, 0.25]
    bn.gamma[0].data, bn.beta[1].data = 3.0, 0.5
    bn.eval()
    (row,) = bn([[2.0, -1.0]])
    assert row[0].data == pytest.approx(3.0 * (2.0 - 1.0) / math.sqrt(4.0 + 1e-5))
    assert row[1].data == pytest.approx((-1.0 + 2.0) / math.sqrt(0.25 + 1e-5) + 0.5)
    assert bn.running_mean == [1.0, -2.0] and bn.running_var == [4.0, 0.25]


def test_eval_gradients_match_finite_differences():
    bn = nn.BatchNorm1d(2)
    bn.running_mean[:] = [0.5, -1.0]
    bn.running_var[:] = [2.0, 0.5]
    bn.gamma[1].data = -0.8
    bn.eval()
    assert gradcheck(lambda a, b: weighted_sum(bn([[a, b]]), [[0.7, -1.3]]), [0.4, 2.0])
    bn.zero_grad()
    weighted_sum(bn([[0.4, 2.0]]), [[0.7, -1.3]]).backward()
    assert bn.gamma[0].grad == pytest.approx(0.7 * (0.4 - 0.5) / math.sqrt(2.0 + 1e-5))
    assert bn.beta[1].grad == pytest.approx(-1.3)


def test_training_batch_of_one_raises_and_suggests_eval():
    with pytest.raises(ValueError, match=r"at least 2 rows.*eval"):
        nn.BatchNorm1d(2)([[1.0, 2.0]])


def test_empty_batch_raises():
    with pytest.raises(ValueError, match="empty"):
        nn.BatchNorm1d(2).eval()([])


def test_row_of_the_wrong_width_raises_naming_the_row():
    with pytest.raises(ValueError, match="row 1 has 3 features, expected 2"):
        nn.BatchNorm1d(2)([[1.0, 2.0], [1.0, 2.0, 3.0]])


def test_a_single_row_instead_of_a_batch_is_rejected():
    with pytest.raises(ValueError, match="row 0 is 1.0, not a list of 2 values"):
        nn.BatchNorm1d(2)([1.0, 2.0])


@pytest.mark.parametrize("kwargs", [{"eps": 0.0}, {"eps": -1.0}, {"momentum": 1.5},
                                    {"momentum": -0.1}])
def test_bad_eps_or_momentum_raises(kwargs):
    with pytest.raises(ValueError):
        nn.BatchNorm1d(2, **kwargs)


def test_parameters_are_gamma_then_beta():
    bn = nn.BatchNorm1d(2)
    assert [name for name, _ in bn.named_parameters()] == ["gamma.0", "gamma.1", "beta.0",
                                                            "beta.1"]
    assert [p.data for p in bn.parameters()] == [1.0, 1.0, 0.0, 0.0]
    assert bn.running_mean == [0.0, 0.0] and bn.running_var == [1.0, 1.0]


def test_batchnorm_inside_an_mlp_style_stack_trains_and_evaluates():
    layer = nn.Layer(2, 3, "linear", rng=random.Random(0))
    bn = nn.BatchNorm1d(3)
    rows = [[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]
    out = bn([layer(x) for x in rows])
    nn.losses.l2([v for row in out for v in row]).backward()
    assert any(p.grad != 0.0 for p in layer.parameters())
    bn.eval()
    assert len(bn([layer([0.5, 0.5])])) == 1
