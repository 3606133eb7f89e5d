r"""Gamma-Gamma model of monetary value.

Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "RFM and CLV: Using Iso-Value Curves for Customer
Base Analysis", *Journal of Marketing Research* 42(4), 415-430 (FHL 2005 below); Fader, P. S. and
Hardie, B. G. S. (2013), "The Gamma-Gamma Model of Monetary Value", http://brucehardie.com/notes/025/
(FH 2013 below).

Model: the value of each of a customer's transactions is :math:`z_i \sim \mathrm{Gamma}(p, \nu)`
(shape ``p``, rate ``nu``), independent of the transaction process; across customers
:math:`\nu \sim \mathrm{Gamma}(q, \gamma)` (shape ``q``, rate ``gamma``). The data per customer are ``x``,
the number of transactions whose values are averaged (in the CDNOW application, the repeat transactions
in the calibration period, same-day purchases merged), and ``mbar``, their mean value.

Broadcasting: every argument is converted with ``np.asarray(..., dtype=float)`` and the result has the
broadcast shape of all arguments (parameters ``(D, 1)`` and data ``(N,)`` give ``(D, N)``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import betaln, digamma

from clvlab._types import FloatArray

__all__ = [
    "conditional_expected_spend",
    "expected_spend",
    "loglik",
    "loglik_and_grad",
    "loglik_grad",
    "sample_spend_rate",
    "simulate",
]


def _prepare(
    p: npt.ArrayLike, q: npt.ArrayLike, gamma: npt.ArrayLike, x: npt.ArrayLike, mbar: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    pa, qa, ga = (np.asarray(v, dtype=float) for v in (p, q, gamma))
    xa, ma = np.asarray(x, dtype=float), np.asarray(mbar, dtype=float)
    with np.errstate(invalid="ignore"):
        ok = (xa > 0) & (ma > 0) & np.isfinite(xa) & np.isfinite(ma)
    return pa, qa, ga, np.where(ok, xa, 1.0), np.where(ok, ma, 1.0), ok


def _core(
    p: FloatArray, q: FloatArray, gamma: FloatArray, x: FloatArray, mbar: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Log-density pieces: ll, px, u = x mbar, s = gamma + u, log(u / s), log(gamma / s)."""
    px = p * x
    u = x * mbar
    log_u_s = -np.log1p(gamma / u)  # log(x mbar / (gamma + x mbar))
    log_g_s = -np.log1p(u / gamma)  # log(gamma / (gamma + x mbar))
    ll = -betaln(px, q) + px * log_u_s + q * log_g_s - np.log(mbar)
    return ll, px, u, log_u_s, log_g_s


def loglik(
    p: npt.ArrayLike, q: npt.ArrayLike, gamma: npt.ArrayLike, x: npt.ArrayLike, mbar: npt.ArrayLike
) -> FloatArray:
    r"""Return the per-customer log-density of the mean spend ``mbar`` given ``x`` (FH 2013; FHL 2005).

    The mean of ``x`` i.i.d. :math:`\mathrm{Gamma}(p, \nu)` values is :math:`\mathrm{Gamma}(px, x\nu)`;
    mixing over :math:`\nu \sim \mathrm{Gamma}(q, \gamma)` gives the density of :math:`\bar m`

    .. math::
        f(\bar m \mid p, q, \gamma, x) = \frac{\Gamma(px + q)}{\Gamma(px)\Gamma(q)}
        \frac{\gamma^q\, x^{px}\, \bar m^{px - 1}}{(\gamma + x \bar m)^{px + q}},

    which *includes* the Jacobian factor :math:`x^{px}` and the :math:`\bar m^{px-1}` term (all terms,
    including those constant in the parameters). This is the form whose sum over the 946 CDNOW repeat
    customers at (p, q, gamma) = (6.2488, 3.7446, 15.4477) is the published -4,055.92 (FH 2013); without
    :math:`x^{px}` the sum is about -24,343.6 and without :math:`1/\bar m` about -915.1. Evaluated as
    :math:`-\ln B(px, q) + px \ln\frac{x\bar m}{\gamma + x\bar m} + q \ln\frac{\gamma}{\gamma + x\bar m}
    - \ln \bar m` with ``log1p``, finite for ``x`` up to 10^4 and ``mbar`` from 1e-3 to 1e6 and beyond.

    Parameters
    ----------
    p : array_like
        Shape of the per-transaction spend distribution.
    q, gamma : array_like
        Shape and rate of the gamma mixing distribution of the spend rate ``nu``.
    x : array_like
        Number of transactions averaged (``> 0``; need not be an integer).
    mbar : array_like
        Mean spend over those transactions (``> 0``).

    Returns
    -------
    numpy.ndarray
        Log-density; ``nan`` where ``x <= 0`` or ``mbar <= 0`` (no monetary information).
    """
    pa, qa, ga, xa, ma, ok = _prepare(p, q, gamma, x, mbar)
    ll = _core(pa, qa, ga, xa, ma)[0]
    return np.where(ok, ll, np.nan)


