"""Predictive intervals: bounds for a customer's own future purchases and spend, not only for their mean.

clvlab's intervals come in two kinds (``interval_kind``):

``"parameter"`` (the default)
    Bounds of the *expected* value (E[X(T, T + t) | x, t_x, T], CLV) over the uncertainty about the model's
    parameters: asymptotic normal draws of a maximum-likelihood fit, posterior draws of a
    :mod:`clvlab.bayes` model. They narrow as the customer base grows and say nothing about how much one
    customer's actual purchases scatter around their expectation.
``"predictive"``
    Bounds of the customer's *own* future number of purchases (and, for CLV, their discounted spend): the
    distribution of X(T, T + t) given the history, integrated over the same parameter draws. This is what
    an actual holdout count falls within: a 90% predictive interval covers about 90% of customers.

Purchase counts are exact, with no simulation: the conditional pmf P(X(T, T + t) = n | x, t_x, T) of the
model (BG/NBD and MBG/NBD: the alive/gone mixture of the individual posterior, FHL 2005 eq. 8 with updated
parameters; Pareto/NBD: Fader & Hardie's note 028, "Deriving the Conditional PMF of the Pareto/NBD Model";
BG/BB: alive or not at the next opportunity, then a beta-binomial count over a beta-geometric number of
living opportunities, FHS 2010) is averaged over the parameter draws, accumulated over n = 0, 1, ... and
the bounds are its quantiles.
Counts are discrete, so a bound is the smallest n whose mixture CDF reaches the quantile level, and the
interval [lower, upper] has probability *at least* the level (many customers' intervals start at 0).

Population totals (:func:`predict_total_purchases`) sum over customers who are independent given the
parameters: per parameter draw, each customer's future is simulated once from their individual posterior
(the same distribution the pmf describes), seeded by ``seed``, and summed, so the bounds include both the
customers' own randomness and the parameter uncertainty (Monte Carlo over the draws).

CLV predictive bounds (:func:`clvlab.customer_lifetime_value` with ``interval_kind="predictive"``) are
simulated, seeded by ``seed``: per draw, each customer's latent traits are drawn from their individual
posterior (the model's ``sample_future_latent``, Gamma-Gamma's ``sample_spend_rate``) and their future
purchases and spend from the model's story (:func:`clvlab.formulas.future.simulate_future_value`).

Everything goes through the draws seam (:mod:`clvlab.draws`): distinct data rows once, customers in slices
so that draws x customers stays within :data:`clvlab.draws.MEMORY_BUDGET` values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clvlab._guards import non_negative
from clvlab._types import FloatArray
from clvlab.draws import ModelDraws, chunks, interval_quantiles, model_draws
from clvlab.errors import DataError
from clvlab.formulas._contract import ConditionalPmfFormulas, FutureFormulas, SpendSamplingFormulas
from clvlab.formulas._distinct import distinct_rows
from clvlab.formulas.discounting import discount_delta
from clvlab.formulas.future import simulate_future_value

__all__ = [
    "INTERVAL_KINDS",
    "PurchaseTotal",
    "bounds_frame",
    "check_interval_kind",
    "predict_total_purchases",
    "purchase_count_bounds",
    "simulated_values",
]

#: The two kinds of interval (see the module docstring).
INTERVAL_KINDS = ("parameter", "predictive")

#: A walk over n = 0, 1, ... that has not placed every customer by this count stops with an error.
_MAX_COUNT = 1_000_000
#: Slack on the CDF when comparing with a quantile level (sums of pmf terms carry rounding error).
_CDF_SLACK = 1e-10
#: Infinite horizons are simulated up to the time the continuous discount factor falls below this.
_DISCOUNT_TAIL = 1e-12


def check_interval_kind(interval_kind: Any, interval: float | None) -> str:
    """Validate ``interval_kind`` (one of :data:`INTERVAL_KINDS`); ``"predictive"`` needs an ``interval``."""
    if interval_kind not in INTERVAL_KINDS:
        raise DataError(f"interval_kind must be 'parameter' or 'predictive', got {interval_kind!r}")
    if interval_kind == "predictive" and interval is None:
        raise DataError(
            "interval_kind='predictive' is a kind of bounds: pass interval= too (e.g. interval=0.9)"
        )
    return str(interval_kind)


def _pmf_function(md: ModelDraws) -> Callable[..., Any]:
    formulas = md.formulas
    if not isinstance(formulas, ConditionalPmfFormulas):
        raise NotImplementedError(
            f"{md.name} has no conditional P(X(T, T+t) = n), so predictive intervals are unavailable; "
            "use interval_kind='parameter'"
        )
    return md.bind(formulas.conditional_purchase_pmf)


def _distinct(
    columns: tuple[FloatArray, ...], n_draws: int
) -> tuple[tuple[FloatArray, ...], FloatArray | None, Any]:
    """Distinct data rows, how many customers each stands for, and each customer's row (or None)."""
    rows = distinct_rows(*columns, repeats=n_draws)
    if rows is None:
        return columns, None, None
    rep, inverse = rows
    counts = np.bincount(inverse, minlength=len(rep)).astype(np.float64)
    return tuple(c[rep] for c in columns), counts, inverse


