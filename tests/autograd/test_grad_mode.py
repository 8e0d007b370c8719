"""Grad mode: no_grad / enable_grad as context managers and decorators, per thread."""

import threading

import pytest

from autograd import Value, enable_grad, is_grad_enabled, no_grad


def records():
    """Whether an operation made right now records its parents."""
    return bool((Value(1.0) * Value(2.0)).parents)


def test_grad_is_enabled_by_default():
    assert is_grad_enabled()
    assert records()


def test_no_grad_context_turns_recording_off_and_back_on():
    with no_grad():
        assert not is_grad_enabled()
        assert not records()
    assert is_grad_enabled()
    assert records()


def test_values_made_under_no_grad_are_leaves_that_stop_gradients():
    x, w = Value(2.0), Value(-3.0)
    with no_grad():
        z = x * w
    assert z.data == -6.0
    assert z.op == "" and z.parents == ()
    y = z * x  # recorded again: z is a constant leaf here
    y.backward()
    assert x.grad == -6.0
    assert w.grad == 0.0


def test_no_grad_as_a_decorator_turns_recording_off_only_inside_the_call():
    @no_grad()
    def predict(x):
        """Docstring kept."""
        assert not is_grad_enabled()
        return x * 2.0 + 1.0

    out = predict(Value(1.5))
    assert out.data == 4.0 and out.parents == ()
    assert is_grad_enabled()
    assert predict.__name__ == "predict" and predict.__doc__ == "Docstring kept."


def test_a_decorated_function_can_be_called_many_times_and_recursively():
    @no_grad()
    def depth(n):
        assert not is_grad_enabled()
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(5) == 5
    assert depth(3) == 3
    assert is_grad_enabled()


def test_nested_no_grad_blocks_restore_the_outer_state():
    with no_grad():
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
        assert not records()
    assert is_grad_enabled()


def test_one_no_grad_object_can_be_entered_twice():
    block = no_grad()
    with block:
        with block:
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_restores_recording_after_an_exception():
    with pytest.raises(KeyError):
        with no_grad():
            raise KeyError("boom")
    assert is_grad_enabled()
    assert records()


def test_decorated_function_restores_recording_after_an_exception():
    @no_grad()
    def fail():
        raise KeyError("boom")

    with pytest.raises(KeyError):
        fail()
    assert is_grad_enabled()


def test_enable_grad_records_inside_no_grad_and_restores_no_grad_after():
    with no_grad():
        with enable_grad():
            assert is_grad_enabled()
            assert records()
        assert not is_grad_enabled()
        assert not records()
    assert is_grad_enabled()


def test_enable_grad_as_a_decorator_inside_no_grad():
    @enable_grad()
    def build(x):
        return x * x

    x = Value(3.0)
    with no_grad():
        y = build(x)
        assert not is_grad_enabled()
    y.backward()
    assert x.grad == 6.0


def test_enable_grad_restores_no_grad_after_an_exception():
    with no_grad():
        with pytest.raises(KeyError):
            with enable_grad():
                raise KeyError("boom")
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_backward_still_works_inside_no_grad():
    x = Value(1.5)
    y = x * x + x
    with no_grad():
        y.backward()
    assert x.grad == 4.0


def _run_in_thread(target):
    """Run target() in a new thread; re-raise anything it raised here."""
    errors = []

    def wrapper():
        try:
            target()
        except BaseException as error:  # noqa: BLE001 (reported to the main thread)
            errors.append(error)

    thread = threading.Thread(target=wrapper)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "thread did not finish"
    if errors:
        raise errors[0]


def test_another_thread_records_while_this_thread_is_in_no_grad():
    seen = {}

    def worker():
        seen["enabled"] = is_grad_enabled()
        seen["records"] = records()

    with no_grad():
        _run_in_thread(worker)
        assert not is_grad_enabled()
        assert not records()
    assert seen == {"enabled": True, "records": True}


