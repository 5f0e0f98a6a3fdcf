"""Course tooling: the student release (on nbgrader) and the autograder (a harness, D2).

``python -m rnn_core.course release SRC OUT`` and
``python -m rnn_core.course grade SUBMISSIONS --source SRC --out RESULTS``; see
``docs/instructors.md``; the grader's stages are listed in :mod:`rnn_core.course.grade`.
Notebook authors use :mod:`rnn_core.checks` (self-checks with hints) and
:mod:`rnn_core.course.markers` (exercise markers, nbgrader cell metadata).

Importing this package needs the standard library only; nbgrader and the Jupyter machinery are
imported inside the functions that use them.
"""

from rnn_core.course.config import CourseConfig, load_config

__all__ = ["CourseConfig", "load_config"]
