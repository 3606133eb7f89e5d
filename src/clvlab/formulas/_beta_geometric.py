"""Fast weighted log-likelihood and gradient shared by BG/NBD and MBG/NBD, for maximum likelihood.

Both likelihoods have the form (FHL 2005 eq. 6 with Hardie's note 027 rearrangement; Batislam, Denizel
& Filiztekin 2007 eq. 3)

    log L = A_x + r log(alpha) - (r + x) log(alpha + T)
            + log(1 + c_x ((alpha + T) / (alpha + t_x))^(r + x))

with A_x = log Gamma(r + x) - log Gamma(r) + log B(a, b + x + m) - log B(a, b) and
c_x = a / (b + x - 1 + m), where m = 0 for BG/NBD (the last term is absent when x = 0) and m = 1 for
MBG/NBD (dropout can follow the first purchase, so the term is present for every x).

A fit evaluates this hundreds of thousands of times per iteration, so :func:`prepare` groups the
de-duplicated rows once: terms in x alone (log-gamma, digamma) are evaluated once per distinct x, and
log(alpha + T), log(alpha + t_x) once per distinct T and t_x and gathered. Per row there remain a
softplus and a logistic function. The per-customer functions of :mod:`clvlab.formulas.bgnbd` and
:mod:`clvlab.formulas.mbgnbd` stay the reference; tests check both agree.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.special import betaln, digamma, gammaln

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


class FitData(NamedTuple):
    """Rows grouped for repeated likelihood evaluation (built once per fit by :func:`prepare`)."""

    modified: bool
    xs: FloatArray  # distinct x
    w_by_x: FloatArray  # total weight per distinct x
    T_values: FloatArray  # distinct T
    T_code: IntArray  # per row: index into T_values
    w_by_T: FloatArray  # total weight per distinct T
    wx_by_T: FloatArray  # total of weight * x per distinct T
    first: int  # index into xs of the first x with a second likelihood term
    lo: int  # first row with a second term (rows are sorted by x)
    x2: FloatArray  # x of the rows with a second term
    w2: FloatArray  # their weights
    tx_values: FloatArray  # distinct t_x among them
    tx_code: IntArray  # per such row: index into tx_values
    starts2: IntArray  # start of each x run among those rows
    counts2: IntArray  # length of each run
    W: float  # total weight


def prepare(x: FloatArray, t_x: FloatArray, T: FloatArray, weights: FloatArray, *, modified: bool) -> FitData:
    """Group rows (sorted by x, as the estimator's de-duplication leaves them) for fast evaluation."""
    n = len(x)
    starts = np.concatenate([[0], np.flatnonzero(np.diff(x)) + 1])
    xs = x[starts]
    counts = np.diff(np.append(starts, n))
    T_values, T_code = np.unique(T, return_inverse=True)
    m = 1.0 if modified else 0.0
    first = 0 if modified else int(np.searchsorted(xs + m > 0, True))
    lo = int(starts[first]) if first < len(starts) else n
    tx_values, tx_code = np.unique(t_x[lo:], return_inverse=True)
    return FitData(
        modified=modified,
        xs=xs,
        w_by_x=np.add.reduceat(weights, starts),
        T_values=T_values,
        T_code=T_code,
        w_by_T=np.bincount(T_code, weights=weights, minlength=len(T_values)).astype(np.float64),
        wx_by_T=np.bincount(T_code, weights=weights * x, minlength=len(T_values)).astype(np.float64),
        first=first,
        lo=lo,
        x2=x[lo:],
        w2=weights[lo:],
        tx_values=tx_values,
        tx_code=tx_code,
        starts2=starts[first:] - lo,
        counts2=counts[first:],
        W=float(weights.sum()),
    )


def weighted_loglik_and_grad(
    r: float, alpha: float, a: float, b: float, data: FitData
) -> tuple[float, FloatArray]:
    """Sum of weights x log-likelihood and its gradient with respect to (r, alpha, a, b).

    Returns
    -------
    total : float
    grad : ndarray of shape (4,)
    """
    m = 1.0 if data.modified else 0.0
    xs = data.xs
    # Terms in x alone, once per distinct x.
    A = gammaln(r + xs) - gammaln(r) + betaln(a, b + xs + m) - betaln(a, b)
    dA_r = digamma(r + xs) - digamma(r)
    dA_a = digamma(a + b) - digamma(a + b + xs + m)
    dA_b = digamma(b + xs + m) - digamma(b) + dA_a
    # Terms in T alone, once per distinct T: -(r + x) log(alpha + T) summed by T.
    LT_v = np.log(alpha + data.T_values)
    invT_v = 1.0 / (alpha + data.T_values)
    log_alpha = np.log(alpha)
    W = data.W
    total = float(data.w_by_x @ A) + r * log_alpha * W - float((r * data.w_by_T + data.wx_by_T) @ LT_v)
    g_r = float(data.w_by_x @ dA_r) + log_alpha * W - float(data.w_by_T @ LT_v)
    g_alpha = r / alpha * W - float((r * data.w_by_T + data.wx_by_T) @ invT_v)
    g_a = float(data.w_by_x @ dA_a)
    g_b = float(data.w_by_x @ dA_b)
    if data.lo < len(data.T_code):
        xs2 = xs[data.first :]
        c_den = b + xs2 - 1 + m
        logc = np.log(a) - np.log(c_den)
        T_code = data.T_code[data.lo :]
        LX_v = np.log(alpha + data.tx_values)
        D = LT_v[T_code] - LX_v[data.tx_code]  # log((alpha + T) / (alpha + t_x)) >= 0
        rx = r + data.x2
        z = np.repeat(logc, data.counts2) + rx * D
        # softplus(z) = log(1 + e^z) and the logistic function, stably: e = exp(-|z|).
        e = np.exp(-np.abs(z))
        total += float(data.w2 @ (np.maximum(z, 0.0) + np.log1p(e)))
        sigma = np.where(z >= 0, 1.0, e) / (1.0 + e)
        ws = data.w2 * sigma
        g_r += float(ws @ D)
        dD_alpha = invT_v[T_code] - 1.0 / (alpha + data.tx_values)[data.tx_code]
        g_alpha += float(ws @ (rx * dD_alpha))
        ws_by_x = np.add.reduceat(ws, data.starts2)
        g_a += float(ws_by_x.sum()) / a
        g_b -= float(ws_by_x @ (1.0 / c_den))
    return total, np.array([g_r, g_alpha, g_a, g_b])
