"""Self-checks for students: assertions whose message says what is wrong and what to try.

Notebook authors use these in visible test cells::

    from rnn_core.checks import check_close, check_gradient
    check_close("dWh", dWh, dWh_expected, hint="are you accumulating over all time steps?")
    # AssertionError: dWh is off by 3.1e-02 (relative; worst entry [1, 0]: got 0.2113,
    #                 expected 0.2049): are you accumulating over all time steps?

A failed check raises ``AssertionError``, so nbgrader scores the test cell 0 and the grader's
feedback quotes the message. numpy only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["check_shape", "check_close", "check_gradient", "relative_error"]


def _hint(hint: str | None) -> str:
    return f": {hint}" if hint else ""


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """``max|a - e| / max(max|a|, max|e|)``; 0 when both are exactly zero."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(e))))
    diff = float(np.max(np.abs(a - e)))
    return 0.0 if diff == 0.0 else diff / scale


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


def check_shape(
    name: str, actual: object, expected_shape: tuple[int, ...], hint: str | None = None
) -> None:
    """Assert that ``actual`` is an array of shape ``expected_shape``.

    A transposed shape gets its own message ("did you mean ``.T``?").
    """
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

    Parameters
    ----------
    name : what the student computed, as they call it (``"dWh"``).
    actual : the student's value (array or number).
    expected : the reference value, same shape.
    hint : what to try when it is off, in words a student can act on.
    rtol : largest allowed relative error (:func:`relative_error`).
    atol : differences below this pass whatever the scale (both near zero).

    Raises
    ------
    AssertionError
        With the size of the error, the worst entry, and the hint: "dWh is off by 3.0e-02
        (relative; worst entry [1, 0]: got 0.21, expected 0.2): are you accumulating over all
        time steps?". Also for None, a wrong shape, or NaN/inf in ``actual``.
    """
    a = _as_array("check_close", name, actual, hint)
    e = np.asarray(expected, dtype=np.float64)
    check_shape(name, a, e.shape, hint)
    if not np.all(np.isfinite(a)):
        bad = "NaN" if np.isnan(a).any() else "inf"
        raise AssertionError(f"{name} contains {bad}{_hint(hint)}")
    diff = np.abs(a - e)
    if a.size == 0 or float(np.max(diff)) <= atol:
        return
    err = relative_error(a, e)
    if err <= rtol:
        return
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
    where = f"entry {list(int(i) for i in worst)}: " if worst else ""
    raise AssertionError(
        f"{name} is off by {err:.1e} (relative; worst {where}got {a[worst]:.6g}, "
        f"expected {e[worst]:.6g}){_hint(hint)}"
    )


def _numeric_gradient(
    f: Callable[[np.ndarray], object], x: np.ndarray, dout: np.ndarray | None, eps: float
) -> np.ndarray:
    """Centred differences of ``sum(f(x) * dout)`` (or of scalar ``f(x)``) in every entry of x."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        try:
            x[i] = old + eps
            plus = np.asarray(f(x), dtype=np.float64)
            x[i] = old - eps
            minus = np.asarray(f(x), dtype=np.float64)
        finally:
            x[i] = old
        delta = plus - minus
        grad[i] = float(np.sum(delta * dout)) if dout is not None else float(delta)
        grad[i] /= 2 * eps
    return grad


def check_gradient(
    name: str,
    f: Callable[[np.ndarray], object],
    x: np.ndarray,
    analytic: object,
    hint: str | None = None,
    *,
    dout: np.ndarray | None = None,
    eps: float = 1e-6,
    rtol: float = 1e-7,
) -> None:
    """Assert that an analytic gradient matches centred differences.

    Parameters
    ----------
    name : the gradient's name (``"dx"``).
    f : function of ``x`` alone: a scalar loss, or an array output when ``dout`` is given.
    x : float64 array the gradient is taken with respect to; perturbed in place and restored.
    analytic : the student's gradient, shape of x.
    hint : what to check when it is off.
    dout : upstream gradient of ``f(x)``'s output (the check uses ``sum(f(x) * dout)``).
    eps : step of the centred differences.
    rtol : largest allowed relative error (float64 gradients reach about 1e-9).

    Raises
    ------
    AssertionError
        With the relative error against the numeric gradient and the hint.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(
            f"check_gradient: x must be a float64 numpy array, got "
            f"{getattr(x, 'dtype', type(x).__name__)}"
        )
    a = _as_array("check_gradient", name, analytic, hint)
    check_shape(name, a, x.shape, hint)
    numeric = _numeric_gradient(f, x, None if dout is None else np.asarray(dout), eps)
    try:
        check_close(name, a, numeric, rtol=rtol, atol=1e-10)
    except AssertionError as err:
        raise AssertionError(f"{err} (compared with the numeric gradient){_hint(hint)}") from None
