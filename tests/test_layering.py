"""Imports only go downward: the layers of docs/ARCHITECTURE.md, checked on the source.

Every ``import`` and ``from ... import`` in the packages counts, at module level or
inside a function, except those under ``if TYPE_CHECKING:`` (they never run). A
module may import only modules of a lower layer; a module missing from ``LAYERS``
fails the test, so a new module is placed on purpose. No package may hold an import
cycle, whatever the table says.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd", "nn")

# autograd's layers, bottom first (keep in step with docs/ARCHITECTURE.md).
LAYERS = [
    # the standard library only
    {"autograd.floatmath", "autograd.grad_mode", "autograd.ops", "autograd._version"},
    {"autograd.anomaly", "autograd.gc_policy"},  # services of the recording state
    {"autograd.history", "autograd.engine"},  # the seam of node creation; the sweep
    {"autograd.value"},  # the base type and its operations
    {"autograd.nary", "autograd.elementwise"},  # sum, dot, matvec; exp(x) for Values or numbers
    {"autograd.functional", "autograd.gradcheck"},  # built on the graph machinery
    {"autograd.compiler"},  # compile(fn): trace, generate Python, replay
    # the graphviz classes (graphviz is imported only here and by draw); which module call
    # made each node, inferred for grouped drawings
    # gradient checkpointing (compile traces run a segment inline)
    {"autograd._graphviz", "autograd.draw_groups", "autograd.checkpointing"},
    {"autograd.draw", "autograd.memory"},  # pictures; what a graph keeps alive
    {"autograd.html", "autograd.cli.expression"},  # the step-through page; the CLI's parser
    {"autograd.saving"},  # save_graph: pictures and pages
    {"autograd.cli.main"},
    {"autograd.cli", "autograd"},  # the packages' public faces
    {"autograd.__main__"},
]
LAYER_OF = {module: level for level, modules in enumerate(LAYERS) for module in modules}

# nn's leaves: modules that only the package face ``nn`` may import, each with the nn
# modules it may import itself (keep in step with docs/ARCHITECTURE.md).
NN_LEAVES = {
    # to_torch / from_torch / safetensors; torch, safetensors, numpy only inside functions
    "nn.export": {"nn.layers", "nn.linear", "nn.module", "nn.rnn", "nn.sequential"},
}


def module_name(path, root=ROOT):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_type_checking_block(node):
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imported_modules(path, known, root=ROOT):
    """The modules of ``known`` that the file at ``path`` imports, anywhere in it."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    stack = [ast.parse(path.read_text(encoding="utf-8"))]
    while stack:
        node = stack.pop()
        if is_type_checking_block(node):
            continue
        stack.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            targets = [source] + [f"{source}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            # ``from . import ops`` names a module; ``from .ops import Op`` a name in one.
            if target in known and target != name:
                found.add(target)
    # Importing a package's submodule from inside that package runs no new code of the
    # package's __init__: it is already being imported.
    return {t for t in found if not name.startswith(t + ".")}


def all_modules():
    paths = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    return {module_name(p): p for p in paths}


MODULES = all_modules()
IMPORTS = {name: imported_modules(path, MODULES) for name, path in MODULES.items()}


@pytest.mark.parametrize("name", sorted(m for m in MODULES if m.split(".")[0] == "autograd"))
def test_each_autograd_module_imports_only_lower_layers(name):
    assert name in LAYER_OF, f"{name} is in no layer: add it to LAYERS and to ARCHITECTURE.md"
    upward = sorted(
        target for target in IMPORTS[name]
        if target.split(".")[0] == "autograd" and LAYER_OF.get(target, -1) >= LAYER_OF[name]
    )
    assert not upward, f"{name} imports {upward}, which are not below it"


@pytest.mark.parametrize("leaf", sorted(NN_LEAVES))
def test_each_nn_leaf_imports_only_its_listed_modules_and_only_nn_imports_it(leaf):
    assert leaf in MODULES, f"{leaf} is listed in NN_LEAVES but does not exist"
    extra = sorted(t for t in IMPORTS[leaf] if t.split(".")[0] == "nn" and t != "nn")
    extra = [t for t in extra if t not in NN_LEAVES[leaf]]
    assert not extra, f"{leaf} imports {extra}; list them in NN_LEAVES and ARCHITECTURE.md"
    importers = sorted(m for m, targets in IMPORTS.items() if leaf in targets and m != "nn")
    assert not importers, f"{importers} import the leaf {leaf}; only the package face may"


def test_nn_export_imports_its_optional_extras_only_inside_functions():
    tree = ast.parse(MODULES["nn.export"].read_text(encoding="utf-8"))
    for node in tree.body:  # module level only: function bodies are not in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] + [getattr(node, "module", "") or ""]
            assert not any(n.split(".")[0] in ("torch", "safetensors", "numpy") for n in names)


def find_cycle(imports):
    """One import cycle in ``imports`` (module -> imported modules) as a list, or None."""
    state = {}  # module -> "open" or "done": an iterative depth-first search
    for start in sorted(imports):
        if start in state:
            continue
        state[start] = "open"
        path = [start]
        stack = [iter(sorted(imports[start]))]
        while stack:
            for target in stack[-1]:
                if state.get(target) == "open":
                    return path[path.index(target) :] + [target]
                if target not in state:
                    state[target] = "open"
                    path.append(target)
                    stack.append(iter(sorted(imports.get(target, ()))))
                    break
            else:
                state[path.pop()] = "done"
                stack.pop()
    return None


def test_no_package_has_an_import_cycle():
    cycle = find_cycle(IMPORTS)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_checker_sees_function_level_imports_and_skips_type_checking_ones(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from autograd import value\n"
        "def f():\n    from autograd import engine\n    import autograd.ops\n"
    )
    known = {"autograd.value", "autograd.engine", "autograd.ops"}
    found = imported_modules(source, known, root=tmp_path)
    assert found == {"autograd.engine", "autograd.ops"}


def test_the_core_imports_nothing_but_the_standard_library_and_itself():
    top = LAYER_OF["autograd.compiler"]
    core = [m for m in MODULES if m.split(".")[0] == "autograd" and LAYER_OF.get(m, 99) <= top]
    for name in core:
        tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                roots = [node.module.split(".")[0]]
            else:
                continue
            for root in roots:
                assert root == "autograd" or root in sys.stdlib_module_names, (
                    f"{name} imports {root}, which is not in the standard library"
                )
