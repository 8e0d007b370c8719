"""autograd.compile: the replay gives the engine's numbers bit for bit, or the engine's errors.

Every comparison is by ``repr``, so -0.0 against 0.0 and nan count. The registry test
(``test_registry.py``) covers each op's template on its own; here random graphs mix
them, and the rest pins what a compiled function does around the graph: arguments,
retracing, accumulation, parameters read at each call, check=True, errors, size.
"""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import CompileError, Value
from autograd.compiler import side_effect
from tests.autograd.test_properties import as_function, expressions, trees

SPECIALS = st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf, 1e-310, 1e300, -3.0])
ERRORS = (ValueError, ZeroDivisionError, OverflowError)


def outcome(run, point, start=0.0):
    """(value, leaf grads) as reprs after ``run(leaves)``, or the error it raises."""
    leaves = [Value(x) for x in point]
    for leaf in leaves:
        leaf.grad = start
    try:
        data = run(leaves)
    except ERRORS as error:
        return type(error), str(error)
    return repr(data), [repr(leaf.grad) for leaf in leaves]


def dynamic(fn, point, start=0.0):
    def run(leaves):
        out = fn(*leaves)
        out.backward()
        return out.data

    return outcome(run, point, start)


def compiled(f, point, start=0.0):
    return outcome(lambda leaves: f(*leaves), point, start)


@settings(max_examples=300)
@given(expressions(), st.data())
def test_a_random_graph_over_every_op_compiles_to_the_engines_numbers(expression, data):
    tree, point = expression
    fn = as_function(tree)
    f = autograd.compile(fn)
    points = [point, [data.draw(SPECIALS) for _ in point], [x * 3.0 for x in point]]
    for p in points:
        for start in (0.0, -0.0):
            assert compiled(f, p, start) == dynamic(fn, p, start), (tree, p, start)
    assert f.cache_size == 1


@given(expressions(), trees(2))
def test_a_shared_subexpression_compiles_to_the_engines_numbers(inner_expression, outer):
    inner, point = inner_expression
    inner_fn, outer_fn = as_function(inner), as_function(outer)

    def fn(*xs):
        shared = inner_fn(*xs)
        return outer_fn(shared, shared)

    assert compiled(autograd.compile(fn), point) == dynamic(fn, point)


def test_two_calls_accumulate_like_two_backward_calls():
    w = Value(0.7)
    v = Value(0.7)

    def loss(x, w):
        return (w * x).tanh() * w + x * x

    f = autograd.compile(lambda x: loss(x, w))
    f(1.3)
    once = w.grad
    f(1.3)
    for _ in range(2):
        loss(Value(1.3), v).backward()
    assert w.grad == 2 * once and repr(w.grad) == repr(v.grad)


def test_parameters_are_read_at_each_call_and_numbers_are_inputs():
    w = Value(2.0)
    f = autograd.compile(lambda x: w * x + x.exp())
    assert f(1.0) == 2.0 + math.e
    w.data = -3.0
    assert f(0.5) == -1.5 + math.exp(0.5)
    assert w.grad == 1.0 + 0.5


def test_a_new_argument_structure_traces_again_and_is_cached():
    w = Value(0.5)
    f = autograd.compile(lambda xs, ys: autograd.sum([w * x - y for x, y in zip(xs, ys)]))
    assert f([1.0, 2.0], [0.0, 1.0]) == 0.5 + 0.0
    assert f([3.0, 4.0], [1.0, 1.0]) == 0.5 + 1.0
    assert f.cache_size == 1
    assert f([3.0], [1.0]) == 0.5
    assert f((3.0, 4.0), [1.0, 1.0]) == 0.5 + 1.0  # a tuple is another structure
    assert f.cache_size == 3
    assert f([3, 4], [1, 1]) == 1.5  # ints are numbers like floats
    assert f.cache_size == 3


def test_argument_values_get_their_gradients_and_repeats_share_one():
    f = autograd.compile(lambda a, b: a * b)
    a, b = Value(3.0), Value(4.0)
    assert f(a, b) == 12.0 and (a.grad, b.grad) == (4.0, 3.0)
    c = Value(5.0)
    f(c, c)  # c * c: both shares go into c's one gradient
    d = Value(5.0)
    (d * d).backward()
    assert c.grad == d.grad == 10.0
    assert f.cache_size == 2


