"""Tests for clvlab.formulas.bgbb (BG/BB, Fader, Hardie & Shang 2010)."""

from __future__ import annotations

import functools
import math

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import betaln, comb, roots_jacobi

from clvlab.formulas import bgbb
from tests._data import donations
from tests._oracles import lifetimes

PUB = (1.204, 0.750, 0.657, 2.783)  # tests/references.md [BGBB-MLE-DONATIONS]: FHS 2010


@functools.cache
def donations_mle() -> np.ndarray:
    x, t_x, n, w = donations()

    def nll(log_p: np.ndarray) -> tuple[float, np.ndarray]:
        p = np.exp(log_p)
        ll, g = bgbb.loglik_and_grad(*p, x, t_x, n)
        return -float((ll * w).sum()), -np.array([(gi * w).sum() for gi in g]) * p

    res = minimize(nll, np.zeros(4), jac=True, method="L-BFGS-B", options={"gtol": 1e-10, "ftol": 1e-15})
    assert res.success
    return np.exp(res.x)


def random_histories(rng: np.random.Generator, size: int, n_max: int) -> tuple[np.ndarray, ...]:
    """Uniformly random valid (x, t_x, n) with 0 <= x <= t_x <= n, t_x = 0 iff x = 0."""
    n = rng.integers(0, n_max + 1, size)
    t_x = np.floor(rng.random(size) * (n + 1)).astype(int)
    x = np.where(t_x > 0, 1 + np.floor(rng.random(size) * t_x).astype(int), 0)
    return x.astype(float), t_x.astype(float), n.astype(float)


# ------------------------------------------------------------------------------------------------
# independent reference implementations (tests only)
# ------------------------------------------------------------------------------------------------
def _ll_mp(a: mp.mpf, b: mp.mpf, g: mp.mpf, d: mp.mpf, x: int, t_x: int, n: int) -> mp.mpf:
    """The FHS 2010 likelihood summed term by term at the current mpmath precision."""
    first = mp.beta(a + x, b + n - x) * mp.beta(g, d + n)
    rest = mp.fsum(mp.beta(a + x, b + t_x - x + i) * mp.beta(g + 1, d + t_x + i) for i in range(n - t_x))
    return mp.log((first + rest) / (mp.beta(a, b) * mp.beta(g, d)))


def ll_mpmath(a: float, b: float, g: float, d: float, x: int, t_x: int, n: int, dps: int = 40) -> mp.mpf:
    """The FHS 2010 likelihood in arbitrary precision (``dps`` digits)."""
    with mp.workdps(dps):
        return _ll_mp(*(mp.mpf(v) for v in (a, b, g, d)), x, t_x, n)


def latent_quadrature_likelihood(a: float, b: float, g: float, d: float, x: int, t_x: int, n: int) -> float:
    """L from the model's definition, integrating over latent (p, theta) by Gauss-Jacobi quadrature.

    Given (p, theta) the customer survives tau opportunities (prob theta (1-theta)^tau for tau < n,
    (1-theta)^n for tau = n) and the observed 0/1 sequence has probability p^x (1-p)^(tau-x) if
    tau >= t_x (else 0). The integrand is a polynomial of degree <= n+1 in p and theta, so K > n/2 + 1
    Gauss-Jacobi nodes per dimension integrate it exactly against the Beta densities.
    """
    k = n // 2 + 4
    zp, wp = roots_jacobi(k, b - 1.0, a - 1.0)  # weight (1-z)^(b-1) (1+z)^(a-1) on [-1, 1]
    zt, wt = roots_jacobi(k, d - 1.0, g - 1.0)
    p, theta = (1.0 + zp) / 2.0, (1.0 + zt) / 2.0
    wp, wt = wp / wp.sum(), wt / wt.sum()
    total = np.zeros((k, k))
    for tau in range(t_x, n + 1):
        surv = (1.0 - theta) ** n if tau == n else theta * (1.0 - theta) ** tau
        total += np.outer(p**x * (1.0 - p) ** (tau - x), surv)
    return float(wp @ total @ wt)


