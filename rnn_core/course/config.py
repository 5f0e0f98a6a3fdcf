"""Which notebooks and which package files make up the course.

A course source folder may hold a ``course.toml``; without one the defaults below describe this
repository (``notebooks/NN_*.ipynb`` and the ``rnn_core`` package). Every path is relative to the
source folder, and the release and the student submissions use the same layout.

Example ``course.toml``::

    notebooks = ["notebooks/[0-9][0-9]_*.ipynb"]   # graded notebooks (globs)
    packages = ["rnn_core"]                       # package folders the students complete
    extra_files = ["pyproject.toml", "README.md"] # copied into the release as they are
    exclude = ["rnn_core/course/grade.py"]        # never shipped (globs)
    exercises = "rnn_core/course/exercises"       # the exercises' specs: a file or package
    timeout = 60                                  # wall time per exercise when grading (s)
    memory_bytes = 4294967296                     # per sandboxed run (memory of all processes)
    pids = 256                                    # per sandboxed run (processes and threads)
    output_bytes = 2000000                        # per run: stdout + stderr, and files written
    late_penalty = 0                              # percent off per started day late (0: none)

    [deadline]                                    # per assignment (grade --assignment, or
    course = 2026-12-14T23:59:00+01:00            # "course"); a time zone is required
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path

__all__ = ["CourseConfig", "load_config", "CONFIG_FILE"]

CONFIG_FILE = "course.toml"


@dataclass
class CourseConfig:
    """The parts of a course source folder that the release and the grader use."""

    notebooks: list[str] = field(default_factory=lambda: ["notebooks/[0-9][0-9]_*.ipynb"])
    """globs of the graded notebooks, relative to the source folder"""
    packages: list[str] = field(default_factory=lambda: ["rnn_core"])
    """package folders copied into the release, marked regions stubbed; their parent folder
    goes first on the grading kernel's sys.path"""
    extra_files: list[str] = field(default_factory=lambda: ["pyproject.toml", "README.md"])
    """further files (globs) copied unchanged when they exist"""
    exclude: list[str] = field(default_factory=lambda: ["rnn_core/_kernels/*"])
    """globs never shipped (``__pycache__`` and ``*.pyc`` are always left out); by default the
    instructor-only tuned kernels, whose loops the students' step functions replace"""
    exercises: str = "rnn_core/course/exercises"
    """the exercise specs the grader uses (drivers, cases, tolerances), relative to the source:
    a ``.py`` file, or a package folder whose ``__init__.py`` holds the ``EXERCISES`` table"""
    timeout: float = 60.0
    """time limit per exercise when grading, in seconds (a student's function may loop forever)"""
    memory_bytes: int = 4 * 2**30
    """memory limit of one sandboxed run (all its processes together)"""
    pids: int = 256
    """process limit of one sandboxed run (threads count: BLAS pools, numpy's workers)"""
    output_bytes: int = 2_000_000
    """stdout plus stderr of one run, and separately the bytes it writes to its output folder"""
    release_url: str = ""
    """where the built student release (``rnn-course release --zip``) is published, e.g. a
    GitHub release asset; the notebooks' set-up cell installs it on Colab (never the source)"""
    deadline: dict[str, datetime] = field(default_factory=dict)
    """assignment name -> deadline (a TOML date-time with a time zone); ``course`` is the
    assignment name when grading without ``--assignment``"""
    late_penalty: float = 0.0
    """percent of the points taken off per started day after the deadline; 0 (the default):
    lateness is reported in the ``late`` column and nothing is taken off"""
    colab_url: str = ""
    """prefix of the "Open in Colab" links: the notebook's file name is appended, e.g.
    ``https://colab.research.google.com/github/ORG/REPO/blob/main/``"""

    def __post_init__(self) -> None:
        for name in ("notebooks", "packages", "extra_files", "exclude"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise TypeError(f"CourseConfig: {name} must be a list of strings, got {value!r}")
            setattr(self, name, list(value))
        for p in self.packages:
            if Path(p).is_absolute() or ".." in Path(p).parts:
                raise ValueError(f"CourseConfig: packages must be relative folders, got {p!r}")
        if not self.notebooks:
            raise ValueError("CourseConfig: notebooks must name at least one glob")
        if not float(self.timeout) > 0:
            raise ValueError(f"CourseConfig: timeout must be > 0 seconds, got {self.timeout!r}")
        self.timeout = float(self.timeout)
        if not isinstance(self.deadline, dict) or not all(
            isinstance(t, datetime) and t.tzinfo is not None for t in self.deadline.values()
        ):
            raise ValueError("CourseConfig: deadline must be a table of assignment = date-time "
                             f"with a time zone (2026-12-14T23:59:00+01:00), got {self.deadline!r}")
        if not 0 <= float(self.late_penalty) <= 100:
            raise ValueError("CourseConfig: late_penalty must be a percent per day in [0, 100], "
                             f"got {self.late_penalty!r}")
        self.late_penalty = float(self.late_penalty)
        for name in ("release_url", "colab_url"):
            url = getattr(self, name)
            if not isinstance(url, str) or (url and not url.startswith("https://")):
                raise ValueError(
                    f"CourseConfig: {name} must be an https:// URL or empty, got {url!r}"
                )

    def notebook_paths(self, root: Path) -> list[Path]:
        """The graded notebooks under ``root`` (sorted, relative to it)."""
        found: set[Path] = set()
        for pattern in self.notebooks:
            found.update(p.relative_to(root) for p in root.glob(pattern) if p.is_file())
        return sorted(p for p in found if ".ipynb_checkpoints" not in p.parts)


def load_config(source: str | Path, **overrides: object) -> CourseConfig:
    """Read ``SOURCE/course.toml`` (defaults when absent) and apply non-None overrides."""
    root = Path(source)
    values: dict[str, object] = {}
    cfg_file = root / CONFIG_FILE
    if cfg_file.is_file():
        with cfg_file.open("rb") as f:
            values = tomllib.load(f)
    known = {f.name for f in fields(CourseConfig)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(
            f"load_config: unknown key(s) {', '.join(sorted(unknown))} in {cfg_file}; "
            f"known: {', '.join(sorted(known))}"
        )
    values.update({k: v for k, v in overrides.items() if v is not None})
    return CourseConfig(**values)  # type: ignore[arg-type]
