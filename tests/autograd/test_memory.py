"""memory_report: node, edge and byte counts checked by hand, against tracemalloc, by module."""

import gc
import random
import sys
import tracemalloc

import pytest

import autograd
import nn
from autograd import Value, checkpoint, memory_report


def test_a_small_graph_is_counted_by_hand():
    x, y = Value(2.0), Value(3.0)
    product = x * y
    z = product + x  # x is read twice: 4 edges, 4 nodes
    report = memory_report(z)
    assert (report.nodes, report.interior, report.leaves, report.edges) == (4, 2, 2, 4)
    assert set(report.by_op) == {"*", "+", "leaf"}
    assert (report.by_op["*"].nodes, report.by_op["*"].edges) == (1, 2)
    assert (report.by_op["leaf"].nodes, report.by_op["leaf"].edges) == (2, 0)
    # every distinct object once: 4 nodes, 2 parents tuples, 4 values, and the gradient
    # floats (0.0 objects shared between nodes); not the leaves' () (one shared tuple)
    objects = [x, y, product, z, product._parents, z._parents, x.data, y.data, product.data,
               z.data, x.grad, y.grad, product.grad, z.grad]
    distinct = {id(o): o for o in objects}
    assert report.bytes == sum(map(sys.getsizeof, distinct.values()))
    assert sum(row.bytes for row in report.by_op.values()) == report.bytes
    assert report.by_module == {} and report.segments == []


def test_constants_and_one_parent_nodes_are_counted_without_a_tuple():
    x = Value(1.5)
    y = (x * 2.0 + 1.0).tanh()
    report = memory_report(y)
    assert (report.nodes, report.edges) == (4, 3)
    assert set(report.by_op) == {"* c", "+ c", "tanh", "leaf"}
    assert report.by_op["tanh"].bytes == sys.getsizeof(y) + sys.getsizeof(y.data)


def test_a_shared_subgraph_is_counted_once():
    x = Value(0.5)
    shared = x.exp()
    report = memory_report(shared * shared + shared)
    assert report.nodes == 4 and report.by_op["exp"].nodes == 1
    assert report.edges == 1 + 2 + 2


def traced_bytes(build):
    gc.collect()
    tracemalloc.start()
    try:
        root = build()
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return root, current


def test_bytes_agree_with_tracemalloc_as_the_benchmark_measures_them():
    def chain():
        y = Value(0.5)
        for _ in range(5000):
            y = y * 0.999 + 0.001
        return y

    model = nn.MLP(2, [8, 8, 1], rng=random.Random(0))
    X, y = nn.data.make_moons(30, seed=0)
    # CPython keeps some freed small objects for reuse (free lists of floats, short
    # tuples, lists, dicts), which tracemalloc still counts: a few kB, so the graphs here
    # are large enough for that not to matter. RNN(1, 16): its dot nodes' parents tuples
    # (35 entries) are too long for the tuple free lists.
    rnn = nn.RNN(1, 16, rng=random.Random(0))
    xs = [[0.01 * t] for t in range(1000)]
    rnn.cell.parameters()  # cached on first use (the segments' reads): not graph memory
    builds = {
        "chain": (chain, []),
        "mlp": (lambda: nn.losses.hinge([model(x) for x in X], y), model.parameters()),
        "rnn, checkpointed": (lambda: autograd.sum(rnn(xs, checkpoint=50)[1]),
                              rnn.parameters()),
    }
    for name, (build, parameters) in builds.items():
        root, measured = traced_bytes(build)
        # the parameters were made before tracemalloc started: not in its count
        before = sum(sys.getsizeof(p) + sys.getsizeof(p.data) for p in parameters)
        reported = memory_report(root).bytes - before
        assert reported == pytest.approx(measured, rel=0.03), name


def test_nodes_are_attributed_to_the_modules_that_made_them():
    model = nn.MLP(2, [3, 1], rng=random.Random(1))
    score = model([0.5, -0.5])
    loss = (score * score + 1.0).log()
    report = memory_report(loss, model)
    assert set(report.by_module) == {"layers.0", "layers.1", "(no module)"}
    # layer 0: 3 dot nodes, 3 relu, 9 parameters; layer 1: 1 dot, 4 parameters
    assert report.by_module["layers.0"].nodes == 3 + 3 + 9
    assert report.by_module["layers.1"].nodes == 1 + 4
    assert report.by_module["(no module)"].nodes == 3  # *, + c, log
    assert sum(row.nodes for row in report.by_module.values()) == report.nodes
    assert "layers.0" in repr(report) and "module" in report.table()
    named = memory_report(loss, dict(model.named_parameters()))
    assert named.by_module == report.by_module


def test_each_checkpointed_segment_is_one_line():
    w = Value(0.3)

    def block(x):
        for _ in range(10):
            x = (x * w).tanh()
        return [x, x * 2.0]

    x = Value(1.0)
    a, b = checkpoint(block, x, label="first")
    c, d = checkpoint(block, a + b, label="second")
    report = memory_report(c + d)
    assert [row.label for row in report.segments] == ["first", "second"]
    first, second = report.segments
    assert (first.outputs, first.inputs, first.leaves, first.recomputed) == (2, 0, 2, 21)
    assert (second.outputs, second.inputs, second.leaves) == (2, 1, 1)
    assert report.by_op["checkpoint"].nodes == 2
    assert report.by_op["checkpoint output"].nodes == 4
    table = report.table()
    assert "2 checkpointed segments" in table and "first: 1 node + 2 outputs" in table


def test_memory_report_checks_its_arguments():
    with pytest.raises(TypeError, match="root must be a Value"):
        memory_report(3.0)
    with pytest.raises(TypeError, match="model must be a module"):
        memory_report(Value(1.0), model=[Value(1.0)])