# ------------------------------------------------------------------------------------------------
# published / reference numbers
# ------------------------------------------------------------------------------------------------
def test_donations_loglik_reference() -> None:
    x, t_x, n, w = donations()
    total = float((bgbb.loglik(*PUB, x, t_x, n) * w).sum())
    # tests/references.md [BGBB-LL-DONATIONS]: FHS 2010 donations, LL -33225.58 recomputed at PUB
    assert total == pytest.approx(-33225.58, abs=0.005)


def test_donations_mle_matches_published_parameters() -> None:
    x, t_x, n, w = donations()
    mle = donations_mle()
    # tests/references.md [BGBB-MLE-DONATIONS] / FHS 2010: 1.204, 0.750, 0.657, 2.783 (3 decimals)
    np.testing.assert_allclose(mle, PUB, atol=6e-4)
    ll_mle = float((bgbb.loglik(*mle, x, t_x, n) * w).sum())
    assert ll_mle == pytest.approx(-33225.58, abs=0.005)  # [BGBB-LL-DONATIONS]: FHS 2010 -33,225.6


def test_p_alive_fhs2010_table6() -> None:
    # tests/references.md [BGBB-PALIVE-TABLE6]:
    # FHS 2010, Table 6 "P(alive in 2002) as a function of recency and frequency" (as quoted in
    # lifetimes 0.11.3's tests): 1995-only donor 0.11; x=2 last in 1999 0.59; every year 0.93
    p = bgbb.p_alive(*PUB, [0, 2, 6], [0, 4, 6], 6)
    np.testing.assert_allclose(p, [0.11, 0.59, 0.93], atol=0.005)


def test_conditional_expectations_fader_lecture() -> None:
    # tests/references.md [BGBB-CE-LECTURE]:
    # FHS 2010 donations, E[# donations in 2002-2006] by (frequency, recency), as presented in Fader's
    # Wharton Customer Analytics course (summary at jbdon.com/probability-models.html): donor giving every
    # year 3.75, 1995-only donors 0.07, (x=4, last 2001) about 50% above (x=5, last 2000).
    e = bgbb.conditional_expected_purchases(*PUB, 5, [6, 0, 4, 5], [6, 0, 6, 5], 6)
    np.testing.assert_allclose(e[:2], [3.75, 0.07], atol=0.005)
    assert e[2] / e[3] == pytest.approx(1.5, abs=0.005)


def test_hardie_spreadsheet_totals_at_mle() -> None:
    x, t_x, n, w = donations()
    mle = donations_mle()
    # tests/references.md [BGBB-HARDIE-SHEET]:
    # Hardie's BG/BB spreadsheet (brucehardie.com/notes/010/, BGBB_2011-01-20_XLSX.zip), quoted in
    # lifetimes 0.11.3's tests: "Conditional Expectations (II)" total for 2002-2006 = 12884.2
    total = float((bgbb.conditional_expected_purchases(*mle, 5, x, t_x, n) * w).sum())
    assert total == pytest.approx(12884.2, abs=0.05)
    # "In-Sample Fit" sheet, cells C18 and C24: expected donors with 0 and 6 repeat donations = 3454.9, 1253.1
    counts = bgbb.purchase_count_pmf(*mle, 6, [0, 6]) * w.sum()
    np.testing.assert_allclose(counts, [3454.9, 1253.1], atol=0.05)


# ------------------------------------------------------------------------------------------------
# lifetimes 0.11.3 as an oracle
# ------------------------------------------------------------------------------------------------
def _lifetimes_fitter(params: tuple[float, ...]):  # type: ignore[no-untyped-def]
    BetaGeoBetaBinomFitter = lifetimes("BetaGeoBetaBinomFitter")

    f = BetaGeoBetaBinomFitter()
    f.params_ = pd.Series(dict(zip(["alpha", "beta", "gamma", "delta"], params, strict=True)))
    return f


