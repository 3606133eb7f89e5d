"""MBG/NBD model formulas (Batislam, Denizel & Filiztekin 2007).

The modified BG/NBD model of Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison
of models for customer base analysis", *International Journal of Research in Marketing* 24(3), 201-209
(BDF below). It is the BG/NBD of Fader, Hardie & Lee (2005) (FHL) except that a customer may also drop
out immediately after the first purchase, at time 0: the number of dropout opportunities after ``x``
repeat purchases is ``x + 1``, so the ``delta_{x>0}`` indicators of the BG/NBD disappear and customers
with no repeat purchase are not certainly alive.

Same conventions as :mod:`clvlab.formulas.bgnbd`: parameters ``r, alpha, a, b`` first, then the data;
every argument is converted with ``np.asarray(..., dtype=np.float64)`` and the result has the broadcast shape.
The expectations use the same robust evaluation of ``E_p[(1 - (A/(A+pt))^c)/p]`` (series, closed form
where well conditioned, quadrature elsewhere), so they are finite and accurate for ``a`` at or near 1.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import expit

from clvlab.formulas import _beta_geometric as _bg
from clvlab.formulas._beta_geometric import inv_p_moment as _inv_p_moment
from clvlab.formulas._beta_geometric import log_odds_dead as _log_odds_dead
from clvlab.formulas._beta_geometric import log_pmf as _log_pmf
from clvlab.formulas._beta_geometric import loglik_and_grad as _loglik_and_grad
from clvlab.formulas._beta_geometric import loglik_parts as _loglik_parts
from clvlab.formulas._beta_geometric import moment_by_age as _moment_by_age
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


def _f(v: npt.ArrayLike) -> Array:
    return np.asarray(v, dtype=np.float64)


def loglik(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> Array:
    r"""Per-customer MBG/NBD log-likelihood.

    BDF (2007), Appendix A (likelihood of the modified model), in log space:

    .. math::

        L = \frac{B(a, b+x+1)}{B(a, b)} \frac{\Gamma(r+x)\,\alpha^r}{\Gamma(r)\,(\alpha+T)^{r+x}}
          + \frac{B(a+1, b+x)}{B(a, b)} \frac{\Gamma(r+x)\,\alpha^r}{\Gamma(r)\,(\alpha+t_x)^{r+x}},

    i.e. ``ln L = ln Gamma(r+x) - ln Gamma(r) + r ln alpha + ln B(a, b+x+1) - ln B(a, b)
    - (r+x) ln(alpha+T) + log1p(a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x))`` (the second term via ``logaddexp``).

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
    base, delta, _, _ = _loglik_parts(r_, alpha_, a_, b_, x_, t_x_, T_, shift=1)
    return np.asarray(base + np.logaddexp(0.0, delta), dtype=np.float64)


