"""The expression CLI: numbers match the engine, and every bad input exits 2 with one line."""

import contextlib
import io
import math
import shutil
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value
from autograd.__main__ import main
from autograd.cli.expression import FUNCTIONS, MAX_LENGTH, ExpressionError, evaluate

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs the graphviz dot program")

PREFIX = "chainrule: error: "


def run(*argv):
    """(status, stdout, stderr) of main(argv), captured without pytest fixtures.

    Warnings count as stderr lines, as a terminal would show them.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            status = main(list(argv))
    shown = "".join(f"warning: {warning.message}\n" for warning in caught)
    return status, out.getvalue(), err.getvalue() + shown


def parse_output(stdout):
    """{'value': ..., 'd/dx': ...} from the CLI's printed lines, in order."""
    pairs = [line.split(" = ") for line in stdout.splitlines()]
    return {key.strip(): float(number) for key, number in pairs}


def assert_refused(status, stdout, stderr):
    assert status == 2
    assert stdout == ""
    assert stderr.count("\n") == 1 and stderr.endswith("\n"), stderr
    assert stderr.startswith(PREFIX), stderr
    assert "Traceback" not in stderr
    assert "internal error" not in stderr
    assert len(stderr) < 500


# -- good input -----------------------------------------------------------------------------


def test_prints_the_value_and_each_gradient_matching_the_engine():
    status, stdout, stderr = run("tanh(x*w + b)", "x=0.5", "w=-1.25", "b=0.1")
    x, w, b = Value(0.5), Value(-1.25), Value(0.1)
    y = (x * w + b).tanh()
    y.backward()
    assert (status, stderr) == (0, "")
    assert parse_output(stdout) == {"value": y.data, "d/dx": x.grad, "d/dw": w.grad, "d/db": b.grad}


def test_output_lines_are_name_equals_repr_with_the_equals_signs_aligned():
    _, stdout, _ = run("x*y", "x=2", "longname=1", "y=0.1")
    assert stdout.splitlines() == [
        "value       = 0.2",
        "d/dx        = 0.1",
        "d/dlongname = 0.0",
        "d/dy        = 2.0",
    ]


def test_gradients_are_listed_in_the_order_the_variables_were_given():
    _, stdout, _ = run("a + 2*b + 3*c", "c=1", "a=1", "b=1")
    assert list(parse_output(stdout)) == ["value", "d/dc", "d/da", "d/db"]
    assert parse_output(stdout) == {"value": 6.0, "d/dc": 3.0, "d/da": 1.0, "d/db": 2.0}


def test_a_variable_the_expression_does_not_use_has_gradient_zero():
    assert parse_output(run("x * 3", "x=2", "unused=5")[1])["d/dunused"] == 0.0


def test_an_expression_without_variables_prints_just_its_value():
    status, stdout, _ = run("2 ** 0.5 + 1")
    assert status == 0
    assert parse_output(stdout) == {"value": 2**0.5 + 1}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_function_matches_the_engine(name):
    status, stdout, _ = run(f"{name}(x * 0.5) + x ** 2 / 3 - -x", "x=1.5")
    x = Value(1.5)
    y = FUNCTIONS[name](x * 0.5) + x**2 / 3 - -x
    y.backward()
    assert status == 0
    assert parse_output(stdout) == {"value": y.data, "d/dx": x.grad}


def test_a_value_exponent_and_unary_plus_work():
    status, stdout, _ = run("+x ** y", "x=2", "y=3")
    assert status == 0
    assert parse_output(stdout) == {"value": 8.0, "d/dx": 12.0, "d/dy": 8.0 * math.log(2)}


def test_an_expression_starting_with_minus_goes_after_double_dash():
    assert parse_output(run("--", "-x**2", "x=3")[1]) == {"value": -9.0, "d/dx": -6.0}


def test_deeply_nested_but_short_expressions_need_no_recursion():
    status, stdout, _ = run("--", "-" * 900 + "x", "x=2")  # 900 nested negations
    assert status == 0
    assert parse_output(stdout) == {"value": 2.0, "d/dx": 1.0}
    status, stdout, _ = run("x" + "**x" * 300, "x=1")
    assert parse_output(stdout) == {"value": 1.0, "d/dx": 1.0}


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400"])
def test_a_non_finite_input_is_refused_like_an_overflow(value):
    status, stdout, stderr = run("x + 1", f"x={value}")
    assert_refused(status, stdout, stderr)
    assert "x must be a finite number" in stderr and value in stderr


