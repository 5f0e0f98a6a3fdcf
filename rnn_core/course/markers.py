"""Exercise markers: one convention for notebooks and ``.py`` files, and nbgrader cell metadata.

The convention is nbgrader's. Code a student writes sits between a ``BEGIN SOLUTION`` and an
``END SOLUTION`` comment line (``### BEGIN SOLUTION`` in Python); hidden tests sit between
``BEGIN HIDDEN TESTS`` and ``END HIDDEN TESTS`` comment lines. In a notebook the cells also carry
nbgrader metadata (schema version 3); :func:`mark_cell` writes it and :func:`apply_directives`
writes it from a one-line directive at the top of a cell, so a notebook author types::

    # nbgrader: answer id=rnn_step                  (code cell the student completes)
    # nbgrader: tests id=test_rnn_step points=5     (autograder tests: locked, hidden tests ok)
    <!-- nbgrader: manual id=q_s15 points=4 -->     (markdown answer, graded by hand)
    # nbgrader: locked id=setup                     (read-only cell, restored when grading)

In a ``.py`` file a marker is a comment line on its own; :func:`stub_regions` replaces each
solution region with a ``raise NotImplementedError("Exercise <name>: ...")`` stub at the same
indentation, where ``<name>`` is the enclosing function.

This module needs the standard library only.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BEGIN_SOLUTION",
    "END_SOLUTION",
    "BEGIN_HIDDEN",
    "END_HIDDEN",
    "MarkerError",
    "Region",
    "find_regions",
    "stray_marker_text",
    "stub_regions",
    "secret_lines",
    "split_lines",
    "nbgrader_metadata",
    "mark_cell",
    "apply_directives",
    "DIRECTIVE_KINDS",
]

BEGIN_SOLUTION = "BEGIN SOLUTION"
"""nbgrader's delimiter text (``ClearSolutions.begin_solution_delimeter``)."""
END_SOLUTION = "END SOLUTION"
BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
"""nbgrader's delimiter text (``ClearHiddenTests.begin_test_delimeter``)."""
END_HIDDEN = "END HIDDEN TESTS"

_MARKER_LINE = re.compile(
    r"^(?P<indent>[ \t]*)#+[ \t]*(?P<what>BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|"
    r"END HIDDEN TESTS)\b"
)


def stray_marker_text(text: str) -> list[int]:
    """0-based numbers of lines that mention a delimiter in running text (not a marker line).

    nbgrader treats *any* line containing ``BEGIN SOLUTION`` (etc.) as a marker, so prose such as
    "write your code between the BEGIN SOLUTION and END SOLUTION lines" breaks a notebook.
    """
    words = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN)
    return [
        i
        for i, line in enumerate(text.split("\n"))
        if any(w in line for w in words) and not _MARKER_LINE.match(line)
    ]


class MarkerError(ValueError):
    """Exercise markers that do not pair up (nested, unclosed or stray)."""


@dataclass(frozen=True)
class Region:
    """One marked region of a text: lines ``start`` .. ``end`` (0-based, markers included)."""

    kind: str
    """``"solution"`` or ``"hidden"``"""
    start: int
    end: int
    indent: str
    """indentation of the BEGIN line"""
    name: str
    """exercise name: the enclosing function (``Class.method``), else ``""``"""

    def body(self, lines: list[str]) -> list[str]:
        """The lines strictly between the two markers."""
        return lines[self.start + 1 : self.end]


