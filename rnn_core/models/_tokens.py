"""The special token ids the decoders share (<NULL> padding, <START>, <END>)."""

from __future__ import annotations

from rnn_core._validate import check_int


def check_special_ids(
    fn: str, vocab_name: str, vocab_size: int, null_id: int, start_id: int, end_id: int
) -> tuple[int, int, int]:
    """Check that the three ids are distinct integers in ``[0, vocab_size)``; return them.

    ``vocab_name`` names the size argument in the message (e.g. "tgt_vocab_size").
    """
    ids = {"null_id": null_id, "start_id": start_id, "end_id": end_id}
    for k, v in ids.items():
        if check_int(fn, k, v, minimum=0) >= vocab_size:
            raise ValueError(f"{fn}: {k} must be < {vocab_name}={vocab_size}, got {v}")
    if len(set(ids.values())) != 3:
        raise ValueError(f"{fn}: null_id, start_id and end_id must differ, got {ids}")
    return int(null_id), int(start_id), int(end_id)
