"""Tests for clvlab.formulas.gamma_gamma (Gamma-Gamma spend model, FHL 2005; Fader & Hardie 2013)."""

from __future__ import annotations

import functools
import math

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.optimize import minimize

from clvlab.formulas import gamma_gamma as gg
from tests._data import cdnow_spend
from tests._oracles import lifetimes

PQG = (
    6.2488,
    3.7446,
    15.4477,
)  # tests/references.md [GG-MLE-CDNOW]: Fader & Hardie 2013, p, q, gamma (published 6.25, 3.74, 15.44)


@functools.cache
def repeaters() -> tuple[np.ndarray, np.ndarray]:
    x, mbar = cdnow_spend()
    return x[x > 0], mbar[x > 0]


def ll_mpmath(p: float, q: float, g: float, x: float, m: float) -> mp.mpf:
    """log f(mbar | p, q, gamma, x) in arbitrary precision, straight from the density."""
    p, q, g, x, m = (mp.mpf(v) for v in (p, q, g, x, m))
    px = p * x
    return (
        mp.loggamma(px + q)
        - mp.loggamma(px)
        - mp.loggamma(q)
        + q * mp.log(g)
        + px * mp.log(x)
        + (px - 1) * mp.log(m)
        - (px + q) * mp.log(g + x * m)
    )


# ------------------------------------------------------------------------------------------------
# published / reference numbers
# ------------------------------------------------------------------------------------------------
def test_cdnow_spend_summary() -> None:
    x, mbar = cdnow_spend()
    # tests/references.md [CDNOW-CAL-SUMMARY]: 2,357 customers, 946 with repeat purchases, x sums to 2,457.
    assert x.size == 2357
    assert int((x > 0).sum()) == 946
    assert x.sum() == 2457
    assert mbar[0] == pytest.approx(22.345, abs=1e-9)  # tests/references.md [CDNOW-CUSTOMER-1]: zbar = 22.35


def test_cdnow_loglik_reference() -> None:
    x, mbar = repeaters()
    total = float(gg.loglik(*PQG, x, mbar).sum())
    # tests/references.md [GG-LL-CDNOW]: Fader & Hardie 2013, LL -4055.92 (full density: the Jacobian
    # x^(px) and all constants)
    assert total == pytest.approx(-4055.92, abs=0.005)
    # the published value is the one *with* x^(px) and mbar^(px-1); the variants are far off
    px = PQG[0] * x
    assert total - float((px * np.log(x)).sum()) == pytest.approx(-24343.62, abs=0.01)
    assert total + float(np.log(mbar).sum()) == pytest.approx(-915.09, abs=0.01)


def test_cdnow_mle_matches_published_parameters() -> None:
    x, mbar = repeaters()

    def nll(log_p: np.ndarray) -> tuple[float, np.ndarray]:
        p = np.exp(log_p)
        ll, g = gg.loglik_and_grad(*p, x, mbar)
        return -float(ll.sum()), -np.array([gi.sum() for gi in g]) * p

    res = minimize(nll, np.zeros(3), jac=True, method="L-BFGS-B", options={"gtol": 1e-10, "ftol": 1e-15})
    # Converged: a stationary point (L-BFGS-B may stop with "ABNORMAL" when its line search cannot
    # improve a function already flat to 1e-12 relative, which is not a failure to converge).
    assert np.max(np.abs(res.jac)) < 1e-3, res
    mle = np.exp(res.x)
    # tests/references.md [GG-MLE-CDNOW], [GG-LL-CDNOW]: Fader & Hardie 2013: 6.25, 3.74, 15.44; LL
    # -4055.92. The likelihood is flat along a ridge: the exact maximiser is (6.2496, 3.7442, 15.4435), and
    # the ledger's 4-decimal point (6.2488, 3.7446, 15.4477) lies on the ridge 2e-6 below the maximum.
    np.testing.assert_allclose(mle, [6.25, 3.74, 15.44], atol=0.005)
    np.testing.assert_allclose(mle, PQG, rtol=3e-4)
    assert -res.fun == pytest.approx(-4055.92, abs=0.005)
    assert 0.0 <= -res.fun - float(gg.loglik(*PQG, x, mbar).sum()) < 1e-5


def test_conditional_expected_spend_hardie_spreadsheet() -> None:
    x, mbar = cdnow_spend()
    got = gg.conditional_expected_spend(*PQG, x[:10], mbar[:10])
    # tests/references.md [GG-CE-SPEND]: Hardie's spreadsheet (note 025), E[M | data] for customers 1..10
    # in id order
    # (24.65, 18.91, 35.17, ...: customers 3, 4, 5, 8, 10 have x = 0 and get the population mean 35.17)
    expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    np.testing.assert_allclose(got, expected, atol=0.005)
    assert gg.expected_spend(*PQG) == pytest.approx(35.17, abs=0.005)
    np.testing.assert_array_equal(got[x[:10] == 0], gg.expected_spend(*PQG))


