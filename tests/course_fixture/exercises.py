"""The fixture course's exercise specs (format: rnn_core/course/exercises.py)."""

from __future__ import annotations

import numpy as np


def drive_scale(fn, c):
    return {"out": np.asarray(fn.scale(float(c["v"])), dtype=float)}


def drive_step(fn, c):
    out = fn.step(c["x"], c["h"], float(c["w"]))
    return {"h_next": out, "in.x": c["x"], "in.h": c["h"]}


def drive_step_backward(fn, c):
    dx, dh, dw = fn.step_backward(c["dout"], c["x"], c["h"], float(c["w"]))
    return {"dx": dx, "dh": dh, "dw": np.asarray(dw, dtype=float)}


def drive_count(fn, c):
    return {"total": np.asarray(fn.count_up(int(c["n"])))}


def drive_seq(fn, c):
    return {"hs": fn.run_steps(c["xs"], c["h0"], float(c["w"]))}


def _vec(rng, *shape):
    return {"x": rng.normal(size=shape), "h": rng.normal(size=shape),
            "dout": rng.normal(size=shape), "w": np.asarray(rng.uniform(-1, 1))}


def _seq(rng, T, D):
    return {"xs": rng.normal(size=(T, D)), "h0": rng.normal(size=D),
            "w": np.asarray(rng.uniform(-1, 1))}


EXERCISES = {
    "test_scale": {
        "calls": ["minirnn.basics:scale"], "driver": drive_scale, "tol": 1e-12,
        "public": lambda rng: [("v=3", {"v": np.asarray(3.0)})],
        "hidden": lambda rng: [("negative v", {"v": np.asarray(-rng.uniform(1, 2))})],
    },
    "test_step": {
        "calls": ["minirnn.cell:step"], "driver": drive_step, "tol": 1e-10,
        "public": lambda rng: [("D=2", _vec(rng, 2))],
        "hidden": lambda rng: [("N=3, D=4", _vec(rng, 3, 4)), ("D=1", _vec(rng, 1))],
    },
    "test_step_backward": {
        "calls": ["minirnn.cell:step_backward"], "driver": drive_step_backward, "tol": 1e-10,
        "public": lambda rng: [("N=2, D=4", _vec(rng, 2, 4))],
        "hidden": lambda rng: [("N=1, D=1", _vec(rng, 1, 1)), ("N=5, D=2", _vec(rng, 5, 2))],
    },
    "test_count": {
        "calls": ["minirnn.basics:count_up"], "driver": drive_count, "tol": 0.0,
        "public": lambda rng: [("n=4", {"n": np.asarray(4)})],
        "hidden": lambda rng: [("n=0", {"n": np.asarray(0)}),
                               ("large n", {"n": rng.integers(50, 150)})],
    },
    "test_seq": {
        "calls": ["minirnn.loop:run_steps"], "driver": drive_seq, "tol": 1e-10,
        "public": lambda rng: [("T=3, D=2", _seq(rng, 3, 2))],
        "hidden": lambda rng: [("T=1", _seq(rng, 1, 3)), ("T=6, D=1", _seq(rng, 6, 1))],
    },
}
