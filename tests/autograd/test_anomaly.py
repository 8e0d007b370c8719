"""detect_anomaly(): the first non-finite gradient is caught and its operation named."""

import math
import threading

import pytest

import autograd
from autograd import AnomalyError, Value, detect_anomaly


def test_gradient_overflowing_to_infinity_names_the_operation_and_the_line():
    x = Value(1e-200, label="x")
    with detect_anomaly():
        y = 1 / x  # 1e200: finite, but its slope -1/x**2 = -1e400 overflows
        z = y * 0.5
        with pytest.raises(AnomalyError) as caught:
            z.backward()
    message = str(caught.value)
    assert "'/'" in message and "'x'" in message and "-inf" in message
    assert "test_anomaly.py" in message  # where the offending node was created


def test_nan_from_an_infinite_input_names_tanh():
    x = Value(math.inf, label="x")
    w = Value(0.0, label="w")
    with detect_anomaly():
        h = (x * w).tanh()  # inf * 0 = nan in the forward pass
        with pytest.raises(AnomalyError, match=r"'tanh'.*nan"):
            h.backward()


def test_without_anomaly_mode_non_finite_gradients_pass_silently():
    x = Value(math.inf)
    w = Value(0.0)
    (x * w).tanh().backward()
    assert math.isnan(x.grad) and math.isnan(w.grad)


def test_infinite_slope_of_sqrt_at_zero_is_reported():
    x = Value(0.0, label="x")
    with detect_anomaly():
        y = x.sqrt()
        with pytest.raises(AnomalyError, match=r"'sqrt'.*operand 0.*'x'.*inf"):
            y.backward()


def test_a_gradient_that_was_already_infinite_is_not_blamed_on_a_later_op():
    x = Value(2.0)
    x.grad = math.inf  # left over from elsewhere
    with detect_anomaly():
        (x * 3.0).backward()  # adds 3 to inf: not this op's doing
    assert x.grad == math.inf


def test_after_an_anomaly_the_graph_can_be_differentiated_again():
    x = Value(0.0)
    y = x.sqrt() + x
    with detect_anomaly():
        with pytest.raises(AnomalyError):
            y.backward()
    x.grad = 0.0
    y.backward()  # counters were reset: this runs and accumulates normally
    assert x.grad == math.inf


def test_anomaly_mode_is_off_outside_the_block_and_per_thread():
    seen = {}

    def other_thread():
        x = Value(0.0)
        x.sqrt().backward()  # no anomaly mode here: no error
        seen["grad"] = x.grad

    with detect_anomaly():
        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
    assert seen["grad"] == math.inf
    x = Value(0.0)
    x.sqrt().backward()
    assert x.grad == math.inf


def test_nested_anomaly_blocks_restore_the_outer_state():
    with detect_anomaly():
        with detect_anomaly():
            pass
        x = Value(0.0)
        with pytest.raises(AnomalyError):
            x.sqrt().backward()
    assert autograd.grad_mode.slow_path.count == 0


def test_a_nan_or_infinity_made_in_the_forward_pass_names_the_op_and_the_line():
    a, b = Value(1e200, label="a"), Value(1e200, label="b")
    with detect_anomaly():
        with pytest.raises(AnomalyError, match=r"forward of '\*' made inf .*1e\+200") as caught:
            a * b  # overflows to inf: this op made it
        assert "test_anomaly.py" in str(caught.value)
        big = Value(math.inf) * 1.0  # an infinite input is the program's: not blamed
        assert math.isnan((big - big).data)  # nor what it leads to; backward() reports it


def test_a_forward_overflow_outside_anomaly_mode_passes_silently():
    assert (Value(1e200) * Value(1e200)).data == math.inf