def test_an_argument_value_must_be_a_leaf_and_not_a_parameter_too():
    w = Value(1.0)
    f = autograd.compile(lambda x: x * w)
    with pytest.raises(CompileError, match="not a leaf"):
        f(Value(2.0) * 2)
    f(Value(2.0))
    with pytest.raises(CompileError, match="parameter"):
        autograd.compile(lambda x: x * w)(w)


def test_a_leaf_output_gets_gradient_one():
    f = autograd.compile(lambda x: x)
    x = Value(3.0)
    assert f(x) == 3.0 and x.grad == 1.0
    assert f(2.5) == 2.5  # an input number: no gradient to give
    w = Value(1.5)
    assert autograd.compile(lambda x: w)(2.0) == 1.5 and w.grad == 1.0
    assert autograd.compile(lambda xs: autograd.dot(xs, xs))([]) == 0.0  # a constant leaf


def test_grad_false_computes_the_value_only():
    w = Value(2.0)
    f = autograd.compile(lambda x: (w * x).relu(), grad=False)
    assert f(3.0) == 6.0 and w.grad == 0.0
    assert "g" not in "".join(line.split("=")[0] for line in f.source.splitlines()[1:-1])


def test_the_source_has_one_line_per_node_named_after_its_index_and_label():
    w = Value(2.0, label="weight")
    f = autograd.compile(lambda x: (w * x).tanh(), grad=False)
    f(1.0)
    assert f.source.splitlines() == [
        "def _chunk0(s):",
        "    v0_weight, v1 = s[0], s[1]",
        "    v2 = v0_weight * v1",
        "    v3 = _tanh(v2)",
        "    s[3] = v3",
    ]


def test_check_names_the_first_node_a_data_dependent_branch_changes():
    w = Value(1.0)

    def branchy(x):
        y = w * x
        return y.relu() if y.data > 0 else y.exp()  # branches on .data

    f = autograd.compile(branchy, check=True)
    assert f(2.0) == 2.0
    assert f(3.0) == 3.0  # same branch, same graph
    with pytest.raises(CompileError, match=r"node v3 .*traced relu\(v2\).*exp\(v2\).*\.data"):
        f(-1.0)
    unchecked = autograd.compile(branchy)
    unchecked(2.0)
    assert unchecked(-1.0) == 0.0  # the traced branch, silently: what check=True is for


def test_check_reports_a_constant_read_from_data():
    def shifted(x):
        return (x - x.data).exp()  # the shift is a constant taken from .data

    f = autograd.compile(shifted, check=True)
    f(1.0)
    with pytest.raises(CompileError, match="saved"):
        f(2.0)


@pytest.mark.parametrize("fn, good, bad, error, message", [
    (lambda x: x.log(), 2.0, -1.0, ValueError, "log: needs a positive number, got -1.0"),
    (lambda x: 1.0 / x, 2.0, 0.0, ZeroDivisionError, "division: 1.0 / 0.0 divides by zero"),
    (lambda x: x / (x - 1.0), 2.0, 1.0, ZeroDivisionError, "division: 1.0 / 0.0"),
    (lambda x: x.exp(), 2.0, 800.0, OverflowError, r"exp: exp\(800.0\) overflows"),
    (lambda x: x.sqrt(), 2.0, -4.0, ValueError, "sqrt: needs a number >= 0, got -4.0"),
    (lambda x: x ** 0.5, 2.0, -4.0, ValueError, r"pow: -4.0 \*\* 0.5 is not a real number"),
])
def test_a_domain_error_at_replay_is_the_engines_own_and_changes_no_gradient(
    fn, good, bad, error, message
):
    w = Value(1.0)
    f = autograd.compile(lambda x: fn(x * w))
    f(good)
    before = w.grad
    with pytest.raises(error, match=message):
        f(bad)
    with pytest.raises(error, match=message):
        fn(Value(bad) * w)
    assert w.grad == before


def test_a_side_effect_outside_the_graph_is_refused_with_its_name():
    def noisy(x):
        side_effect("the counter in noisy")
        return x * 2.0

    with pytest.raises(CompileError, match="the counter in noisy"):
        autograd.compile(noisy)(1.0)
    side_effect("outside a trace: nothing happens")


