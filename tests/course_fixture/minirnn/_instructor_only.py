"""Excluded from the release by course.toml (proves `exclude` works)."""

ANSWER_KEY = "instructor notes: dw is the sum of da * h over the batch"
