"""Pareto/NBD scoring tabulated by (x, t) cells equals the per-customer evaluation.

``p_alive`` and ``conditional_expected_purchases`` evaluate ``ln K(t)`` once per distinct ``(x, t_x)`` and
``(x, T)`` cell when scoring many customers (``pareto_nbd._log_odds_by_cells``); the reference is the
per-customer ``_log_p_alive_flat`` (the likelihood's own terms, checked against mpmath and lifetimes in
test_pareto_nbd.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from clvlab.formulas import pareto_nbd as pn

N = 30_000  # above clvlab.formulas._distinct.MIN_ROWS, so that the tabulated path runs

PARAMS = {
    "cdnow_daily": (0.5533, 74.04, 0.6062, 81.68),
    "alpha_close_to_beta": (0.8, 50.0, 1.3, 50.0 * (1.0 + 1e-12)),
    "alpha_equals_beta": (0.8, 50.0, 1.3, 50.0),
    "alpha_far_below_beta": (0.5, 1.0, 0.6, 300.0),  # z > 0.9 for small t_x: quadrature rows
    "alpha_far_above_beta": (2.0, 500.0, 0.3, 0.5),
    "s_equals_one": (0.3, 10.0, 1.0, 20.0),
}


def customers(seed: int, whole: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Daily-like histories with the edge cases: x = 0, t_x = T, t_x just below T, large x."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 731, N).astype(float)
    x = rng.poisson(rng.gamma(0.5, 4.0, N)).astype(float)
    x[: N // 20] = rng.integers(500, 5001, N // 20)  # large frequencies
    t_x = np.floor(T * rng.random(N))
    kind = rng.integers(0, 4, N)
    t_x = np.where(kind == 1, T, t_x)  # recency equal to age
    t_x = np.where(kind == 2, np.maximum(T - 1.0, 0.0), t_x)  # just below the age
    if not whole:
        T = T / 7.0
        t_x = t_x / 7.0
    t_x = np.where(x == 0, 0.0, t_x)
    x[rng.integers(0, N, 50)] = 0.0
    t_x = np.where(x == 0, 0.0, t_x)
    return x, t_x, T


def reference(params, t, x, t_x, T):
    """P(alive) and E[X(T, T+t) | x, t_x, T] customer by customer (the likelihood's terms)."""
    shape, (r, a, s, b, t_, x_, tx_, big_t) = pn._broadcast(*params, t, x, t_x, T)
    pa, _ = pn._log_p_alive_flat(r, a, s, b, x_, tx_, big_t)
    bt = b + big_t
    expected = pa * (r + x_) * bt / (a + big_t) * pn._one_minus_exp_over(s - 1.0, np.log1p(t_ / bt))
    return pa.reshape(shape), expected.reshape(shape)


def assert_close(actual, desired, rtol=1e-12):
    np.testing.assert_array_equal(np.isfinite(actual), np.isfinite(desired))
    np.testing.assert_array_equal(actual == 0.0, desired == 0.0)
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=0.0)


@pytest.mark.parametrize("whole", [True, False], ids=["daily", "weekly_fractions"])
@pytest.mark.parametrize("name", list(PARAMS))
def test_tabulated_scoring_equals_per_customer_evaluation(name, whole):
    params = PARAMS[name]
    x, t_x, T = customers(7, whole)
    assert pn._scoring_cells(params, x, t_x, T) is not None  # the tabulated path is taken
    pa_ref, e_ref = reference(params, 39.0, x, t_x, T)
    assert_close(pn.p_alive(*params, x, t_x, T), pa_ref)
    assert_close(pn.conditional_expected_purchases(*params, 39.0, x, t_x, T), e_ref)
    e_both, pa_both = pn.conditional_expected_purchases_and_p_alive(*params, 39.0, x, t_x, T)
    assert_close(pa_both, pa_ref)
    assert_close(e_both, e_ref)
    assert np.all(pa_ref[t_x == T] == 1.0)


def test_tabulated_scoring_over_parameter_draws():
    rng = np.random.default_rng(3)
    base = np.array(PARAMS["cdnow_daily"])
    draws = base * np.exp(0.3 * rng.standard_normal((6, 4)))
    draws[0, 3] = draws[0, 1]  # alpha = beta in one draw
    draws[1, 1], draws[1, 3] = 1.0, 300.0  # quadrature rows in another
    params = tuple(draws[:, [j]] for j in range(4))
    x, t_x, T = customers(11)
    assert pn._scoring_cells(params, x, t_x, T) is not None
    pa_ref, e_ref = reference(params, 39.0, x, t_x, T)
    pa = pn.p_alive(*params, x, t_x, T)
    assert pa.shape == (6, N)
    assert_close(pa, pa_ref)
    assert_close(pn.conditional_expected_purchases(*params, 39.0, x, t_x, T), e_ref)


def test_inputs_the_table_does_not_take_use_the_per_customer_path():
    x, t_x, T = customers(5)
    params = PARAMS["cdnow_daily"]
    assert pn._scoring_cells(params, x[:100], t_x[:100], T[:100]) is None  # too few rows
    assert pn._scoring_cells(params, x.reshape(2, -1), t_x.reshape(2, -1), T.reshape(2, -1)) is None
    bad = T.copy()
    bad[0] = np.nan
    assert pn._scoring_cells(params, x, t_x, bad) is None
    # a horizon per customer is evaluated customer by customer, and P(alive) still tabulated
    t = np.linspace(1.0, 100.0, N)
    pa_ref, e_ref = reference(params, t, x, t_x, T)
    assert_close(pn.conditional_expected_purchases(*params, t, x, t_x, T), e_ref)
    assert_close(pn.p_alive(*params, x, t_x, T), pa_ref)
