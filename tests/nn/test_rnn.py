"""RNNCell and RNN: the step formula, shared weights, BPTT, truncation, gradient norms, errors."""

import math
import random

import pytest

import nn
from autograd import Value, gradcheck, no_grad, numerical_grad
from nn.rnn import hidden_grad_norms

ACTIVATION_FUNCTIONS = {
    "tanh": math.tanh,
    "relu": lambda s: max(s, 0.0),
    "sigmoid": lambda s: 1 / (1 + math.exp(-s)),
    "linear": lambda s: s,
}


def sequence(T, nin, seed=0):
    rng = random.Random(seed)
    return [[rng.uniform(-1, 1) for _ in range(nin)] for _ in range(T)]


def data(vector):
    return [v.data for v in vector]


def set_matrix(matrix, numbers):
    for row, row_numbers in zip(matrix, numbers):
        for p, x in zip(row, row_numbers):
            p.data = x


# -- structure ---------------------------------------------------------------------------


def test_cell_parameters_are_w_xh_w_hh_b_and_count_nin_nh_plus_nh_nh_plus_nh():
    cell = nn.RNNCell(2, 3)
    names = [name for name, _ in cell.named_parameters()]
    assert names[:3] == ["W_xh.0.0", "W_xh.0.1", "W_xh.0.2"]
    assert names[6:8] == ["W_hh.0.0", "W_hh.0.1"]
    assert names[-3:] == ["b.0", "b.1", "b.2"]
    assert len(cell.parameters()) == 2 * 3 + 3 * 3 + 3
    assert [len(row) for row in cell.W_xh] == [3, 3]
    assert [len(row) for row in cell.W_hh] == [3, 3, 3]
    assert len(cell.b) == 3


def test_rnn_parameters_are_its_cells_under_the_name_cell():
    rnn = nn.RNN(3, 4)
    assert len(rnn.parameters()) == 3 * 4 + 4 * 4 + 4
    assert all(a is b for a, b in zip(rnn.parameters(), rnn.cell.parameters()))
    assert rnn.named_parameters()[0][0] == "cell.W_xh.0.0"
    assert isinstance(rnn.cell, nn.RNNCell)


def test_rnn_and_rnncell_are_exported_by_nn():
    assert "RNN" in nn.__all__ and "RNNCell" in nn.__all__
    assert nn.RNN is nn.rnn.RNN and nn.RNNCell is nn.rnn.RNNCell


@pytest.mark.parametrize("activation", list(ACTIVATION_FUNCTIONS))
def test_cell_computes_act_of_x_w_xh_plus_h_w_hh_plus_b(activation):
    cell = nn.RNNCell(2, 3, activation, rng=random.Random(1))
    x, h = [0.5, -1.0], [0.2, -0.4, 0.9]
    out = cell(x, h)
    for j in range(3):
        s = (sum(x[i] * cell.W_xh[i][j].data for i in range(2))
             + sum(h[i] * cell.W_hh[i][j].data for i in range(3)) + cell.b[j].data)
        assert out[j].data == pytest.approx(ACTIVATION_FUNCTIONS[activation](s), rel=1e-12)


def test_each_hidden_unit_is_one_dot_node_plus_one_activation_node():
    cell = nn.RNNCell(2, 3, "tanh", rng=random.Random(0))
    x, h = [Value(0.5), Value(-1.0)], [Value(0.1), Value(0.2), Value(0.3)]
    for j, unit in enumerate(cell(x, h)):
        assert unit.op == "tanh"
        (pre,) = unit.parents
        assert pre.op == "dot"
        expected = ([row[j] for row in cell.W_xh] + [row[j] for row in cell.W_hh]
                    + x + h + [cell.b[j]])
        assert len(pre.parents) == len(expected)
        assert all(a is b for a, b in zip(pre.parents, expected))


def test_linear_cell_units_are_single_dot_nodes_and_floats_become_value_leaves():
    out = nn.RNNCell(2, 2, "linear")([1.0, 2])  # a float and an int
    assert [v.op for v in out] == ["dot", "dot"]
    inputs = out[0].parents[4:8]  # after the 2 + 2 weights: x (2), then h (2)
    assert all(type(v) is Value and v.parents == () for v in inputs)
    assert data(inputs) == [1.0, 2.0, 0.0, 0.0]


