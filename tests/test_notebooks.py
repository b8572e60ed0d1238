"""The example notebooks: stored without outputs, executed in a real Jupyter kernel (nbclient),
every cell without an error or a warning, and the results displayed as mathematics and figures.

``uv_story.ipynb`` runs in the default test run; ``your_own_model.ipynb`` (about 10 s of
finite-width gradient descent on a model given as symbols, plus a kernel) is marked slow.
"""

import os
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _read(name: str):
    nbformat = pytest.importorskip("nbformat")
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def _execute(name: str):
    """The notebook, executed top to bottom in a fresh ``python3`` kernel (this interpreter's,
    inheriting ``PYTHONPATH``) in a temporary working folder."""
    pytest.importorskip("ipykernel")
    from nbclient import NotebookClient

    nb = _read(name)
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's path migration notice
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return nb


def _problems(nb) -> list[str]:
    """Errors and anything written to stderr (a warning, a traceback) by any cell."""
    out = []
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                out.append(f"cell {i}: {o['ename']}: {o['evalue']}")
            elif o.get("output_type") == "stream" and o.get("name") == "stderr":
                out.append(f"cell {i}: stderr: {o['text'][:200]}")
    return out


def _shown(nb, source_start: str) -> dict:
    """The rich outputs (mime type -> data) of the code cell whose source starts with ``source_start``."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(source_start):
            data: dict = {}
            for o in cell.outputs:
                data.update(o.get("data", {}))
            return data
    raise AssertionError(f"no cell starting with {source_start!r}")


@pytest.mark.parametrize("name", ["uv_story.ipynb", "your_own_model.ipynb"])
def test_notebooks_are_stored_without_outputs(name):
    nb = _read(name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_the_problem_check_catches_errors_and_warnings():
    nbformat = pytest.importorskip("nbformat")
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    nb = new_notebook(cells=[new_code_cell("x = 1", outputs=[new_output("stream", name="stdout", text="fine\n")])])
    assert _problems(nb) == []
    nb.cells.append(new_code_cell("w()", outputs=[new_output("stream", name="stderr", text="RuntimeWarning: overflow")]))
    nb.cells.append(new_code_cell("1/0", outputs=[new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                                             traceback=[])]))
    assert len(_problems(nb)) == 2
    assert nbformat.validate(nb) is None


def test_the_uv_story_runs_and_shows_math_and_figures():
    """A derived theory shows as typeset math, a derivation and a bound as LaTeX, the sweep as its
    phase diagram, the proof as its certificate; the notebook's own closing assertions hold."""
    nb = _execute("uv_story.ipynb")
    assert _problems(nb) == []
    theory = _shown(nb, "from catapult_theory.symbolic import bound_catalog, theory")
    assert theory["text/latex"].startswith("$$\n\\begin{aligned}\n")
    assert r"\eta_{\mathrm{max}} &= \frac{4}{\lambda}" in theory["text/latex"]
    assert "| quantity | after one step |" in theory["text/markdown"]
    assert r"\left[v^{T} U x\right]" in _shown(nb, "th.derivation")["text/latex"]
    assert r"k_{\max}^{\mathrm{lemma}}" in _shown(nb, 'bound_catalog("uv")')["text/latex"]
    sweep = _shown(nb, "import numpy as np")
    assert sweep["image/png"] and '<table class="boundaries">' in sweep["text/html"]
    assert "## `catapult-window-uv` — proved" in _shown(nb, "import proofs")["text/markdown"]


@pytest.mark.slow
def test_your_own_model_notebook_derives_proves_and_runs():
    nb = _execute("your_own_model.ipynb")
    assert _problems(nb) == []
    assert r"K &= \frac{x_{2}}{n^{2}}" in _shown(nb, 'th = theory("mean-field")')["text/latex"]
    assert "weight-norm-decrease[mean-field]` — proved" in _shown(nb, "results[2]")["text/markdown"]
    assert _shown(nb, "sweep = sweep_symbolic")["image/png"]


def test_a_failing_cell_fails_the_notebook(tmp_path, monkeypatch):
    """nbclient stops at a cell that raises (the notebooks' closing assertions can fail)."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient.exceptions import CellExecutionError
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell("assert 1 + 1 == 3, 'wrong'")],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, tmp_path / "broken.ipynb")
    monkeypatch.setitem(globals(), "NOTEBOOKS", tmp_path)
    with pytest.raises(CellExecutionError, match="wrong"):
        _execute("broken.ipynb")