def purchase_count_bounds(
    md: ModelDraws, draws: FloatArray, t: float, columns: tuple[FloatArray, ...], interval: float
) -> tuple[FloatArray, FloatArray]:
    r"""Equal-tailed predictive bounds of each customer's purchases in ``(T, T + t]``.

    The predictive pmf is the conditional pmf averaged over the parameter draws,
    :math:`\bar P(n) = \frac1D \sum_d P(X(T, T+t) = n \mid x, t_x, T, \theta_d)`; the lower bound is the
    smallest ``n`` with :math:`\sum_{k \le n} \bar P(k) \ge (1 - \text{interval})/2`, the upper the smallest
    with the sum :math:`\ge (1 + \text{interval})/2`. Exact (no simulation); the walk over ``n`` stops for
    each customer at their upper bound, on slices of distinct data rows within the memory budget.

    Returns
    -------
    lower, upper : numpy.ndarray
        Whole numbers (as floats), per customer.
    """
    q_lo, q_hi = interval_quantiles(interval)
    fn = _pmf_function(md)
    rows, _, inverse = _distinct(columns, len(draws))
    params = tuple(draws[:, [j]] for j in range(draws.shape[1]))
    n = len(rows[0])
    lower, upper = np.full(n, np.nan), np.full(n, np.nan)
    for sl in chunks(n, len(draws)):
        cols = tuple(c[sl] for c in rows)
        mixture = _factorised_pmf(md, params, t, cols)
        cdf = np.zeros(sl.stop - sl.start)
        lo, hi = lower[sl], upper[sl]  # views
        active = np.arange(len(cdf))
        k = 0
        while active.size:
            if k > _MAX_COUNT:
                raise RuntimeError(f"{md.name}: the predictive pmf did not reach its upper quantile")
            if mixture is not None:
                mix = mixture(k, active)
            else:
                pmf = np.asarray(fn(*params, t, float(k), *(c[active] for c in cols)), dtype=np.float64)
                mix = np.broadcast_to(pmf, (len(draws), active.size)).mean(axis=0)
            if not np.all(np.isfinite(mix)):
                raise RuntimeError(f"{md.name}: the conditional pmf is not finite at n = {k}")
            cdf[active] += mix
            first = np.isnan(lo[active]) & (cdf[active] >= q_lo - _CDF_SLACK)
            lo[active[first]] = k
            done = cdf[active] >= q_hi - _CDF_SLACK
            hi[active[done]] = k
            active = active[~done]
            k += 1
    if inverse is not None:
        return lower[inverse], upper[inverse]
    return lower, upper


