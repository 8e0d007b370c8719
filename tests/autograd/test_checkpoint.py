"""autograd.checkpoint: the same gradients, bit for bit, with a fraction of the graph alive.

Every comparison here is exact (``==`` on lists of floats): checkpointing must not change
a single bit of any gradient, for ``backward()`` (including repeated calls, which
accumulate) and for ``grad()``.
"""

import gc
import math
import random
import weakref

import pytest

import autograd
import nn
from autograd import CheckpointError, Value, checkpoint, gc_policy, grad, no_grad
from autograd.checkpointing import OUTPUT, SEGMENT
from autograd.ops import LEAF


class Tracked(Value):
    """A leaf that can be watched with a weakref (Value itself has no __weakref__ slot)."""

    __slots__ = ("__weakref__",)


def grads(values):
    return [v.grad for v in values]


def zero(values):
    for v in values:
        v.grad = 0.0


# -- an MLP, plain and cut into segments ---------------------------------------------------


def mlp_model(seed=0):
    return nn.MLP(3, [8, 8, 8, 8, 2], activation="tanh", rng=random.Random(seed))


def mlp_loss(model, rows, every=None):
    total = []
    for x in rows:
        out = model(x) if every is None else nn.checkpoint_sequential(model.layers, x, every)
        total += [o * o for o in out]
    return autograd.sum(total)


ROWS = [[0.5, -1.0, 0.25], [1.5, 0.3, -0.7], [-0.2, 0.9, 2.0]]


@pytest.mark.parametrize("every", [1, 2, 3, 5])
def test_an_mlp_cut_every_k_layers_gets_bit_identical_gradients_from_backward(every):
    model = mlp_model()
    params = model.parameters()
    mlp_loss(model, ROWS).backward()
    expected = grads(params)
    zero(params)
    loss = mlp_loss(model, ROWS, every)
    assert loss.data == mlp_loss(model, ROWS).data
    loss.backward()
    assert grads(params) == expected
    loss.backward()  # backward accumulates, as without checkpointing
    zero(params)
    plain = mlp_loss(model, ROWS)
    plain.backward()
    plain.backward()
    twice = grads(params)
    zero(params)
    loss = mlp_loss(model, ROWS, every)
    loss.backward()
    loss.backward()
    assert grads(params) == twice


@pytest.mark.parametrize("every", [1, 2, 5])
def test_an_mlp_cut_every_k_layers_gets_bit_identical_gradients_from_grad(every):
    model = mlp_model(1)
    params = model.parameters()
    for p in params:
        p.grad = 0.125  # grad() must leave these alone
    x = [Value(0.5), Value(-0.3), Value(1.2)]
    expected = grad(mlp_loss(model, [x]), params + x)
    loss = mlp_loss(model, [x], every)
    assert grad(loss, params + x) == expected
    assert grad(loss, params + x) == expected  # and again, from the same graph
    assert all(p.grad == 0.125 for p in params) and grads(x) == [0.0] * 3


def test_the_output_of_a_segment_holds_its_whole_gradient_after_backward():
    w = Value(0.7)
    x = Value(0.4)

    def two(x):
        h = (x * w).tanh()
        return [h, (h * w).tanh()]  # h is an output and is read inside the segment too

    ha, hb = two(x)
    loss = ha * 3.0 + hb * hb
    loss.backward()
    expected = [ha.grad, hb.grad, w.grad, x.grad]
    zero([w, x])
    ca, cb = checkpoint(two, x)
    loss = ca * 3.0 + cb * cb
    loss.backward()
    assert [ca.grad, cb.grad, w.grad, x.grad] == expected


# -- RNNs -------------------------------------------------------------------------------------


def rnn_case(T, checkpoint_every, truncate=None, every_step=False, h0=None, seed=0):
    rnn = nn.RNN(2, 4, rng=random.Random(seed))
    rng = random.Random(seed + 1)
    xs = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(T)]
    hs, h = rnn(xs, h0=h0, truncate=truncate, checkpoint=checkpoint_every)
    if every_step:
        loss = autograd.sum([v * v for h_t in hs for v in h_t])
    else:
        loss = autograd.sum([v * v for v in h])
    return rnn, loss