def test_bad_arguments_and_results_are_refused():
    with pytest.raises(TypeError, match="numbers, Values or"):
        autograd.compile(lambda x: x)("a")
    with pytest.raises(TypeError, match="numbers, Values or"):
        autograd.compile(lambda x: x)(True)
    with pytest.raises(TypeError, match="must return one Value"):
        autograd.compile(lambda x: 1.0)(2.0)
    with pytest.raises(TypeError, match="callable"):
        autograd.compile(3)


def test_a_200000_node_chain_compiles_in_chunks_and_matches_the_engine():
    steps = 100_000  # two nodes a step; 1,000,000 nodes are measured by hand (the note)

    def chain(x):
        y = x
        for _ in range(steps):
            y = y * 0.999 + 0.001
        return y

    f = autograd.compile(chain)
    x = Value(0.5)
    value = f(x)
    chunks = f.source.count("def _chunk")
    assert chunks > 5
    y = Value(0.5)
    out = chain(y)
    out.backward()
    assert repr(value) == repr(out.data) and repr(x.grad) == repr(y.grad)


def test_a_sum_and_a_dot_of_20000_values_compile_without_recursion_errors():
    n = 20_000  # a chain of 20,000 additions would overflow CPython's compiler
    ws = [Value(0.5 + i % 7) for i in range(n)]

    def fn(xs):
        return autograd.sum(xs) + autograd.dot(ws, xs) + autograd.dot(ws, ws)

    xs = [float(i % 5) - 2.0 for i in range(n)]
    f = autograd.compile(fn)
    value = f(xs)
    grads = [w.grad for w in ws]
    for w in ws:
        w.grad = 0.0
    out = fn([Value(x) for x in xs])
    out.backward()
    assert repr(value) == repr(out.data)
    assert grads == [w.grad for w in ws]


def test_a_network_on_many_samples_compiles_a_few_distinct_chunks(monkeypatch):
    # The same two layers on each sample: the repeating stretch of the forward and of
    # the backward is cut into chunks of whole samples that are one text, compiled once.
    monkeypatch.setattr(autograd.compiler, "CHUNK_NAMES", 2_000)
    ws = [[Value(0.1 * (i - j)) for i in range(6)] for j in range(6)]
    head = [Value(0.05 * i - 0.1) for i in range(6)]

    def loss(xs):
        total = []
        for x in xs:
            hidden = [autograd.dot(w, x).relu() for w in ws]
            total.append((autograd.dot(head, hidden) - 1.0) ** 2)
        return autograd.sum(total) * (1.0 / len(xs))

    xs = [[math.sin(k + i) for i in range(6)] for k in range(80)]
    f = autograd.compile(loss)
    value = f(xs)
    program = f._last
    assert len(program.calls) > 8 and program.distinct_chunks <= 6
    grads = [w.grad for row in ws for w in row] + [w.grad for w in head]
    for w in [w for row in ws for w in row] + head:
        w.grad = 0.0
    out = loss([[Value(x) for x in row] for row in xs])
    out.backward()
    assert repr(value) == repr(out.data)
    assert [repr(g) for g in grads] == [repr(w.grad) for row in ws for w in row] + [
        repr(w.grad) for w in head
    ]


def test_equal_constants_of_different_signs_or_types_keep_their_own_lines():
    # Texts are cached per constant: 0.0 and -0.0 (equal, and of one hash) must not share.
    def fn(x, y):
        return x * 0.0 + y * -0.0 + x * 2.5 + y * 2.5 + x * 2 + y * 2.0

    f = autograd.compile(fn)
    x, y = Value(1.5), Value(-0.5)
    x.grad = y.grad = -0.0
    value = f(x, y)
    u, v = Value(1.5), Value(-0.5)
    u.grad = v.grad = -0.0
    out = fn(u, v)
    out.backward()
    assert (repr(value), repr(x.grad), repr(y.grad)) == (repr(out.data), repr(u.grad),
                                                          repr(v.grad))
    assert "* 0.0" in f.source and "* (-0.0)" in f.source