@pytest.mark.parametrize("params", [PUB, (0.4, 2.5, 1.7, 0.6), (3.0, 0.3, 0.2, 8.0)])
def test_against_lifetimes(params: tuple[float, ...]) -> None:
    x, t_x, n, w = donations()
    rng = np.random.default_rng(1)
    rx, rt, rn = random_histories(rng, 300, 15)
    rn = np.maximum(rn, 1.0)
    xs, ts, ns = np.r_[x, rx], np.r_[t_x, rt], np.r_[n, rn]
    f = _lifetimes_fitter(params)
    for m in (1, 5, 13):
        ref = f.conditional_expected_number_of_purchases_up_to_time(m, xs, ts, ns)
        ours = bgbb.conditional_expected_purchases(*params, m, xs, ts, ns)
        np.testing.assert_allclose(ours, ref, rtol=1e-6)
    ref = f.conditional_probability_alive(1, xs, ts, ns)
    np.testing.assert_allclose(bgbb.p_alive(*params, xs, ts, ns), ref, rtol=1e-6)
    f.data = pd.DataFrame({"frequency": x, "weights": w})
    ref = f.expected_number_of_transactions_in_first_n_periods(6)["model"].to_numpy()
    np.testing.assert_allclose(bgbb.purchase_count_pmf(*params, 6, np.arange(7)) * w.sum(), ref, rtol=1e-6)


# ------------------------------------------------------------------------------------------------
# independent brute force: latent quadrature, arbitrary precision, exact identities
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params", [PUB, (0.3, 4.0, 2.5, 0.4), (5.0, 0.5, 0.05, 30.0)])
def test_likelihood_equals_latent_quadrature(params: tuple[float, ...]) -> None:
    hist = [(0, 0, 0), (0, 0, 6), (1, 1, 6), (2, 5, 6), (6, 6, 6), (3, 7, 12), (5, 20, 20), (1, 3, 25)]
    x, t_x, n = (np.array(v, dtype=float) for v in zip(*hist, strict=True))
    ours = np.exp(bgbb.loglik(*params, x, t_x, n))
    ref = [latent_quadrature_likelihood(*params, *h) for h in hist]
    # the Gauss-Jacobi nodes themselves are accurate to ~1e-11 for gamma = 0.05 (weight theta^-0.95)
    np.testing.assert_allclose(ours, ref, rtol=1e-10)


def test_loglik_vs_mpmath_mixed_long_histories() -> None:
    rng = np.random.default_rng(2)
    x, t_x, n = random_histories(rng, 2000, 400)
    params = (0.9, 1.6, 0.7, 3.1)
    ours = bgbb.loglik(*params, x, t_x, n)
    assert np.all(np.isfinite(ours))
    extra = [(0, 0, 400), (400, 400, 400), (1, 1, 400), (200, 210, 400), (399, 399, 400), (0, 0, 1)]
    idx = rng.choice(x.size, 25, replace=False)
    cases = [(int(x[i]), int(t_x[i]), int(n[i])) for i in idx] + extra
    ex = np.array(extra, dtype=float)
    ours_all = np.r_[ours[idx], bgbb.loglik(*params, ex[:, 0], ex[:, 1], ex[:, 2])]
    ref = np.array([float(ll_mpmath(*params, *c)) for c in cases])
    np.testing.assert_allclose(ours_all, ref, rtol=1e-12, atol=1e-13)