def test_every_step_uses_the_same_parameter_values():
    rnn = nn.RNN(2, 3, rng=random.Random(2))
    hs, _ = rnn(sequence(4, 2))
    cell = rnn.cell
    for h in hs:
        for j, unit in enumerate(h):
            weights = unit.parents[0].parents[:5]
            column = [row[j] for row in cell.W_xh] + [row[j] for row in cell.W_hh]
            assert all(w is c for w, c in zip(weights, column))
            assert unit.parents[0].parents[-1] is cell.b[j]


def test_loading_a_state_dict_changes_what_the_cell_computes():
    # The precomputed columns hold the parameters themselves, not copies.
    a = nn.RNN(2, 3, rng=random.Random(3))
    b = nn.RNN(2, 3, rng=random.Random(4))
    xs = sequence(3, 2)
    assert data(a(xs)[1]) != data(b(xs)[1])
    b.load_state_dict(a.state_dict())
    assert data(a(xs)[1]) == data(b(xs)[1])


def test_initialisation_is_uniform_within_one_over_sqrt_nhidden_drawn_from_rng():
    cell = nn.RNNCell(20, 16, rng=random.Random(5))
    values = [p.data for p in cell.parameters()]
    bound = 1 / math.sqrt(16)
    assert max(abs(v) for v in values) <= bound
    assert max(abs(v) for v in values) > 0.95 * bound  # 592 draws fill the interval
    expected = random.Random(5)
    assert values[:3] == [expected.uniform(-bound, bound) for _ in range(3)]
    assert nn.RNNCell(20, 16, rng=random.Random(5)).state_dict() == cell.state_dict()
    random.seed(8)
    first = nn.RNNCell(2, 2).state_dict()
    random.seed(8)
    assert nn.RNNCell(2, 2).state_dict() == first  # rng=None: the global random module


def test_repr_names_the_sizes_and_activation():
    assert "RNNCell(nin=2, nhidden=3, activation='relu')" in repr(nn.RNN(2, 3, "relu"))


# -- the unrolled forward pass -------------------------------------------------------------


def test_rnn_returns_one_hidden_vector_per_step_and_the_last_one():
    rnn = nn.RNN(2, 3, rng=random.Random(6))
    xs = sequence(5, 2)
    hs, h = rnn(xs)
    assert len(hs) == 5 and all(len(v) == 3 for v in hs)
    assert h is hs[-1]
    h_prev = [0.0, 0.0, 0.0]
    for x, expected in zip(xs, hs):
        h_prev = data(rnn.cell(x, h_prev))
        assert h_prev == data(expected)


def test_h0_defaults_to_zeros_and_a_given_h0_is_used():
    rnn = nn.RNN(2, 3, rng=random.Random(7))
    xs = sequence(3, 2)
    assert data(rnn(xs)[1]) == data(rnn(xs, h0=[0.0, 0.0, 0.0])[1])
    assert data(rnn(xs)[1]) != data(rnn(xs, h0=[0.5, 0.0, 0.0])[1])


def test_inputs_may_be_floats_ints_values_lists_or_tuples():
    rnn = nn.RNN(2, 2, rng=random.Random(8))
    expected = data(rnn([[1.0, 0.0], [0.0, 1.0]])[1])
    assert data(rnn([[1, 0], [0, 1]])[1]) == expected
    assert data(rnn(([Value(1.0), 0], (0.0, Value(1.0))))[1]) == expected


def test_under_no_grad_every_hidden_value_is_a_leaf():
    rnn = nn.RNN(2, 2, rng=random.Random(9))
    with no_grad():
        hs, _ = rnn(sequence(3, 2), truncate=2)
    assert all(v.parents == () for h in hs for v in h)


def test_a_long_sequence_backpropagates_without_recursion_limits():
    rnn = nn.RNN(1, 2, rng=random.Random(10))
    _, h = rnn([[0.1]] * 3000)
    h[0].backward()
    assert all(math.isfinite(p.grad) for p in rnn.parameters())


# -- backpropagation through time ----------------------------------------------------------


