"""First-order optimisers that update a dict of parameters in place.

Every optimiser has ``step(params, grads)``: ``params`` and ``grads`` are dicts with the same keys
and shapes; ``params`` is updated in place, and the optimiser's state (velocity, accumulators,
moments) is kept per parameter name. ``lr`` is a plain attribute, so a schedule may change it
between steps.

    SGD        v <- mu v - lr g;                 p <- p + v          (mu = 0: plain SGD)
    Adagrad    G <- G + g^2;                     p <- p - lr g / (sqrt(G) + eps)
    Adam       m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;   t <- t + 1
               p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

import numpy as np

from rnn_core._validate import check_array, check_positive

__all__ = ["Optimizer", "SGD", "Adagrad", "Adam"]


class Optimizer:
    """Base class: argument checks and per-parameter state."""

    def __init__(self, lr: float) -> None:
        self.lr = check_positive(f"{type(self).__name__}", "lr", lr, allow_zero=True)
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def _check(
        self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> None:
        fn = f"{type(self).__name__}.step"
        if not isinstance(params, MutableMapping) or not isinstance(grads, Mapping):
            raise TypeError(f"{fn}: params and grads must be dicts of arrays, got "
                            f"{type(params).__name__} and {type(grads).__name__}")
        missing = sorted(set(params) - set(grads))
        extra = sorted(set(grads) - set(params))
        if missing or extra:
            raise KeyError(f"{fn}: grads must have the same keys as params; missing {missing}, "
                           f"unexpected {extra}")
        if self.state and set(self.state) != set(params):
            raise KeyError(f"{fn}: params keys {sorted(params)} differ from the keys this "
                           f"optimiser has state for {sorted(self.state)}; use a new optimiser")
        self.lr = check_positive(fn, "lr", self.lr, allow_zero=True)
        for k, p in params.items():
            p = check_array(fn, f"params[{k!r}]", p, p.shape if isinstance(p, np.ndarray) else ())
            check_array(fn, f"grads[{k!r}]", grads[k], p.shape)

    def step(
        self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> None:
        """Update ``params`` in place from ``grads`` (dicts with the same keys and shapes)."""
        self._check(params, grads)
        for k in params:
            self._update(k, params[k], grads[k])

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def _slot(self, key: str, name: str, like: np.ndarray) -> np.ndarray:
        st = self.state.setdefault(key, {})
        if name not in st:
            st[name] = np.zeros_like(like)
        return st[name]


class SGD(Optimizer):
    """Stochastic gradient descent with (heavy-ball) momentum.

    Notebook 05, section 3.

    Parameters
    ----------
    lr : learning rate.
    momentum : mu in [0, 1); 0 gives plain SGD ``p <- p - lr g``.
    """

    def __init__(self, lr: float = 1e-2, momentum: float = 0.0) -> None:
        super().__init__(lr)
        m = check_positive("SGD", "momentum", momentum, allow_zero=True)
        if m >= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum!r}")
        self.momentum = m

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        if self.momentum == 0:
            self.state.setdefault(key, {})
            p -= self.lr * g
            return
        v = self._slot(key, "velocity", p)
        v *= self.momentum
        v -= self.lr * g
        p += v


class Adagrad(Optimizer):
    """Adagrad: per-entry step sizes shrink with the accumulated squared gradient.

    Parameters
    ----------
    lr : learning rate.
    eps : added to sqrt(G) to avoid division by zero.
    """

    def __init__(self, lr: float = 1e-2, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.eps = check_positive("Adagrad", "eps", eps)

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        G = self._slot(key, "sum_sq", p)
        G += g * g
        p -= self.lr * g / (np.sqrt(G) + self.eps)


class Adam(Optimizer):
    """Adam with bias-corrected first and second moments (Kingma & Ba, 2015).

    Notebook 01, section 3.

    Parameters
    ----------
    lr : learning rate.
    beta1, beta2 : decay rates of the moments, in [0, 1).
    eps : added to the root of the second moment.
    """

    def __init__(
        self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(lr)
        for name, b in (("beta1", beta1), ("beta2", beta2)):
            b = check_positive("Adam", name, b, allow_zero=True)
            if b >= 1:
                raise ValueError(f"Adam: {name} must be in [0, 1), got {b!r}")
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.eps = check_positive("Adam", "eps", eps)
        self.t = 0

    def step(
        self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> None:
        """Update ``params`` in place (one Adam step for every parameter)."""
        self._check(params, grads)
        self.t += 1
        for k in params:
            self._update(k, params[k], grads[k])

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        m = self._slot(key, "m", p)
        v = self._slot(key, "v", p)
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * (g * g)
        m_hat = m / (1 - self.beta1**self.t)
        v_hat = v / (1 - self.beta2**self.t)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
