"""Tests of clvlab.formulas.bgnbd against published values, lifetimes 0.11.3 and mpmath."""

from __future__ import annotations

import functools
import math
from typing import Any

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize

from clvlab.formulas import bgnbd
from tests._data import cdnow_summary_weeks
from tests._oracles import (
    assert_matches_where_finite,
    bg_fitter,
    bg_params_st,
    customers_st,
    quiet,
)

# BG/NBD MLE on CDNOW to 4 decimals (recomputed; FHL 2005 publish 0.243, 4.414, 0.793, 2.426).
# tests/references.md [BGNBD-MLE-CDNOW].
PUB = (0.2426, 4.4135, 0.7929, 2.4258)
# FHL 2005's own 3-decimal rounding, used for the holdout sum (tests/references.md [BGNBD-HOLDOUT-SUM]).
PUB3 = (0.243, 4.414, 0.793, 2.426)
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


@functools.lru_cache(maxsize=1)
def cdnow_mle() -> tuple[float, float, float, float]:
    """Fit the BG/NBD on CDNOW with clvlab's own loglik_and_grad (log-parameters, BFGS)."""
    x, t_x, T = cdnow_summary_weeks()

    def nll(lp: np.ndarray) -> tuple[float, np.ndarray]:
        p = np.exp(lp)
        ll, grad = bgnbd.loglik_and_grad(*p, x, t_x, T)
        return -ll.sum(), -np.array([g.sum() for g in grad]) * p

    res = optimize.minimize(nll, np.zeros(4), jac=True, method="BFGS", options={"gtol": 1e-7})
    assert np.max(np.abs(res.jac)) < 1e-3
    r, alpha, a, b = np.exp(res.x)
    return float(r), float(alpha), float(a), float(b)


def lifetimes_fitter(r: float, alpha: float, a: float, b: float) -> Any:
    return bg_fitter("BetaGeoFitter", r, alpha, a, b)


# ---------------------------------------------------------------------------------------------------
# mpmath references (high precision, straight from the papers' formulas)
# ---------------------------------------------------------------------------------------------------


def mp_inv_p_moment(a, beta, c, A, t, dps=80):
    """FHL eqs. 9/10 closed form, (a+beta-1)/(a-1) [1 - (A/(A+t))^c 2F1(c, beta; a+beta-1; t/(A+t))].

    Uses Euler's transformation (mathematically identical, fast for large parameters). a = 1 and
    a + beta - 1 = 0 are removable singularities: evaluated 1e-40 away at 80 digits.
    """
    with mp.workdps(dps):
        a, beta, c, A, t = (mp.mpf(float(v)) for v in (a, beta, c, A, t))
        if a == 1:
            a += mp.mpf("1e-40")
        if abs(a + beta - 1) < mp.mpf("1e-30"):
            a += mp.mpf("1e-40")
        g = a + beta - 1
        z = t / (A + t)
        return g / (a - 1) * (1 - (1 - z) ** (a - 1) * mp.hyp2f1(g - c, a - 1, g, z))


def mp_inv_p_moment_quad(a, beta, c, A, t, dps=30):
    """The same expectation as a direct integral over p ~ Beta(a, beta), in logit(p), by mpmath.quad."""
    with mp.workdps(dps):
        a, beta, c, u = (mp.mpf(float(v)) for v in (a, beta, c, t / A))

        def h(q):
            p = 1 / (1 + mp.exp(-q))
            return mp.exp(a * q - (a + beta) * mp.log1p(mp.exp(q))) * (-mp.expm1(-c * mp.log1p(p * u)) / p)

        qs = mp.log(a / beta)
        pts = sorted({-mp.inf, qs - 50, qs - 10, qs, qs + 10, qs + 50, -mp.log(u), mp.inf})
        return mp.quad(h, pts) / mp.beta(a, beta)


def mp_loglik(r, alpha, a, b, x, t_x, T):
    """FHL 2005 eq. (6) (arguments may be mpf; never lowers the working precision, for mp.diff)."""
    with mp.workdps(max(mp.mp.dps, 50)):
        r, alpha, a, b, x, t_x, T = (mp.mpf(v) for v in (r, alpha, a, b, x, t_x, T))
        common = mp.gamma(r + x) * alpha**r / mp.gamma(r)
        L = mp.beta(a, b + x) / mp.beta(a, b) * common / (alpha + T) ** (r + x)
        if x > 0:
            L += mp.beta(a + 1, b + x - 1) / mp.beta(a, b) * common / (alpha + t_x) ** (r + x)
        return mp.log(L)


def mp_pmf(r, alpha, a, b, t, n):
    """FHL 2005 eq. (8) with its finite sum, at enough digits for its 1 - sum cancellation."""
    # P(N >= n) >= P(N = n): the cancellation loses at most -log10 P(N = n) digits.
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
        q = alpha / (alpha + t)
        terms = [q**r]  # NB probabilities P(N = j), j = 0..n, by recurrence
        for j in range(n):
            terms.append(terms[-1] * (r + j) / (j + 1) * th)
        p = mp.beta(a, b + n) / mp.beta(a, b) * terms[n]
        if n > 0:
            p += mp.beta(a + 1, b + n - 1) / mp.beta(a, b) * (1 - mp.fsum(terms[:n]))
        return +p


