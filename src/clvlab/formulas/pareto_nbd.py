r"""Pareto/NBD model formulas (Schmittlein, Morrison & Colombo 1987).

Pure, vectorised, log-space implementations of the Pareto/NBD quantities used by clvlab. Parameters are
``r, alpha`` (gamma heterogeneity of the purchase rate ``lambda``) and ``s, beta`` (gamma heterogeneity of the
dropout rate ``mu``). Data are ``x`` (repeat purchases), ``t_x`` (recency) and ``T`` (age), all in the same
time unit. Every argument is converted with ``np.asarray(..., dtype=float)`` and results have the numpy
broadcast shape of all arguments, so parameters of shape ``(D, 1)`` (posterior draws) and data of shape
``(N,)`` give ``(D, N)`` results.

Numerical approach
------------------
The likelihood of Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related
Expressions", eq. (18)-(20), is

.. math::

    L = \frac{\Gamma(r+x)\alpha^r\beta^s}{\Gamma(r)}
        \Big[(\alpha+T)^{-(r+x)}(\beta+T)^{-s}
        + s\int_{t_x}^{T}(\alpha+\tau)^{-(r+x)}(\beta+\tau)^{-(s+1)}\,d\tau\Big],

which follows from integrating
:math:`\lambda^x e^{-(\lambda+\mu)T} + \int_{t_x}^{T}\lambda^x\mu e^{-(\lambda+\mu)\tau}d\tau`
over the two gamma mixing distributions. The integral ``I`` is the Gauss hypergeometric term ``A_0`` of the
note. Writing ``c = max(alpha, beta)``, ``m = min(alpha, beta)``, ``e`` the exponent attached to ``c`` and
``b`` the exponent attached to ``m`` (``{e, b} = {r + x, s + 1}``),
``I = K(t_x) - K(T)`` with

.. math::

    K(t) = \int_t^\infty (c+\tau)^{-e}(m+\tau)^{-b}\,d\tau
         = \frac{(c+t)^{-e}(m+t)^{1-b}}{e+b-1}\;{}_2F_1(1, e; e+b; z_t),\qquad
    z_t = \frac{c-m}{c+t}\in[0, 1),

(the note's 2F1 after Euler's transformation, which is exactly the ``alpha >= beta`` / ``alpha < beta``
switch). Its series has positive, monotonically decreasing terms with ratio below ``z_t``, so it is summed
in plain floating point (no overflow: every term is at most 1) with its exact derivatives.
``scipy.special.hyp2f1`` is *not* used: in the ``alpha < beta`` form it overflows to ``inf`` for large ``x``.

When ``z_{t_x} > 0.9`` (``alpha`` and ``beta`` far apart relative to ``t_x``; series slow) the integral is
evaluated directly by a Gauss-Legendre rule in ``u = ln((m+tau)/(m+t_x))``, in which the log-integrand is
concave. Panels are placed at fixed drops of the log-integrand on both sides of its maximum (so that the
rule adapts to sharp and flat integrands alike, from ``x = 0`` to ``x = 10^4``) and on a geometric grid
around the integrand's single complex singularity; everything is vectorised over customers. The same
machinery evaluates ``P(X(t) = n)`` (Fader & Hardie 2006 note) and the confluent hypergeometric function in
DERT (Fader, Hardie & Lee 2005, JMR). Accuracy against 40-digit mpmath is about 1e-11 relative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, expit, gammaln

from clvlab._types import FloatArray
from clvlab.formulas._distinct import MIN_ROWS, Cells, rank_codes, xt_cells

__all__ = [
    "conditional_expected_purchases",
    "conditional_expected_purchases_and_p_alive",
    "conditional_purchase_pmf",
    "conditional_purchase_pmf_if_alive",
    "dert",
    "expected_purchases",
    "expected_purchases_if_alive",
    "loglik",
    "loglik_and_grad",
    "loglik_grad",
    "p_alive",
    "purchase_count_pmf",
    "sample_future_latent",
    "simulate",
]

IntArray = NDArray[np.intp]

# Largest z = |alpha - beta| / (max(alpha, beta) + t) for which the hypergeometric series is used.
_Z_SERIES_MAX = 0.9
# Gauss-Legendre rule used on every panel of the log-concave quadrature.
_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
# Drops of the log-integrand below its maximum at which panels are cut (the last one truncates).
_DROP_LEVELS = (0.5, 2.0, 4.5, 8.0, 13.0, 20.0, 29.0, 40.0)
# Offsets (in the integration variable) of extra cuts around a complex singularity of the integrand.
_KINK_GRID = (-16.0, -8.0, -4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0, 8.0, 16.0)
# Newton steps per drop level (one already guarantees the level is reached, see _drop_points).
_NEWTON_STEPS = 2
# Rows processed at once by the quadrature (bounds the memory of the node arrays).
_CHUNK = 4096
# The hypergeometric series is summed from per-(e, b) coefficient tables when there are at least this
# many rows per distinct pair (fits: one pair per distinct frequency) and at most _MAX_PAIRS pairs (one
# matrix product each), else by its recurrence.
_ROWS_PER_PAIR = 8
_MAX_PAIRS = 256


# ----------------------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------------------
def _broadcast(*args: ArrayLike) -> tuple[tuple[int, ...], list[FloatArray]]:
    """Broadcast the arguments and return the common shape and flattened float copies."""
    arrays = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in args])
    shape = arrays[0].shape if arrays else ()
    return shape, [np.ascontiguousarray(a, dtype=float).ravel() for a in arrays]


def _index(mask: NDArray[np.bool_]) -> slice | NDArray[np.intp]:
    """Indices of ``mask`` (a full slice when every entry is selected, to avoid copies)."""
    return slice(None) if mask.all() else np.flatnonzero(mask)


def _col(p: FloatArray, v: FloatArray) -> FloatArray:
    """View a per-row parameter ``p`` so that it broadcasts against ``v`` (rows first)."""
    return p if v.ndim == 1 else p.reshape(p.shape + (1,) * (v.ndim - 1))


def _one_minus_exp_over(k: FloatArray, length: FloatArray) -> FloatArray:
    """Return ``(1 - exp(-k * length)) / k``, continuous at ``k = 0`` (where it equals ``length``)."""
    zero = k == 0.0
    k_safe = np.where(zero, 1.0, k)
    return np.where(zero, length, -np.expm1(-k_safe * length) / k_safe)


def _logsumexp_rows(lw: FloatArray) -> FloatArray:
    """Row-wise log-sum-exp over the last axis (entries may be ``-inf``)."""
    top = np.max(lw, axis=-1)
    with np.errstate(invalid="ignore"):
        out: FloatArray = top + np.log(np.sum(np.exp(lw - top[..., None]), axis=-1))
    return out


# ----------------------------------------------------------------------------------------------------------
# log-concave Gauss-Legendre quadrature
# ----------------------------------------------------------------------------------------------------------
PsiFn = Callable[..., tuple[FloatArray, FloatArray, FloatArray]]


def _drop_points(
    psi: PsiFn,
    params: Sequence[FloatArray],
    mode: FloatArray,
    bound: FloatArray,
    side: float,
) -> FloatArray:
    """Points on one side of the maximum where the concave log-integrand has dropped by each level.

    The drop ``D(v) = psi(mode) - psi(v)`` is convex and increasing away from the mode and, for the
    integrands used here (at most exponential in ``v``), ``ln D`` is concave, so Newton's method on
    ``ln D(v) = ln level`` approaches the root monotonically from below (from above, its first step lands
    below the root); it is exact in one step for a purely exponential or power-law drop. Each level starts
    from the previous point; the first from the local quadratic model at the mode. Points are clipped to
    ``bound``; positions need not be exact (they only delimit panels), and the outermost one reaches the
    last level to within ``_NEWTON_STEPS`` Newton steps.
    """
    f0, g, h = psi(mode, *params)
    far = side * np.inf

    def quad_step(gap: FloatArray, slope: FloatArray, curv: FloatArray) -> FloatArray:
        denom = slope + np.sqrt(slope * slope + 2.0 * curv * gap)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(denom > 0.0, 2.0 * gap / denom, np.inf)

    def clip(v: FloatArray) -> FloatArray:
        return np.clip(v, mode, bound) if side > 0 else np.clip(v, bound, mode)

    v = clip(mode + side * quad_step(np.full_like(mode, _DROP_LEVELS[0]), np.abs(g), np.abs(h)))
    out = []
    for level in _DROP_LEVELS:
        for _ in range(_NEWTON_STEPS):
            f, g, h = psi(v, *params)
            drop = f0 - f
            slope = np.abs(g)
            with np.errstate(divide="ignore", invalid="ignore"):
                newton = (np.log(level) - np.log(drop)) * drop / slope
            ok = (drop > 0.0) & (slope > 0.0)
            step = np.where(ok, newton, quad_step(np.maximum(level - drop, 0.0), slope, np.abs(h)))
            v = clip(v + side * np.where(np.isnan(step), far, step))
        out.append(v)
    pts = np.stack(out, axis=-1)
    return np.maximum.accumulate(pts, axis=-1) if side > 0 else np.minimum.accumulate(pts, axis=-1)


def _lc_nodes(
    psi: PsiFn,
    params: Sequence[FloatArray],
    mode: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    kinks: Sequence[FloatArray],
) -> tuple[FloatArray, FloatArray]:
    """Quadrature nodes and log-weights for ``int_lo^hi exp(psi(v)) dv`` (integrand not included).

    ``psi(v, *params)`` returns the concave log-integrand and its first two derivatives; ``mode`` is its
    maximiser clipped to ``[lo, hi]``; ``kinks`` are real parts of the integrand's complex singularities.
    Panels are cut at the drop levels on both sides of the mode (the outermost ones truncate the range)
    and on a geometric grid around each kink; empty panels are squeezed out.
    """
    right = _drop_points(psi, params, mode, hi, 1.0)
    left = _drop_points(psi, params, mode, lo, -1.0)
    v_lo, v_hi = left[:, -1], right[:, -1]
    cuts = [left, mode[:, None], right]
    grid = np.asarray(_KINK_GRID)
    for kink in kinks:
        cuts.append(np.clip(kink[:, None] + grid, v_lo[:, None], v_hi[:, None]))
    brk = np.sort(np.concatenate(cuts, axis=1), axis=1)
    a, b = brk[:, :-1], brk[:, 1:]
    nonzero = b > a
    n_panels = max(int(nonzero.sum(axis=1).max()), 1)
    order = np.argsort(~nonzero, axis=1, kind="stable")[:, :n_panels]
    a = np.take_along_axis(a, order, axis=1)[:, :, None]
    b = np.take_along_axis(b, order, axis=1)[:, :, None]
    half = 0.5 * (b - a)
    nodes = (0.5 * (a + b) + half * _GL_X).reshape(a.shape[0], -1)
    with np.errstate(divide="ignore"):
        log_w = np.log(half * _GL_W).reshape(a.shape[0], -1)
    return nodes, log_w


NodeFn = Callable[..., tuple[FloatArray, list[FloatArray]]]


def _lc_integrate(
    psi: PsiFn,
    node_fn: NodeFn,
    params: Sequence[FloatArray],
    mode: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    kinks: Sequence[FloatArray],
) -> tuple[FloatArray, list[FloatArray]]:
    """Log of ``int_lo^hi exp(psi)`` and integrand-weighted averages of extra functions, in row chunks.

    ``node_fn(v, *params)`` returns ``psi(v)`` and a (possibly empty) list of functions of ``v`` whose
    averages under the normalised integrand are wanted (used for derivatives under the integral sign).
    """
    n = mode.size
    log_int = np.empty(n)
    avgs: list[FloatArray] = []
    for start in range(0, n, _CHUNK):
        sl = slice(start, start + _CHUNK)
        par = [p[sl] for p in params]
        nodes, log_w = _lc_nodes(psi, par, mode[sl], lo[sl], hi[sl], [k[sl] for k in kinks])
        f, extra = node_fn(nodes, *par)
        log_w = log_w + f
        log_int[sl] = _logsumexp_rows(log_w)
        if extra:
            if not avgs:
                avgs = [np.empty(n) for _ in extra]
            w = np.exp(log_w - log_int[sl][:, None])
            for avg, val in zip(avgs, extra, strict=True):
                avg[sl] = np.sum(w * val, axis=1)
    return log_int, avgs


# ----------------------------------------------------------------------------------------------------------
# the likelihood integral I = int_{t_x}^T (c+tau)^-e (m+tau)^-b dtau
# ----------------------------------------------------------------------------------------------------------
def _distinct_pairs(e: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray, IntArray] | None:
    """Distinct ``(e, b)`` pairs and each row's pair index, or ``None`` if the rows share too few.

    The coefficients of the series depend on ``(e, b)`` only, and a fit's rows share few pairs (``e`` and
    ``b`` are ``r + x`` and ``s + 1`` in some order: one pair per distinct frequency); tabulating them
    pays when there are at least :data:`_ROWS_PER_PAIR` rows per pair and at most :data:`_MAX_PAIRS`.
    """
    code_e, uniq_e = rank_codes(e)
    if len(uniq_e) * _ROWS_PER_PAIR > e.size:
        return None
    code_b, uniq_b = rank_codes(b)
    keys, inverse = np.unique(code_e * len(uniq_b) + code_b, return_inverse=True)
    if len(keys) * _ROWS_PER_PAIR > e.size or len(keys) > _MAX_PAIRS:
        return None
    return uniq_e[keys // len(uniq_b)], uniq_b[keys % len(uniq_b)], inverse.ravel()


def _coefficient_table(e: FloatArray, b: FloatArray, n_terms: int, grad: bool) -> FloatArray:
    """Coefficients of ``z^k`` (``k < n_terms``) in the series of :func:`_series_by_recurrence`, per pair.

    ``v_{k+1} = z^k prod_{j<=k} (e+j)/(e+b+j)``, ``dln v_{k+1}/de = sum_{j<=k} 1/(e+j) - 1/(e+b+j)`` and
    ``dln v_{k+1}/db = -sum_{j<=k} 1/(e+b+j)``, by cumulative products and sums. Returns shape
    ``(pairs, n_terms, 3)`` (``(pairs, n_terms, 1)`` without ``grad``): the coefficient of ``v``, of
    ``v dln v/de`` and of ``v dln v/db``.
    """
    ek = e[:, None] + np.arange(n_terms)
    ebk = ek + b[:, None]
    coef = np.cumprod(ek / ebk, axis=1)
    tables = [coef]
    if grad:
        tables += [coef * np.cumsum(1.0 / ek - 1.0 / ebk, axis=1), coef * -np.cumsum(1.0 / ebk, axis=1)]
    return np.stack(tables, axis=-1)


def _series_by_table(
    table: FloatArray, pair: IntArray, z: tuple[FloatArray, ...]
) -> list[tuple[FloatArray, FloatArray, FloatArray]]:
    """The sums of :func:`_series_by_recurrence` from a :func:`_coefficient_table` (rows' pair ``pair``).

    The rows' powers ``z^0 .. z^(n_terms-1)`` (every argument) are built by one cumulative product; the
    rows of each pair then take one matrix product with that pair's table.
    """
    n, n_terms, width = pair.size, table.shape[1], table.shape[2]
    k = len(z)
    order = np.argsort(pair, kind="stable")
    bounds = np.searchsorted(pair[order], np.arange(table.shape[0] + 1))
    powers = np.ones((k, n, n_terms))
    if n_terms > 1:
        both = np.stack([zj[order] for zj in z])[:, :, None]
        np.cumprod(np.broadcast_to(both, (k, n, n_terms - 1)), axis=-1, out=powers[..., 1:])
    sums = np.zeros((k, n, 3))
    for g in range(table.shape[0]):
        rows = slice(bounds[g], bounds[g + 1])
        if rows.stop > rows.start:
            sums[:, rows, :width] = powers[:, rows] @ table[g]
    out = np.empty_like(sums)
    out[:, order] = sums
    return [(out[j, :, 0], out[j, :, 1], out[j, :, 2]) for j in range(k)]


def _series_by_recurrence(
    e: FloatArray,
    b: FloatArray,
    z: tuple[FloatArray, ...],
    n_terms: int,
    grad: bool,
) -> list[tuple[FloatArray, FloatArray, FloatArray]]:
    """Sum the series of ``G = 2F1(1, e; e+b; z) = 1 + z sum_{k>=1} v_k`` at one or more arguments ``z``.

    ``v_1 = e/(e+b)`` and ``v_{k+1} = v_k z (e+k)/(e+b+k)``: positive terms, ratio below ``z``. Returns, for
    each ``z``, ``(sum v_k, sum v_k dln v_k/de, sum v_k dln v_k/db)`` over ``k <= n_terms`` (the last two
    only if ``grad``), by the recurrence, vectorised over the rows; the coefficient recurrences are shared
    by the arguments. :func:`_series_by_table` sums the same terms from tabulated coefficients.
    """
    k = len(z)
    ek = e.copy()
    ebk = e + b
    rho = ek / ebk
    dle = 1.0 / ek - 1.0 / ebk
    dlb = -1.0 / ebk
    v = [rho.copy() for _ in range(k)]
    sums = [[np.zeros_like(e) for _ in range(3)] for _ in range(k)]
    for _ in range(n_terms):
        for j in range(k):
            acc = sums[j]
            acc[0] += v[j]
            if grad:
                acc[1] += v[j] * dle
                acc[2] += v[j] * dlb
        ek += 1.0
        ebk += 1.0
        inv_a = 1.0 / ek
        inv_b = 1.0 / ebk
        rho = ek * inv_b
        for j in range(k):
            v[j] *= rho * z[j]
        if grad:
            dle += inv_a - inv_b
            dlb -= inv_b
    return [(acc[0], acc[1], acc[2]) for acc in sums]


def _series_sums(
    e: FloatArray, b: FloatArray, zs: tuple[FloatArray, ...], grad: bool
) -> list[list[FloatArray]]:
    """The sums of :func:`_series_by_recurrence` at the arguments ``zs``, the first one the largest.

    Rows are grouped by the number of terms their ``zs[0]`` needs (geometric bound on the remainder of
    ``G`` below 1e-16); each group is summed with a fixed number of terms, from a coefficient table when
    the rows share few ``(e, b)`` pairs (:func:`_distinct_pairs`), by the recurrence otherwise.
    """
    n = e.size
    # terms needed so that the remainder z^(N+1)/(1-z) of G is below 1e-16, grouped on a coarse grid so that
    # each group is summed with a fixed number of terms in one vectorised pass (small groups are merged
    # into the next one: a few extra terms cost less than extra gathers and scatters).
    z0 = zs[0]
    with np.errstate(divide="ignore"):
        need = np.log(1e-16 * (1.0 - z0)) / np.log(z0)
    need = np.where(z0 > 0.0, need, 0.0)
    levels = np.array([1, 8, 12, 18, 27, 40, 60, 90, 135, 200, 300, 450, 680, 1000, 1500, 2250])
    group = np.searchsorted(levels, need)
    gids, counts = np.unique(group, return_counts=True)
    carry = 0
    for i, gid in enumerate(gids[:-1]):
        carry += counts[i]
        if carry < 0.2 * n:
            group[group == gid] = gids[i + 1]
        else:
            carry = 0
    sums = [[np.empty(n) for _ in range(3)] for _ in zs]
    gids = np.unique(group)
    terms = [int(levels[gid]) if gid < levels.size else int(np.ceil(need.max())) + 1 for gid in gids]
    # Rows sharing few (e, b) pairs (a fit) take their coefficients from one table for all groups.
    pairs = _distinct_pairs(e, b)
    table = None if pairs is None else _coefficient_table(pairs[0], pairs[1], max(terms), grad)
    for gid, n_terms in zip(gids, terms, strict=True):
        idx = _index(group == gid)
        z_idx = tuple(z[idx] for z in zs)
        if pairs is not None and table is not None:
            res = _series_by_table(table[:, :n_terms], pairs[2][idx], z_idx)
        else:
            res = _series_by_recurrence(e[idx], b[idx], z_idx, n_terms, grad)
        for j in range(len(zs)):
            for k in range(3 if grad else 1):
                sums[j][k][idx] = res[j][k]
    return sums


def _series_log_k(e: FloatArray, b: FloatArray, c: FloatArray, m: FloatArray, t: FloatArray) -> FloatArray:
    """``ln K(t)`` by the hypergeometric series (flat arrays, ``z_t <= _Z_SERIES_MAX``); see below.

    The same expression as each of the two terms of :func:`_series_log_i`, at one argument: scoring
    tabulates it once per distinct ``(x, t)`` and takes ``ln I = ln(K(t_x) - K(T))`` from the table.
    """
    z = (c - m) / (c + t)
    s_v = _series_sums(e, b, (z,), grad=False)[0][0]
    out: FloatArray = (
        -e * np.log(c + t) + (1.0 - b) * np.log(m + t) + np.log(1.0 + z * s_v) - np.log(e + b - 1.0)
    )
    return out


def _series_log_i(
    e: FloatArray,
    b: FloatArray,
    c: FloatArray,
    m: FloatArray,
    t_x: FloatArray,
    big_t: FloatArray,
    grad: bool,
) -> tuple[FloatArray, list[FloatArray]]:
    """``ln I = ln(K(t_x) - K(T))`` and its partials in ``(e, b, c, m)`` by the hypergeometric series.

    ``K(t) = int_t^inf (c+tau)^-e (m+tau)^-b dtau = (c+t)^-e (m+t)^(1-b) G(z_t) / (e+b-1)`` with
    ``G = 2F1(1, e; e+b; z)``, ``z_t = (c-m)/(c+t)`` (Fader & Hardie 2005 note, eq. (19)-(20), after Euler's
    transformation), summed by :func:`_series_sums` (terms chosen by ``z_{t_x}``, the larger argument).
    """
    a = e + b - 1.0
    times = (t_x, big_t)
    zs = tuple((c - m) / (c + t) for t in times)
    sums = _series_sums(e, b, zs, grad)
    log_k, parts = [], []
    for j in range(2):
        s_v, s_ve, s_vb = sums[j]
        z = zs[j]
        g = 1.0 + z * s_v
        big_c, big_m = c + times[j], m + times[j]
        ln_c, ln_m = np.log(big_c), np.log(big_m)
        log_k.append(-e * ln_c + (1.0 - b) * ln_m + np.log(g) - np.log(a))
        if grad:
            # d/dc and d/dm from K_C + K_M = -(c+t)^-e (m+t)^-b and Euler's relation C K_C + M K_M = -a K
            # (K is homogeneous of degree -a in C = c+t, M = m+t): no cancellation, no dG/dz needed.
            a_over_g = a / g
            d_c = -a_over_g * s_v / big_c
            parts.append(
                [-ln_c + z * s_ve / g - 1.0 / a, -ln_m + z * s_vb / g - 1.0 / a, d_c, -a_over_g / big_m - d_c]
            )
    rho = np.minimum(np.exp(log_k[1] - log_k[0]), 1.0)
    with np.errstate(divide="ignore"):
        log_i = log_k[0] + np.log1p(-rho)
    derivs: list[FloatArray] = []
    if grad:
        ok = rho < 1.0
        denom = np.where(ok, 1.0 - rho, 1.0)
        derivs = [np.where(ok, (parts[0][i] - rho * parts[1][i]) / denom, 0.0) for i in range(4)]
    return log_i, derivs


def _psi_lik(
    u: FloatArray, e: FloatArray, b: FloatArray, w0: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Log-integrand of ``I`` in ``u = ln((m+tau)/(m+t_x))`` (up to a constant) and two derivatives."""
    e, b, w0 = _col(e, u), _col(b, u), _col(w0, u)
    em = np.expm1(u)
    g = w0 * (em + 1.0) / (1.0 + w0 * em)
    f = (1.0 - b) * u - e * np.log1p(w0 * em)
    return f, (1.0 - b) - e * g, -e * g * (1.0 - g)


def _nodes_lik(
    u: FloatArray, e: FloatArray, b: FloatArray, w0: FloatArray
) -> tuple[FloatArray, list[FloatArray]]:
    """Log-integrand of ``I`` at the nodes, with the functions averaged for the gradient.

    These are ``u``, ``ln((c+tau)/(c+t_x))``, ``(m+t_x)/(m+tau)`` and ``(c+t_x)/(c+tau)``.
    """
    e, b, w0 = _col(e, u), _col(b, u), _col(w0, u)
    em = np.expm1(u)
    l_c = np.log1p(w0 * em)
    return (1.0 - b) * u - e * l_c, [u, l_c, np.exp(-u), np.exp(-l_c)]


def _nodes_lik_value(
    u: FloatArray, e: FloatArray, b: FloatArray, w0: FloatArray
) -> tuple[FloatArray, list[FloatArray]]:
    """Log-integrand of ``I`` at the nodes only."""
    e, b, w0 = _col(e, u), _col(b, u), _col(w0, u)
    return (1.0 - b) * u - e * np.log1p(w0 * np.expm1(u)), []


def _quad_log_i(
    e: FloatArray, b: FloatArray, c: FloatArray, m: FloatArray, t_x: FloatArray, big_t: FloatArray, grad: bool
) -> tuple[FloatArray, list[FloatArray]]:
    """``ln I`` and its partial derivatives in ``(e, b, c, m)`` by log-concave Gauss-Legendre quadrature."""
    cx, mx = c + t_x, m + t_x
    w0 = mx / cx
    hi = np.log1p((big_t - t_x) / mx)
    lo = np.zeros_like(hi)
    k = (1.0 - b) / e
    with np.errstate(divide="ignore", invalid="ignore"):
        kink = np.log1p(-w0) - np.log(w0)
        mode = np.where(k > 0.0, kink + np.log(k) - np.log1p(-k), lo)
    mode = np.clip(np.nan_to_num(mode, nan=0.0, neginf=0.0), lo, hi)
    kink = np.nan_to_num(kink, neginf=-1e3)
    node_fn = _nodes_lik if grad else _nodes_lik_value
    log_int, avgs = _lc_integrate(_psi_lik, node_fn, (e, b, w0), mode, lo, hi, [kink])
    ln_mx, ln_cx = np.log(mx), np.log(cx)
    log_i = log_int + (1.0 - b) * ln_mx - e * ln_cx
    if not grad:
        return log_i, []
    m_u, m_lc, m_im, m_ic = avgs
    return log_i, [-(ln_cx + m_lc), -(ln_mx + m_u), -e * m_ic / cx, -b * m_im / mx]


def _log_terms(
    r: FloatArray,
    alpha: FloatArray,
    s: FloatArray,
    beta: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    big_t: FloatArray,
    grad: bool,
    z_series_max: float = _Z_SERIES_MAX,
) -> tuple[FloatArray, FloatArray, FloatArray, list[FloatArray]]:
    """Pieces of the likelihood on flat arrays.

    Returns ``ln_a1 = -(r+x) ln(alpha+T) - s ln(beta+T)``, ``ln_a2 = ln s + ln I``, the log prefactor
    ``ln Gamma(r+x) - ln Gamma(r) + r ln alpha + s ln beta`` and, if ``grad``, the derivatives of ``ln I`` in
    ``(r, alpha, s, beta)`` (zero where ``I = 0``).
    """
    p, q = r + x, s + 1.0
    a_ge_b = alpha >= beta
    c, m = np.where(a_ge_b, alpha, beta), np.where(a_ge_b, beta, alpha)
    e, b = np.where(a_ge_b, p, q), np.where(a_ge_b, q, p)
    n = r.size
    log_i = np.full(n, -np.inf)
    d_e, d_b, d_c, d_m = (np.zeros(n) for _ in range(4))
    positive = big_t > t_x
    z_x = (c - m) / (c + t_x)
    use_series = positive & (z_x <= z_series_max)
    use_quad = positive & ~use_series
    if use_series.any():
        sel = _index(use_series)
        li, ds = _series_log_i(e[sel], b[sel], c[sel], m[sel], t_x[sel], big_t[sel], grad)
        log_i[sel] = li
        if grad:
            d_e[sel], d_b[sel], d_c[sel], d_m[sel] = ds
    if use_quad.any():
        sel = _index(use_quad)
        li, ds = _quad_log_i(e[sel], b[sel], c[sel], m[sel], t_x[sel], big_t[sel], grad)
        log_i[sel] = li
        if grad:
            d_e[sel], d_b[sel], d_c[sel], d_m[sel] = ds
    ln_a1 = -p * np.log(alpha + big_t) - s * np.log(beta + big_t)
    ln_a2 = np.log(s) + log_i
    prefactor = gammaln(p) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    grads: list[FloatArray] = []
    if grad:
        d_r = np.where(a_ge_b, d_e, d_b)
        d_s = np.where(a_ge_b, d_b, d_e)
        d_alpha = np.where(a_ge_b, d_c, d_m)
        d_beta = np.where(a_ge_b, d_m, d_c)
        grads = [d_r, d_alpha, d_s, d_beta]
    return ln_a1, ln_a2, prefactor, grads


# ----------------------------------------------------------------------------------------------------------
# public API: likelihood
# ----------------------------------------------------------------------------------------------------------
def loglik(
    r: ArrayLike, alpha: ArrayLike, s: ArrayLike, beta: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Per-customer Pareto/NBD log-likelihood.

    Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions", eq. (18)-(20)
    (Schmittlein, Morrison & Colombo 1987), with all constant terms, so that the sum over the CDNOW
    calibration sample reproduces the published log-likelihood (-9594.97 at the MLE).

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Model parameters (all > 0).
    x : array_like
        Number of repeat purchases (frequency).
    t_x : array_like
        Time of the last purchase since the first one (recency), ``0 <= t_x <= T``.
    T : array_like
        Time since the first purchase (age).

    Returns
    -------
    numpy.ndarray
        Log-likelihood, broadcast shape of all arguments.

    Notes
    -----
    The hypergeometric term is evaluated in log space by a positive-term series (``z <= 0.9``) or by a
    Gauss-Legendre quadrature of its integral representation; see the module docstring.
    """
    shape, (r_, a_, s_, b_, x_, tx_, t_) = _broadcast(r, alpha, s, beta, x, t_x, T)
    ln_a1, ln_a2, pre, _ = _log_terms(r_, a_, s_, b_, x_, tx_, t_, grad=False)
    out: FloatArray = (pre + np.logaddexp(ln_a1, ln_a2)).reshape(shape)
    return out


def loglik_and_grad(
    r: ArrayLike, alpha: ArrayLike, s: ArrayLike, beta: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, tuple[FloatArray, FloatArray, FloatArray, FloatArray]]:
    """Per-customer log-likelihood and its exact gradient, sharing all work.

    The log-likelihood is Fader & Hardie (2005 note), eq. (18)-(20). The gradient is exact: digamma for
    the gamma-function terms, and for the hypergeometric term either the term-by-term derivative of its
    series or differentiation under the integral sign of the same Gauss-Legendre rule (both accurate to
    about 1e-11 relative).

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Model parameters (all > 0).
    x, t_x, T : array_like
        Frequency, recency and age.

    Returns
    -------
    ll : numpy.ndarray
        Log-likelihood (as :func:`loglik`).
    grads : tuple of numpy.ndarray
        ``(d ll/d r, d ll/d alpha, d ll/d s, d ll/d beta)``, each of the broadcast shape.
    """
    shape, (r_, a_, s_, b_, x_, tx_, t_) = _broadcast(r, alpha, s, beta, x, t_x, T)
    ln_a1, ln_a2, pre, (g_r, g_a, g_s, g_b) = _log_terms(r_, a_, s_, b_, x_, tx_, t_, grad=True)
    ll = pre + np.logaddexp(ln_a1, ln_a2)
    w1 = expit(ln_a1 - ln_a2)  # share of the "alive at T" term (= P(alive))
    w2 = expit(ln_a2 - ln_a1)
    p = r_ + x_
    d_r = digamma(p) - digamma(r_) + np.log(a_) - w1 * np.log(a_ + t_) + w2 * g_r
    d_a = r_ / a_ - w1 * p / (a_ + t_) + w2 * g_a
    d_s = np.log(b_) - w1 * np.log(b_ + t_) + w2 * (1.0 / s_ + g_s)
    d_b = s_ / b_ - w1 * s_ / (b_ + t_) + w2 * g_b
    return ll.reshape(shape), (d_r.reshape(shape), d_a.reshape(shape), d_s.reshape(shape), d_b.reshape(shape))


def loglik_grad(
    r: ArrayLike, alpha: ArrayLike, s: ArrayLike, beta: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Exact per-customer gradient of :func:`loglik` in ``(r, alpha, s, beta)``.

    Derivative of Fader & Hardie (2005 note), eq. (18)-(20); see :func:`loglik_and_grad`, which also
    returns the log-likelihood at no extra cost.

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Model parameters (all > 0).
    x, t_x, T : array_like
        Frequency, recency and age.

    Returns
    -------
    tuple of numpy.ndarray
        ``(d ll/d r, d ll/d alpha, d ll/d s, d ll/d beta)``.
    """
    return loglik_and_grad(r, alpha, s, beta, x, t_x, T)[1]


def _log_p_alive_flat(
    r: FloatArray,
    alpha: FloatArray,
    s: FloatArray,
    beta: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    big_t: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """``P(alive)`` and ``1 - P(alive)`` on flat arrays (each computed without cancellation)."""
    ln_a1, ln_a2, _, _ = _log_terms(r, alpha, s, beta, x, t_x, big_t, grad=False)
    return expit(ln_a1 - ln_a2), expit(ln_a2 - ln_a1)


def _scoring_cells(
    params: Sequence[ArrayLike], x: ArrayLike, t_x: ArrayLike, big_t: ArrayLike
) -> tuple[list[FloatArray], list[FloatArray], Cells] | None:
    """Parameters, data and their :class:`Cells` when scoring can tabulate by ``(x, t)``, else ``None``.

    That is when the data are 1-D columns of one length, every parameter is a scalar or an array of draws
    (draws along leading axes, a trailing axis of 1 that broadcasts over customers), the work (draws times
    rows) is at least :data:`MIN_ROWS` and the rows hold at most one cell each on average.
    """
    pars = [np.asarray(v, dtype=np.float64) for v in params]
    data = [np.asarray(v, dtype=np.float64) for v in (x, t_x, big_t)]
    if any(d.ndim != 1 for d in data) or len({d.size for d in data}) != 1:
        return None
    if not all(p.ndim == 0 or p.shape[-1] == 1 for p in pars):
        return None
    n = data[0].size
    draws = int(np.prod(np.broadcast_shapes(*(p.shape for p in pars))))
    if draws * n < MIN_ROWS:
        return None
    cells = xt_cells(data[0], data[1], data[2], max_cells=n)
    return None if cells is None else (pars, data, cells)


def _log_odds_by_cells(pars: list[FloatArray], data: list[FloatArray], cells: Cells) -> FloatArray:
    """``ln_a1 - ln_a2`` of :func:`_log_terms` (the log-odds of being alive), tabulated by ``(x, t)``.

    ``I = K(t_x) - K(T)`` and ``K(t)`` depends on ``(x, t)`` only (module docstring), as does
    ``ln_a1 = -(r+x) ln(alpha+T) - s ln(beta+T)``: a customer base of a million rows holds some tens of
    thousands of distinct ``(x, t_x)`` and ``(x, T)`` cells, so ``ln K`` is summed once per cell (and per
    draw) by the same series as the likelihood, and ``ln I = ln K(t_x) + ln(1 - K(T)/K(t_x))`` is taken per
    row from two gathers, as :func:`_series_log_i` takes it. Rows whose ``z_{t_x}`` exceeds
    :data:`_Z_SERIES_MAX` are evaluated per row by :func:`_log_terms` (quadrature). The result has the
    broadcast shape of the parameters and the rows.
    """
    r, alpha, s, beta = pars
    xc, tc = cells.x, cells.t
    p, q = r + xc, s + 1.0
    a_ge_b = alpha >= beta
    c, m = np.where(a_ge_b, alpha, beta), np.where(a_ge_b, beta, alpha)
    e, b = np.where(a_ge_b, p, q), np.where(a_ge_b, q, p)
    z = (c - m) / (c + tc)
    shape = z.shape
    series = z <= _Z_SERIES_MAX
    # Cells left to quadrature hold +inf: a row reading one as its age has t_x > T (ln I = -inf, as in
    # _log_terms); a row reading one as its recency is recomputed below.
    log_k = np.full(shape, np.inf)
    sel = np.flatnonzero(series)
    if sel.size:
        e_, b_, c_, m_, t_ = (np.broadcast_to(v, shape).ravel()[sel] for v in (e, b, c, m, tc))
        log_k.ravel()[sel] = _series_log_k(e_, b_, c_, m_, t_)
    ln_a1 = -p * np.log(alpha + tc) - s * np.log(beta + tc)
    # Per row, in place (a million rows: fresh arrays cost as much as the arithmetic), the operations of
    # _series_log_i and _log_terms: rho = min(exp(ln K(T) - ln K(t_x)), 1), ln I = ln K(t_x) + log1p(-rho),
    # out = ln_a1 - (ln s + ln I).
    lk_r = log_k[..., cells.of_recency]
    log_i = log_k[..., cells.of_age]
    with np.errstate(divide="ignore", invalid="ignore"):  # inf - inf where recomputed below
        log_i -= lk_r
        np.exp(log_i, out=log_i)
        np.minimum(log_i, 1.0, out=log_i)
        np.negative(log_i, out=log_i)
        np.log1p(log_i, out=log_i)
    log_i += lk_r
    log_i += np.log(s)
    out: FloatArray = ln_a1[..., cells.of_age]
    out -= log_i
    if sel.size < series.size:
        quad = np.nonzero(~np.broadcast_to(series, shape)[..., cells.of_recency])
        full = out.shape
        r_q, a_q, s_q, b_q, x_q, tx_q, t_q = (
            np.broadcast_to(v, full)[quad] for v in (r, alpha, s, beta, *data)
        )
        ln_a1_q, ln_a2_q, _, _ = _log_terms(r_q, a_q, s_q, b_q, x_q, tx_q, t_q, grad=False)
        out[quad] = ln_a1_q - ln_a2_q
    return out


def _log_odds_alive(
    r: ArrayLike, alpha: ArrayLike, s: ArrayLike, beta: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """``ln(P(alive) / (1 - P(alive)))`` with the broadcast shape of all arguments."""
    grouped = _scoring_cells((r, alpha, s, beta), x, t_x, T)
    if grouped is not None:
        return _log_odds_by_cells(*grouped)
    shape, (r_, a_, s_, b_, x_, tx_, big_t) = _broadcast(r, alpha, s, beta, x, t_x, T)
    ln_a1, ln_a2, _, _ = _log_terms(r_, a_, s_, b_, x_, tx_, big_t, grad=False)
    out: FloatArray = (ln_a1 - ln_a2).reshape(shape)
    return out


def p_alive(
    r: ArrayLike, alpha: ArrayLike, s: ArrayLike, beta: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Probability that a customer with history ``(x, t_x, T)`` is still alive at ``T``.

    Fader & Hardie (2005 note), eq. (36)-(37): the ratio of the "alive at T" term of the likelihood to
    the likelihood, computed as a logistic function of the difference of the two log terms.

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Model parameters.
    x, t_x, T : array_like
        Frequency, recency and age.

    Returns
    -------
    numpy.ndarray
        P(alive), in ``[0, 1]``; exactly 1 when ``t_x = T``.
    """
    log_odds = _log_odds_alive(r, alpha, s, beta, x, t_x, T)
    out: FloatArray = expit(log_odds, out=log_odds)
    return out


# ----------------------------------------------------------------------------------------------------------
# public API: predictions
# ----------------------------------------------------------------------------------------------------------
def expected_purchases(
    r: ArrayLike, alpha: ArrayLike, s: ArrayLike, beta: ArrayLike, t: ArrayLike
) -> FloatArray:
    """Return the expected number of repeat purchases in ``(0, t]`` for a new customer.

    Fader & Hardie (2005 note), eq. (27): ``E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]``,
    evaluated with ``expm1`` so that it is continuous at ``s = 1`` (limit ``r beta/alpha ln(1 + t/beta)``).

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Model parameters.
    t : array_like
        Length of the period (``>= 0``).

    Returns
    -------
    numpy.ndarray
        ``E[X(t)]``.
    """
    shape, (r_, a_, s_, b_, t_) = _broadcast(r, alpha, s, beta, t)
    out = r_ * b_ / a_ * _one_minus_exp_over(s_ - 1.0, np.log1p(t_ / b_))
    return np.asarray(out.reshape(shape), dtype=np.float64)


def conditional_expected_purchases(
    r: ArrayLike,
    alpha: ArrayLike,
    s: ArrayLike,
    beta: ArrayLike,
    t: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Return the expected number of purchases in ``(T, T + t]`` given the history ``(x, t_x, T)``.

    Fader & Hardie (2005 note), eq. (41):
    ``P(alive) (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]``, continuous at ``s = 1``.

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Model parameters.
    t : array_like
        Length of the prediction period.
    x, t_x, T : array_like
        Frequency, recency and age.

    Returns
    -------
    numpy.ndarray
        ``E[X(T, T+t) | x, t_x, T]``.
    """
    return conditional_expected_purchases_and_p_alive(r, alpha, s, beta, t, x, t_x, T)[0]


def conditional_expected_purchases_and_p_alive(
    r: ArrayLike,
    alpha: ArrayLike,
    s: ArrayLike,
    beta: ArrayLike,
    t: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """:func:`conditional_expected_purchases` and :func:`p_alive` at once, P(alive) computed once.

    P(alive) is a factor of the conditional expectation (Fader & Hardie 2005 note, eq. (41)): scoring both
    costs about as much as the expectation alone. Returns ``(expected, p_alive)``; with a scalar horizon
    and many customers both are tabulated by ``(x, t)`` cells (:func:`_log_odds_by_cells`).
    """
    grouped = None if np.ndim(t) else _scoring_cells((r, alpha, s, beta), x, t_x, T)
    if grouped is not None:
        log_odds = _log_odds_by_cells(*grouped)
        pa = expit(log_odds, out=log_odds)
        (r_, a_, s_, b_), _, cells = grouped
        bt = b_ + cells.t
        t_ = np.asarray(t, dtype=np.float64)
        factor = (r_ + cells.x) * bt / (a_ + cells.t) * _one_minus_exp_over(s_ - 1.0, np.log1p(t_ / bt))
        expected: FloatArray = factor[..., cells.of_age]
        expected *= pa
        return expected, pa
    shape, (r_, a_, s_, b_, t_, x_, tx_, big_t) = _broadcast(r, alpha, s, beta, t, x, t_x, T)
    pa, _ = _log_p_alive_flat(r_, a_, s_, b_, x_, tx_, big_t)
    bt = b_ + big_t
    out = pa * (r_ + x_) * bt / (a_ + big_t) * _one_minus_exp_over(s_ - 1.0, np.log1p(t_ / bt))
    return out.reshape(shape), pa.reshape(shape)


def expected_purchases_if_alive(
    r: ArrayLike, alpha: ArrayLike, s: ArrayLike, beta: ArrayLike, t: ArrayLike, x: ArrayLike, T: ArrayLike
) -> FloatArray:
    r"""Expected repeat purchases in ``(T, T+t]`` of a Pareto/NBD customer known to be alive at ``T``.

    Schmittlein, Morrison & Colombo (1987) eq. (22) without its P(alive) factor:
    ``(r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]`` (its limit at ``s = 1``).

    The factor of the conditional expectation that does not depend on recency:
    ``E[X(T, T+t) | x, t_x, T] = P(alive | x, t_x, T) * expected_purchases_if_alive(..., t, x, T)``,
    so that a discounted sum over many horizons (CLV) evaluates P(alive) once and this factor once per
    distinct ``(x, T)``.
    """
    shape, (r_, a_, s_, b_, t_, x_, big_t) = _broadcast(r, alpha, s, beta, t, x, T)
    bt = b_ + big_t
    out = (r_ + x_) * bt / (a_ + big_t) * _one_minus_exp_over(s_ - 1.0, np.log1p(t_ / bt))
    return np.asarray(out.reshape(shape), dtype=np.float64)


def _psi_pmf(
    ell: FloatArray, c1: FloatArray, p: FloatArray, ln_a: FloatArray, q: FloatArray, ln_b: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Log of ``tau^c1 (alpha+tau)^-p (beta+tau)^-q`` in ``ell = ln tau`` and its two derivatives."""
    c1, p, ln_a, q, ln_b = (_col(v, ell) for v in (c1, p, ln_a, q, ln_b))
    sa, sb = expit(ell - ln_a), expit(ell - ln_b)
    f = c1 * ell - p * np.logaddexp(ln_a, ell) - q * np.logaddexp(ln_b, ell)
    return f, c1 - p * sa - q * sb, -p * sa * (1.0 - sa) - q * sb * (1.0 - sb)


def _nodes_pmf(
    ell: FloatArray, c1: FloatArray, p: FloatArray, ln_a: FloatArray, q: FloatArray, ln_b: FloatArray
) -> tuple[FloatArray, list[FloatArray]]:
    """Log-integrand of the ``P(X(t) = n)`` integral at the nodes."""
    c1, p, ln_a, q, ln_b = (_col(v, ell) for v in (c1, p, ln_a, q, ln_b))
    return c1 * ell - p * np.logaddexp(ln_a, ell) - q * np.logaddexp(ln_b, ell), []


def _log_pmf_integral(
    r: FloatArray, alpha: FloatArray, s: FloatArray, beta: FloatArray, t: FloatArray, n: FloatArray
) -> FloatArray:
    """``ln int_0^t tau^n (alpha+tau)^-(r+n) (beta+tau)^-(s+1) dtau`` (``t > 0``), quadrature in ``ln tau``.

    The log-integrand in ``ln tau`` is concave; its maximiser solves the quadratic
    ``(r+s) y^2 - [(s-n) alpha + (r-1) beta] y - (n+1) alpha beta = 0`` in ``y = tau``.
    """
    c1, p, q = n + 1.0, r + n, s + 1.0
    ln_a, ln_b, ln_t = np.log(alpha), np.log(beta), np.log(t)
    lam = r + s
    kap = (r - 1.0) * beta + (s - n) * alpha
    disc = np.sqrt(kap * kap + 4.0 * lam * c1 * alpha * beta)
    y_star = np.where(kap >= 0.0, 2.0 * c1 * alpha * beta / (kap + disc), (disc - kap) / (2.0 * lam))
    mode = np.minimum(np.log(y_star), ln_t)
    lo = np.minimum(np.minimum(mode, ln_a), ln_b) - 60.0
    log_int, _ = _lc_integrate(_psi_pmf, _nodes_pmf, (c1, p, ln_a, q, ln_b), mode, lo, ln_t, [ln_a, ln_b])
    return log_int


def _log_pmf_flat(
    r: FloatArray, alpha: FloatArray, s: FloatArray, beta: FloatArray, t: FloatArray, n: FloatArray
) -> FloatArray:
    """``ln P(X(t) = n)`` on flat arrays (``t > 0``)."""
    ln_a, ln_b, ln_t = np.log(alpha), np.log(beta), np.log(t)
    lognb = gammaln(r + n) - gammaln(r) - gammaln(n + 1.0)
    # alive throughout (0, t]: negative binomial times survival.
    first = lognb - r * np.log1p(t / alpha) + n * (ln_t - np.logaddexp(ln_a, ln_t)) - s * np.log1p(t / beta)
    # died at tau in (0, t]: lognb + r ln(alpha) + ln(s) + s ln(beta) + ln int_0^t tau^n (..)^-p (..)^-q dtau.
    second = lognb + r * ln_a + np.log(s) + s * ln_b + _log_pmf_integral(r, alpha, s, beta, t, n)
    out: FloatArray = np.logaddexp(first, second)
    return out


def purchase_count_pmf(
    r: ArrayLike, alpha: ArrayLike, s: ArrayLike, beta: ArrayLike, t: ArrayLike, n: ArrayLike
) -> FloatArray:
    """Probability of exactly ``n`` repeat purchases in ``(0, t]`` for a new customer.

    Fader & Hardie (2006), "Deriving an Expression for P(X(t) = x) Under the Pareto/NBD Model" (2006):
    ``P(X(t)=n) = NB(n; r, alpha/(alpha+t)) (beta/(beta+t))^s
    + Gamma(r+n)/(Gamma(r) n!) alpha^r s beta^s int_0^t tau^n (alpha+tau)^-(r+n) (beta+tau)^-(s+1) dtau``
    (the note's 2F1 terms are this integral; it is evaluated directly, in log space, by Gauss-Legendre
    quadrature in ``ln tau``, which avoids the note's alternating sum and its cancellation for large ``n``).

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Model parameters.
    t : array_like
        Length of the period (``>= 0``).
    n : array_like
        Number of purchases (non-negative integers).

    Returns
    -------
    numpy.ndarray
        ``P(X(t) = n)``.
    """
    shape, (r_, a_, s_, b_, t_, n_) = _broadcast(r, alpha, s, beta, t, n)
    out = (n_ == 0).astype(float)
    pos = t_ > 0.0
    if pos.any():
        out[pos] = np.exp(_log_pmf_flat(r_[pos], a_[pos], s_[pos], b_[pos], t_[pos], n_[pos]))
    return np.asarray(out.reshape(shape), dtype=np.float64)


def conditional_purchase_pmf(
    r: ArrayLike,
    alpha: ArrayLike,
    s: ArrayLike,
    beta: ArrayLike,
    t: ArrayLike,
    n: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Probability of exactly ``n`` purchases in ``(T, T + t]`` given the history ``(x, t_x, T)``.

    Fader & Hardie, "Deriving the Conditional PMF of the Pareto/NBD Model" (note 028), eq. (16), in the
    equivalent form ``(1 - P(alive)) [n = 0] + P(alive) P(X(t) = n | r+x, alpha+T, s, beta+T)``: given alive
    at ``T`` the posterior of ``(lambda, mu)`` is gamma with those parameters, and the unconditional pmf of
    :func:`purchase_count_pmf` applies.

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Model parameters.
    t : array_like
        Length of the prediction period.
    n : array_like
        Number of purchases (non-negative integers).
    x, t_x, T : array_like
        Frequency, recency and age.

    Returns
    -------
    numpy.ndarray
        ``P(X(T, T+t) = n | x, t_x, T)``.
    """
    shape, (r_, a_, s_, b_, t_, n_, x_, tx_, big_t) = _broadcast(r, alpha, s, beta, t, n, x, t_x, T)
    pa, dead = _log_p_alive_flat(r_, a_, s_, b_, x_, tx_, big_t)
    pmf = (n_ == 0).astype(float)
    pos = t_ > 0.0
    if pos.any():
        pmf[pos] = np.exp(
            _log_pmf_flat(
                r_[pos] + x_[pos], a_[pos] + big_t[pos], s_[pos], b_[pos] + big_t[pos], t_[pos], n_[pos]
            )
        )
    out = np.where(n_ == 0, dead, 0.0) + pa * pmf
    return np.asarray(out.reshape(shape), dtype=np.float64)


def conditional_purchase_pmf_if_alive(
    r: ArrayLike,
    alpha: ArrayLike,
    s: ArrayLike,
    beta: ArrayLike,
    t: ArrayLike,
    n: ArrayLike,
    x: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """P(X(T, T+t) = n | x, T, alive at T): :func:`purchase_count_pmf` at ``(r+x, alpha+T, s, beta+T)``.

    The factor of :func:`conditional_purchase_pmf` in ``(x, T)`` alone (note 028, eq. 16).
    """
    x_, big_t = np.asarray(x, dtype=np.float64), np.asarray(T, dtype=np.float64)
    r_, a_, b_ = (np.asarray(v, dtype=np.float64) for v in (r, alpha, beta))
    return purchase_count_pmf(r_ + x_, a_ + big_t, s, b_ + big_t, t, n)


def _psi_dert(
    z: FloatArray, one_minus_s: FloatArray, kappa: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Log-integrand of ``U(1, 2-s, kappa)`` in ``z = ln(1+y)`` and two derivatives."""
    one_minus_s, kappa = _col(one_minus_s, z), _col(kappa, z)
    ke = kappa * np.exp(z)
    return one_minus_s * z - kappa * np.expm1(z), one_minus_s - ke, -ke


def _nodes_dert(
    z: FloatArray, one_minus_s: FloatArray, kappa: FloatArray
) -> tuple[FloatArray, list[FloatArray]]:
    """Log-integrand of ``U(1, 2-s, kappa)`` at the nodes."""
    one_minus_s, kappa = _col(one_minus_s, z), _col(kappa, z)
    return one_minus_s * z - kappa * np.expm1(z), []


def _log_hyperu_1(s: FloatArray, kappa: FloatArray) -> FloatArray:
    """``ln U(1, 2-s, kappa) = ln int_0^inf exp(-kappa y) (1+y)^-s dy`` for ``kappa > 0`` (flat arrays)."""
    oms = 1.0 - s
    with np.errstate(divide="ignore", invalid="ignore"):
        mode = np.where(oms > kappa, np.log(oms / kappa), 0.0)
    lo = np.zeros_like(kappa)
    hi = np.log1p(100.0 / kappa)
    # exp(-kappa e^z) turns from flat to doubly exponential around z = ln(1/kappa): cut panels there.
    log_int, _ = _lc_integrate(_psi_dert, _nodes_dert, (oms, kappa), mode, lo, hi, [-np.log(kappa)])
    return log_int


def dert(
    r: ArrayLike,
    alpha: ArrayLike,
    s: ArrayLike,
    beta: ArrayLike,
    delta: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Discounted expected residual transactions (DERT) of a customer with history ``(x, t_x, T)``.

    Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", JMR 42(4),
    Pareto/NBD DERT expression:
    ``DERT = alpha^r beta^s delta^(s-1) Gamma(r+x+1) Psi(s, s; delta(beta+T))
    / (Gamma(r) (alpha+T)^(r+x+1) L)``, i.e. the integral of ``exp(-delta t)`` times the expected purchase
    rate at ``T + t``. Using Kummer's transformation ``Psi(s, s; k) = k^(1-s) Psi(1, 2-s; k)`` this equals
    ``P(alive) (r+x)(beta+T)/(alpha+T) U(1, 2-s, delta(beta+T))`` with
    ``U(1, 2-s, k) = int_0^inf exp(-k y)(1+y)^-s dy``, evaluated in log space by Gauss-Legendre quadrature
    (finite for every ``s > 0`` and ``delta > 0``; no overflow for large ``x``).

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Model parameters.
    delta : array_like
        Continuous discount rate per time unit (``> 0``; e.g. ``ln(1.15)/52`` per week for 15% a year).
        At ``delta = 0`` the undiscounted value is returned (finite only for ``s > 1``, ``inf`` otherwise).
    x, t_x, T : array_like
        Frequency, recency and age.

    Returns
    -------
    numpy.ndarray
        DERT, in number of transactions.
    """
    shape, (r_, a_, s_, b_, d_, x_, tx_, big_t) = _broadcast(r, alpha, s, beta, delta, x, t_x, T)
    pa, _ = _log_p_alive_flat(r_, a_, s_, b_, x_, tx_, big_t)
    bt = b_ + big_t
    kappa = d_ * bt
    pos = kappa > 0.0
    u = np.empty_like(kappa)
    if pos.any():
        u[pos] = np.exp(_log_hyperu_1(s_[pos], kappa[pos]))
    with np.errstate(divide="ignore"):
        u[~pos] = np.where(s_[~pos] > 1.0, 1.0 / (s_[~pos] - 1.0), np.inf)
    out = pa * (r_ + x_) * bt / (a_ + big_t) * u
    return np.asarray(out.reshape(shape), dtype=np.float64)


# ----------------------------------------------------------------------------------------------------------
# simulation
# ----------------------------------------------------------------------------------------------------------
def sample_future_latent(
    r: ArrayLike,
    alpha: ArrayLike,
    s: ArrayLike,
    beta: ArrayLike,
    rng: np.random.Generator,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    r"""One draw of each customer's latent traits from their individual posterior given ``(x, t_x, T)``.

    Alive at ``T`` with probability :func:`p_alive` (Fader & Hardie 2005 note, eqs. 36-37). Given alive,
    the likelihood is ``lambda^x exp(-(lambda + mu) T)``, so ``lambda ~ Gamma(r+x, alpha+T)`` and
    ``mu ~ Gamma(s, beta+T)`` independently (the posterior behind note 028's conditional pmf), and by the
    memorylessness of the exponential lifetime the remaining lifetime is ``Exponential(mu)``. A customer
    gone before ``T`` makes no further purchase (lifetime 0).

    Returns
    -------
    lam, p_drop, lifetime : numpy.ndarray
        Purchase rate, drop-out probability after each purchase (0: drop-out is in continuous time) and
        remaining lifetime, with the broadcast shape of all arguments.
    """
    shape, (r_, a_, s_, b_, x_, tx_, big_t) = _broadcast(r, alpha, s, beta, x, t_x, T)
    pa, _ = _log_p_alive_flat(r_, a_, s_, b_, x_, tx_, big_t)
    alive = rng.random(pa.shape) < pa
    lam = rng.gamma(r_ + x_) / (a_ + big_t)
    mu = rng.gamma(s_) / (b_ + big_t)
    with np.errstate(divide="ignore"):
        lifetime = np.where(alive, rng.standard_exponential(pa.shape) / mu, 0.0)
    return lam.reshape(shape), np.zeros(shape), lifetime.reshape(shape)


def simulate(
    r: ArrayLike, alpha: ArrayLike, s: ArrayLike, beta: ArrayLike, T: ArrayLike, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Simulate frequency and recency of Pareto/NBD customers observed for ``T`` after their first purchase.

    Schmittlein, Morrison & Colombo (1987) assumptions as stated in Fader & Hardie (2005 note), section 2:
    ``lambda ~ Gamma(r, alpha)``, ``mu ~ Gamma(s, beta)`` (rates), an exponential lifetime with rate ``mu``
    starting at the first purchase, and Poisson purchases at rate ``lambda`` while alive. Given ``k``
    purchases in ``(0, L]`` (``L = min(lifetime, T)``), their times are uniform, so the recency is
    ``L U^(1/k)``. Fully vectorised.

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Model parameters.
    T : array_like
        Observation lengths.
    rng : numpy.random.Generator
        Random generator.

    Returns
    -------
    x : numpy.ndarray
        Repeat purchases, broadcast shape of all arguments.
    t_x : numpy.ndarray
        Recency (0 when ``x = 0``).
    """
    shape, (r_, a_, s_, b_, t_) = _broadcast(r, alpha, s, beta, T)
    lam = rng.gamma(r_) / a_
    mu = rng.gamma(s_) / b_
    with np.errstate(divide="ignore"):
        lifetime = rng.standard_exponential(size=t_.shape) / mu
    active = np.minimum(lifetime, t_)
    x = rng.poisson(lam * active).astype(float)
    u = rng.random(size=t_.shape)
    with np.errstate(divide="ignore"):
        t_x = np.where(x > 0, active * u ** (1.0 / np.maximum(x, 1.0)), 0.0)
    return x.reshape(shape), t_x.reshape(shape)
