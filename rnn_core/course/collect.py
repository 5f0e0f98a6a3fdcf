"""Stage 1, collect: a submission (folder or zip) into a private working copy, and its answers.

Accepted layouts: the release's (notebooks at the top level beside the package, what ``submit``
zips as ``<student>.zip``) and the source's (``notebooks/NN_*.ipynb``). Only the course's package
folders and its notebooks are copied; symlinks, special files, ``..`` and absolute names are
refused, and size and file count are capped (a zip bomb stops at the cap, not in memory).
Written answers are read from the notebooks' JSON as text by grade id: never executed.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = ["Caps", "Submission", "blank_answers", "collect", "exchange_files", "find_submissions",
           "inbound_links", "written_answers"]


@dataclass(frozen=True)
class Caps:
    files: int = 2000
    total_bytes: int = 50 * 2**20
    file_bytes: int = 10 * 2**20
    entries: int = 20000
    """entries of a zip or files of a folder in all, those grading skips included: a zip's
    directory is read into memory whole (1.5 million empty entries took 0.9 GB), so a zip that
    declares more is refused before it is opened"""


_DIRECTORY_BYTES_PER_ENTRY = 400
"""a zip's directory may hold this many bytes per allowed entry (46 plus the name, ~80 here)"""


def _zip_too_big(src: Path, caps: Caps) -> str | None:
    """Why a zip's directory is too large to read, from its end record alone (the entries it
    declares, and the directory's size, which bounds what zipfile reads even if the count lies),
    or None; None also when the record cannot be read here (zipfile then says what is wrong)."""
    try:
        with open(src, "rb") as f:
            end = zipfile._EndRecData(f)  # type: ignore[attr-defined]
    except (OSError, AttributeError):
        return None
    if not end:
        return None
    entries, size = int(end[4]), int(end[5])  # _ECD_ENTRIES_TOTAL, _ECD_SIZE
    if entries > caps.entries:
        return f"more than {caps.entries} entries in the zip ({entries})"
    limit = caps.entries * _DIRECTORY_BYTES_PER_ENTRY
    if size > limit:
        return f"the zip's directory is larger than {limit} bytes"
    return None


@dataclass
class Submission:
    root: Path
    """the private working copy: package folders and ``notebooks/``"""
    notebooks: dict[str, Path] = field(default_factory=dict)
    """source notebook path (``notebooks/01_x.ipynb``) -> copy, for those handed in"""
    refused: list[str] = field(default_factory=list)
    """what was left out, and why (shown to the instructor and the student)"""


class _Budget:
    def __init__(self, caps: Caps):
        self.caps, self.files, self.bytes = caps, 0, 0

    def take(self, name: str, size: int) -> None:
        self.files += 1
        self.bytes += size
        if self.files > self.caps.files:
            raise ValueError(f"more than {self.caps.files} files")
        if size > self.caps.file_bytes:
            raise ValueError(f"{name}: larger than {self.caps.file_bytes // 2**20} MiB")
        if self.bytes > self.caps.total_bytes:
            raise ValueError(f"more than {self.caps.total_bytes // 2**20} MiB in all")


def _safe_rel(name: str) -> PurePosixPath | None:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts or ":" in p.parts[0]:
        return None
    return p


def _entries_dir(src: Path):
    """(relative name, opener, size) for the regular files of a folder; never follows links."""
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        for name in dirnames:  # a link to a folder is listed here, and never entered
            if (Path(dirpath) / name).is_symlink():
                yield (Path(dirpath) / name).relative_to(src).as_posix(), None, 0
        for name in filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            rel = path.relative_to(src).as_posix()
            if not stat.S_ISREG(st.st_mode):
                yield rel, None, 0
                continue
            yield rel, (lambda p=path: open(p, "rb")), st.st_size


def _entries_zip(zf: zipfile.ZipFile):
    for info in zf.infolist():
        if info.is_dir():
            continue
        mode = info.external_attr >> 16
        if stat.S_IFMT(mode) and not stat.S_ISREG(mode):  # a symlink, device, fifo
            yield info.filename, None, 0
            continue
        yield info.filename, (lambda i=info: zf.open(i)), info.file_size


def _wanted(rel: PurePosixPath, packages: list[str], notebooks: set[str]) -> str | None:
    """Where a file goes in the working copy (source layout), or None when not needed."""
    posix = rel.as_posix()
    if any(part in ("__pycache__", ".ipynb_checkpoints") for part in rel.parts):
        return None
    if any(posix.startswith(pkg.rstrip("/") + "/") for pkg in packages) and rel.suffix == ".py":
        return posix
    if posix in notebooks:
        return posix
    if len(rel.parts) == 1 and rel.suffix == ".ipynb":  # release layout
        for nb in notebooks:
            if PurePosixPath(nb).name == rel.name:
                return nb
    return None


