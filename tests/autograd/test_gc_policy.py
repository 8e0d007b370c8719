"""The garbage-collector policy: full collections wait while a large graph is alive, and
the program's collector settings come back, untouched, once it is gone."""

import gc
import math
import threading
import weakref

import pytest

from autograd import Value, gc_policy, grad_mode

SMALL_LARGE_GRAPH = 2_000  # the tests shrink the threshold so that graphs stay quick


@pytest.fixture(autouse=True)
def isolated_collector(monkeypatch):
    """Each test starts with no graph, our hook out and only our hook in gc.callbacks;
    afterwards the hook has left and the thresholds are what they were."""
    others = [hook for hook in gc.callbacks if hook is not gc_policy._after_collection]
    gc.callbacks[:] = [hook for hook in gc.callbacks if hook not in others]
    was_enabled = gc.isenabled()
    gc.enable()
    gc.collect()  # also lets the hook leave if no graph is alive
    thresholds = gc.get_threshold()
    assert not gc_policy.is_watching() and not gc_policy.is_postponing()
    try:
        yield thresholds
        gc.collect()
        assert gc.get_threshold() == thresholds
        assert not gc_policy.is_postponing()
        assert not gc_policy.is_watching() and gc_policy._after_collection not in gc.callbacks
    finally:
        gc.set_threshold(*thresholds)
        gc.callbacks[:0] = others
        if not was_enabled:
            gc.disable()


def chain(steps):
    y = Value(0.5)
    for _ in range(steps):
        y = y * 0.999 + 0.001
    return y


class _Box:
    pass


def make_cycle():
    """An object in a reference cycle, and a list that gets True once it is freed."""
    freed = []
    box = _Box()
    box.me = box
    weakref.finalize(box, freed.append, True)
    return box, freed


def allocate_containers(n=50_000):
    """Make the collector run its young collections, as any program does (the objects
    must stay alive for a while: a freed one takes its allocation off the count)."""
    kept = [[] for _ in range(n)]
    del kept


# -- what it counts ------------------------------------------------------------------------


def test_it_counts_live_graph_nodes_not_leaves():
    leaves = [Value(float(i)) for i in range(500)]
    before = gc_policy.live_graph_nodes()
    y = chain(1_000)
    assert gc_policy.live_graph_nodes() - before == 2_000
    del y
    assert gc_policy.live_graph_nodes() == before
    assert len(leaves) == 500


