r"""What subscribers are worth: the subscriber targeting table and the value of a new subscriber vs its CAC.

The contractual counterpart of :func:`clvlab.predict_customer_value` and :func:`clvlab.acquisition_value`,
for the sBG and BdW (maximum-likelihood or Bayesian, with or without churn covariates), through the
draws seam (:func:`clvlab.draws.model_draws`):

* :func:`predict_subscriber_value`: each subscriber's residual value, margin per period x discounted
  expected residual lifetime (DERL, Fader & Hardie 2010), with intervals; churn risk over the coming
  renewals; value rank and tiers (:func:`clvlab.targeting.value_rank`, :func:`clvlab.targeting.value_tiers`)
  and subscriber segments on value and churn risk (:data:`SUBSCRIBER_SEGMENTS`); optional CLV:CAC;
* :func:`subscriber_acquisition_value`: the value of a subscriber not yet acquired, per covariate profile,
  margin x discounted expected lifetime (first payment included), against its cost: CLV:CAC and the
  payback period.

Payment convention. A subscriber pays at the start of each period they are a subscriber: the first
payment at acquisition, renewal ``k`` (at the end of period ``k``) ``k`` periods later. A *new*
subscriber's value counts the first payment undiscounted, :math:`m \sum_{t \ge 0} S(t) / (1 + d)^t`.
An *existing* subscriber's residual value counts the future renewals only (the current period is paid):
with ``first_payment="now"`` (default) the coming renewal is undiscounted (Fader & Hardie 2010's residual
value, valued just before it), with ``"in_one_period"`` everything is one period further away (valued at
the start of the current, paid period).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from clvlab._guards import real_scalar
from clvlab._types import FloatArray
from clvlab.data.validation import as_pandas
from clvlab.draws import ModelDraws, interval_quantiles, model_draws, over_data_rows
from clvlab.errors import DataError
from clvlab.models._contractual import per_period_rate, whole_periods
from clvlab.targeting import VALUE_TIERS, value_rank, value_tiers

__all__ = ["SUBSCRIBER_SEGMENTS", "predict_subscriber_value", "subscriber_acquisition_value"]

#: Subscriber segments of :func:`predict_subscriber_value`, in display order: (name, rule, suggested
#: action). "High value" is the top ``high_value_share`` of subscribers by residual value (default 20%,
#: the platinum and gold tiers); "at risk" is a churn risk at or above ``risk_threshold``.
SUBSCRIBER_SEGMENTS: tuple[tuple[str, str, str], ...] = (
    ("top value secure", "high value, churn risk below threshold", "reward and upsell: loyalty perks"),
    ("top value at risk", "high value, churn risk >= threshold", "save now: personal retention offer"),
    ("low value secure", "not high value, churn risk below threshold", "grow: plan upgrades, add-ons"),
    ("low value at risk", "not high value, churn risk >= threshold", "low-cost save offer, or none"),
    ("churned", "cancelled (churned = True)", "win-back campaign, or none"),
)

#: Periods the payback search of :func:`subscriber_acquisition_value` looks ahead.
_PAYBACK_PERIODS = 1200


def _contractual(model: Any) -> ModelDraws:
    return model_draws(model, "contractual", "model")


def _margin(margin_per_period: Any, data: Any, n: int) -> FloatArray:
    if isinstance(margin_per_period, str):
        frame = as_pandas(data)
        if margin_per_period not in frame.columns:
            raise DataError(
                f"margin_per_period={margin_per_period!r} names no column of the data; available: "
                f"{list(frame.columns)}"
            )
        margin_per_period = frame[margin_per_period].to_numpy()
    try:
        margin = np.asarray(margin_per_period, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"margin_per_period must be a number, one per row, or a column name: {exc}") from None
    if margin.ndim and margin.shape != (n,):
        raise DataError(
            f"margin_per_period must be one number or one per row ({n}), got shape {margin.shape}"
        )
    if not np.all(np.isfinite(margin)):
        raise DataError("margin_per_period must be finite")
    return np.broadcast_to(margin, (n,)).astype(np.float64)


def _evaluate(
    md: ModelDraws,
    fn: Any,
    scalars: tuple[Any, ...],
    columns: tuple[FloatArray, ...],
    n: int,
    interval: float | None,
    n_draws: int,
    seed: Any,
) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
    """Point value (estimate, or posterior mean) and optional bounds of a bound formula, per data row.

    Each distinct (data, covariate pattern) row is evaluated once (:func:`clvlab.draws.over_data_rows`),
    so 10,000,000 monthly subscribers cost a few hundred evaluations, in bounded memory.
    """
    bound = md.bind(fn)
    if md.bayesian:
        mean, lower, upper = over_data_rows(bound, md.point_params(), columns, scalars, n, interval=interval)
        return (mean, lower, upper) if interval is not None else (mean, None, None)
    (values,) = over_data_rows(bound, md.point_params(), columns, scalars, n, keep_draws=True)
    point = values[0]
    if interval is None:
        return point, None, None
    _, lower, upper = over_data_rows(bound, md.draws(n_draws, seed), columns, scalars, n, interval=interval)
    return point, lower, upper


def _scaled(margin: FloatArray, lower: FloatArray, upper: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Bounds of ``margin x quantity`` from the quantity's bounds (a negative margin swaps them)."""
    return np.where(margin >= 0, margin * lower, margin * upper), np.where(
        margin >= 0, margin * upper, margin * lower
    )


