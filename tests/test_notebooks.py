"""The notebooks in notebooks/ run top to bottom on the bundled data, and are committed with outputs.

Each notebook is executed with nbclient in a fresh kernel whose working directory is a temporary copy,
so files it writes (models/, clvlab-output/) never touch the repository. The kernel is the venv's own
``python3`` kernelspec (installed by ipykernel into ``sys.prefix/share/jupyter/kernels``), i.e. the
Python running the tests; ``test_kernel_runs_this_python`` checks that.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {"quickstart.ipynb", "bayesian.ipynb", "online_retail.ipynb", "covariates.ipynb"}
CELL_TIMEOUT = 600  # seconds per cell; each notebook takes well under a minute on 2 cores


def _execute(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    return client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error


def test_the_notebooks_are_there() -> None:
    assert {p.name for p in NOTEBOOKS} >= EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_with_its_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    # Executed in one fresh kernel, top to bottom: execution counts 1, 2, 3, ...
    counts = [cell.get("execution_count") for cell in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name} is not committed as executed top to bottom (execution counts {counts}); "
        "run it in a fresh kernel and commit it with its outputs"
    )
    outputs = [out for cell in code for out in cell.get("outputs", [])]
    assert not [out for out in outputs if out.get("output_type") == "error"], f"{path.name} has an error"
    assert any("image/png" in out.get("data", {}) for out in outputs), f"{path.name} has no figures"
    assert all(cell.source.strip() for cell in nb.cells), f"{path.name} has an empty cell"


def test_kernel_runs_this_python(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import sys; print(sys.prefix)")])
    executed = _execute(nb, tmp_path)
    printed = executed.cells[0].outputs[0]["text"].strip()
    assert Path(printed).resolve() == Path(sys.prefix).resolve(), (
        f"the python3 kernel runs in {printed}, not in this environment ({sys.prefix}); a kernelspec "
        "of another Python shadows the one ipykernel installed here"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copy(path, tmp_path))
    nb = nbformat.read(copy, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    executed = _execute(nb, tmp_path)
    assert all(cell.execution_count for cell in executed.cells if cell.cell_type == "code")