def collect(src: Path, work: Path, packages: list[str], notebooks: list[str],
            caps: Caps = Caps()) -> Submission:
    """Copy what grading needs from a submission folder or zip into ``work`` (created)."""
    work.mkdir(parents=True)
    work.chmod(0o755)  # the sandbox user reads it; the grader's temp folder above stays private
    sub = Submission(work)
    budget = _Budget(caps)
    wanted = set(notebooks)
    too_big = _zip_too_big(src, caps) if src.is_file() else None
    if too_big:
        raise ValueError(too_big)
    zf = zipfile.ZipFile(src) if src.is_file() else None
    try:
        entries = _entries_zip(zf) if zf else _entries_dir(src)
        for seen, (name, opener, size) in enumerate(entries, 1):
            if seen > caps.entries:
                raise ValueError(f"more than {caps.entries} entries in the submission")
            rel = _safe_rel(name)
            if rel is None:
                sub.refused.append(f"{name}: path outside the submission")
                continue
            dest = _wanted(rel, packages, wanted)
            if dest is None:
                continue
            if opener is None:
                sub.refused.append(f"{name}: not a regular file (symlink or special file)")
                continue
            budget.take(name, size)
            target = work / dest
            target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            _copy_capped(opener, target, caps.file_bytes, name)
            target.chmod(0o644)
            if dest in wanted:
                sub.notebooks[dest] = target
    finally:
        if zf:
            zf.close()
    return sub


def _copy_capped(opener, target: Path, cap: int, name: str) -> None:
    """Copy at most ``cap`` bytes: a zip entry may decompress to more than it declares."""
    written = 0
    with opener() as fin, open(target, "wb") as fout:
        while chunk := fin.read(1 << 16):
            written += len(chunk)
            if written > cap:
                raise ValueError(f"{name}: larger than {cap // 2**20} MiB")
            fout.write(chunk)


def written_answers(nb_path: Path, grade_ids: set[str]) -> dict[str, str]:
    """The text of each manually graded cell (by grade id) of a notebook's JSON; '' if absent."""
    try:
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        cells = nb.get("cells", []) if isinstance(nb, dict) else []
    except (OSError, ValueError):
        cells = []
    found = {}
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
        gid = meta.get("grade_id") if isinstance(meta, dict) else None
        if gid in grade_ids:
            src = cell.get("source", "")
            found[gid] = "".join(src) if isinstance(src, list) else str(src)
    return {g: found.get(g, "") for g in grade_ids}


def find_submissions(subs: Path, students: Sequence[str] | None) -> dict[str, Path]:
    """Student name -> folder or ``<student>.zip`` (a folder wins over a zip of that name).

    An entry that is a symbolic link stays that student's entry; ``grade_student`` refuses it
    (status ``error``, the message names the link) without following it.
    """
    found = {p.name: p for p in subs.iterdir() if p.is_dir() and not p.name.startswith(".")}
    found |= {p.stem: p for p in subs.glob("*.zip")
              if p.is_file() and p.stem not in found and not p.stem.startswith(".")}
    if students is not None:
        unknown = sorted(set(students) - set(found))
        if unknown:
            raise FileNotFoundError(f"grade: no submission for {', '.join(unknown)} in {subs}")
        found = {k: v for k, v in found.items() if k in set(students)}
    return dict(sorted(found.items()))


def blank_answers(root: Path, manual: list[Any]) -> dict[str, str]:
    """Each written answer's text as the release hands it out: sent back unchanged = unanswered."""
    from rnn_core.course.release import read_notebook, student_version

    blank: dict[str, str] = {}
    for rel in sorted({m.notebook for m in manual}):
        nb = student_version(read_notebook(root / rel, rel), rel)
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in {m.grade_id for m in manual}:
                blank[gid] = cell.source.strip()
    return blank


_EXCHANGE = {"timestamp.txt": r"[0-9A-Za-z :.+\-]{1,64}",
             "submission_secret.txt": r"[0-9a-f]{1,256}"}


def inbound_links(inbound: Path, student: str, assignment: str) -> list[str]:
    """Symbolic links inside the student's ``<student>+<assignment>+...`` folders of nbgrader's
    inbound (never followed), as paths relative to ``inbound``.

    ``nbgrader collect`` copies a link's target, with the collecting user's rights: a link to the
    course source arrives in the collected submission as the instructor's own solutions. So a
    student whose inbound holds a link is not graded (``grade_student``)."""
    found = []
    for d in sorted(inbound.glob(f"{student}+{assignment}+*")):
        if d.name.split("+")[0] != student:
            continue
        if d.is_symlink():
            found.append(d.name)
            continue
        for dirpath, dirnames, filenames in os.walk(d, followlinks=False):
            for name in (*dirnames, *filenames):
                if os.path.islink(os.path.join(dirpath, name)):
                    found.append(os.path.relpath(os.path.join(dirpath, name), inbound))
    return found


def exchange_files(src: Path) -> dict[str, str]:
    """nbgrader's routing files of a collected submission folder, if well formed.

    The student's ``nbgrader submit`` writes them, so each must be a small regular file of the
    expected characters; they only route feedback back to the same student, never count as time.
    """
    import re

    found = {}
    for name, pattern in _EXCHANGE.items():
        path = src / name
        try:
            st = path.lstat()
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_size <= 512:
            text = path.read_text(encoding="utf-8", errors="replace").strip()
            if re.fullmatch(pattern, text):
                found[name] = text
    return found