def test_pmf_is_sum_of_pattern_likelihoods() -> None:
    # P(X(n) = x) = sum over recency of (# 0/1 sequences with that (x, t_x)) * L(x, t_x, n)
    params = (0.8, 1.3, 0.45, 1.9)
    n = 30
    x_grid, t_grid = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    valid = (x_grid <= t_grid) & ((x_grid > 0) | (t_grid == 0))
    xs, ts = x_grid[valid].astype(float), t_grid[valid].astype(float)
    mult = np.where(xs == 0, 1.0, comb(ts - 1, xs - 1))
    lik = mult * np.exp(bgbb.loglik(*params, xs, ts, n))
    ref = np.bincount(xs.astype(int), weights=lik, minlength=n + 1)
    pmf = bgbb.purchase_count_pmf(*params, n, np.arange(n + 1))
    np.testing.assert_allclose(pmf, ref, rtol=1e-12)
    assert lik.sum() == pytest.approx(1.0, rel=1e-13)


def test_pmf_large_n_against_mpmath() -> None:
    params = (1.3, 0.9, 0.6, 2.2)
    n = 1000
    pmf = bgbb.purchase_count_pmf(*params, n, np.arange(n + 1))
    assert np.all(np.isfinite(pmf))
    assert np.all(pmf >= 0)
    assert pmf.sum() == pytest.approx(1.0, rel=1e-12)
    with mp.workdps(30):
        a, b, g, d = (mp.mpf(v) for v in params)
        norm = mp.beta(a, b) * mp.beta(g, d)
        for x in (0, 1, 17, 500, 999, 1000):
            first = mp.binomial(n, x) * mp.beta(a + x, b + n - x) * mp.beta(g, d + n)
            # sum_{i=x}^{n-1} C(i, x) B(a+x, b+i-x) B(g+1, d+i), terms by their exact ratio recurrence
            term, rest = mp.beta(a + x, b) * mp.beta(g + 1, d + x), mp.mpf(0)
            for i in range(x, n):
                rest += term
                term *= mp.mpf(i + 1) / (i + 1 - x) * (b + i - x) / (a + b + i) * (d + i) / (g + 1 + d + i)
            assert pmf[x] == pytest.approx(float((first + rest) / norm), rel=1e-11)
    # vectorised in n and x together, zero outside the support
    got = bgbb.purchase_count_pmf(*params, np.array([[3], [1000]]), np.array([0, 3, 4]))
    np.testing.assert_allclose(got[1, :2], pmf[[0, 3]], rtol=1e-13)
    assert got[0, 2] == 0.0
    np.testing.assert_allclose(
        got[0].sum() - got[0, 2], 1.0 - bgbb.purchase_count_pmf(*params, 3, [1, 2]).sum()
    )


@pytest.mark.parametrize("gamma", [0.3, 1.0 - 1e-2, 1.0 - 1e-4, 1.0 - 1e-9, 1.0, 1.0 + 1e-9, 1.0 + 1e-4, 3.5])
def test_expected_purchases_vs_mpmath(gamma: float) -> None:
    a, b, d = 1.204, 0.750, 2.783
    ns = np.array([0.0, 1.0, 7.0, 365.0, 3650.0])
    ours = bgbb.expected_purchases(a, b, gamma, d, ns)
    with mp.workdps(30):
        G, D = mp.mpf(gamma), mp.mpf(d)
        # sum_{t=1}^n P(alive at t) E[p], with B(G, D+t)/B(G, D) = prod_{s<t} (D+s)/(G+D+s), term by term
        cum, ratio = [mp.mpf(0)], mp.mpf(1)
        for t in range(1, int(ns.max()) + 1):
            ratio *= (D + t - 1) / (G + D + t - 1)
            cum.append(cum[-1] + ratio)
        for n_val, v in zip(ns, ours, strict=True):
            assert v == pytest.approx(float(cum[int(n_val)] * a / (a + b)), rel=1e-13, abs=1e-300)


def test_expected_purchases_is_mean_of_pmf() -> None:
    params = (0.7, 2.1, 1.3, 0.8)
    n = np.arange(0, 60)
    pmf = bgbb.purchase_count_pmf(*params, n[:, None], n[None, :])
    np.testing.assert_allclose(
        (pmf * n[None, :]).sum(axis=1), bgbb.expected_purchases(*params, n), rtol=1e-12
    )


