"""BG/NBD model formulas (Fader, Hardie & Lee 2005).

The beta-geometric/negative-binomial-distribution (BG/NBD) model of Fader, Hardie & Lee (2005),
"Counting Your Customers the Easy Way: An Alternative to the Pareto/NBD Model", *Marketing Science*
24(2), 275-284 (FHL below). While alive, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``;
after each repeat purchase they drop out with probability ``p ~ Beta(a, b)``.

Every function takes the parameters ``r, alpha, a, b`` first, then the data, converts each argument with
``np.asarray(..., dtype=np.float64)`` and returns an array with the broadcast shape of all arguments, so that
parameters of shape ``(D, 1)`` (posterior draws) and data of shape ``(N,)`` (customers) give ``(D, N)``.
Data: ``x`` repeat purchases (frequency), ``t_x`` recency and ``T`` age, all in the same time unit.

Numerical notes
---------------
* Log-likelihood, P(alive) and probabilities are computed in log space (``gammaln``, ``logaddexp``,
  ``expit``, ``betainc``), following Fader & Hardie (2013), "Overcoming the BG/NBD Model's #NUM! Error
  Problem" (Hardie's note 027): no overflow for frequencies or ages of many thousands.
* The expectations (FHL eqs. 9 and 10) involve ``(a+b'-1)/(a-1) * [1 - ... 2F1(.; a+b'-1; z)]``, which is
  undefined at ``a = 1``, cancels badly near it, and has ``c = a+b-1 <= 0`` when ``a + b <= 1``. They are
  evaluated as ``E_p[(1 - (A / (A + p t))^c) / p]`` with ``p ~ Beta(a, b')``
  (:func:`clvlab.formulas._beta_geometric.inv_p_moment`): a short power series in ``t / A`` for short
  horizons, Euler's transformation of the closed form where its measured condition number is small, and
  otherwise a trapezoidal rule in ``logit(p)`` with analytic tails (accurate to ~1e-12 for any valid
  parameters, about 50x slower than the closed form).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import expit

from clvlab.formulas import _beta_geometric as _bg

# The BG/NBD-family core shared with MBG/NBD lives in _beta_geometric; the private aliases keep this
# module's text and the tests that reach these names through it (tests/formulas/test_bgnbd*.py) unchanged.
from clvlab.formulas._beta_geometric import CLOSED_GAMMA_MIN as _CLOSED_GAMMA_MIN  # noqa: F401
from clvlab.formulas._beta_geometric import CLOSED_KAPPA_MAX as _CLOSED_KAPPA_MAX  # noqa: F401
from clvlab.formulas._beta_geometric import CLOSED_U_MAX as _CLOSED_U_MAX  # noqa: F401
from clvlab.formulas._beta_geometric import SERIES_RHO_MAX as _SERIES_RHO_MAX  # noqa: F401
from clvlab.formulas._beta_geometric import inv_p_moment as _inv_p_moment
from clvlab.formulas._beta_geometric import inv_p_moment_closed as _inv_p_moment_closed  # noqa: F401
from clvlab.formulas._beta_geometric import inv_p_moment_quad as _inv_p_moment_quad  # noqa: F401
from clvlab.formulas._beta_geometric import inv_p_moment_series as _inv_p_moment_series  # noqa: F401
from clvlab.formulas._beta_geometric import log_odds_dead as _log_odds_dead
from clvlab.formulas._beta_geometric import log_pmf as _log_pmf
from clvlab.formulas._beta_geometric import loglik_and_grad as _loglik_and_grad
from clvlab.formulas._beta_geometric import loglik_parts as _loglik_parts
from clvlab.formulas._beta_geometric import moment_by_age as _moment_by_age
from clvlab.formulas._beta_geometric import scalar_params_by_x as _scalar_params_by_x  # noqa: F401
from clvlab.formulas._beta_geometric import simulate as _simulate

__all__ = [
    "conditional_expected_purchases",
    "conditional_expected_purchases_and_p_alive",
    "conditional_purchase_pmf",
    "conditional_purchase_pmf_if_alive",
    "expected_purchases",
    "expected_purchases_if_alive",
    "fit_loglik_and_grad",
    "loglik",
    "loglik_and_grad",
    "loglik_grad",
    "p_alive",
    "prepare_fit",
    "purchase_count_pmf",
    "sample_future_latent",
    "simulate",
]

Array = npt.NDArray[np.float64]

# Routing thresholds of _inv_p_moment (tested in tests/formulas/test_bgnbd.py).


def _f(v: npt.ArrayLike) -> Array:
    return np.asarray(v, dtype=np.float64)


def _out(v: npt.ArrayLike) -> Array:
    return np.asarray(v, dtype=np.float64)


# ---------------------------------------------------------------------------------------------------
# Likelihood
# ---------------------------------------------------------------------------------------------------


def loglik(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> Array:
    r"""Per-customer BG/NBD log-likelihood.

    FHL (2005) eq. (6), in the log-space form of Fader & Hardie (2013), Hardie's note 027:

    .. math::

        \ell = \ln\Gamma(r+x) - \ln\Gamma(r) + r\ln\alpha + \ln B(a, b+x) - \ln B(a, b)
               - (r+x)\ln(\alpha+T)
               + \ln\Bigl(1 + \delta_{x>0}\,\frac{a}{b+x-1}
                 \Bigl(\frac{\alpha+T}{\alpha+t_x}\Bigr)^{r+x}\Bigr).

    Summed over the CDNOW calibration sample this gives FHL's -9582.4.

    Parameters
    ----------
    r, alpha, a, b : array_like
        Model parameters (all positive).
    x, t_x, T : array_like
        Frequency (repeat purchases), recency and age, ``0 <= t_x <= T``.

    Returns
    -------
    numpy.ndarray
        Log-likelihood of each customer, with the broadcast shape of all arguments.
    """
    r_, alpha_, a_, b_, x_, t_x_, T_ = (_f(v) for v in (r, alpha, a, b, x, t_x, T))
    base, delta, _, _ = _loglik_parts(r_, alpha_, a_, b_, x_, t_x_, T_, shift=0)
    return _out(base + np.logaddexp(0.0, delta))


def loglik_and_grad(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> tuple[Array, tuple[Array, Array, Array, Array]]:
    r"""Per-customer BG/NBD log-likelihood and its gradient, sharing sub-expressions.

    The log-likelihood is FHL (2005) eq. (6) (see :func:`loglik`). With ``c = r + x`` and
    ``w = P(dropped out at t_x | data) = 1 - P(alive)`` (Hardie's note 021), the exact derivatives are

    .. math::

        \partial_r\ell &= \psi(r+x) - \psi(r) + \ln\alpha - \ln(\alpha+T)
                          + w \ln\tfrac{\alpha+T}{\alpha+t_x}, \\
        \partial_\alpha\ell &= \tfrac{r}{\alpha} - \tfrac{c}{\alpha+T}
                          - w\,c\,\tfrac{T-t_x}{(\alpha+t_x)(\alpha+T)}, \\
        \partial_a\ell &= \psi(a+b) - \psi(a+b+x) + w/a, \\
        \partial_b\ell &= \psi(b+x) - \psi(b) + \psi(a+b) - \psi(a+b+x) - w/(b+x-1).

    Parameters
    ----------
    r, alpha, a, b : array_like
        Model parameters (all positive).
    x, t_x, T : array_like
        Frequency, recency and age.

    Returns
    -------
    ll : numpy.ndarray
        Per-customer log-likelihood.
    grad : tuple of numpy.ndarray
        ``(d ll/d r, d ll/d alpha, d ll/d a, d ll/d b)``, each with the broadcast shape.
    """
    r_, alpha_, a_, b_, x_, t_x_, T_ = (_f(v) for v in (r, alpha, a, b, x, t_x, T))
    ll, (g_r, g_alpha, g_a, g_b) = _loglik_and_grad(r_, alpha_, a_, b_, x_, t_x_, T_, shift=0)
    shape = np.broadcast_shapes(*(v.shape for v in (r_, alpha_, a_, b_, x_, t_x_, T_)))

    def full(g: Array) -> Array:
        return np.array(np.broadcast_to(g, shape), dtype=np.float64)

    return _out(ll), (full(g_r), full(g_alpha), full(g_a), full(g_b))


def loglik_grad(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> tuple[Array, Array, Array, Array]:
    """Per-customer gradient of the BG/NBD log-likelihood with respect to ``(r, alpha, a, b)``.

    Exact (digamma) derivatives of FHL (2005) eq. (6); see :func:`loglik_and_grad` for the formulas.

    Parameters
    ----------
    r, alpha, a, b : array_like
        Model parameters (all positive).
    x, t_x, T : array_like
        Frequency, recency and age.

    Returns
    -------
    tuple of numpy.ndarray
        ``(d ll/d r, d ll/d alpha, d ll/d a, d ll/d b)``, each with the broadcast shape of all arguments.
    """
    return loglik_and_grad(r, alpha, a, b, x, t_x, T)[1]


# ---------------------------------------------------------------------------------------------------
# P(alive)
# ---------------------------------------------------------------------------------------------------


def p_alive(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> Array:
    r"""Probability that a customer is still alive at ``T`` given their history.

    Fader, Hardie & Lee, "Computing P(alive) Using the BG/NBD Model" (Hardie's note 021), eq. (4):

    .. math::

        P(\text{alive} \mid x, t_x, T) = \Bigl(1 + \delta_{x>0}\,\frac{a}{b+x-1}
        \Bigl(\frac{\alpha+T}{\alpha+t_x}\Bigr)^{r+x}\Bigr)^{-1},

    evaluated as ``expit(-log odds)`` so that it never overflows.

    Parameters
    ----------
    r, alpha, a, b : array_like
        Model parameters (all positive).
    x, t_x, T : array_like
        Frequency, recency and age.

    Returns
    -------
    numpy.ndarray
        P(alive), with the broadcast shape of all arguments (1 where ``x = 0``).
    """
    r_, alpha_, a_, b_, x_, t_x_, T_ = (_f(v) for v in (r, alpha, a, b, x, t_x, T))
    return _out(expit(-_log_odds_dead(r_, alpha_, a_, b_, x_, t_x_, T_, shift=0)))


# ---------------------------------------------------------------------------------------------------
# Expectations
# ---------------------------------------------------------------------------------------------------


def expected_purchases(
    r: npt.ArrayLike, alpha: npt.ArrayLike, a: npt.ArrayLike, b: npt.ArrayLike, t: npt.ArrayLike
) -> Array:
    r"""Compute the expected number of repeat purchases in ``(0, t]`` of a new customer, ``E[X(t)]``.

    FHL (2005) eq. (9):

    .. math::

        E[X(t)] = \frac{a+b-1}{a-1}\Bigl[1 - \Bigl(\frac{\alpha}{\alpha+t}\Bigr)^r
                  {}_2F_1\Bigl(r, b; a+b-1; \frac{t}{\alpha+t}\Bigr)\Bigr]
                = E_{p \sim \mathrm{Beta}(a, b)}\Bigl[\frac{1}{p}
                  \Bigl(1 - \Bigl(\frac{\alpha}{\alpha+pt}\Bigr)^r\Bigr)\Bigr],

    evaluated by :func:`_inv_p_moment`, so it is finite and accurate also for ``a + b <= 1`` and
    ``a`` at or near 1, where the closed form breaks down.

    Parameters
    ----------
    r, alpha, a, b : array_like
        Model parameters (all positive).
    t : array_like
        Length of the period (``t >= 0``).

    Returns
    -------
    numpy.ndarray
        ``E[X(t)]`` with the broadcast shape of all arguments.
    """
    r_, alpha_, a_, b_, t_ = (_f(v) for v in (r, alpha, a, b, t))
    return _out(_inv_p_moment(a_, b_, r_, alpha_, t_))


def conditional_expected_purchases(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    t: npt.ArrayLike,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> Array:
    r"""Compute the expected repeat purchases in ``(T, T+t]`` given the history, ``E[Y(t) | x, t_x, T]``.

    FHL (2005) eq. (10):

    .. math::

        E[Y(t) \mid x, t_x, T] = P(\text{alive}) \, \frac{a+b+x-1}{a-1}
        \Bigl[1 - \Bigl(\frac{\alpha+T}{\alpha+T+t}\Bigr)^{r+x}
        {}_2F_1\Bigl(r+x, b+x; a+b+x-1; \frac{t}{\alpha+T+t}\Bigr)\Bigr],

    i.e. P(alive) (note 021) times the expectation of ``(1 - ((alpha+T)/(alpha+T+pt))^(r+x)) / p``
    over ``p ~ Beta(a, b+x)``, evaluated by :func:`_inv_p_moment` (robust for ``a`` near 1, ``a+b < 1``,
    and frequencies of many thousands).

    Parameters
    ----------
    r, alpha, a, b : array_like
        Model parameters (all positive).
    t : array_like
        Length of the prediction period (``t >= 0``).
    x, t_x, T : array_like
        Frequency, recency and age.

    Returns
    -------
    numpy.ndarray
        Conditional expectation with the broadcast shape of all arguments.
    """
    r_, alpha_, a_, b_, t_, x_, t_x_, T_ = (_f(v) for v in (r, alpha, a, b, t, x, t_x, T))
    pa = expit(-_log_odds_dead(r_, alpha_, a_, b_, x_, t_x_, T_, shift=0))
    return _out(pa * _moment_by_age(a_, b_, r_, alpha_, t_, x_, T_, shift=0))


def conditional_expected_purchases_and_p_alive(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    t: npt.ArrayLike,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> tuple[Array, Array]:
    """:func:`conditional_expected_purchases` and :func:`p_alive` at once, P(alive) computed once.

    P(alive) is a factor of the conditional expectation (FHL 2005 eq. 10): scoring both for a customer
    base costs about as much as the expectation alone. Returns ``(expected, p_alive)``, each with the shape
    the function of its name returns.
    """
    r_, alpha_, a_, b_, t_, x_, t_x_, T_ = (_f(v) for v in (r, alpha, a, b, t, x, t_x, T))
    pa = expit(-_log_odds_dead(r_, alpha_, a_, b_, x_, t_x_, T_, shift=0))
    return _out(pa * _moment_by_age(a_, b_, r_, alpha_, t_, x_, T_, shift=0)), _out(pa)


def expected_purchases_if_alive(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    t: npt.ArrayLike,
    x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> Array:
    r"""Expected repeat purchases in ``(T, T+t]`` of a customer known to be alive at ``T``.

    FHL (2005) eq. (10) without its P(alive) factor:
    ``E_p[(1 - ((alpha+T)/(alpha+T+pt))^(r+x)) / p]`` for ``p ~ Beta(a, b+x)``
    (evaluated as in :func:`conditional_expected_purchases`).

    The factor of the conditional expectation that does not depend on recency:
    ``E[X(T, T+t) | x, t_x, T] = P(alive | x, t_x, T) * expected_purchases_if_alive(..., t, x, T)``,
    so that a discounted sum over many horizons (CLV) evaluates P(alive) once and this factor once per
    distinct ``(x, T)``.
    """
    r_, alpha_, a_, b_, t_, x_, T_ = (_f(v) for v in (r, alpha, a, b, t, x, T))
    return _out(_moment_by_age(a_, b_, r_, alpha_, t_, x_, T_, shift=0))


# ---------------------------------------------------------------------------------------------------
# Probabilities
# ---------------------------------------------------------------------------------------------------


def purchase_count_pmf(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    t: npt.ArrayLike,
    n: npt.ArrayLike,
) -> Array:
    r"""Probability of exactly ``n`` repeat purchases in ``(0, t]`` for a new customer, ``P(X(t) = n)``.

    FHL (2005) eq. (8):

    .. math::

        P(X(t)=n) = \frac{B(a, b+n)}{B(a, b)}
            \frac{\Gamma(r+n)}{\Gamma(r)\,n!}\Bigl(\frac{\alpha}{\alpha+t}\Bigr)^r
            \Bigl(\frac{t}{\alpha+t}\Bigr)^n
          + \delta_{n>0} \frac{B(a+1, b+n-1)}{B(a, b)}
            \Bigl[1 - \Bigl(\frac{\alpha}{\alpha+t}\Bigr)^r \sum_{j=0}^{n-1}
            \frac{\Gamma(r+j)}{\Gamma(r)\,j!}\Bigl(\frac{t}{\alpha+t}\Bigr)^j\Bigr],

    computed in log space; the bracket (a negative-binomial survival function) is the regularised
    incomplete beta function ``I_{t/(alpha+t)}(n, r)``, so there is no cancellation or overflow for
    ``n`` in the thousands.

    Parameters
    ----------
    r, alpha, a, b : array_like
        Model parameters (all positive).
    t : array_like
        Length of the period (``t >= 0``).
    n : array_like
        Number of repeat purchases (non-negative integers).

    Returns
    -------
    numpy.ndarray
        ``P(X(t) = n)`` with the broadcast shape of all arguments.
    """
    r_, alpha_, a_, b_, t_, n_ = (_f(v) for v in (r, alpha, a, b, t, n))
    return _out(np.exp(_log_pmf(r_, alpha_, a_, b_, t_, n_, shift=0)))


def conditional_purchase_pmf(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    t: npt.ArrayLike,
    n: npt.ArrayLike,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> Array:
    r"""Probability of exactly ``n`` repeat purchases in ``(T, T+t]`` given the history.

    A customer alive at ``T`` (probability :func:`p_alive`, note 021) has posterior
    ``lambda ~ Gamma(r+x, alpha+T)`` and ``p ~ Beta(a, b+x)`` and, since dropout can only follow a
    purchase, starts afresh at ``T``; a dead customer makes no purchases. Hence (the BG/NBD analogue of
    Fader & Hardie's "Deriving an expression for P(X(t, t+tau) = x)", using FHL 2005 eq. 8):

    .. math::

        P(Y(t) = n \mid x, t_x, T) = \delta_{n=0}\,(1 - P_{\text{alive}})
            + P_{\text{alive}}\; P_{\text{BG/NBD}}(X(t) = n \mid r+x, \alpha+T, a, b+x).

    Parameters
    ----------
    r, alpha, a, b : array_like
        Model parameters (all positive).
    t : array_like
        Length of the prediction period (``t >= 0``).
    n : array_like
        Number of repeat purchases in the period (non-negative integers).
    x, t_x, T : array_like
        Frequency, recency and age.

    Returns
    -------
    numpy.ndarray
        Conditional probability with the broadcast shape of all arguments.
    """
    r_, alpha_, a_, b_, t_, n_, x_, t_x_, T_ = (_f(v) for v in (r, alpha, a, b, t, n, x, t_x, T))
    lod = _log_odds_dead(r_, alpha_, a_, b_, x_, t_x_, T_, shift=0)
    log_future = _log_pmf(r_ + x_, alpha_ + T_, a_, b_ + x_, t_, n_, shift=0)
    return _out(np.exp(log_future - np.logaddexp(0.0, lod)) + np.where(n_ == 0, expit(lod), 0.0))


def conditional_purchase_pmf_if_alive(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    t: npt.ArrayLike,
    n: npt.ArrayLike,
    x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> Array:
    """P(X(T, T+t) = n | x, T, alive at T): FHL (2005) eq. (8) at ``(r+x, alpha+T, a, b+x)``.

    The factor of :func:`conditional_purchase_pmf` in ``(x, T)`` alone:
    ``P(n | x, t_x, T) = [n = 0] (1 - P(alive)) + P(alive) * conditional_purchase_pmf_if_alive(..., x, T)``.
    """
    r_, alpha_, a_, b_, t_, n_, x_, T_ = (_f(v) for v in (r, alpha, a, b, t, n, x, T))
    return _out(np.exp(_log_pmf(r_ + x_, alpha_ + T_, a_, b_ + x_, t_, n_, shift=0)))


# ---------------------------------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------------------------------


def sample_future_latent(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    rng: np.random.Generator,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> tuple[Array, Array, Array]:
    r"""One draw of each customer's latent traits from their individual posterior given ``(x, t_x, T)``.

    By Bayes' rule on the BG/NBD likelihood (FHL 2005 eqs. 3-4), the posterior of ``(lambda, p)`` is a
    two-component mixture: with probability :func:`p_alive` (note 021) the customer is alive at ``T`` and
    ``lambda ~ Gamma(r+x, alpha+T)``, ``p ~ Beta(a, b+x)``; otherwise they dropped out right after the last
    purchase (``lambda ~ Gamma(r+x, alpha+t_x)``, ``p ~ Beta(a+1, b+x-1)``) and make no further purchase,
    so only the alive component matters for the future. Since drop-out can only follow a purchase, an alive
    customer's future is a fresh BG/NBD process with those parameters
    (:func:`clvlab.formulas.future.simulate_future_value`).

    Parameters
    ----------
    r, alpha, a, b : array_like
        Model parameters (all positive).
    rng : numpy.random.Generator
        Random generator.
    x, t_x, T : array_like
        Frequency, recency and age.

    Returns
    -------
    lam, p_drop, lifetime : numpy.ndarray
        Purchase rate, drop-out probability after each purchase and remaining lifetime (``inf`` when alive,
        0 when gone), with the broadcast shape of all arguments.
    """
    r_, alpha_, a_, b_, x_, t_x_, T_ = (_f(v) for v in (r, alpha, a, b, x, t_x, T))
    return _bg.sample_alive_latent(r_, alpha_, a_, b_, x_, t_x_, T_, rng, shift=0)


def simulate(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    T: npt.ArrayLike,
    rng: np.random.Generator,
) -> tuple[Array, Array]:
    """Simulate BG/NBD customers: frequency and recency over observation periods ``(0, T]``.

    Follows the model's story (FHL 2005, section 3): for each element of the broadcast of the arguments,
    draw ``lambda ~ Gamma(r, rate alpha)`` and ``p ~ Beta(a, b)``; while alive the customer buys at Poisson
    rate ``lambda`` and after each repeat purchase drops out with probability ``p``. Vectorised without
    per-customer loops (``x = min(N, J)`` with ``N`` the Poisson count and ``J`` the geometric lifetime in
    purchases; ``t_x`` from the uniform order statistics of the purchase times).

    Parameters
    ----------
    r, alpha, a, b : array_like
        Model parameters (all positive).
    T : array_like
        Observation length of each customer.
    rng : numpy.random.Generator
        Random number generator.

    Returns
    -------
    x : numpy.ndarray
        Number of repeat purchases in ``(0, T]`` (float array of whole numbers).
    t_x : numpy.ndarray
        Time of the last repeat purchase (0 when ``x = 0``).
    """
    return _simulate(r, alpha, a, b, T, rng, shift=0)


# -- Maximum-likelihood fast path ----------------------------------------------------------------------
# The estimator prefers these when present: the same likelihood, grouped once per fit so that terms in
# x, T and t_x alone are evaluated once per distinct value (see clvlab.formulas._beta_geometric).


def prepare_fit(x: Array, t_x: Array, T: Array, weights: Array) -> _bg.FitData:
    """Group de-duplicated rows (sorted by x) for :func:`fit_loglik_and_grad`."""
    return _bg.prepare(x, t_x, T, weights, modified=False)


def fit_loglik_and_grad(r: float, alpha: float, a: float, b: float, data: _bg.FitData) -> tuple[float, Array]:
    """Weighted total log-likelihood and its gradient in (r, alpha, a, b).

    Equal to ``weights @ loglik(...)`` and the weighted sum of :func:`loglik_grad`.
    """
    return _bg.weighted_loglik_and_grad(r, alpha, a, b, data)
