"""Tests of clvlab.formulas.mbgnbd against published values, lifetimes 0.11.3 and mpmath."""

from __future__ import annotations

import math
from typing import Any

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize

from clvlab.formulas import bgnbd, mbgnbd
from tests._data import cdnow_summary_weeks
from tests._oracles import (
    assert_matches_where_finite,
    bg_fitter,
    bg_params_st,
    customers_st,
    quiet,
)

# MBG/NBD MLE on CDNOW as given to 3 decimals. tests/references.md [MBGNBD-MLE-CDNOW]: lifetimes tests
# (from BTYDplus), 0.525, 6.183, 0.891, 1.614
PUB = (0.525, 6.183, 0.891, 1.614)
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


def lifetimes_fitter(r: float, alpha: float, a: float, b: float) -> Any:
    return bg_fitter("ModifiedBetaGeoFitter", r, alpha, a, b)


# ---------------------------------------------------------------------------------------------------
# mpmath references, literally from Batislam, Denizel & Filiztekin (2007)
# ---------------------------------------------------------------------------------------------------


def mp_loglik(r, alpha, a, b, x, t_x, T):
    """BDF 2007 likelihood (arguments may be mpf; never lowers the working precision, for mp.diff)."""
    with mp.workdps(max(mp.mp.dps, 50)):
        r, alpha, a, b, x, t_x, T = (mp.mpf(v) for v in (r, alpha, a, b, x, t_x, T))
        common = mp.gamma(r + x) * alpha**r / mp.gamma(r)
        L = mp.beta(a, b + x + 1) / mp.beta(a, b) * common / (alpha + T) ** (r + x)
        L += mp.beta(a + 1, b + x) / mp.beta(a, b) * common / (alpha + t_x) ** (r + x)
        return mp.log(L)


def mp_p_alive(r, alpha, a, b, x, t_x, T):
    with mp.workdps(50):
        r, alpha, a, b, x, t_x, T = (mp.mpf(float(v)) for v in (r, alpha, a, b, x, t_x, T))
        return 1 / (1 + a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x))


def _near_one(a):
    # a = 1 is a removable singularity of the closed forms: evaluate 1e-40 away at 80 digits
    return a + mp.mpf("1e-40") if a == 1 else a


def mp_expected(r, alpha, a, b, t):
    """BDF 2007: b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))]."""
    with mp.workdps(80):
        r, alpha, a, b, t = (mp.mpf(float(v)) for v in (r, alpha, a, b, t))
        a = _near_one(a)
        return b / (a - 1) * (1 - (alpha / (alpha + t)) ** r * mp.hyp2f1(r, b + 1, a + b, t / (alpha + t)))


def mp_conditional(r, alpha, a, b, t, x, t_x, T):
    """BDF 2007 conditional expectation (for large x via Euler's transformation of the same 2F1)."""
    with mp.workdps(80):
        r, alpha, a, b, t, x, t_x, T = (mp.mpf(float(v)) for v in (r, alpha, a, b, t, x, t_x, T))
        a = _near_one(a)
        z = t / (alpha + T + t)
        g = a + b + x
        if x < 100:
            bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * mp.hyp2f1(r + x, b + x + 1, g, z)
        else:  # (1-z)^(r+x) 2F1(r+x, b+x+1; g; z) = (1-z)^(a-1) 2F1(g-r-x, a-1; g; z)
            bracket = 1 - (1 - z) ** (a - 1) * mp.hyp2f1(g - r - x, a - 1, g, z)
        pa = 1 / (1 + a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x))
        return g / (a - 1) * bracket * pa


def mp_pmf(r, alpha, a, b, t, n):
    """BDF 2007 P(X(t) = n) with its finite sum, at enough digits for the 1 - sum cancellation."""
    log10_nb = (
        math.lgamma(r + n)
        - math.lgamma(r)
        - math.lgamma(n + 1)
        - r * math.log1p(t / alpha)
        + n * math.log(t / (alpha + t))
    ) / math.log(10)
    # capped: below ~1e-400 absolute error the reference is exact for float64 (which underflows there)
    with mp.workdps(40 + min(400, max(0, math.ceil(-log10_nb)))):
        r, alpha, a, b, t = (mp.mpf(float(v)) for v in (r, alpha, a, b, t))
        n = int(n)
        th = t / (alpha + t)
        terms = [(alpha / (alpha + t)) ** r]
        for j in range(n):
            terms.append(terms[-1] * (r + j) / (j + 1) * th)
        p = mp.beta(a, b + n + 1) / mp.beta(a, b) * terms[n]
        p += mp.beta(a + 1, b + n) / mp.beta(a, b) * (1 - mp.fsum(terms[:n]))
        return +p


