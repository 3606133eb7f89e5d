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

Every function broadcasts over a leading axis of parameter draws, like the model formulas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
#: ``E(t)`` for an array of horizons t, shaped to broadcast against the customers.
ExpectedPurchases = Callable[[Any], FloatArray]

__all__ = [
    "continuous_discounted_purchases",
    "discount_delta",
    "periodic_discounted_purchases",
    "quadrature_nodes",
]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
#: Beyond this many e-foldings of the discount factor the remaining value is below exp(-60) relative.
_TAIL_EFOLDS = 60.0
#: Panels grow by a factor 2 from the model's time scale up to the effective horizon.


def discount_delta(discount_rate: float, discount_period: float) -> float:
    """Continuous discount rate per time unit: ``log(1 + rate) / period``."""
    return float(np.log1p(discount_rate) / discount_period)


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
    if not np.isfinite(horizon) and delta <= 0:
        raise ValueError("an infinite horizon needs a positive discount rate")
    h_eff = horizon if delta == 0 else min(horizon, _TAIL_EFOLDS / delta)
    n_panels = max(1, int(np.ceil(np.log2(h_eff / min(scale, h_eff)))))
    edges = np.concatenate([[0.0], h_eff * 2.0 ** -np.arange(n_panels, -1, -1)])
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
