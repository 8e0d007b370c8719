"""The ``chainrule`` script and ``python -m autograd`` both run ``autograd.cli.main.main``."""

import importlib
from pathlib import Path

import pytest

import autograd.__main__
import autograd.cli.main

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_chainrule_script_names_the_cli_main():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    target = tomllib.loads(PYPROJECT.read_text())["project"]["scripts"]["chainrule"]
    module_name, _, attribute = target.partition(":")
    assert getattr(importlib.import_module(module_name), attribute) is autograd.cli.main.main


def test_python_dash_m_autograd_runs_the_same_main():
    assert autograd.__main__.main is autograd.cli.main.main
