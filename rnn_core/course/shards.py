"""A class on many machines: ``grade --shard K/N`` grades one part, ``merge`` joins the parts.

A student belongs to shard ``1 + sha256(student) mod N``: the split depends on the name only,
not on the order or the number of submissions a machine sees, so every machine of a batch engine
(a Slurm job array, a Kubernetes Indexed Job, a CI matrix) agrees without talking to the others.
Each shard's results folder holds a ``shard.json`` (its K/N, its students, the grader's version
and a hash of the secret: shards graded with different hidden cases must not be merged). ``merge``
refuses a missing shard, a shard given twice, a student in two shards and mixed versions or
secrets; it copies the per-student results into the merged folder and rebuilds grades.csv and the
feedback there (:func:`report.publish`), keeping the merged folder's written-answer scores and
adding those recorded in the shards.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

__all__ = ["SHARD_FILE", "merge", "parse_shard", "shard_of", "write_shard_file"]

SHARD_FILE = "shard.json"


def parse_shard(spec: str) -> tuple[int, int]:
    """``"K/N"`` with 1 <= K <= N -> (K, N); anything else is an error naming --shard."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(spec))
    if not m:
        raise ValueError(f"--shard must be K/N with whole numbers (e.g. 2/8), got {spec!r}")
    k, n = int(m[1]), int(m[2])
    if not 1 <= k <= n:
        raise ValueError(f"--shard K/N needs 1 <= K <= N (shards count from 1), got {spec!r}")
    return k, n


def shard_of(student: str, n: int) -> int:
    """The shard (1..n) a student belongs to."""
    digest = hashlib.sha256(student.encode("utf-8")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % n


def secret_hash(secret: str) -> str:
    return hashlib.sha256(("rnn-course shard\0" + secret).encode()).hexdigest()[:16]


def write_shard_file(out: Path, k: int, n: int, students: list[str], version: str,
                     secret: str) -> None:
    info = {"shard": [k, n], "students": sorted(students), "version": version,
            "secret": secret_hash(secret)}
    (out / SHARD_FILE).write_text(json.dumps(info, indent=1), encoding="utf-8")


def merge(shards: list[str | Path], out: str | Path) -> list[str]:
    """Join shard results folders into ``out``; returns the students merged."""
    from rnn_core.course.report import publish
    from rnn_core.course.written import read_store, save_store

    out = Path(out)
    infos: dict[int, tuple[Path, dict]] = {}
    n_seen: set[int] = set()
    for d in map(Path, shards):
        f = d / SHARD_FILE
        if not f.is_file():
            raise ValueError(f"merge: {d} has no {SHARD_FILE} (not graded with --shard)")
        info = json.loads(f.read_text(encoding="utf-8"))
        k, n = info["shard"]
        n_seen.add(n)
        if k in infos:
            raise ValueError(f"merge: shard {k}/{n} given twice ({infos[k][0]} and {d})")
        infos[k] = (d, info)
    if len(n_seen) != 1:
        raise ValueError(f"merge: shards of different splits N = {sorted(n_seen)}")
    (n,) = n_seen
    missing = sorted(set(range(1, n + 1)) - set(infos))
    if missing:
        raise ValueError(f"merge: shard(s) {', '.join(f'{k}/{n}' for k in missing)} missing")
    for what in ("version", "secret"):
        values = {info[what] for _, info in infos.values()}
        if len(values) != 1:
            raise ValueError(f"merge: shards graded with different {what}s: refusing to mix them")
    owner: dict[str, int] = {}
    for k, (_, info) in sorted(infos.items()):
        for s in info["students"]:
            if s in owner:
                raise ValueError(f"merge: {s} is in shard {owner[s]}/{n} and shard {k}/{n}")
            owner[s] = k
    out.mkdir(parents=True, exist_ok=True)
    scores = read_store(out)
    for k, (d, info) in sorted(infos.items()):
        for key, s in read_store(d).items():
            if key in scores and scores[key] != s:
                raise ValueError(f"merge: shard {k}/{n} has another written score for "
                                 f"{s.student}, {s.question} than {out}")
            scores[key] = s
        for s in info["students"]:
            src = d / s / "result.json"
            if not src.is_file():
                raise ValueError(f"merge: shard {k}/{n} lists {s} but has no {src}")
            (out / s).mkdir(exist_ok=True)
            shutil.copyfile(src, out / s / "result.json")
    for stale in out.glob("*/result.json"):
        if stale.parent.name not in owner:
            stale.unlink()
    if scores:
        save_store(out, scores)
    publish(out)
    return sorted(owner)