# ---------------------------------------------------------------------------------------------------
# Published reference values (CDNOW, weeks)
# ---------------------------------------------------------------------------------------------------


def test_loglik_sum_at_published_parameters():
    x, t_x, T = cdnow_summary_weeks()
    ll = mbgnbd.loglik(*PUB, x, t_x, T).sum()
    # tests/references.md [MBGNBD-LL-CDNOW]: LL -9582.13. Measured: -9582.1358 (at the MLE: -9582.1357).
    assert ll == pytest.approx(-9582.13, abs=0.01)
    # The parameters are the MLE rounded to 3 decimals: first-order LL change over half a unit in the 3rd
    # decimal of each parameter must be small.
    grad = np.array([g.sum() for g in mbgnbd.loglik_grad(*PUB, x, t_x, T)])
    assert np.sum(np.abs(grad) * 5e-4) < 2e-3  # measured 5.9e-4


def test_mle_reproduces_published_parameters():
    x, t_x, T = cdnow_summary_weeks()

    def nll(lp):
        p = np.exp(lp)
        ll, grad = mbgnbd.loglik_and_grad(*p, x, t_x, T)
        return -ll.sum(), -np.array([g.sum() for g in grad]) * p

    res = optimize.minimize(nll, np.zeros(4), jac=True, method="BFGS", options={"gtol": 1e-7})
    assert np.max(np.abs(res.jac)) < 1e-3
    mle = np.exp(res.x)  # measured 0.524843, 6.183085, 0.891359, 1.614002
    np.testing.assert_allclose(mle, PUB, atol=6e-4)  # tests/references.md [MBGNBD-MLE-CDNOW] (3 decimals)
    assert -res.fun == pytest.approx(-9582.13, abs=0.01)  # tests/references.md [MBGNBD-LL-CDNOW]


# ---------------------------------------------------------------------------------------------------
# lifetimes 0.11.3 as an oracle
# ---------------------------------------------------------------------------------------------------


def test_oracle_cdnow():
    x, t_x, T = cdnow_summary_weeks()
    f = lifetimes_fitter(*PUB)
    for t in (1.0, 39.0, 78.0):
        np.testing.assert_allclose(
            mbgnbd.conditional_expected_purchases(*PUB, t, x, t_x, T),
            quiet(f.conditional_expected_number_of_purchases_up_to_time, t, x, t_x, T),
            rtol=1e-9,
        )
    np.testing.assert_allclose(
        mbgnbd.p_alive(*PUB, x, t_x, T), quiet(f.conditional_probability_alive, x, t_x, T), rtol=1e-12
    )
    ll_lifetimes = -quiet(f._negative_log_likelihood, np.log(PUB), x, t_x, T, np.ones_like(x), 0.0) * x.size
    assert mbgnbd.loglik(*PUB, x, t_x, T).sum() == pytest.approx(float(ll_lifetimes), rel=1e-12)
    t = np.array([0.01, 0.5, 1.0, 7.0, 39.0, 78.0, 520.0])
    np.testing.assert_allclose(
        mbgnbd.expected_purchases(*PUB, t), quiet(f.expected_number_of_purchases_up_to_time, t), rtol=1e-9
    )
    for t in (1.0, 39.0, 78.0):
        n = np.arange(0, 60)
        theirs = np.array([quiet(f.probability_of_n_purchases_up_to_time, t, k) for k in n])
        np.testing.assert_allclose(mbgnbd.purchase_count_pmf(*PUB, t, n), theirs, rtol=1e-6, atol=1e-12)


params_st = bg_params_st