def _factorised_pmf(
    md: ModelDraws, params: tuple[FloatArray, ...], t: float, cols: tuple[FloatArray, ...]
) -> Callable[[int, Any], FloatArray] | None:
    """The predictive pmf at ``n`` of rows ``active`` of ``cols``, through the pmf's factor in (x, T).

    ``P(n | x, t_x, T) = [n = 0] (1 - P(alive)) + P(alive) P(n | x, T, alive)`` (each model's
    ``conditional_purchase_pmf_if_alive``): P(alive) is computed once per row and draw, and the costly
    factor (Pareto/NBD: a quadrature per count) once per distinct (x, T) and draw, not per row. None for
    models with covariates (per-customer parameters), which take the plain pmf.
    """
    formulas = md.formulas
    if md.has_covariates or not isinstance(formulas, ConditionalPmfFormulas):
        return None
    x, t_x, big_t = cols
    p_alive = np.asarray(formulas.p_alive(*params, x, t_x, big_t), dtype=np.float64)
    p_alive = np.broadcast_to(p_alive, (len(params[0]), len(x)))
    dead = (1.0 - p_alive).mean(axis=0)
    keys, code = np.unique(np.column_stack([x, big_t]), axis=0, return_inverse=True)
    code = code.reshape(-1)
    if_alive = formulas.conditional_purchase_pmf_if_alive

    def mixture(k: int, active: Any) -> FloatArray:
        needed, local = np.unique(code[active], return_inverse=True)
        f = np.asarray(if_alive(*params, t, float(k), keys[needed, 0], keys[needed, 1]), dtype=np.float64)
        f = np.broadcast_to(f, (len(params[0]), len(needed)))
        mix = np.einsum("dm,dm->m", p_alive[:, active], f[:, local.reshape(-1)]) / len(params[0])
        return np.asarray(mix + (dead[active] if k == 0 else 0.0), dtype=np.float64)

    return mixture


def _total_draws(
    md: ModelDraws, draws: FloatArray, t: float, columns: tuple[FloatArray, ...], rng: np.random.Generator
) -> FloatArray:
    """One draw of the customers' total purchases in ``(T, T + t]`` per parameter draw.

    Given the parameters, customers are independent: each customer's latent traits are drawn from their
    individual posterior (``sample_future_latent``: alive or gone, purchase rate, drop-out) and their
    purchases from the model's story (:func:`clvlab.formulas.future.simulate_future_value`), an exact
    draw from the conditional distribution whose pmf :func:`purchase_count_bounds` walks.
    """
    formulas = md.formulas
    if not isinstance(formulas, FutureFormulas):
        raise NotImplementedError(
            f"{md.name} cannot simulate a customer's future, so predictive intervals are unavailable; use "
            "interval_kind='parameter', or a BetaGeo, ModifiedBetaGeo or ParetoNBD model"
        )
    latent = md.bind(formulas.sample_future_latent)
    d = len(draws)
    params = tuple(draws[:, [j]] for j in range(draws.shape[1]))
    totals = np.zeros(d)
    n = len(columns[0])
    for sl in chunks(n, d):
        m = sl.stop - sl.start
        lam, p_drop, life = (
            np.broadcast_to(np.asarray(v, dtype=np.float64), (d, m)).reshape(-1)
            for v in latent(*params, rng, *(c[sl] for c in columns))
        )
        ones, none = np.ones(d * m), np.full(d * m, np.inf)  # counts only: each purchase worth 0

        def flat(tau: FloatArray) -> FloatArray:
            return np.ones_like(tau)

        count, _ = simulate_future_value(lam, p_drop, life, ones, none, t, flat, rng)
        totals += count.reshape(d, m).sum(axis=1)
    return totals


@dataclass(frozen=True)
class PurchaseTotal:
    """The expected total purchases of a group of customers over a period, with optional bounds.

    Attributes
    ----------
    expected : float
        Sum over the customers of E[X(T, T + t) | x, t_x, T] (at the estimate, or the posterior mean).
    lower, upper : float or None
        Bounds at level :attr:`interval` of kind :attr:`interval_kind` (None without an interval).
    interval : float or None
        The level, e.g. 0.9.
    interval_kind : str
        ``"parameter"`` or ``"predictive"`` (see :mod:`clvlab.predictive`).
    t : float
        The period's length, in the data's time unit.
    n_customers : int
        Customers summed over.
    """

    expected: float
    lower: float | None
    upper: float | None
    interval: float | None
    interval_kind: str
    t: float
    n_customers: int


