"""Grade a folder of submissions: the verdict is computed outside the student's process.

The pipeline (``STAGES``; design record D2 in docs/architecture.md)::

    collect    collect.collect            submission folder or zip -> private working copy
    cases      cases.draw_cases           public cases (fixed seeds), hidden ones (the secret)
    produce    produce.produce            the harness on the student's functions: per exercise,
                                          one sandbox for the public cases, then one for the
                                          hidden cases, each given only its own cases' inputs
    reference  produce.expected_outputs   the same harness and drivers on the course source
    score      score.score_exercise       plain data checked and compared, all-or-nothing
    report     report.write_result        <student>/result.json (with the arrival and lateness)
    publish    report.publish             grades.csv and feedback/<student>/<assignment>/, from
                                          every result.json and the written-answer store

Cases and reference values are computed once per run; collect, produce and score once per
student (``jobs`` students at a time). ``--shard K/N`` grades the students of one shard
(``shards.py``); ``rnn-course merge`` joins the shards' results folders. The grader never
imports anything from a submission and never executes a notebook: the student's code only
produces values.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rnn_core.course.cases import (
    SECRET_ENV,
    Case,
    Exercise,
    draw_cases,
    load_exercises,
    read_secret,
    write_inputs,
    write_run_inputs,
)
from rnn_core.course.collect import (
    blank_answers,
    collect,
    exchange_files,
    find_submissions,
    inbound_links,
    written_answers,
)
from rnn_core.course.config import CourseConfig, load_config
from rnn_core.course.lateness import arrival, late_minutes, penalty_percent, read_arrivals
from rnn_core.course.produce import Run, expected_outputs, make_tools, produce
from rnn_core.course.report import (
    RESULTS_OWN,
    ExerciseResult,
    StudentResult,
    publish,
    worst,
    write_result,
)
from rnn_core.course.score import Verdict, score_exercise
from rnn_core.course.shards import parse_shard, shard_of, write_shard_file

__all__ = ["STAGES", "grade", "grade_student"]

STAGES = {  # in order; cases and reference run once per run, the others once per student
    "collect": collect,
    "cases": draw_cases,
    "produce": produce,
    "reference": expected_outputs,
    "score": score_exercise,
    "report": write_result,
    "publish": publish,
}
_RUN_STATUS = {"ok": "ok", "exit": "crashed", "timeout": "timeout", "memory": "memory",
               "pids": "pids", "output": "output", "error": "error"}


def open_sandbox(cfg: CourseConfig, timeout: float, no_sandbox: bool) -> Any:
    """The D3 sandbox with the course's limits; refuses to grade without one unless told."""
    from rnn_core.course.sandbox import Limits, Sandbox, probe

    limits = Limits(memory_bytes=cfg.memory_bytes, pids=cfg.pids, wall_seconds=timeout,
                    output_bytes=cfg.output_bytes)
    if no_sandbox:
        return Sandbox(limits, backend="none")
    reason = probe(limits)
    if reason:
        raise RuntimeError(f"grade: no working sandbox ({reason}); pass --no-sandbox to grade "
                           "without one (every CSV row will say so)")
    return Sandbox(limits, backend="bwrap")


def run_exercise(ctx: dict, ex: Exercise, work: Path, out: Path) -> tuple[Verdict, Run | None]:
    """Produce and score one exercise: the public cases' run, then, only when every public case
    passed, the hidden cases' run (each in its own sandbox and out folder, ``out/<run>``).

    Returns the verdict and the first run that did not end ``ok`` (None when all did). A hidden
    run's exit code is the student's to choose: it is not shown.
    """
    cases: list[Case] = ctx["cases"][ex.grade_id]
    want = ctx["reference"][ex.grade_id]
    dirs: dict[str, Path] = {}
    bad: Run | None = None
    for run_name, inputs in ctx["inputs"][ex.grade_id].items():
        dirs[run_name] = out / run_name
        run = produce(ctx["sandbox"], ctx["tools"], work, inputs, ex.grade_id, dirs[run_name])
        if run_name == "hidden" and run.status == "exit":
            run = Run(run.status, "the run of the hidden cases exited early", run.seconds)
        if run.status != "ok" and bad is None:
            bad = run
        if not score_exercise(cases, dirs, want, ex.tol).not_run:
            break  # a public case failed, or every case ran: later runs change nothing
    return score_exercise(cases, dirs, want, ex.tol), bad


