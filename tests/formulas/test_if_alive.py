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