def test_bptt_gradients_of_every_parameter_match_central_differences_over_7_steps():
    rnn = nn.RNN(2, 3, rng=random.Random(11))
    params = rnn.parameters()
    xs = sequence(7, 2, seed=1)
    weights = [[0.3, -1.2, 0.7][j] * (t + 1) for t in range(7) for j in range(3)]

    def loss():
        hs, _ = rnn(xs)
        # A loss on every step, so each parameter's gradient sums over all of them.
        return sum((w * v for w, v in zip(weights, (v for h in hs for v in h))), Value(0.0))

    rnn.zero_grad()
    loss().backward()
    analytic = [p.grad for p in params]

    def loss_at(*point):
        for p, value in zip(params, point):
            p.data = value.data
        return loss()

    start = [p.data for p in params]
    numeric = numerical_grad(loss_at, start)
    for p, value in zip(params, start):
        p.data = value
    names = [name for name, _ in rnn.named_parameters()]
    for name, a, n in zip(names, analytic, numeric):
        assert a == pytest.approx(n, rel=1e-5, abs=1e-7), name
    assert all(a != 0.0 for a in analytic)  # every parameter really was checked


def test_bptt_gradients_of_the_inputs_and_h0_pass_gradcheck():
    rnn = nn.RNN(2, 3, rng=random.Random(12))
    start = [x for step in sequence(7, 2, seed=2) for x in step] + [0.1, -0.2, 0.3]

    def loss(*v):
        xs = [list(v[2 * t : 2 * t + 2]) for t in range(7)]
        hs, h = rnn(xs, h0=list(v[14:]))
        return h[0] * 2.0 + hs[3][1] - hs[0][2]

    assert gradcheck(loss, start)


def unrolled_one_unit_gradients(w_xh, w_hh, b, xs, cs, truncate=None):
    """dL/d(w_xh, w_hh, b) of L = sum_t c_t h_t, h_t = tanh(w_hh h_{t-1} + w_xh x_t + b),
    h_{-1} = 0, by the seed's formula written out in floats:

        dL/dW = sum_t dL/dh_t|direct  sum_k (prod_{j=k+1..t} dh_j/dh_{j-1}) d+h_k/dW

    with dh_j/dh_{j-1} = (1 - h_j**2) w_hh and the direct (one-step) derivatives
    d+h_k/dw_hh = (1 - h_k**2) h_{k-1}, d+h_k/dw_xh = (1 - h_k**2) x_k, d+h_k/db = 1 - h_k**2.
    Truncated BPTT restricts k to the chunk of t (k >= t - t % truncate).
    """
    hs, h = [], 0.0
    for x in xs:
        h = math.tanh(w_hh * h + w_xh * x + b)
        hs.append(h)
    slope = [1 - h * h for h in hs]
    h_before = [0.0] + hs[:-1]
    g_xh = g_hh = g_b = 0.0
    for t in range(len(xs)):
        first = 0 if truncate is None else t - t % truncate
        for k in range(first, t + 1):
            product = 1.0
            for j in range(k + 1, t + 1):
                product *= slope[j] * w_hh
            g_xh += cs[t] * product * slope[k] * xs[k]
            g_hh += cs[t] * product * slope[k] * h_before[k]
            g_b += cs[t] * product * slope[k]
    return g_xh, g_hh, g_b


@pytest.mark.parametrize("truncate", [None, 3])
def test_one_unit_gradients_match_the_hand_unrolled_bptt_formula(truncate):
    rnn = nn.RNN(1, 1)
    w_xh, w_hh, b = 0.8, -1.3, 0.2
    rnn.cell.W_xh[0][0].data, rnn.cell.W_hh[0][0].data, rnn.cell.b[0].data = w_xh, w_hh, b
    xs = [0.5, -1.0, 0.3, 0.9, -0.2, 0.7, -0.6]
    cs = [0.3, -0.5, 1.0, 0.2, -1.1, 0.4, 0.8]
    hs, _ = rnn([[x] for x in xs], truncate=truncate)
    loss = sum((c * h[0] for c, h in zip(cs, hs)), Value(0.0))
    loss.backward()
    expected = unrolled_one_unit_gradients(w_xh, w_hh, b, xs, cs, truncate)
    got = (rnn.cell.W_xh[0][0].grad, rnn.cell.W_hh[0][0].grad, rnn.cell.b[0].grad)
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-12)
    if truncate is not None:  # truncation really changed the answer
        assert got != pytest.approx(unrolled_one_unit_gradients(w_xh, w_hh, b, xs, cs))


