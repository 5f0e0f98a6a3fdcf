"""Initialisation spectra, transient growth, and the "why not rescale?" experiment."""

import numpy as np
import pytest

from rnn_core.analysis.noise import lstm_contributions, vanilla_contributions
from rnn_core.analysis.spectra import init_spectra, nonnormal_matrix, transient_growth_log10


def test_init_spectra():
    sp = {(s.name, s.scale): s for s in init_spectra(32, 0, scales=(1.0, 1.5))}
    assert np.allclose(sp["orthogonal", 1.5].sv, 1.5)
    assert np.allclose(np.abs(sp["orthogonal", 1.0].eig), 1.0)
    assert np.allclose(sp["identity", 1.0].eig, 1.0)
    assert sp["gaussian0.01", 1.0].sigma1 < 0.2
    assert sp["glorot", 1.0].sigma1 > sp["glorot", 1.0].spectral_radius  # non-normal


def test_nonnormal_transient_growth():
    W = nonnormal_matrix(8, radius=0.9, shear=1.0)
    assert np.abs(np.linalg.eigvals(W)).max() < 1 < np.linalg.norm(W, 2)
    g = transient_growth_log10(W, 400)
    assert g.max() > 3 and g[-1] < g.max() - 3  # grows by > 1e3 first, then decays
    P = np.linalg.matrix_power(W, 20)
    assert g[20] == pytest.approx(np.log10(np.linalg.norm(P, 2)))


def test_rescaling_amplifies_noise_lstm_keeps_signal():
    kw = dict(T=20, H=8, batches=60, N=8, rng=1)
    v = vanilla_contributions(scale=0.6, **kw)
    assert v.scale[0] < 1e-4  # the far-past gradient has vanished
    assert np.allclose(v.rescaled_snr, v.snr, rtol=1e-9)  # rescaling cannot raise the SNR
    assert np.allclose(v.rescaled_noise, v.noise / v.scale, rtol=1e-9)  # noise amplified
    assert v.rescaled_noise[0] > 1e3 * v.noise[0]
    # a factor per minibatch (noisy itself) changes the SNR, but does not lift it out of the noise
    assert v.per_batch_noise[0] > 1e3 * v.noise[0]
    assert not np.allclose(v.per_batch_snr, v.snr)
    lstm = lstm_contributions(forget_bias=5.0, **kw)
    assert lstm.scale[0] > 0.1  # the far past still gets gradient
    assert lstm.snr[0] > 3 * v.rescaled_snr[0]


def test_per_batch_rescaling_does_not_lift_the_far_past_out_of_the_noise():
    kw = dict(T=30, H=16, batches=100, N=16, rng=0)
    v = vanilla_contributions(scale=0.8, **kw)
    lstm = lstm_contributions(forget_bias=5.0, **kw)
    assert v.scale[0] < 1e-6 and v.snr[0] < 0.5
    ratio = v.per_batch_signal / v.per_batch_noise
    np.testing.assert_allclose(v.per_batch_snr, ratio, rtol=1e-12)
    assert v.per_batch_snr[0] < 0.5 and v.per_batch_noise[0] > 1e6 * v.noise[0]
    assert lstm.snr[0] > 10 * v.per_batch_snr[0]