def test_lines_lists_the_node_lines_of_each_pass_without_the_chunk_boilerplate():
    w = Value(2.0, label="weight")
    f = autograd.compile(lambda x: (w * x).tanh())
    assert f.lines() == []  # nothing traced yet
    f(1.0)
    assert f.lines("forward") == ["v2 = v0_weight * v1", "v3 = _tanh(v2)"]
    backward = f.lines("backward")
    assert backward[0] == "g3 = 1.0" and backward[-1].startswith("g0_weight += ")
    assert f.lines() == f.lines("forward") + backward
    body = [line.strip() for line in f.source.splitlines()]
    assert all(line in body for line in f.lines())
    assert not any(line.startswith(("def ", "s[")) or "= s[" in line for line in f.lines())
    with pytest.raises(ValueError, match="forward"):
        f.lines("sideways")


def test_lines_of_a_chunked_program_are_its_nodes_alone(monkeypatch):
    monkeypatch.setattr(autograd.compiler, "CHUNK_LINES", 50)
    f = autograd.compile(lambda x: autograd.sum([x * float(k) for k in range(100)]))
    f(Value(1.0))
    assert f.source.count("def _chunk") > 4
    assert len(f.lines("forward")) == 101  # 100 products and the sum
    assert not any("s[" in line for line in f.lines())
    g = autograd.compile(lambda x: x * 2.0, grad=False)
    g(3.0)
    assert g.lines("forward") == ["v1 = v0 * 2.0"] and g.lines("backward") == []


def test_a_recurrent_net_on_a_batch_repeats_by_sequence_not_by_time_step(monkeypatch):
    # Each time step repeats within a sequence, but only whole sequences repeat all along.
    monkeypatch.setattr(autograd.compiler, "CHUNK_NAMES", 3_000)
    w_x, w_h = [Value(0.3), Value(-0.2)], [Value(0.5), Value(0.1)]

    def loss(batch):
        total = []
        for xs in batch:
            h = [Value(0.0), Value(0.0)]
            for x in xs:
                h = [autograd.dot([w_x[k], w_h[k]], [x, h[k]]).tanh() for k in range(2)]
            total.append((h[0] * h[1]).exp())
        return autograd.sum(total)

    batch = [[math.cos(i * 7 + t) for t in range(40)] for i in range(40)]
    f = autograd.compile(loss)
    value = f(batch)
    program = f._last
    assert len(program.calls) > 20 and program.distinct_chunks <= 4  # 11 by time steps
    out = loss([[Value(x) for x in xs] for xs in batch])
    grads = [w.grad for w in w_x + w_h]
    for w in w_x + w_h:
        w.grad = 0.0
    out.backward()
    assert repr(value) == repr(out.data) and grads == [w.grad for w in w_x + w_h]


def test_the_periodic_extent_is_the_widest_stretch_around_the_middle():
    import random

    from autograd.compiler import _periodic_extent

    def one_by_one(kinds, d):
        lo = hi = len(kinds) // 2
        while lo > 0 and kinds[lo - 1] == kinds[lo - 1 + d]:
            lo -= 1
        while hi < len(kinds) - d and kinds[hi] == kinds[hi + d]:
            hi += 1
        return lo, hi + d

    rng = random.Random(13)
    for _ in range(500):
        d = rng.randint(1, 30)
        period = [rng.randint(0, 3) for _ in range(d)]
        kinds = ([rng.randint(0, 5) for _ in range(rng.randint(0, 400))]
                 + period * rng.randint(1, 60)
                 + [rng.randint(0, 5) for _ in range(rng.randint(0, 400))])
        if d < len(kinds) - len(kinds) // 2:
            assert _periodic_extent(kinds, d) == one_by_one(kinds, d)


@pytest.mark.parametrize("w", [2.0, math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("x", [-1.0, 0.5])
def test_a_dot_with_a_zero_gradient_is_skipped_as_the_engine_skips_it(w, x):
    # relu(w * x + b) with the ReLU off sends the dot 0: both the float rule and the
    # replay then skip the dot's shares, unless its value is not finite (0 * inf is NaN).
    def fn(w, x, b, c):
        u = x * 3.0  # interior: its gradient starts in the dot's (skipped) group
        h = autograd.dot([w], [u], b).relu()
        return autograd.dot([h, w], [c, c])

    point = [w, x, -5.0, 0.25]
    compiled = autograd.compile(fn)
    assert outcome(lambda leaves: compiled(*leaves), point) == dynamic(fn, point)
    assert "if g" in compiled.source and "else:" in compiled.source
