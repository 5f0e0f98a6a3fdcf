"""Layer A / Layer B, proved by behaviour (docs/architecture.md, D1; issue 9, part 5).

(a) For each exercise, a copy of the source package has just that exercise's solution region
    replaced by ``raise NotImplementedError`` (as the student release does). A subprocess imports
    the copy and calls every public function (and the models' public methods) of ``rnn_core`` on
    small inputs, built by argument name from one table (``_profiles``). The test fails if any
    output still equals what the exercise's reference returns on the same inputs: such a function
    computes the exercise without calling it (a twin that answers it). Functions that cannot be
    called from the table are skipped and counted; coverage must stay above ``COVERAGE_FLOOR``.

    The step and sequence exercises of the tanh RNN (notebook 00) are stubbed together (forward
    with forward, backward with backward): Layer B's loops over time build on the sequence
    functions and its single steps on the step functions (D1), so one alone is still computed by
    the other and says nothing about Layer B. That no loop hands the sequence exercise to the step
    exercise is checked by tests/test_layering.py and tests/test_course_real.py.

(b) A sign error planted in a Layer A function (``dWh`` of ``rnn_backward`` and of
    ``lstm_step_backward``; the tanh derivative of ``rnn_backward``; the transpose in
    ``jacobians_along``; the logs of ``qr_step``) must change the models' gradients and the
    explorers' computed outputs.

This file is also the subprocess driver: ``python test_layers_behaviour.py ROOT OUT.npz`` imports
``rnn_core`` from ROOT and writes every output and status to OUT.npz / OUT.json.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
COVERAGE_FLOOR = 0.6
N, T, D, H, V = 2, 3, 3, 4, 6

# exercise -> (file, functions whose solution regions are stubbed together)
EXERCISES = {
    "rnn_forward": ("rnn_core/rnn.py", ("rnn_step_forward", "rnn_forward")),
    "rnn_backward": ("rnn_core/rnn.py", ("rnn_step_backward", "rnn_backward")),
    "word_embedding_backward": ("rnn_core/layers.py", ("word_embedding_backward",)),
    "temporal_softmax_loss": ("rnn_core/layers.py", ("temporal_softmax_loss",)),
    "tbptt_pass": ("rnn_core/train.py", ("tbptt_pass",)),
    "jacobians_along": ("rnn_core/analysis/jacobians.py", ("jacobians_along",)),
    "qr_step": ("rnn_core/analysis/lyapunov.py", ("qr_step",)),
    "clip_grad_norm": ("rnn_core/clipping.py", ("clip_grad_norm",)),
    "lstm_step_forward": ("rnn_core/lstm.py", ("lstm_step_forward",)),
    "lstm_step_backward": ("rnn_core/lstm.py", ("lstm_step_backward",)),
}
LAYER_A = {f for _, fs in EXERCISES.values() for f in fs}

# ------------------------------------------------------------------------------ the driver


def _profiles(rc):
    """Inputs by argument name: one dict per shape family, tried in order (first that calls)."""
    r = np.random.default_rng(0)
    x_seq = r.standard_normal((N, T, D))
    h0, c0 = 0.5 * r.standard_normal((N, H)), 0.5 * r.standard_normal((N, H))
    Wx, Wh = 0.5 * r.standard_normal((D, H)), 0.5 * r.standard_normal((H, H))
    b = 0.1 * r.standard_normal(H)
    Wx4 = 0.5 * r.standard_normal((D, 4 * H))
    Wh4, b4 = 0.5 * r.standard_normal((H, 4 * H)), 0.1 * r.standard_normal(4 * H)
    dh_seq, dc_step = r.standard_normal((N, T, H)), np.zeros((N, H))
    tokens = r.integers(0, V, (N, T))
    targets = r.integers(0, V, (N, T))
    scores = r.standard_normal((N, T, V))
    W_embed = r.standard_normal((V, D))
    Js = r.standard_normal((T, H, H)) / 2.0
    Q = np.linalg.qr(r.standard_normal((H, H)))[0]
    dphi = r.uniform(0.2, 1.0, (T, H))
    common = dict(
        rng=0, seed=0, T=T, n=4, N=N, D=D, H=H, K=5, k=2, lag=2, steps=2, n_train=4, n_test=2,
        iterations=2, num_layers=2, cell="rnn", input_dim=D, hidden_dim=H, num_classes=2,
        vocab_size=V, embed_dim=3, feature_dim=D, src_vocab_size=V, tgt_vocab_size=V,
        max_len=T, n_per_length=2, lengths=np.array([1, 2]), lags=np.array([1, 2]),
        chunks=np.array([2, 3]), threshold=1.0, max_norm=1.0, clip_value=0.5, lr=0.1,
        eta=0.9, batch_size=2, chunk_len=2, m=2, reortho_every=1, gaps=np.array([1, 2]),
        w=1.0, b_grid=np.linspace(-1, 1, 3), w_grid=np.linspace(-1, 1, 4),
        start=(1.0, 0.5), kind="circle", name="glorot", shape=(H, H), W=Wh, a=x_seq,
        u=h0[0], v=c0[0], ids=r.integers(0, V, 40), train_ids=r.integers(0, V, 40),
        val_ids=r.integers(0, V, 20), text="abcab abc", sentences=[["a", "b"], ["b"]],
        images=r.uniform(0, 1, (2, 16, 16)), data=r.integers(0, V, (N, 8)),
        grads={"a": r.standard_normal(3), "b": r.standard_normal((2, 2))},
        J=Js[0], Q=Q, jacobians=Js, dphi=dphi, W_embed=W_embed,
        tokens=tokens, targets=targets, mask=np.ones((N, T), bool), activation="tanh",
        g=r.standard_normal(5), t=T, hook=lambda t, grads: grads[1],
        batches=lambda gen: (tokens, targets),
    )
    step = dict(common, x=x_seq[:, 0], prev_h=h0, Wx=Wx, Wh=Wh, b=b, dnext_h=dh_seq[:, 0],
                dh=dh_seq[:, 0], dout=dh_seq[:, 0], w=Wx, y=np.array([0, 2]))
    seq = dict(common, x=x_seq, h0=h0, Wx=Wx, Wh=Wh, b=b, dh=dh_seq, dout=dh_seq, y=targets,
               dh_T=dh_seq[0, -1], w=Wx)
    single = dict(seq, x=x_seq[0], h0=h0[0], dh=dh_seq[0], dh_T=dh_seq[0, -1], c0=c0[0])
    # dnext_c = 0 and a one-step sequence on the same inputs: a sequence kernel that computes the
    # step without calling it returns the step's reference numbers
    lstm_step = dict(step, prev_c=c0, Wx=Wx4, Wh=Wh4, b=b4, dnext_c=dc_step)
    lstm_seq = dict(seq, c0=c0, Wx=Wx4, Wh=Wh4, b=b4)
    lstm_seq1 = dict(lstm_seq, x=x_seq[:, :1], dh=dh_seq[:, :1], dout=dh_seq[:, :1])
    lstm_single = dict(lstm_seq, x=x_seq[0], h0=h0[0], c0=c0[0], dh_T=dh_seq[0, -1])
    softmax = dict(common, x=scores, y=targets, dout=r.standard_normal((N, T, D)))
    embed = dict(common, x=tokens, W=W_embed, dout=r.standard_normal((N, T, D)))
    lm = dict(common, x=tokens, y=targets, data=r.integers(0, V, (N, 8)))
    return [step, seq, single, lstm_step, lstm_seq1, lstm_seq, lstm_single, softmax, embed, lm]


def _derived(rc, name, fn_name, p):
    """Arguments that are the output of another function (caches, trajectories, models)."""
    J = rc.analysis.jacobians
    if name == "cache":
        rnn_w = lstm_w = (p.get("Wx"), p.get("Wh"), p.get("b"))
        producers = {
            "rnn_step_backward": lambda: rc.rnn.rnn_step_forward(p["x"], p["prev_h"], *rnn_w)[1],
            "rnn_backward": lambda: rc.rnn.rnn_forward(p["x"], p["h0"], *rnn_w)[1],
            "lstm_step_backward": lambda: rc.lstm.lstm_step_forward(
                p["x"], p["prev_h"], p["prev_c"], p["Wx"], p["Wh"], p["b"])[2],
            "lstm_backward": lambda: rc.lstm.lstm_forward(p["x"], p["h0"], *lstm_w, c0=p["c0"])[1],
            "lstm_backward_with_cells": lambda: rc.lstm.lstm_forward_with_cells(
                p["x"], p["h0"], *lstm_w, c0=p["c0"])[2],
            "word_embedding_backward": lambda: rc.layers.word_embedding_forward(p["x"], p["W"])[1],
            "temporal_affine_backward": lambda: rc.layers.temporal_affine_forward(
                p["dh"] if p["dh"].ndim == 3 else p["dh"][:, None], p["W_embed"].T[:H, :],
                np.zeros(V))[1],
            "affine_backward": lambda: rc.layers.affine_forward(p["x"], p["Wx"], p["b"])[1],
        }
        return producers[fn_name]()
    if name == "traj":
        if "lstm" in fn_name:
            return J.lstm_trajectory(p["x"], p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"])
        return J.vanilla_trajectory(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
    if name == "stack":
        return rc.models.RecurrentStack("rnn", D, H, num_layers=2)
    if name == "params":
        if fn_name == "bit_memory_loss":
            return [p["Wx"], p["Wh"], p["b"], p["h0"][0], np.zeros(1)]
        params = rc.models.RecurrentStack("rnn", D, H, num_layers=2).init_params(0)
        r = np.random.default_rng(1)
        params.update(W_embed=r.standard_normal((V, D)), W_vocab=r.standard_normal((H, V)),
                      b_vocab=np.zeros(V))
        return params
    if name == "bits":
        return np.array([1.0, -1.0])
    if name == "model" and p["x"].dtype.kind == "i":
        return rc.models.LanguageModel(V, 3, H, rng=0)
    if name == "optimizer":
        return rc.optim.SGD(0.1)
    raise LookupError(name)


def _model_recipes(rc, profiles):
    """Public methods of the models, with their inputs (a model is Layer B's main consumer)."""
    seq, step = profiles[1], profiles[0]
    tok, tgt = seq["tokens"], seq["targets"]

    def lm(cell):
        m = rc.models.LanguageModel(V, 3, H, cell=cell, rng=0)
        sample = m.sample(0, 4, rng=0) if _has(m, "sample") else None
        return {"loss": m.loss(tok, tgt), "sample": sample}

    def clf(cell):
        m = rc.models.SequenceClassifier(D, H, 2, cell=cell, rng=0)
        y = np.array([0, 1])
        mask = np.array([[True, True, True], [True, True, False]])
        return {"loss": m.loss(seq["x"], y), "masked": m.loss(seq["x"], y, mask),
                "predict": m.predict(seq["x"])}

    def cap(cell):
        m = rc.models.Captioner(V, D, 3, H, cell=cell, rng=0)
        cap_tok = np.concatenate([np.full((N, 1), m.start_id), tok % V], axis=1)
        return {"loss": m.loss(step["x"], cap_tok), "sample": m.sample(step["x"], max_length=3)}

    def s2s(cell):
        m = rc.models.Seq2Seq(V, V, 3, H, cell=cell, rng=0)
        tgt_tok = np.concatenate([np.full((N, 1), m.start_id), tgt], axis=1)
        return {"loss": m.loss(tok, tgt_tok), "translate": m.translate(tok, max_length=3)}

    def untied():
        m = rc.experiments.untied.UntiedRNNClassifier(1, H, 2, T, rng=0)
        x1 = seq["x"][..., :1]
        return {"loss": m.loss(x1, np.array([0, 1])), "predict": m.predict(x1)}

    def stack(cell):
        s = rc.models.RecurrentStack(cell, D, H, num_layers=2)
        params = s.init_params(0)
        out = {}
        for name, kw in (("fast", {}), ("per_step", {"per_step": True})):
            h, cache = s.forward(params, seq["x"], **kw)
            out[name] = (h, s.backward(seq["dh"], cache))
        return out

    recipes = {}
    for cell in ("rnn", "lstm"):
        recipes[f"LanguageModel[{cell}]"] = lambda c=cell: lm(c)
        recipes[f"SequenceClassifier[{cell}]"] = lambda c=cell: clf(c)
        recipes[f"Captioner[{cell}]"] = lambda c=cell: cap(c)
        recipes[f"Seq2Seq[{cell}]"] = lambda c=cell: s2s(c)
        recipes[f"RecurrentStack[{cell}]"] = lambda c=cell: stack(c)
    recipes["UntiedRNNClassifier"] = untied
    return recipes


def _has(obj, name):
    return callable(getattr(obj, name, None))


def _arrays(value, depth=0):
    """Every float array reachable in a return value (tuples, dicts, dataclasses, objects)."""
    if depth > 4 or value is None or isinstance(value, str | bool):
        return []
    if isinstance(value, np.ndarray):
        return [value] if value.dtype.kind == "f" and value.size else []
    if isinstance(value, float | np.floating):
        return [np.array([float(value)])]
    if isinstance(value, tuple | list):
        return [a for v in value for a in _arrays(v, depth + 1)]
    if isinstance(value, dict):
        return [a for k in sorted(value, key=str) for a in _arrays(value[k], depth + 1)]
    if dataclasses.is_dataclass(value):
        fields = dataclasses.fields(value)
        return [a for f in fields for a in _arrays(getattr(value, f.name), depth + 1)]
    if hasattr(value, "__dict__") and depth < 2:
        return [a for k in sorted(vars(value)) for a in _arrays(vars(value)[k], depth + 1)]
    return []


def _public_callables(rc):
    import importlib
    import pkgutil

    out = []
    for info in pkgutil.walk_packages(rc.__path__, "rnn_core."):
        if info.name.startswith(("rnn_core.course", "rnn_core.widgets", "rnn_core._")):
            continue
        mod = importlib.import_module(info.name)
        for name, obj in sorted(vars(mod).items()):
            if name.startswith("_") or getattr(obj, "__module__", None) != info.name:
                continue
            if inspect.isfunction(obj) and not name.endswith("_explorer"):
                out.append((f"{info.name}.{name}", obj))
    return out


def _call(rc, qual, fn, profiles):
    """Try the profiles in order; return (status, value)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return "skipped: no signature", None
    required = [p for p in sig.parameters.values() if p.default is p.empty
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    optional_known = [p for p in sig.parameters.values() if p.default is not p.empty
                      and p.name in ("T", "H", "N", "steps", "n", "iterations", "m", "c0")]
    last = "skipped: no profile fits"
    short = qual.rsplit(".", 1)[-1]
    for p in profiles:
        kwargs = {}
        try:
            for prm in required + optional_known:
                if prm.name in p:
                    kwargs[prm.name] = p[prm.name]
                elif prm in required:
                    kwargs[prm.name] = _derived(rc, prm.name, short, p)
        except NotImplementedError as e:
            return f"stopped: {str(e).splitlines()[0][:120]}", None
        except (LookupError, TypeError, ValueError, IndexError):
            continue
        kwargs = {k: copy.deepcopy(v) if isinstance(v, np.ndarray | dict | list) else v
                  for k, v in kwargs.items()}  # fresh inputs: some functions work in place
        try:
            with np.errstate(all="ignore"):
                value = fn(**kwargs)
            return "ok", (value, [v for v in kwargs.values() if isinstance(v, dict)])
        except NotImplementedError as e:
            return f"stopped: {str(e).splitlines()[0][:120]}", None
        except (Exception, SystemExit) as e:  # noqa: BLE001 - any failure (a CLI's argparse
            # exits): try the next profile
            last = f"skipped: {type(e).__name__}: {str(e).splitlines()[0][:100] if str(e) else ''}"
    return last, None


def drive(root: str, out: str) -> None:
    sys.path.insert(0, root)
    import rnn_core as rc

    assert rc.__file__.startswith(root), rc.__file__
    import rnn_core.analysis.jacobians  # noqa: F401
    import rnn_core.analysis.lyapunov  # noqa: F401
    import rnn_core.experiments.untied  # noqa: F401
    import rnn_core.layers  # noqa: F401
    import rnn_core.lstm  # noqa: F401
    import rnn_core.models  # noqa: F401
    import rnn_core.rnn  # noqa: F401

    profiles = _profiles(rc)
    status, arrays = {}, {}
    items = [(q, lambda f=f, q=q: _call(rc, q, f, profiles)) for q, f in _public_callables(rc)]
    for name, recipe in _model_recipes(rc, profiles).items():
        items.append((name, recipe))
    for qual, run in items:
        try:
            res = run()
        except NotImplementedError as e:
            res = (f"stopped: {str(e).splitlines()[0][:120]}", None)
        except Exception as e:  # noqa: BLE001
            res = (f"skipped: {type(e).__name__}: {e}"[:160], None)
        if not isinstance(res, tuple) or len(res) != 2 or not isinstance(res[0], str):
            res = ("ok", res)
        status[qual] = res[0]
        for i, a in enumerate(_arrays(res[1])):
            arrays[f"{qual}#{i}"] = a
    np.savez(out, **arrays)
    Path(out).with_suffix(".json").write_text(json.dumps(status, indent=0))


# ------------------------------------------------------------------------------ the tests


def _copy_source(dst: Path) -> Path:
    # the package as the release ships it: no course tooling and no instructor-only kernel (the
    # LSTM sequence kernel is the source's fast path; tests/test_lstm.py checks it against the loop)
    shutil.copytree(ROOT / "rnn_core", dst / "rnn_core",
                    ignore=shutil.ignore_patterns("__pycache__", "course", "_kernels", "*.pyc"))
    return dst


def _stub(root: Path, rel: str, functions) -> bool:
    """Replace the solution regions of ``functions`` in root/rel; False if one has none."""
    from rnn_core.course.markers import find_regions

    path = root / rel
    if not path.exists():
        return False
    text = path.read_text()
    lines = text.split("\n")
    regions = [r for r in find_regions(text, rel) if r.kind == "solution" and r.name in functions]
    if {r.name for r in regions} != set(functions):
        return False
    for r in sorted(regions, key=lambda r: r.start, reverse=True):
        indent = lines[r.start][: len(lines[r.start]) - len(lines[r.start].lstrip())]
        stub = f'{indent}raise NotImplementedError("Exercise {r.name}: stub")'
        lines[r.start : r.end + 1] = [stub]
    path.write_text("\n".join(lines))
    return True


def _plant(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert text.count(old) == 1, f"{rel}: the line to plant an error in is gone: {old!r}"
    path.write_text(text.replace(old, new))


def _run(root: Path, tag: str):
    out = root / f"{tag}.npz"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(root))
    subprocess.run([sys.executable, __file__, str(root), str(out)], check=True, env=env,
                   cwd=root, timeout=600, capture_output=True)
    with np.load(out, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return json.loads(out.with_suffix(".json").read_text()), arrays


def _informative(a: np.ndarray) -> bool:
    flat = a.ravel()
    if flat.size == 0 or not np.all(np.isfinite(flat)):
        return False
    return not (np.all(flat == flat[0]) or np.all(flat == np.round(flat)))


def _same(a: np.ndarray, e: np.ndarray) -> bool:
    """a equals e, or one of a's slices along one axis does (a step inside a sequence)."""
    def eq(u, w):
        return u.shape == w.shape and np.allclose(u, w, rtol=1e-9, atol=1e-12)

    if a.size == e.size and eq(a.ravel(), e.ravel()):
        return True
    if a.ndim == e.ndim + 1:
        return any(eq(np.take(a, i, axis=ax), e)
                   for ax in range(a.ndim) for i in range(a.shape[ax]))
    return False


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = _copy_source(tmp_path_factory.mktemp("reference"))
    return _run(root, "reference")


def test_the_sweep_covers_the_package(reference):
    status, arrays = reference
    called = [q for q, s in status.items() if s == "ok"]
    coverage = len(called) / len(status)
    skipped = sorted(f"{q}: {s}" for q, s in status.items() if s != "ok")
    print(f"called {len(called)} of {len(status)} public callables ({coverage:.0%}); skipped:\n"
          + "\n".join(skipped))
    assert coverage >= COVERAGE_FLOOR, skipped
    # every Layer A function is called, and so are the explorers' compute functions
    for f in ("rnn_core.rnn.rnn_backward", "rnn_core.analysis.lyapunov.qr_step",
              "rnn_core.analysis.jacobians.jacobians_along", "rnn_core.lstm.lstm_step_backward",
              "rnn_core.layers.temporal_softmax_loss", "rnn_core.clipping.clip_grad_norm",
              "rnn_core.analysis.explore.vanilla_flow", "rnn_core.analysis.explore.lstm_highway",
              "rnn_core.analysis.explore.stack_gradient_maps",
              "rnn_core.analysis.training_trace.training_trace", "LanguageModel[rnn]"):
        assert status[f] == "ok", (f, status[f])


@pytest.mark.parametrize("exercise", EXERCISES)
def test_stubbing_an_exercise_leaves_no_twin(exercise, reference, tmp_path):
    ref_status, ref_arrays = reference
    rel, functions = EXERCISES[exercise]
    root = _copy_source(tmp_path)
    assert _stub(root, rel, functions), f"{rel} has no solution region for {functions}"
    status, arrays = _run(root, exercise)
    # what the exercise itself returns in the reference run, on the table's inputs
    inputs = [a for p in _profiles(None) for a in p.values()
              if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    expected = [a for k, a in ref_arrays.items()
                if k.rsplit("#", 1)[0].rsplit(".", 1)[-1] in functions and _informative(a)
                and not any(_same(a, i) or _same(i, a) for i in inputs)]  # caches keep inputs
    assert expected, f"the sweep never called {functions}"
    twins = []
    for key, a in arrays.items():
        qual = key.rsplit("#", 1)[0]
        if qual.rsplit(".", 1)[-1] in LAYER_A or not _informative(a):
            continue
        if any(_same(a, e) for e in expected):
            twins.append(qual)
    stopped = sorted(q for q, s in status.items() if s.startswith("stopped") and
                     ref_status.get(q) == "ok")
    print(f"{exercise}: {len(stopped)} callables stop on the stub")
    assert not sorted(set(twins)), f"still computing {exercise} without it: {sorted(set(twins))}"
    assert stopped, f"nothing stops when {exercise} is a stub: is it used at all?"
    if exercise == "temporal_softmax_loss":
        # softmax_loss serves notebook 00's classifiers, before 01's exercise (docs/architecture.md,
        # D1: the overlaps kept on purpose); it must not answer the exercise's outputs (above)
        soft = status["rnn_core.layers.softmax_loss"]
        assert soft == "ok", soft


if __name__ == "__main__":
    drive(sys.argv[1], sys.argv[2])


# (b) planted errors: plant id -> (file, line as it is, line with the error, callables that must
# change). Models' gradients and the explorers' compute functions are named explicitly.
EXPLORERS = ("rnn_core.analysis.explore.vanilla_flow", "rnn_core.analysis.explore.lstm_highway",
             "rnn_core.analysis.explore.stack_gradient_maps",
             "rnn_core.analysis.training_trace.training_trace")
PLANTS = {
    "rnn_backward_dWh": (
        "rnn_core/rnn.py",
        "    dWh = h_all[:, :-1].reshape(N * T, H).T @ da_2d\n",
        "    dWh = -(h_all[:, :-1].reshape(N * T, H).T @ da_2d)\n",
        ("LanguageModel[rnn]", "SequenceClassifier[rnn]", "Captioner[rnn]", "Seq2Seq[rnn]",
         "RecurrentStack[rnn]", "rnn_core.models.recurrent.token_sequence_loss",
         "rnn_core.analysis.training_trace.training_trace"),
    ),
    "rnn_backward_tanh_derivative": (  # the masked step loop and the analysis step through it
        "rnn_core/rnn.py",
        "        da[:, t] = (dh[:, t] + dh_next) * (1.0 - h_t * h_t)\n",
        "        da[:, t] = (dh[:, t] + dh_next) * (1.0 + h_t * h_t)\n",
        ("UntiedRNNClassifier", "SequenceClassifier[rnn]", "RecurrentStack[rnn]",
         "rnn_core.analysis.explore.vanilla_flow", "rnn_core.analysis.explore.lstm_highway",
         "rnn_core.analysis.explore.stack_gradient_maps",
         "rnn_core.analysis.backprop.gradient_map",
         "rnn_core.analysis.noise.vanilla_contributions"),
    ),
    "jacobians_along_transpose": (
        "rnn_core/analysis/jacobians.py",
        "    J = dphi[:, :, None] * Wh.T[None, :, :]\n",
        "    J = dphi[:, :, None] * Wh[None, :, :]\n",
        ("rnn_core.analysis.explore.vanilla_flow", "rnn_core.analysis.jacobians.vanilla_jacobians"),
    ),
    "qr_step_logs": (
        "rnn_core/analysis/lyapunov.py",
        "        log_abs_diag_R = np.log(np.abs(np.diag(R)))\n",
        "        log_abs_diag_R = -np.log(np.abs(np.diag(R)))\n",
        ("rnn_core.analysis.explore.vanilla_flow", "rnn_core.analysis.lyapunov.lyapunov_exponents",
         "rnn_core.analysis.lyapunov.product_log_singular_values",
         "rnn_core.analysis.lyapunov.log_singular_values_by_gap"),
    ),
    "lstm_step_backward_dWh": (
        "rnn_core/lstm.py",
        "    dWh = cache.prev_h.T @ da\n",
        "    dWh = -(cache.prev_h.T @ da)\n",
        ("SequenceClassifier[lstm]", "RecurrentStack[lstm]", "LanguageModel[lstm]",
         "Captioner[lstm]", "Seq2Seq[lstm]"),
    ),
    "lstm_step_backward_dprev_c": (
        "rnn_core/lstm.py",
        "    dprev_c = dc * f\n",
        "    dprev_c = -dc * f\n",
        ("rnn_core.analysis.explore.lstm_highway", "RecurrentStack[lstm]",
         "rnn_core.analysis.noise.lstm_contributions"),
    ),
}
def _outputs(arrays, qual):
    return [a for k, a in sorted(arrays.items()) if k.rsplit("#", 1)[0] == qual]


def _changed(ref, planted, qual) -> bool:
    a, b = _outputs(ref, qual), _outputs(planted, qual)
    if not a:
        raise AssertionError(f"{qual} returned nothing in the reference sweep")
    return len(a) != len(b) or any(
        x.shape != y.shape or not np.allclose(x, y, rtol=1e-12, atol=0, equal_nan=True)
        for x, y in zip(a, b, strict=False))


@pytest.mark.parametrize("plant", PLANTS)
def test_a_planted_error_reaches_models_and_explorers(plant, reference, tmp_path):
    ref_status, ref_arrays = reference
    rel, old, new, must_change = PLANTS[plant]
    root = _copy_source(tmp_path)
    _plant(root, rel, old, new)
    status, arrays = _run(root, plant)
    for qual in must_change:
        assert ref_status[qual] == "ok", (qual, ref_status[qual])
    unchanged = [q for q in must_change
                 if status[q] == "ok" and not _changed(ref_arrays, arrays, q)]
    assert not unchanged, f"{plant}: these still return what they did before: {unchanged}"
    # every plant but lstm's dWh (no explorer reads an LSTM weight gradient) reaches one
    assert any(q in EXPLORERS for q in must_change) or plant == "lstm_step_backward_dWh", plant