def route_of(a, beta, c, A, t):
    """Which evaluation route _inv_p_moment takes (mirrors its dispatch)."""
    u = t / A
    if u * max(0.5 * (c + 1.0), 1.0) <= bgnbd._SERIES_RHO_MAX:
        return "series"
    _, kappa = bgnbd._inv_p_moment_closed(*(np.array([v], dtype=float) for v in (a, beta, c, u)))
    if (
        kappa[0] <= bgnbd._CLOSED_KAPPA_MAX
        and a + beta - 1 >= bgnbd._CLOSED_GAMMA_MIN
        and u <= bgnbd._CLOSED_U_MAX
    ):
        return "closed"
    return "quad"


# ---------------------------------------------------------------------------------------------------
# Published reference values (CDNOW, weeks)
# ---------------------------------------------------------------------------------------------------


def test_cdnow_summary_matches_references():
    x, t_x, T = cdnow_summary_weeks()
    # tests/references.md [CDNOW-CAL-SUMMARY]: 2,357 customers; sum of x = 2,457; 1,411 with x = 0;
    # [CDNOW-CUSTOMER-1]: customer 1 = (2, 30.43, 38.86)
    assert x.size == 2357
    assert x.sum() == 2457
    assert (x == 0).sum() == 1411
    assert (x[0], round(t_x[0], 2), round(T[0], 2)) == (2, 30.43, 38.86)


def test_loglik_sum_at_published_parameters():
    x, t_x, T = cdnow_summary_weeks()
    ll = bgnbd.loglik(*PUB, x, t_x, T).sum()
    # tests/references.md [BGNBD-LL-CDNOW]: LL -9582.43 (FHL 2005 -9582.4; BTYD -9582.429).
    # Measured: -9582.4292.
    assert ll == pytest.approx(-9582.43, abs=0.01)
    # The published parameters are the MLE rounded to 4 decimals: the gradient there must be small on the
    # scale of that rounding (first-order LL change of at most a half unit in the 4th decimal of each).
    grad = np.array([g.sum() for g in bgnbd.loglik_grad(*PUB, x, t_x, T)])
    assert np.sum(np.abs(grad) * 5e-5) < 1e-4  # measured 7e-6


def test_mle_reproduces_published_parameters_and_loglik():
    x, t_x, T = cdnow_summary_weeks()
    mle = cdnow_mle()
    # tests/references.md [BGNBD-MLE-CDNOW]: FHL 2005 r, alpha, a, b = 0.2426, 4.4135, 0.7929, 2.4258.
    # Measured MLE: 0.242595, 4.413602, 0.792922, 2.425907: alpha and b differ by 1e-4 in the 4th decimal,
    # along a ridge where the log-likelihood is flat (LL(MLE) - LL(published) = 6e-7), hence 2e-4.
    np.testing.assert_allclose(mle, PUB, atol=2e-4)
    # tests/references.md [BGNBD-LL-CDNOW]: -9582.43 (BTYD -9582.429). Measured at the MLE: -9582.42921.
    ll_mle = bgnbd.loglik(*mle, x, t_x, T).sum()
    assert ll_mle == pytest.approx(-9582.429, abs=1e-3)
    assert 0 <= ll_mle - bgnbd.loglik(*PUB, x, t_x, T).sum() < 1e-5


def test_customer_one_conditional_expectation_and_p_alive():
    # tests/references.md [BGNBD-CUST1-CE39]: Hardie's Excel note, E[X(39) | x=2, t_x=30.43, T=38.86]
    # = 1.2259 (published 1.226)
    e = bgnbd.conditional_expected_purchases(*PUB, 39.0, 2, 30.43, 38.86)
    assert e == pytest.approx(1.2259, abs=5e-5)  # measured 1.225911
    # tests/references.md [BGNBD-CUST1-PALIVE]: Hardie's P(alive) note (021), 0.7266
    assert bgnbd.p_alive(*PUB, 2, 30.43, 38.86) == pytest.approx(0.7266, abs=5e-5)  # measured 0.726608


def test_unconditional_expectations_hardie():
    t = np.array([0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0])
    # tests/references.md [BGNBD-UNCOND-EXPECTATION]: lifetimes 0.11.3's tests (a test named after Hardie's
    # Excel sheet): 0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576
    published = np.array([0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576])
    got = bgnbd.expected_purchases(*PUB, t)
    # lifetimes checks these with decimal=3. The exact values at the published parameters (verified against
    # mpmath below) are 0.007816, 0.053187, 0.150637, 1.040526, 1.043769, 1.858022: the Excel sheet's
    # 1.8576 and 1.0437 differ in the 4th decimal (its own parameters / 2F1 evaluation), hence 5e-4.
    np.testing.assert_allclose(got, published, atol=5e-4)
    exact = [float(mp_inv_p_moment(PUB[2], PUB[3], PUB[0], PUB[1], ti)) for ti in t]
    np.testing.assert_allclose(got, exact, rtol=1e-12)
    # tests/references.md [BGNBD-EX52]: BTYD, E[X(52)] = 1.444
    assert bgnbd.expected_purchases(*PUB, 52.0) == pytest.approx(1.444, abs=5e-4)  # measured 1.444062


