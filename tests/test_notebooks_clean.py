"""The notebooks are stored clean (no outputs, no widget state) and follow the house layout."""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]


def test_the_whole_lecture_is_there():
    prefixes = [p.name[:2] for p in NOTEBOOKS]
    assert prefixes == [f"{i:02d}" for i in range(10)], f"notebooks found: {IDS}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {i} has stored outputs; strip them"
            assert cell.execution_count is None, f"{path.name}: cell {i} has an execution count"
        assert "attachments" not in cell or not cell.attachments, f"{path.name}: cell {i}"
    assert "widgets" not in nb.metadata, f"{path.name}: stored widget state; strip it"
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_opens_with_title_goals_and_prerequisites(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    assert re.match(rf"# {path.name[:2]}\b", first.source), first.source[:80]
    assert "What you will learn" in first.source
    assert "Prerequisites" in first.source


def test_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    missing = [p.name for p in NOTEBOOKS if f"notebooks/{p.name}" not in readme]
    assert not missing, f"README.md table of contents lacks {missing}"

