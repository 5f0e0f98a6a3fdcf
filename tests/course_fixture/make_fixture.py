"""Regenerate the fixture course's notebooks: ``python tests/course_fixture/make_fixture.py``.

The cells carry ``nbgrader:`` directives; :func:`rnn_core.course.markers.apply_directives` turns
them into nbgrader metadata, the way a notebook author of the real course would.
Autograded points: test_scale 1, test_step 2, test_step_backward 3, test_count 2, test_seq 2
(10 in all), self-checks of the package's functions (the grader draws its own cases from
``exercises.py``); written answer q_why: 2 points, graded by hand.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from rnn_core.course.markers import apply_directives

HERE = Path(__file__).parent

NB01 = [
    (
        "md",
        "<!-- nbgrader: locked id=intro -->\n# 01: one tanh step\n\nFill in `scale` in "
        "`minirnn/basics.py` and the two functions of `minirnn/cell.py`.",
    ),
    (
        "code",
        "import minirnn\nimport numpy as np\nfrom minirnn import scale, step, step_backward\n\n"
        'print("minirnn from", minirnn.__file__)',
    ),
    (
        "code",
        "# nbgrader: tests id=test_scale points=1\n"
        'assert scale(3) == 6, "scale(3) should be 6"',
    ),
    (
        "code",
        "# nbgrader: tests id=test_step points=2\n"
        "x, h = np.array([0.1, -0.2]), np.array([0.3, 0.4])\n"
        'assert np.allclose(step(x, h, 0.5), np.tanh(x + 0.5 * h)), "step is not tanh(x + w h)"',
    ),
    (
        "code",
        "# nbgrader: tests id=test_step_backward points=3\n"
        "rng = np.random.default_rng(0)\n"
        "x, h, dout = rng.normal(size=(3, 2, 4))\n"
        "w, eps = 0.7, 1e-6\n"
        "dx, dh, dw = step_backward(dout, x, h, w)\n"
        "num_dw = np.sum((step(x, h, w + eps) - step(x, h, w - eps)) * dout) / (2 * eps)\n"
        'assert abs(dw - num_dw) < 1e-6, f"dw is off by {abs(dw - num_dw):.1e}: check its sign"',
    ),
    (
        "md",
        "<!-- nbgrader: locked id=q_why_question -->\n"
        "**Question.** Why can a long chain of tanh steps with |w| < 1 not explode?",
    ),
    (
        "md",
        "<!-- nbgrader: manual id=q_why points=2 -->\n"
        "Each factor of the chain is w times a tanh derivative, which is at most one,\n"
        "so the product of the factors shrinks geometrically.",
    ),
]

NB02 = [
    ("code", "import numpy as np\nfrom minirnn import count_up, run_steps"),
    (
        "code",
        "# nbgrader: tests id=test_count points=2\n"
        'assert count_up(4) == 6, "count_up(4) should be 0 + 1 + 2 + 3 = 6"',
    ),
    (
        "code",
        "# nbgrader: tests id=test_seq points=2\n"
        "hs = run_steps(np.array([[0.0, 0.0], [0.1, 0.1], [0.2, 0.2]]), np.zeros(2), 0.5)\n"
        "expected = np.tanh(0.2 + 0.5 * np.tanh(0.1 + 0.5 * np.tanh(0.0)))\n"
        'assert np.allclose(hs[-1], expected), "three steps of step() do not compose"',
    ),
]


def build(cells: list[tuple[str, str]], where: str) -> nbformat.NotebookNode:
    nb = new_notebook(
        cells=[
            new_code_cell(src) if kind == "code" else new_markdown_cell(src) for kind, src in cells
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{Path(where).stem[:2]}-{i:02d}"  # stable ids: a rebuild gives the same file
    apply_directives(nb, where)
    return nb


def main() -> None:
    for name, cells in (("01_step.ipynb", NB01), ("02_loop.ipynb", NB02)):
        path = HERE / "notebooks" / name
        nbformat.write(build(cells, name), str(path))
        print("wrote", path)


if __name__ == "__main__":
    main()