def grade_student(name: str, src: Path, ctx: dict) -> StudentResult:
    """collect -> produce -> score for one student, in a private folder of ``ctx["tmp"]``."""
    t0 = time.perf_counter()
    cfg: CourseConfig = ctx["cfg"]
    home = Path(tempfile.mkdtemp(prefix="s-", dir=ctx["tmp"]))
    res = StudentResult(name, "ok", "", ctx["sandbox_label"], assignment=ctx["assignment"],
                        version=ctx["version"])
    when, notes = arrival(name, src, assignment=ctx["assignment"],
                          inbound=ctx["inbound"], lms=ctx["lms"])
    res.arrival = str(when) if when else ""
    res.late = late_minutes(when, ctx["deadline"])
    res.penalty = penalty_percent(res.late, ctx["cfg"].late_penalty)
    sub = None
    entry = src.parent if ctx["nbgrader_layout"] else src   # what sits in the submissions folder
    if entry.is_symlink() or src.is_symlink():
        res.status, res.message = "error", (
            f"submission refused: {entry.name} in the submissions folder is a symbolic link: "
            "not followed, not graded")
    elif ctx["inbound"] is not None and (links := inbound_links(ctx["inbound"], name,
                                                                  ctx["assignment"])):
        res.status, res.message = "error", (
            f"submission refused: the exchange's inbound holds a symbolic link ({links[0]}): "
            "nbgrader collect copies what a link points to, not the student's work; not graded")
    elif not src.exists():
        res.status, res.message = "missing", "nothing submitted"
    else:
        if ctx["nbgrader_layout"] and src.is_dir():
            res.exchange = exchange_files(src)
        try:
            sub = collect(src, home / "work", cfg.packages, ctx["notebooks"])
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
            res.status, res.message = "error", f"submission refused: {e}"
    notes += list(sub.refused) if sub else []
    has_package = bool(sub) and all((sub.root / p).is_dir() for p in cfg.packages)
    if sub and not has_package:
        res.status = "missing"
        notes.append(f"package {', '.join(cfg.packages)} not handed in")
    run_status = []
    for ex in ctx["exercises"]:
        er = ExerciseResult(ex.grade_id, ex.notebook, ex.points, 0.0, "failed")
        want = ctx["reference"][ex.grade_id]
        if isinstance(want, str):  # the instructor's to fix: named in every row
            er.status, er.message = "error", f"not graded: {want}"
            notes.append(f"{ex.grade_id}: not graded (the course source fails it)")
        elif not has_package:
            er.status, er.message = "missing", "not handed in"
        else:
            v, run = run_exercise(ctx, ex, sub.root, home / "out" / ex.grade_id)
            er.points = ex.points if v.passed else 0.0
            er.status, er.message = ("passed" if v.passed else "failed"), v.message
            if run is not None:  # a limit or a crash: said, and costs the cases it cut
                er.status = _RUN_STATUS.get(run.status, "error")
                run_status.append(er.status)
                notes.append(f"{ex.grade_id}: {run.message or run.status}")
                if not v.passed:
                    er.message = f"{run.message or run.status}; {v.message}"
        res.exercises.append(er)
    for m in ctx["manual"]:
        nb = sub.notebooks.get(m.notebook) if sub else None
        text = written_answers(nb, {m.grade_id})[m.grade_id] if nb else ""
        res.answers[m.grade_id] = text
        blank = text.strip() in ("", ctx["blank_answers"].get(m.grade_id))
        res.exercises.append(ExerciseResult(m.grade_id, m.notebook, m.points,
                                            0.0 if blank else None, "manual",
                                            "left unanswered" if blank else "graded by hand"))
    order = ctx["order"]
    res.exercises.sort(key=lambda e: order.index(e.grade_id))
    res.status = worst([res.status, *run_status])
    res.message = "; ".join(filter(None, [res.message, *notes]))
    res.seconds = time.perf_counter() - t0
    shutil.rmtree(home, ignore_errors=True)
    return res