@pytest.mark.parametrize("params", [PUB, (0.5, 3.0, 1.0, 1.5), (4.0, 0.6, 2.2, 0.9)])
def test_conditional_expectation_by_enumerating_future_patterns(params: tuple[float, ...]) -> None:
    # E[X(n, n+m) | x, t_x, n] = sum over future (x', t') of x' * #seq * L(x+x', n+t', n+m) / L(x, t_x, n)
    hist = np.array([[0, 0, 6], [2, 3, 6], [6, 6, 6], [1, 1, 10], [5, 9, 9]], dtype=float)
    m = 5
    ll0 = bgbb.loglik(*params, hist[:, 0], hist[:, 1], hist[:, 2])
    ref = np.zeros(len(hist))
    for x_new in range(1, m + 1):
        for t_new in range(x_new, m + 1):
            ll1 = bgbb.loglik(*params, hist[:, 0] + x_new, hist[:, 2] + t_new, hist[:, 2] + m)
            ref += x_new * comb(t_new - 1, x_new - 1) * np.exp(ll1 - ll0)
    ours = bgbb.conditional_expected_purchases(*params, m, hist[:, 0], hist[:, 1], hist[:, 2])
    np.testing.assert_allclose(ours, ref, rtol=1e-12)
    # P(alive at n+1) = P(transact at n+1 | history) / E[p | alive, history]
    a, b = params[0], params[1]
    p_next = np.exp(bgbb.loglik(*params, hist[:, 0] + 1, hist[:, 2] + 1, hist[:, 2] + 1) - ll0)
    np.testing.assert_allclose(
        bgbb.p_alive(*params, hist[:, 0], hist[:, 1], hist[:, 2]),
        p_next * (a + b + hist[:, 2]) / (a + hist[:, 0]),
        rtol=1e-12,
    )


@pytest.mark.parametrize("gamma", [0.657, 1.0, 1.0 + 3e-5, 2.5])
def test_conditional_expectation_long_horizon_vs_mpmath(gamma: float) -> None:
    a, b, d = 1.204, 0.750, 2.783
    x, t_x, n = np.array([0, 3, 150, 300]), np.array([0, 4, 290, 300]), np.array([6, 6, 300, 300])
    n_star = 3650.0
    ours = bgbb.conditional_expected_purchases(a, b, gamma, d, n_star, x, t_x, n)
    with mp.workdps(30):
        A, B, G, D = (mp.mpf(v) for v in (a, b, gamma, d))
        for i in range(len(x)):
            xi, ni = int(x[i]), int(n[i])
            lik = mp.exp(ll_mpmath(a, b, gamma, d, xi, int(t_x[i]), ni, dps=30))
            # E[p 1{alive at t}] summed over t = n+1 .. n+n*, term by term (no closed form)
            term, s = mp.beta(G, D + ni + 1), mp.mpf(0)
            for t in range(ni + 1, ni + int(n_star) + 1):
                s += term
                term *= (D + t) / (G + D + t)
            ref = mp.beta(A + xi + 1, B + ni - xi) / mp.beta(A, B) * s / mp.beta(G, D) / lik
            assert ours[i] == pytest.approx(float(ref), rel=1e-10)


# ------------------------------------------------------------------------------------------------
# gradient
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params", [PUB, (0.2, 5.0, 0.1, 12.0), (8.0, 0.4, 1.0, 0.3), (1.5, 1.5, 1e-3, 1e3)])
def test_gradient_matches_central_differences(params: tuple[float, ...]) -> None:
    rng = np.random.default_rng(3)
    x, t_x, n = random_histories(rng, 400, 60)
    ll, grad = bgbb.loglik_and_grad(*params, x, t_x, n)
    np.testing.assert_array_equal(ll, bgbb.loglik(*params, x, t_x, n))
    for g1, g2 in zip(grad, bgbb.loglik_grad(*params, x, t_x, n), strict=True):
        np.testing.assert_array_equal(g1, g2)
    for k in range(4):
        h = 1e-6 * params[k]
        up, dn = list(params), list(params)
        up[k] += h
        dn[k] -= h
        fd = (bgbb.loglik(*up, x, t_x, n) - bgbb.loglik(*dn, x, t_x, n)) / (2 * h)
        np.testing.assert_allclose(grad[k], fd, rtol=2e-6, atol=2e-6 * np.abs(grad[k]).max())


