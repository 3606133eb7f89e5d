"""Evaluate a function of a few data columns once per distinct row (numpy only).

Scoring a large customer base with fixed parameters repeats the same (x, T) pairs many times: a million
customers with daily ages hold a few tens of thousands of distinct pairs. Computing an expensive factor
(a Gauss hypergeometric function, say) once per distinct pair and gathering it is exact and much faster.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: Below this many rows grouping costs more than it saves.
MIN_ROWS = 20_000


def rank_codes(values: FloatArray) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Codes 0..k-1 of ``values`` by rank among their sorted distinct values, and those values.

    Whole numbers in a compact range (daily data) are coded from their offsets without sorting; other
    values by a sort of the distinct values and a binary search.
    """
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < (1 << 22) and lo == np.floor(lo) and np.array_equal(values, np.floor(values)):
        offset = (values - lo).astype(np.int64)
        present = np.zeros(int(hi - lo) + 1, dtype=bool)
        present[offset] = True
        rank = np.cumsum(present) - 1
        return rank[offset], np.flatnonzero(present).astype(np.float64) + lo
    uniq = np.unique(values)
    return np.searchsorted(uniq, values).astype(np.int64), uniq


def distinct_rows(*columns: FloatArray, repeats: int = 1) -> tuple[IntArray, IntArray] | None:
    """Positions of one representative row per distinct row, and each row's representative index.

    Returns ``None`` when the columns are not 1-D arrays of one length, when the work (rows times
    ``repeats``, e.g. parameter draws) is below :data:`MIN_ROWS`, when they hold non-finite values, or when
    grouping would not pay.
    """
    if not columns or any(np.ndim(c) != 1 for c in columns):
        return None
    n = len(columns[0])
    if (
        n * repeats < MIN_ROWS
        or any(len(c) != n for c in columns)
        or not all(np.isfinite(c).all() for c in columns)
    ):
        return None
    key = np.zeros(n, dtype=np.int64)
    space = 1
    for c in columns:
        code, distinct = rank_codes(np.asarray(c, dtype=np.float64))
        k = len(distinct)
        if space * k > (1 << 62):
            return None
        key = key * k + code
        space *= k
    if space <= 4 * n:  # dense table: linear time, no sort
        first = np.full(space, -1, dtype=np.intp)
        first[key[::-1]] = np.arange(n - 1, -1, -1)  # the first row holding each key
        present = np.flatnonzero(first >= 0)
        if len(present) > n // 2:
            return None
        lookup = np.empty(space, dtype=np.intp)
        lookup[present] = np.arange(len(present))
        return first[present], lookup[key]
    uniq = np.unique(key)
    if len(uniq) > n // 2:
        return None
    inverse = np.searchsorted(uniq, key)
    rep = np.empty(len(uniq), dtype=np.intp)
    rep[inverse[::-1]] = np.arange(n - 1, -1, -1)
    return rep, inverse


def on_distinct_rows(
    fn: Callable[..., FloatArray], columns: tuple[FloatArray, ...], repeats: int = 1
) -> FloatArray:
    """``fn(*columns)``, computed once per distinct row of ``columns`` when that pays, else directly.

    ``fn`` must be elementwise in the rows, which are its last axis (its result for a row depends on that
    row only; leading axes, such as parameter draws, are carried along). ``repeats`` is the size of those
    leading axes.
    """
    groups = distinct_rows(*columns, repeats=repeats)
    if groups is None:
        return fn(*columns)
    rep, inverse = groups
    return fn(*(c[rep] for c in columns))[..., inverse]