def loglik_and_grad(
    p: npt.ArrayLike, q: npt.ArrayLike, gamma: npt.ArrayLike, x: npt.ArrayLike, mbar: npt.ArrayLike
) -> tuple[FloatArray, tuple[FloatArray, FloatArray, FloatArray]]:
    r"""Return the per-customer log-density of ``mbar`` (FH 2013) and its exact gradient.

    .. math::
        \partial_p \ln f = x\left[\psi(px+q) - \psi(px) + \ln\frac{x\bar m}{\gamma + x\bar m}\right],\quad
        \partial_q \ln f = \psi(px+q) - \psi(q) + \ln\frac{\gamma}{\gamma + x\bar m},\quad
        \partial_\gamma \ln f = \frac{q}{\gamma} - \frac{px+q}{\gamma + x\bar m}
        = \frac{q x\bar m - p x \gamma}{\gamma(\gamma + x\bar m)}.

    Parameters
    ----------
    p, q, gamma : array_like
        Model parameters (positive).
    x, mbar : array_like
        Number of transactions averaged and their mean value (both ``> 0``).

    Returns
    -------
    ll : numpy.ndarray
        Log-density (as :func:`loglik`).
    grad : tuple of numpy.ndarray
        ``(d ll / d p, d ll / d q, d ll / d gamma)``; ``nan`` where the data are invalid.
    """
    pa, qa, ga, xa, ma, ok = _prepare(p, q, gamma, x, mbar)
    ll, px, u, log_u_s, log_g_s = _core(pa, qa, ga, xa, ma)
    psi_pxq = digamma(px + qa)
    g_p = xa * (psi_pxq - digamma(px) + log_u_s)
    g_q = psi_pxq - digamma(qa) + log_g_s
    g_g = (qa * u - px * ga) / (ga * (ga + u))
    nan = np.nan
    return np.where(ok, ll, nan), (np.where(ok, g_p, nan), np.where(ok, g_q, nan), np.where(ok, g_g, nan))


