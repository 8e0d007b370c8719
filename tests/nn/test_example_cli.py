"""The command line shared by nn.demo and nn.examples: flags, missing packages, progress bar."""

import sys

import pytest

from nn import demo
from nn.examples import _cli
from nn.examples import binary_addition as example

INSTALL = "`pip install -e '.[demo]'` in your environment"


@pytest.mark.parametrize(("main", "prog"), [
    (demo.main, "python -m nn.demo"),
    (example.main, "python -m nn.examples.binary_addition"),
])
@pytest.mark.parametrize(("argv", "error"), [
    (["--steps", "0"], "argument --steps: must be a positive integer, got 0"),
    (["--steps", "x"], "argument --steps: invalid _positive_int value: 'x'"),
    (["--seed", "1.5"], "argument --seed: invalid int value: '1.5'"),
])
def test_both_examples_refuse_bad_steps_and_seeds_alike(main, prog, argv, error, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.endswith(f"{prog}: error: {error}\n")


def test_the_example_specific_flags_check_positive_ints_the_same_way(capsys):
    with pytest.raises(SystemExit):
        example.main(["--hidden", "-1"])
    assert "argument --hidden: must be a positive integer, got -1" in capsys.readouterr().err


def test_parser_has_steps_and_seed_with_their_defaults():
    args = _cli.parser("nn.examples.x", "An example.", steps=7).parse_args([])
    assert (args.steps, args.seed) == (7, 0)


@pytest.mark.parametrize(("main", "argv", "message"), [
    (demo.main, ["--steps", "1"],
     f"nn.demo needs matplotlib and tqdm (import of tqdm halted; None in sys.modules); "
     f"run `make demo`, or {INSTALL}\n"),
    (example.main, ["--steps", "1"],
     "nn.examples.binary_addition needs tqdm (import of tqdm halted; None in sys.modules); "
     f"{INSTALL}\n"),
])
def test_without_tqdm_each_example_says_what_to_install_and_exits_1(
    main, argv, message, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` raise ImportError
    assert main(argv) == 1
    assert capsys.readouterr().err == message


def test_report_missing_is_quiet_when_every_package_imports(capsys):
    assert _cli.report_missing("nn.examples.x", ["math", "json"]) is False
    assert capsys.readouterr().err == ""


def test_the_progress_bar_counts_steps_and_shows_loss_and_accuracy(capsys):
    with _cli.progress_bar(2, accuracy="batch_accuracy") as progress:
        progress(1, 0.5, 0.25)
        progress(2, 0.123456, 0.5)
    err = capsys.readouterr().err
    assert "training" in err and "2/2" in err
    assert "batch_accuracy=50%, loss=0.1235" in err