@pytest.mark.parametrize(
    "expression, variables, named",
    [
        ("1e308*x", ["x=10"], "'*' on 10.0, 1e+308 overflows"),
        ("x*y", ["x=1e200", "y=1e200"], "'*' on 1e+200, 1e+200 overflows"),
        ("sqrt(x)", ["x=0"], "d/dx is inf"),
    ],
)
def test_a_non_finite_result_or_gradient_is_refused_naming_it(expression, variables, named):
    status, stdout, stderr = run(expression, *variables)
    assert_refused(status, stdout, stderr)
    assert named in stderr


def test_a_power_with_a_variable_exponent_of_a_negative_base_says_why_it_is_refused():
    status, stdout, stderr = run("x**y", "x=-2", "y=2")
    assert_refused(status, stdout, stderr)
    assert "derivative with respect to the exponent" in stderr and "log(x)" in stderr
    assert run("x**2", "x=-2")[0] == 0  # a number exponent is fine


@given(
    x=st.floats(-3, 3, allow_nan=False),
    w=st.floats(-3, 3, allow_nan=False),
    b=st.floats(-3, 3, allow_nan=False),
)
def test_cli_numbers_equal_the_engine_for_random_inputs(x, w, b):
    status, stdout, _ = run("sigmoid(x*w + b) * exp(-abs(w))", f"x={x!r}", f"w={w!r}", f"b={b!r}")
    vx, vw, vb = Value(x), Value(w), Value(b)
    y = (vx * vw + vb).sigmoid() * (-abs(vw)).exp()
    y.backward()
    assert status == 0
    assert parse_output(stdout) == {
        "value": y.data,
        "d/dx": vx.grad,
        "d/dw": vw.grad,
        "d/db": vb.grad,
    }


def test_help_explains_with_an_example_and_exits_0():
    status, stdout, stderr = run("--help")
    assert status == 0 and stderr == ""
    assert 'chainrule "tanh(x*w + b)" x=0.5 w=-1.25 b=0.1' in stdout
    assert "exp log tanh sigmoid relu sqrt abs" in stdout


# -- the picture ----------------------------------------------------------------------------


@needs_dot
def test_output_option_writes_the_svg_and_still_prints_the_numbers(tmp_path):
    path = tmp_path / "graph.svg"
    status, stdout, _ = run("tanh(x*w + b)", "x=0.5", "w=-1.25", "b=0.1", "-o", str(path))
    assert status == 0 and stdout.startswith("value = ")
    svg = ElementTree.parse(path).getroot()
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "tanh" in texts and "x" in texts


def test_output_option_writes_dot_text(tmp_path):
    path = tmp_path / "graph.dot"
    assert run("x * 2", "x=1", "--output", str(path))[0] == 0
    text = path.read_text()
    assert "{ x | data 1 | grad 2 }" in text
    assert "nslimit=0 nslimit1=0" in text  # FAST_LAYOUT, for whoever renders it later


# x used at every step of a 199-character sum: each use an edge across up to 200 ranks.
# Plain dot sits in layout for well over a minute on it (measured: > 60 s; 48 s for the
# 149-character x*x*...*x+x+...+x).
REUSED_FAR_DOWNSTREAM = "+".join(["x"] * 100)


@needs_dot
def test_output_of_a_chain_with_reuse_is_laid_out_by_dot_within_its_timeout(tmp_path):
    # bounded by cli.main.RENDER_TIMEOUT: were dot slower, the sfdp fallback would say so
    path = tmp_path / "graph.svg"
    status, stdout, stderr = run(REUSED_FAR_DOWNSTREAM, "x=1", "-o", str(path))
    assert (status, stderr) == (0, "")
    assert parse_output(stdout) == {"value": 100.0, "d/dx": 100.0}
    ElementTree.parse(path)