def test_conditional_expectation_heavy_buyer_btyd():
    # tests/references.md [BGNBD-HEAVY-CE52]: BTYD, E[X(52) | x=26, t_x=30.86, T=31] = 25.7566
    e = bgnbd.conditional_expected_purchases(*PUB, 52.0, 26, 30.86, 31.0)
    # Measured 25.75934 at the published parameters (25.75904 at our refitted MLE; the value is exact to
    # 1e-12 vs mpmath and equal to lifetimes'): BTYD evaluated it at its own optimiser's estimates.
    assert e == pytest.approx(25.7566, rel=2e-4)
    with mp.workdps(50):
        r, alpha, a, b = (mp.mpf(v) for v in PUB)
        pa = 1 / (1 + a / (b + 25) * ((alpha + 31) / (alpha + mp.mpf(30.86))) ** (r + 26))
        ref = pa * mp_inv_p_moment(PUB[2], PUB[3] + 26, PUB[0] + 26, PUB[1] + 31, 52.0)
    assert e == pytest.approx(float(ref), rel=1e-12)


def test_tracking_cumulative_expectation_weeks_20_to_25():
    *_, T = cdnow_summary_weeks()
    mle = cdnow_mle()
    birth = T.max() - T  # week of each customer's first purchase (BTYD's cust.birth.periods)
    got = [bgnbd.expected_purchases(*mle, w - birth[birth <= w]).sum() for w in range(20, 26)]
    # tests/references.md [BGNBD-TRACKING-CDNOW]: BTYD walkthrough, 1312.46, 1387.35, 1460.39, 1531.71,
    # 1601.42, 1669.60 (at the MLE; measured 1312.459, 1387.347, 1460.393, 1531.715, 1601.419, 1669.602).
    np.testing.assert_allclose(got, [1312.46, 1387.35, 1460.39, 1531.71, 1601.42, 1669.60], atol=0.01)


def test_holdout_sum_of_conditional_expectations():
    x, t_x, T = cdnow_summary_weeks()
    # tests/references.md [BGNBD-HOLDOUT-SUM]: 1653.9, recomputed at FHL's 3-decimal parameters
    # (measured 1653.941; 1653.422 at the 4-decimal parameters).
    total = bgnbd.conditional_expected_purchases(*PUB3, 39.0, x, t_x, T).sum()
    assert total == pytest.approx(1653.9, abs=0.05)


# ---------------------------------------------------------------------------------------------------
# lifetimes 0.11.3 as an oracle
# ---------------------------------------------------------------------------------------------------


def test_oracle_cdnow():
    x, t_x, T = cdnow_summary_weeks()
    f = lifetimes_fitter(*PUB)
    for t in (1.0, 39.0, 78.0):
        np.testing.assert_allclose(
            bgnbd.conditional_expected_purchases(*PUB, t, x, t_x, T),
            quiet(f.conditional_expected_number_of_purchases_up_to_time, t, x, t_x, T),
            rtol=1e-9,
        )
    np.testing.assert_allclose(
        bgnbd.p_alive(*PUB, x, t_x, T), quiet(f.conditional_probability_alive, x, t_x, T), rtol=1e-12
    )
    ll_lifetimes = -quiet(f._negative_log_likelihood, np.log(PUB), x, t_x, T, np.ones_like(x), 0.0) * x.size
    assert bgnbd.loglik(*PUB, x, t_x, T).sum() == pytest.approx(float(ll_lifetimes), rel=1e-12)
    t = np.array([0.01, 0.5, 1.0, 7.0, 39.0, 78.0, 520.0])
    np.testing.assert_allclose(
        bgnbd.expected_purchases(*PUB, t), quiet(f.expected_number_of_purchases_up_to_time, t), rtol=1e-9
    )
    for t in (1.0, 39.0, 78.0):
        n = np.arange(0, 60)
        theirs = np.array([quiet(f.probability_of_n_purchases_up_to_time, t, k) for k in n])
        np.testing.assert_allclose(bgnbd.purchase_count_pmf(*PUB, t, n), theirs, rtol=1e-6, atol=1e-12)


params_st = bg_params_st


