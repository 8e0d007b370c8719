"""The benchmark harness runs (tiny sizes), and its floor computes the same step.

No timing is asserted here: these machines are noisy. `make bench` is the measurement.
"""

import json

import pytest

from benchmarks import run
from benchmarks import workloads as w


def test_floor_takes_exactly_the_step_chainrule_takes():
    X, y = w.moons(40, seed=3)
    model = w.chainrule_model(seed=5)
    floor = w.floor_model(model)
    floor_loss = w.floor_mlp_step(floor, X, y, k=10)
    ours_loss = w.chainrule_mlp_step(model, X, y, k=10)
    assert floor_loss == pytest.approx(ours_loss, rel=1e-12)
    after = [p.data for p in model.parameters()]
    floor_after = [p for layer in floor.layers for neuron in layer for p in neuron]
    assert floor_after == pytest.approx(after, rel=1e-9, abs=1e-12)


def test_micrograd_step_matches_ours_when_micrograd_is_installed():
    pytest.importorskip("micrograd")
    X, y = w.moons(20, seed=1)
    model = w.chainrule_model(seed=2)
    peer = w.micrograd_model(model)
    theirs = w.micrograd_mlp_step(peer, X, y, k=0)
    ours = w.chainrule_mlp_step(model, X, y, k=0)
    assert theirs == pytest.approx(ours, rel=1e-9)
    assert [p.data for p in peer.parameters()] == pytest.approx(
        [p.data for p in model.parameters()], rel=1e-9, abs=1e-12)


def test_quick_benchmark_prints_the_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert run.main(["--quick", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "MLP step" in printed and "chain" in printed and "no_grad" in printed
    data = json.loads(out.read_text())
    for key in ("mlp_chainrule_s", "mlp_floor_s", "chain_short_chainrule_s",
                "memory_chainrule_bytes_per_step", "forward_no_grad_s", "mlp_compiled_s",
                "mlp_compile_s", "rnn_chainrule_s", "rnn_compiled_s", "rnn_forward_no_grad_s",
                "chain_longest_chainrule_s", "chain_long_heavy_heap_s", "ckpt_last_bytes",
                "ckpt_last_plain_bytes", "ckpt_all_s", "ckpt_all_plain_s"):
        assert data["results"][key] > 0
    assert [k for k, _, _ in data["results"]["ckpt_curve"]] == list(run.QUICK.ckpt_curve)
    assert "checkpoint=k" in printed
    assert set(run.TARGETS) <= set(data["ratios"])


def test_the_compiled_steps_take_exactly_the_dynamic_steps():
    X, y = w.moons(20, seed=4)
    dynamic, compiled = w.chainrule_model(seed=6), w.chainrule_model(seed=6)
    step = w.chainrule_compiled_mlp_step(compiled)
    for k in range(3):
        assert step(compiled, X, y, k) == w.chainrule_mlp_step(dynamic, X, y, k)
    assert [p.data for p in compiled.parameters()] == [p.data for p in dynamic.parameters()]
    batch, targets = w.rnn_batch(size=4)
    dynamic, compiled = w.rnn_model(seed=1), w.rnn_model(seed=1)
    step = w.chainrule_compiled_rnn_step(compiled)
    for k in range(3):
        assert step(compiled, batch, targets, k) == w.chainrule_rnn_step(dynamic, batch,
                                                                         targets, k)
    assert [p.data for p in compiled.parameters()] == [p.data for p in dynamic.parameters()]


def test_the_micrograd_rnn_port_takes_the_chainrule_rnn_step_when_micrograd_is_installed():
    pytest.importorskip("micrograd")
    from benchmarks import micrograd_rnn

    batch, targets = w.rnn_batch(size=3)
    model = w.rnn_model(seed=2)
    peer = micrograd_rnn.Adder(model)
    theirs = micrograd_rnn.step(peer, batch, targets, 0)
    ours = w.chainrule_rnn_step(model, batch, targets, 0)
    assert theirs == pytest.approx(ours, rel=1e-9)
    assert [p.data for p in peer.parameters()] == pytest.approx(
        [p.data for p in model.parameters()], rel=1e-9, abs=1e-12)
