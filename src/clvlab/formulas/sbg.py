r"""Shifted beta-geometric (sBG) model of contract duration, discrete time.

Fader, P. S. and Hardie, B. G. S. (2007), "How to Project Customer Retention", *Journal of Interactive
Marketing* 21(1), 76-90 (FH 2007 below); Fader, P. S. and Hardie, B. G. S. (2010), "Customer-Base Valuation
in a Contractual Setting: The Perils of Ignoring Heterogeneity", *Marketing Science* 29(1), 85-93
(FH 2010 below).

Model (FH 2007, section 3): at the end of each contract period an active customer cancels with
probability :math:`\theta` (so the period of cancellation ``T`` is geometric on 1, 2, ... with
:math:`P(T = t \mid \theta) = \theta (1 - \theta)^{t - 1}` and :math:`S(t \mid \theta) = (1 - \theta)^t`),
and :math:`\theta \sim \mathrm{Beta}(\gamma, \delta)` across customers. Integrating over :math:`\theta`:

.. math::
    S(t) = P(T > t) = \frac{B(\gamma, \delta + t)}{B(\gamma, \delta)}, \qquad
    P(T = t) = \frac{B(\gamma + 1, \delta + t - 1)}{B(\gamma, \delta)}, \qquad
    r(t) = \frac{S(t)}{S(t - 1)} = \frac{\delta + t - 1}{\gamma + \delta + t - 1}.

Notation: FH 2007 and FH 2010 write the beta parameters :math:`(\alpha, \beta)`; clvlab follows Fader,
Hardie, Liu, Davin & Steenburgh (2018), who write the same parameters :math:`(\gamma, \delta)` so that the
sBG is their beta-discrete-Weibull (:mod:`clvlab.formulas.bdw`) at ``c = 1`` under the same names (and the
BG/BB's drop-out process, :mod:`clvlab.formulas.bgbb`, is the same beta-geometric with the same names).
FH 2007's published estimates read ``alpha = gamma`` and ``beta = delta``.

Data (per customer): ``duration`` (whole periods) and ``churned`` (0 or 1). A customer lost at period
``t`` (FH 2007's ``T = t``: paid ``t`` periods, did not renew at the end of the ``t``-th) has
``duration = t, churned = 1`` and contributes :math:`P(T = t)`; a customer still active after ``n``
renewals has ``duration = n, churned = 0`` and contributes :math:`S(n)` (FH 2007, eq. for the
likelihood of a cohort observed for ``n`` periods). Elements that break these rules (non-integers,
negative durations, ``churned`` not 0/1, a churn at ``duration = 0``) give ``nan``, no exception.

Broadcasting: every argument is converted with ``np.asarray(..., dtype=float)`` and results have the
broadcast shape of all arguments, so parameters of shape ``(D, 1)`` (posterior draws) and data of shape
``(N,)`` give ``(D, N)``, and per-customer parameter arrays (covariates) of shape ``(N,)`` work elementwise.

Residual lifetime and value (FH 2010, section 2). A customer with ``duration = n, churned = 0`` has made
``n`` renewals (FH 2010's "``n - 1`` renewals" with their ``n`` one larger); given that, their churn
probability is :math:`\mathrm{Beta}(\gamma, \delta + n)`. Their discounted expected residual lifetime
counts the future renewal payments, the first (the coming renewal) undiscounted:

.. math::
    \mathrm{DERL}(d) = \sum_{k=0}^{\infty} \frac{S(n + 1 + k)}{S(n)} \frac{1}{(1 + d)^k}
        = \frac{\delta + n}{\gamma + \delta + n}\;
          {}_2F_1\!\left(1, \delta + n + 1; \gamma + \delta + n + 1; \frac{1}{1 + d}\right)

(FH 2010, eq. for DERL, with their ``n - 1`` renewals = our ``n``; their ratio of beta functions
:math:`B(\alpha, \beta + n) / B(\alpha, \beta + n - 1)` is the leading fraction here).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, gammaln, hyp2f1

from clvlab._types import FloatArray

__all__ = [
    "churn_pmf",
    "derl",
    "discounted_expected_lifetime",
    "expected_residual_lifetime",
    "log_churn_pmf",
    "log_survival",
    "loglik",
    "loglik_and_grad",
    "loglik_grad",
    "p_active",
    "retention_elasticity",
    "retention_rate",
    "simulate",
    "survival",
]


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------
def as_float(v: npt.ArrayLike) -> FloatArray:
    return np.asarray(v, dtype=np.float64)


def is_whole_count(v: FloatArray) -> npt.NDArray[np.bool_]:
    with np.errstate(invalid="ignore"):
        return np.asarray(np.isfinite(v) & (np.floor(v) == v) & (v >= 0), dtype=np.bool_)


def valid_rows(
    duration: npt.ArrayLike, churned: npt.ArrayLike
) -> tuple[npt.NDArray[np.bool_], FloatArray, npt.NDArray[np.bool_]]:
    """Validity mask, sanitised duration (invalid -> 1) and churned as bool, broadcast together."""
    n, c = np.broadcast_arrays(as_float(duration), as_float(churned))
    is_churn = c == 1.0
    ok = is_whole_count(n) & ((c == 0.0) | is_churn) & ~(is_churn & (n < 1))
    return ok, np.where(ok, n, 1.0), is_churn & ok


#: Relative accuracy of a discounted residual-lifetime series summed term by term.
_SUM_TOL = 1e-13
#: Most terms such a series may take (a discount rate below about 3e-5 per period would need more).
_MAX_TERMS = 1 << 20
#: Elements (rows x terms) evaluated at once in a series.
_BLOCK = 1 << 20


def series_terms(z: FloatArray) -> int:
    """Terms after which ``sum_k z^k`` has a remainder below :data:`_SUM_TOL` (the bound for DERL series).

    Raises
    ------
    ValueError
        When more than :data:`_MAX_TERMS` would be needed (a vanishing discount rate).
    """
    with np.errstate(divide="ignore"):
        need = np.ceil((np.log(_SUM_TOL) + np.log1p(-z)) / np.log(z))
    terms = int(np.max(need, initial=1.0))
    if terms > _MAX_TERMS:
        rate = float(np.max(1.0 / np.asarray(z) - 1.0, initial=0.0))
        raise ValueError(
            f"a discount rate of {rate:.3g} per period is too small to sum the residual-lifetime series; "
            "use a larger rate or the expected residual lifetime (no discounting)"
        )
    return terms


def discounted_series(
    log_s: Callable[..., FloatArray],
    params: tuple[FloatArray, ...],
    z: FloatArray,
    n: FloatArray,
    max_terms: int,
    *,
    weighted: bool = False,
) -> FloatArray:
    r"""Sum over k >= 0 of S(n + 1 + k) / S(n) z^k, term by term, for any survivor function.

    ``log_s(*params, t)`` is the log survivor function. Terms are summed in blocks until the remainder,
    at most (last term) x z / (1 - z) since S(n + 1 + k) / S(n) decreases in k, is below :data:`_SUM_TOL`
    of the sum, or ``max_terms`` terms (see :func:`series_terms`) are taken. With ``weighted=True`` each
    term is multiplied by ``k + 1`` and all ``max_terms`` terms are summed (twice :func:`series_terms`
    bounds that remainder too).
    """
    arrays = np.broadcast_arrays(*params, z, n)
    shape = arrays[0].shape
    *pf, zf, nf = (v.reshape(-1, 1) for v in arrays)
    base = log_s(*pf, nf)
    log_z = np.log(zf)
    total = np.zeros(zf.shape)
    block = max(1, min(max_terms, _BLOCK // max(zf.shape[0], 1)))
    k0 = 0
    while k0 < max_terms:
        k = np.arange(k0, min(k0 + block, max_terms), dtype=np.float64)[None, :]
        log_terms = log_s(*pf, nf + 1.0 + k) - base + k * log_z
        total += ((k + 1.0 if weighted else 1.0) * np.exp(log_terms)).sum(axis=1, keepdims=True)
        k0 += k.shape[1]
        if weighted:
            continue
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            bound = np.exp(log_terms[:, -1:] + log_z) / -np.expm1(log_z)
        if np.all(bound <= _SUM_TOL * total):
            break
    return total.reshape(shape)


def _log_s(g: FloatArray, d: FloatArray, t: FloatArray) -> FloatArray:
    """Log S(t) of the sBG for t >= 0 (no checks)."""
    return _log_rising(d, t) - _log_rising(g + d, t)


def _log_rising(x: FloatArray, n: FloatArray) -> FloatArray:
    """Log of the rising factorial (x)_n = Gamma(x + n) / Gamma(x), x > 0, n >= 0."""
    return np.asarray(gammaln(x + n) - gammaln(x), dtype=np.float64)


def _psi_diff(x: FloatArray, n: FloatArray) -> FloatArray:
    """psi(x + n) - psi(x), the derivative of :func:`_log_rising` in ``x``."""
    return np.asarray(digamma(x + n) - digamma(x), dtype=np.float64)


# --------------------------------------------------------------------------------------------------
# the duration distribution
# --------------------------------------------------------------------------------------------------
def log_survival(gamma: npt.ArrayLike, delta: npt.ArrayLike, t: npt.ArrayLike) -> FloatArray:
    r"""Log S(t) = log P(T > t), the log share of a cohort still active after ``t`` periods.

    :math:`S(t) = B(\gamma, \delta + t) / B(\gamma, \delta) = (\delta)_t / (\gamma + \delta)_t`
    (FH 2007, the sBG survivor function). ``t`` may be real (``t >= 0``); ``S(0) = 1``.

    Parameters
    ----------
    gamma, delta : array_like
        Beta parameters of the churn probability (positive).
    t : array_like
        Periods (non-negative).

    Returns
    -------
    numpy.ndarray
        Broadcast shape of the arguments; ``nan`` for negative ``t``.
    """
    g, d, tt = as_float(gamma), as_float(delta), as_float(t)
    with np.errstate(invalid="ignore"):
        bad = ~(tt >= 0)
    ts = np.where(bad, 0.0, tt)
    out = _log_rising(d, ts) - _log_rising(g + d, ts)
    return np.where(bad, np.nan, out)


def survival(gamma: npt.ArrayLike, delta: npt.ArrayLike, t: npt.ArrayLike) -> FloatArray:
    """S(t) = P(T > t) (FH 2007); see :func:`log_survival`.

    Examples
    --------
    FH 2007's "regular" cohort at its published estimates (tests/references.md [SBG-FH2007-REGULAR]):
    of 1,000 customers the model keeps these after years 1-3 (the data: 631, 468, 382):

    >>> from clvlab.formulas import sbg
    >>> [round(float(1000 * s)) for s in sbg.survival(0.704, 1.182, [1, 2, 3])]
    [627, 474, 388]
    """
    return np.exp(log_survival(gamma, delta, t))


def log_churn_pmf(gamma: npt.ArrayLike, delta: npt.ArrayLike, t: npt.ArrayLike) -> FloatArray:
    r"""Log P(T = t), the log probability that a customer is lost at period ``t`` (t = 1, 2, ...).

    :math:`P(T = t) = B(\gamma + 1, \delta + t - 1) / B(\gamma, \delta)
    = \gamma\, (\delta)_{t - 1} / (\gamma + \delta)_t` (FH 2007, the sBG probability mass function).

    Returns
    -------
    numpy.ndarray
        ``-inf`` at ``t = 0``, ``nan`` where ``t`` is not a whole number.
    """
    g, d, tt = as_float(gamma), as_float(delta), as_float(t)
    ok = is_whole_count(tt)
    ts = np.where(ok & (tt >= 1), tt, 1.0)
    out = np.log(g) + _log_rising(d, ts - 1.0) - _log_rising(g + d, ts)
    out = np.where(ok & (tt == 0), -np.inf, out)
    return np.where(ok, out, np.nan)


def churn_pmf(gamma: npt.ArrayLike, delta: npt.ArrayLike, t: npt.ArrayLike) -> FloatArray:
    """P(T = t) (FH 2007); see :func:`log_churn_pmf`."""
    return np.exp(log_churn_pmf(gamma, delta, t))


def retention_rate(gamma: npt.ArrayLike, delta: npt.ArrayLike, t: npt.ArrayLike) -> FloatArray:
    r"""Retention rate at period ``t``: r(t) = S(t) / S(t - 1) = (delta + t - 1) / (gamma + delta + t - 1).

    The share of the customers active after ``t - 1`` periods who renew at the end of period ``t``
    (FH 2007, the sBG retention rate, increasing in ``t``: the loyal customers remain). ``t >= 1``; real
    values are allowed, ``nan`` below 1.
    """
    g, d, tt = as_float(gamma), as_float(delta), as_float(t)
    with np.errstate(invalid="ignore"):
        bad = ~(tt >= 1)
    ts = np.where(bad, 1.0, tt)
    out = (d + ts - 1.0) / (g + d + ts - 1.0)
    return np.where(bad, np.nan, out)


# --------------------------------------------------------------------------------------------------
# likelihood
# --------------------------------------------------------------------------------------------------
def loglik(
    gamma: npt.ArrayLike, delta: npt.ArrayLike, duration: npt.ArrayLike, churned: npt.ArrayLike
) -> FloatArray:
    r"""Per-customer sBG log-likelihood (FH 2007, the cohort likelihood, one customer at a time).

    .. math:: \ell = \begin{cases} \log P(T = n) & \text{churned} \\ \log S(n) & \text{active} \end{cases}
              \quad (n = \text{duration})

    Weighted sums of this over a cohort's survivor counts give FH 2007's log-likelihood (e.g. the
    "regular" cohort, years 1-7: -1,680.27 at the maximum).

    Parameters
    ----------
    gamma, delta : array_like
        Positive parameters.
    duration : array_like
        Whole periods a subscriber (see the module notes).
    churned : array_like
        1 (or True) when the customer was lost at ``duration``, 0 when still active after it.

    Returns
    -------
    numpy.ndarray
        ``nan`` for invalid rows.
    """
    return loglik_and_grad(gamma, delta, duration, churned, grad=False)[0]


def loglik_and_grad(
    gamma: npt.ArrayLike,
    delta: npt.ArrayLike,
    duration: npt.ArrayLike,
    churned: npt.ArrayLike,
    *,
    grad: bool = True,
) -> tuple[FloatArray, tuple[FloatArray, ...]]:
    r"""Per-customer log-likelihood and its exact gradient in ``(gamma, delta)``.

    With :math:`s = \psi(\gamma + \delta + n) - \psi(\gamma + \delta)`:

    * churned at ``n``: :math:`\partial_\gamma \ell = 1/\gamma - s`,
      :math:`\partial_\delta \ell = \psi(\delta + n - 1) - \psi(\delta) - s`;
    * active after ``n``: :math:`\partial_\gamma \ell = -s`,
      :math:`\partial_\delta \ell = \psi(\delta + n) - \psi(\delta) - s`

    (derivatives of the log rising factorials in :func:`log_churn_pmf` and :func:`log_survival`).

    Returns
    -------
    ll : numpy.ndarray
        As :func:`loglik`.
    grad : tuple of numpy.ndarray
        ``(d ll / d gamma, d ll / d delta)`` (empty when ``grad=False``); ``nan`` for invalid rows.
    """
    g, d = as_float(gamma), as_float(delta)
    ok, n, is_churn = valid_rows(duration, churned)
    gd = g + d
    # the rising factorial of delta runs to n - 1 for a churn, n for a survivor
    m = np.where(is_churn, n - 1.0, n)
    ll = np.where(is_churn, np.log(g), 0.0) + _log_rising(d, m) - _log_rising(gd, n)
    ll = np.where(ok, ll, np.nan)
    if not grad:
        return ll, ()
    s = _psi_diff(gd, n)
    dg = np.where(is_churn, 1.0 / g, 0.0) - s
    dd = _psi_diff(d, m) - s
    return ll, (np.where(ok, dg, np.nan), np.where(ok, dd, np.nan))


def loglik_grad(
    gamma: npt.ArrayLike, delta: npt.ArrayLike, duration: npt.ArrayLike, churned: npt.ArrayLike
) -> tuple[FloatArray, ...]:
    """Gradient of :func:`loglik` in ``(gamma, delta)``; see :func:`loglik_and_grad`."""
    return loglik_and_grad(gamma, delta, duration, churned)[1]


# --------------------------------------------------------------------------------------------------
# predictions given a customer's history
# --------------------------------------------------------------------------------------------------
def p_active(
    gamma: npt.ArrayLike,
    delta: npt.ArrayLike,
    periods_ahead: npt.ArrayLike,
    duration: npt.ArrayLike,
    churned: npt.ArrayLike,
) -> FloatArray:
    r"""P(still active ``m`` periods later | history): S(n + m) / S(n) for an active customer, 0 if churned.

    :math:`S(n + m) / S(n) = (\delta + n)_m / (\gamma + \delta + n)_m`: the probability of ``m`` more
    renewals for a customer who has made ``n`` (FH 2007's survivor function, conditioned on
    :math:`T > n`). ``periods_ahead = 0`` gives 1 (active now).
    """
    g, d, mm = as_float(gamma), as_float(delta), as_float(periods_ahead)
    ok, n, is_churn = valid_rows(duration, churned)
    okm = is_whole_count(mm)
    ms = np.where(okm, mm, 0.0)
    out = np.exp(_log_rising(d + n, ms) - _log_rising(g + d + n, ms))
    out = np.where(is_churn, 0.0, out)
    return np.where(ok & okm, out, np.nan)


def expected_residual_lifetime(
    gamma: npt.ArrayLike, delta: npt.ArrayLike, duration: npt.ArrayLike, churned: npt.ArrayLike
) -> FloatArray:
    r"""Expected number of future renewals (periods not yet paid) of each customer; 0 once churned.

    :math:`E[T - n - 1 \mid T > n] = \sum_{t > n} S(t) / S(n) = (\delta + n) / (\gamma - 1)` for
    :math:`\gamma > 1` and infinite for :math:`\gamma \le 1` (the mean of a beta-geometric lifetime
    exists only then): :func:`derl` at ``discount_rate = 0``. The expected remaining tenure counting the
    current (paid) period is one more.
    """
    g, d = as_float(gamma), as_float(delta)
    ok, n, is_churn = valid_rows(duration, churned)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(g > 1.0, (d + n) / np.where(g > 1.0, g - 1.0, 1.0), np.inf)
    out = np.where(is_churn, 0.0, out)
    return np.where(ok, out, np.nan)


def derl(
    gamma: npt.ArrayLike,
    delta: npt.ArrayLike,
    discount_rate: npt.ArrayLike,
    duration: npt.ArrayLike,
    churned: npt.ArrayLike,
) -> FloatArray:
    r"""Discounted expected residual lifetime (FH 2010), in periods; 0 once churned.

    .. math:: \mathrm{DERL} = \frac{\delta + n}{\gamma + \delta + n}\,
              {}_2F_1\!\left(1, \delta + n + 1; \gamma + \delta + n + 1; \tfrac{1}{1 + d}\right)

    The expected number of future renewal payments of a customer who has made ``n`` renewals, each
    discounted at ``d`` per period, the first (the coming renewal) undiscounted: FH 2010's DERL at
    "``n - 1`` renewals" with their ``n`` our ``n + 1``. Multiplied by a margin per period it is the
    residual lifetime value. ``d = 0`` gives :func:`expected_residual_lifetime`.

    Parameters
    ----------
    gamma, delta : array_like
        Positive parameters.
    discount_rate : array_like
        Discount rate per period ``d >= 0`` (e.g. 0.1 for 10% a year with yearly periods).
    duration, churned : array_like
        The customers' data (see the module notes).

    Examples
    --------
    A customer of FH 2007's "regular" cohort who has renewed 7 times, at 10% a year:

    >>> from clvlab.formulas import sbg
    >>> round(float(sbg.derl(0.704, 1.182, 0.1, 7, 0)), 3)
    6.843
    """
    g, d, dr = as_float(gamma), as_float(delta), as_float(discount_rate)
    ok, n, is_churn = valid_rows(duration, churned)
    with np.errstate(invalid="ignore"):
        okd = np.isfinite(dr) & (dr >= 0)
    drs = np.where(okd & (dr > 0), dr, 1.0)
    b = d + n
    lead = b / (g + b)
    z = 1.0 / (1.0 + drs)
    out = np.asarray(lead * hyp2f1(1.0, b + 1.0, g + b + 1.0, z), dtype=np.float64)
    # scipy's hyp2f1 gives nan for large delta + n close to z = 1 (e.g. n = 1000 at d = 3e-4): there the
    # defining series is summed instead (as for the BdW)
    fail = ~np.isfinite(out) & ok & okd & (dr > 0) & ~is_churn
    if fail.any():
        out = out.copy()
        gb, db, zb, nb = (np.broadcast_to(v, out.shape)[fail] for v in (g, d, z, n))
        out[fail] = discounted_series(_log_s, (gb, db), zb, nb, series_terms(zb))
    out = np.where(okd & (dr == 0), expected_residual_lifetime(g, d, n, 0.0), out)
    out = np.where(is_churn, 0.0, out)
    return np.where(ok & okd, out, np.nan)


def discounted_expected_lifetime(
    gamma: npt.ArrayLike, delta: npt.ArrayLike, discount_rate: npt.ArrayLike
) -> FloatArray:
    r"""Discounted expected lifetime of a customer just acquired, counting the first payment (FH 2010).

    .. math:: \mathrm{DEL} = \sum_{t=0}^{\infty} \frac{S(t)}{(1 + d)^t}
              = {}_2F_1\!\left(1, \delta; \gamma + \delta; \tfrac{1}{1 + d}\right)

    The first payment (at acquisition) counts 1, the renewal at the end of period ``t`` is discounted
    ``t`` periods. Times a margin per period it is the expected CLV of a new subscriber (FH 2010's
    E(CLV)); compare it with an acquisition cost. ``d = 0`` gives the expected lifetime
    ``(gamma + delta - 1) / (gamma - 1)`` (infinite for ``gamma <= 1``).
    """
    g, d, dr = as_float(gamma), as_float(delta), as_float(discount_rate)
    with np.errstate(invalid="ignore"):
        okd = np.isfinite(dr) & (dr >= 0)
    drs = np.where(okd & (dr > 0), dr, 1.0)
    # 2F1(1, delta; gamma + delta; z) = 1 + z DERL(n = 0): through derl, which also covers the parameters
    # where scipy's hyp2f1 fails
    out = 1.0 + derl(g, d, drs, 0.0, 0.0) / (1.0 + drs)
    with np.errstate(divide="ignore", invalid="ignore"):
        undiscounted = np.where(g > 1.0, (g + d - 1.0) / np.where(g > 1.0, g - 1.0, 1.0), np.inf)
    out = np.where(okd & (dr == 0), undiscounted, out)
    return np.where(okd, out, np.nan)


def retention_elasticity(
    gamma: npt.ArrayLike,
    delta: npt.ArrayLike,
    discount_rate: npt.ArrayLike,
    duration: npt.ArrayLike,
    churned: npt.ArrayLike,
) -> FloatArray:
    r"""Retention elasticity of residual value: % change in DERL per 1% more retention, per customer.

    If every customer's renewal probability :math:`1 - \theta` rises by a factor :math:`1 + \epsilon`,
    a customer's DERL becomes :math:`(1 + \epsilon)\,\frac{\delta + n}{\gamma + \delta + n}\,
    {}_2F_1(1, b; c; (1 + \epsilon) z)` (the series :math:`\sum_k E[(1 - \theta)^{k+1}] z^k` with
    :math:`z = 1 / (1 + d)`, :math:`b = \delta + n + 1`, :math:`c = \gamma + \delta + n + 1`), so the
    elasticity at :math:`\epsilon = 0` is

    .. math:: \eta = 1 + z \frac{b}{c} \frac{{}_2F_1(2, b + 1; c + 1; z)}{{}_2F_1(1, b; c; z)}.

    This is FH 2010's retention elasticity of residual lifetime value (their section on the value of
    a retention improvement), evaluated per customer; it needs ``discount_rate > 0``. ``nan`` for
    churned customers (they have no residual value to change).
    """
    g, d, dr = as_float(gamma), as_float(delta), as_float(discount_rate)
    ok, n, is_churn = valid_rows(duration, churned)
    with np.errstate(invalid="ignore"):
        okd = np.isfinite(dr) & (dr > 0)
    z = 1.0 / (1.0 + np.where(okd, dr, 1.0))
    b = d + n + 1.0
    c = g + d + n + 1.0
    with np.errstate(invalid="ignore"):
        out = np.asarray(1.0 + z * (b / c) * hyp2f1(2.0, b + 1.0, c + 1.0, z) / hyp2f1(1.0, b, c, z))
    valid = ok & okd & ~is_churn
    fail = ~np.isfinite(out) & valid
    if fail.any():  # scipy's hyp2f1 fails (see derl): eta = sum (k + 1) t_k / sum t_k over the series
        out = out.astype(np.float64, copy=True)
        gb, db, zb, nb = (np.broadcast_to(v, out.shape)[fail] for v in (g, d, z, n))
        terms = 2 * series_terms(zb)
        num = discounted_series(_log_s, (gb, db), zb, nb, terms, weighted=True)
        out[fail] = num / discounted_series(_log_s, (gb, db), zb, nb, terms)
    return np.where(valid, out, np.nan)


# --------------------------------------------------------------------------------------------------
# simulation
# --------------------------------------------------------------------------------------------------
def simulate(
    gamma: npt.ArrayLike, delta: npt.ArrayLike, n_periods: npt.ArrayLike, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Simulate customers observed for ``n_periods`` periods (FH 2007's story).

    Each customer draws ``theta ~ Beta(gamma, delta)`` and a cancellation period
    ``T ~ Geometric(theta)`` on 1, 2, ...; observed for ``n`` periods they have ``duration = min(T, n)``
    and ``churned = T <= n``.

    Parameters
    ----------
    gamma, delta : array_like
        Positive parameters (per customer, or scalars).
    n_periods : array_like
        Periods each customer is observed for (non-negative whole numbers).
    rng : numpy.random.Generator
        Random number generator.

    Returns
    -------
    duration, churned : numpy.ndarray
        float arrays (``churned`` holds 0.0 and 1.0), broadcast shape of the arguments.
    """
    g, d, nn = as_float(gamma), as_float(delta), as_float(n_periods)
    if not np.all(is_whole_count(nn)):
        raise ValueError("n_periods must hold non-negative whole numbers")
    shape = np.broadcast_shapes(g.shape, d.shape, nn.shape)
    theta = rng.beta(np.broadcast_to(g, shape), np.broadcast_to(d, shape))
    # theta can underflow to 0 for tiny gamma: such a customer never churns
    with np.errstate(divide="ignore"):
        lam = -np.log1p(-theta)  # P(T > t) = exp(-lam t)
        e = rng.standard_exponential(shape)
        T = np.ceil(e / lam)
    T = np.where(np.isfinite(T), np.maximum(T, 1.0), np.inf)
    n = np.broadcast_to(nn, shape)
    churned = n >= T
    return np.where(churned, T, n).astype(np.float64), churned.astype(np.float64)
