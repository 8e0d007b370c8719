"""autograd.matvec: a layer's worth of dot nodes sharing one input vector."""

import pytest

import autograd
from autograd import Value, gradcheck


def test_matvec_builds_the_same_nodes_as_dot_row_by_row():
    rows = [[Value(0.5), Value(-1.0)], [Value(2.0), Value(0.25)]]
    xs = [Value(3.0), Value(-2.0)]
    biases = [Value(0.1), None]
    fused = autograd.matvec(rows, xs, biases)
    separate = [autograd.dot(r, xs, b) for r, b in zip(rows, biases)]
    for a, b in zip(fused, separate):
        assert a.data == b.data
        assert a.op == b.op == "dot"
        assert a.parents == b.parents


@pytest.mark.parametrize("xs", [[Value(3.0), Value(-2.0)], [3.0, -2.0]])
def test_rows_data_read_by_the_caller_gives_the_same_nodes(xs):
    rows = [[Value(0.5), Value(-1.0)], [Value(2.0), Value(0.25)]]
    biases = [Value(0.1), Value(-0.3)]
    plain = autograd.matvec(rows, xs, biases)
    read = autograd.matvec(rows, xs, biases, rows_data=[autograd.data_of(r) for r in rows])
    for a, b in zip(plain, read):
        assert (a.data, a.op, a.parents, a._saved) == (b.data, b.op, b.parents, b._saved)


@pytest.mark.parametrize("inputs", ["floats", "values", "mixed"])
def test_matvec_gradients_match_finite_differences(inputs):
    def f(w00, w01, w10, w11, b0, x0, x1):
        xs = {"floats": [0.3, -1.2], "values": [x0, x1], "mixed": [x0, 2.0]}[inputs]
        out = autograd.matvec([[w00, w01], [w10, w11]], xs, [b0, 0.5])
        return out[0].tanh() * out[1]

    assert gradcheck(f, [0.5, -1.0, 2.0, 0.25, 0.1, 0.7, -0.4])


def test_matvec_without_biases_and_with_a_shared_weight():
    w = Value(1.5)
    x = Value(2.0)
    y0, y1 = autograd.matvec([[w, w], [w, 3.0]], [x, x])
    (y0 + y1).backward()
    assert (y0.data, y1.data) == (6.0, 9.0)
    assert w.grad == 3 * 2.0  # three uses of w, each times x
    assert x.grad == 1.5 + 1.5 + 1.5 + 3.0


def test_matvec_rejects_mismatched_lengths_naming_the_row():
    with pytest.raises(ValueError, match=r"rows\[1\] has 1 entries but xs has 2"):
        autograd.matvec([[1.0, 2.0], [1.0]], [Value(1.0), Value(2.0)])
    with pytest.raises(ValueError, match="2 rows but 1 biases"):
        autograd.matvec([[1.0], [2.0]], [Value(1.0)], [None])


def test_matvec_rejects_non_numbers_naming_the_position():
    with pytest.raises(TypeError, match=r"rows\[0\]\[1\] must be a Value or a number"):
        autograd.matvec([[Value(1.0), "a"]], [1.0, 2.0])
