"""Discounted expected purchases for any transaction model: the transaction part of CLV.

For a customer with history (x, t_x, T) let E(t) = E[X(T, T + t) | x, t_x, T] be the model's conditional
expected number of purchases in the next t time units. With a continuous discount rate delta the
discounted expected purchases over (0, H] are the Stieltjes integral

    D(H) = int_0^H exp(-delta t) dE(t) = exp(-delta H) E(H) + delta int_0^H exp(-delta t) E(t) dt,

(integration by parts, E(0) = 0). With H = infinity this is Fader, Hardie & Lee's (2005, JMR 42(4),
eq. 2) discounted expected residual transactions (DERT): delta times the Laplace transform of E. The
integral is evaluated by composite Gauss-Legendre quadrature on geometrically growing panels, which
resolves both the fast early rise of E (on the scale of alpha + T) and its slow tail (on the scale
1/delta); E is analytic on each panel, so eight nodes per panel give close to machine precision.

The periodic variant is the discrete sum used by ``lifetimes``:

    sum_{k=1}^{K} [E(k P) - E((k - 1) P)] / (1 + rate)^k,   K = H / P,

that is, each period's expected purchases discounted at its end.

The payback time is the first t with D(t) >= c for a target c (the acquisition cost divided by the
expected spend per purchase): :func:`continuous_payback_time` and :func:`periodic_payback_time`.

Every function except the payback times broadcasts over a leading axis of parameter draws, like the model
formulas; the payback times take one value curve per customer (a posterior mean, say).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from clvlab._types import FloatArray

#: ``E(t)`` for an array of horizons t, shaped to broadcast against the customers.
ExpectedPurchases = Callable[[Any], FloatArray]

__all__ = [
    "continuous_discounted_purchases",
    "continuous_payback_time",
    "discount_delta",
    "periodic_discounted_purchases",
    "periodic_payback_time",
    "quadrature_nodes",
]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
#: Beyond this many e-foldings of the discount factor the remaining value is below exp(-60) relative.
_TAIL_EFOLDS = 60.0
#: Panels grow by a factor 2 from the model's time scale up to the effective horizon.


def discount_delta(discount_rate: float, discount_period: float) -> float:
    """Continuous discount rate per time unit: ``log(1 + rate) / period``."""
    return float(np.log1p(discount_rate) / discount_period)


def _panel_edges(horizon: float, delta: float, scale: float) -> FloatArray:
    """Panel edges 0, h 2^-n, ..., h / 2, h with h the effective horizon (see :func:`quadrature_nodes`)."""
    if not np.isfinite(horizon) and delta <= 0:
        raise ValueError("an infinite horizon needs a positive discount rate")
    h_eff = horizon if delta == 0 else min(horizon, _TAIL_EFOLDS / delta)
    n_panels = max(1, int(np.ceil(np.log2(h_eff / min(scale, h_eff)))))
    return np.concatenate([[0.0], h_eff * 2.0 ** -np.arange(n_panels, -1, -1)])


def quadrature_nodes(horizon: float, delta: float, scale: float) -> tuple[FloatArray, FloatArray]:
    """Nodes and weights for int_0^H exp(-delta t) f(t) dt (the discount factor is folded in).

    Parameters
    ----------
    horizon : float
        H, finite or ``inf`` (then delta must be positive).
    delta : float
        Continuous discount rate per time unit (>= 0).
    scale : float
        The model's time scale (e.g. BG/NBD's alpha): E(t) is analytic in a disc of about this radius
        around every t >= 0, so the first panel is [0, scale] and the others double up to H. Eight
        Gauss-Legendre nodes per panel then integrate to about machine precision.
    """
    edges = _panel_edges(horizon, delta, scale)
    lo, hi = edges[:-1], edges[1:]
    half = (hi - lo)[:, None] / 2
    nodes = (lo[:, None] + half * (1 + _GL_X[None, :])).ravel()
    weights = (half * _GL_W[None, :]).ravel() * np.exp(-delta * nodes)
    return nodes, weights


def continuous_discounted_purchases(
    expected: ExpectedPurchases, horizon: float, delta: float, scale: float = 1.0
) -> FloatArray:
    """int_0^H exp(-delta t) dE(t) by parts and composite Gauss-Legendre quadrature.

    Parameters
    ----------
    expected : callable
        ``expected(t)`` returns E(t) for a scalar horizon t, as an array over customers (and draws).
    horizon : float
        H in the data's time unit; ``inf`` gives the residual value (DERT), which needs delta > 0.
    delta : float
        Continuous discount rate per time unit.
    scale : float
        The model's time scale, see :func:`quadrature_nodes`.
    """
    if delta == 0:
        if not np.isfinite(horizon):
            raise ValueError("an infinite horizon needs a positive discount rate")
        return np.asarray(expected(np.float64(horizon)), dtype=np.float64)
    nodes, weights = quadrature_nodes(horizon, delta, scale)
    total: FloatArray | None = None
    for t, w in zip(nodes, weights, strict=True):
        term = w * np.asarray(expected(t), dtype=np.float64)
        total = term if total is None else total + term
    assert total is not None
    out = delta * total
    if np.isfinite(horizon) and horizon < _TAIL_EFOLDS / delta:
        out = out + np.exp(-delta * horizon) * np.asarray(expected(np.float64(horizon)), dtype=np.float64)
    return out


def periodic_discounted_purchases(
    expected: ExpectedPurchases, n_periods: int, period: float, discount_rate: float
) -> FloatArray:
    """sum_{k=1}^{K} [E(kP) - E((k-1)P)] / (1 + rate)^k: each period's purchases discounted at its end."""
    total: FloatArray | None = None
    previous: FloatArray | float = 0.0
    for k in range(1, n_periods + 1):
        current = np.asarray(expected(np.float64(k * period)), dtype=np.float64)
        term = (current - previous) / (1.0 + discount_rate) ** k
        total = term if total is None else total + term
        previous = current
    assert total is not None
    return total