@pytest.mark.parametrize("truncate", [None, 5, 7])
@pytest.mark.parametrize("every_step", [False, True])
def test_an_rnn_cut_into_segments_gets_bit_identical_gradients(truncate, every_step):
    plain_rnn, plain = rnn_case(60, None, truncate, every_step)
    plain.backward()
    expected = grads(plain_rnn.parameters())
    expected_grad = grad(plain, plain_rnn.parameters())
    for k in (1, 4, 10, 13, 60, 100):
        rnn, loss = rnn_case(60, k, truncate, every_step)
        assert loss.data == plain.data
        assert grad(loss, rnn.parameters()) == expected_grad, k
        loss.backward()
        assert grads(rnn.parameters()) == expected, k


@pytest.mark.parametrize("truncate", [None, 5, 7])
@pytest.mark.parametrize("every_step", [False, True])
def test_the_rnn_names_the_leaves_its_segments_read_exactly_as_the_walk_finds_them(
        truncate, every_step):
    # nn.RNN passes reads= (no walk of each first run); inside detect_anomaly the walk
    # runs anyway and checkpoint checks the named parents against it.
    a = Value(0.3)
    h0 = [(a * float(i)).tanh() for i in range(4)]
    for k in (1, 4, 10, 13, 60):
        with autograd.detect_anomaly():
            _, loss = rnn_case(60, k, truncate, every_step, h0=h0)
        loss.backward()


def test_reads_gives_the_walked_segment_and_its_gradients_bit_for_bit():
    rnn = nn.RNN(2, 4, rng=random.Random(3))
    xs = [[0.1 * t, -0.2] for t in range(12)]
    step = rnn.cell._step

    def run(h, xs_segment):
        for x in xs_segment:
            h = step(list(x), h)
        return h

    def build(reads):
        h = [Value(0.1 * i).tanh() for i in range(4)]
        values = [tuple(Value(v) for v in x) for x in xs]
        for first in range(0, 12, 4):
            h = checkpoint(run, h, tuple(values[first:first + 4]), reads=reads)
        return autograd.sum([v * v for v in h])

    def segments(root):
        return [n for n in autograd.engine.sweep_order(root) if n._op is SEGMENT]

    walked, named = build(None), build(rnn.cell.parameters())
    assert len(segments(walked)) == len(segments(named)) == 3
    for segment, named_segment in zip(segments(walked), segments(named)):
        assert named_segment._saved.interior == segment._saved.interior == 4 * 2 * 4
        assert (sorted(p.data for p in named_segment.parents if p._op is LEAF)
                == sorted(p.data for p in segment.parents if p._op is LEAF))
        assert [p.data for p in named_segment.parents if p._op is not LEAF] == [
            p.data for p in segment.parents if p._op is not LEAF]
    expected = grad(walked, rnn.parameters())
    assert grad(named, rnn.parameters()) == expected
    walked.backward()
    expected = grads(rnn.parameters())
    rnn.zero_grad()
    named.backward()
    assert grads(rnn.parameters()) == expected


def test_reads_is_checked_in_anomaly_mode_and_must_hold_leaves():
    w, u = Value(2.0), Value(3.0)
    x = Value(0.5) * 1.0
    y = Value(0.25) * 1.0
    with pytest.raises(TypeError, match="reads must hold leaf Values"):
        checkpoint(lambda x: x * w, x, reads=[x])
    with pytest.raises(TypeError, match="reads must be a list"):
        checkpoint(lambda x: x * w, x, reads=w)
    checkpoint(lambda x: x * w * u, x, reads=[w])  # unchecked outside anomaly mode
    with autograd.detect_anomaly():
        with pytest.raises(CheckpointError, match="1 leaves that are not in reads"):
            checkpoint(lambda x: x * w * u, x, reads=[w], label="mine")
        with pytest.raises(CheckpointError, match="in args order"):
            checkpoint(lambda x, y: y * w + x * u, x, y, reads=[w, u])  # y entered first
        with pytest.raises(CheckpointError, match="every interior Value"):
            checkpoint(lambda x, y: x * w, x, y, reads=[w])  # y never read
        out = checkpoint(lambda x, y: x * w + y * u, x, y, reads=[w, u])
    out.backward()
    assert (w.grad, u.grad) == (0.5, 0.25)