def test_gradient_vs_mpmath_long_history() -> None:
    params = (0.9, 1.6, 0.7, 3.1)
    cases = [(3, 150, 200), (0, 0, 120), (40, 45, 60)]
    x, t_x, n = (np.array(c, dtype=float) for c in zip(*cases, strict=True))
    _, grad = bgbb.loglik_and_grad(*params, x, t_x, n)
    with mp.workdps(30):
        for i, c in enumerate(cases):
            for k in range(4):

                def f(v: mp.mpf, k: int = k, c: tuple[int, int, int] = c) -> mp.mpf:
                    p = [mp.mpf(q) for q in params]
                    p[k] = v
                    return _ll_mp(*p, *c)

                ref = mp.diff(f, mp.mpf(params[k]))
                assert grad[k][i] == pytest.approx(float(ref), rel=1e-9, abs=1e-12)


# ------------------------------------------------------------------------------------------------
# broadcasting, grid paths, edge cases
# ------------------------------------------------------------------------------------------------
def test_broadcasting_over_draws_matches_per_draw_evaluation() -> None:
    rng = np.random.default_rng(4)
    x, t_x, n = random_histories(rng, 500, 40)
    draws = np.array([[1.2, 0.75, 0.66, 2.8], [0.5, 2.0, 1.0, 1.0], [3.0, 0.4, 0.2, 9.0]])
    a, b, g, d = (draws[:, [k]] for k in range(4))
    funcs = {
        "loglik": lambda *p: bgbb.loglik(*p, x, t_x, n),
        "p_alive": lambda *p: bgbb.p_alive(*p, x, t_x, n),
        "cond": lambda *p: bgbb.conditional_expected_purchases(*p, 7, x, t_x, n),
        "grad_beta": lambda *p: bgbb.loglik_grad(*p, x, t_x, n)[1],
        "pmf": lambda *p: bgbb.purchase_count_pmf(*p, n, x),
        "expected": lambda *p: bgbb.expected_purchases(*p, n),
    }
    for name, fn in funcs.items():
        together = fn(a, b, g, d)
        assert together.shape == (3, 500), name
        for i in range(3):
            np.testing.assert_allclose(together[i], fn(*draws[i]), rtol=1e-13, err_msg=name)
    # only one parameter varying across draws
    got = bgbb.loglik(np.array([[1.0], [2.0]]), 0.75, 0.66, 2.8, x[:5], t_x[:5], n[:5])
    assert got.shape == (2, 5)
    np.testing.assert_allclose(got[1], bgbb.loglik(2.0, 0.75, 0.66, 2.8, x[:5], t_x[:5], n[:5]), rtol=1e-14)


def test_per_customer_parameters_and_chunked_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    x, t_x, n = random_histories(rng, 300, 80)
    alpha = rng.uniform(0.2, 3.0, 300)  # one parameter set per customer: sparse-row path
    ll, grad = bgbb.loglik_and_grad(alpha, 0.8, 0.6, 2.0, x, t_x, n)
    one_by_one = np.array([bgbb.loglik(alpha[i], 0.8, 0.6, 2.0, x[i], t_x[i], n[i]) for i in range(20)])
    np.testing.assert_allclose(ll[:20], one_by_one, rtol=1e-13)
    monkeypatch.setattr(bgbb, "_GRID_CHUNK", 100)  # force many small chunks
    ll2, grad2 = bgbb.loglik_and_grad(alpha, 0.8, 0.6, 2.0, x, t_x, n)
    np.testing.assert_allclose(ll2, ll, rtol=1e-14)
    for g1, g2 in zip(grad, grad2, strict=True):
        np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-14)
    pmf = bgbb.purchase_count_pmf(1.1, 0.9, 0.6, 2.0, 80, np.arange(81))
    assert pmf.sum() == pytest.approx(1.0, rel=1e-12)