@SETTINGS
@given(params=params_st, cust=customers_st(), t=st.floats(0.01, 500.0))
def test_oracle_random_customers(params, cust, t):
    x, t_x, T = cust
    f = lifetimes_fitter(*params)
    assert_matches_where_finite(
        mbgnbd.p_alive(*params, x, t_x, T), quiet(f.conditional_probability_alive, x, t_x, T)
    )
    # Near a = 1 lifetimes' closed form (a+b+x-1)/(a-1) [1 - ...] loses digits (e.g. a = 1.000023, x = 5,
    # t = 0.01: lifetimes is off by 1.2e-6 relative while clvlab matches mpmath to 1e-15); that region is
    # tested against mpmath instead.
    if abs(params[2] - 1.0) > 0.01:
        assert_matches_where_finite(
            mbgnbd.conditional_expected_purchases(*params, t, x, t_x, T),
            quiet(f.conditional_expected_number_of_purchases_up_to_time, t, x, t_x, T),
        )
        assert_matches_where_finite(
            mbgnbd.expected_purchases(*params, t), quiet(f.expected_number_of_purchases_up_to_time, t)
        )
    ours = mbgnbd.loglik(*params, x, t_x, T)
    for i in range(x.size):
        one = (x[i : i + 1], t_x[i : i + 1], T[i : i + 1])
        theirs = -quiet(f._negative_log_likelihood, np.log(params), *one, np.ones(1), 0.0)
        assert_matches_where_finite(ours[i], theirs, rtol=1e-9)


@SETTINGS
@given(params=params_st, t=st.floats(0.01, 500.0), n=st.integers(0, 60))
def test_oracle_random_pmf(params, t, n):
    f = lifetimes_fitter(*params)
    theirs = quiet(f.probability_of_n_purchases_up_to_time, t, n)
    # lifetimes' 1 - (finite sum) cancels far in the tail (absolute error ~1e-16): hence atol; the tail is
    # checked against mpmath below.
    if np.isfinite(theirs):
        np.testing.assert_allclose(mbgnbd.purchase_count_pmf(*params, t, n), theirs, rtol=1e-6, atol=1e-12)


# ---------------------------------------------------------------------------------------------------
# Robustness against mpmath
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "t"),
    [
        (PUB, 39.0),
        (PUB, 3650.0),
        ((0.525, 6.183, 1.0, 1.614), 39.0),  # a = 1: b/(a-1) in the closed form; lifetimes inf/NaN
        ((0.525, 6.183, 1.0 + 1e-9, 1.614), 39.0),
        ((0.525, 6.183, 1.0 - 1e-5, 1.614), 520.0),
        ((0.3, 30.0, 0.2, 0.3), 3650.0),  # a + b < 1, 10 years in days
        ((0.3, 0.5, 0.05, 0.05), 3650.0),
        ((3.0, 0.2, 25.0, 0.3), 3650.0),
        ((0.525, 6.183, 0.891, 1.614), 1e-3),
    ],
)
def test_expected_purchases_vs_mpmath(params, t):
    got = mbgnbd.expected_purchases(*params, t)
    assert float(got) == pytest.approx(float(mp_expected(*params, t)), rel=1e-10)


def test_a_equal_one_where_lifetimes_fails():
    p = (0.525, 6.183, 1.0, 1.614)
    f = lifetimes_fitter(*p)
    assert not np.isfinite(quiet(f.expected_number_of_purchases_up_to_time, 39.0))
    assert not np.isfinite(
        quiet(f.conditional_expected_number_of_purchases_up_to_time, 39.0, 2, 30.43, 38.86)
    )
    got = mbgnbd.conditional_expected_purchases(*p, 39.0, 2, 30.43, 38.86)
    assert float(got) == pytest.approx(float(mp_conditional(*p, 39.0, 2, 30.43, 38.86)), rel=1e-10)