def test_an_rnn_with_a_starting_state_that_has_history_sends_it_its_gradient():
    a = Value(0.3)
    h0 = [(a * float(i)).tanh() for i in range(4)]
    plain_rnn, plain = rnn_case(25, None, h0=h0)
    plain.backward()
    expected = grads(plain_rnn.parameters()) + [a.grad]
    a.grad = 0.0
    rnn, loss = rnn_case(25, 6, h0=h0)
    loss.backward()
    assert grads(rnn.parameters()) + [a.grad] == expected


def test_checkpointed_rnn_states_are_made_on_demand_and_hold_their_gradients():
    plain_rnn, plain_loss = rnn_case(30, None, every_step=True)
    rnn = nn.RNN(2, 4, rng=random.Random(0))
    rng = random.Random(1)
    xs = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(30)]
    hs, h = rnn(xs, checkpoint=8)
    assert len(hs) == 30 and hs[-1] is h and hs[29] is h and hs[3] is hs[3]
    assert isinstance(hs[5], list) and len(hs[5]) == 4 and hs[2:4] == [hs[2], hs[3]]
    plain_hs, _ = plain_rnn(xs)
    assert [v.data for v in hs[17]] == [v.data for v in plain_hs[17]]
    loss = autograd.sum([v * v for h_t in hs for v in h_t])
    plain_loss = autograd.sum([v * v for h_t in plain_hs for v in h_t])
    loss.backward()
    plain_loss.backward()
    assert nn.rnn.hidden_grad_norms(hs) == nn.rnn.hidden_grad_norms(plain_hs)
    with pytest.raises(IndexError):
        hs[30]
    with pytest.raises(ValueError, match="checkpoint must be None or a positive int"):
        rnn(xs, checkpoint=0)


# -- nesting, shared inputs, random programs ----------------------------------------------------


def test_nested_segments_get_bit_identical_gradients():
    ws = [Value(0.1 * i - 0.35) for i in range(8)]

    def inner(x, w):
        return (x * w + 0.2).tanh()

    def outer(x, use_inner):
        for w in ws[:4]:
            x = checkpoint(inner, x, w) if use_inner else inner(x, w)
        return [x, x * ws[4]]

    def loss_of(use_outer, use_inner):
        x = Value(0.9)
        y = x
        for _ in range(3):
            a, b = checkpoint(outer, y, use_inner) if use_outer else outer(y, use_inner)
            y = (a + b).tanh()
        return x, y * y

    x, plain = loss_of(False, False)
    expected = grad(plain, ws + [x])
    plain.backward()
    expected_backward = grads(ws + [x])
    for use_outer, use_inner in [(True, False), (False, True), (True, True)]:
        zero(ws)
        x, loss = loss_of(use_outer, use_inner)
        assert grad(loss, ws + [x]) == expected
        loss.backward()
        assert grads(ws + [x]) == expected_backward


def test_inputs_reused_across_segments_and_outside_them_get_bit_identical_gradients():
    w = Value(0.8)

    def block(x, y):
        return (x * w + y).tanh()

    def build(ckpt):
        x, y = Value(0.3), Value(-0.6)
        call = (lambda *a: checkpoint(block, *a)) if ckpt else block
        u = call(x, y)
        v = call(x, u)  # x read by both segments, u crosses from one to the next
        z = call(u, v)
        return [x, y, w], z * x + u * v + x * y

    leaves, plain = build(False)
    plain.backward()
    expected = grads(leaves)
    w.grad = 0.0
    leaves, loss = build(True)
    loss.backward()
    assert grads(leaves) == expected


UNARY = [lambda v: v.tanh(), lambda v: v.sigmoid(), lambda v: v * 1.3 - 0.2,
         lambda v: (v * v + 1.0).log(), lambda v: v.relu() + v * 0.1]