@needs_dot
def test_output_falls_back_to_sfdp_when_dot_is_slow_and_says_so_in_one_line(
    tmp_path, monkeypatch
):
    cli_main = sys.modules["autograd.cli.main"]
    monkeypatch.setattr(cli_main, "RENDER_TIMEOUT", 1e-6)  # dot never finishes in time
    monkeypatch.setattr(cli_main, "FALLBACK_TIMEOUT", 60.0)
    path = tmp_path / "graph.svg"
    status, stdout, stderr = run("x * x + x", "x=2", "-o", str(path))
    assert status == 0 and stdout.startswith("value = ")
    assert stderr.count("\n") == 1 and "sfdp drew it instead" in stderr
    ElementTree.parse(path)


def test_output_waits_at_most_five_seconds_for_graphviz():
    cli_main = sys.modules["autograd.cli.main"]
    assert cli_main.RENDER_TIMEOUT + cli_main.FALLBACK_TIMEOUT <= 5.0


def test_output_with_an_unknown_suffix_is_refused_before_anything_runs(tmp_path):
    path = tmp_path / "graph.jpg"
    assert_refused(*run("x", "x=1", "-o", str(path)))
    assert not path.exists()


def test_output_into_a_missing_directory_is_one_error_line(tmp_path):
    assert_refused(*run("x", "x=1", "-o", str(tmp_path / "missing" / "graph.svg")))


def test_output_without_graphviz_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    status, stdout, stderr = run("x", "x=1", "-o", str(tmp_path / "graph.svg"))
    assert_refused(status, stdout, stderr)
    assert "apt-get install graphviz" in stderr


# -- bad input ------------------------------------------------------------------------------

HOSTILE = [
    # code, not arithmetic
    ["__import__('os').system('echo hacked')", "x=1"],
    ["x.__class__", "x=1"],
    ["(lambda: 1)()"],
    ["[x][0]", "x=1"],
    ["x[0]", "x=1"],
    ["open('f')"],
    ["eval('1')"],
    ["globals()"],
    ["x if x else x", "x=1"],
    ["[i for i in (1, 2)]"],
    ["(x := 1)"],
    ["x < 1", "x=1"],
    ["x and x", "x=1"],
    ["not x", "x=1"],
    ["~x", "x=1"],
    ["x // 2", "x=1"],
    ["x % 2", "x=1"],
    ["x @ x", "x=1"],
    ["(x, x)", "x=1"],
    ["{x}", "x=1"],
    ["{}"],
    ["f'{x}'", "x=1"],
    ["x; import os", "x=1"],
    ["import os"],
    ["yield x", "x=1"],
    ["await x", "x=1"],
    ["__builtins__"],
    # constants that are not real numbers
    ["'a'"],
    ["b'a'"],
    ["1j"],
    ["True"],
    ["None"],
    ["..."],
    ["1e999999"],
    ["1" + "0" * 400],
    # calls
    ["exp(x, x)", "x=1"],
    ["exp()"],
    ["exp(x=1)"],
    ["exp(*[1])"],
    ["exp"],
    ["x(1)", "x=1"],
    ["exp(1)(2)"],
    # variables
    ["x + y", "x=1"],
    ["x", "x=1", "x=2"],
    ["x", "x=abc"],
    ["x", "x="],
    ["x", "=1"],
    ["x", "1=x"],
    ["x", "x"],
    ["x", "exp=1"],
    ["x", "if=1"],
    ["x", "True=1"],
    ["x", "x.y=1"],
    ["x", "\u0445=1"],  # Cyrillic x: names are ASCII
    # domain errors
    ["log(0)"],
    ["log(x)", "x=-1"],
    ["sqrt(-1)"],
    ["x / 0", "x=1"],
    ["1 / (x - x)", "x=1"],
    ["0 ** -1"],
    ["(-8) ** 0.5"],
    ["x ** y", "x=-2", "y=0.5"],
    ["exp(1000)"],
    ["exp(x)", "x=1000"],
    ["2.0 ** 10000"],
    ["9 ** 9 ** 9"],
    # size, syntax and other junk
    ["(" * 10_000],
    ["x+" * 50_000 + "x", "x=1"],
    ["(" * 300 + "x" + ")" * 300, "x=1"],
    ["[" * 900],
    ["x" * (MAX_LENGTH + 1)],
    [""],
    ["   "],
    ["x +", "x=1"],
    ["x\x00", "x=1"],
    ["x\n+1", "x=1"],
    ["x²", "x=1"],
    ["1if x else 2", "x=1"],  # a SyntaxWarning from the parser must not add a line
    ["\ud800"],
    # argparse's own errors
    [],
    ["--bogus", "x"],
    ["-x*2", "x=1"],
    ["x", "x=1", "-o"],
]


