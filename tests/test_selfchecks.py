"""The notebooks' self-check cells: pass on the reference, fail with an actionable message on a
planted bug, show the stub's message in a student release, and hold no copy of the answer.

Each graded test cell is run as it stands in its notebook (its code, in a fresh namespace with
``np``), with numpy's RuntimeWarnings as errors (notebook 07 runs that way).
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import re
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import rnn_core
from rnn_core import checks, clipping, layers, lstm, rnn

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

# grade id -> (notebook, Layer A functions it judges, file to open)
EXERCISES = {
    "test_rnn_step": ("00_sequence_patterns", ["rnn_step_forward", "rnn_step_backward"], "rnn.py"),
    "test_rnn_sequence": ("00_sequence_patterns", ["rnn_forward", "rnn_backward"], "rnn.py"),
    "test_word_embedding_backward": ("01_language_model", ["word_embedding_backward"], "layers.py"),
    "test_temporal_softmax_loss": ("01_language_model", ["temporal_softmax_loss"], "layers.py"),
    "test_clip_grad_norm": ("07_gradient_clipping", ["clip_grad_norm"], "clipping.py"),
    "test_lstm_step_forward": ("08_lstm", ["lstm_step_forward"], "lstm.py"),
    "test_lstm_step_backward": ("08_lstm", ["lstm_step_backward"], "lstm.py"),
}
MODULES = {"rnn.py": rnn, "layers.py": layers, "clipping.py": clipping, "lstm.py": lstm}
# what a self-check may import besides its own exercise's functions and rnn_core.checks: the
# Layer A functions an earlier self-check has judged, and library code that answers no exercise
MAY_ALSO_USE = {
    "test_rnn_sequence": {"rnn_step_forward"},
    "test_word_embedding_backward": {"word_embedding_forward"},
    "test_clip_grad_norm": {"global_norm"},
    "test_lstm_step_backward": {"lstm_step_forward"},
}


def _cells(notebook: str) -> list[dict]:
    return json.loads((NOTEBOOKS / f"{notebook}.ipynb").read_text())["cells"]


def cell_source(grade_id: str) -> str:
    notebook = EXERCISES[grade_id][0]
    found = [
        "".join(c["source"])
        for c in _cells(notebook)
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id
    ]
    assert len(found) == 1, f"{notebook}: {len(found)} cells with grade id {grade_id}"
    return found[0]


def exercise_box(grade_id: str) -> str:
    """The markdown cell that introduces the exercise: the last '### Exercise' before its test."""
    notebook, _, _ = EXERCISES[grade_id]
    box = None
    for c in _cells(notebook):
        if c["cell_type"] == "markdown" and "### Exercise" in "".join(c["source"]):
            box = "".join(c["source"])
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            break
    assert box is not None, f"{notebook}: no exercise box before {grade_id}"
    return box[box.rindex("### Exercise") :]


def run_cell(grade_id: str) -> str:
    """Run a self-check cell; return what it printed."""
    ns = {"np": np, "__name__": "__selfcheck__"}
    out = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(out):
        warnings.simplefilter("error", RuntimeWarning)
        exec(compile(cell_source(grade_id), f"<{grade_id}>", "exec"), ns)
    return out.getvalue()


def plant(monkeypatch: pytest.MonkeyPatch, name: str, fn) -> None:
    """Replace a Layer A function everywhere a self-check or the library can reach it."""
    for module in MODULES.values():
        if hasattr(module, name):
            monkeypatch.setattr(module, name, fn)
    monkeypatch.setattr(rnn_core, name, fn)


REF = {name: getattr(rnn_core, name) for ex in EXERCISES.values() for name in ex[1]}


# ---------------------------------------------------------------------------------------------
# the reference passes every self-check


@pytest.mark.parametrize("grade_id", list(EXERCISES))
def test_self_check_passes_on_the_reference(grade_id):
    assert "all checks passed" in run_cell(grade_id)


@pytest.mark.parametrize("grade_id", list(EXERCISES))
def test_self_check_holds_no_copy_of_the_answer(grade_id):
    """Stored numbers and properties only: no inline formula, no second implementation called."""
    src = cell_source(grade_id)
    imported = {
        alias.name
        for node in ast.walk(ast.parse(src))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    allowed = set(EXERCISES[grade_id][1]) | MAY_ALSO_USE.get(grade_id, set()) | set(checks.__all__)
    assert imported <= allowed, f"{grade_id} imports {sorted(imported - allowed)}"
    code = "\n".join(line.split("#")[0] for line in src.splitlines())  # comments may explain
    strings = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
    code = strings.sub('""', code)  # hints may quote the formulas in words
    for pattern in (r"np\.exp\(", r"sigmoid\(", r"np\.add\.at", r"np\.eye\(", r"@"):
        assert not re.search(pattern, code), f"{grade_id} computes {pattern!r} itself"
    assert "check_stored(" in code, f"{grade_id} compares with no stored numbers"


# ---------------------------------------------------------------------------------------------
# planted bugs: the self-check fails with a message that says what and where


def _rnn_step_backward_tanh_prime_wrong(dnext_h, cache):
    da = dnext_h * (1.0 - cache.next_h)  # should be 1 - next_h**2
    return da @ cache.Wx.T, da @ cache.Wh.T, cache.x.T @ da, cache.prev_h.T @ da, da.sum(axis=0)


def _rnn_forward_h0_every_step(x, h0, Wx, Wh, b):
    _, cache = REF["rnn_forward"](x, h0, Wx, Wh, b)
    h = np.stack([REF["rnn_step_forward"](x[:, t], h0, Wx, Wh, b)[0] for t in range(x.shape[1])], 1)
    return h, cache


def _rnn_backward_assigns_dWh(dh, cache):
    """The loop over step backward, with `dWh = ` where `dWh +=` belongs."""
    N, T1, H = cache.h_all.shape
    D = cache.Wx.shape[0]
    dx, dnext = np.zeros((N, T1 - 1, D)), np.zeros((N, H))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    for t in reversed(range(T1 - 1)):
        step = rnn.RNNStepCache(cache.x[:, t], cache.h_all[:, t], cache.Wx, cache.Wh,
                                cache.h_all[:, t + 1])
        dx[:, t], dnext, dWx_t, dWh_t, db_t = REF["rnn_step_backward"](dh[:, t] + dnext, step)
        dWx, db = dWx + dWx_t, db + db_t
        dWh = dWh_t
    return dx, dnext, dWx, dWh, db


def _embedding_buffered(dout, cache):
    dW = np.zeros((cache.V, cache.D))
    dW[cache.x] += dout  # each repeated row written once
    return dW


def _embedding_not_zeroed(dout, cache):
    dW = REF["word_embedding_backward"](dout, cache)
    absent = np.setdiff1d(np.arange(cache.V), cache.x)
    dW[absent] = 1.0  # np.empty leaves garbage there
    return dW


def _softmax_naive(x, y, mask):
    p = np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)
    N, T, _ = x.shape
    n, t = np.indices((N, T))
    ys = np.where(mask, y, 0)
    loss = -np.sum(np.log(p[n, t, ys]) * mask) / N
    dx = p.copy()
    dx[n, t, ys] -= 1
    return float(loss), dx * mask[..., None] / N


def _softmax_mean_over_steps(x, y, mask):
    loss, dx = REF["temporal_softmax_loss"](x, y, mask)
    scale = x.shape[0] / max(int(np.sum(mask)), 1)
    return loss * scale, dx * scale


def _softmax_dx_unmasked(x, y, mask):
    loss, dx = REF["temporal_softmax_loss"](x, y, mask)
    shifted = x - x.max(axis=-1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    return loss, np.where(mask[..., None], dx, p / x.shape[0])  # masked steps still get softmax/N


def _clip_returns_norm_after(grads, max_norm, eps=1e-6, error_if_nonfinite=False):
    REF["clip_grad_norm"](grads, max_norm, eps, error_if_nonfinite)
    return clipping.global_norm(grads)


def _clip_not_in_place(grads, max_norm, eps=1e-6, error_if_nonfinite=False):
    total = clipping.global_norm(grads)
    coef = min(1.0, max_norm / (total + eps))
    for k in grads:
        grads[k] = grads[k] * coef
    return total


def _clip_each_array(grads, max_norm, eps=1e-6, error_if_nonfinite=False):
    total = clipping.global_norm(grads)
    for g in grads.values():
        g *= min(1.0, max_norm / (np.linalg.norm(g) + eps))
    return total


def _clip_values(grads, max_norm, eps=1e-6, error_if_nonfinite=False):
    total = clipping.global_norm(grads)
    for g in grads.values():
        np.clip(g, -max_norm / 4, max_norm / 4, out=g)
    return total


def _clip_ignores_nonfinite(grads, max_norm, eps=1e-6, error_if_nonfinite=False):
    with np.errstate(invalid="ignore"):
        return REF["clip_grad_norm"](grads, max_norm, eps, False)


_SWAP_IF = np.r_[1, 0, 2, 3]  # gate blocks in the order f, i, o, g


def _swap_blocks(a, order=_SWAP_IF):
    H = a.shape[-1] // 4
    return np.concatenate([a[..., k * H : (k + 1) * H] for k in order], axis=-1)


def _lstm_forward_gates_swapped(x, prev_h, prev_c, Wx, Wh, b):
    return REF["lstm_step_forward"](x, prev_h, prev_c, _swap_blocks(Wx), _swap_blocks(Wh),
                                    _swap_blocks(b))


def _lstm_backward_gates_swapped(dnext_h, dnext_c, cache):
    """Consistent with _lstm_forward_gates_swapped: the gradients of that (wrong) forward."""
    dx, dph, dpc, dWx, dWh, db = REF["lstm_step_backward"](dnext_h, dnext_c, cache)
    return dx, dph, dpc, _swap_blocks(dWx), _swap_blocks(dWh), _swap_blocks(db)


def _lstm_forward_naive_sigmoid(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = (1 / (1 + np.exp(-a[:, k * H : (k + 1) * H])) for k in range(3))
    g = np.tanh(a[:, 3 * H :])
    c = f * prev_c + i * g
    h = o * np.tanh(c)
    return h, c, lstm.LSTMStepCache(x, prev_h, prev_c, Wx, Wh, i, f, o, g, c, np.tanh(c))


def _lstm_forward_no_tanh_c(x, prev_h, prev_c, Wx, Wh, b):
    h, c, cache = REF["lstm_step_forward"](x, prev_h, prev_c, Wx, Wh, b)
    return cache.o * c, c, cache


def _lstm_backward_dc_misses_h_route(dnext_h, dnext_c, cache):
    dx, dph, _, dWx, dWh, db = REF["lstm_step_backward"](dnext_h, dnext_c, cache)
    return dx, dph, dnext_c * cache.f, dWx, dWh, db


def _flip(index):
    def wrap(fn):
        def bad(*args, **kwargs):
            out = list(fn(*args, **kwargs))
            out[index] = -out[index]
            return tuple(out)

        return bad

    return wrap


# grade id, {function: wrong implementation}, regex the AssertionError message must match
BUGS = [
    ("test_rnn_step", {"rnn_step_forward": lambda x, h, Wx, Wh, b: REF["rnn_step_forward"](
        x, h, Wx, Wh, 0 * b)}, r"^next_h does not match the values stored .*next_h = tanh\("),
    ("test_rnn_step", {"rnn_step_forward": lambda x, h, Wx, Wh, b: REF["rnn_step_forward"](
        x, h, Wx, Wh.T, b)}, r"^next_h does not match the values stored"),
    ("test_rnn_step", {"rnn_step_backward": _flip(3)(rnn.rnn_step_backward)},
     r"^dWh is off by .*numeric gradient of your forward pass.*: prev_h\.T @ da$"),
    ("test_rnn_step", {"rnn_step_backward": _rnn_step_backward_tanh_prime_wrong},
     r"^dx is off by .*da = dnext_h \* \(1 - next_h\*\*2\)"),
    ("test_rnn_sequence", {"rnn_forward": _rnn_forward_h0_every_step},
     r"^h\[:, 1\] is off by .*step t must read h\[:, t-1\]"),
    ("test_rnn_sequence", {"rnn_backward": _rnn_backward_assigns_dWh},
     r"^dWh is off by .*accumulate dWx, dWh, db over ALL time steps"),
    ("test_rnn_sequence", {"rnn_backward": _flip(1)(rnn.rnn_backward)},
     r"^dh0 is off by .*dh0 is the dprev_h of the first step"),
    ("test_word_embedding_backward", {"word_embedding_backward": _embedding_buffered},
     r"^dW is off by .*SUM of its dout rows.*np\.add\.at"),
    ("test_word_embedding_backward", {"word_embedding_backward": _embedding_not_zeroed},
     r"^dW\[\[3, 5\]\] is off by .*never appear"),
    ("test_temporal_softmax_loss", {"temporal_softmax_loss": _softmax_naive},
     r"^temporal_softmax_loss with the scores times 400 overflowed or took log\(0\).*s - max\(s\)"),
    ("test_temporal_softmax_loss", {"temporal_softmax_loss": _softmax_mean_over_steps},
     r"^the loss of all-zero scores is off by .*average over the N sequences"),
    ("test_temporal_softmax_loss", {"temporal_softmax_loss": lambda x, y, m: (
        REF["temporal_softmax_loss"](x, y, m)[0], REF["temporal_softmax_loss"](x, y, m)[1][m])},
     r"^dx has shape \(\d+, 7\) but should have shape \(4, 5, 7\): dx has the shape of the scores"),
    ("test_temporal_softmax_loss", {"temporal_softmax_loss": _softmax_dx_unmasked},
     r"^dx at masked steps is off by .*zero gradient"),
    ("test_temporal_softmax_loss",
     {"temporal_softmax_loss": _flip(1)(layers.temporal_softmax_loss)},
     r"^dx is off by .*numeric gradient.*softmax\(x\) - onehot\(y\)"),
    ("test_clip_grad_norm", {"clip_grad_norm": _clip_returns_norm_after},
     r"^the returned norm does not match .*BEFORE clipping"),
    ("test_clip_grad_norm", {"clip_grad_norm": _clip_not_in_place},
     r"^grads\['Wx'\] was replaced by a new array: scale it in place"),
    ("test_clip_grad_norm", {"clip_grad_norm": _clip_each_array},
     r"^the factor applied to grads\['Wh'\] is off by .*the same factor"),
    ("test_clip_grad_norm", {"clip_grad_norm": _clip_values},
     r"^clipped grads\['Wx'\] is off by .*keeps the direction"),
    ("test_clip_grad_norm", {"clip_grad_norm": _clip_ignores_nonfinite},
     r"error_if_nonfinite=True\) returned for an infinite gradient: raise ValueError"),
    ("test_lstm_step_forward", {"lstm_step_forward": _lstm_forward_gates_swapped},
     r"^next_c with the input gate shut and the forget gate open is off .*order i, f, o, g"),
    ("test_lstm_step_forward", {"lstm_step_forward": _lstm_forward_naive_sigmoid},
     r"^lstm_step_forward with weights 500 times larger overflowed.*rnn_core\.sigmoid"),
    ("test_lstm_step_forward", {"lstm_step_forward": _lstm_forward_no_tanh_c},
     r"^next_h with the output gate open is off .*next_h = o \* tanh\(next_c\)"),
    ("test_lstm_step_backward", {"lstm_step_backward": _lstm_backward_dc_misses_h_route},
     r"^dprev_c is off by .*dc must include both dnext_c and dnext_h"),
    ("test_lstm_step_backward", {"lstm_step_backward": _flip(3)(lstm.lstm_step_backward)},
     r"^dWx is off by .*x\.T @ da$"),
    # forward and backward wrong together but consistent: only the stored numbers can tell
    ("test_lstm_step_backward", {"lstm_step_forward": _lstm_forward_gates_swapped,
                                 "lstm_step_backward": _lstm_backward_gates_swapped},
     r"^the six gradients, flattened and concatenated does not match .*check that one first"),
]


@pytest.mark.parametrize("grade_id, planted, message", BUGS,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BUGS)])
def test_self_check_explains_a_planted_bug(monkeypatch, grade_id, planted, message):
    for name, fn in planted.items():
        plant(monkeypatch, name, fn)
    with pytest.raises(AssertionError) as err:
        run_cell(grade_id)
    assert re.search(message, str(err.value)), str(err.value)
    assert "\n" not in str(err.value).strip()


def test_every_exercise_has_planted_bugs():
    covered = {name for _, planted, _ in BUGS for name in planted}
    assert covered == set(REF)


# ---------------------------------------------------------------------------------------------
# a student release: every self-check stops with the stub's message


_RUN_ALL = textwrap.dedent(
    """
    import contextlib, io, json, sys, warnings
    import numpy as np
    import rnn_core
    assert rnn_core.__file__.startswith(sys.argv[1]), rnn_core.__file__
    results = {}
    for grade_id, src in json.loads(sys.stdin.read()).items():
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("error", RuntimeWarning)
                exec(compile(src, grade_id, "exec"), {"np": np})
            results[grade_id] = ["passed", ""]
        except Exception as e:
            results[grade_id] = [type(e).__name__, str(e)]
    print(json.dumps(results))
    """
)


# the Layer A functions each self-check calls (the backward checks run the forward first)
CALLS = {
    "test_rnn_step": ["rnn_step_forward", "rnn_step_backward"],
    "test_rnn_sequence": ["rnn_forward", "rnn_step_forward", "rnn_backward"],
    "test_word_embedding_backward": ["word_embedding_backward"],
    "test_temporal_softmax_loss": ["temporal_softmax_loss"],
    "test_clip_grad_norm": ["clip_grad_norm"],
    "test_lstm_step_forward": ["lstm_step_forward"],
    "test_lstm_step_backward": ["lstm_step_forward", "lstm_step_backward"],
}


def _stubbed_package(tmp_path: Path, only: str | None = None) -> Path:
    """A copy of rnn_core as the release stubs it: every exercise, or only the function ``only``."""
    from rnn_core.course.markers import find_regions, stub_regions

    dst = tmp_path / "release" / "rnn_core"
    ignore = shutil.ignore_patterns("__pycache__", "course", "_kernels")
    shutil.copytree(ROOT / "rnn_core", dst, ignore=ignore)
    for name in MODULES:
        path = dst / name
        text = path.read_text()
        if only is not None:  # drop the markers of the other regions: they stay implemented
            keep = [r for r in find_regions(text, str(path)) if r.name != only]
            drop = {i for r in keep for i in (r.start, r.end)}
            text = "\n".join(ln for i, ln in enumerate(text.split("\n")) if i not in drop)
        path.write_text(stub_regions(text, str(path), module=f"rnn_core/{name}")[0])
    return dst.parent


@pytest.mark.parametrize("only", [None, *REF])
def test_self_checks_in_a_stubbed_release_show_the_stub_message(tmp_path, only):
    """All stubbed (a fresh release) or one exercise left undone: the self-checks that call a stub
    stop with its message, naming the function and its file; the others pass."""
    release = _stubbed_package(tmp_path, only)
    cells = {gid: cell_source(gid) for gid in EXERCISES}
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_ALL, str(release)],
        input=json.dumps(cells), capture_output=True, text=True, cwd=release, timeout=300,
        env={"PYTHONPATH": str(release), "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    for grade_id, (kind, message) in json.loads(proc.stdout).items():
        stubbed = [fn for fn in CALLS[grade_id] if only in (None, fn)]
        if not stubbed:
            assert kind == "passed", (grade_id, kind, message)
            continue
        file = next(f for f, m in MODULES.items() if hasattr(m, stubbed[0]))
        assert kind == "NotImplementedError", (grade_id, kind, message)
        assert message.startswith(
            f"Exercise {stubbed[0]}: implement the body of {stubbed[0]} in rnn_core/{file}"
        ), (grade_id, message)


# ---------------------------------------------------------------------------------------------
# the exercise boxes say which file to open and how to check


@pytest.mark.parametrize("grade_id", list(EXERCISES))
def test_exercise_box_names_functions_links_the_file_and_says_how_to_rerun(grade_id):
    notebook, functions, file = EXERCISES[grade_id]
    box = exercise_box(grade_id)
    for fn in functions:
        assert f"`{fn}" in box, f"{notebook}: the box of {grade_id} does not name {fn}"
    link = f"](../rnn_core/{file})"
    assert link in box, f"{notebook}: the box of {grade_id} does not link ../rnn_core/{file}"
    assert (NOTEBOOKS / f"../rnn_core/{file}").resolve().is_file()
    assert f"`rnn_core/{file}`" in box  # the path in words too (the release moves the notebooks)
    flat = " ".join(box.split())
    assert "save the file" in flat and "run the self-check" in flat
    assert "no kernel restart is needed" in flat
