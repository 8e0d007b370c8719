"""Optimizers and clipping: trajectories number for number against PyTorch's formulas."""

import math

import pytest

import nn
from autograd import Value
from nn.optim import SGD, Adam


def run(optimizer, params, grads_per_step):
    """Set the given gradients and step, once per entry; return each step's data."""
    trajectory = []
    for grads in grads_per_step:
        optimizer.zero_grad()
        for p, g in zip(params, grads):
            p.grad = g
        optimizer.step()
        trajectory.append([p.data for p in params])
    return trajectory


# -- SGD ----------------------------------------------------------------------------------


def test_sgd_descends_a_quadratic_by_hand():
    p = Value(1.0)
    opt = SGD([p], lr=0.1)
    seen = []
    for _ in range(3):
        opt.zero_grad()
        (p * p).backward()  # g = 2p, so p <- p - 0.1 * 2p = 0.8 p
        opt.step()
        seen.append(p.data)
    assert seen == pytest.approx([0.8, 0.64, 0.512], rel=1e-15)


def test_sgd_momentum_and_weight_decay_by_hand():
    p = Value(1.0)
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    trajectory = run(opt, [p], [[0.5], [0.5], [0.5]])
    # step 1: g = 0.5 + 0.1 * 1.0 = 0.6;       b = g = 0.6;                  p = 1 - 0.06
    # step 2: g = 0.5 + 0.1 * 0.94 = 0.594;    b = 0.9 * 0.6 + 0.594 = 1.134; p = 0.94 - 0.1134
    # step 3: g = 0.5 + 0.1 * 0.8266 = 0.58266; b = 0.9 * 1.134 + g = 1.60326
    #         p = 0.8266 - 0.160326
    assert [row[0] for row in trajectory] == pytest.approx([0.94, 0.8266, 0.666274], rel=1e-12)
    assert opt.momentum_buffers == pytest.approx([1.60326], rel=1e-12)


def sgd_reference(p, grads, lr, mu, wd):
    """PyTorch's documented SGD for one parameter, written out directly."""
    b = None
    out = []
    for g in grads:
        g = g + wd * p
        b = g if b is None else mu * b + g
        p = p - lr * (b if mu else g)
        out.append(p)
    return out


@pytest.mark.parametrize(("mu", "wd"), [(0.0, 0.0), (0.9, 0.0), (0.0, 0.01), (0.5, 0.2)])
def test_sgd_matches_the_documented_rule_for_several_parameters(mu, wd):
    start = [1.0, -2.0, 0.5]
    grads = [[0.3, -0.1, 2.0], [-0.2, 0.4, 1.0], [0.0, 0.5, -1.5], [1.0, 1.0, 1.0]]
    params = [Value(x) for x in start]
    trajectory = run(SGD(params, lr=0.05, momentum=mu, weight_decay=wd), params, grads)
    for i, x in enumerate(start):
        expected = sgd_reference(x, [g[i] for g in grads], 0.05, mu, wd)
        assert [row[i] for row in trajectory] == pytest.approx(expected, rel=1e-14)


def test_sgd_reads_lr_at_every_step():
    p = Value(0.0)
    opt = SGD([p], lr=1.0)
    p.grad = 1.0
    opt.step()
    opt.lr = 0.5
    opt.step()
    assert p.data == -1.5


# -- Adam ---------------------------------------------------------------------------------


def test_adam_two_steps_by_hand():
    p = Value(1.0)
    opt = Adam([p], lr=0.01)
    trajectory = run(opt, [p], [[1.0], [-0.5]])
    # step 1: m = 0.1, v = 0.001; m_hat = 0.1 / 0.1 = 1, v_hat = 0.001 / 0.001 = 1
    p1 = 1.0 - 0.01 * 1.0 / (1.0 + 1e-8)
    # step 2: m = 0.9 * 0.1 + 0.1 * -0.5 = 0.04, v = 0.999 * 0.001 + 0.001 * 0.25 = 0.001249
    m_hat = 0.04 / (1 - 0.9**2)
    v_hat = 0.001249 / (1 - 0.999**2)
    p2 = p1 - 0.01 * m_hat / (math.sqrt(v_hat) + 1e-8)
    assert [row[0] for row in trajectory] == pytest.approx([p1, p2], rel=1e-12)
    assert p2 == pytest.approx(0.99 - 0.0026634, abs=1e-7)  # the arithmetic, as a number
    assert (opt.m, opt.v, opt.t) == (pytest.approx([0.04]), pytest.approx([0.001249]), 2)


def test_adam_with_a_constant_gradient_moves_lr_per_step():
    # Bias correction makes m_hat = g and v_hat = g**2 exactly when g never changes.
    p = Value(0.0)
    trajectory = run(Adam([p], lr=0.1), [p], [[0.5]] * 5)
    step = 0.1 * 0.5 / (0.5 + 1e-8)
    assert [row[0] for row in trajectory] == pytest.approx([-step * k for k in range(1, 6)],
                                                           rel=1e-12)


def adam_reference(p, grads, lr, betas, eps, wd):
    """PyTorch's documented Adam for one parameter, written out directly."""
    m = v = 0.0
    out = []
    for t, g in enumerate(grads, start=1):
        g = g + wd * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        m_hat = m / (1 - betas[0] ** t)
        v_hat = v / (1 - betas[1] ** t)
        p = p - lr * m_hat / (math.sqrt(v_hat) + eps)
        out.append(p)
    return out


