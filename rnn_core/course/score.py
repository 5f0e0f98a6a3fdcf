"""Stage 5, score: read what a harness run left behind as plain data, and compare.

Everything in an output folder may have been written by the student's code, so nothing is trusted:
files are opened without following links and must be regular; a ``.npz`` is read member by
member with ``allow_pickle=False`` after its header (dtype, shape) is checked against the caps;
only real numbers and bools are accepted. Messages name the case and the size of the error,
never expected values or hidden inputs. A hidden case's message holds nothing the student's code
chose (no exception text, output names, shapes or error sizes): that code saw the hidden inputs.
A public case's run saw only public inputs (``cases.write_run_inputs``), so its message is shown
in full.
"""

from __future__ import annotations

import json
import os
import re
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnn_core.course.cases import Case, run_cases

__all__ = ["Caps", "Verdict", "read_case", "score_exercise"]


@dataclass(frozen=True)
class Caps:
    file_bytes: int = 64 * 2**20
    elements: int = 4 * 2**20
    arrays: int = 64
    status_bytes: int = 4096


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str
    not_run: bool = False  # failed only at a case whose run's outputs were not given


class Unreadable(ValueError):
    """An output file that is not plain data within the caps."""


def _open_regular(path: Path, cap: int):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise Unreadable(f"{path.name} cannot be opened ({e.strerror})") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_size > cap:
        os.close(fd)
        raise Unreadable(f"{path.name} is not a regular file under {cap} bytes")
    return os.fdopen(fd, "rb")


def _read_npz(f, caps: Caps) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    total = 0
    try:
        with zipfile.ZipFile(f) as zf:
            infos = zf.infolist()
            if len(infos) > caps.arrays:
                raise Unreadable(f"more than {caps.arrays} arrays")
            for info in infos:
                if not info.filename.endswith(".npy"):
                    raise Unreadable(f"member {info.filename[:40]!r} is not an array")
                with zf.open(info) as m:
                    version = np.lib.format.read_magic(m)
                    if version not in ((1, 0), (2, 0)):
                        raise Unreadable(f"array format {version} not accepted")
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read_header(m)
                    if dtype.kind not in "biuf" or dtype.hasobject:
                        raise Unreadable(f"{info.filename[:-4]} has dtype {dtype}, not a real "
                                         "number type")
                    total += int(np.prod(shape, dtype=np.int64))
                    if total > caps.elements:
                        raise Unreadable(f"more than {caps.elements} numbers in all")
                with zf.open(info) as m:
                    arrays[info.filename[:-4]] = np.lib.format.read_array(m, allow_pickle=False)
    except Unreadable:
        raise
    except Exception as e:  # noqa: BLE001 - whatever the file makes zipfile or numpy raise
        raise Unreadable(f"not a valid .npz ({type(e).__name__})") from None
    return arrays


def read_case(folder: Path, i: int, caps: Caps = Caps()) -> tuple[str, dict | None, bool]:
    """(status line, outputs or None, whether the line is the student's exception) of case i.

    A status file that cannot be read or parsed, whatever the reason (bad UTF-8, JSON nested too
    deep for the parser), is a fixed line; outputs that are not plain data within the caps raise
    :class:`Unreadable`, nothing else.
    """
    f = _open_regular(folder / f"case{i}.json", caps.status_bytes)
    if f is None:
        return "no result (the process ended before this case)", None, False
    with f:
        try:
            status = json.loads(f.read().decode("utf-8"))
            ok = isinstance(status, dict) and status.get("status") == "ok"
            error = str(status.get("error", "error"))[:300] if isinstance(status, dict) else ""
        except Exception:  # noqa: BLE001 - RecursionError, MemoryError, ...: this case only
            return "unreadable status file", None, False
    if not ok:
        return error or "error", None, True
    f = _open_regular(folder / f"case{i}.npz", caps.file_bytes)
    if f is None:
        return "no outputs written", None, False
    with f:
        return "", _read_npz(f, caps), False