def loglik_grad(
    p: npt.ArrayLike, q: npt.ArrayLike, gamma: npt.ArrayLike, x: npt.ArrayLike, mbar: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return the exact gradient of :func:`loglik` (FH 2013) with respect to (p, q, gamma).

    See :func:`loglik_and_grad` for the formulas.

    Parameters
    ----------
    p, q, gamma : array_like
        Model parameters (positive).
    x, mbar : array_like
        Number of transactions averaged and their mean value (both ``> 0``).

    Returns
    -------
    tuple of numpy.ndarray
        One array per parameter, in parameter order.
    """
    return loglik_and_grad(p, q, gamma, x, mbar)[1]


def conditional_expected_spend(
    p: npt.ArrayLike, q: npt.ArrayLike, gamma: npt.ArrayLike, x: npt.ArrayLike, mbar: npt.ArrayLike
) -> FloatArray:
    r"""Return E[M | x, mbar], the expected mean transaction value given the history (FH 2013; FHL 2005).

    .. math::
        E[M \mid p, q, \gamma, x, \bar m] = \frac{q - 1}{px + q - 1}\,\frac{p\gamma}{q - 1}
        + \frac{px}{px + q - 1}\,\bar m = \frac{p(\gamma + x\bar m)}{px + q - 1},

    the posterior mean of :math:`p/\nu` with :math:`\nu \mid \text{data} \sim \mathrm{Gamma}(px + q,
    \gamma + x\bar m)`. For ``x = 0`` (no repeat transactions) it is the population mean
    :math:`p\gamma/(q-1)` whatever ``mbar`` (Hardie's spreadsheet gives 35.17 to the CDNOW customers with
    ``x = 0``). ``+inf`` where :math:`px + q \le 1` (the posterior mean of :math:`1/\nu` is infinite).

    Parameters
    ----------
    p, q, gamma : array_like
        Model parameters (positive).
    x : array_like
        Number of transactions averaged (``>= 0``).
    mbar : array_like
        Their mean value (``>= 0``; ignored when ``x = 0``).

    Returns
    -------
    numpy.ndarray
        Expected spend per transaction; ``nan`` where ``x < 0`` or ``mbar < 0``.
    """
    pa, qa, ga = (np.asarray(v, dtype=float) for v in (p, q, gamma))
    xa, ma = np.asarray(x, dtype=float), np.asarray(mbar, dtype=float)
    with np.errstate(invalid="ignore"):
        ok = (xa >= 0) & (ma >= 0)
    xs = np.where(ok, xa, 0.0)
    ms = np.where(ok & (xa > 0), ma, 0.0)
    den = pa * xs + qa - 1.0
    finite = den > 0
    e = pa * (ga + xs * ms) / np.where(finite, den, 1.0)
    return np.where(ok, np.where(finite, e, np.inf), np.nan)


def expected_spend(p: npt.ArrayLike, q: npt.ArrayLike, gamma: npt.ArrayLike) -> FloatArray:
    r"""Return the population mean transaction value :math:`E[M] = p\gamma/(q - 1)` (FH 2013; FHL 2005).

    Parameters
    ----------
    p, q, gamma : array_like
        Model parameters (positive).

    Returns
    -------
    numpy.ndarray
        The mean; ``+inf`` for ``q <= 1``, where :math:`E[1/\nu]` and hence the mean is infinite.
    """
    pa, qa, ga = (np.asarray(v, dtype=float) for v in (p, q, gamma))
    finite = qa > 1.0
    return np.where(finite, pa * ga / np.where(finite, qa - 1.0, 1.0), np.inf)


def sample_spend_rate(
    p: npt.ArrayLike,
    q: npt.ArrayLike,
    gamma: npt.ArrayLike,
    rng: np.random.Generator,
    x: npt.ArrayLike,
    mbar: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    r"""One draw of each customer's spend distribution from their individual posterior (FH 2013).

    The value of each future transaction is :math:`\mathrm{Gamma}(p, \nu)`; given ``x`` transactions of mean
    ``mbar``, the gamma prior is conjugate: :math:`\nu \mid x, \bar m \sim \mathrm{Gamma}(px + q, \gamma +
    x\bar m)` (the posterior behind :func:`conditional_expected_spend`; the prior ``Gamma(q, gamma)`` for
    ``x = 0``).

    Returns
    -------
    shape, rate : numpy.ndarray
        ``p`` and the drawn ``nu`` (shape and rate of each future transaction's value), with the broadcast
        shape of all arguments.
    """
    pa, qa, ga = (np.asarray(v, dtype=float) for v in (p, q, gamma))
    xa, ma = np.asarray(x, dtype=float), np.asarray(mbar, dtype=float)
    shape = np.broadcast_shapes(pa.shape, qa.shape, ga.shape, xa.shape, ma.shape)
    xs = np.where(xa > 0, xa, 0.0)
    ms = np.where(xa > 0, ma, 0.0)
    nu = rng.gamma(np.broadcast_to(pa * xs + qa, shape)) / np.broadcast_to(ga + xs * ms, shape)
    return np.asarray(np.broadcast_to(pa, shape), dtype=np.float64), np.asarray(nu, dtype=np.float64)


def simulate(
    p: npt.ArrayLike, q: npt.ArrayLike, gamma: npt.ArrayLike, x: npt.ArrayLike, rng: np.random.Generator
) -> FloatArray:
    r"""Simulate each customer's mean transaction value over ``x`` transactions (FHL 2005 model).

    Draws :math:`\nu \sim \mathrm{Gamma}(q, \text{rate } \gamma)` per customer; the sum of ``x`` i.i.d.
    :math:`\mathrm{Gamma}(p, \text{rate } \nu)` values is :math:`\mathrm{Gamma}(px, \text{rate } \nu)`, drawn
    directly, and divided by ``x``. Vectorised; ``x`` may vary by customer.

    Parameters
    ----------
    p, q, gamma : array_like
        Model parameters (positive).
    x : array_like
        Number of transactions per customer (``>= 0``).
    rng : numpy.random.Generator
        Random number generator.

    Returns
    -------
    numpy.ndarray
        Mean spend per customer, with the broadcast shape of the arguments; ``nan`` where ``x = 0``.
    """
    pa, qa, ga = (np.asarray(v, dtype=float) for v in (p, q, gamma))
    xa = np.asarray(x, dtype=float)
    shape = np.broadcast_shapes(pa.shape, qa.shape, ga.shape, xa.shape)
    xb = np.broadcast_to(xa, shape)
    if np.any(~(xb >= 0)):
        raise ValueError("x must be non-negative")
    nu = rng.gamma(np.broadcast_to(qa, shape)) / np.broadcast_to(ga, shape)
    total = rng.gamma(np.broadcast_to(pa, shape) * xb)
    out = np.full(shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(total / nu, xb, out=out, where=xb > 0)
    return out
