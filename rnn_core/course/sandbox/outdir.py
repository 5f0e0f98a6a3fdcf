"""Writable folders with a hard size cap: a private tmpfs per run, mirrored back afterwards.

A writable bind of a host folder would let a run fill the host's disk until its wall time ends
(``RLIMIT_FSIZE`` caps single files only). So, where the grader may mount (as root), each ``rw``
folder is staged: its regular files are copied into a fresh tmpfs of ``output_bytes`` plus
:data:`SLACK` (and a bounded number of inodes), the tmpfs is what the sandbox sees, and when the
run is over the host folder is made equal to it: regular files and folders only, never a
symlink, FIFO or device, and never following one. More than ``output_bytes`` in files, or a full
tmpfs, counts as exceeding the cap. Without mount rights the host folder is bound directly and
the cap is checked after the run instead (``Stage.direct``).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile

# A run's output is a handful of .npz files and JSON statuses.
MAX_INODES = 4096
# Staging folders are named PREFIX<grader pid>-..., so a later grader can tell a dead one's.
PREFIX = "sandbox-rw-"
# Output folders of a run are flat; deeper levels are neither copied back nor walked.
MAX_DEPTH = 16
# Room above the cap, so that a run stopped by RLIMIT_FSIZE on one big file can still write its
# small status files (and the grader can tell the two apart), and for page rounding.
SLACK = 64 * 1024


class Stage:
    """One rw folder's tmpfs (or, if ``direct``, the host folder itself)."""

    def __init__(self, host: str, size: int, uid: int | None):
        self.host, self.size, self.direct = host, size, True
        self.path = host
        if os.geteuid() != 0 or shutil.which("mount") is None:
            return
        staging = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
        opts = f"size={size + SLACK},nr_inodes={MAX_INODES},mode=0755"
        if uid is not None:
            opts += f",uid={uid},gid={uid}"
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", staging],
                           capture_output=True)
        if r.returncode != 0:
            os.rmdir(staging)
            return
        self.path, self.direct = staging, False
        _mirror(host, staging, uid)

    def full(self) -> bool:
        """Whether the run wrote more than the cap, nested folders deeper than
        :data:`MAX_DEPTH`, or used up the tmpfs (bytes or inodes)."""
        size, deep = tree_bytes(self.path)
        if size > self.size or deep:
            return True
        if self.direct:
            return False
        st = os.statvfs(self.path)
        return st.f_bavail == 0 or st.f_favail == 0

    def close(self) -> None:
        """Mirror the tmpfs back into the host folder, unmount and remove it."""
        if self.direct:
            return
        try:
            # Sparse files take no room in the tmpfs but would on the host: copy back no more
            # bytes than the tmpfs could hold.
            _mirror(self.path, self.host, None, budget=self.size + SLACK)
        finally:
            subprocess.run(["umount", "-l", self.path], capture_output=True)
            try:
                os.rmdir(self.path)
            except OSError:
                pass


def sweep() -> list[str]:
    """Unmount and remove staging tmpfs left by graders that died; return their paths."""
    removed = []
    try:
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4] for line in f]
    except OSError:
        return removed
    for point in points:
        name = os.path.basename(point)
        if not name.startswith(PREFIX):
            continue
        pid = name[len(PREFIX):].split("-")[0]
        if not pid.isdigit() or os.path.exists(f"/proc/{pid}"):
            continue
        if subprocess.run(["umount", "-l", point], capture_output=True).returncode == 0:
            try:
                os.rmdir(point)
            except OSError:
                pass
            removed.append(point)
    return removed


def _walk(root: str):
    """``os.walk(root)`` that does not descend below :data:`MAX_DEPTH` levels.

    A run can nest folders thousands deep; walking them would exhaust the recursion of
    ``os.walk``, and crash the grader with it. Yields ``(folder, dirs, files, cut)``, ``cut``
    being true where subfolders were left out.
    """
    base = root.rstrip(os.sep).count(os.sep)
    for folder, dirs, files in os.walk(root):
        cut = folder.count(os.sep) - base >= MAX_DEPTH and bool(dirs)
        if cut:
            dirs[:] = []
        yield folder, dirs, files, cut


def _mirror(src: str, dst: str, uid: int | None, budget: int | None = None) -> None:
    """Make ``dst`` hold exactly ``src``'s regular files and folders (no link followed).

    New entries in ``dst`` belong to ``uid`` (when given) or to the caller. With a ``budget``,
    files are copied while their bytes fit in it; the rest are left out, as is what lies
    below :data:`MAX_DEPTH` levels or cannot be read.
    """
    keep = set()
    for folder, dirs, files, _cut in _walk(src):
        rel = os.path.relpath(folder, src)
        target = dst if rel == "." else os.path.join(dst, rel)
        for name in list(dirs):
            s, d = os.path.join(folder, name), os.path.join(target, name)
            try:
                if not stat.S_ISDIR(os.lstat(s).st_mode):  # a link to a folder: not followed
                    dirs.remove(name)
                    continue
                if os.path.islink(d) or os.path.lexists(d) and not os.path.isdir(d):
                    os.unlink(d)
                os.makedirs(d, exist_ok=True)
                _own(d, uid)
                keep.add(os.path.normpath(d))
            except OSError:
                dirs.remove(name)
        for name in files:
            s, d = os.path.join(folder, name), os.path.join(target, name)
            try:
                st = os.lstat(s)
                if not stat.S_ISREG(st.st_mode):
                    continue
                if budget is not None:
                    if st.st_size > budget:
                        continue
                    budget -= st.st_size
                if os.path.lexists(d) and (os.path.islink(d) or not os.path.isfile(d)):
                    _remove(d)
                fd = os.open(s, os.O_RDONLY | os.O_NOFOLLOW)
                with os.fdopen(fd, "rb") as fin, open(d, "wb") as fout:
                    shutil.copyfileobj(fin, fout)
                _own(d, uid)
                keep.add(os.path.normpath(d))
            except OSError:
                pass
    # what the run deleted or never had goes too (deepest first)
    for folder, dirs, files in os.walk(dst, topdown=False):
        for name in files + dirs:
            p = os.path.normpath(os.path.join(folder, name))
            if p not in keep:
                _remove(p)


def _own(path: str, uid: int | None) -> None:
    if uid is not None:
        os.lchown(path, uid, uid)


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def tree_bytes(root: str) -> tuple[int, bool]:
    """Bytes of the regular files under ``root`` (no link followed), and whether the tree
    goes deeper than :data:`MAX_DEPTH` (then only its first levels are counted)."""
    total, deep = 0, False
    for folder, _dirs, files, cut in _walk(root):
        deep = deep or cut
        for f in files:
            try:
                total += os.lstat(os.path.join(folder, f)).st_size
            except OSError:
                pass
    return total, deep
