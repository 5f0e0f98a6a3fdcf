"""Every hand-graded written answer follows a question that asks what its model answer answers.

A manually graded cell (``<!-- nbgrader: manual ... -->``) holds only "**Your answer:**" and the
model answer between the solution markers; the release clears the model answer, so the student
sees the question only if it sits in the cell just before. The checks:

- the cell before it is an ungraded markdown cell headed ``Question (written, P points)``, with P
  equal to the grade cell's points, and it asks something (a "?");
- the parts match: the question's labelled parts (a), (b), ... are exactly the model answer's
  labelled parts, in the same order;
- a question that asks for "at least N" reasons/points gets a model answer with at least N
  numbered items (1), (2), ...;
- the model answer is no longer than the question allows ("in 4-6 sentences").
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

_HEADING = re.compile(r"^#+\s*Question \(written, (\d+(?:\.\d+)?) points?\)", re.MULTILINE)
_PART = re.compile(r"(?:^|[\s*])\(([a-h])\)")
_ITEM = re.compile(r"(?:^|\s)\((\d)\)")
_AT_LEAST = re.compile(r"at least (two|three|four|five|\d+)\b", re.IGNORECASE)
_SENTENCES = re.compile(r"in (\d+)\s*[-\u2013]\s*(\d+) sentences", re.IGNORECASE)
_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5}


def _grade_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _is_manual(cell) -> bool:
    meta = _grade_meta(cell)
    return cell.cell_type == "markdown" and bool(meta.get("grade")) and bool(meta.get("solution"))


def _model_answer(source: str) -> str:
    m = re.search(r"^#+\s*BEGIN SOLUTION\s*$(.*?)^#+\s*END SOLUTION\s*$", source, re.S | re.M)
    return m.group(1) if m else ""


def _parts(text: str) -> list[str]:
    seen: list[str] = []
    for label in _PART.findall(text):
        if label not in seen:
            seen.append(label)
    return seen


def _sentences(text: str) -> int:
    # strip maths first: "$x_{l+1} = x_l + F(x_l)$." is one token, not a sentence break
    prose = re.sub(r"\$[^$]*\$", "M", text)
    prose = re.sub(r"\b(e\.g|i\.e|et al|vs)\.", r"\1", prose)
    return len([s for s in re.split(r"(?<=[.!?])\s+", prose.strip()) if s])


def question_problems(nb) -> list[str]:
    """Everything wrong with the written questions of one notebook (empty list: all good)."""
    problems = []
    for i, cell in enumerate(nb.cells):
        if not _is_manual(cell):
            continue
        gid = _grade_meta(cell).get("grade_id", f"cell {i}")
        answer = _model_answer(cell.source)
        if not answer.strip():
            problems.append(f"{gid}: no model answer between the solution markers")
        before = nb.cells[i - 1] if i > 0 else None
        if before is None or before.cell_type != "markdown" or _grade_meta(before).get("grade"):
            problems.append(f"{gid}: the cell before the answer is not an ungraded markdown "
                            "question")
            continue
        question = nb.cells[i - 1].source
        heading = _HEADING.search(question)
        if heading is None:
            problems.append(f"{gid}: the cell before the answer has no "
                            "'Question (written, P points)' heading")
            continue
        if float(heading.group(1)) != float(_grade_meta(cell).get("points", -1)):
            problems.append(f"{gid}: the question says {heading.group(1)} points, the grade cell "
                            f"{_grade_meta(cell).get('points')}")
        if "?" not in question:
            problems.append(f"{gid}: the question cell asks nothing (no '?')")
        q_parts, a_parts = _parts(question), _parts(answer)
        if q_parts != a_parts:
            problems.append(f"{gid}: the question has parts {q_parts}, the model answer {a_parts}")
        need = _AT_LEAST.search(question)
        if need:
            n = int(_WORDS.get(need.group(1).lower(), need.group(1)))
            items = set(_ITEM.findall(answer))
            if len(items) < n:
                problems.append(f"{gid}: the question asks for at least {n} points, the model "
                                f"answer numbers {len(items)}")
        limit = _SENTENCES.search(question)
        if limit and _sentences(answer) > int(limit.group(2)):
            problems.append(f"{gid}: the question allows {limit.group(2)} sentences, the model "
                            f"answer has {_sentences(answer)}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_written_answer_follows_its_question(path):
    problems = question_problems(nbformat.read(path, as_version=4))
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_the_course_has_its_three_written_questions():
    ids = [_grade_meta(c).get("grade_id") for p in NOTEBOOKS
           for c in nbformat.read(p, as_version=4).cells if _is_manual(c)]
    assert sorted(ids) == ["q_s15_rescaling", "q_s17_lstm_highway", "q_s19_shared_weights"]


# ------------------------------------------------------------- the checker catches what it should
def _nb(question: str | None, answer: str, points: float = 4.0):
    cells = [nbformat.v4.new_markdown_cell("## Some section\n\nA table.")]
    if question is not None:
        cells.append(nbformat.v4.new_markdown_cell(question))
    graded = nbformat.v4.new_markdown_cell(
        "<!-- nbgrader: manual id=q points=4 -->\n**Your answer:**\n\n"
        f"### BEGIN SOLUTION\n{answer}\n### END SOLUTION")
    graded.metadata["nbgrader"] = {"grade": True, "solution": True, "grade_id": "q",
                                   "points": points, "locked": False, "schema_version": 3,
                                   "task": False}
    cells.append(graded)
    return nbformat.v4.new_notebook(cells=cells)


GOOD_Q = "### Question (written, 4 points)\n\n(a) Why is it so? (b) What does it cost?"
GOOD_A = "(a) Because. (b) Little."


def test_checker_accepts_a_matching_question():
    assert question_problems(_nb(GOOD_Q, GOOD_A)) == []


@pytest.mark.parametrize("question, answer, points, expected", [
    (None, GOOD_A, 4.0, "no 'Question (written"),       # the prompt is missing (08 had this)
    ("A paragraph.", GOOD_A, 4.0, "no 'Question (written"),
    (GOOD_Q, "(a) Because. (b) Little. (c) And more.", 4.0, "parts ['a', 'b']"),
    (GOOD_Q, GOOD_A, 6.0, "says 4 points"),
    ("### Question (written, 4 points)\n\nName at least three reasons. Why?", "(1) one. (2) two.",
     4.0, "at least 3"),
    ("### Question (written, 4 points)\n\nWhy? Answer in 1-2 sentences.", "One. Two. Three.", 4.0,
     "allows 2 sentences"),
])
def test_checker_finds_a_mismatch(question, answer, points, expected):
    problems = question_problems(_nb(question, answer, points))
    assert any(expected in p for p in problems), problems
