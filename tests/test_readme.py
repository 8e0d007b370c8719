"""The README's tour and every docstring example in the engine run as written."""

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import autograd

README = Path(__file__).resolve().parent.parent / "README.md"

# Every module of the engine package (the CLI entry point excepted: importing it is
# harmless, but it is a script, not a library module with examples).
ENGINE_MODULES = ["autograd"] + sorted(
    f"autograd.{info.name}"
    for info in pkgutil.iter_modules(autograd.__path__)
    if info.name != "__main__"
)


def test_readme_python_examples_run_as_written():
    results = doctest.testfile(
        str(README), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False
    )
    assert results.attempted >= 10, "the README tour has lost its examples"
    assert results.failed == 0, f"{results.failed} README example(s) failed; see output above"


def test_the_engine_core_modules_are_all_checked():
    for name in ("autograd.value", "autograd.nary", "autograd.engine", "autograd.grad_mode",
                 "autograd.gradcheck"):  # fmt: skip
        assert name in ENGINE_MODULES


@pytest.mark.parametrize("module_name", ENGINE_MODULES)
def test_docstring_examples_run_as_written(module_name):
    module = importlib.import_module(module_name)
    results = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert results.failed == 0, f"{results.failed} example(s) in {module_name} failed"


def test_value_docstrings_have_examples():
    import autograd.value

    assert doctest.testmod(autograd.value, optionflags=doctest.ELLIPSIS).attempted > 0
