"""Evaluate a function of a few data columns once per distinct row (numpy only).

Scoring a large customer base with fixed parameters repeats the same (x, T) pairs many times: a million
customers with daily ages hold a few tens of thousands of distinct pairs. Computing an expensive factor
(a Gauss hypergeometric function, say) once per distinct pair and gathering it is exact and much faster.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from clvlab._types import FloatArray

IntArray = npt.NDArray[np.intp]

#: Below this many rows grouping costs more than it saves.
MIN_ROWS = 20_000


def _compact(lo: float, hi: float) -> bool:
    """Whether whole numbers from ``lo`` to ``hi`` may be coded by their offsets (a short, exact range)."""
    return hi - lo < (1 << 22) and lo == np.floor(lo) and max(abs(lo), abs(hi)) < 2.0**52


def _whole_offsets(values: FloatArray, lo: float) -> npt.NDArray[np.int64] | None:
    """``values - lo`` as integers when every value is a whole number (``lo`` one, see :func:`_compact`)."""
    whole = values.astype(np.int64)
    if not np.array_equal(whole, values):
        return None
    if lo:
        whole -= np.int64(lo)
    return whole


def whole_codes(values: FloatArray) -> tuple[npt.NDArray[np.int64], FloatArray] | None:
    """Offsets of whole numbers from their minimum and the values ``min .. max``, or ``None``.

    ``None`` unless every value is a whole number and the range is no longer than the column (so that a
    table over it costs no more than a pass over the rows). Cheaper than :func:`rank_codes` (no
    compaction): for a table of a function of frequency, gathered per customer.
    """
    if values.ndim != 1 or not values.size:
        return None
    lo, hi = float(values.min()), float(values.max())
    if not (_compact(lo, hi) and hi - lo < values.size):
        return None
    offset = _whole_offsets(values, lo)
    return None if offset is None else (offset, lo + np.arange(int(hi - lo) + 1, dtype=np.float64))


def rank_codes(values: FloatArray) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Codes 0..k-1 of ``values`` by rank among their sorted distinct values, and those values.

    Whole numbers in a compact range (daily data) are coded from their offsets without sorting; other
    values by a sort of the distinct values and a binary search.
    """
    lo, hi = float(values.min()), float(values.max())
    offset = _whole_offsets(values, lo) if _compact(lo, hi) else None
    if offset is not None:
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
    key: npt.NDArray[np.int64] | None = None
    space = 1
    for c in columns:
        code, distinct = rank_codes(np.asarray(c, dtype=np.float64))
        k = len(distinct)
        if space * k > (1 << 62):
            return None
        key = code if key is None else key * k + code
        space *= k
    if key is None:  # pragma: no cover - columns is not empty
        return None
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


class Cells(NamedTuple):
    """Distinct ``(x, t)`` cells of a customer base, ``t`` ranging over both recencies and ages.

    ``x`` and ``t`` hold each cell's values; ``of_recency`` and ``of_age`` each row's cell of
    ``(x, t_x)`` and of ``(x, T)``. A quantity of ``(x, t)`` (e.g. an integral from ``t`` to infinity) is
    evaluated once per cell and gathered twice; rows with ``t_x = T`` share one cell.
    """

    x: FloatArray
    t: FloatArray
    of_recency: IntArray
    of_age: IntArray


def xt_cells(x: FloatArray, t_x: FloatArray, T: FloatArray, max_cells: int) -> Cells | None:
    """The distinct ``(x, t_x)`` and ``(x, T)`` cells of 1-D columns, or ``None``.

    ``None`` when a column holds non-finite values or there are more than ``max_cells`` cells. Whole
    numbers in compact ranges (frequencies, daily recencies and ages) are coded by their offsets and the
    cells found in a dense table, in linear time; other values by :func:`rank_codes` and a sort.
    """
    n = len(x)
    ends = [float(f(c)) for c in (x, t_x, T) for f in (np.min, np.max)]
    if not all(np.isfinite(v) for v in ends):  # NaN propagates through min and max
        return None
    lo_x, hi_x = ends[0], ends[1]
    lo_t, hi_t = min(ends[2], ends[4]), max(ends[3], ends[5])

    code_x = _whole_offsets(x, lo_x) if _compact(lo_x, hi_x) else None
    if code_x is not None:
        xs = lo_x + np.arange(int(hi_x - lo_x) + 1, dtype=np.float64)
    else:
        code_x, xs = rank_codes(x)
    codes_t = None
    if _compact(lo_t, hi_t):
        code_r = _whole_offsets(t_x, lo_t)
        code_a = None if code_r is None else _whole_offsets(T, lo_t)
        if code_r is not None and code_a is not None:
            codes_t = (code_r, code_a)
            ts = lo_t + np.arange(int(hi_t - lo_t) + 1, dtype=np.float64)
    if codes_t is None:
        (code_r, rs), (code_a, as_) = rank_codes(t_x), rank_codes(T)
        ts = np.union1d(rs, as_)
        codes_t = (np.searchsorted(ts, rs)[code_r], np.searchsorted(ts, as_)[code_a])
    kt = len(ts)
    space = len(xs) * kt
    key_r = code_x * kt
    key_a = key_r + codes_t[1]
    key_r += codes_t[0]
    if space <= max(4 * n, 1 << 16):  # dense table: linear time, no sort
        present = np.zeros(space, dtype=bool)
        present[key_r] = True
        present[key_a] = True
        cells = np.flatnonzero(present)
        if len(cells) > max_cells:
            return None
        lookup = np.empty(space, dtype=np.intp)
        lookup[cells] = np.arange(len(cells))
        of_r, of_a = lookup[key_r], lookup[key_a]
    else:
        cells, inverse = np.unique(np.concatenate([key_r, key_a]), return_inverse=True)
        if len(cells) > max_cells:
            return None
        of_r, of_a = inverse[:n], inverse[n:]
    return Cells(xs[cells // kt], ts[cells % kt], of_r, of_a)
