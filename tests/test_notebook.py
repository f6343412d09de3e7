"""docs/example.ipynb runs top to bottom in a kernel of this Python (the test extra has nbclient
and ipykernel; without them the test skips), and its cells display the worked solutions."""

from __future__ import annotations

import json
import sys

import pytest

import dlvcli
from tests.conftest import REPO

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


def test_example_notebook_executes(tmp_path, monkeypatch):
    # a kernel spec naming this interpreter, so the notebook runs against this venv's dlvcli,
    # whatever kernels the user has installed
    spec = tmp_path / "kernels" / "dlv-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "dlv test", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    notebook = nbformat.read(REPO / "docs" / "example.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="dlv-test", resources={"metadata": {"path": str(REPO)}}
    )
    client.execute()

    outputs = {cell.source: cell.outputs for cell in notebook.cells if cell.cell_type == "code"}
    assert not [o for cell in outputs.values() for o in cell if o.output_type == "error"]

    def shown(source: str) -> str:
        (result,) = [o for o in outputs[source] if o.output_type == "execute_result"]
        return result.data["text/markdown"]

    # a result as a cell's value displays as the command's Markdown document
    assert shown("dlvcli.focal(p=0.9, gamma=2)") == dlvcli.focal(p=0.9, gamma=2)._repr_markdown_()
    # the kernel computed the course example's 11-point AP: 58/77 (worked in docs/interp-ap.md)
    (value,) = [o for o in outputs["ap.map_exact"] if o.output_type == "execute_result"]
    assert value.data["text/plain"] == "Fraction(58, 77)"
    # print(result) is the text worked solution
    printed = "".join(o.text for o in outputs[next(s for s in outputs if s.endswith("print(y)"))] if o.output_type == "stream")
    assert printed == str(dlvcli.tconv([[1, 2], [3, 4]], [[1, 0], [0, 1]], stride=2)) + "\n"