def predict_total_purchases(
    model: Any,
    data: Any,
    t: float,
    *,
    interval: float | None = 0.9,
    interval_kind: str = "parameter",
    n_draws: int = 1000,
    seed: Any = 0,
) -> PurchaseTotal:
    r"""Total purchases of the customers in ``data`` over ``(T, T + t]``, with an interval.

    The forecast of, e.g., a holdout period's total: :math:`\sum_i E[X_i(T, T+t) \mid x_i, t_{x,i}, T_i]`.

    Parameters
    ----------
    model : BetaGeo, ModifiedBetaGeo, ParetoNBD or BetaGeoBetaBinom, or a :mod:`clvlab.bayes` twin
        A fitted transaction model (BG/BB: ``interval_kind="parameter"`` only: its futures are not
        simulated here).
    data : pandas.DataFrame
        Customer summary (``frequency``, ``recency``, ``T``), in the model's time unit.
    t : float
        Length of the period, in the data's time unit.
    interval : float or None
        Level of the equal-tailed interval (default 0.9); None for the expected total alone.
    interval_kind : {"parameter", "predictive"}
        ``"parameter"``: quantiles of the *expected* total over parameter draws (how well the model's
        parameters are known). ``"predictive"``: quantiles of the *actual* total, the sum of each
        customer's own future purchases, independent given the parameters, integrated over the parameter
        draws (one simulated total per parameter draw, seeded by ``seed``; see :mod:`clvlab.predictive`). The
        predictive interval is what an observed holdout total should fall within.
    n_draws, seed : int, optional
        Number of asymptotic parameter draws of a maximum-likelihood model (a Bayesian model uses all its
        posterior draws) and the seed of those draws and of the predictive draws of the total.

    Returns
    -------
    PurchaseTotal
        The expected total and its bounds.

    Examples
    --------
    >>> import clvlab
    >>> log = clvlab.datasets.load_cdnow_transactions()
    >>> split = clvlab.calibration_holdout_split(log, calibration_end="1997-09-30",
    ...                                          observation_end="1998-06-30", time_unit="W")
    >>> bg = clvlab.BetaGeo().fit(split)
    >>> total = clvlab.predict_total_purchases(bg, split, t=39, interval_kind="predictive")
    >>> round(total.expected), total.lower, total.upper
    (1653, 1495.0, 1835.0)
    """
    md = model_draws(model, "transaction", "model")
    kind = check_interval_kind(interval_kind, interval)
    if interval is not None:
        quantiles = interval_quantiles(interval)
    t = float(non_negative(t, "t"))
    index, columns = md.transaction_arrays(data)
    expect = md.bind(md.formulas.conditional_expected_purchases)

    def totals(draws: FloatArray) -> FloatArray:
        rows, counts, _ = _distinct(columns, len(draws))
        n = len(rows[0])
        weights = np.ones(n) if counts is None else counts
        params = tuple(draws[:, [j]] for j in range(draws.shape[1]))
        out = np.zeros(len(draws))
        for sl in chunks(n, len(draws)):
            vals = expect(*params, t, *(c[sl] for c in rows))
            out += (
                np.broadcast_to(np.asarray(vals, dtype=np.float64), (len(draws), sl.stop - sl.start))
                @ (weights[sl])
            )
        return out

    expected = float(totals(md.point_params()).mean())
    lower = upper = None
    if interval is not None:
        draws = md.draws(n_draws, seed)
        if kind == "parameter":
            values = totals(draws)
        else:
            rng = np.random.default_rng(np.random.default_rng(seed).integers(2**63, size=3))
            values = _total_draws(md, draws, t, columns, rng)
        # predictive totals are counts: quantiles of their (discrete) empirical distribution
        lo, hi = np.quantile(values, quantiles, method="inverted_cdf" if kind == "predictive" else "linear")
        lower, upper = float(lo), float(hi)
    return PurchaseTotal(expected, lower, upper, interval, kind, t, len(index))