@SETTINGS
@given(params=params_st, cust=customers_st(), t=st.floats(0.01, 500.0))
def test_oracle_random_customers(params, cust, t):
    x, t_x, T = cust
    f = lifetimes_fitter(*params)
    assert_matches_where_finite(
        bgnbd.p_alive(*params, x, t_x, T), quiet(f.conditional_probability_alive, x, t_x, T)
    )
    # Near a = 1 lifetimes' closed form (a+b+x-1)/(a-1) [1 - ...] loses digits (e.g. a = 1.000023, x = 5,
    # t = 0.01: lifetimes is off by 1.2e-6 relative while clvlab matches mpmath to 1e-15); that region is
    # tested against mpmath instead.
    if abs(params[2] - 1.0) > 0.01:
        assert_matches_where_finite(
            bgnbd.conditional_expected_purchases(*params, t, x, t_x, T),
            quiet(f.conditional_expected_number_of_purchases_up_to_time, t, x, t_x, T),
        )
        assert_matches_where_finite(
            bgnbd.expected_purchases(*params, t), quiet(f.expected_number_of_purchases_up_to_time, t)
        )
    ours = bgnbd.loglik(*params, x, t_x, T)
    for i in range(x.size):
        one = (x[i : i + 1], t_x[i : i + 1], T[i : i + 1])
        theirs = -quiet(f._negative_log_likelihood, np.log(params), *one, np.ones(1), 0.0)
        assert_matches_where_finite(ours[i], theirs, rtol=1e-9)


@SETTINGS
@given(params=params_st, t=st.floats(0.01, 500.0), n=st.integers(0, 60))
def test_oracle_random_pmf(params, t, n):
    f = lifetimes_fitter(*params)
    theirs = quiet(f.probability_of_n_purchases_up_to_time, t, n)
    # lifetimes evaluates 1 - (finite NB sum), which cancels (it even goes negative) far in the tail: its
    # absolute error is ~1e-16, hence atol; the tail itself is checked against mpmath further down.
    if np.isfinite(theirs):
        np.testing.assert_allclose(bgnbd.purchase_count_pmf(*params, t, n), theirs, rtol=1e-6, atol=1e-12)


# ---------------------------------------------------------------------------------------------------
# Robustness against mpmath: the weaknesses of lifetimes clvlab must not have
# ---------------------------------------------------------------------------------------------------

# (a, beta, c, A, t): the expectation E_{p~Beta(a,beta)}[(1 - (A/(A+pt))^c)/p] at hard points.
EDGE_MOMENTS = [
    (0.3, 0.4, 0.25, 4.0, 78.0),  # a + b < 1 (2F1 lower parameter a+b-1 < 0): lifetimes NaN
    (0.2, 0.8, 0.5, 30.0, 3650.0),  # a + b = 1 exactly, 10 years in days
    (0.05, 0.05, 0.1, 0.5, 3650.0),  # tiny a and b, very long horizon
    (1.0, 2.4, 0.24, 4.4, 39.0),  # a = 1 exactly: 1/(a-1) in the closed form
    (1.0 + 1e-9, 2.4, 0.24, 4.4, 39.0),
    (1.0 - 1e-6, 2.4, 0.24, 4.4, 39.0),
    (1.0 + 1e-3, 2.4, 0.24, 4.4, 520.0),
    (1.0, 10002.4, 10000.24, 10004.4, 3650.0),  # x = 10,000, T = 10,000, a = 1
    (0.79, 10002.4, 10000.24, 10004.4, 3650.0),  # x = 10,000: lifetimes overflows (NaN)
    (0.79, 10002.4, 10000.24, 30.0 + 10000.0, 1.0),  # x = 10,000, one-day horizon
    (25.0, 0.3, 3.0, 0.2, 3650.0),  # large a, tiny b, huge t / alpha
    (0.79, 2.43, 0.24, 31.0, 0.01),  # very short horizon (series)
]


@pytest.mark.parametrize("case", EDGE_MOMENTS)
def test_inv_p_moment_edge_cases_vs_mpmath(case):
    got = bgnbd._inv_p_moment(*(np.array(v, dtype=float) for v in case))
    assert np.isfinite(got)
    assert float(got) == pytest.approx(float(mp_inv_p_moment(*case)), rel=1e-10)


@pytest.mark.parametrize("case", [EDGE_MOMENTS[0], EDGE_MOMENTS[3], EDGE_MOMENTS[8]])
def test_mpmath_references_agree_with_direct_integral(case):
    # The hypergeometric reference is itself checked against a direct mpmath.quad of the Beta integral.
    assert float(mp_inv_p_moment(*case)) == pytest.approx(float(mp_inv_p_moment_quad(*case)), rel=1e-12)


@st.composite
def moment_case_st(draw):
    a = 10 ** draw(st.floats(-2.0, 1.7))
    kind = draw(st.sampled_from(["any", "a~1", "a=1", "a+b<1"]))
    if kind == "a~1":
        a = 1.0 + draw(st.sampled_from([-1.0, 1.0])) * 10 ** draw(st.floats(-12.0, -1.0))
    elif kind == "a=1":
        a = 1.0
    b = 10 ** draw(st.floats(-2.0, 1.7))
    if kind == "a+b<1":
        a = draw(st.floats(0.01, 0.9))
        b = draw(st.floats(0.005, 0.99)) * (1.0 - a)
    x = draw(st.sampled_from([0, 0, 1, 2, 5, 30, 300, 3000, 10000]))
    r = 10 ** draw(st.floats(-2.0, 1.5))
    A = 10 ** draw(st.floats(-1.0, 4.0))  # alpha + T, up to 10,000
    t = 10 ** draw(st.floats(-3.0, math.log10(3650.0)))  # up to 10 years in days
    return a, b + x, r + x, A, t