@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_adam_matches_the_documented_rule_for_several_parameters(wd):
    start = [1.0, -2.0, 0.5]
    grads = [[0.3, -0.1, 2.0], [-0.2, 0.4, 1.0], [0.0, 0.5, -1.5], [1.0, 1.0, 1.0]]
    params = [Value(x) for x in start]
    opt = Adam(params, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=wd)
    trajectory = run(opt, params, grads)
    for i, x in enumerate(start):
        expected = adam_reference(x, [g[i] for g in grads], 0.02, (0.8, 0.99), 1e-6, wd)
        assert [row[i] for row in trajectory] == pytest.approx(expected, rel=1e-12)


def test_adam_defaults_are_pytorchs():
    opt = Adam([Value(0.0)])
    assert (opt.lr, opt.betas, opt.eps, opt.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 0.0)


# -- shared behaviour and errors -------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps)])
def test_optimizer_zero_grad_resets_its_parameters(make):
    params = [Value(1.0), Value(2.0)]
    for p in params:
        p.grad = 3.0
    make(params).zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0]


def test_a_parameter_given_twice_is_rejected():
    p = Value(1.0)
    with pytest.raises(ValueError, match=r"params\[1\] is the same Value as params\[0\]"):
        SGD([p, p], lr=0.1)


@pytest.mark.parametrize("make", [
    lambda: SGD([], lr=0.1),
    lambda: SGD([Value(1.0)], lr=-0.1),
    lambda: SGD([Value(1.0)], lr=0.1, momentum=-0.5),
    lambda: SGD([Value(1.0)], lr=math.nan),
    lambda: Adam([Value(1.0)], betas=(1.0, 0.999)),
    lambda: Adam([Value(1.0)], betas=(0.9,)),
    lambda: Adam([Value(1.0)], eps=-1.0),
])
def test_bad_settings_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


def test_params_must_be_values():
    with pytest.raises(TypeError, match=r"params\[0\] must be a Value"):
        SGD([1.0], lr=0.1)
    with pytest.raises(TypeError, match="single Value"):
        SGD(Value(1.0), lr=0.1)


def test_repr_shows_the_settings():
    assert repr(SGD([Value(1.0)], lr=0.1, momentum=0.9)) == (
        "SGD(1 parameters, lr=0.1, momentum=0.9, weight_decay=0.0)"
    )


# -- clip_grad_norm -------------------------------------------------------------------------


def with_grads(*grads):
    params = [Value(0.0) for _ in grads]
    for p, g in zip(params, grads):
        p.grad = g
    return params


def test_clip_scales_to_max_norm_and_returns_the_norm_before():
    params = with_grads(3.0, -4.0)
    assert nn.clip_grad_norm(params, 1.0) == 5.0
    coef = 1.0 / (5.0 + 1e-6)
    assert [p.grad for p in params] == [3.0 * coef, -4.0 * coef]


def test_clip_leaves_small_gradients_alone():
    params = with_grads(0.3, 0.4)
    assert nn.clip_grad_norm(params, 1.0) == pytest.approx(0.5)
    assert [p.grad for p in params] == [0.3, 0.4]


def test_clip_at_exactly_max_norm_scales_by_pytorchs_coefficient():
    params = with_grads(3.0, 4.0)
    nn.clip_grad_norm(params, 5.0)
    assert params[0].grad == 3.0 * 5.0 / (5.0 + 1e-6)


def test_clip_rejects_a_negative_max_norm():
    with pytest.raises(ValueError, match="max_norm"):
        nn.clip_grad_norm(with_grads(1.0), -1.0)


def grads_of(*gs):
    params = [Value(0.0) for _ in gs]
    for p, g in zip(params, gs):
        p.grad = g
    return params


def test_clip_grad_norm_with_a_nan_gradient_makes_every_gradient_nan_as_pytorch():
    params = grads_of(3.0, math.nan, -4.0)
    assert math.isnan(nn.clip_grad_norm(params, 1.0))
    assert all(math.isnan(p.grad) for p in params)


def test_clip_grad_norm_with_an_infinite_gradient_zeroes_the_finite_ones_as_pytorch():
    params = grads_of(3.0, math.inf, -4.0)
    assert nn.clip_grad_norm(params, 1.0) == math.inf
    assert [p.grad for p in params][::2] == [0.0, -0.0] and math.isnan(params[1].grad)
    params = grads_of(math.inf, math.nan)
    assert math.isnan(nn.clip_grad_norm(params, 1.0))  # a NaN wins, as in PyTorch


def test_clip_grad_norm_error_if_nonfinite_raises_and_changes_nothing():
    params = grads_of(3.0, math.nan)
    with pytest.raises(RuntimeError, match="nan.*error_if_nonfinite=False"):
        nn.clip_grad_norm(params, 1.0, error_if_nonfinite=True)
    assert params[0].grad == 3.0 and math.isnan(params[1].grad)
    assert nn.clip_grad_norm(grads_of(3.0, 4.0), 1.0, error_if_nonfinite=True) == 5.0
