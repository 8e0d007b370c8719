"""Threads differentiating one graph at once: every sweep's gradient arrives, none is lost.

Before sweeps took turns, the walk marks that live on the nodes were shared by both
threads, and ``x.grad`` came out 1.0 instead of 2.0 in most runs.
"""

import sys
import threading

import pytest

import autograd
from autograd import Value

THREADS = 4
CALLS = 5


@pytest.fixture(autouse=True)
def switch_often():
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # hand the GIL over as often as CPython will
    yield
    sys.setswitchinterval(interval)


def shared_graph():
    x = Value(0.5, label="x")
    y = x
    for _ in range(2_000):
        y = (y * 0.999).tanh() + x * 0.001
    return x, y


def run_in_threads(work):
    start = threading.Barrier(THREADS)
    errors = []

    def body():
        start.wait()
        try:
            for _ in range(CALLS):
                work()
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=body) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_backward_from_several_threads_on_one_graph_accumulates_every_sweep():
    x, y = shared_graph()
    y.backward()
    once = x.grad
    x.grad = 0.0
    for node in autograd.topological_order(y):
        node.grad = 0.0
    run_in_threads(y.backward)
    assert x.grad == pytest.approx(THREADS * CALLS * once, rel=1e-12)


def test_backward_on_graphs_that_share_a_subgraph_accumulates_both():
    x, shared = shared_graph()
    a, b = shared * 2.0, shared.exp()
    a.backward()
    b.backward()
    both = x.grad
    x.grad = 0.0
    for node in autograd.topological_order(a) + autograd.topological_order(b):
        node.grad = 0.0
    roots = iter([a, b] * THREADS * CALLS)
    lock = threading.Lock()

    def one():
        with lock:
            root = next(roots)
        root.backward()

    run_in_threads(one)
    # THREADS * CALLS sweeps in all, taken alternately from a's graph and b's.
    assert x.grad == pytest.approx(THREADS * CALLS / 2 * both, rel=1e-9)


def test_grad_and_backward_together_give_grad_the_right_answer_and_lose_nothing():
    x, y = shared_graph()
    (expected,) = autograd.grad(y, [x])
    answers = []

    def mixed():
        answers.append(autograd.grad(y, [x])[0])
        y.backward()

    run_in_threads(mixed)
    assert answers == [expected] * (THREADS * CALLS)
    assert x.grad == pytest.approx(THREADS * CALLS * expected, rel=1e-12)