def random_program(rng, width):
    """A random deep network on a vector: each layer mixes the state with weights."""
    layers = []
    for _ in range(rng.randint(3, 9)):
        weights = [[Value(rng.uniform(-1, 1)) for _ in range(width)] for _ in range(width)]
        acts = [rng.choice(UNARY) for _ in range(width)]
        layers.append((weights, acts))
    return layers


def run_layers(layers, h):
    for weights, acts in layers:
        h = [act(autograd.dot(row, h)) for row, act in zip(weights, acts)]
    return h


def run_program(layers, h, cuts, rng_nest):
    """The layers with segments at ``cuts``, some of them nested one level deeper."""
    bounds = [0] + cuts + [len(layers)]
    for start, end in zip(bounds, bounds[1:]):
        part = layers[start:end]
        if rng_nest.random() < 0.4 and len(part) > 1:
            middle = len(part) // 2

            def nested(h, part=part, middle=middle):
                h = checkpoint(run_layers, part[:middle], h)
                return run_layers(part[middle:], h)

            h = checkpoint(nested, h)
        else:
            h = checkpoint(run_layers, part, h)
    return h


@pytest.mark.parametrize("seed", range(12))
def test_random_deep_programs_with_random_and_nested_segments_are_bit_identical(seed):
    rng = random.Random(seed)
    width = rng.randint(1, 4)
    layers = random_program(rng, width)
    params = [w for weights, _ in layers for row in weights for w in row]
    x = [Value(rng.uniform(-1, 1)) for _ in range(width)]
    readout = rng.choice(["last", "sum", "reuse"])

    def loss_of(h, x):
        if readout == "last":
            return h[-1] * h[-1]
        if readout == "sum":
            return autograd.sum([v * v for v in h])
        return autograd.sum([v * u for v, u in zip(h, x)])  # the input read again

    plain = loss_of(run_layers(layers, x), x)
    expected = grad(plain, params + x)
    plain.backward()
    expected_backward = grads(params + x)
    for trial in range(3):
        zero(params + x)
        n = len(layers)
        cuts = sorted(rng.sample(range(1, n), rng.randint(0, n - 1)))
        loss = loss_of(run_program(layers, x, cuts, random.Random(trial)), x)
        assert loss.data == plain.data
        assert grad(loss, params + x) == expected, (cuts, readout)
        loss.backward()
        assert grads(params + x) == expected_backward, (cuts, readout)


# -- what happens when ------------------------------------------------------------------------


def test_fn_runs_again_during_backward_and_its_graph_is_freed_after():
    calls = []
    constants = []
    w = Value(1.5)

    def fn(x):
        calls.append(len(calls))
        c = Tracked(0.5)
        constants.append(weakref.ref(c))
        y = x
        for _ in range(50):
            y = (y * w + c).tanh()
        return y

    x = Value(0.2)
    y = checkpoint(fn, x)
    assert len(calls) == 1
    gc.collect()
    alive = gc_policy.live_graph_nodes()
    loss = y * 2.0
    loss.backward()
    assert len(calls) == 2  # recomputed, during backward
    assert constants[1]() is None  # the recomputed graph is gone ...
    assert gc_policy.live_graph_nodes() == alive + 1  # ... only loss is new
    loss.backward()
    assert len(calls) == 3
    assert grad(loss, [w]) and len(calls) == 4
    del loss, y
    assert constants[0]() is None  # the first run's constant went with the segment


def test_a_segment_under_no_grad_just_runs():
    calls = []
    w = Value(2.0)

    def fn(x):
        calls.append(1)
        return x * w

    with no_grad():
        y = checkpoint(fn, Value(3.0))
    assert y.data == 6.0 and y.op == "" and calls == [1]


def test_outputs_are_segment_outputs_and_inputs_returned_unchanged_come_back_as_themselves():
    x = Value(1.0)
    w = Value(2.0)
    a, b, c = checkpoint(lambda x: (x, x * w, w), x)
    assert a is x and c is w
    assert b._op is OUTPUT and b.parents[0]._op is SEGMENT
    segment = b.parents[0]
    assert set(map(id, segment.parents)) == {id(x), id(w)}
    assert segment.label == "checkpoint(test_outputs_are_segment_outputs_and_inputs_returned_" \
        "unchanged_come_back_as_themselves.<locals>.<lambda>)"
    # fn that makes nothing: its result comes back as it is
    assert checkpoint(lambda x: x, x) is x


