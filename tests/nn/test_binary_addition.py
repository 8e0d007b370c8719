"""The binary-addition sequences and the example that trains an RNN on them."""

import random
import subprocess
import sys
from pathlib import Path

import pytest

import nn
from nn.data import binary_addition
from nn.examples import binary_addition as example

ROOT = Path(__file__).resolve().parents[2]


def decode(bits):
    return sum(int(bit) << t for t, bit in enumerate(bits))


# -- nn.data.binary_addition ---------------------------------------------------------------


def test_each_sequence_adds_two_numbers_lsb_first_with_a_final_carry_step():
    sums = binary_addition(200, 8, seed=0)
    assert len(sums) == 200
    for xs, ys in sums:
        assert len(xs) == len(ys) == 9  # bits + 1: the last step outputs the carry
        assert xs[-1] == [0.0, 0.0]
        assert all(len(x) == 2 and all(type(v) is float and v in (0.0, 1.0) for v in x)
                   for x in xs)
        assert all(type(y) is int and y in (0, 1) for y in ys)
        a, b = decode(x[0] for x in xs), decode(x[1] for x in xs)
        assert a < 256 and b < 256
        assert decode(ys) == a + b


def test_small_bits_cover_every_pair_and_carries_reach_the_last_step():
    sums = binary_addition(300, 2, seed=1)
    pairs = {(decode(x[0] for x in xs), decode(x[1] for x in xs)) for xs, _ in sums}
    assert pairs == {(a, b) for a in range(4) for b in range(4)}
    assert any(ys[-1] == 1 for _, ys in sums) and any(ys[-1] == 0 for _, ys in sums)


def test_same_seed_same_sums_other_seed_other_sums():
    assert binary_addition(50, 8, seed=3) == binary_addition(50, 8, seed=3)
    assert binary_addition(50, 8, seed=3) != binary_addition(50, 8, seed=4)


def test_binary_addition_leaves_the_global_random_state_alone():
    random.seed(11)
    expected = random.random()
    random.seed(11)
    binary_addition(20, 8, seed=1)
    assert random.random() == expected


@pytest.mark.parametrize(("n", "bits", "message"), [
    (0, 8, "n must be an int >= 1"),
    (5, 0, "bits must be an int >= 1"),
    (5, 2.0, "bits must be an int >= 1"),
    ("5", 8, "n must be an int >= 1"),
])
def test_bad_sizes_raise_value_error(n, bits, message):
    with pytest.raises(ValueError, match=message):
        binary_addition(n, bits)


# -- the example ------------------------------------------------------------------------------


def test_held_out_sums_share_no_pair_with_the_training_sums():
    train, held_out = example.dataset(bits=4, train_size=100, test_size=50, seed=2)
    assert len(train) == 100 and len(held_out) == 50
    seen = {example._operands(xs) for xs, _ in train}
    assert not seen & {example._operands(xs) for xs, _ in held_out}


def test_dataset_refuses_when_training_covers_every_pair():
    with pytest.raises(ValueError, match="cover every pair"):
        example.dataset(bits=1, train_size=100, test_size=10)


def test_a_short_run_learns_to_add_unseen_numbers():
    # Seeded, so the run is the same every time: 200 steps on 4-bit sums take under a
    # second and reach far above chance (1/32 for getting all 5 bits of a sum right).
    model, history = example.train(200, bits=4, seed=0, train_size=100)
    _, held_out = example.dataset(bits=4, train_size=100, test_size=100, seed=0)
    assert example.accuracy(model, held_out) >= 0.9
    assert history[-1]["loss"] < history[0]["loss"] / 10
    # The carry rule, not a lookup table: longer numbers than it was trained on work too.
    _, longer = example.dataset(bits=8, train_size=100, test_size=100, seed=0)
    assert example.accuracy(model, longer) >= 0.8
    assert model.add(11, 6, bits=4) == 17


def test_untrained_model_is_near_chance():
    model, _ = example.train(1, bits=4, seed=0, train_size=100)
    _, held_out = example.dataset(bits=4, train_size=100, test_size=100, seed=0)
    assert example.accuracy(model, held_out) < 0.3


def test_train_is_reproducible_and_records_every_step():
    model_a, history_a = example.train(4, bits=3, seed=5, train_size=20)
    model_b, history_b = example.train(4, bits=3, seed=5, train_size=20)
    assert history_a == history_b
    assert model_a.state_dict() == model_b.state_dict()
    assert [h["step"] for h in history_a] == [1, 2, 3, 4]
    assert all(h["loss"] > 0 and 0.0 <= h["accuracy"] <= 1.0 and h["grad_norm"] > 0
               for h in history_a)


def test_train_calls_back_with_each_steps_numbers():
    calls = []
    _, history = example.train(3, bits=3, seed=0, train_size=20,
                               callback=lambda *args: calls.append(args))
    assert calls == [(h["step"], h["loss"], h["accuracy"]) for h in history]


def test_the_model_is_an_rnn_with_a_linear_readout():
    model = example.Adder(nhidden=5)
    assert isinstance(model.rnn, nn.RNN) and model.rnn.nhidden == 5
    assert model.readout.activation == "linear" and model.readout.nout == 1
    assert len(model.parameters()) == (2 * 5 + 5 * 5 + 5) + (5 + 1)
    assert len(model([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])) == 3  # one logit per step


def test_main_prints_the_held_out_accuracy(capsys):
    assert example.main(["--steps", "2", "--bits", "3", "--hidden", "4", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "held-out accuracy" in out and "unseen 3-bit sums after 2 steps" in out
    assert "(not 100%: try more --steps or another --seed)" in out


@pytest.mark.parametrize("argv", [["--steps", "0"], ["--bits", "x"], ["--hidden", "-1"]])
def test_bad_arguments_exit_with_status_2(argv):
    with pytest.raises(SystemExit) as exit_info:
        example.main(argv)
    assert exit_info.value.code == 2


def test_module_runs_from_the_command_line_with_a_progress_bar():
    result = subprocess.run(
        [sys.executable, "-m", "nn.examples.binary_addition", "--steps", "3", "--bits", "4"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "training" in result.stderr and "3/3" in result.stderr  # the tqdm bar
    assert "held-out accuracy" in result.stdout


def test_the_compiled_training_loop_gives_the_dynamic_loops_numbers_bit_for_bit():
    from nn.examples import binary_addition as ba

    compiled_model, compiled_history = ba.train(steps=6, bits=4, seed=2, compiled=True)
    dynamic_model, dynamic_history = ba.train(steps=6, bits=4, seed=2, compiled=False)
    assert compiled_history == dynamic_history
    assert [p.data for p in compiled_model.parameters()] == [
        p.data for p in dynamic_model.parameters()]
