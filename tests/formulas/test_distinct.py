"""Grouping by distinct rows is exact, on every path it takes."""

import numpy as np
import pytest

from clvlab.formulas import bgnbd, mbgnbd
from clvlab.formulas._distinct import MIN_ROWS, distinct_rows, on_distinct_rows


def _fn(x, T):
    return np.sin(x) * np.log1p(T) + x / (T + 1.0)


@pytest.mark.parametrize(
    "make_T",
    [
        lambda rng, n: rng.integers(0, 730, n).astype(float),  # whole days: dense table
        lambda rng, n: rng.integers(0, 730, n) / 7.0,  # fractional weeks: ranks
        lambda rng, n: rng.integers(0, 10**9, n).astype(float),  # wide range: sparse keys
    ],
)
def test_on_distinct_rows_is_exact(make_T):
    rng = np.random.default_rng(0)
    n = 3 * MIN_ROWS
    x = rng.integers(0, 40, n).astype(float)
    T = make_T(rng, n)
    np.testing.assert_array_equal(on_distinct_rows(_fn, (x, T)), _fn(x, T))


def test_grouping_is_skipped_when_it_does_not_pay():
    rng = np.random.default_rng(1)
    assert distinct_rows(rng.random(10)) is None  # too few rows
    assert distinct_rows(rng.random(3 * MIN_ROWS)) is None  # all distinct
    x = np.zeros(3 * MIN_ROWS)
    x[5] = np.nan
    assert distinct_rows(x) is None
    rep, inverse = distinct_rows(np.repeat([3.0, 1.0, 2.0], MIN_ROWS))
    assert len(rep) == 3
    assert (np.repeat([3.0, 1.0, 2.0], MIN_ROWS)[rep][inverse] == np.repeat([3.0, 1.0, 2.0], MIN_ROWS)).all()


@pytest.mark.parametrize("module", [bgnbd, mbgnbd])
def test_conditional_expectation_grouped_equals_row_by_row(module):
    rng = np.random.default_rng(2)
    n = 2 * MIN_ROWS
    T = rng.integers(1, 400, n).astype(float)
    x = rng.poisson(2.0, n).astype(float)
    t_x = np.where(x > 0, np.floor(rng.random(n) * T), 0.0)
    p = (0.24, 30.0, 0.8, 2.4)
    grouped = module.conditional_expected_purchases(*p, 90.0, x, t_x, T)
    rows = np.concatenate(
        [
            module.conditional_expected_purchases(
                *p, 90.0, x[i : i + 1000], t_x[i : i + 1000], T[i : i + 1000]
            )
            for i in range(0, n, 1000)
        ]
    )
    np.testing.assert_array_equal(grouped, rows)