@settings(max_examples=120, deadline=None, derandomize=True)
@given(case=moment_case_st())
def test_inv_p_moment_random_vs_mpmath(case):
    got = float(bgnbd._inv_p_moment(*(np.array(v, dtype=float) for v in case)))
    assert got == pytest.approx(float(mp_inv_p_moment(*case)), rel=1e-9)


def test_inv_p_moment_every_route_vs_mpmath():
    """Each route on its own (not only through the dispatcher), where it is meant to be used and beyond."""
    rng = np.random.default_rng(7)
    seen = set()
    for _ in range(60):
        a, b, r = 10 ** rng.uniform(-1.5, 1.2, 3)
        x = float(rng.choice([0, 3, 50, 5000]))
        A, t = 10 ** rng.uniform(-0.5, 3.5), 10 ** rng.uniform(-2, 3.5)
        case = (a, b + x, r + x, A, t)
        ref = float(mp_inv_p_moment(*case))
        arrs = [np.array([v], dtype=float) for v in (a, b + x, r + x, t / A)]
        # the quadrature is accurate everywhere, whatever the dispatcher would choose
        assert bgnbd._inv_p_moment_quad(*arrs)[0] == pytest.approx(ref, rel=1e-10)
        route = route_of(*case)
        seen.add(route)
        if route == "series":
            assert bgnbd._inv_p_moment_series(*arrs)[0] == pytest.approx(ref, rel=1e-13)
        if route == "closed":
            assert bgnbd._inv_p_moment_closed(*arrs)[0][0] == pytest.approx(ref, rel=1e-10)
    assert seen == {"series", "closed", "quad"}


def test_inv_p_moment_switch_over():
    # Series / closed form: u * max((c+1)/2, 1) crosses _SERIES_RHO_MAX = 0.2 (here c < 1, so u = 0.2).
    a, beta, c, A = 1.7, 3.4, 0.5, 10.0
    ts = A * 0.2 * np.array([1 - 1e-6, 1.0, 1 + 1e-6])
    routes = [route_of(a, beta, c, A, t) for t in ts]
    assert routes == ["series", "series", "closed"]
    vals = bgnbd._inv_p_moment(*np.broadcast_arrays(a, beta, c, A, ts))
    refs = [float(mp_inv_p_moment(a, beta, c, A, t)) for t in ts]
    np.testing.assert_allclose(vals, refs, rtol=1e-12)
    arrs = [np.array([v]) for v in (a, beta, c, 0.2)]
    assert bgnbd._inv_p_moment_series(*arrs)[0] == pytest.approx(
        bgnbd._inv_p_moment_closed(*arrs)[0][0], rel=1e-12
    )
    # Closed form / quadrature: a -> 1 raises the condition number past _CLOSED_KAPPA_MAX.
    a_s = 1.0 - np.geomspace(1e-1, 1e-7, 25)
    routes = [route_of(ai, 2.43, 0.24, 43.3, 39.0) for ai in a_s]
    assert "closed" in routes
    assert "quad" in routes
    first_quad = routes.index("quad")
    assert all(rt == "quad" for rt in routes[first_quad:])
    vals = bgnbd._inv_p_moment(*np.broadcast_arrays(a_s, 2.43, 0.24, 43.3, 39.0))
    refs = [float(mp_inv_p_moment(ai, 2.43, 0.24, 43.3, 39.0)) for ai in a_s]
    np.testing.assert_allclose(vals, refs, rtol=1e-10)
    ai = a_s[first_quad - 1 : first_quad + 1]  # both routes agree at the switch
    arrs = [np.asarray(v, dtype=float) for v in np.broadcast_arrays(ai, 2.43, 0.24, 39.0 / 43.3)]
    np.testing.assert_allclose(
        bgnbd._inv_p_moment_closed(*arrs)[0], bgnbd._inv_p_moment_quad(*arrs), rtol=1e-10
    )
    # Closed form / quadrature: t / A crosses _CLOSED_U_MAX = 1e4 (large a, where scipy's 2F1 degrades).
    us = 1e4 * np.array([1 - 1e-9, 1 + 1e-9])
    assert [route_of(20.0, 1200.0, 0.5, 1.0, ui) for ui in us] == ["closed", "quad"]
    vals = bgnbd._inv_p_moment(*np.broadcast_arrays(20.0, 1200.0, 0.5, 1.0, us))
    np.testing.assert_allclose(
        vals, [float(mp_inv_p_moment(20.0, 1200.0, 0.5, 1.0, ui)) for ui in us], rtol=1e-10
    )
    # Closed form / quadrature: x = 0 and a + b - 1 crosses _CLOSED_GAMMA_MIN = 0.5.
    bs = 1.5 - 0.8 + np.array([-1e-9, 1e-9])
    routes = [route_of(0.8, bi, 0.3, 5.0, 50.0) for bi in bs]
    assert routes == ["quad", "closed"]
    vals = bgnbd._inv_p_moment(*np.broadcast_arrays(0.8, bs, 0.3, 5.0, 50.0))
    np.testing.assert_allclose(
        vals, [float(mp_inv_p_moment(0.8, bi, 0.3, 5.0, 50.0)) for bi in bs], rtol=1e-12
    )


