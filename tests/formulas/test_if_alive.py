"""The factorisation CLV relies on: E[X(T, T+t) | x, t_x, T] = P(alive) x E[X(T, T+t) | alive, x, T]."""

from __future__ import annotations

import numpy as np
import pytest

from clvlab.formulas import bgnbd, mbgnbd, pareto_nbd


@pytest.mark.parametrize("module", [bgnbd, mbgnbd, pareto_nbd], ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_conditional_expectation_is_p_alive_times_the_alive_factor(module):
    rng = np.random.default_rng(7)
    n = 30_000  # above the distinct-row threshold, so the grouped paths run too
    x = rng.poisson(2.0, n).astype(float)
    T = rng.integers(1, 60, n).astype(float)
    t_x = np.where(x > 0, np.floor(rng.uniform(0, 1, n) * T), 0.0)
    # Three parameter draws along a leading axis, as a posterior passes them; a = 1 and s = 1 included.
    params = (
        np.array([[0.3], [1.2], [0.55]]),
        np.array([[4.0], [12.0], [0.9]]),
        np.array([[0.8], [1.0], [2.5]]),
        np.array([[2.4], [6.0], [1.0]]),
    )
    for t in (0.5, 13.0, 260.0):
        whole = module.conditional_expected_purchases(*params, t, x, t_x, T)
        parts = module.p_alive(*params, x, t_x, T) * module.expected_purchases_if_alive(*params, t, x, T)
        np.testing.assert_allclose(parts, whole, rtol=1e-12, atol=0)
        assert np.isfinite(parts).all()


@pytest.mark.parametrize("module", [bgnbd, mbgnbd], ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_p_alive_over_many_draws_equals_one_draw_at_a_time(module):
    # Many draws against many customers take the logs once per distinct T, t_x and x (a faster route);
    # it must agree with the per-draw evaluation, including x = 0, t_x = T and large x.
    rng = np.random.default_rng(3)
    n = 5_000
    x = np.concatenate([[0.0, 3.0, 2_000.0], rng.poisson(3.0, n - 3).astype(float)])
    T = np.concatenate([[10.0, 20.0, 300.0], rng.integers(1, 400, n - 3).astype(float)])
    t_x = np.where(x > 0, np.floor(rng.uniform(0, 1, n) * (T + 1)).clip(0, T), 0.0)
    t_x[1] = T[1]
    draws = np.column_stack(
        [rng.uniform(0.1, 2, 8), rng.uniform(1, 50, 8), rng.uniform(0.2, 3, 8), rng.uniform(0.5, 9, 8)]
    )
    many = module.p_alive(*(draws[:, [j]] for j in range(4)), x, t_x, T)
    one = np.vstack([module.p_alive(*row, x, t_x, T) for row in draws])
    np.testing.assert_allclose(many, one, rtol=1e-11, atol=1e-300)
    assert np.isfinite(many).all()
    if module is bgnbd:
        assert (many[:, 0] == 1.0).all()