#: Reference points of the interpolant of E(t) on one panel: its two ends and its Gauss-Legendre nodes.
_INTERP_X = np.concatenate([[-1.0], _GL_X, [1.0]])
#: Maps values at :data:`_INTERP_X` to Legendre coefficients of the degree-9 interpolant.
_INTERP_INV = np.linalg.inv(np.polynomial.legendre.legvander(_INTERP_X, len(_INTERP_X) - 1))
#: Bisection steps inside a panel: the bracket shrinks to 2^-60 of the panel, below double precision.
_BISECTION_STEPS = 60


def _targets(
    target: npt.ArrayLike, total: npt.ArrayLike | None
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Targets per customer, the starting answer (0 or inf) and who is still to be found."""
    tgt = np.asarray(target, dtype=np.float64)
    if tgt.ndim != 1:
        raise ValueError("target must be a 1-d array with one value per customer")
    out = np.where(tgt <= 0, 0.0, np.inf)
    pending = tgt > 0
    if total is not None:
        pending &= np.broadcast_to(np.asarray(total, dtype=np.float64), tgt.shape) >= tgt
    return tgt, out, pending


def continuous_payback_time(
    expected: ExpectedPurchases,
    target: npt.ArrayLike,
    horizon: float,
    delta: float,
    scale: float = 1.0,
    total: npt.ArrayLike | None = None,
) -> FloatArray:
    """First time t in [0, H] at which the discounted expected purchases D(t) reach ``target``.

    D(t) = int_0^t exp(-delta s) dE(s) as in :func:`continuous_discounted_purchases`. D is non-decreasing,
    so the answer is the first passage of a monotone curve. Panel by panel of :func:`quadrature_nodes`
    (the same nodes and weights, hence the same accuracy, as the CLV itself) D is accumulated to the
    panel's end, which finds each customer's crossing panel; the crossing is then located by bisection on
    the degree-9 polynomial through E at the panel's ends and its eight Gauss-Legendre nodes. E is
    analytic over each panel, so the interpolant is accurate to about 1e-8 relative and no further model
    evaluations are needed; the bisection runs to double precision. Panels are evaluated only until every
    customer's crossing is bracketed, so the distant (and costly) panels of a residual value are skipped
    when every customer pays back early.

    Parameters
    ----------
    expected : callable
        ``expected(t)`` returns E(t) for a scalar horizon t, as a 1-d array over customers (one curve per
        customer, no draws axis).
    target : array_like
        Discounted expected purchases to reach: a 1-d array, one per customer. Non-positive targets are
        reached at t = 0.
    horizon : float
        Search up to H in the data's time unit; ``inf`` searches up to 60 e-foldings of the discount
        factor (beyond which less than exp(-60) of the value remains), which needs delta > 0.
    delta : float
        Continuous discount rate per time unit.
    scale : float
        The model's time scale, see :func:`quadrature_nodes`.
    total : array_like, optional
        D(H) per customer when it is already known (the CLV's discounted purchases): customers with
        ``total < target`` are not searched, and a customer with ``total >= target`` whose crossing the
        quadrature misses by rounding gets the effective horizon.

    Returns
    -------
    numpy.ndarray
        Per customer, the earliest t with D(t) >= target; ``inf`` where D stays below the target up to
        the horizon.
    """
    edges = _panel_edges(horizon, delta, scale)
    tgt, out, pending = _targets(target, total)
    n = len(tgt)
    e_lo = np.zeros(n)  # E(0) = 0
    # Per customer, once bracketed: panel ends, E at the interpolation points, D(lo) - exp(-delta lo) E(lo).
    a_t, b_t, base = np.zeros(n), np.zeros(n), np.zeros(n)
    values = np.zeros((n, len(_INTERP_X)))
    found = np.zeros(n, dtype=bool)
    cum = np.zeros(n)  # int_0^lo exp(-delta s) E(s) ds
    d_lo = np.zeros(n)
    for lo, hi in itertools.pairwise(edges):
        if not pending.any():
            break
        half = (hi - lo) / 2
        node_t = lo + half * (1 + _GL_X)
        e_nodes = np.stack([np.asarray(expected(np.float64(t)), dtype=np.float64) for t in node_t])
        e_hi = np.asarray(expected(np.float64(hi)), dtype=np.float64)
        cum = cum + (half * _GL_W * np.exp(-delta * node_t)) @ e_nodes
        d_hi = np.exp(-delta * hi) * e_hi + delta * cum
        hit = pending & (d_hi >= tgt)
        if hit.any():
            a_t[hit], b_t[hit] = lo, hi
            base[hit] = d_lo[hit] - np.exp(-delta * lo) * e_lo[hit]
            values[hit] = np.column_stack([e_lo[hit], e_nodes[:, hit].T, e_hi[hit]])
            found |= hit
            pending &= ~hit
        e_lo, d_lo = e_hi, d_hi
    if total is not None:
        out[pending] = edges[-1]  # reached by D(H) but not by the quadrature: a rounding-level miss
    todo = np.flatnonzero(found)
    if todo.size == 0:
        return out
    a_t, b_t, base, tgt_f = a_t[todo], b_t[todo], base[todo], tgt[todo]
    coef = values[todo] @ _INTERP_INV.T  # Legendre coefficients of each customer's interpolant

    def interp(t: FloatArray) -> FloatArray:
        u = 2 * (t - a_t[:, None]) / (b_t - a_t)[:, None] - 1  # customers x points
        vander = np.polynomial.legendre.legvander(u, coef.shape[1] - 1)
        return np.asarray(np.einsum("cpk,ck->cp", vander, coef), dtype=np.float64)

    def value(t: FloatArray) -> FloatArray:
        h = (t - a_t) / 2
        s = a_t[:, None] + h[:, None] * (1 + _GL_X[None, :])
        integral = (h[:, None] * _GL_W[None, :] * np.exp(-delta * s) * interp(s)).sum(axis=1)
        return np.asarray(
            base + np.exp(-delta * t) * interp(t[:, None])[:, 0] + delta * integral, dtype=np.float64
        )

    left, right = a_t.copy(), b_t.copy()
    for _ in range(_BISECTION_STEPS):
        mid = (left + right) / 2
        up = value(mid) >= tgt_f
        right = np.where(up, mid, right)
        left = np.where(up, left, mid)
    out[todo] = right
    return out


def periodic_payback_time(
    expected: ExpectedPurchases,
    target: npt.ArrayLike,
    n_periods: int,
    period: float,
    discount_rate: float,
    total: npt.ArrayLike | None = None,
) -> FloatArray:
    """First period end k P (k <= K) at which the periodic discounted purchases reach ``target``.

    The periodic convention of :func:`periodic_discounted_purchases` books each period's purchases at its
    end, so the value is a step function and the payback time is a whole number of periods: the smallest
    k P with sum_{i=1}^{k} [E(iP) - E((i-1)P)] / (1 + rate)^i >= target; 0 for a non-positive target and
    ``inf`` where the sum over all K periods stays below it. ``expected`` and ``total`` are as in
    :func:`continuous_payback_time`; periods are summed only until every customer has paid back.
    """
    if n_periods < 1:
        raise ValueError("n_periods must be at least 1")
    tgt, out, pending = _targets(target, total)
    acc: FloatArray | float = 0.0
    previous: FloatArray | float = 0.0
    for k in range(1, n_periods + 1):
        if not pending.any():
            break
        current = np.asarray(expected(np.float64(k * period)), dtype=np.float64)
        acc = acc + (current - previous) / (1.0 + discount_rate) ** k
        previous = current
        hit = pending & (acc >= tgt)
        out[hit] = k * period
        pending &= ~hit
    if total is not None:
        out[pending] = n_periods * period
    return out
