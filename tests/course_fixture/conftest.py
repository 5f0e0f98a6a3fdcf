"""The fixture course is data for tests/test_course.py, not tests: never collect it (its
notebooks need their own package on sys.path, which only the grader provides)."""

collect_ignore_glob = ["*"]