def predict_subscriber_value(
    model: Any,
    data: Any,
    *,
    margin_per_period: Any,
    discount_rate: float,
    first_payment: str = "now",
    risk_horizon: int = 1,
    risk_threshold: float | None = None,
    high_value_share: float = 0.2,
    acquisition_cost: Any = None,
    interval: float | None = None,
    n_draws: int = 200,
    seed: Any = 0,
) -> pd.DataFrame:
    r"""The subscriber targeting table: residual value, churn risk, tiers and segments per subscriber.

    Each subscriber's residual value is ``margin_per_period x DERL`` (Fader & Hardie 2010; the
    payment convention of the module notes and ``first_payment``), their churn risk
    ``1 - P(still a subscriber risk_horizon renewals from now)`` (``S(n + h) / S(n)`` of the fitted
    model, 1 for churned subscribers). Subscribers are ranked by residual value
    (:func:`clvlab.targeting.value_rank`: rank 1 the most valuable, ties by id), tiered as the
    non-contractual table (:data:`clvlab.targeting.VALUE_TIERS`) and segmented by
    :data:`SUBSCRIBER_SEGMENTS`.

    Parameters
    ----------
    model : fitted sBG or BdW
        :class:`clvlab.ShiftedBetaGeometric` or :class:`clvlab.BetaDiscreteWeibull`, maximum likelihood or
        Bayesian (:mod:`clvlab.bayes`), with or without churn covariates (``data`` then holds the
        covariate columns).
    data : pandas.DataFrame
        Summary with ``duration`` and ``churned`` (:func:`clvlab.subscription_summary`).
    margin_per_period : float, array-like or str
        Margin a subscriber brings per period (one number, one per subscriber, or a column of ``data``).
    discount_rate : float
        Discount rate per period of the summary (e.g. ``1.1 ** (1 / 12) - 1`` a month for 10% a year).
    first_payment : {"now", "in_one_period"}
        Whether the coming renewal is undiscounted (default) or one period away.
    risk_horizon : int
        Renewals ahead over which churn risk is measured (1: the coming renewal).
    risk_threshold : float, optional
        Churn risk at or above which an active subscriber is "at risk". Default: the median churn risk of
        the active subscribers, those strictly above it "at risk" (at most the riskier half; the value
        used is in ``attrs``).
    high_value_share : float
        Share of subscribers, by rank, counted "high value" (default the top 20%).
    acquisition_cost : float, array-like or str, optional
        What each subscriber cost to acquire; adds ``acquisition_cost`` and ``value_to_cac`` (residual
        value over cost: the value still to come per unit of acquisition spend).
    interval : float, optional
        Level (e.g. 0.9) of bounds on the residual value over parameter draws (``n_draws`` asymptotic
        draws seeded by ``seed`` for a maximum-likelihood model, the posterior for a Bayesian one).

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id: ``duration``, ``churned``, ``churn_risk``, ``discounted_residual_lifetime``,
        ``subscriber_value`` (and ``_lower``, ``_upper``), ``value_rank``, ``value_tier``, ``segment`` (and
        the CAC columns); ``attrs`` hold the arguments and the time unit.

    Examples
    --------
    >>> import clvlab
    >>> data = clvlab.survivors_to_summary([1000, 631, 468, 382, 326, 289, 262, 241], period="Y")
    >>> model = clvlab.ShiftedBetaGeometric().fit(data, weights="weights")
    >>> table = clvlab.predict_subscriber_value(model, data, margin_per_period=100, discount_rate=0.1)
    >>> round(float(table["subscriber_value"].max()), 1)  # 100 x DERL after 7 renewals
    684.2
    """
    md = _contractual(model)
    index, columns = md.columns(data)
    n = len(index)
    formulas = md.formulas
    d = per_period_rate(discount_rate)
    if first_payment not in ("now", "in_one_period"):
        raise ValueError(f"first_payment must be 'now' or 'in_one_period', got {first_payment!r}")
    horizon = whole_periods(risk_horizon, "risk_horizon")
    share = float(real_scalar(high_value_share, "high_value_share"))
    if not 0.0 <= share <= 1.0:
        raise DataError(
            f"high_value_share must lie in [0, 1] (a share of subscribers), got {high_value_share!r}"
        )
    margin = _margin(margin_per_period, data, n)
    factor = 1.0 if first_payment == "now" else 1.0 / (1.0 + d)
    derl, lower, upper = _evaluate(md, formulas.derl, (d,), columns, n, interval, n_draws, seed)
    derl = factor * derl
    p_active, _, _ = _evaluate(md, formulas.p_active, (horizon,), columns, n, None, n_draws, seed)
    duration, churned = columns[0], columns[1] == 1
    churn_risk = np.where(churned, 1.0, 1.0 - p_active)
    value = margin * derl
    table = pd.DataFrame(
        {
            "duration": duration.astype(np.int64),
            "churned": churned,
            "churn_risk": churn_risk,
            "discounted_residual_lifetime": derl,
            "subscriber_value": value,
        },
        index=index,
    )
    if lower is not None and upper is not None:
        table["subscriber_value_lower"], table["subscriber_value_upper"] = _scaled(
            margin, factor * lower, factor * upper
        )
    rank = value_rank(value, index)
    table["value_rank"] = rank
    table["value_tier"] = pd.Categorical(value_tiers(rank), categories=[t for t, _ in VALUE_TIERS])
    if risk_threshold is None:
        threshold = float(np.median(churn_risk[~churned])) if (~churned).any() else 0.5
    else:
        threshold = float(real_scalar(risk_threshold, "risk_threshold"))
        if not 0.0 <= threshold <= 1.0:
            raise DataError(f"risk_threshold must lie in [0, 1] (a probability), got {risk_threshold!r}")
    high = (rank - 0.5) <= share * n
    # The default (the median) marks those above it: with ties at the median, ">=" would call most
    # subscribers, or all when most share the lowest risk, "at risk".
    at_risk = churn_risk > threshold if risk_threshold is None else churn_risk >= threshold
    code = np.where(churned, 4, np.where(high, np.where(at_risk, 1, 0), np.where(at_risk, 3, 2)))
    names = [name for name, _, _ in SUBSCRIBER_SEGMENTS]
    table["segment"] = pd.Categorical.from_codes(code, categories=pd.Index(names))
    if acquisition_cost is not None:
        cost = _margin(acquisition_cost, data, n)
        if np.any(cost < 0):
            raise DataError("acquisition costs must be non-negative")
        table["acquisition_cost"] = cost
        table["value_to_cac"] = np.divide(value, cost, out=np.full(n, np.inf), where=cost > 0)
    table.attrs.update(
        discount_rate=d,
        first_payment=first_payment,
        risk_horizon=int(horizon),
        risk_threshold=threshold,
        high_value_share=share,
        time_unit=md.time_unit,
    )
    return table