@pytest.mark.parametrize("argv", HOSTILE, ids=lambda argv: repr(argv)[:40])
def test_hostile_input_exits_2_with_one_error_line(argv):
    assert_refused(*run(*argv))


def test_code_in_the_expression_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    expression = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    assert_refused(*run(expression))
    assert not marker.exists()


@pytest.mark.parametrize(
    "argv, words",
    [
        (["x.__class__", "x=1"], ["attribute access", "x.__class__"]),
        (["open('f')"], ["cannot call", "open"]),
        (["x + y", "x=1"], ["unknown variable 'y'", "y=1.0"]),
        (["x", "x=1", "x=2"], ["given twice"]),
        (["x", "x=abc"], ["must be a number", "'abc'"]),
        (["x", "exp=1"], ["taken by the function exp()"]),
        (["log(0)"], ["log", "0"]),
        (["x / 0", "x=1"], ["divides by zero"]),
        (["exp(1000)"], ["overflows"]),
        (["x" * 2000], ["2000 characters", f"limit is {MAX_LENGTH}"]),
        (["x +", "x=1"], ["invalid syntax"]),
        (["-x*2", "x=1"], ["goes after --"]),
    ],
)
def test_error_messages_say_what_was_wrong(argv, words):
    _, _, stderr = run(*argv)
    for word in words:
        assert word in stderr


def test_long_bad_arguments_are_not_echoed_in_full():
    _, _, stderr = run("x", "x=" + "9z" * 10_000)
    assert len(stderr) < 500


# -- hypothesis: random text never escapes as an exception -----------------------------------

TOKENS = [" "] + (
    "x y 1 2.5 1e3 0 + - * / ** ( ) , . exp log tanh sigmoid relu sqrt abs [ ] ' = "
    "lambda : if else __class__ % ~ < j"
).split()


def check_clean_exit(argv):
    status, stdout, stderr = run(*argv)
    assert status in (0, 2)
    if status == 0 and stdout.startswith("usage:"):  # -h, --help, or an abbreviation of it
        assert stderr == "" and any(a.startswith("-") and "h" in a for a in argv)
    elif status == 0:
        assert stderr == ""
        assert len(stdout.splitlines()) == 1 + len([a for a in argv[1:] if "=" in a])
    else:
        assert_refused(status, stdout, stderr)


@given(st.text(max_size=80))
def test_random_text_as_the_expression_exits_0_or_2(text):
    check_clean_exit(["--", text, "x=0.5", "y=-2"])


@given(st.lists(st.sampled_from(TOKENS), max_size=25).map("".join))
def test_random_token_soup_exits_0_or_2(text):
    check_clean_exit(["--", text, "x=0.5", "y=-2"])


@given(st.lists(st.text(max_size=12), max_size=4))
def test_random_arguments_exit_0_or_2(argv):
    check_clean_exit(["x + 1", *argv] if argv else ["x + 1"])


# -- the library function and the module entry points -----------------------------------------


def test_evaluate_returns_the_output_and_the_labelled_leaves():
    output, leaves = evaluate("x * y", {"x": 2.0, "y": 3.0})
    assert output.data == 6.0
    assert [(name, leaf.label) for name, leaf in leaves.items()] == [("x", "x"), ("y", "y")]
    assert set(output.parents) == set(leaves.values())


def test_evaluate_refuses_with_expression_error():
    with pytest.raises(ExpressionError, match="unknown variable"):
        evaluate("z", {"x": 1.0})


def test_python_dash_m_autograd_runs_the_cli():
    done = subprocess.run(
        [sys.executable, "-m", "autograd", "x * w", "x=3", "w=-2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert parse_output(done.stdout) == {"value": -6.0, "d/dx": -2.0, "d/dw": 3.0}


def test_python_dash_m_autograd_refuses_with_status_2_and_no_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "autograd", "__import__('os')"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(PREFIX) and done.stderr.count("\n") == 1