def last_step_loss_run(truncate):
    rnn = nn.RNN(2, 3, rng=random.Random(13))
    xs = [[Value(a), Value(b)] for a, b in sequence(7, 2, seed=3)]
    h0 = [Value(0.1), Value(-0.1), Value(0.2)]
    hs, h = rnn(xs, h0=h0, truncate=truncate)
    (h[0] + h[1] - h[2]).backward()
    return xs, h0, hs


def test_without_truncation_gradient_from_the_last_step_reaches_the_first():
    xs, h0, hs = last_step_loss_run(truncate=None)
    assert all(n > 0 for n in hidden_grad_norms(hs))
    assert any(v.grad != 0 for v in xs[0]) and any(v.grad != 0 for v in h0)


def test_truncation_stops_gradient_at_the_chunk_boundary():
    # truncate=3 over 7 steps: chunks 0-2, 3-5 and 6; the loss reads step 6 only.
    xs, h0, hs = last_step_loss_run(truncate=3)
    norms = hidden_grad_norms(hs)
    assert norms[:6] == [0.0] * 6 and norms[6] > 0
    assert all(v.grad == 0 for x in xs[:6] for v in x) and any(v.grad != 0 for v in xs[6])
    assert all(v.grad == 0 for v in h0)


def test_within_a_chunk_gradient_flows_back_to_the_chunk_start_and_h0():
    rnn = nn.RNN(2, 3, rng=random.Random(14))
    h0 = [Value(0.1), Value(-0.1), Value(0.2)]
    hs, _ = rnn(sequence(7, 2, seed=4), h0=h0, truncate=3)
    hs[4][0].backward()  # step 4 is in the chunk 3-5
    reached = [n > 0 for n in hidden_grad_norms(hs)]
    assert reached == [False, False, False, True, True, False, False]
    hs[1][0].backward()  # step 1 is in the first chunk, which h0 enters
    assert any(v.grad != 0 for v in h0)


def test_truncation_leaves_every_forward_value_unchanged():
    rnn = nn.RNN(2, 3, rng=random.Random(15))
    xs = sequence(8, 2)
    full, _ = rnn(xs)
    for k in (1, 2, 3, 8, 50):
        truncated, _ = rnn(xs, truncate=k)
        assert [data(h) for h in truncated] == [data(h) for h in full]


# -- gradient norms through time -------------------------------------------------------------


def test_hidden_grad_norms_are_the_l2_norms_of_each_steps_gradients():
    h = [[Value(0.0), Value(0.0)], [Value(0.0), Value(0.0)]]
    h[0][0].grad, h[0][1].grad, h[1][1].grad = 3.0, -4.0, 0.5
    assert hidden_grad_norms(h) == [5.0, 0.5]
    with pytest.raises(ValueError, match=r"hs\[0\]"):
        hidden_grad_norms([Value(1.0)])


def norms_after_a_last_step_loss(rnn, xs):
    hs, h = rnn(xs)
    nn.losses.l2(h).backward()  # a loss on the last step only
    return hs, hidden_grad_norms(hs)


def test_gradient_norms_shrink_back_in_time_for_a_small_w_hh():
    # With the loss on the last step only, dL/dh_{t-1} = W_hh (dL/dh_t * tanh'), and
    # |tanh'| <= 1, so ||dL/dh_{t-1}|| <= ||W_hh||_2 ||dL/dh_t|| <= ||W_hh||_F ||dL/dh_t||.
    # Scaling W_hh to Frobenius norm 0.5 makes each step back at least halve the norm,
    # whatever the inputs.
    rnn = nn.RNN(2, 4, rng=random.Random(16))
    frobenius = math.sqrt(sum(w.data ** 2 for row in rnn.cell.W_hh for w in row))
    for row in rnn.cell.W_hh:
        for w in row:
            w.data *= 0.5 / frobenius
    _, norms = norms_after_a_last_step_loss(rnn, sequence(8, 2, seed=5))
    assert all(n > 0 for n in norms)
    for earlier, later in zip(norms, norms[1:]):
        assert earlier <= 0.5 * later * (1 + 1e-12)
    assert norms[0] < 0.01 * norms[-1]  # vanished: 0.5**7 < 0.01


def rotation(scale, angle=0.7):
    c, s = math.cos(angle), math.sin(angle)
    return [[scale * c, -scale * s], [scale * s, scale * c]]


