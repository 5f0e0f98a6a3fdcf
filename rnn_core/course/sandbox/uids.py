"""Who a run is on the host: a uid of its own, and the rw folders lent to it."""

from __future__ import annotations

import os
import subprocess
import threading

# Host uids/gids the command runs as when the grader is root: one per run at a time, far above
# any account. A grader process starts at an offset of its own, so two graders rarely meet.
SANDBOX_UIDS = range(1_800_000_000, 1_800_100_000)


class UidPool:
    """Hands out uids not in use by another run of this process."""

    def __init__(self, uids: range):
        self.uids, self.busy, self.lock = uids, set(), threading.Lock()

    def take(self) -> int:
        with self.lock:
            start = (os.getpid() * 1009) % len(self.uids)
            for i in range(len(self.uids)):
                uid = self.uids[(start + i) % len(self.uids)]
                if uid not in self.busy:
                    self.busy.add(uid)
                    return uid
        raise RuntimeError("Sandbox: every sandbox uid is in use")

    def give(self, uid: int | None) -> None:
        with self.lock:
            self.busy.discard(uid)


POOL = UidPool(SANDBOX_UIDS)


def hand_over(folders: list[str], uid: int | None) -> dict[str, tuple[int, int]]:
    """Give directly bound rw folders to the run's uid; return their owners to restore."""
    owners = {}
    if uid is not None:
        for host in folders:
            st = os.stat(host)
            owners[host] = (st.st_uid, st.st_gid)
            os.chown(host, uid, uid)
    return owners


def hand_back(owners: dict[str, tuple[int, int]]) -> None:
    """Give directly bound rw folders, and all in them, back (links themselves, not followed).

    ``chown -hR`` rather than a walk here: a run may have nested folders thousands deep.
    """
    for host, (uid, gid) in owners.items():
        subprocess.run(["chown", "-hR", f"{uid}:{gid}", "--", host], capture_output=True)
        os.chown(host, uid, gid)