def test_expectations_where_lifetimes_fails():
    # a + b = 1: 2F1(r, b; a+b-1 = 0; z) is undefined and lifetimes returns NaN (with scipy 1.17 it copes
    # with a + b < 1 when a + b - 1 is not an integer; checked by the random tests above)
    t = np.array([1.0, 78.0])
    for a, b in ((0.3, 0.7), (0.5, 0.5)):
        f = lifetimes_fitter(0.3, 4.0, a, b)
        assert not np.any(np.isfinite(quiet(f.expected_number_of_purchases_up_to_time, t)))
        assert not np.isfinite(
            quiet(f.conditional_expected_number_of_purchases_up_to_time, 39.0, 0, 0.0, 20.0)
        )
        got = bgnbd.expected_purchases(0.3, 4.0, a, b, t)
        np.testing.assert_allclose(got, [float(mp_inv_p_moment(a, b, 0.3, 4.0, ti)) for ti in t], rtol=1e-10)
        got = bgnbd.conditional_expected_purchases(0.3, 4.0, a, b, 39.0, 0, 0.0, 20.0)
        assert float(got) == pytest.approx(float(mp_inv_p_moment(a, b, 0.3, 24.0, 39.0)), rel=1e-10)
    f = lifetimes_fitter(0.24, 4.4, 1.0, 2.4)  # a = 1
    assert not np.isfinite(quiet(f.expected_number_of_purchases_up_to_time, 39.0))
    assert float(bgnbd.expected_purchases(0.24, 4.4, 1.0, 2.4, 39.0)) == pytest.approx(
        float(mp_inv_p_moment(1.0, 2.4, 0.24, 4.4, 39.0)), rel=1e-10
    )
    # daily units: x = 10,000, T = 10,000, recency = T, 10-year horizon (lifetimes copes here thanks to
    # its Euler-transform fallback, and agrees)
    p = (0.24, 30.0, 0.79, 2.43)
    got = bgnbd.conditional_expected_purchases(*p, 3650.0, 10000, 10000.0, 10000.0)
    ref = mp_inv_p_moment(0.79, 2.43 + 10000, 0.24 + 10000, 30.0 + 10000, 3650.0)
    # recency = T: P(alive) = 1 / (1 + a / (b + x - 1))
    assert float(got) == pytest.approx(float(ref / (1 + mp.mpf(0.79) / (2.43 + 9999))), rel=1e-10)
    theirs = quiet(
        lifetimes_fitter(*p).conditional_expected_number_of_purchases_up_to_time, 3650.0, 10000, 1e4, 1e4
    )
    assert float(got) == pytest.approx(float(theirs), rel=1e-9)


def test_conditional_expectation_x_zero_equals_unconditional_at_shifted_alpha():
    # x = 0 is certainly alive in the BG/NBD, so E[Y(t) | 0, 0, T] = E[X(t)] with alpha -> alpha + T.
    t = np.array([0.5, 39.0, 3650.0])
    np.testing.assert_allclose(
        bgnbd.conditional_expected_purchases(0.3, 4.0, 0.3, 0.4, t, 0, 0.0, 20.0),
        bgnbd.expected_purchases(0.3, 24.0, 0.3, 0.4, t),
        rtol=1e-14,
    )


@pytest.mark.parametrize(
    ("x", "t_x", "T"),
    [
        (0, 0.0, 0.0),
        (0, 0.0, 10000.0),
        (1, 0.0, 10000.0),
        (10000, 10000.0, 10000.0),
        (10000, 1.0, 10000.0),
        (5000, 9000.0, 10000.0),
    ],
)
@pytest.mark.parametrize("params", [PUB, (0.24, 30.0, 0.3, 0.4), (5.0, 0.5, 1.0, 0.1)])
def test_loglik_and_p_alive_extremes_vs_mpmath(params, x, t_x, T):
    ll = bgnbd.loglik(*params, x, t_x, T)
    assert float(ll) == pytest.approx(float(mp_loglik(*params, x, t_x, T)), rel=1e-11, abs=1e-9)
    r, alpha, a, b = params
    with mp.workdps(50):
        odds = (
            0
            if x == 0
            else mp.mpf(a) / (b + x - 1) * ((mp.mpf(alpha) + T) / (mp.mpf(alpha) + t_x)) ** (r + x)
        )
        ref = 1 / (1 + odds)
    pa = bgnbd.p_alive(*params, x, t_x, T)
    assert float(pa) == pytest.approx(float(ref), rel=1e-11)


@pytest.mark.parametrize("params", [PUB, (0.3, 30.0, 0.3, 0.4), (2.0, 1.0, 1.0, 0.5)])
@pytest.mark.parametrize("t", [1.0, 78.0, 3650.0])
def test_pmf_up_to_n_1000_vs_mpmath(params, t):
    n = np.array([0, 1, 2, 10, 100, 200, 500, 1000])
    got = bgnbd.purchase_count_pmf(*params, t, n)
    ref = np.array([float(mp_pmf(*params, t, k)) for k in n])
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-320)


