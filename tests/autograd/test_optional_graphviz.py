"""graphviz is optional at import: the engine, nn and the CLI work without it.

Without graphviz, in a subprocess whose ``graphviz`` fails to import exactly as a missing
package does: every module imports, the drawing names are importable, drawing says how to
install graphviz, and the CLI computes gradients but refuses ``-o`` in one line. With
graphviz, ``import autograd`` does not import it. And only the drawing modules import it.
"""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AUTOGRAD = ROOT / "autograd"
DRAWING_MODULES = {"autograd.draw", "autograd._graphviz"}  # the only ones that may need it
PREFIX = "chainrule: error: "

# What `import graphviz` raises when the package is not installed.
MISSING_GRAPHVIZ = 'raise ModuleNotFoundError("No module named \'graphviz\'", name="graphviz")\n'


@pytest.fixture(scope="module")
def without_graphviz(tmp_path_factory):
    """Run Python from the repository with a ``graphviz`` that is missing."""
    shadow = tmp_path_factory.mktemp("no-graphviz")
    (shadow / "graphviz").mkdir()
    (shadow / "graphviz" / "__init__.py").write_text(MISSING_GRAPHVIZ)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shadow), str(ROOT)])}

    def run(*args):
        return subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )

    return run


LIBRARY_WITHOUT_GRAPHVIZ = """
import importlib, json, pkgutil, sys

import autograd, nn, nn.demo  # nn.demo imports GraphvizNotFoundError at its top
from autograd import Value
from autograd.draw import (
    FORMATS, Drawing, GraphvizNotFoundError, GraphvizPackageNotFoundError, draw
)
from autograd.saving import save_graph

modules = [info.name for info in pkgutil.walk_packages(autograd.__path__, "autograd.")]
for name in modules:
    if name != "autograd._graphviz":  # the one module that is graphviz's half
        importlib.import_module(name)

def error_of(call):
    try:
        call()
    except GraphvizNotFoundError as error:  # what nn.demo catches
        return [type(error).__name__, isinstance(error, ImportError), str(error)]
    return "no error"

path = sys.argv[1]
print(json.dumps({
    "modules": modules,
    "FORMATS": list(FORMATS),
    "draw": error_of(lambda: autograd.draw(Value(1.0))),
    "bad draw": error_of(lambda: draw("not a Value")),  # graphviz is checked first
    "save_graph": error_of(lambda: save_graph(Value(1.0), path)),
    "save_graph html": error_of(lambda: save_graph(Value(1.0), path + ".html")),
    "draw_html": error_of(lambda: autograd.draw_html(Value(1.0))),
    "Drawing()": error_of(Drawing),
    "is the package error": GraphvizNotFoundError is GraphvizPackageNotFoundError,
}))
"""


def test_without_graphviz_autograd_and_nn_import_and_drawing_says_how_to_install_it(
    without_graphviz, tmp_path
):
    never_written = tmp_path / "graph.dot"
    done = without_graphviz("-c", LIBRARY_WITHOUT_GRAPHVIZ, str(never_written))
    assert (done.returncode, done.stderr) == (0, "")
    found = json.loads(done.stdout)
    assert "autograd.cli.main" in found["modules"] and "autograd.draw" in found["modules"]
    assert found["FORMATS"] == [".svg", ".png", ".pdf", ".dot", ".gv", ".html"]
    assert found["is the package error"]
    for call in ("draw", "bad draw", "save_graph", "save_graph html", "draw_html", "Drawing()"):
        name, is_import_error, message = found[call]
        assert (name, is_import_error) == ("GraphvizPackageNotFoundError", True), call
        assert "drawing needs the graphviz Python package" in message
        assert "pip install graphviz" in message and "'dot' program" in message
    assert not never_written.exists()
    assert not never_written.with_name("graph.dot.html").exists()


def test_without_graphviz_the_cli_prints_the_value_and_gradient(without_graphviz):
    done = without_graphviz("-m", "autograd", "x*2", "x=1")
    assert (done.returncode, done.stdout, done.stderr) == (0, "value = 2.0\nd/dx  = 2.0\n", "")


def test_without_graphviz_the_cli_refuses_output_in_one_line_saying_how_to_install_it(
    without_graphviz, tmp_path
):
    picture = tmp_path / "g.svg"
    done = without_graphviz("-m", "autograd", "x*2", "x=1", "-o", str(picture))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(PREFIX) and done.stderr.count("\n") == 1, done.stderr
    assert "pip install graphviz" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert not picture.exists()


def test_with_graphviz_importing_autograd_nn_and_the_cli_leaves_graphviz_unimported():
    pytest.importorskip("graphviz")
    code = (
        "import sys, autograd, nn, autograd.__main__\n"
        "print('graphviz' in sys.modules)\n"
        "autograd.draw(autograd.Value(1.0))\n"
        "print('graphviz' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.split() == ["False", "True"]


# -- only the drawing modules import graphviz -----------------------------------------------


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(node, package):
    """The module an ``ast.ImportFrom`` names, a relative one made absolute in ``package``."""
    if not node.level:
        return node.module
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def _imported(tree, package):
    """Every module name that ``tree`` imports, at any depth (function bodies too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, package)
            yield source
            yield from (f"{source}.{alias.name}" for alias in node.names)  # from . import x
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            function = node.func  # importlib.import_module("graphviz"), __import__(...)
            called = function.attr if isinstance(function, ast.Attribute) else ""
            called = getattr(function, "id", called)
            if called in ("import_module", "__import__"):
                yield str(node.args[0].value)


def _needs_graphviz(name):
    return name == "graphviz" or name.startswith("graphviz.") or name == "autograd._graphviz"


def test_only_the_drawing_modules_import_graphviz():
    importers = set()
    for path in sorted(AUTOGRAD.rglob("*.py")):
        module = _module_name(path)
        package = module if path.stem == "__init__" else module.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        if any(_needs_graphviz(name) for name in _imported(tree, package)):
            importers.add(module)
    assert "autograd._graphviz" in importers  # the check sees imports at all
    assert importers <= DRAWING_MODULES, f"{sorted(importers - DRAWING_MODULES)} import graphviz"