def test_an_error_while_recomputing_names_the_segment():
    w = Value(2.0)
    calls = []

    def flaky(x):
        calls.append(1)
        if len(calls) > 1:
            raise ValueError("the data moved")
        return x * w

    y = checkpoint(flaky, Value(1.0), label="block 7")
    with pytest.raises(CheckpointError, match=r"segment 'block 7'.*recomputing fn.*ValueError: "
                       "the data moved") as info:
        y.backward()
    assert isinstance(info.value.__cause__, ValueError)


def test_a_nondeterministic_fn_is_caught_when_recomputed():
    rng = random.Random(0)
    y = checkpoint(lambda x: x * rng.random(), Value(1.0), label="noisy")
    with pytest.raises(CheckpointError, match="'noisy'.*must be deterministic"):
        y.backward()


def test_an_interior_value_read_through_a_closure_is_refused():
    a = Value(0.5)
    hidden = a * 3.0  # interior, not passed in args
    hidden.backward()  # walked once, so the first run can tell it is not its own
    with pytest.raises(CheckpointError, match="interior Value that is not among its args"):
        checkpoint(lambda x: x * hidden, Value(2.0))
    fresh = a * 4.0  # never walked: caught during backward at the latest
    y = checkpoint(lambda x: x * fresh, Value(2.0))
    with pytest.raises(CheckpointError, match="not among its args"):
        (y * 1.0).backward()


def test_detect_anomaly_inside_a_segment_names_the_op_and_the_segment():
    w = Value(0.0)
    y = checkpoint(lambda x: (x * w).sqrt(), Value(1.0), label="roots")
    with autograd.detect_anomaly():
        with pytest.raises(autograd.AnomalyError, match="segment 'roots'"):
            y.backward()


def test_a_sweep_interrupted_between_an_output_and_its_segment_leaves_nothing_stale():
    x, w, d = Value(0.4), Value(1.3), Value(1.0)

    def two(x):
        return [(x * w).tanh(), (x + w).tanh()]

    def loss_of(o1, o2):
        return o1 + o2 / d

    o1, o2 = two(x)
    plain = loss_of(o1, o2)
    plain.backward()
    expected = grads([x, w])
    zero([x, w])
    c1, c2 = checkpoint(two, x)
    loss = loss_of(c1, c2)
    d.data = 0.0  # the division's rule now raises, after c1's rule has run
    with pytest.raises(ZeroDivisionError):
        loss.backward()
    d.data = 1.0
    zero([x, w, d])
    loss.backward()
    assert grads([x, w]) == expected


def test_grad_with_create_graph_through_segments_is_correct():
    w = Value(0.6)

    def block(x):
        return (x * w).tanh() * x

    def f(x, ckpt):
        y = x
        for _ in range(3):
            y = checkpoint(block, y) if ckpt else block(y)
        return y

    x = Value(0.7)
    (dplain,) = grad(f(x, False), [x], create_graph=True)
    (dckpt,) = grad(f(x, True), [x], create_graph=True)
    assert dckpt.data == pytest.approx(dplain.data, rel=1e-12)
    second_plain = grad(dplain, [x, w])
    second_ckpt = grad(dckpt, [x, w])
    assert second_ckpt == pytest.approx(second_plain, rel=1e-12)
    (row,) = autograd.functional.hessian(lambda a: f(a, True), [0.3])
    (expected,) = autograd.functional.hessian(lambda a: f(a, False), [0.3])
    assert row == pytest.approx(expected, rel=1e-12)


def test_compile_traces_a_segment_inline_and_replays_the_plain_computation():
    model = mlp_model(2)
    params = model.parameters()

    def loss_fn(x):
        out = nn.checkpoint_sequential(model.layers, x, every=2)
        return autograd.sum([o * o for o in out])

    compiled = autograd.compile(loss_fn, check=True)
    x = [0.3, -0.2, 0.8]
    value = compiled(x)
    got = grads(params)
    zero(params)
    loss = mlp_loss(model, [x])
    loss.backward()
    assert value == loss.data and got == grads(params)