def test_scalar_inputs_give_zero_dim_arrays() -> None:
    for v in (
        bgbb.loglik(*PUB, 2, 4, 6),
        bgbb.p_alive(*PUB, 2, 4, 6),
        bgbb.conditional_expected_purchases(*PUB, 5, 2, 4, 6),
        bgbb.expected_purchases(*PUB, 6),
        bgbb.purchase_count_pmf(*PUB, 6, 2),
    ):
        assert isinstance(v, np.ndarray)
        assert v.shape == ()
    assert all(g.shape == () for g in bgbb.loglik_grad(*PUB, 2, 4, 6))


def test_edge_histories() -> None:
    # n = 0: nothing observed, L = 1
    assert bgbb.loglik(*PUB, 0, 0, 0) == pytest.approx(0.0, abs=1e-15)
    assert bgbb.p_alive(*PUB, 0, 0, 0) == pytest.approx(PUB[3] / (PUB[2] + PUB[3]), rel=1e-14)
    assert bgbb.conditional_expected_purchases(*PUB, 6, 0, 0, 0) == pytest.approx(
        float(bgbb.expected_purchases(*PUB, 6)), rel=1e-13
    )
    # t_x = n: the finite sum is empty
    a, b, g, d = PUB
    expected = betaln(a + 3, b + 7 - 3) - betaln(a, b) + betaln(g, d + 7) - betaln(g, d)
    assert bgbb.loglik(*PUB, 3, 7, 7) == pytest.approx(expected, rel=1e-14)
    assert bgbb.p_alive(*PUB, 3, 7, 7) == pytest.approx((d + 7) / (g + d + 7), rel=1e-13)
    # n_star = 0
    assert bgbb.conditional_expected_purchases(*PUB, 0, 3, 5, 7) == 0.0
    # very long histories stay finite and in range
    big = np.array([0.0, 1.0, 5000.0, 2500.0])
    tx = np.array([0.0, 1.0, 5000.0, 4000.0])
    ll = bgbb.loglik(*PUB, big, tx, 5000)
    pa = bgbb.p_alive(*PUB, big, tx, 5000)
    ce = bgbb.conditional_expected_purchases(*PUB, 3650, big, tx, 5000)
    assert np.all(np.isfinite(ll))
    assert np.all((pa >= 0) & (pa <= 1))
    assert np.all(np.isfinite(ce))
    assert ll[2] == pytest.approx(float(ll_mpmath(*PUB, 5000, 5000, 5000)), rel=1e-12)


def test_invalid_histories_give_nan_without_warnings() -> None:
    x = np.array([3.0, 0.0, 2.0, 1.5, -1.0, np.nan, 2.0])
    t_x = np.array([2.0, 1.0, 7.0, 2.0, 0.0, 3.0, 3.0])
    n = np.array([6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0])
    for fn in (bgbb.loglik, bgbb.p_alive):
        out = fn(*PUB, x, t_x, n)
        assert np.all(np.isnan(out[:6]))
        assert np.isfinite(out[6])
    assert all(np.all(np.isnan(g[:6])) for g in bgbb.loglik_grad(*PUB, x, t_x, n))
    ce = bgbb.conditional_expected_purchases(*PUB, np.array([5.0, -1.0]), 2, 3, 6)
    assert np.isfinite(ce[0])
    assert np.isnan(ce[1])
    np.testing.assert_array_equal(
        np.isnan(bgbb.purchase_count_pmf(*PUB, [6, 6, 6, -1, 2.5], [7, -1, 2.5, 0, 1])),
        [False, False, True, True, True],
    )
    assert bgbb.purchase_count_pmf(*PUB, 6, 7) == 0.0
    assert np.isnan(bgbb.expected_purchases(*PUB, -1.0))