def test_pmf_where_lifetimes_overflows():
    f = lifetimes_fitter(*PUB)
    assert not np.isfinite(quiet(f.probability_of_n_purchases_up_to_time, 3650.0, 200))  # gamma(200) overflow
    got = float(bgnbd.purchase_count_pmf(*PUB, 3650.0, 200))
    assert got == pytest.approx(float(mp_pmf(*PUB, 3650.0, 200)), rel=1e-10)


@pytest.mark.parametrize("params", [PUB, (0.3, 4.0, 0.3, 0.4), (0.24, 4.4, 1.0, 2.4)])
@pytest.mark.parametrize("t", [1.0, 39.0, 520.0])
def test_pmf_sums_to_one_and_mean_is_expectation(params, t):
    n = np.arange(0, 20000)
    p = bgnbd.purchase_count_pmf(*params, t, n)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert (n * p).sum() == pytest.approx(float(bgnbd.expected_purchases(*params, t)), rel=1e-10)


def test_conditional_pmf_consistency():
    n = np.arange(0, 30000)[:, None]
    x = np.array([0.0, 2.0, 26.0, 100.0, 1.0])
    t_x = np.array([0.0, 30.43, 30.86, 38.0, 0.5])
    T = np.array([38.0, 38.86, 31.0, 39.0, 39.0])
    for params in (PUB, (0.3, 4.0, 0.3, 0.4), (0.24, 4.4, 1.0, 2.4)):
        p = bgnbd.conditional_purchase_pmf(*params, 39.0, n, x, t_x, T)
        np.testing.assert_allclose(p.sum(0), 1.0, atol=1e-12)
        np.testing.assert_allclose(
            (n * p).sum(0), bgnbd.conditional_expected_purchases(*params, 39.0, x, t_x, T), rtol=2e-3
        )
    p = bgnbd.conditional_purchase_pmf(*PUB, 39.0, n, x, t_x, T)
    np.testing.assert_allclose(
        (n * p).sum(0), bgnbd.conditional_expected_purchases(*PUB, 39.0, x, t_x, T), rtol=1e-9
    )
    # A brand-new customer (x = 0, T = 0) is the unconditional distribution.
    k = np.arange(0, 50)
    np.testing.assert_allclose(
        bgnbd.conditional_purchase_pmf(*PUB, 39.0, k, 0, 0.0, 0.0),
        bgnbd.purchase_count_pmf(*PUB, 39.0, k),
        rtol=1e-14,
    )
    # n = 0 includes the probability of having dropped out.
    pa = bgnbd.p_alive(*PUB, 2, 30.43, 38.86)
    p0 = bgnbd.conditional_purchase_pmf(*PUB, 39.0, 0, 2, 30.43, 38.86)
    assert p0 == pytest.approx(
        1 - pa + pa * bgnbd.purchase_count_pmf(PUB[0] + 2, PUB[1] + 38.86, PUB[2], PUB[3] + 2, 39.0, 0)
    )
    # Extremes: n up to 1000, x = 10,000 (daily units), all finite and summing to 1.
    big = bgnbd.conditional_purchase_pmf(
        0.24, 30.0, 0.79, 2.43, 3650.0, np.arange(0, 40000), 10000, 10000.0, 10000.0
    )
    assert np.all(np.isfinite(big))
    assert big.sum() == pytest.approx(1.0, abs=1e-10)


# ---------------------------------------------------------------------------------------------------
# Gradient, broadcasting, shapes
# ---------------------------------------------------------------------------------------------------


def test_gradient_matches_central_differences_on_cdnow():
    x, t_x, T = cdnow_summary_weeks()
    grad = bgnbd.loglik_grad(*PUB, x, t_x, T)
    for i in range(4):
        h = 1e-6 * PUB[i]
        up, dn = list(PUB), list(PUB)
        up[i] += h
        dn[i] -= h
        fd = (bgnbd.loglik(*up, x, t_x, T) - bgnbd.loglik(*dn, x, t_x, T)) / (2 * h)
        np.testing.assert_allclose(grad[i], fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("params", "x", "t_x", "T"),
    [
        (PUB, 0, 0.0, 30.0),
        (PUB, 1, 3.0, 30.0),
        ((0.3, 30.0, 0.3, 0.4), 10000, 10000.0, 10000.0),
        ((0.3, 30.0, 0.3, 0.4), 10000, 5.0, 10000.0),
        ((2.0, 0.5, 1.0, 0.2), 1, 0.0, 500.0),
    ],
)
def test_gradient_extremes_vs_mpmath_derivative(params, x, t_x, T):
    grad = bgnbd.loglik_grad(*params, x, t_x, T)
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
    ll, grad = bgnbd.loglik_and_grad(*PUB, x, t_x, T)
    np.testing.assert_array_equal(ll, bgnbd.loglik(*PUB, x, t_x, T))
    for g1, g2 in zip(grad, bgnbd.loglik_grad(*PUB, x, t_x, T), strict=True):
        np.testing.assert_array_equal(g1, g2)


