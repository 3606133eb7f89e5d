"""Parameter recovery: fit data simulated from known parameters; the truth lies in the 99% region."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import clvlab


def _inside_99(model, truth) -> bool:
    # Joint 99% region of the asymptotic normal on the log scale: Mahalanobis distance vs chi2(k).
    diff = np.log(model.params_.to_numpy()) - np.log(np.asarray(truth))
    d2 = float(diff @ np.linalg.solve(model._log_covariance, diff))
    return d2 < stats.chi2.ppf(0.99, len(truth))


def _fit_simulated(model_cls, truth, n, T, seed):
    gen = model_cls.from_params(dict(zip(model_cls.param_names, truth, strict=True)))
    data = gen.simulate(T, size=n, seed=seed)
    return model_cls().fit(data)


@settings(max_examples=4, deadline=None, derandomize=True)
@given(
    r=st.floats(0.3, 2.0),
    alpha=st.floats(2.0, 20.0),
    a=st.floats(0.5, 2.0),
    b=st.floats(1.0, 6.0),
    seed=st.integers(0, 2**31),
)
def test_bgnbd_recovers_parameters(r, alpha, a, b, seed):
    truth = [r, alpha, a, b]
    model = _fit_simulated(clvlab.BetaGeo, truth, 8000, 52.0, seed)
    assert _inside_99(model, truth), (model.params_.tolist(), truth)


@settings(max_examples=3, deadline=None, derandomize=True)
@given(
    r=st.floats(0.3, 2.0),
    alpha=st.floats(2.0, 20.0),
    s=st.floats(0.3, 2.0),
    beta=st.floats(2.0, 20.0),
    seed=st.integers(0, 2**31),
)
def test_pareto_nbd_recovers_parameters(r, alpha, s, beta, seed):
    truth = [r, alpha, s, beta]
    model = _fit_simulated(clvlab.ParetoNBD, truth, 8000, 52.0, seed)
    assert _inside_99(model, truth), (model.params_.tolist(), truth)


@settings(max_examples=3, deadline=None, derandomize=True)
@given(
    r=st.floats(0.3, 2.0),
    alpha=st.floats(2.0, 20.0),
    a=st.floats(0.5, 2.0),
    b=st.floats(1.0, 6.0),
    seed=st.integers(0, 2**31),
)
def test_mbgnbd_recovers_parameters(r, alpha, a, b, seed):
    truth = [r, alpha, a, b]
    model = _fit_simulated(clvlab.ModifiedBetaGeo, truth, 8000, 52.0, seed)
    assert _inside_99(model, truth), (model.params_.tolist(), truth)


@settings(max_examples=3, deadline=None, derandomize=True)
@given(
    alpha=st.floats(0.5, 3.0),
    beta=st.floats(0.5, 3.0),
    gamma=st.floats(0.3, 2.0),
    delta=st.floats(1.0, 5.0),
    seed=st.integers(0, 2**31),
)
def test_bgbb_recovers_parameters(alpha, beta, gamma, delta, seed):
    truth = [alpha, beta, gamma, delta]
    model = _fit_simulated(clvlab.BetaGeoBetaBinom, truth, 8000, 8, seed)
    assert _inside_99(model, truth), (model.params_.tolist(), truth)


@settings(max_examples=3, deadline=None, derandomize=True)
@given(
    p=st.floats(1.0, 10.0),
    q=st.floats(2.0, 8.0),
    gamma=st.floats(5.0, 50.0),
    seed=st.integers(0, 2**31),
)
def test_gamma_gamma_recovers_parameters(p, q, gamma, seed):
    truth = [p, q, gamma]
    gen = clvlab.GammaGamma.from_params({"p": p, "q": q, "gamma": gamma})
    freq = np.random.default_rng(seed).integers(1, 10, 4000)
    model = clvlab.GammaGamma().fit(gen.simulate(freq, seed=seed))
    assert _inside_99(model, truth), (model.params_.tolist(), truth)
