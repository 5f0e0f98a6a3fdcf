"""Command line for instructors: ``rnn-course {release,grade,merge,written,canvas,list,mark}``.

    rnn-course release SRC OUT [--force] [--zip FILE]   the student release (and its zip)
    rnn-course grade SUBMISSIONS --source SRC --out RESULTS [--secret S] [--timeout S] [--jobs N]
                     [--student NAME] [--assignment A] [--shard K/N] [--inbound DIR]
                     [--arrivals CSV] [--no-sandbox]
    rnn-course merge SHARD_RESULTS... --out RESULTS   join the results of grade --shard K/N
    rnn-course written pages RESULTS                  one page (and CSV) per written question
    rnn-course written record RESULTS --student S --question Q --points P [--comment C]
    rnn-course written import RESULTS FILE.csv        scores from a filled CSV
    rnn-course canvas RESULTS --column "NAME (ID)" [--roster CSV]   Canvas gradebook CSV
    rnn-course list SRC                 exercises, points, stubbed functions
    rnn-course mark NOTEBOOK...         write nbgrader metadata from directives

``python -m rnn_core.course`` is the same command. ``--notebooks GLOB`` and ``--package DIR``
(repeatable) override ``SRC/course.toml``. Exit status: 0 when the command did its job (a
student's failures are results, not errors), 1 on a usage or course error (bad markers, a solution
line in the release, ...).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _config(args: argparse.Namespace):
    from rnn_core.course.config import load_config

    return load_config(args.source, notebooks=args.notebooks, packages=args.package)


def _layout(p: argparse.ArgumentParser) -> None:
    p.add_argument("--notebooks", action="append", metavar="GLOB", help="graded notebooks")
    p.add_argument("--package", action="append", metavar="DIR", help="package folder")


def _release(args: argparse.Namespace) -> int:
    from rnn_core.course.release import release

    rep = release(args.source, args.out, _config(args), force=args.force, zip_path=args.zip)
    print(f"release {rep.version} written to {rep.out}: {rep.files} files")
    if args.zip:
        print(f"  zip: {args.zip} (publish it at course.toml's release_url)")
    for nb in rep.notebooks:
        print(f"  notebook {nb}")
    for f, names in rep.stubbed.items():
        print(f"  {f}: stubbed {', '.join(names)}")
    print(f"  points: {rep.auto_points:g} autograded + {rep.manual_points:g} graded by hand")
    return 0


def _list(args: argparse.Namespace) -> int:
    from rnn_core.course.markers import find_regions
    from rnn_core.course.release import _package_files, list_exercises

    cfg = _config(args)
    ex = list_exercises(args.source, cfg)
    for e in ex:
        kind = "by hand" if e.manual else "tests"
        print(f"{e.notebook:<40} {e.grade_id:<32} {e.points:>5g}  {kind}")
    auto = sum(e.points for e in ex if not e.manual)
    manual = sum(e.points for e in ex if e.manual)
    print(f"total {auto + manual:g} points: {auto:g} autograded, {manual:g} by hand")
    root = Path(args.source)
    for rel in _package_files(root, cfg):
        if rel.suffix == ".py":
            regions = find_regions((root / rel).read_text(encoding="utf-8"), str(rel))
            names = [r.name or rel.stem for r in regions if r.kind == "solution"]
            if names:
                print(f"{rel}: exercises {', '.join(names)}")
    return 0


def _mark(args: argparse.Namespace) -> int:
    import nbformat

    from rnn_core.course.markers import apply_directives

    for path in args.notebook:
        nb = nbformat.read(path, as_version=4)
        n = apply_directives(nb, path)
        nbformat.write(nb, path)
        print(f"{path}: {n} cell(s) marked")
    return 0


def _merge(args: argparse.Namespace) -> int:
    from rnn_core.course.shards import merge

    students = merge(args.shards, args.out)
    print(f"merged {len(args.shards)} shard(s), {len(students)} student(s): "
          f"{Path(args.out) / 'grades.csv'}")
    return 0


def _written(args: argparse.Namespace) -> int:
    from rnn_core.course import written

    if args.action == "pages":
        for path in written.write_pages(args.results):
            print(path)
        return 0
    if args.action == "record":
        if args.student is None or args.question is None or args.points is None:
            raise ValueError("written record needs --student, --question and --points")
        s = written.record(args.results, args.student, args.question, args.points,
                           args.comment or "")
        print(f"recorded {s.student} {s.question}: {s.points:g}")
    else:
        if args.file is None:
            raise ValueError("written import needs the filled CSV file")
        print(f"imported {len(written.import_scores(args.results, args.file))} score(s)")
    print(f"updated {Path(args.results) / 'grades.csv'} and the feedback")
    return 0


def _canvas(args: argparse.Namespace) -> int:
    from rnn_core.course.lms import write_canvas

    print(write_canvas(args.results, args.column, args.roster))
    return 0


def add_grade_parser(sub: argparse._SubParsersAction) -> None:
    """The ``grade`` subcommand (the pipeline itself is :mod:`rnn_core.course.grade`)."""
    p = sub.add_parser("grade", help="grade a folder of submissions")
    p.add_argument("submissions", help="folder with one subfolder or <student>.zip per student")
    p.add_argument("--source", required=True, help="course source folder (with solutions)")
    p.add_argument("--out", required=True, help="results folder (never inside a sandbox)")
    p.add_argument("--timeout", type=float, help="per-exercise limit in seconds (course.toml)")
    p.add_argument("--jobs", type=int, help="students graded at once (default: all cores)")
    p.add_argument("--student", action="append", help="grade only this student (repeatable)")
    p.add_argument("--assignment", help="nbgrader layout: SUBMISSIONS/<student>/<ASSIGNMENT>/")
    p.add_argument("--secret", help="seed of the hidden cases (else $RNN_COURSE_SECRET, else "
                                    "OUT/secret.txt, created on first use)")
    p.add_argument("--shard", metavar="K/N", help="grade only shard K of N (1 <= K <= N), split "
                   "by a hash of the student name; join the shards with rnn-course merge")
    p.add_argument("--inbound", metavar="DIR", help="nbgrader exchange inbound folder: arrival "
                   "times from its <student>+<assignment>+... folders (with --assignment)")
    p.add_argument("--arrivals", metavar="CSV", help="submission times from an LMS export "
                   "(columns student, submitted: ISO 8601 with a time zone)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="grade without the OS sandbox (recorded in every CSV row)")
    p.add_argument("--notebooks", action="append", metavar="GLOB", help="graded notebooks")
    p.add_argument("--package", action="append", metavar="DIR", help="package folder")
    p.set_defaults(run=run_grade)


def run_grade(args: argparse.Namespace) -> int:
    from rnn_core import __version__
    from rnn_core.course.config import load_config
    from rnn_core.course.grade import grade

    cfg = load_config(args.source, notebooks=args.notebooks, packages=args.package)
    print(f"rnn-course {__version__}", flush=True)

    def show(r) -> None:
        line = f"{r.student:<20} {r.status:<8} {r.total:g}/{r.max_total:g}  ({r.seconds:.1f} s)"
        print(line + (f"  {r.message[:120]}" if r.message else ""), flush=True)

    results = grade(args.submissions, args.source, args.out, config=cfg, timeout=args.timeout,
                    jobs=args.jobs, students=args.student, assignment=args.assignment,
                    secret=args.secret, shard=args.shard, inbound=args.inbound,
                    arrivals=args.arrivals, no_sandbox=args.no_sandbox, progress=show)
    out = Path(args.out)
    print(f"graded {len(results)} student(s): {out / 'grades.csv'}, feedback in "
          f"{out / 'feedback'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rnn-course", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="build the student release")
    p.add_argument("source", help="course source folder")
    p.add_argument("out", help="release folder to create")
    p.add_argument("--force", action="store_true", help="replace an existing release folder")
    p.add_argument("--zip", metavar="FILE", help="also write the release as this zip")
    _layout(p)
    p.set_defaults(run=_release)

    add_grade_parser(sub)

    p = sub.add_parser("merge", help="join the results folders of grade --shard K/N")
    p.add_argument("shards", nargs="+", help="one results folder per shard")
    p.add_argument("--out", required=True, help="merged results folder")
    p.set_defaults(run=_merge)

    p = sub.add_parser("written", help="scores of written answers: pages, record, import")
    p.add_argument("action", choices=["pages", "record", "import"])
    p.add_argument("results", help="results folder of rnn-course grade")
    p.add_argument("file", nargs="?", help="import: the filled CSV")
    p.add_argument("--student")
    p.add_argument("--question", help="grade id of the written question")
    p.add_argument("--points", type=float)
    p.add_argument("--comment")
    p.set_defaults(run=_written)

    p = sub.add_parser("canvas", help="grades.csv as a Canvas gradebook CSV")
    p.add_argument("results", help="results folder of rnn-course grade")
    p.add_argument("--column", required=True, help='Canvas assignment column, "NAME (ID)"')
    p.add_argument("--roster", help="the Canvas gradebook export (IDs and sections)")
    p.set_defaults(run=_canvas)

    p = sub.add_parser("list", help="list the graded cells, points and stubbed functions")
    p.add_argument("source", help="course source folder")
    _layout(p)
    p.set_defaults(run=_list)

    p = sub.add_parser("mark", help="write nbgrader metadata from '# nbgrader:' directives")
    p.add_argument("notebook", nargs="+")
    p.set_defaults(run=_mark)

    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as e:
        print(f"{parser.prog} {args.command}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
