"""The layering rule of docs/architecture.md, checked on the imports of every module.

Each module of rnn_core gets a rank; a module may import (at the top or inside a function) only
modules of its own rank or lower. Layer A's modules (the exercises) rank just above ``_validate``,
so an exercise file that imported a model, an analysis or a data set would fail here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "rnn_core"

# first matching prefix wins (dotted module names below rnn_core)
RANKS = [
    ("_validate", 0), ("_lookahead", 0), ("_ipython", 0),
    ("rnn", 1), ("lstm", 1), ("layers", 1), ("clipping", 1), ("_kernels", 1),
    ("init", 2), ("optim", 2), ("gradcheck", 2), ("checks", 2), ("train", 2),
    ("models", 2), ("data", 2), ("analysis.jacobians", 2), ("analysis.lyapunov", 2),
    ("analysis", 3), ("experiments", 3),
    ("plotting", 4), ("widgets", 4), ("style", 4),
    ("notebook", 5), ("submit", 5),
]


def _rank(module: str) -> int:
    for prefix, r in RANKS:
        if module == prefix or module.startswith(prefix + "."):
            return r
    raise KeyError(module)


def _modules() -> list[tuple[str, Path]]:
    out = []
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG).with_suffix("")
        if rel.parts[0] == "course" or rel.name == "__init__":
            continue  # course tooling reads the package as text; __init__ files re-export
        out.append((".".join(rel.parts), p))
    return out


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rnn_core"):
            base = node.module.removeprefix("rnn_core").lstrip(".")
            if base:
                found.add(base)
            else:  # from rnn_core import data
                found |= {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("rnn_core.") for a in node.names
                      if a.name.startswith("rnn_core.")}
    return found


@pytest.mark.parametrize("module,path", _modules(), ids=[m for m, _ in _modules()])
def test_imports_go_down_the_layers(module, path):
    r = _rank(module)
    up = sorted(f"{module} (rank {r}) imports {dep} (rank {_rank(dep)})"
                for dep in _imports(path)
                if _rank(dep) > r)
    assert up == []


def test_nothing_in_the_package_imports_course_tooling():
    bad = [m for m, p in _modules() if any(d.startswith("course") for d in _imports(p))]
    assert bad == []


def test_the_rule_sees_a_violation(tmp_path):
    p = tmp_path / "rnn.py"
    p.write_text("def f():\n    from rnn_core.models import LanguageModel\n")
    assert {_rank(d) for d in _imports(p)} == {2} and _rank("rnn") == 1


STEP_EXERCISES = {"rnn_step_forward", "rnn_step_backward"}


def _step_calls_in_loops(path: Path) -> list[int]:
    """Lines where a loop (for, while, comprehension) calls a step exercise of notebook 00."""
    lines = []
    for loop in ast.walk(ast.parse(path.read_text())):
        if isinstance(loop, ast.For | ast.AsyncFor | ast.While | ast.ListComp | ast.SetComp
                      | ast.DictComp | ast.GeneratorExp):
            for node in ast.walk(loop):
                f = node.func if isinstance(node, ast.Call) else None
                name = getattr(f, "id", None) or getattr(f, "attr", None)
                if name in STEP_EXERCISES:
                    lines.append(node.lineno)
    return sorted(set(lines))


def test_no_loop_over_time_runs_on_the_step_exercises():
    """D1: a loop over rnn_step_forward / rnn_step_backward outside rnn.py would be a complete
    rnn_forward / rnn_backward, and so answer notebook 00's sequence exercise for a student who
    has written the step. Layer B's loops step through the sequence functions instead (one time
    step each); tests/test_course_real.py grades that hand-off as a hostile student."""
    found = {m: ln for m, p in _modules() if m != "rnn" and (ln := _step_calls_in_loops(p))}
    assert found == {}


def test_the_loop_rule_sees_a_loop(tmp_path):
    p = tmp_path / "loop.py"
    p.write_text("def f(xs, h):\n    for x in xs:\n        h, _ = rnn_step_forward(x, h, 1, 2, 3)\n"
                 "    return [m.rnn_step_backward(d, c) for d, c in xs]\n"
                 "def g(xs):\n    return {rnn_step_forward(*x)[0].sum() for x in xs}\n")
    assert _step_calls_in_loops(p) == [3, 4, 6]