def grade(
    submissions: str | Path,
    source: str | Path,
    out: str | Path,
    *,
    config: CourseConfig | None = None,
    timeout: float | None = None,
    jobs: int | None = None,
    students: Sequence[str] | None = None,
    assignment: str | None = None,
    secret: str | None = None,
    shard: str | None = None,
    inbound: str | Path | None = None,
    arrivals: str | Path | None = None,
    no_sandbox: bool = False,
    sandbox: Any = None,
    progress: Callable[[StudentResult], None] | None = None,
) -> list[StudentResult]:
    """Grade every submission (a folder or ``<student>.zip``) in ``submissions`` into ``out``.

    ``sandbox`` overrides the D3 sandbox (tests); ``assignment`` reads nbgrader's collected
    layout ``<student>/<assignment>/`` and names the feedback folder (default ``course``);
    ``shard`` ("K/N") grades only the students of that shard; ``inbound`` (nbgrader's exchange
    inbound folder) or ``arrivals`` (an LMS export) give the arrival times (``lateness.py``).
    Returns the results of the students graded in this call, sorted by name.
    """
    from rnn_core import __version__
    from rnn_core.course.release import list_exercises

    part = parse_shard(shard) if shard is not None else None
    if part and not (secret or os.environ.get(SECRET_ENV)):
        raise ValueError("--shard needs --secret or $RNN_COURSE_SECRET: every shard must draw "
                         "the same hidden cases")
    name = assignment or "course"
    lms = read_arrivals(arrivals) if arrivals else None

    root, subs, dest = Path(source).resolve(), Path(submissions).resolve(), Path(out).resolve()
    cfg = config or load_config(root)
    limit = float(timeout if timeout is not None else cfg.timeout)
    if not subs.is_dir():
        raise FileNotFoundError(f"grade: submissions folder {subs} does not exist")
    if dest == subs or subs in dest.parents or dest in subs.parents:
        raise ValueError(f"grade: out {dest} and the submissions {subs} must not nest")
    graded = list_exercises(root, cfg)
    exercises = load_exercises(root / cfg.exercises, graded)
    box = sandbox if sandbox is not None else open_sandbox(cfg, limit, no_sandbox)
    label = "none (--no-sandbox)" if no_sandbox else " ".join(box.enforced) or "none"
    todo = find_submissions(subs, students)
    for own in sorted(set(todo) & set(RESULTS_OWN)):
        # its row would be written over the results folder's own files (or they over it)
        print(f"grade: {todo.pop(own)} not graded: '{own}' is the name of a file of the results "
              f"folder; rename it to the student's name and grade it again", file=sys.stderr)
    if part:
        todo = {k: v for k, v in todo.items() if shard_of(k, part[1]) == part[0]}
    if assignment:
        todo = {k: v / assignment for k, v in todo.items()}
    dest.mkdir(parents=True, exist_ok=True)
    key = read_secret(secret, dest)
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp_name:
        tmp = Path(tmp_name)
        tools = make_tools(root / cfg.exercises, tmp / "tools")
        manual = [e for e in graded if e.manual]
        ctx = {"cfg": cfg, "tmp": tmp, "assignment": name, "version": __version__,
               "nbgrader_layout": assignment is not None,
               "order": [e.grade_id for e in graded], "deadline": cfg.deadline.get(name),
               "inbound": Path(inbound) if inbound else None, "lms": lms,
               "tools": tools, "sandbox": box, "sandbox_label": label,
               "exercises": exercises, "manual": manual,
               "blank_answers": blank_answers(root, manual),
               "notebooks": [p.as_posix() for p in cfg.notebook_paths(root)],
               "cases": {}, "inputs": {}, "reference": {}}
        (tmp / "inputs").mkdir()
        for ex in exercises:
            cases = ctx["cases"][ex.grade_id] = draw_cases(ex, key)
            # every case in one file for the trusted reference only; each sandboxed run gets a
            # file of its own run's cases
            path = tmp / "reference-inputs" / f"{ex.grade_id}.npz"
            path.parent.mkdir(exist_ok=True)
            write_inputs(path, cases)
            ctx["reference"][ex.grade_id] = expected_outputs(ex, cases, tools, root, path, tmp,
                                                             limit)
            path.unlink()
            ctx["inputs"][ex.grade_id] = write_run_inputs(tmp / "inputs", ex.grade_id, cases)
        if students is None:  # a full run: forget students whose submission is gone
            for stale in dest.glob("*/result.json"):
                if stale.parent.name not in todo:
                    stale.unlink()

        def one(item: tuple[str, Path]) -> StudentResult:
            name, src = item
            try:
                r = grade_student(name, src, ctx)
            except Exception as e:  # noqa: BLE001 - a grader bug costs this student's row only
                r = StudentResult(name, "error", f"grader error: {type(e).__name__}: {e}", label)
            write_result(dest, r)
            if progress is not None:
                progress(r)
            return r

        with ThreadPoolExecutor(max_workers=max(1, jobs or os.cpu_count() or 1)) as pool:
            results = list(pool.map(one, todo.items()))
    if part:
        write_shard_file(dest, *part, [r.student for r in results], __version__, key)
    publish(dest)
    return results
