"""Course order (D1): a notebook needs only the exercises of itself and the notebooks before it.

For each notebook NN, the student release is given back the answers of the exercises taught in
notebooks <= NN (the source's copy of every package file whose stubs all point at such notebooks,
and NN's own answer cells) while every later exercise stays a stub, and notebook NN must run to its
end in a fresh kernel that imports that copy of ``rnn_core``. Slow (every notebook runs once, a few
minutes in all).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from rnn_core.course.release import release
from rnn_core.submit import run_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
STUB = re.compile(r"Exercise \w+: implement the body of \w+ in \S+ \(see notebook (\d\d)_")
WHERE = """from pathlib import Path

import rnn_core

here = Path.cwd().resolve() / "rnn_core"
assert Path(rnn_core.__file__).resolve().parent == here, rnn_core.__file__"""

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("order") / "release"
    release(ROOT, out)
    taught: dict[str, set[str]] = {}  # package file -> the notebooks its stubs point at
    for path in sorted((out / "rnn_core").rglob("*.py")):
        found = set(STUB.findall(path.read_text(encoding="utf-8")))
        if found:
            taught[path.relative_to(out).as_posix()] = found
    return out, taught


def test_every_exercise_file_is_found_and_taught_in_one_notebook(built):
    _, taught = built
    assert {"rnn_core/rnn.py", "rnn_core/layers.py", "rnn_core/train.py", "rnn_core/clipping.py",
            "rnn_core/lstm.py", "rnn_core/analysis/jacobians.py",
            "rnn_core/analysis/lyapunov.py"} <= set(taught)
    # restoring by file is exact only while no file mixes exercises of two notebooks
    assert all(len(nbs) == 1 for nbs in taught.values()), taught


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_on_the_exercises_of_itself_and_earlier_notebooks(name, built, tmp_path,
                                                                        monkeypatch):
    out, taught = built
    here = tmp_path / "release"
    shutil.copytree(out, here)
    nn = name[:2]
    restored = sorted(rel for rel, nbs in taught.items() if max(nbs) <= nn)
    for rel in restored:
        shutil.copyfile(ROOT / rel, here / rel)
    nb = nbformat.read(str(here / name), as_version=4)
    # the notebook's own answer cells (ungraded warm-ups) are the student's work too: the source's
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source
               for c in nbformat.read(str(ROOT / "notebooks" / name), as_version=4).cells
               if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if c.cell_type == "code" and gid in answers:
            c.source = answers[gid]
    nb.cells.insert(2, nbformat.v4.new_code_cell(WHERE))  # after the set-up cell: this copy runs
    nbformat.write(nb, str(here / name))
    monkeypatch.setenv("PYTHONPATH", str(here))
    run = run_notebook(here / name, timeout=300)
    print(f"{name}: {run.seconds:.1f} s with {restored}")
    assert run.error is None, f"{name} with only {restored} restored: {run.error}"
    assert not run.checks_failed, run.checks_failed