# ------------------------------------------------------------------------------------------------
# lifetimes 0.11.3 as an oracle
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params", [PQG, (0.8, 1.2, 3.0), (25.0, 0.4, 200.0)])
def test_against_lifetimes(params: tuple[float, float, float]) -> None:
    GammaGammaFitter = lifetimes("GammaGammaFitter")

    x, mbar = repeaters()
    rng = np.random.default_rng(1)
    rx = rng.integers(1, 200, 500).astype(float)
    rm = np.exp(rng.uniform(np.log(1e-3), np.log(1e6), 500))
    xs, ms = np.r_[x, rx], np.r_[mbar, rm]
    f = GammaGammaFitter()
    f.params_ = pd.Series(dict(zip(["p", "q", "v"], params, strict=True)))
    ref = np.asarray(f.conditional_expected_average_profit(pd.Series(xs), pd.Series(ms)), dtype=float)
    np.testing.assert_allclose(gg.conditional_expected_spend(*params, xs, ms), ref, rtol=1e-6)
    # lifetimes' objective: minus the mean weighted log-density, parameters on the log scale
    nll = GammaGammaFitter._negative_log_likelihood(np.log(params), x, mbar, np.ones_like(x), 0.0)
    assert float(gg.loglik(*params, x, mbar).sum()) == pytest.approx(-nll * x.size, rel=1e-10)


# ------------------------------------------------------------------------------------------------
# independent checks: beta identity, arbitrary precision, finite differences
# ------------------------------------------------------------------------------------------------
def test_density_via_beta_identity() -> None:
    # u = x mbar / (gamma + x mbar) ~ Beta(px, q), so log f(mbar) = log Beta-pdf(u) + log du/dmbar
    rng = np.random.default_rng(2)
    p, q, g = 2.3, 4.1, 12.0
    x = rng.integers(1, 50, 200).astype(float)
    m = np.exp(rng.uniform(-3, 6, 200))
    u = x * m / (g + x * m)
    ref = stats.beta.logpdf(u, p * x, q) + np.log(x * g / (g + x * m) ** 2)
    np.testing.assert_allclose(gg.loglik(p, q, g, x, m), ref, rtol=1e-10)


@pytest.mark.parametrize("params", [PQG, (0.05, 0.3, 1e-3), (40.0, 150.0, 5e4), (1.0, 1.0, 1.0)])
def test_extreme_data_vs_mpmath(params: tuple[float, float, float]) -> None:
    xs = np.array([1.0, 2.0, 10.0, 100.0, 1000.0, 10000.0])
    ms = np.array([1e-3, 0.1, 1.0, 35.0, 1e3, 1e6])
    x, m = (v.ravel() for v in np.meshgrid(xs, ms))
    ll, (gp, gq, gg_) = gg.loglik_and_grad(*params, x, m)
    e = gg.conditional_expected_spend(*params, x, m)
    assert np.all(np.isfinite(ll))
    assert np.all(np.isfinite(gp))
    assert np.all(np.isfinite(gq))
    assert np.all(np.isfinite(gg_))
    assert np.all(np.isfinite(e) == (params[0] * x + params[1] > 1))
    with mp.workdps(40):
        for i in range(x.size):
            ref = ll_mpmath(*params, x[i], m[i])
            assert ll[i] == pytest.approx(float(ref), rel=1e-12, abs=1e-10)
            p, q, g = (mp.mpf(v) for v in params)
            xi, mi = mp.mpf(x[i]), mp.mpf(m[i])
            ref_e = p * (g + xi * mi) / (p * xi + q - 1) if p * xi + q > 1 else mp.inf
            assert e[i] == pytest.approx(float(ref_e), rel=1e-13)
            for k, got in enumerate((gp[i], gq[i], gg_[i])):

                def f(v: mp.mpf, k: int = k, i: int = i) -> mp.mpf:
                    pv = list(params)
                    pv[k] = v
                    return ll_mpmath(*pv, x[i], m[i])

                ref_g = mp.diff(f, mp.mpf(params[k]))
                scale = max(1.0, abs(float(ref_g)))
                assert got == pytest.approx(float(ref_g), rel=1e-9, abs=1e-9 * scale)


@pytest.mark.parametrize("params", [PQG, (0.5, 1.5, 3.0), (20.0, 0.7, 400.0)])
def test_gradient_matches_central_differences(params: tuple[float, float, float]) -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(1, 30, 300).astype(float)
    m = np.exp(rng.uniform(-2, 8, 300))
    ll, grad = gg.loglik_and_grad(*params, x, m)
    np.testing.assert_array_equal(ll, gg.loglik(*params, x, m))
    for g1, g2 in zip(grad, gg.loglik_grad(*params, x, m), strict=True):
        np.testing.assert_array_equal(g1, g2)
    for k in range(3):
        h = 1e-6 * params[k]
        up, dn = list(params), list(params)
        up[k] += h
        dn[k] -= h
        fd = (gg.loglik(*up, x, m) - gg.loglik(*dn, x, m)) / (2 * h)
        np.testing.assert_allclose(grad[k], fd, rtol=1e-6, atol=1e-6 * np.abs(grad[k]).max())