def test_broadcasting_draws_by_customers():
    x, t_x, T = (v[:7] for v in cdnow_summary_weeks())
    D = 3
    draws = [np.array(PUB[i]) * np.linspace(0.9, 1.1, D)[:, None] for i in range(4)]
    n = np.arange(7.0)
    outs = {
        "loglik": bgnbd.loglik(*draws, x, t_x, T),
        "p_alive": bgnbd.p_alive(*draws, x, t_x, T),
        "cond": bgnbd.conditional_expected_purchases(*draws, 39.0, x, t_x, T),
        "cpmf": bgnbd.conditional_purchase_pmf(*draws, 39.0, n, x, t_x, T),
        "exp": bgnbd.expected_purchases(*draws, T),
        "pmf": bgnbd.purchase_count_pmf(*draws, T, n),
    }
    for g in bgnbd.loglik_grad(*draws, x, t_x, T):
        assert g.shape == (D, 7)
    for name, v in outs.items():
        assert v.shape == (D, 7), name
    for d in range(D):
        p = [float(v[d, 0]) for v in draws]
        np.testing.assert_allclose(outs["loglik"][d], bgnbd.loglik(*p, x, t_x, T), rtol=1e-14)
        np.testing.assert_allclose(
            outs["cond"][d], bgnbd.conditional_expected_purchases(*p, 39.0, x, t_x, T), rtol=1e-14
        )
        np.testing.assert_allclose(outs["pmf"][d], bgnbd.purchase_count_pmf(*p, T, n), rtol=1e-14)
    # scalars in, 0-d arrays out; a scalar parameter broadcast against an array gradient
    assert bgnbd.loglik(*PUB, 2, 30.43, 38.86).shape == ()
    assert bgnbd.expected_purchases(*PUB, 39.0).shape == ()
    assert all(g.shape == (7,) for g in bgnbd.loglik_grad(*PUB, x, t_x, T))


def test_zero_horizon_and_invalid_parameters():
    assert bgnbd.expected_purchases(*PUB, 0.0) == 0.0
    assert bgnbd.conditional_expected_purchases(*PUB, 0.0, 2, 30.43, 38.86) == 0.0
    assert bgnbd.purchase_count_pmf(*PUB, 0.0, 0) == 1.0
    assert bgnbd.purchase_count_pmf(*PUB, 0.0, 3) == 0.0
    assert np.isnan(bgnbd.expected_purchases(PUB[0], PUB[1], -1.0, PUB[3], 39.0))


# ---------------------------------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------------------------------


def test_simulation_matches_the_model():
    rng = np.random.default_rng(20240501)
    N, T = 200_000, 39.0
    x, t_x = bgnbd.simulate(*PUB, np.full(N, T), rng)
    assert x.shape == t_x.shape == (N,)
    assert np.all(x == np.round(x))
    assert np.all((t_x >= 0) & (t_x <= T))
    assert np.all(t_x[x == 0] == 0)
    assert np.all(t_x[x > 0] > 0)
    # mean and P(X = n) against eq. (9) and eq. (8) (5 standard errors)
    assert abs(x.mean() - bgnbd.expected_purchases(*PUB, T)) < 5 * x.std() / np.sqrt(N)
    for k in range(4):
        p = float(bgnbd.purchase_count_pmf(*PUB, T, k))
        assert abs(np.mean(x == k) - p) < 5 * np.sqrt(p * (1 - p) / N)
    # joint law of (x, t_x): density L(x, t_x, T) t_x^(x-1) / (x-1)! (integrating out earlier purchases)
    for k in (1, 2):
        for s in (10.0, 25.0, T):

            def dens(u, k=k):
                return math.exp(float(bgnbd.loglik(*PUB, k, u, T))) * u ** (k - 1) / math.factorial(k - 1)

            p = integrate.quad(dens, 0.0, s, epsabs=1e-12)[0]
            emp = np.mean((x == k) & (t_x <= s))
            assert abs(emp - p) < 5 * np.sqrt(p * (1 - p) / N)


def test_simulation_broadcasts_and_is_reproducible():
    draws = [np.array(PUB[i]) * np.linspace(0.9, 1.1, 3)[:, None] for i in range(4)]
    T = np.array([1.0, 10.0, 39.0, 0.0, 100.0])
    x1, t1 = bgnbd.simulate(*draws, T, np.random.default_rng(1))
    x2, t2 = bgnbd.simulate(*draws, T, np.random.default_rng(1))
    assert x1.shape == t1.shape == (3, 5)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(t1, t2)
    assert np.all(x1[:, 3] == 0)
    # extreme parameters: no warnings, finite output
    x, t_x = bgnbd.simulate(50.0, 0.01, 0.01, 100.0, np.full(1000, 3650.0), np.random.default_rng(2))
    assert np.all(np.isfinite(x))
    assert np.all(np.isfinite(t_x))
    assert x.max() > 1e5