@pytest.mark.parametrize(
    ("params", "t", "x", "t_x", "T"),
    [
        (PUB, 39.0, 2, 30.43, 38.86),
        (PUB, 39.0, 0, 0.0, 38.86),
        (PUB, 52.0, 26, 30.86, 31.0),
        ((0.525, 6.183, 1.0, 1.614), 3650.0, 0, 0.0, 10000.0),
        ((0.525, 6.183, 1.0 - 1e-7, 1.614), 39.0, 5, 20.0, 39.0),
        ((0.24, 30.0, 0.79, 2.43), 3650.0, 10000, 10000.0, 10000.0),  # daily units, x = T = 10,000
        ((0.24, 30.0, 1.0, 2.43), 3650.0, 10000, 10000.0, 10000.0),
        ((0.24, 30.0, 0.79, 2.43), 1.0, 10000, 9990.0, 10000.0),
        ((0.3, 30.0, 0.2, 0.3), 3650.0, 3, 100.0, 1000.0),
    ],
)
def test_conditional_expectation_vs_mpmath(params, t, x, t_x, T):
    got = mbgnbd.conditional_expected_purchases(*params, t, x, t_x, T)
    assert np.isfinite(got)
    assert float(got) == pytest.approx(float(mp_conditional(*params, t, x, t_x, T)), rel=1e-10)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    params=st.tuples(
        st.floats(-2.0, 1.5), st.floats(-1.0, 3.0), st.floats(-2.0, 1.5), st.floats(-2.0, 1.5)
    ).map(lambda v: tuple(10.0**w for w in v)),
    x=st.sampled_from([0, 1, 3, 20, 300, 3000, 10000]),
    T=st.floats(0.1, 10000.0),
    frac=st.floats(0.0, 1.0),
    t=st.floats(1e-3, 3650.0),
    a_one=st.sampled_from([None, 0.0, 1e-12, -1e-8, 1e-4]),
)
def test_conditional_expectation_random_vs_mpmath(params, x, T, frac, t, a_one):
    if a_one is not None:
        params = (params[0], params[1], 1.0 + a_one, params[3])
    t_x = T * frac if x > 0 else 0.0
    got = float(mbgnbd.conditional_expected_purchases(*params, t, x, t_x, T))
    ref = float(mp_conditional(*params, t, x, t_x, T))
    assert got == pytest.approx(ref, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(
    ("x", "t_x", "T"),
    [(0, 0.0, 0.0), (0, 0.0, 10000.0), (1, 0.0, 10000.0), (10000, 10000.0, 10000.0), (10000, 1.0, 10000.0)],
)
@pytest.mark.parametrize("params", [PUB, (0.24, 30.0, 0.3, 0.4), (5.0, 0.5, 1.0, 0.1)])
def test_loglik_and_p_alive_extremes_vs_mpmath(params, x, t_x, T):
    assert float(mbgnbd.loglik(*params, x, t_x, T)) == pytest.approx(
        float(mp_loglik(*params, x, t_x, T)), rel=1e-11, abs=1e-9
    )
    assert float(mbgnbd.p_alive(*params, x, t_x, T)) == pytest.approx(
        float(mp_p_alive(*params, x, t_x, T)), rel=1e-11
    )


@pytest.mark.parametrize("params", [PUB, (0.3, 30.0, 0.3, 0.4)])
@pytest.mark.parametrize("t", [1.0, 78.0, 3650.0])
def test_pmf_up_to_n_1000_vs_mpmath(params, t):
    n = np.array([0, 1, 2, 10, 100, 200, 500, 1000])
    got = mbgnbd.purchase_count_pmf(*params, t, n)
    ref = np.array([float(mp_pmf(*params, t, k)) for k in n])
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-320)


def test_pmf_where_lifetimes_overflows():
    f = lifetimes_fitter(*PUB)
    assert not np.isfinite(quiet(f.probability_of_n_purchases_up_to_time, 3650.0, 200))
    assert float(mbgnbd.purchase_count_pmf(*PUB, 3650.0, 200)) == pytest.approx(
        float(mp_pmf(*PUB, 3650.0, 200)), rel=1e-10
    )


@pytest.mark.parametrize("params", [PUB, (0.3, 4.0, 0.3, 0.4), (0.525, 6.183, 1.0, 1.614)])
@pytest.mark.parametrize("t", [1.0, 39.0, 520.0])
def test_pmf_sums_to_one_and_mean_is_expectation(params, t):
    n = np.arange(0, 20000)
    p = mbgnbd.purchase_count_pmf(*params, t, n)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert (n * p).sum() == pytest.approx(float(mbgnbd.expected_purchases(*params, t)), rel=1e-10)