# ------------------------------------------------------------------------------------------------
# broadcasting and edge cases
# ------------------------------------------------------------------------------------------------
def test_broadcasting_over_draws() -> None:
    x, mbar = repeaters()
    draws = np.array([PQG, (1.0, 2.0, 3.0), (10.0, 0.8, 50.0)])
    p, q, g = (draws[:, [k]] for k in range(3))
    for fn in (gg.loglik, gg.conditional_expected_spend, lambda *a: gg.loglik_grad(*a)[2]):
        together = fn(p, q, g, x, mbar)
        assert together.shape == (3, x.size)
        for i in range(3):
            np.testing.assert_allclose(together[i], fn(*draws[i], x, mbar), rtol=1e-14)
    assert gg.expected_spend(p, q, g).shape == (3, 1)
    assert gg.loglik(*PQG, 2, 10.0).shape == ()


def test_edge_cases_and_invalid_data() -> None:
    # q <= 1: infinite population mean; px + q <= 1: infinite conditional mean
    np.testing.assert_array_equal(gg.expected_spend(2.0, [0.5, 1.0, 2.0], 3.0), [np.inf, np.inf, 6.0])
    e = gg.conditional_expected_spend(0.1, 0.5, 3.0, [1.0, 5.0, 6.0, 0.0], 10.0)
    assert np.isinf(e[0])
    assert np.isinf(e[1])
    assert e[2] == pytest.approx(0.1 * 63.0 / 0.1)
    assert np.isinf(e[3])
    # x = 0: population mean whatever mbar
    assert gg.conditional_expected_spend(*PQG, 0, 123.0) == pytest.approx(float(gg.expected_spend(*PQG)))
    # invalid data: nan, no warnings
    ll = gg.loglik(*PQG, [0.0, 2.0, -1.0, 2.0, np.nan], [10.0, 0.0, 5.0, -3.0, 1.0])
    assert np.all(np.isnan(ll))
    assert all(np.all(np.isnan(v)) for v in gg.loglik_grad(*PQG, [0.0, 1.0], [1.0, 0.0]))
    assert np.all(np.isnan(gg.conditional_expected_spend(*PQG, [-1.0, 1.0], [1.0, -1.0])))


# ------------------------------------------------------------------------------------------------
# simulation
# ------------------------------------------------------------------------------------------------
def test_simulated_mean_spend_has_the_model_distribution() -> None:
    rng = np.random.default_rng(4)
    p, q, g = PQG
    x = rng.integers(1, 40, 50_000).astype(float)
    m = gg.simulate(p, q, g, x, rng)
    assert m.shape == x.shape
    assert np.all(m > 0)
    # probability integral transform through u = x m / (gamma + x m) ~ Beta(p x, q)
    u = stats.beta.cdf(x * m / (g + x * m), p * x, q)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # E[mbar] = p gamma / (q - 1) whatever x
    assert m.mean() == pytest.approx(float(gg.expected_spend(p, q, g)), rel=0.02)


def test_simulate_broadcasting_and_zero_transactions() -> None:
    rng = np.random.default_rng(5)
    out = gg.simulate(np.array([[1.0], [5.0]]), 3.0, 10.0, np.array([0.0, 1.0, 7.0]), rng)
    assert out.shape == (2, 3)
    assert np.all(np.isnan(out[:, 0]))
    assert np.all(np.isfinite(out[:, 1:]))
    big = gg.simulate(*PQG, np.full(1000, 10_000.0), rng)
    # with 10,000 transactions the mean is essentially p / nu: compare with its exact distribution
    nu_implied = PQG[0] / big
    assert stats.kstest(nu_implied, stats.gamma(PQG[1], scale=1 / PQG[2]).cdf).pvalue > 1e-3
    assert math.isfinite(float(big.sum()))
    with pytest.raises(ValueError, match="non-negative"):
        gg.simulate(*PQG, np.array([-1.0]), rng)


def test_random_extreme_parameters_stay_finite() -> None:
    rng = np.random.default_rng(6)
    x = np.array([[1.0], [2.0], [10.0], [1e4]])
    m = np.array([1e-3, 1.0, 1e6])
    for p, q, g in np.exp(rng.uniform(-7, 7, (200, 3))):
        ll, grad = gg.loglik_and_grad(p, q, g, x, m)
        assert np.all(np.isfinite(ll))
        assert all(np.all(np.isfinite(v)) for v in grad)
        e = gg.conditional_expected_spend(p, q, g, x, m)
        assert np.all(np.isfinite(e) | (p * x + q <= 1))