def test_gradient_norms_grow_back_in_time_for_a_large_w_hh():
    # W_hh = 2 R with R a rotation, so ||W_hh v|| = 2 ||v|| for every v. With small inputs
    # and no bias the hidden states stay in tanh's near-linear regime, |h| < 0.5, where
    # tanh' = 1 - h**2 > 0.75; then ||dL/dh_{t-1}|| = 2 ||dL/dh_t * tanh'|| >= 1.5 ||dL/dh_t||.
    rnn = nn.RNN(1, 2)
    set_matrix(rnn.cell.W_hh, rotation(2.0))
    set_matrix(rnn.cell.W_xh, [[0.01, 0.01]])
    for b in rnn.cell.b:
        b.data = 0.0
    hs, norms = norms_after_a_last_step_loss(rnn, [[0.1], [-0.2], [0.1], [0.05], [-0.1], [0.2]])
    assert max(abs(v.data) for h in hs for v in h) < 0.5  # the regime the bound needs
    for earlier, later in zip(norms, norms[1:]):
        assert earlier >= 1.5 * later
    assert norms[0] > 5 * norms[-1]  # exploded: 1.5**5 > 7


@pytest.mark.parametrize("scale", [0.5, 2.0])
def test_linear_rnn_gradient_norms_scale_by_exactly_w_hh_per_step(scale):
    # Linear activation: dL/dh_{t-1} = W_hh dL/dh_t exactly, and W_hh = scale * rotation.
    rnn = nn.RNN(1, 2, "linear", rng=random.Random(17))
    set_matrix(rnn.cell.W_hh, rotation(scale))
    _, norms = norms_after_a_last_step_loss(rnn, sequence(6, 1))
    for t, n in enumerate(norms):
        assert n == pytest.approx(norms[-1] * scale ** (5 - t), rel=1e-9)


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "message"), [
    (lambda r: r([]), "xs is empty"),
    (lambda r: r([[1.0, 2.0], [1.0, 2.0, 3.0]]),
     r"xs\[1\] \(step 1\) has length 3, expected nin=2"),
    (lambda r: r([[1.0, 2.0], [1.0]]), r"xs\[1\] \(step 1\) has length 1, expected nin=2"),
    (lambda r: r([0.5, 1.0]), r"xs\[0\] \(step 0\) is 0.5, not a list of 2"),
    (lambda r: r("ab"), "xs must be a list of input vectors"),
    (lambda r: r(5), "xs must be a list of input vectors"),
    (lambda r: r([[1.0, 2.0]], h0=[0.0, 0.0]), "h0 has length 2, expected nhidden=3"),
    (lambda r: r([[1.0, 2.0]], h0=0.0), "h0 is 0.0, not a list of 3"),
])
def test_bad_sequences_raise_value_error_saying_which_step_and_length(call, message):
    with pytest.raises(ValueError, match=message):
        call(nn.RNN(2, 3))


@pytest.mark.parametrize("truncate", [0, -2, 1.5, True, "3"])
def test_truncate_must_be_a_positive_int(truncate):
    with pytest.raises(ValueError, match="truncate must be None or a positive int"):
        nn.RNN(2, 3)([[1.0, 2.0]], truncate=truncate)


@pytest.mark.parametrize(("call", "message"), [
    (lambda c: c([1.0, 2.0, 3.0]), "x has length 3, expected nin=2"),
    (lambda c: c([1.0, 2.0], [0.0]), "h has length 1, expected nhidden=3"),
    (lambda c: c(1.0), "x is 1.0, not a list of 2"),
])
def test_cell_input_errors_say_the_expected_length(call, message):
    with pytest.raises(ValueError, match=message):
        call(nn.RNNCell(2, 3))


@pytest.mark.parametrize("make", [
    lambda: nn.RNN(0, 3),
    lambda: nn.RNN(2, 0),
    lambda: nn.RNN(2.0, 3),
    lambda: nn.RNNCell(2, -1),
])
def test_bad_sizes_raise_value_error(make):
    with pytest.raises(ValueError, match="must be a positive int"):
        make()


def test_unknown_activation_raises_naming_the_choices():
    with pytest.raises(ValueError, match="'relu', 'tanh', 'sigmoid', 'linear'"):
        nn.RNN(2, 3, activation="gelu")
