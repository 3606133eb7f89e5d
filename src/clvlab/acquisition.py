"""What a newly acquired customer is worth, against what it costs to acquire one (CLV vs CAC).

:func:`acquisition_value` values a customer *not yet acquired*: for each covariate profile (a channel, a
country, an acquisition cohort) the expected discounted value of a new customer over a horizon, from the
first purchase on, with intervals over parameter draws, CLV:CAC and the payback horizon given a cost per
profile. The targeting table's CLV:CAC (:func:`clvlab.predict_customer_value`) instead compares a cost
with the *remaining* value of customers already won.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from clvlab._types import FloatArray
from clvlab.draws import HasDraws, ModelDraws, interval_quantiles, model_draws
from clvlab.errors import DataError
from clvlab.formulas.discounting import (
    continuous_discounted_purchases,
    continuous_payback_time,
    discount_delta,
    periodic_discounted_purchases,
    periodic_payback_time,
)
from clvlab.value import check_value_args, n_periods, time_scale

__all__ = ["acquisition_value"]


def _profiles(profiles: Any, t_md: ModelDraws, s_md: ModelDraws) -> pd.DataFrame:
    if profiles is None:
        if t_md.has_covariates or s_md.has_covariates:
            raise DataError(
                "the models have covariates: pass profiles=, a DataFrame with one row per profile and the "
                "covariate columns (e.g. pd.DataFrame({'channel': ['search', 'referral']}))"
            )
        return pd.DataFrame(index=pd.Index(["population"], name="profile"))
    if not isinstance(profiles, pd.DataFrame) or len(profiles) == 0:
        raise DataError("profiles must be a non-empty pandas DataFrame, one row per customer profile")
    return profiles


def _costs(acquisition_cost: Any, profiles: pd.DataFrame) -> FloatArray | None:
    if acquisition_cost is None:
        return None
    if isinstance(acquisition_cost, str):
        if acquisition_cost not in profiles.columns:
            raise DataError(f"acquisition_cost names column {acquisition_cost!r}, which profiles lacks")
        raw = profiles[acquisition_cost]
    else:
        raw = acquisition_cost
    try:
        cost = np.broadcast_to(np.asarray(raw, dtype=np.float64), (len(profiles),)).copy()
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"acquisition_cost must be a number per profile (or a column of profiles): {exc}"
        ) from None
    if not np.all(np.isfinite(cost) & (cost >= 0)):
        raise DataError(f"acquisition costs must be finite and non-negative, got {cost.tolist()}")
    return cost


def acquisition_value(
    transaction_model: HasDraws,
    spend_model: HasDraws,
    profiles: pd.DataFrame | None = None,
    *,
    horizon: float,
    discount_rate: float = 0.0,
    discount_period: float = 1.0,
    method: str = "continuous",
    acquisition_cost: Any = None,
    interval: float | None = None,
    n_draws: int = 200,
    seed: Any = 0,
) -> pd.DataFrame:
    r"""Expected discounted value of a newly acquired customer, per covariate profile, against its cost.

    A customer acquired now makes a first purchase at t = 0 (undiscounted) and repeat purchases in
    (0, horizon] at the model's expected rate for a *new* customer, E[X(t)] (unconditional: FHL 2005
    eq. 7 for BG/NBD, Schmittlein, Morrison & Colombo 1987 for Pareto/NBD), each worth the population
    mean spend E[M] = p gamma / (q - 1) of the profile (FHL 2005 JMR, eq. 5):

    .. math::

        V = E[M] \left(1 + \int_0^H e^{-\delta t}\, dE[X(t)]\right),

    discounted as in :func:`clvlab.customer_lifetime_value` (``method``, ``discount_rate`` per
    ``discount_period``). With covariates every profile has its own parameters.

    Parameters
    ----------
    transaction_model, spend_model : fitted clvlab models
        Maximum-likelihood or Bayesian (both of one family), with or without covariates.
    profiles : pandas.DataFrame, optional
        One row per profile with the models' covariate columns (e.g. each channel). Without covariates,
        omit it: one row, ``"population"``.
    horizon : float
        In the models' time unit; ``numpy.inf`` (with a positive discount rate) for the whole lifetime.
    discount_rate, discount_period, method
        As in :func:`clvlab.customer_lifetime_value`.
    acquisition_cost : float, array-like or str, optional
        Cost of acquiring one customer of each profile (CAC): a number, one per profile, or a column of
        ``profiles``. Adds ``acquisition_cost``, ``value_to_cac`` and ``payback_horizon`` (the first time at
        which the discounted value reaches the cost; 0 when the first purchase covers it, ``inf`` when it
        is not reached by the horizon).
    interval : float, optional
        Level (e.g. 0.9) of equal-tailed bounds over parameter draws: ``n_draws`` asymptotic draws of a
        maximum-likelihood model (seeded by ``seed``), the posterior draws of a Bayesian one.

    Returns
    -------
    pandas.DataFrame
        One row per profile (the profile columns first), with ``expected_repeat_purchases``
        (undiscounted, over a finite horizon; not reported for ``numpy.inf``), ``discounted_purchases``
        (first purchase included), ``expected_spend``, ``value`` (and ``value_lower``, ``value_upper``),
        and the CAC columns.
    """
    t_md = model_draws(transaction_model, "transaction", "transaction_model")
    s_md = model_draws(spend_model, "spend", "spend_model")
    if t_md.bayesian != s_md.bayesian:
        raise TypeError(
            "combine two Bayesian models (clvlab.bayes) or two maximum-likelihood ones, not one of each"
        )
    check_value_args(t_md, horizon, discount_rate, discount_period, method)
    quantiles = interval_quantiles(interval) if interval is not None else None
    frame = _profiles(profiles, t_md, s_md)
    cost = _costs(acquisition_cost, frame)
    z_t, z_s = t_md.covariate_columns(frame), s_md.covariate_columns(frame)
    n = len(frame)
    horizon, rate, period = float(horizon), float(discount_rate), float(discount_period)
    k_t = len(t_md.mle.param_names)
    spend_fn = s_md.bind(s_md.formulas.expected_spend)
    expected_fn = t_md.bind(t_md.formulas.expected_purchases)

    def values(t_params: FloatArray, s_params: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        tp = tuple(t_params[:, [j]] for j in range(t_params.shape[1]))
        sp = tuple(s_params[:, [j]] for j in range(s_params.shape[1]))
        spend = np.broadcast_to(np.asarray(spend_fn(*sp, *z_s), dtype=np.float64), (len(s_params), n))

        def expected(t: Any) -> FloatArray:
            e = np.asarray(expected_fn(*tp, t, *z_t), dtype=np.float64)
            return np.broadcast_to(e, (len(t_params), n))

        repeat = expected(np.float64(horizon)) if np.isfinite(horizon) else np.zeros((len(t_params), n))
        discounted = 1.0 + _discounted(expected, horizon, rate, period, method, time_scale(t_md))
        return spend, discounted, repeat

    t_point, s_point = t_md.point_params(), s_md.point_params()
    spend, discounted, repeat = values(t_point, s_point)
    table = frame.copy()
    if np.isfinite(horizon):  # E[X(t)] over an unbounded horizon is not reported
        table["expected_repeat_purchases"] = repeat.mean(axis=0)
    table["discounted_purchases"] = discounted.mean(axis=0)
    table["expected_spend"] = spend.mean(axis=0)
    table["value"] = table["expected_spend"].to_numpy() * table["discounted_purchases"].to_numpy()
    if quantiles is not None:
        if t_md.bayesian:
            m = min(len(t_point), len(s_point))
            s_v, d_v, _ = values(t_point[:m], s_point[:m])
        else:
            t_draws = t_md.draws(n_draws, seed)
            s_draws = s_md.draws(n_draws, np.random.default_rng(seed).integers(2**63))
            s_v, d_v, _ = values(t_draws, s_draws)
        table["value_lower"], table["value_upper"] = np.quantile(s_v * d_v, quantiles, axis=0)
    if cost is not None:
        value = table["value"].to_numpy()
        table["acquisition_cost"] = cost
        table["value_to_cac"] = np.divide(value, cost, out=np.full(n, np.inf), where=cost > 0)
        target = cost / table["expected_spend"].to_numpy() - 1.0  # repeat purchases still to pay back

        def curve(t: Any) -> FloatArray:
            tp = tuple(t_point[:, [j]] for j in range(k_t + len(z_t)))
            e = np.asarray(expected_fn(*tp, t, *z_t), dtype=np.float64)
            return np.asarray(np.broadcast_to(e, (len(t_point), n)).mean(axis=0), dtype=np.float64)

        table["payback_horizon"] = _payback(
            curve, target, table["discounted_purchases"].to_numpy() - 1.0, horizon, rate, period, method, t_md
        )
    table.attrs.update(horizon=horizon, discount_rate=rate, discount_period=period, method=method)
    table.attrs["time_unit"] = t_md.time_unit
    return table


def _discounted(
    expected: Callable[[Any], FloatArray],
    horizon: float,
    rate: float,
    period: float,
    method: str,
    scale: float,
) -> FloatArray:
    """Discounted expected repeat purchases over (0, horizon] of a new customer."""
    if method == "periodic":
        return periodic_discounted_purchases(expected, n_periods(horizon, rate, period), period, rate)
    return continuous_discounted_purchases(expected, horizon, discount_delta(rate, period), scale)


def _payback(
    curve: Callable[[Any], FloatArray],
    target: FloatArray,
    total: FloatArray,
    horizon: float,
    rate: float,
    period: float,
    method: str,
    md: ModelDraws,
) -> FloatArray:
    """First time the discounted repeat purchases reach ``target`` (0 where the first purchase pays back)."""
    out = np.zeros(len(target))
    need = target > 0
    if not need.any():
        return out
    idx = np.flatnonzero(need)

    def sub(t: Any) -> FloatArray:
        return curve(t)[idx]

    if method == "periodic":
        out[idx] = periodic_payback_time(
            sub, target[idx], n_periods(horizon, rate, period), period, rate, total[idx]
        )
    else:
        delta = discount_delta(rate, period)
        out[idx] = continuous_payback_time(sub, target[idx], horizon, delta, time_scale(md), total[idx])
    return out