def test_this_thread_records_while_another_thread_is_in_no_grad():
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def worker():
        with no_grad():
            inside.set()
            seen["worker enabled"] = is_grad_enabled()
            seen["worker records"] = records()
            release.wait(timeout=30)
            seen["worker still off"] = not is_grad_enabled() and not records()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert inside.wait(timeout=30)
        assert is_grad_enabled()
        assert records()
        x = Value(2.0)
        (x * x).backward()
        assert x.grad == 4.0
    finally:
        release.set()
        thread.join(timeout=30)
    assert seen == {"worker enabled": False, "worker records": False, "worker still off": True}
    assert is_grad_enabled()


def test_threads_in_no_grad_blocks_that_overlap_do_not_leak_into_each_other():
    # A enters no_grad, B enters no_grad, A leaves, B checks it is still off,
    # B leaves, and the main thread records throughout.
    a_inside, b_inside, a_left = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def thread_a():
        with no_grad():
            a_inside.set()
            b_inside.wait(timeout=30)
        seen["a after"] = is_grad_enabled() and records()
        a_left.set()

    def thread_b():
        a_inside.wait(timeout=30)
        with no_grad():
            b_inside.set()
            a_left.wait(timeout=30)
            seen["b inside"] = is_grad_enabled() or records()
        seen["b after"] = is_grad_enabled() and records()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for thread in threads:
        thread.start()
    assert records()
    for thread in threads:
        thread.join(timeout=30)
    assert seen == {"a after": True, "b inside": False, "b after": True}
    assert is_grad_enabled() and records()


def test_detach_gives_a_new_leaf_with_the_same_data():
    x = Value(1.5)
    y = x * x
    d = y.detach()
    assert d is not y
    assert d.data == 2.25
    assert d.op == "" and d.parents == () and d.grad == 0.0


def test_gradients_do_not_flow_through_a_detached_value():
    x = Value(1.5)
    out = x * x.detach()
    out.backward()
    assert x.grad == 1.5  # not 2 * 1.5


def test_detach_of_a_leaf_is_a_distinct_leaf():
    x = Value(1.5, label="x")
    d = x.detach()
    assert d is not x and d.data == x.data
    d.data = 9.0
    assert x.data == 1.5


def test_no_grad_works_as_a_bare_decorator_too():
    @no_grad
    def forward(x):
        return x * 2

    y = forward(Value(3.0))
    assert y.data == 6.0 and y.parents == ()
    assert is_grad_enabled()


def test_no_grad_on_a_generator_function_covers_its_body_at_every_resume():
    x = Value(2.0)

    @no_grad()
    def scaled(factors):
        for factor in factors:
            assert not is_grad_enabled()
            yield x * factor

    seen = []
    for y in scaled([1.0, 2.0, 3.0]):
        assert is_grad_enabled()  # the loop's own mode between items
        seen.append((y.data, y.parents))
        z = y * x  # recorded: the caller records
        assert z.parents == (y, x)
    assert seen == [(2.0, ()), (4.0, ()), (6.0, ())]


def test_enable_grad_on_a_generator_records_inside_no_grad():
    x = Value(3.0)

    @enable_grad()
    def squares():
        while True:
            yield x * x

    with no_grad():
        generator = squares()
        y = next(generator)
        assert y.parents == (x, x)
        assert (y * 2).parents == ()  # the caller is still under no_grad
        generator.close()


def test_a_decorated_generator_passes_send_throw_close_and_its_return_value():
    log = []

    @no_grad
    def echo():
        try:
            received = yield "ready"
            while received != "stop":
                log.append((received, is_grad_enabled()))
                received = yield received * 2
        except KeyError as error:
            log.append(("caught", str(error), is_grad_enabled()))
            yield "recovered"
        finally:
            log.append(("closed", is_grad_enabled()))
        return "done"

    generator = echo()
    assert next(generator) == "ready"
    assert generator.send(21) == 42
    with pytest.raises(StopIteration) as stop:
        generator.send("stop")
    assert stop.value.value == "done"
    assert log == [(21, False), ("closed", False)]

    log.clear()
    generator = echo()
    next(generator)
    assert generator.throw(KeyError("k")) == "recovered"
    generator.close()
    assert log == [("caught", "'k'", False), ("closed", False)]
    assert is_grad_enabled()
