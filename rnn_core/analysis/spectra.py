"""Spectra of initialisations, and the transient growth of a non-normal matrix.

What decides how gradients flow at the start of training is the recurrent matrix: its singular
values bound every step (Pascanu et al. 2013), its eigenvalues decide the long run. For a normal
matrix (orthogonal, identity, symmetric) the two coincide in modulus; for a non-normal one the
largest singular value can exceed 1 while every eigenvalue is inside the unit circle, and then
``||W^k||`` first GROWS before it decays (transient growth).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core._validate import as_generator, check_array, check_int, check_positive
from rnn_core.init import INIT_NAMES, init_matrix

_TINY = np.finfo(float).tiny


@dataclass(frozen=True)
class Spectrum:
    """Singular values (descending, shape (H,)) and eigenvalues (complex, shape (H,)) of one W."""

    name: str
    scale: float
    sv: np.ndarray
    eig: np.ndarray

    @property
    def spectral_radius(self) -> float:
        """max |eigenvalue|: the growth per step in the long run."""
        return float(np.abs(self.eig).max())

    @property
    def sigma1(self) -> float:
        """The largest singular value: the most one step can stretch a vector."""
        return float(self.sv[0])


def init_spectra(
    H: int,
    rng: np.random.Generator | int,
    scales: tuple[float, ...] = (1.0,),
    names: tuple[str, ...] = INIT_NAMES,
) -> list[Spectrum]:
    """Spectra of ``scale * init_matrix(name, (H, H))`` for every name and scale, side by side.

    Parameters
    ----------
    H : hidden size. rng : Generator or int seed (one matrix per name, shared by its scales).
    scales : multipliers (> 0). names : initialiser names of ``rnn_core.init.init_matrix``.
    """
    fn = "init_spectra"
    H = check_int(fn, "H", H, minimum=1)
    gen = as_generator(rng, fn)
    out = []
    for name in names:
        if name not in INIT_NAMES:
            raise ValueError(f"{fn}: names must be in {INIT_NAMES}, got {name!r}")
        W = init_matrix(name, (H, H), gen)
        sv, eig = np.linalg.svd(W, compute_uv=False), np.linalg.eigvals(W)
        for s in scales:
            s = check_positive(fn, "scales", s)
            out.append(Spectrum(name=name, scale=s, sv=sv * s, eig=eig * s))
    return out


def nonnormal_matrix(H: int, radius: float = 0.9, shear: float = 1.0) -> np.ndarray:
    """``radius * I + shear * N`` with N the upper shift (ones above the diagonal): shape (H, H).

    Notebook 06, section 7.

    Every eigenvalue equals ``radius`` (so the spectral radius is below 1 for radius < 1), yet the
    largest singular value is about ``radius + shear`` > 1.
    """
    H = check_int("nonnormal_matrix", "H", H, minimum=2)
    return radius * np.eye(H) + shear * np.eye(H, k=1)


def transient_growth_log10(W: np.ndarray, K: int) -> np.ndarray:
    """log10 ||W^k||_2 for k = 0..K, computed with rescaling (finite for any K).

    Notebook 06, section 7.

    Parameters
    ----------
    W : shape (H, H). K : largest power.

    Returns
    -------
    shape (K+1,); entry 0 is 0 (the identity).
    """
    W = check_array("transient_growth_log10", "W", W, ("H", "H"))
    K = check_int("transient_growth_log10", "K", K, minimum=0)
    out = np.zeros(K + 1)
    P, s = np.eye(W.shape[0]), 0.0
    for k in range(1, K + 1):
        P = P @ W
        n = max(np.linalg.norm(P, 2), _TINY)
        P, s = P / n, s + np.log10(n)
        out[k] = s
    return out