def subscriber_acquisition_value(
    model: Any,
    profiles: pd.DataFrame | None = None,
    *,
    margin_per_period: Any,
    discount_rate: float,
    acquisition_cost: Any = None,
    interval: float | None = None,
    n_draws: int = 200,
    seed: Any = 0,
) -> pd.DataFrame:
    r"""Expected value of a newly acquired subscriber per covariate profile, against its acquisition cost.

    .. math:: V = m \sum_{t=0}^{\infty} \frac{S(t)}{(1 + d)^t}

    (Fader & Hardie 2010's expected CLV of a new customer: the first payment at acquisition
    undiscounted, renewal ``t`` discounted ``t`` periods), with each profile's own parameters when the
    model has churn covariates.

    Parameters
    ----------
    model : fitted sBG or BdW
        Maximum-likelihood or Bayesian, with or without churn covariates.
    profiles : pandas.DataFrame, optional
        One row per profile with the covariate columns (e.g. each plan and channel); omit it for a model
        without covariates (one row, ``"population"``).
    margin_per_period : float, array-like or str
        Margin per period of each profile (a number, one per profile, or a column of ``profiles``).
    discount_rate : float
        Per period of the model's data.
    acquisition_cost : float, array-like or str, optional
        Cost of acquiring one subscriber of each profile (CAC). Adds ``acquisition_cost``,
        ``value_to_cac`` and ``payback_periods``: the number of payments after which the expected
        discounted margin first covers the cost (1: the first payment does; ``inf`` if not within
        1,200 periods or never).
    interval, n_draws, seed
        Bounds on ``value`` over parameter draws, as in :func:`predict_subscriber_value`.

    Returns
    -------
    pandas.DataFrame
        One row per profile (its columns first): ``expected_lifetime`` (undiscounted expected number of
        payments, ``inf`` where the model's mean lifetime is infinite), ``discounted_expected_lifetime``,
        ``margin_per_period``, ``value`` (and bounds) and the CAC columns.
    """
    md = _contractual(model)
    if profiles is None:
        if md.has_covariates:
            raise DataError(
                "the model has churn covariates: pass profiles=, a DataFrame with one row per profile and "
                "the covariate columns (e.g. pd.DataFrame({'plan': ['monthly', 'annual']}))"
            )
        profiles = pd.DataFrame(index=pd.Index(["population"], name="profile"))
    if not isinstance(profiles, pd.DataFrame) or len(profiles) == 0:
        raise DataError("profiles must be a non-empty pandas DataFrame, one row per subscriber profile")
    n = len(profiles)
    d = per_period_rate(discount_rate)
    quantiles = interval_quantiles(interval) if interval is not None else None
    margin = _margin(margin_per_period, profiles, n)
    z = md.covariate_columns(profiles)
    formulas = md.formulas
    del_fn = md.bind(formulas.discounted_expected_lifetime)
    erl_fn = md.bind(formulas.expected_residual_lifetime)

    def per_profile(fn: Any, params: FloatArray, *scalars: Any) -> FloatArray:
        cols = tuple(params[:, [j]] for j in range(params.shape[1]))
        out = np.asarray(fn(*cols, *scalars, *z), dtype=np.float64)
        return np.broadcast_to(out, (len(params), n))

    point = md.point_params()
    dels = per_profile(del_fn, point, d)
    zero = np.zeros(n)
    # expected lifetime in payments = 1 + expected future renewals of a subscriber with 0 renewals
    erl = 1.0 + per_profile(erl_fn, point, zero, zero)
    table = profiles.copy()
    table["expected_lifetime"] = erl.mean(axis=0)
    table["discounted_expected_lifetime"] = dels.mean(axis=0)
    table["margin_per_period"] = margin
    table["value"] = margin * table["discounted_expected_lifetime"].to_numpy()
    if quantiles is not None:
        draws = point if md.bayesian else md.draws(n_draws, seed)
        lo, hi = np.quantile(per_profile(del_fn, draws, d), quantiles, axis=0)
        table["value_lower"], table["value_upper"] = _scaled(margin, lo, hi)
    if acquisition_cost is not None:
        cost = _margin(acquisition_cost, profiles, n)
        if np.any(cost < 0):
            raise DataError("acquisition costs must be non-negative")
        value = table["value"].to_numpy()
        table["acquisition_cost"] = cost
        table["value_to_cac"] = np.divide(value, cost, out=np.full(n, np.inf), where=cost > 0)
        table["payback_periods"] = _payback(md, point, z, margin, cost, d)
    table.attrs.update(discount_rate=d, time_unit=md.time_unit)
    return table