def _enclosing_functions(text: str) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function in ``text`` (1-based)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    found: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = prefix + child.name
                found.append((child.lineno, child.end_lineno or child.lineno, name))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def find_regions(text: str, where: str = "<text>") -> list[Region]:
    """Find the solution and hidden-test regions of a Python text.

    Parameters
    ----------
    text : the file or cell source.
    where : a label for error messages (a path, or ``notebook:cell``).

    Returns
    -------
    The regions in order. Each solution region is named after its enclosing function.

    Raises
    ------
    MarkerError
        A region opened inside another, an END without its BEGIN, or a BEGIN never closed.
    """
    lines = text.split("\n")
    funcs = _enclosing_functions(text)
    regions: list[Region] = []
    open_kind: str | None = None
    open_at = 0
    open_indent = ""
    for i, line in enumerate(lines):
        m = _MARKER_LINE.match(line)
        if not m:
            continue
        what = m.group("what")
        kind = "solution" if "SOLUTION" in what else "hidden"
        if what.startswith("BEGIN"):
            if open_kind is not None:
                raise MarkerError(
                    f"{where}:{i + 1}: '{what}' inside a region opened at line {open_at + 1}; "
                    "regions cannot nest"
                )
            open_kind, open_at, open_indent = kind, i, m.group("indent")
        else:
            if open_kind != kind:
                raise MarkerError(f"{where}:{i + 1}: '{what}' without a matching BEGIN line")
            inner = [f for f in funcs if f[0] <= open_at + 1 <= f[1]]
            name = max(inner)[2] if inner else ""
            regions.append(Region(kind, open_at, i, open_indent, name))
            open_kind = None
    if open_kind is not None:
        raise MarkerError(f"{where}:{open_at + 1}: region opened here is never closed")
    return regions


def stub_regions(
    text: str,
    where: str = "<text>",
    *,
    module: str = "",
    see: dict[str, str] | None = None,
) -> tuple[str, list[Region]]:
    """Replace solution regions by ``NotImplementedError`` stubs and delete hidden tests.

    Parameters
    ----------
    text : Python source.
    where : label for error messages.
    module : the file as the student sees it (``rnn_core/rnn.py``), quoted in the stub message.
    see : exercise name -> where it is taught (e.g. ``"notebook 02_rnn_step"``).

    Returns
    -------
    The new text (it still compiles) and the regions that were replaced or deleted.
    """
    lines = text.split("\n")
    regions = find_regions(text, where)
    see = see or {}
    counts: dict[str, int] = {}
    out: list[str] = []
    pos = 0
    for r in regions:
        out.extend(lines[pos : r.start])
        pos = r.end + 1
        if r.kind == "hidden":
            continue
        base = r.name or (module.rsplit("/", 1)[-1].removesuffix(".py") or "exercise")
        counts[base] = counts.get(base, 0) + 1
        name = base if counts[base] == 1 else f"{base} (part {counts[base]})"
        what = f"the body of {r.name}" if r.name else "the marked region"
        place = f" in {module}" if module else ""
        hint = see.get(r.name) or see.get(base) or "see the course notebooks"
        msg = f"Exercise {name}: implement {what}{place} ({hint})"
        out.append(f"{r.indent}# YOUR CODE HERE: exercise {name}")
        out.append(f"{r.indent}raise NotImplementedError({json.dumps(msg)})")
    out.extend(lines[pos:])
    new = "\n".join(out)
    if regions:
        try:
            compile(new, where, "exec")
        except SyntaxError as e:
            raise MarkerError(f"{where}: the stubbed file does not compile ({e})") from None
    return new, regions


def _is_trivial(line: str, min_chars: int) -> bool:
    s = line.strip()
    return len(s) < min_chars or _MARKER_LINE.match(line) is not None


def split_lines(
    text: str, where: str = "<text>", *, min_chars: int = 6
) -> tuple[set[str], set[str]]:
    """Split a Python text into (secret candidates, public lines), both stripped.

    Secret candidates are the non-trivial lines inside solution/hidden regions (marker lines and
    lines shorter than ``min_chars``, like ``else:`` or ``)``, are left out); public lines are all
    stripped lines outside the regions.
    """
    lines = text.split("\n")
    inside: set[int] = set()
    for r in find_regions(text, where):
        inside.update(range(r.start, r.end + 1))
    public = {ln.strip() for i, ln in enumerate(lines) if i not in inside}
    secret = {
        ln.strip() for i, ln in enumerate(lines) if i in inside and not _is_trivial(ln, min_chars)
    }
    return secret, public


def secret_lines(text: str, where: str = "<text>", *, min_chars: int = 6) -> set[str]:
    """Stripped lines inside solution/hidden regions that appear nowhere outside them.

    A line that also occurs in the public part of the same text (say ``return out``) gives
    nothing away; lines shorter than ``min_chars`` (``else:``, ``)``) are ignored.
    """
    secret, public = split_lines(text, where, min_chars=min_chars)
    return secret - public


# --------------------------------------------------------------------------------------------
# nbgrader cell metadata