def test_conditional_pmf_consistency():
    n = np.arange(0, 30000)[:, None]
    x = np.array([0.0, 2.0, 26.0, 100.0, 1.0])
    t_x = np.array([0.0, 30.43, 30.86, 38.0, 0.5])
    T = np.array([38.0, 38.86, 31.0, 39.0, 39.0])
    for params in (PUB, (0.3, 4.0, 0.3, 0.4), (0.525, 6.183, 1.0, 1.614)):
        p = mbgnbd.conditional_purchase_pmf(*params, 39.0, n, x, t_x, T)
        np.testing.assert_allclose(p.sum(0), 1.0, atol=1e-12)
        np.testing.assert_allclose(
            (n * p).sum(0), mbgnbd.conditional_expected_purchases(*params, 39.0, x, t_x, T), rtol=1e-9
        )
    # A brand-new customer (x = 0 at T = 0) is the unconditional MBG/NBD distribution: P(alive) = b/(a+b)
    # and the BG/NBD-type future with b + 1 recombine into BDF's P(X(t) = n).
    k = np.arange(0, 50)
    np.testing.assert_allclose(
        mbgnbd.conditional_purchase_pmf(*PUB, 39.0, k, 0, 0.0, 0.0),
        mbgnbd.purchase_count_pmf(*PUB, 39.0, k),
        rtol=1e-13,
    )
    pa = mbgnbd.p_alive(*PUB, 0, 0.0, 0.0)
    assert pa == pytest.approx(PUB[3] / (PUB[2] + PUB[3]), rel=1e-15)
    future = bgnbd.purchase_count_pmf(PUB[0], PUB[1], PUB[2], PUB[3] + 1, 39.0, 3)
    assert mbgnbd.conditional_purchase_pmf(*PUB, 39.0, 3, 0, 0.0, 0.0) == pytest.approx(
        pa * future, rel=1e-14
    )
    big = mbgnbd.conditional_purchase_pmf(
        0.24, 30.0, 0.79, 2.43, 3650.0, np.arange(0, 40000), 10000, 10000.0, 10000.0
    )
    assert np.all(np.isfinite(big))
    assert big.sum() == pytest.approx(1.0, abs=1e-10)


# ---------------------------------------------------------------------------------------------------
# Gradient, broadcasting
# ---------------------------------------------------------------------------------------------------


def test_gradient_matches_central_differences_on_cdnow():
    x, t_x, T = cdnow_summary_weeks()
    grad = mbgnbd.loglik_grad(*PUB, x, t_x, T)
    for i in range(4):
        h = 1e-6 * PUB[i]
        up, dn = list(PUB), list(PUB)
        up[i] += h
        dn[i] -= h
        fd = (mbgnbd.loglik(*up, x, t_x, T) - mbgnbd.loglik(*dn, x, t_x, T)) / (2 * h)
        np.testing.assert_allclose(grad[i], fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("params", "x", "t_x", "T"),
    [
        (PUB, 0, 0.0, 30.0),
        (PUB, 1, 3.0, 30.0),
        ((0.3, 30.0, 0.3, 0.4), 10000, 10000.0, 10000.0),
        ((0.3, 30.0, 0.3, 0.4), 10000, 5.0, 10000.0),
        ((2.0, 0.5, 1.0, 0.2), 0, 0.0, 500.0),
    ],
)
def test_gradient_extremes_vs_mpmath_derivative(params, x, t_x, T):
    grad = mbgnbd.loglik_grad(*params, x, t_x, T)
    for i in range(4):

        def f(v, i=i):
            p = list(params)
            p[i] = v
            return mp_loglik(*p, x, t_x, T)

        with mp.workdps(50):
            ref = mp.diff(f, mp.mpf(params[i]))
        assert float(grad[i]) == pytest.approx(float(ref), rel=1e-9, abs=1e-9)


def test_loglik_and_grad_consistent():
    x, t_x, T = cdnow_summary_weeks()
    ll, grad = mbgnbd.loglik_and_grad(*PUB, x, t_x, T)
    np.testing.assert_array_equal(ll, mbgnbd.loglik(*PUB, x, t_x, T))
    for g1, g2 in zip(grad, mbgnbd.loglik_grad(*PUB, x, t_x, T), strict=True):
        np.testing.assert_array_equal(g1, g2)


