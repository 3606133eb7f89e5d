"""BG/NBD and MBG/NBD log-odds with log(a / (b + x - 1)) tabulated by frequency equal the per-row ones."""

from __future__ import annotations

import numpy as np
import pytest

from clvlab.formulas import bgnbd, mbgnbd
from clvlab.formulas._distinct import rank_codes, whole_codes

N = 30_000  # above clvlab.formulas._distinct.MIN_ROWS


def per_row_log_odds(r, alpha, a, b, x, t_x, T, shift):
    """The log-odds of being dead, row by row (bgnbd._log_odds_dead before the table by frequency)."""
    log1p_ratio = np.log1p((T - t_x) / (alpha + t_x))
    bxs1 = b + x + (shift - 1.0)
    if shift == 0:
        has = x > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = np.log(a / np.where(has, bxs1, 1.0)) + (r + x) * log1p_ratio
        return np.where(has, delta, -np.inf)
    return np.log(a / bxs1) + (r + x) * log1p_ratio


@pytest.mark.parametrize("shift", [0, 1])
def test_log_odds_by_frequency_equals_per_row(shift):
    rng = np.random.default_rng(4)
    T = rng.integers(1, 731, N).astype(float)
    x = rng.poisson(rng.gamma(0.3, 5.0, N)).astype(float)
    x[:100] = rng.integers(1000, 20_000, 100)
    t_x = np.where(x > 0, np.floor(T * rng.random(N)), 0.0)
    t_x[100:200] = T[100:200]
    params = (0.243, 30.9, 0.793, 2.426)
    assert bgnbd._scalar_params_by_x(*params, x=x, t_x=t_x, T=T) is not None
    fast = bgnbd._log_odds_dead(*params, x, t_x, T, shift)
    np.testing.assert_array_equal(fast, per_row_log_odds(*params, x, t_x, T, shift))
    p_alive = (bgnbd if shift == 0 else mbgnbd).p_alive
    np.testing.assert_array_equal(p_alive(*params, x, t_x, T)[x == 0] == 1.0, shift == 0)


def test_whole_codes():
    codes, values = whole_codes(np.array([3.0, 5.0, 3.0, 4.0, 7.0, 5.0]))
    np.testing.assert_array_equal(codes, [0, 2, 0, 1, 4, 2])
    np.testing.assert_array_equal(values, [3.0, 4.0, 5.0, 6.0, 7.0])
    assert whole_codes(np.array([0.5, 1.0, 2.0])) is None  # not whole
    assert whole_codes(np.array([0.0, 100.0, 2.0])) is None  # range longer than the column
    assert whole_codes(np.array([0.0, np.nan, 1.0, 2.0])) is None
    codes, values = rank_codes(np.array([3.0, 7.0, 3.0, 5.0]))
    np.testing.assert_array_equal(codes, [0, 2, 0, 1])
    np.testing.assert_array_equal(values, [3.0, 5.0, 7.0])
