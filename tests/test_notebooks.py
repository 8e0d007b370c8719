"""Every notebook runs top to bottom in a fresh kernel, and is committed executed.

Each notebook checks its own derivation with asserts, so a notebook that no longer runs,
or whose numbers no longer agree, fails here.
"""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TIMEOUT_PER_CELL = 120  # seconds; every notebook takes well under a minute in all


def test_all_seven_notebooks_are_here():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom_in_a_fresh_kernel(path, tmp_path, monkeypatch):
    # The kernel imports this checkout's packages, not whatever copy is installed in the
    # environment (a git worktree shares the venv of the main checkout).
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT_PER_CELL,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # anything written lands here
    )
    client.execute()  # raises CellExecutionError at the first failing cell


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_with_its_outputs_and_no_errors(path):
    notebook = nbformat.read(path, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells and all(cell.get("execution_count") for cell in code_cells)
    outputs = [output for cell in code_cells for output in cell.outputs]
    assert outputs, "committed without outputs"
    assert not [o for o in outputs if o.output_type == "error"]