def test_broadcasting_draws_by_customers():
    x, t_x, T = (v[:7] for v in cdnow_summary_weeks())
    D = 3
    draws = [np.array(PUB[i]) * np.linspace(0.9, 1.1, D)[:, None] for i in range(4)]
    n = np.arange(7.0)
    outs = {
        "loglik": mbgnbd.loglik(*draws, x, t_x, T),
        "p_alive": mbgnbd.p_alive(*draws, x, t_x, T),
        "cond": mbgnbd.conditional_expected_purchases(*draws, 39.0, x, t_x, T),
        "cpmf": mbgnbd.conditional_purchase_pmf(*draws, 39.0, n, x, t_x, T),
        "exp": mbgnbd.expected_purchases(*draws, T),
        "pmf": mbgnbd.purchase_count_pmf(*draws, T, n),
    }
    for g in mbgnbd.loglik_grad(*draws, x, t_x, T):
        assert g.shape == (D, 7)
    for name, v in outs.items():
        assert v.shape == (D, 7), name
    for d in range(D):
        p = [float(v[d, 0]) for v in draws]
        np.testing.assert_allclose(
            outs["cond"][d], mbgnbd.conditional_expected_purchases(*p, 39.0, x, t_x, T), rtol=1e-14
        )
        np.testing.assert_allclose(outs["exp"][d], mbgnbd.expected_purchases(*p, T), rtol=1e-14)
    assert mbgnbd.p_alive(*PUB, 2, 30.43, 38.86).shape == ()
    assert all(g.shape == (7,) for g in mbgnbd.loglik_grad(*PUB, x, t_x, T))


def test_zero_horizon():
    assert mbgnbd.expected_purchases(*PUB, 0.0) == 0.0
    assert mbgnbd.conditional_expected_purchases(*PUB, 0.0, 2, 30.43, 38.86) == 0.0
    assert mbgnbd.purchase_count_pmf(*PUB, 0.0, 0) == pytest.approx(1.0, rel=1e-15)
    assert mbgnbd.purchase_count_pmf(*PUB, 0.0, 3) == 0.0


# ---------------------------------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------------------------------


def test_simulation_matches_the_model():
    rng = np.random.default_rng(20240502)
    N, T = 200_000, 39.0
    x, t_x = mbgnbd.simulate(*PUB, np.full(N, T), rng)
    assert x.shape == t_x.shape == (N,)
    assert np.all(x == np.round(x))
    assert np.all((t_x >= 0) & (t_x <= T))
    assert np.all(t_x[x == 0] == 0)
    assert abs(x.mean() - mbgnbd.expected_purchases(*PUB, T)) < 5 * x.std() / np.sqrt(N)
    for k in range(4):
        p = float(mbgnbd.purchase_count_pmf(*PUB, T, k))
        assert abs(np.mean(x == k) - p) < 5 * np.sqrt(p * (1 - p) / N)
    # joint law of (x, t_x): density L(x, t_x, T) t_x^(x-1) / (x-1)!
    for k in (1, 2):
        for s in (10.0, 25.0, T):

            def dens(u, k=k):
                return math.exp(float(mbgnbd.loglik(*PUB, k, u, T))) * u ** (k - 1) / math.factorial(k - 1)

            p = integrate.quad(dens, 0.0, s, epsabs=1e-12)[0]
            emp = np.mean((x == k) & (t_x <= s))
            assert abs(emp - p) < 5 * np.sqrt(p * (1 - p) / N)


def test_simulation_differs_from_bgnbd_by_dropout_at_zero():
    # Same draws: the MBG/NBD customer can die at time 0, so x_MBG <= x_BG, with equality unless dead early.
    T = np.full(50_000, 39.0)
    xb, _ = bgnbd.simulate(*PUB, T, np.random.default_rng(3))
    xm, _ = mbgnbd.simulate(*PUB, T, np.random.default_rng(3))
    assert np.all(xm <= xb)
    assert np.mean(xm == 0) > np.mean(xb == 0)
    draws = [np.array(PUB[i]) * np.linspace(0.9, 1.1, 3)[:, None] for i in range(4)]
    x, t_x = mbgnbd.simulate(*draws, np.array([1.0, 10.0, 0.0]), np.random.default_rng(1))
    assert x.shape == t_x.shape == (3, 3)
    assert np.all(x[:, 2] == 0)