def _compare(name: str, key: str, got: np.ndarray, want: np.ndarray, tol: float,
             hidden: bool = False) -> str:
    """Empty when ``got`` matches; else a message. For a hidden case the message holds no number
    computed from ``got`` (its shape, the size of its error): the student's code chose them."""
    if got.shape != want.shape:
        if hidden:
            return f"{name}: {key} has a wrong shape, expected shape {want.shape}"
        return f"{name}: {key} has shape {got.shape}, expected shape {want.shape}"
    if want.dtype.kind == "b":
        if got.dtype.kind != "b" or not np.array_equal(got, want):
            return f"{name}: {key} differs"
        return ""
    g, w = got.astype(np.float64), want.astype(np.float64)
    finite = np.isfinite(w)  # where the reference is inf or NaN, the same is expected
    if not np.all(np.isfinite(g[finite])) or not np.array_equal(g[~finite], w[~finite],
                                                                 equal_nan=True):
        return f"{name}: {key} has non-finite entries"
    g, w = g[finite], w[finite]
    err = float(np.max(np.abs(g - w), initial=0.0)) / max(float(np.max(np.abs(w), initial=0.0)),
                                                          1e-8)
    if not err <= tol:
        what = "modified in place (it must be left unchanged)" if key.startswith("in.") else (
            "is off (above the tolerance)" if hidden else f"off by {err:.1e} relative")
        return f"{name}: {key[3:] if key.startswith('in.') else key} {what}"
    return ""


def _shown(status: str, hidden: bool) -> str:
    """A hidden case's error shows its exception type only: the student's own message could
    print the hidden inputs into the feedback."""
    if not hidden:
        return status
    kind = status.split(":", 1)[0]
    return f"{kind} raised" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]{0,60}", kind) else "error"


def _locations(cases: list[Case], got: Path | Mapping[str, Path]) -> list[tuple[Path | None, int]]:
    """Where each case's outputs are: (folder, number in that folder's run), folder None when
    its run is not in ``got``."""
    if not isinstance(got, Mapping):  # one run of every case, numbered as in ``cases``
        return [(Path(got), i) for i in range(len(cases))]
    where: list[tuple[Path | None, int]] = [(None, i) for i in range(len(cases))]
    for run, idx in run_cases(cases).items():
        for j, i in enumerate(idx):
            where[i] = (Path(got[run]) if run in got else None, j)
    return where


def _score_case(case: Case, folder: Path, j: int, want: dict, tol: float) -> str:
    """Empty when case ``j`` of the run in ``folder`` passes; else the message."""
    hidden = case.hidden
    try:
        status, got, raised = read_case(folder, j)
    except Unreadable as e:
        return f"{case.name}: output rejected" + (" (not plain data within the caps)" if hidden
                                                  else f": {e}")
    if got is None:
        return f"{case.name}: {_shown(status, hidden and raised)}"
    extra = sorted(set(got) - set(want))
    missing = sorted(set(want) - set(got))
    if missing or extra:
        shown = str(len(extra)) if hidden else ", ".join(extra)[:80] or "-"
        return f"{case.name}: outputs {', '.join(missing) or '-'} missing, {shown} unexpected"
    for key in want:
        msg = _compare(case.name, key, got[key], want[key], tol, hidden)
        if msg:
            return msg
    return ""


def score_exercise(cases: list[Case], got_dir: Path | Mapping[str, Path], want: list[dict],
                   tol: float) -> Verdict:
    """All cases must pass; the verdict names the first failing case and how it failed.

    ``got_dir`` is the output folder of each run (``{"public": dir, "hidden": dir}``, each run's
    cases numbered from 0 in case order, see ``cases.run_cases``), or one folder that holds every
    case. A case whose run is not given fails as not run. Whatever goes wrong reading a case's
    files fails that case, never the grader.
    """
    for case, (folder, j), expected in zip(cases, _locations(cases, got_dir), want, strict=True):
        if folder is None:
            return Verdict(False, f"{case.name}: not run", not_run=True)
        try:
            msg = _score_case(case, folder, j, expected, tol)
        except Exception:  # noqa: BLE001 - a file that defeats the checks costs its case only
            msg = f"{case.name}: outputs could not be read"
        if msg:
            return Verdict(False, msg)
    return Verdict(True, f"{len(cases)} cases passed")
