"""The autograded exercises of this course: what each grade id calls, how, and on which cases.

Format (read by the grader and, by path, by ``harness.py`` inside the sandbox; numpy only)::

    EXERCISES[grade_id] = {
        "calls": ["pkg.module:function", ...],   # the Layer A functions the driver uses
        "driver": driver(fn, case) -> {name: array},   # fn.<function>; case: {name: array}
        "public": cases(rng) -> [(label, case)],        # drawn from a fixed seed
        "hidden": cases(rng) -> [(label, case)],        # drawn from the instructor's secret
        "tol": relative error allowed on every output,
    }

Points come from the notebooks' test cells. A driver is shared code: the grader runs it on the
student's functions (in the sandbox) and on the course source's (outside) and compares. So a
driver only calls and records; it never computes an answer itself. Inputs a function must not
modify are returned as outputs (``in.<name>``), so a student who writes into them loses the case.
Labels are shown to students: they describe a case's shape, never its values.

One module per notebook group, in course order, so the spec of an exercise sits beside the
others of its notebook and each file stays readable: ``sequences`` (00, 01), ``gradients``
(05-07), ``lstm`` (08); ``common`` holds what they share. This file is the table: grade id ->
spec. The grader loads this package by path (``harness.load_spec``), in the sandbox too, so the
modules import only numpy and each other (relatively).
"""

from __future__ import annotations

from .gradients import (
    drive_clip_grad_norm,
    drive_jacobian_product,
    drive_truncated_bptt,
    hidden_clip_grad_norm,
    hidden_jacobian_product,
    hidden_truncated_bptt,
    public_clip_grad_norm,
    public_jacobian_product,
    public_truncated_bptt,
)
from .lstm import drive_lstm_step_backward, drive_lstm_step_forward, hidden_lstm, public_lstm
from .sequences import (
    drive_rnn_sequence,
    drive_rnn_step,
    drive_temporal_softmax_loss,
    drive_word_embedding_backward,
    hidden_rnn_sequence,
    hidden_rnn_step,
    hidden_temporal_softmax_loss,
    hidden_word_embedding_backward,
    public_rnn_sequence,
    public_rnn_step,
    public_temporal_softmax_loss,
    public_word_embedding_backward,
)


def _spec(calls, driver, public, hidden, tol=1e-7):
    return {"calls": calls, "driver": driver, "public": public, "hidden": hidden, "tol": tol}


EXERCISES = {
    "test_rnn_step": _spec(
        ["rnn_core.rnn:rnn_step_forward", "rnn_core.rnn:rnn_step_backward"],
        drive_rnn_step, public_rnn_step, hidden_rnn_step,
    ),
    "test_rnn_sequence": _spec(
        ["rnn_core.rnn:rnn_forward", "rnn_core.rnn:rnn_backward"],
        drive_rnn_sequence, public_rnn_sequence, hidden_rnn_sequence,
    ),
    "test_word_embedding_backward": _spec(
        ["rnn_core.layers:word_embedding_forward", "rnn_core.layers:word_embedding_backward"],
        drive_word_embedding_backward, public_word_embedding_backward,
        hidden_word_embedding_backward,
    ),
    "test_temporal_softmax_loss": _spec(
        ["rnn_core.layers:temporal_softmax_loss"],
        drive_temporal_softmax_loss, public_temporal_softmax_loss, hidden_temporal_softmax_loss,
    ),
    "test_truncated_bptt": _spec(
        ["rnn_core.train:tbptt_pass"],
        drive_truncated_bptt, public_truncated_bptt, hidden_truncated_bptt,
    ),
    "test_jacobian_product": _spec(
        ["rnn_core.analysis.jacobians:jacobians_along", "rnn_core.analysis.lyapunov:qr_step"],
        drive_jacobian_product, public_jacobian_product, hidden_jacobian_product,
    ),
    "test_clip_grad_norm": _spec(
        ["rnn_core.clipping:clip_grad_norm"],
        drive_clip_grad_norm, public_clip_grad_norm, hidden_clip_grad_norm,
    ),
    "test_lstm_step_forward": _spec(
        ["rnn_core.lstm:lstm_step_forward"], drive_lstm_step_forward, public_lstm, hidden_lstm,
    ),
    "test_lstm_step_backward": _spec(
        ["rnn_core.lstm:lstm_step_forward", "rnn_core.lstm:lstm_step_backward"],
        drive_lstm_step_backward, public_lstm, hidden_lstm,
    ),
}
