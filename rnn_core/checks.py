"""Self-checks for students: assertions whose message says what is wrong and what to try.

The notebooks' self-check cells judge an exercise in two ways, never against a copy of the answer:

- **stored numbers**: for a fixed seed, a few numbers that identify the right output (its shape,
  a few entries, its sum and a weighted sum), computed once with the course's reference and
  pasted into the cell as literals (:func:`check_stored`; :func:`stored_call` writes the line);
- **properties** of the student's own code: gradients against centred differences of the
  student's own forward pass (:func:`check_backward`, :func:`check_gradient`), a sequence equal to
  its steps, an invariance or a known answer (:func:`check_close`), no overflow on large inputs
  (:func:`check_stable`).

For example::

    from rnn_core.checks import check_close, check_stored
    check_stored("next_h", next_h, (3, 5), total=1.25, weighted=-0.5, entries={(0, 0): 0.7},
                 hint="next_h = tanh(x @ Wx + prev_h @ Wh + b)")
    # AssertionError: next_h does not match the values stored for this input: entry [0, 0] is
    #                 0.6 but should be 0.7; its sum is ...: next_h = tanh(x @ Wx + prev_h @ Wh + b)

A failed check raises ``AssertionError``, so the cell stops there and the message says what to fix.
A check never judges code older than the saved file: while a saved file could not be loaded
(autoreload kept the old version), every check raises :class:`NotChecked` saying which file and why.
Numeric gradients and relative errors come from :mod:`rnn_core.gradcheck` (one implementation).
numpy only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from rnn_core.gradcheck import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    layer_numerical_gradient,
    rel_error,
)

__all__ = [
    "check_shape",
    "check_close",
    "check_gradient",
    "check_backward",
    "check_stored",
    "check_stable",
    "fingerprint",
    "stored_call",
    "NotChecked",
]


class NotChecked(RuntimeError):
    """A self-check refused to judge: the code that runs is not the code saved (a saved file
    could not be loaded; :func:`rnn_core._ipython.stale_code`)."""


def _judge_saved_code() -> None:
    """Raise :class:`NotChecked` when autoreload kept an old version of a saved file: a check
    would judge the code from before the save, and could pass it."""
    from rnn_core._ipython import stale_code

    stale = stale_code()
    if stale:
        raise NotChecked(f"not checked: {stale}")


def _hint(hint: str | None) -> str:
    return f": {hint}" if hint else ""


def _as_array(fn: str, name: str, value: object, hint: str | None) -> np.ndarray:
    if value is None:
        raise AssertionError(f"{name} is None: did you forget to return it?{_hint(hint)}")
    if isinstance(value, tuple) and fn != "check_shape":
        raise AssertionError(
            f"{name} is a tuple of {len(value)} items, not an array: did you return several "
            f"values where one was expected?{_hint(hint)}"
        )
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(
            f"{name} should be a numeric array, got {type(value).__name__}{_hint(hint)}"
        ) from None
    return arr


def _check_finite(name: str, a: np.ndarray, hint: str | None) -> None:
    if not np.all(np.isfinite(a)):
        bad = "NaN" if np.isnan(a).any() else "inf"
        raise AssertionError(f"{name} contains {bad}{_hint(hint)}")


def _where(index: tuple[int, ...]) -> str:
    return f"[{', '.join(str(int(i)) for i in index)}]"


def check_shape(
    name: str, actual: object, expected_shape: tuple[int, ...], hint: str | None = None
) -> None:
    """Assert that ``actual`` is an array of shape ``expected_shape``.

    Notebook 00, section 2.

    A transposed shape gets its own message ("did you mean ``.T``?").
    """
    _judge_saved_code()
    arr = _as_array("check_shape", name, actual, hint)
    want = tuple(int(n) for n in expected_shape)
    if arr.shape == want:
        return
    extra = ""
    if arr.shape == want[::-1] and len(want) == 2:
        extra = " (the transpose: check the order of a matrix product or a missing .T)"
    raise AssertionError(
        f"{name} has shape {arr.shape} but should have shape {want}{extra}{_hint(hint)}"
    )


def check_close(
    name: str,
    actual: object,
    expected: object,
    hint: str | None = None,
    *,
    rtol: float = 1e-7,
    atol: float = 1e-12,
) -> None:
    """Assert that ``actual`` matches ``expected`` to a relative error of ``rtol``.

    Notebook 00, section 2.

    For properties of the student's own code (a sequence equal to its steps, an invariance, a
    known answer), never for a copy of the exercise's formula.

    Parameters
    ----------
    name : what the student computed, as they call it (``"h[:, 3]"``).
    actual : the student's value (array or number).
    expected : the value the property requires, same shape.
    hint : what to try when it is off, in words a student can act on.
    rtol : largest allowed relative error (:func:`rnn_core.gradcheck.rel_error`).
    atol : differences below this pass whatever the scale (both near zero).

    Raises
    ------
    AssertionError
        With the size of the error, the worst entry, and the hint: "dWh is off by 3.0e-02
        (relative; worst entry [1, 0]: got 0.21, expected 0.2): are you accumulating over all
        time steps?". Also for None, a wrong shape, or NaN/inf in ``actual``.
    """
    _judge_saved_code()
    a = _as_array("check_close", name, actual, hint)
    e = np.asarray(expected, dtype=np.float64)
    check_shape(name, a, e.shape, hint)
    _check_finite(name, a, hint)
    diff = np.abs(a - e)
    if a.size == 0 or float(np.max(diff)) <= atol:
        return
    err = rel_error(a, e)
    if err <= rtol:
        return
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
    where = f"entry {_where(worst)}: " if worst else ""
    raise AssertionError(
        f"{name} is off by {err:.1e} (relative; worst {where}got {a[worst]:.6g}, "
        f"expected {e[worst]:.6g}){_hint(hint)}"
    )


def check_gradient(
    name: str,
    f: Callable[[np.ndarray], object],
    x: np.ndarray,
    analytic: object,
    hint: str | None = None,
    *,
    dout: np.ndarray | None = None,
    eps: float = 1e-5,
    rtol: float = 1e-7,
) -> None:
    """Assert that an analytic gradient matches centred differences.

    Notebook 01, section 2.

    Parameters
    ----------
    name : the gradient's name (``"dx"``).
    f : function of ``x`` alone: a scalar loss, or an array output when ``dout`` is given.
    x : float64 array the gradient is taken with respect to; perturbed in place and restored.
    analytic : the student's gradient, shape of x.
    hint : what to check when it is off.
    dout : upstream gradient of ``f(x)``'s output (the check uses ``sum(f(x) * dout)``).
    eps : step of the centred differences.
    rtol : largest allowed relative error (float64 gradients that are right reach about 1e-9).

    Raises
    ------
    AssertionError
        With the relative error against the numeric gradient and the hint.
    """
    _judge_saved_code()
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(
            f"check_gradient: x must be a float64 numpy array, got "
            f"{getattr(x, 'dtype', type(x).__name__)}"
        )
    a = _as_array("check_gradient", name, analytic, hint)
    check_shape(name, a, x.shape, hint)
    if dout is None:
        numeric = eval_numerical_gradient(f, x, eps)
    else:
        numeric = eval_numerical_gradient_array(f, x, np.asarray(dout, dtype=np.float64), eps)
    _against_numeric(name, a, numeric, hint, rtol)


def _against_numeric(
    name: str, analytic: np.ndarray, numeric: np.ndarray, hint: str | None, rtol: float
) -> None:
    try:
        check_close(name, analytic, numeric, rtol=rtol, atol=1e-10)
    except AssertionError as err:
        raise AssertionError(
            f"{err} (compared with the numeric gradient of your forward pass){_hint(hint)}"
        ) from None


def check_backward(
    forward: Callable[..., object],
    inputs: Mapping[str, Any],
    grads: Mapping[str, object],
    douts: np.ndarray | tuple[np.ndarray, ...],
    hints: Mapping[str, str] | None = None,
    *,
    rtol: float = 1e-7,
) -> None:
    """Check a backward pass against centred differences of the student's own forward pass.

    Notebook 00, section 2.

    The scalar differentiated is ``sum_k sum(out_k * douts[k])`` over the forward's outputs
    (:func:`rnn_core.gradcheck.layer_numerical_gradient`), so ``grads`` must be what the backward
    pass returned for the same ``douts``.

    Parameters
    ----------
    forward : ``forward(**inputs)`` returns the output array, or a tuple of output arrays
        (extra items such as a cache are ignored).
    inputs : every argument of ``forward`` by name; never modified.
    grads : input name -> the student's gradient for it (``{"x": dx, "prev_h": dprev_h}``);
        messages call it ``"d" + name``.
    douts : upstream gradient of the output, or a tuple, one per output.
    hints : gradient name (``"dx"``) -> what to check when that gradient is off.

    Raises
    ------
    AssertionError
        For the first gradient (in the order of ``grads``) that disagrees.
    """
    _judge_saved_code()
    for name, analytic in grads.items():
        if name not in inputs:
            raise KeyError(f"check_backward: gradient for {name!r}, which is not an input")
        gname = f"d{name}"
        hint = (hints or {}).get(gname)
        a = _as_array("check_backward", gname, analytic, hint)
        check_shape(gname, a, np.shape(inputs[name]), hint)
        numeric = layer_numerical_gradient(forward, inputs, name, douts)
        _against_numeric(gname, a, numeric, hint, rtol)


def fingerprint(value: object) -> dict[str, Any]:
    """A few numbers that identify an array: shape, sum, weighted sum, first and largest entries.

    ``weighted`` is ``sum_k a.ravel()[k] * cos(k)``: unlike the plain sum it changes when entries
    move (a transpose, two gates swapped), and unlike a hash it tells how far off a value is.
    """
    a = np.asarray(value, dtype=np.float64)
    flat = a.ravel()
    entries = {}
    if a.ndim and a.size:
        for k in sorted({0, int(np.argmax(np.abs(flat)))}):
            entries[tuple(int(i) for i in np.unravel_index(k, a.shape))] = float(flat[k])
    return {
        "shape": tuple(int(n) for n in a.shape),
        "total": float(flat.sum()),
        "weighted": float(flat @ np.cos(np.arange(flat.size))),
        "entries": entries,
    }


def check_stored(
    name: str,
    actual: object,
    shape: tuple[int, ...],
    *,
    total: float,
    weighted: float | None = None,
    entries: Mapping[tuple[int, ...], float] | None = None,
    hint: str | None = None,
    rtol: float = 1e-9,
) -> None:
    """Assert that ``actual`` has the :func:`fingerprint` stored for a fixed input.

    Notebook 00, section 2.

    The stored numbers were computed once with the course's reference implementation; a right
    answer written any other way agrees with them to rounding error (``rtol`` of the array's
    scale, ``sum |a|`` for the sums and ``max |a|`` for the entries).

    Parameters
    ----------
    name : what the student computed (``"next_h"``).
    actual : the student's array (or number).
    shape : the stored shape.
    total, weighted : the stored sum and weighted sum (see :func:`fingerprint`); a number has
        its value as ``total`` and needs no ``weighted``.
    entries : stored entries by index, shown in the message when one is off.
    hint : what to check when it does not match.
    rtol : tolerance relative to the array's scale (12 stored digits are ample).

    Raises
    ------
    AssertionError
        "next_h does not match the values stored for this input: entry [0, 0] is 0.6 but should
        be 0.7: <hint>"; also for None, a wrong shape or NaN/inf.
    """
    _judge_saved_code()
    a = _as_array("check_stored", name, actual, hint)
    check_shape(name, a, shape, hint)
    _check_finite(name, a, hint)
    got = fingerprint(a)
    size_scale = float(np.sum(np.abs(a)))
    entry_scale = float(np.max(np.abs(a))) if a.size else 0.0
    problems = []
    for index, want in (entries or {}).items():
        idx = tuple(index)
        have = float(a[idx])
        if abs(have - want) > rtol * max(entry_scale, abs(want), 1e-300):
            problems.append(f"entry {_where(idx)} is {have:.10g} but should be {want:.10g}")
    sums = (("total", "its sum", total), ("weighted", "its weighted sum", weighted))
    for key, label, want in sums:
        if want is None:
            continue
        if a.ndim == 0:
            label = "it"
        if abs(got[key] - want) > rtol * max(size_scale, abs(want), 1e-300):
            problems.append(f"{label} is {got[key]:.10g} but should be {want:.10g}")
    if problems:
        raise AssertionError(
            f"{name} does not match the values stored for this input: "
            f"{'; '.join(problems[:2])}{_hint(hint)}"
        )


def stored_call(name: str, value: object, expr: str | None = None) -> str:
    """The :func:`check_stored` line for ``value``, to paste into a self-check cell.

    Run the cell's inputs through the reference implementation once, print this, paste it, and
    add a hint. 12 significant digits: far more than the check's tolerance needs.
    """
    fp = fingerprint(value)
    call = f"check_stored({name!r}, {expr or name}, {fp['shape']}, total={fp['total']:.12g}"
    if not fp["shape"]:
        return call + ")"
    entries = ", ".join(f"{k}: {v:.12g}" for k, v in fp["entries"].items())
    return call + f", weighted={fp['weighted']:.12g}, entries={{{entries}}})"


def check_stable(name: str, call: Callable[[], Any], hint: str | None = None) -> Any:
    """Run ``call()`` with numpy's overflow and invalid-value warnings as errors; return its result.

    Notebook 01, section 2.

    For inputs that a careless formula overflows on (logits in the hundreds, gate
    pre-activations below -710): an overflow, a ``log(0)``, an invalid operation, or a NaN/inf in
    any returned array fails with ``hint``.
    """
    _judge_saved_code()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                result = call()
        except (FloatingPointError, RuntimeWarning) as err:
            raise AssertionError(f"{name} overflowed or took log(0): {err}{_hint(hint)}") from None
    outs = result if isinstance(result, tuple) else (result,)
    for k, out in enumerate(outs):
        if isinstance(out, np.ndarray | float | np.floating):
            label = name if len(outs) == 1 else f"{name} (output {k})"
            _check_finite(label, np.asarray(out, dtype=np.float64), hint)
    return result