def loglik_and_grad(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> tuple[Array, tuple[Array, Array, Array, Array]]:
    r"""Per-customer MBG/NBD log-likelihood and its exact gradient, sharing sub-expressions.

    Derivatives of BDF (2007)'s likelihood (see :func:`loglik`). With ``c = r + x`` and
    ``w = 1 - P(alive)`` (:func:`p_alive`):

    .. math::

        \partial_r\ell &= \psi(r+x) - \psi(r) + \ln\alpha - \ln(\alpha+T)
                          + w \ln\tfrac{\alpha+T}{\alpha+t_x}, \\
        \partial_\alpha\ell &= \tfrac{r}{\alpha} - \tfrac{c}{\alpha+T}
                          - w\,c\,\tfrac{T-t_x}{(\alpha+t_x)(\alpha+T)}, \\
        \partial_a\ell &= \psi(a+b) - \psi(a+b+x+1) + w/a, \\
        \partial_b\ell &= \psi(b+x+1) - \psi(b) + \psi(a+b) - \psi(a+b+x+1) - w/(b+x).

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
    ll, (g_r, g_alpha, g_a, g_b) = _loglik_and_grad(r_, alpha_, a_, b_, x_, t_x_, T_, shift=1)
    shape = np.broadcast_shapes(*(v.shape for v in (r_, alpha_, a_, b_, x_, t_x_, T_)))

    def full(g: Array) -> Array:
        return np.array(np.broadcast_to(g, shape), dtype=np.float64)

    return np.asarray(ll, dtype=np.float64), (full(g_r), full(g_alpha), full(g_a), full(g_b))


def loglik_grad(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> tuple[Array, Array, Array, Array]:
    """Per-customer gradient of the MBG/NBD log-likelihood with respect to ``(r, alpha, a, b)``.

    Exact (digamma) derivatives of BDF (2007)'s likelihood; see :func:`loglik_and_grad`.

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

    BDF (2007), Appendix A (the MBG/NBD analogue of Hardie's note 021):

    .. math::

        P(\text{alive} \mid x, t_x, T) = \Bigl(1 + \frac{a}{b+x}
        \Bigl(\frac{\alpha+T}{\alpha+t_x}\Bigr)^{r+x}\Bigr)^{-1},

    evaluated as ``expit(-log odds)``. Unlike the BG/NBD it is below 1 also for ``x = 0``.

    Parameters
    ----------
    r, alpha, a, b : array_like
        Model parameters (all positive).
    x, t_x, T : array_like
        Frequency, recency and age.

    Returns
    -------
    numpy.ndarray
        P(alive), with the broadcast shape of all arguments.
    """
    r_, alpha_, a_, b_, x_, t_x_, T_ = (_f(v) for v in (r, alpha, a, b, x, t_x, T))
    return np.asarray(expit(-_log_odds_dead(r_, alpha_, a_, b_, x_, t_x_, T_, shift=1)), dtype=np.float64)


def expected_purchases(
    r: npt.ArrayLike, alpha: npt.ArrayLike, a: npt.ArrayLike, b: npt.ArrayLike, t: npt.ArrayLike
) -> Array:
    r"""Compute the expected number of repeat purchases in ``(0, t]`` of a new customer, ``E[X(t)]``.

    BDF (2007), Appendix A:

    .. math::

        E[X(t)] = \frac{b}{a-1}\Bigl[1 - \Bigl(\frac{\alpha}{\alpha+t}\Bigr)^r
                  {}_2F_1\Bigl(r, b+1; a+b; \frac{t}{\alpha+t}\Bigr)\Bigr]
                = \frac{b}{a+b}\,E_{p \sim \mathrm{Beta}(a, b+1)}\Bigl[\frac{1}{p}
                  \Bigl(1 - \Bigl(\frac{\alpha}{\alpha+pt}\Bigr)^r\Bigr)\Bigr]

    (the customer survives the dropout opportunity at time 0 with probability ``1 - p``, which turns the
    ``Beta(a, b)`` mixing into ``b/(a+b) Beta(a, b+1)``). Evaluated robustly (finite at ``a = 1``).

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
    return np.asarray(b_ / (a_ + b_) * _inv_p_moment(a_, b_ + 1.0, r_, alpha_, t_), dtype=np.float64)


def expected_purchases_if_alive(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    t: npt.ArrayLike,
    x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> Array:
    r"""Expected repeat purchases in ``(T, T+t]`` of an MBG/NBD customer known to be alive at ``T``.

    Batislam et al. (2007) eq. (5) without its P(alive) factor:
    ``E_p[(1 - ((alpha+T)/(alpha+T+pt))^(r+x)) / p]`` for ``p ~ Beta(a, b+x+1)``.

    The factor of the conditional expectation that does not depend on recency:
    ``E[X(T, T+t) | x, t_x, T] = P(alive | x, t_x, T) * expected_purchases_if_alive(..., t, x, T)``,
    so that a discounted sum over many horizons (CLV) evaluates P(alive) once and this factor once per
    distinct ``(x, T)``.
    """
    r_, alpha_, a_, b_, t_, x_, T_ = (_f(v) for v in (r, alpha, a, b, t, x, T))
    return np.asarray(_moment_by_age(a_, b_, r_, alpha_, t_, x_, T_, shift=1.0), dtype=np.float64)


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

    BDF (2007), Appendix A:

    .. math::

        E[Y(t) \mid x, t_x, T] = P(\text{alive})\,\frac{a+b+x}{a-1}
        \Bigl[1 - \Bigl(\frac{\alpha+T}{\alpha+T+t}\Bigr)^{r+x}
        {}_2F_1\Bigl(r+x, b+x+1; a+b+x; \frac{t}{\alpha+T+t}\Bigr)\Bigr],

    i.e. P(alive) times the expectation of ``(1 - ((alpha+T)/(alpha+T+pt))^(r+x))/p`` over the posterior
    ``p ~ Beta(a, b+x+1)`` of a customer who survived ``x + 1`` dropout opportunities; evaluated robustly.

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
    pa = expit(-_log_odds_dead(r_, alpha_, a_, b_, x_, t_x_, T_, shift=1))
    return np.asarray(pa * _moment_by_age(a_, b_, r_, alpha_, t_, x_, T_, shift=1.0), dtype=np.float64)


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
    """:func:`conditional_expected_purchases` and :func:`p_alive` at once, P(alive) computed once."""
    r_, alpha_, a_, b_, t_, x_, t_x_, T_ = (_f(v) for v in (r, alpha, a, b, t, x, t_x, T))
    pa = np.asarray(expit(-_log_odds_dead(r_, alpha_, a_, b_, x_, t_x_, T_, shift=1)), dtype=np.float64)
    expected = np.asarray(pa * _moment_by_age(a_, b_, r_, alpha_, t_, x_, T_, shift=1.0), dtype=np.float64)
    return expected, pa


def purchase_count_pmf(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    t: npt.ArrayLike,
    n: npt.ArrayLike,
) -> Array:
    r"""Probability of exactly ``n`` repeat purchases in ``(0, t]`` for a new customer, ``P(X(t) = n)``.

    BDF (2007), Appendix A (the MBG/NBD analogue of FHL eq. 8, without the ``delta_{n>0}``):

    .. math::

        P(X(t)=n) = \frac{B(a, b+n+1)}{B(a, b)}
            \frac{\Gamma(r+n)}{\Gamma(r)\,n!}\Bigl(\frac{\alpha}{\alpha+t}\Bigr)^r
            \Bigl(\frac{t}{\alpha+t}\Bigr)^n
          + \frac{B(a+1, b+n)}{B(a, b)}
            \Bigl[1 - \Bigl(\frac{\alpha}{\alpha+t}\Bigr)^r \sum_{j=0}^{n-1}
            \frac{\Gamma(r+j)}{\Gamma(r)\,j!}\Bigl(\frac{t}{\alpha+t}\Bigr)^j\Bigr],

    computed in log space with the bracket as the regularised incomplete beta ``I_{t/(alpha+t)}(n, r)``
    (1 for ``n = 0``).

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
    return np.asarray(np.exp(_log_pmf(r_, alpha_, a_, b_, t_, n_, shift=1)), dtype=np.float64)


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

    A customer alive at ``T`` (:func:`p_alive`) has posterior ``lambda ~ Gamma(r+x, alpha+T)`` and
    ``p ~ Beta(a, b+x+1)``; after ``T`` they can drop out only after a purchase, exactly as a new BG/NBD
    customer. Hence, with FHL (2005) eq. (8) for the BG/NBD probability,

    .. math::

        P(Y(t) = n \mid x, t_x, T) = \delta_{n=0}\,(1 - P_{\text{alive}})
            + P_{\text{alive}}\; P_{\text{BG/NBD}}(X(t) = n \mid r+x, \alpha+T, a, b+x+1).

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
    lod = _log_odds_dead(r_, alpha_, a_, b_, x_, t_x_, T_, shift=1)
    log_future = _log_pmf(r_ + x_, alpha_ + T_, a_, b_ + x_ + 1.0, t_, n_, shift=0)
    out = np.exp(log_future - np.logaddexp(0.0, lod)) + np.where(n_ == 0, expit(lod), 0.0)
    return np.asarray(out, dtype=np.float64)


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
    """P(X(T, T+t) = n | x, T, alive at T): the BG/NBD pmf (FHL 2005 eq. 8) at ``(r+x, alpha+T, a, b+x+1)``.

    The factor of :func:`conditional_purchase_pmf` in ``(x, T)`` alone.
    """
    r_, alpha_, a_, b_, t_, n_, x_, T_ = (_f(v) for v in (r, alpha, a, b, t, n, x, T))
    return np.asarray(
        np.exp(_log_pmf(r_ + x_, alpha_ + T_, a_, b_ + x_ + 1.0, t_, n_, shift=0)), dtype=np.float64
    )


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

    As for the BG/NBD (:func:`clvlab.formulas.bgnbd.sample_future_latent`), with drop-out possible also at
    time 0 (Batislam, Denizel & Filiztekin 2007): alive at ``T`` (probability :func:`p_alive`) after
    surviving ``x + 1`` drop-out chances, ``lambda ~ Gamma(r+x, alpha+T)`` and ``p ~ Beta(a, b+x+1)``;
    otherwise gone (no future purchases). After ``T`` an alive customer drops out only after a purchase.

    Returns
    -------
    lam, p_drop, lifetime : numpy.ndarray
        Purchase rate, drop-out probability after each purchase and remaining lifetime (``inf`` when alive,
        0 when gone), with the broadcast shape of all arguments.
    """
    r_, alpha_, a_, b_, x_, t_x_, T_ = (_f(v) for v in (r, alpha, a, b, x, t_x, T))
    return _bg.sample_alive_latent(r_, alpha_, a_, b_, x_, t_x_, T_, rng, shift=1)


def simulate(
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    T: npt.ArrayLike,
    rng: np.random.Generator,
) -> tuple[Array, Array]:
    """Simulate MBG/NBD customers: frequency and recency over observation periods ``(0, T]``.

    The model's story (BDF 2007, section 2): draw ``lambda ~ Gamma(r, rate alpha)`` and ``p ~ Beta(a, b)``;
    the customer drops out at time 0 with probability ``p``, otherwise buys at Poisson rate ``lambda`` and
    after each repeat purchase drops out with probability ``p``. Vectorised: ``x = min(N, J)`` with ``N``
    the Poisson count and ``J`` geometric on ``0, 1, ...``; ``t_x`` from uniform order statistics.

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
    return _simulate(r, alpha, a, b, T, rng, shift=1)


# -- Maximum-likelihood fast path ----------------------------------------------------------------------
# The estimator prefers these when present: the same likelihood, grouped once per fit so that terms in
# x, T and t_x alone are evaluated once per distinct value (see clvlab.formulas._beta_geometric).


def prepare_fit(x: Array, t_x: Array, T: Array, weights: Array) -> _bg.FitData:
    """Group de-duplicated rows (sorted by x) for :func:`fit_loglik_and_grad`."""
    return _bg.prepare(x, t_x, T, weights, modified=True)


def fit_loglik_and_grad(r: float, alpha: float, a: float, b: float, data: _bg.FitData) -> tuple[float, Array]:
    """Weighted total log-likelihood and its gradient in (r, alpha, a, b).

    Equal to ``weights @ loglik(...)`` and the weighted sum of :func:`loglik_grad`.
    """
    return _bg.weighted_loglik_and_grad(r, alpha, a, b, data)