def test_a_graph_with_segments_can_be_drawn():
    pytest.importorskip("graphviz")
    w = Value(0.5, label="w")
    y = checkpoint(lambda x: (x * w).tanh(), Value(1.0, label="x"), label="seg")
    source = autograd.draw(y * 2.0).source
    assert "seg" in source and "checkpoint output" in source


def test_checkpoint_checks_its_arguments_and_what_fn_returns():
    with pytest.raises(TypeError, match="fn must be callable"):
        checkpoint(3, Value(1.0))
    with pytest.raises(TypeError, match="must return a Value or lists and tuples"):
        checkpoint(lambda x: {"y": x * 2.0}, Value(1.0))
    with pytest.raises(TypeError, match="label must be a str"):
        checkpoint(lambda x: x * 2.0, Value(1.0), label=5)


def test_lazy_outputs_make_each_output_on_first_read():
    w = Value(0.5)
    outputs = checkpoint(lambda x: [x * w, [x * 2.0, x + w]], Value(1.0), lazy=True)
    assert len(outputs) == 2
    first = outputs[0]
    assert first is outputs[0] and first.data == 0.5
    pair = outputs[1]
    assert [v.data for v in pair] == [2.0, 1.5] and all(v._op is OUTPUT for v in pair)
    with no_grad():
        plain = checkpoint(lambda x: [x * w], Value(1.0), lazy=True)
    assert plain[0].data == 0.5 and plain[-1] is plain[0]


# -- a long chain ------------------------------------------------------------------------------


def chain(y, steps):
    for _ in range(steps):
        y = y * 0.999 + 0.001
    return y


def test_a_million_step_chain_in_segments_of_a_thousand_backpropagates_in_little_memory():
    # The peak is counted in live graph nodes (gc_policy's exact count), read at the
    # moment of the peak: the end of each recomputation, when one segment's graph is
    # alive beside the checkpointed graph. The plain chain would hold 2,000,000 nodes;
    # building it under tracemalloc would take most of a minute, and bytes per node are
    # held to tracemalloc in test_memory.py.
    peak = [0]

    def segment(y):
        y = chain(y, 1000)
        peak[0] = max(peak[0], gc_policy.live_graph_nodes())
        return y

    gc.collect()
    before = gc_policy.live_graph_nodes()
    x = Value(0.5)
    y = x
    for _ in range(1000):
        y = checkpoint(segment, y)
    y.backward()
    expected = 0.999 ** 1_000_000
    assert x.grad == pytest.approx(expected, rel=1e-9)
    # 1,000 segment nodes and 1,000 outputs stay; 2,000 nodes are recomputed at a time
    assert peak[0] - before <= 2 * 1000 + 2 * 1000 + 10
    report = autograd.memory_report(y)
    assert report.interior == 2000 and len(report.segments) == 1000
    plain_bytes = 2_000_000 * autograd.memory_report(chain(Value(0.5), 100)).bytes / 201
    assert report.bytes < plain_bytes / 200


def test_a_short_chain_checkpointed_is_bit_identical_to_the_plain_chain():
    x = Value(0.5)
    chain(x, 3000).backward()
    expected = x.grad
    x = Value(0.5)
    y = x
    for _ in range(30):
        y = checkpoint(chain, y, 100)
    y.backward()
    assert x.grad == expected and math.isfinite(expected)


def test_interior_values_that_are_zero_are_walked_as_interior_nodes():
    # A node whose one parent is stored bare is falsy when that parent's value is 0: the
    # walks tell leaves by their op, never by the truth of ``_parents``.
    w = Value(0.5)

    def fn(x):
        zero = (x * -1.0).relu()  # 0.0, one parent
        return (zero.exp() * w + x * w).tanh()

    x = Value(0.8)
    fn(x).backward()
    expected = grads([x, w])
    zero([x, w])
    y = checkpoint(fn, x)
    (y * 1.0).backward()
    assert grads([x, w]) == expected
    report = autograd.memory_report(fn(x))
    assert report.leaves == 2 and report.by_op["exp"].edges == 1
