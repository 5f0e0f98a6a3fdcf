"""Produce one exercise's outputs from a package tree: run inside the sandbox, numpy + stdlib only.

    python harness.py --spec SPEC --exercise GRADE_ID --root TREE --inputs IN.npz --out DIR

``SPEC`` is the spec file or package folder. ``TREE`` (a student's working copy, or the course
source for the reference) goes first on ``sys.path``; the exercise's Layer A functions are imported
from it, and must come from it. The exercise's *driver* (from the spec file, loaded by path) is
called once per case; the outputs go to ``DIR/case<i>.npz`` and a status to ``DIR/case<i>.json``
({"status": "ok"} or the exception's type and first line). The harness decides nothing: whatever it
or the student's code writes is plain data that the grader checks and scores in its own process
(see ``score.py``).

This file imports nothing from the course tooling, so the sandbox needs only numpy: the same file
runs the student's functions in the sandbox and the course source's in the grader's trusted child.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
import types

CASE_KEY = "case{}."
"""prefix of a case's arrays in the inputs file: ``case0.x``, ``case0.Wh``, ..."""


def load_spec(path: str) -> dict:
    """The ``EXERCISES`` dict of a spec file or package folder, loaded by path.

    A package (a folder with ``__init__.py`` whose modules import each other relatively) is
    registered under a private name made from its path, fresh at every call: two courses' specs
    in one process never share a module.
    """
    name = "_course_exercises_" + str(abs(hash(os.path.realpath(path))))
    if os.path.isdir(path):
        spec = importlib.util.spec_from_file_location(
            name, os.path.join(path, "__init__.py"), submodule_search_locations=[path])
    else:
        spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load exercise spec {path}")
    for old in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[old]
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # relative imports of a package's modules look it up here
    try:
        spec.loader.exec_module(mod)
    finally:
        for old in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[old]
    return mod.EXERCISES


def split_cases(arrays: dict) -> list[dict]:
    """``{"case0.x": a, "case1.x": b}`` -> ``[{"x": a}, {"x": b}]`` (in case order)."""
    cases: dict[int, dict] = {}
    for key, value in arrays.items():
        head, _, name = key.partition(".")
        cases.setdefault(int(head[len("case") :]), {})[name] = value
    return [cases[i] for i in sorted(cases)]


def _inside(path: str | None, root: str) -> bool:
    if not path:
        return False
    real = os.path.realpath(path)
    return real == root or real.startswith(root + os.sep)


def import_functions(calls: list[str], root: str) -> types.SimpleNamespace:
    """``["pkg.mod:fn", ...]`` imported from ``root`` (first on sys.path) as a namespace."""
    fns = {}
    for target in calls:
        modname, _, name = target.partition(":")
        mod = importlib.import_module(modname)
        if not _inside(getattr(mod, "__file__", None), root):
            raise ImportError(f"{modname} is not in the submitted package")
        fns[name] = getattr(mod, name)
    return types.SimpleNamespace(**fns)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


def _write_status(out: str, i: int, status: dict) -> None:
    with open(os.path.join(out, f"case{i}.json"), "w", encoding="utf-8") as f:
        json.dump(status, f)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for flag in ("--spec", "--exercise", "--root", "--inputs", "--out"):
        p.add_argument(flag, required=True)
    args = p.parse_args(argv)
    root = os.path.realpath(args.root)
    # The spec is read before the submission can shadow anything: numpy and the drivers are the
    # grader's own. The student's tree goes first on the path only for the exercise's imports.
    import numpy as np

    exercise = load_spec(args.spec)[args.exercise]
    with np.load(args.inputs, allow_pickle=False) as f:
        cases = split_cases({k: f[k] for k in f.files})
    sys.path.insert(0, root)
    try:
        fns = import_functions(exercise["calls"], root)
    except BaseException as e:  # noqa: BLE001 - any import failure is the student's to see
        for i in range(len(cases)):
            _write_status(args.out, i, {"status": "error", "error": _first_line(e)})
        return 0
    for i, case in enumerate(cases):
        try:
            outputs = exercise["driver"](fns, case)
            np.savez(os.path.join(args.out, f"case{i}.npz"), **outputs)
            _write_status(args.out, i, {"status": "ok"})
        except BaseException as e:  # noqa: BLE001 - one case's failure costs that case only
            _write_status(args.out, i, {"status": "error", "error": _first_line(e)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