def simulated_values(
    t_md: ModelDraws,
    s_md: ModelDraws,
    t_draws: FloatArray,
    s_draws: FloatArray,
    columns: tuple[FloatArray, ...],
    x_m: tuple[FloatArray, ...],
    horizon: float,
    discount_rate: float,
    discount_period: float,
    method: str,
    interval: float,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """Predictive CLV bounds per customer: quantiles of simulated discounted future spend.

    Draw ``d`` pairs transaction parameters ``t_draws[d]`` with spend parameters ``s_draws[d]``; for each
    customer it draws their latent purchase rate and drop-out from their individual posterior
    (``sample_future_latent``), their spend rate (``sample_spend_rate``), and simulates their purchases in
    ``(T, T + horizon]`` and each purchase's value, discounted as ``method`` says
    (:func:`clvlab.formulas.future.simulate_future_value`). The bounds are the equal-tailed quantiles over
    the draws, one simulated future per draw (Monte Carlo: raise the number of draws for smoother bounds).
    An infinite horizon is simulated until the discount factor falls below 1e-12.
    """
    formulas, spend_formulas = t_md.formulas, s_md.formulas
    if not isinstance(formulas, FutureFormulas) or not isinstance(spend_formulas, SpendSamplingFormulas):
        raise NotImplementedError(
            f"{t_md.name} cannot simulate a customer's future, so predictive CLV intervals are unavailable; "
            "use interval_kind='parameter', or a BetaGeo, ModifiedBetaGeo or ParetoNBD model"
        )
    q = interval_quantiles(interval)
    latent = t_md.bind(formulas.sample_future_latent)
    spend = s_md.bind(spend_formulas.sample_spend_rate)
    discount, sim_horizon = _discounting(horizon, discount_rate, discount_period, method)
    n_t = len(columns)
    rows, _, inverse = _distinct(columns + x_m, len(t_draws))
    n = len(rows[0])
    d = len(t_draws)
    t_params = tuple(t_draws[:, [j]] for j in range(t_draws.shape[1]))
    s_params = tuple(s_draws[:, [j]] for j in range(s_draws.shape[1]))
    lower, upper = np.empty(n), np.empty(n)
    for sl in chunks(n, d):
        m = sl.stop - sl.start
        lam, p_drop, life = (
            np.broadcast_to(np.asarray(v, dtype=np.float64), (d, m)).reshape(-1)
            for v in latent(*t_params, rng, *(c[sl] for c in rows[:n_t]))
        )
        shape, rate = (
            np.broadcast_to(np.asarray(v, dtype=np.float64), (d, m)).reshape(-1)
            for v in spend(*s_params, rng, *(c[sl] for c in rows[n_t:]))
        )
        _, value = simulate_future_value(lam, p_drop, life, shape, rate, sim_horizon, discount, rng)
        lower[sl], upper[sl] = np.quantile(value.reshape(d, m), q, axis=0)
    if inverse is not None:
        return lower[inverse], upper[inverse]
    return lower, upper


def _discounting(
    horizon: float, discount_rate: float, discount_period: float, method: str
) -> tuple[Callable[[FloatArray], FloatArray], float]:
    """Discount factor of a purchase ``tau`` after ``T``, and the horizon to simulate."""
    if method == "periodic":
        base = np.log1p(discount_rate)
        if np.isfinite(horizon):
            sim_horizon = horizon
        else:
            sim_horizon = discount_period * np.ceil(np.log(1 / _DISCOUNT_TAIL) / base)

        def periodic(tau: FloatArray) -> FloatArray:
            return np.asarray(np.exp(-base * np.ceil(tau / discount_period)), dtype=np.float64)

        return periodic, float(sim_horizon)
    delta = discount_delta(discount_rate, discount_period)
    sim_horizon = horizon if np.isfinite(horizon) else np.log(1 / _DISCOUNT_TAIL) / delta

    def continuous(tau: FloatArray) -> FloatArray:
        return np.asarray(np.exp(-delta * tau), dtype=np.float64)

    return continuous, float(sim_horizon)


def bounds_frame(
    series: pd.Series, lower: FloatArray, upper: FloatArray, interval: float, interval_kind: str
) -> pd.DataFrame:
    """``series`` with ``<name>_lower`` / ``<name>_upper`` and the interval's level and kind in ``attrs``."""
    name = str(series.name)
    out = pd.DataFrame({name: series, f"{name}_lower": lower, f"{name}_upper": upper}, index=series.index)
    out.attrs.update(interval=float(interval), interval_kind=interval_kind)
    return out
