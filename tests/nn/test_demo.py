"""The demo: training is reproducible, and the command writes its picture and checkpoint."""

import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

import nn
from nn import demo

ROOT = Path(__file__).resolve().parents[2]


def test_main_writes_the_picture_and_a_loadable_checkpoint(tmp_path, capsys):
    assert demo.main(["--steps", "3", "--seed", "1", "--out", str(tmp_path)]) == 0
    picture, checkpoint = tmp_path / "moons.png", tmp_path / "model.json"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = nn.MLP(2, [16, 16, 1])
    model.load_state_dict(nn.load(checkpoint)["state_dict"])
    trained, _ = demo.train(3, seed=1)
    assert model.state_dict() == trained.state_dict()
    out = capsys.readouterr().out
    assert f"wrote {picture}" in out and f"wrote {checkpoint}" in out
    assert "after 3 steps" in out
    graph = tmp_path / "neuron.svg"
    assert f"wrote {graph}" in out
    ElementTree.parse(graph)  # well-formed SVG


def test_the_neuron_picture_shows_its_inputs_parameters_and_gradients(tmp_path):
    out = demo.draw_neuron(str(tmp_path / "neuron.svg"), seed=0)
    text = (tmp_path / "neuron.svg").read_text()
    for name in ("x1", "x2", "w1", "w2", "b", "out", "dot", "tanh", ">grad 1<"):
        assert name in text
    assert out.grad == 1.0 and out.op == "tanh"


def test_main_says_when_it_did_not_reach_100_percent(tmp_path, capsys):
    demo.main(["--steps", "1", "--out", str(tmp_path)])
    assert "(not 100%: try more --steps)" in capsys.readouterr().out


def test_main_writes_to_out_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    demo.main(["--steps", "1"])
    assert (tmp_path / "out" / "moons.png").exists()
    assert (tmp_path / "out" / "model.json").exists()


@pytest.mark.parametrize("argv", [["--steps", "0"], ["--steps", "many"], ["--seed", "x"]])
def test_bad_arguments_exit_with_status_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        demo.main(argv)
    assert exit_info.value.code == 2


def test_train_is_reproducible_and_records_every_step():
    model_a, history_a = demo.train(4, seed=5)
    model_b, history_b = demo.train(4, seed=5)
    assert history_a == history_b
    assert model_a.state_dict() == model_b.state_dict()
    assert [h["step"] for h in history_a] == [1, 2, 3, 4]
    assert all(0.0 <= h["accuracy"] <= 1.0 and h["loss"] > 0 for h in history_a)


def test_train_calls_back_with_each_steps_numbers():
    calls = []
    _, history = demo.train(3, seed=0, callback=lambda *args: calls.append(args))
    assert calls == [(h["step"], h["loss"], h["accuracy"]) for h in history]


def test_default_run_reaches_100_percent_training_accuracy():
    model, history = demo.train(60, seed=0)
    X, y = demo.dataset(0)
    assert demo.accuracy(model, X, y) == 1.0
    assert history[-1]["loss"] < history[0]["loss"] / 5


def test_module_runs_from_the_command_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "nn.demo", "--steps", "2", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "training" in result.stderr  # the tqdm bar
    assert (tmp_path / "moons.png").exists() and (tmp_path / "model.json").exists()


def test_the_compiled_demo_loop_gives_the_dynamic_loops_numbers_bit_for_bit():
    from nn import demo

    compiled_model, compiled_history = demo.train(steps=8, seed=1, compiled=True)
    dynamic_model, dynamic_history = demo.train(steps=8, seed=1, compiled=False)
    assert compiled_history == dynamic_history
    assert [p.data for p in compiled_model.parameters()] == [
        p.data for p in dynamic_model.parameters()]