DIRECTIVE_KINDS = ("answer", "tests", "manual", "locked", "task")
"""answer: autograded answer (solution); tests: autograder tests (grade, locked, points);
manual: manually graded answer (solution + grade, points); locked: read-only;
task: manually graded task (markdown, points)."""

_CODE_DIRECTIVE = re.compile(r"^#\s*nbgrader:\s*(?P<kind>\w+)(?P<args>[^\n]*)$")
_MD_DIRECTIVE = re.compile(r"^<!--\s*nbgrader:\s*(?P<kind>\w+)(?P<args>.*?)-->\s*$")


def nbgrader_metadata(kind: str, grade_id: str, points: float = 0) -> dict[str, Any]:
    """The ``metadata["nbgrader"]`` dict (schema version 3) of one kind of cell.

    Parameters
    ----------
    kind : one of :data:`DIRECTIVE_KINDS`.
    grade_id : unique id of the cell in the course (it names the CSV column).
    points : points of a ``tests``, ``manual`` or ``task`` cell (> 0 for those).
    """
    if kind not in DIRECTIVE_KINDS:
        raise ValueError(
            f"nbgrader_metadata: kind must be one of {', '.join(DIRECTIVE_KINDS)}, got {kind!r}"
        )
    if not isinstance(grade_id, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", grade_id):
        raise ValueError(
            f"nbgrader_metadata: grade_id must be letters, digits, '_', '.', '-', got {grade_id!r}"
        )
    graded = kind in ("tests", "manual", "task")
    if graded and not points > 0:
        raise ValueError(f"nbgrader_metadata: a '{kind}' cell needs points > 0, got {points!r}")
    if not graded and points:
        raise ValueError(f"nbgrader_metadata: an '{kind}' cell carries no points, got {points!r}")
    meta: dict[str, Any] = {
        "grade": kind in ("tests", "manual"),
        "grade_id": grade_id,
        "locked": kind in ("tests", "locked", "task"),
        "schema_version": 3,
        "solution": kind in ("answer", "manual"),
        "task": kind == "task",
    }
    if graded:
        meta["points"] = points
    return meta


def mark_cell(cell: Any, kind: str, grade_id: str, points: float = 0) -> Any:
    """Give a notebook cell (an nbformat NotebookNode or a plain dict) its nbgrader metadata.

    ``manual`` and ``task`` cells must be markdown, other kinds code, as nbgrader expects for
    this course (a code ``manual`` cell is allowed by nbgrader but not used here).
    """
    ctype = cell["cell_type"]
    want = "markdown" if kind in ("manual", "task") else None
    if want and ctype != want:
        raise ValueError(f"mark_cell: a '{kind}' cell must be markdown, got a {ctype} cell")
    if kind in ("answer", "tests") and ctype != "code":
        raise ValueError(f"mark_cell: an '{kind}' cell must be a code cell, got {ctype}")
    cell.setdefault("metadata", {})["nbgrader"] = nbgrader_metadata(kind, grade_id, points)
    return cell


def _parse_args(args: str, where: str) -> dict[str, str]:
    out = {}
    for tok in args.split():
        key, eq, val = tok.partition("=")
        if not eq or key not in ("id", "points"):
            raise ValueError(
                f"{where}: cannot read directive argument {tok!r} (use id=... points=...)"
            )
        out[key] = val
    return out


def apply_directives(nb: Any, where: str = "<notebook>") -> int:
    """Write nbgrader metadata for every cell whose first line is an ``nbgrader:`` directive.

    The directive line stays in the cell (it reads well and is harmless). Cells without a
    directive keep whatever metadata they have. Returns the number of cells marked.
    """
    n = 0
    for i, cell in enumerate(nb["cells"]):
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        first = src.split("\n", 1)[0].strip()
        pat = _CODE_DIRECTIVE if cell["cell_type"] == "code" else _MD_DIRECTIVE
        m = pat.match(first)
        if not m:
            continue
        label = f"{where}: cell {i}"
        args = _parse_args(m.group("args"), label)
        if "id" not in args:
            raise ValueError(f"{label}: directive needs id=<grade_id>")
        points = float(args.get("points", 0))
        mark_cell(cell, m.group("kind"), args["id"], points)
        n += 1
    return n