def _payback(
    md: ModelDraws,
    point: FloatArray,
    z: tuple[FloatArray, ...],
    margin: FloatArray,
    cost: FloatArray,
    d: float,
) -> FloatArray:
    """Payments until ``margin x sum_{t < k} S(t) / (1 + d)^t`` first reaches ``cost`` (``inf`` if never)."""
    t = np.arange(_PAYBACK_PERIODS, dtype=np.float64)
    surv_fn = md.bind(md.formulas.survival)
    curve = np.zeros((_PAYBACK_PERIODS, len(cost)))
    for start in range(0, len(point), 64):  # posterior draws in blocks: draws x periods x profiles
        part = point[start : start + 64]
        cols = tuple(part[:, [j]][:, :, None] for j in range(part.shape[1]))
        s = np.asarray(surv_fn(*cols, t[None, :, None], *z), dtype=np.float64)
        curve += np.broadcast_to(s, (len(part), _PAYBACK_PERIODS, len(cost))).sum(axis=0)
    curve /= len(point)
    cumulative = np.cumsum(curve * (1.0 + d) ** -t[:, None], axis=0) * margin[None, :]
    reached = cumulative >= cost[None, :]
    return np.where(reached.any(axis=0), reached.argmax(axis=0) + 1.0, np.inf)