def test_the_hook_is_installed_by_the_first_node_and_leaves_with_the_last():
    x = Value(1.0)
    assert not gc_policy.is_watching()  # a leaf is not a graph
    y = x * 2
    assert gc_policy.is_watching() and gc.callbacks[-1] is gc_policy._after_collection
    assert grad_mode.slow_path.count == 0  # node creation is back on its fast path
    y = chain(gc_policy._WATCH_BELOW)
    gc.collect(0)
    assert gc_policy.is_watching()  # a graph is alive
    y = chain(gc_policy._WATCH_BELOW // 4)
    gc.collect(0)
    assert not gc_policy.is_watching()  # too small to be worth watching
    y = y * 2
    assert gc_policy.is_watching()
    del y
    gc.collect(0)
    assert not gc_policy.is_watching() and gc.callbacks == []
    assert grad_mode.slow_path.count == 1


def test_no_hook_under_no_grad():
    from autograd import no_grad

    with no_grad():
        y = Value(1.0) * 2
    assert not gc_policy.is_watching()
    assert y.data == 2.0


# -- postponing and resuming -----------------------------------------------------------------


def test_a_large_graph_postpones_full_collections_until_it_is_dropped(monkeypatch,
                                                                      isolated_collector):
    monkeypatch.setattr(gc_policy, "LARGE_GRAPH", SMALL_LARGE_GRAPH)
    young, middle, old = isolated_collector
    y = chain(SMALL_LARGE_GRAPH // 2 - 10)  # just under the threshold
    gc.collect(0)
    assert not gc_policy.is_postponing() and gc.get_threshold()[1:] == (middle, old)
    y = chain(SMALL_LARGE_GRAPH)
    gc.collect(0)
    assert gc_policy.is_postponing()
    assert gc.get_threshold()[1:] == (middle, gc_policy._POSTPONED)
    y.backward()  # backward does not end it: the graph is still alive
    gc.collect(0)
    assert gc_policy.is_postponing()
    del y
    gc.collect(0)
    assert not gc_policy.is_postponing() and gc.get_threshold() == (young, middle, old)


def test_it_resumes_only_below_half_the_threshold(monkeypatch, isolated_collector):
    monkeypatch.setattr(gc_policy, "LARGE_GRAPH", SMALL_LARGE_GRAPH)
    big = chain(SMALL_LARGE_GRAPH // 2)
    small = chain(SMALL_LARGE_GRAPH // 2 - 100)  # more than half the threshold by itself
    gc.collect(0)
    assert gc_policy.is_postponing()
    del big
    gc.collect(0)
    assert gc_policy.is_postponing()  # no flapping on and off around the threshold
    del small
    gc.collect(0)
    assert gc.get_threshold() == isolated_collector


def test_no_full_collection_while_a_large_graph_is_built():
    full_collections = []

    def count(phase, info):
        if phase == "start" and info["generation"] == 2:
            full_collections.append(1)

    def build(steps, large_from):
        y = Value(0.5)
        for step in range(steps):
            y = y * 0.999 + 0.001
            if step == large_from:  # by now the hook has seen the graph pass the threshold
                full_collections.clear()
        return y

    gc.callbacks.insert(0, count)
    try:
        steps = 3 * gc_policy.LARGE_GRAPH
        y = build(steps, large_from=gc_policy.LARGE_GRAPH)
        assert full_collections == []
        del y
        gc.collect()
        gc_policy.LARGE_GRAPH, real = math.inf, gc_policy.LARGE_GRAPH  # the policy off
        try:
            y = build(steps, large_from=real)
            assert full_collections, "this test no longer shows what it should"
            del y
        finally:
            gc_policy.LARGE_GRAPH = real
    finally:
        gc.callbacks.remove(count)


def test_a_graph_raises_the_young_threshold_to_four_times_its_size_and_gives_it_back(
        isolated_collector):
    young, middle, old = isolated_collector
    y = chain(5_000)  # 10,000 nodes
    gc.collect(0)
    raised = gc.get_threshold()
    assert 40_000 <= raised[0] <= 40_010 and raised[1:] == (middle, old)  # (count: +2 at most)
    assert gc_policy.is_adjusting() and not gc_policy.is_postponing()
    small = chain(1_000)
    del y
    gc.collect(0)
    assert gc.get_threshold() == raised  # not lowered while graphs live
    del small
    gc.collect(0)
    assert gc.get_threshold() == (young, middle, old) and not gc_policy.is_adjusting()


def test_the_young_threshold_is_capped(monkeypatch, isolated_collector):
    monkeypatch.setattr(gc_policy, "YOUNG_CAP", 3_000)
    y = chain(5_000)
    gc.collect(0)
    assert gc.get_threshold()[0] == 3_000
    del y


def test_a_training_step_graph_is_freed_before_any_young_collection_sees_it(
        isolated_collector):
    # A moons-sized step: after the first step or two, no collection runs during a step,
    # where the collector's default thresholds ran about 11 young collections a step.
    import random

    import nn

    model = nn.MLP(2, [16, 16, 1], rng=random.Random(0))
    X, y = nn.data.make_moons(100, seed=0)
    collections = []

    def count(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    def step():
        loss = nn.losses.hinge([model(x) for x in X], y)
        model.zero_grad()
        loss.backward()

    for _ in range(3):
        step()
    gc.callbacks.insert(0, count)
    try:
        for _ in range(5):
            step()
    finally:
        gc.callbacks.remove(count)
    assert collections == []
    gc.collect()
    gc.set_threshold(*isolated_collector)  # so the other steps' run count is not ours
    gc.callbacks.insert(0, count)
    gc_policy.LARGE_GRAPH, real = math.inf, gc_policy.LARGE_GRAPH  # the policy off
    try:
        step()
    finally:
        gc_policy.LARGE_GRAPH = real
        gc.callbacks.remove(count)
    assert len(collections) >= 5, "this test no longer shows what it should"


# -- what it leaves alone --------------------------------------------------------------------


def test_young_cyclic_garbage_is_still_collected_while_postponing(monkeypatch):
    monkeypatch.setattr(gc_policy, "LARGE_GRAPH", SMALL_LARGE_GRAPH)
    y = chain(SMALL_LARGE_GRAPH)
    gc.collect(0)
    assert gc_policy.is_postponing()
    box, freed = make_cycle()
    del box
    allocate_containers()  # no explicit collection: the collector's own young ones
    assert freed == [True]
    del y


def test_old_cyclic_garbage_waits_for_the_graph_then_is_collected(monkeypatch):
    monkeypatch.setattr(gc_policy, "LARGE_GRAPH", SMALL_LARGE_GRAPH)
    box, freed = make_cycle()
    gc.collect(1)
    gc.collect(1)  # now in the oldest generation
    y = chain(SMALL_LARGE_GRAPH)
    gc.collect(0)
    assert gc_policy.is_postponing()
    del box
    allocate_containers(200_000)
    assert freed == []  # postponed, not lost
    gc.collect()  # an explicit full collection still collects everything
    assert freed == [True]
    del y


def test_thresholds_the_program_sets_meanwhile_are_kept(monkeypatch, isolated_collector):
    monkeypatch.setattr(gc_policy, "LARGE_GRAPH", SMALL_LARGE_GRAPH)
    y = chain(SMALL_LARGE_GRAPH)
    gc.collect(0)
    assert gc_policy.is_postponing()
    gc.set_threshold(500, 5, 5)
    del y
    gc.collect(0)
    assert gc.get_threshold() == (500, 5, 5) and not gc_policy.is_postponing()
    gc.set_threshold(*isolated_collector)


def test_a_disabled_collector_stays_disabled_and_untouched(monkeypatch, isolated_collector):
    monkeypatch.setattr(gc_policy, "LARGE_GRAPH", SMALL_LARGE_GRAPH)
    gc.disable()
    try:
        y = chain(2 * SMALL_LARGE_GRAPH)
        allocate_containers()
        assert not gc.isenabled() and gc.get_threshold() == isolated_collector
        del y
    finally:
        gc.enable()


def test_the_hook_never_makes_a_later_hook_miss_a_call():
    calls = []
    y = Value(1.0) * 2
    gc.callbacks.append(lambda phase, info: calls.append(phase))
    del y
    gc.collect(0)
    assert calls == ["start", "stop"]
    assert gc_policy.is_watching()  # it waits until it is last
    gc.callbacks.pop()
    gc.collect(0)
    assert not gc_policy.is_watching()


def test_threads_building_graphs_leave_the_counts_consistent():
    def work():
        for _ in range(20):
            y = chain(200)
            y.backward()
            del y
            gc.collect(0)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    gc.collect(0)
    assert grad_mode.slow_path.count == (0 if gc_policy.is_watching() else 1)