# ------------------------------------------------------------------------------------------------
# simulation
# ------------------------------------------------------------------------------------------------
def test_simulated_patterns_follow_the_likelihood() -> None:
    rng = np.random.default_rng(6)
    size = 200_000
    n = 6
    x, t_x = bgbb.simulate(*PUB, np.full(size, n), rng)
    assert x.shape == t_x.shape == (size,)
    assert np.all((x <= t_x) & (t_x <= n) & ((x > 0) | (t_x == 0)))
    xs, ts = np.meshgrid(np.arange(n + 1.0), np.arange(n + 1.0), indexing="ij")
    valid = (xs <= ts) & ((xs > 0) | (ts == 0))
    xs, ts = xs[valid], ts[valid]
    prob = np.where(xs == 0, 1.0, comb(ts - 1, xs - 1)) * np.exp(bgbb.loglik(*PUB, xs, ts, n))
    observed = np.array([np.sum((x == a) & (t_x == b)) for a, b in zip(xs, ts, strict=True)])
    expected = prob * size
    z = (observed - expected) / np.sqrt(expected * (1 - prob))
    assert np.max(np.abs(z)) < 4.5
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    assert chi2 < 60.0  # 21 degrees of freedom; P(chi2 > 60) ~ 1e-5


def test_simulate_broadcasts_and_varies_n() -> None:
    rng = np.random.default_rng(7)
    n = np.repeat(np.array([0, 1, 10, 50]), 20_000)
    x, t_x = bgbb.simulate(*PUB, n, rng)
    assert np.all(x[n == 0] == 0)
    assert np.all(t_x <= n)
    for n_val in (1, 10, 50):
        m = x[n == n_val].mean()
        e = float(bgbb.expected_purchases(*PUB, n_val))
        sd = x[n == n_val].std() / math.sqrt(20_000)
        assert abs(m - e) < 4.5 * sd
    a = np.array([[0.5], [2.0]])
    x2, t2 = bgbb.simulate(a, 0.75, 0.66, 2.8, np.full(5, 8), rng)
    assert x2.shape == t2.shape == (2, 5)
    # extreme parameters: no warnings, valid output
    x3, t3 = bgbb.simulate(1e-3, 1e3, 1e-3, 1e3, np.full(1000, 20), rng)
    assert np.all((x3 <= t3) & (t3 <= 20))
    with pytest.raises(ValueError, match="non-negative integers"):
        bgbb.simulate(*PUB, np.array([1.5]), rng)


def test_random_extreme_parameters_stay_finite() -> None:
    # log-parameters uniform on [-7, 7]: no warnings (pytest turns them into errors), finite results
    rng = np.random.default_rng(8)
    x = np.array([0, 0, 1, 3, 30, 50, 200])
    t_x = np.array([0, 0, 1, 7, 45, 50, 300])
    n = np.array([0, 6, 1, 10, 60, 50, 300])
    for a, b, g, d in np.exp(rng.uniform(-7, 7, (60, 4))):
        ll, grad = bgbb.loglik_and_grad(a, b, g, d, x, t_x, n)
        assert np.all(np.isfinite(ll))
        assert all(np.all(np.isfinite(v)) for v in grad)
        pa = bgbb.p_alive(a, b, g, d, x, t_x, n)
        assert np.all((pa >= 0) & (pa <= 1))
        ce = bgbb.conditional_expected_purchases(a, b, g, d, [[0], [1], [3650]], x, t_x, n)
        assert np.all(np.isfinite(ce))
        assert np.all(np.isfinite(bgbb.expected_purchases(a, b, g, d, [0, 1, 10, 3650])))
        assert bgbb.purchase_count_pmf(a, b, g, d, 300, np.arange(301)).sum() == pytest.approx(1.0, rel=1e-9)
