"""The targeting table: customers ranked, tiered and segmented by predicted value, against their cost.

:func:`predict_customer_value` values every customer (:mod:`clvlab.value`) and adds what a campaign is
aimed with: value tiers, action segments on predicted value and P(alive), and CLV against the cost of
acquiring the customer (CLV:CAC and the payback horizon). :func:`segment_summary` totals a segment.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from clvlab._guards import real_scalar
from clvlab._types import FloatArray
from clvlab.data.validation import as_pandas
from clvlab.draws import HasDraws, mean_over_draws, model_draws
from clvlab.errors import DataError, DegenerateSegmentsWarning
from clvlab.value import clv_components, payback_times

__all__ = ["ACTION_SEGMENTS", "VALUE_TIERS", "predict_customer_value", "segment_summary"]

#: Value tiers of the targeting table: (name, share of customers), from the most valuable down, on the
#: customers ranked by predicted CLV. Platinum: the top 5%; gold: the next 15% (to the top 20%); silver:
#: the next 30% (to the top half); bronze: the bottom half.
VALUE_TIERS: tuple[tuple[str, float], ...] = (
    ("platinum", 0.05),
    ("gold", 0.15),
    ("silver", 0.30),
    ("bronze", 0.50),
)

#: Action segments of the targeting table, on predicted CLV and P(alive), in display order: (name, rule,
#: the campaign it suggests). "High value" is the top ``high_value_share`` of customers by CLV rank (default
#: 20%: the platinum and gold tiers); "active" is P(alive) >= ``active_threshold`` (default 0.5).
#: "One-time buyer" takes precedence: a customer with no repeat purchase whose P(alive) the model fixes at
#: 1 (BG/NBD assumes drop-out can only follow a repeat purchase, FHL 2005 section 3, so it can never lose
#: a one-time buyer). Calling them "active" would rest on an assumption, not on evidence; models that can
#: lose one-time buyers (Pareto/NBD, MBG/NBD, BG/BB) place them by their P(alive) like everyone else.
ACTION_SEGMENTS: tuple[tuple[str, str, str], ...] = (
    ("top value active", "high value, P(alive) >= threshold", "retain and reward: loyalty programme"),
    ("high value at risk", "high value, P(alive) < threshold", "win back now: personal offer"),
    ("low value active", "not high value, P(alive) >= threshold", "grow: cross-sell and upsell"),
    (
        "one-time buyer",
        "no repeat purchase, P(alive) fixed at 1 by the model (BG/NBD)",
        "second purchase: welcome offer; judge on a holdout, the model cannot tell if they left",
    ),
    ("likely lost", "not high value, P(alive) < threshold", "low-cost reactivation, or none"),
)

#: P(alive) at or above which a one-time buyer's probability counts as fixed at 1 by the model.
_FIXED_ALIVE = 1.0 - 1e-12


def value_rank(values: FloatArray, index: pd.Index) -> npt.NDArray[np.int64]:
    """Rank 1 for the highest value; ties broken by customer id, so row order never matters."""
    id_order = np.argsort(np.argsort(index.to_numpy(), kind="stable"), kind="stable")
    order = np.lexsort((id_order, -values))
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(1, len(values) + 1)
    return rank


def value_tiers(rank: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
    """Tier names from CLV ranks (1 = most valuable) following :data:`VALUE_TIERS`."""
    n = len(rank)
    cut = np.cumsum([share for _, share in VALUE_TIERS]) * n
    names = np.array([name for name, _ in VALUE_TIERS], dtype=object)
    pos = np.searchsorted(cut, rank - 0.5)
    return names[np.minimum(pos, len(names) - 1)]


def action_segments(
    rank: npt.NDArray[np.int64],
    p_alive: FloatArray,
    high_value_share: float = 0.2,
    active_threshold: float = 0.5,
    one_time: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.object_]:
    """Action segment names of :data:`ACTION_SEGMENTS` from CLV ranks (1 = most valuable) and P(alive).

    A customer is *high value* when ``rank - 0.5 <= high_value_share * n`` (the top share, rounded half
    up, the same cut as :data:`VALUE_TIERS`) and *active* when ``p_alive >= active_threshold``; customers
    flagged in ``one_time`` are "one-time buyer" whatever their rank and P(alive).
    """
    n = len(rank)
    high = (rank - 0.5) <= high_value_share * n
    active = np.asarray(p_alive, dtype=np.float64) >= active_threshold
    names = np.array([name for name, _, _ in ACTION_SEGMENTS], dtype=object)
    # Order of ACTION_SEGMENTS: (high, active), (high, not), (low, active), one-time, (low, not).
    code = np.where(high, np.where(active, 0, 1), np.where(active, 2, 4))
    if one_time is not None:
        code = np.where(one_time, 3, code)
    return names[code]


def degenerate_segments_note(table: pd.DataFrame) -> str | None:
    """A sentence saying why the action segments carry no information about drop-out, or None.

    The segments are degenerate when every customer placed by P(alive) (one-time buyers aside) falls on
    the same side of the active threshold: then "at risk" and "likely lost" (or both "active" segments) are
    empty because of the model, not because of the customers, typically when the fit does not identify
    drop-out (an :class:`clvlab.UnidentifiedWarning` at fit time).
    """
    placed = table["action_segment"].to_numpy() != "one-time buyer"
    if not placed.any():
        return None
    p = table["p_alive"].to_numpy()[placed]
    threshold = float(table.attrs.get("active_threshold", 0.5))
    if (p >= threshold).all():
        return (
            f"all {int(placed.sum()):,} customers placed by P(alive) have P(alive) >= {threshold:g} (lowest "
            f"{p.min():.3f}): the model sees no drop-out, so no one is 'at risk' or 'likely lost'. Do not "
            "read the empty segments as good news; check drop-out on a holdout or with another model."
        )
    if (p < threshold).all():
        return (
            f"all {int(placed.sum()):,} customers placed by P(alive) have P(alive) < {threshold:g} "
            f"(highest {p.max():.3f}): no one counts as active; check the threshold and the fit."
        )
    return None


def _id(value: Any) -> Any:
    """A customer id as a plain Python value, for messages (``6``, not ``np.int64(6)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _per_customer(values: Any, data: Any, index: pd.Index, name: str) -> pd.Series:
    """A per-customer input as a Series aligned to ``index``: a column of ``data`` or a Series by id."""
    if isinstance(values, str):
        frame = as_pandas(data)
        if values not in frame.columns:
            raise DataError(
                f"{name}={values!r} names no column of the data; available: {list(frame.columns)}"
            )
        return pd.Series(frame[values].to_numpy(), index=index, name=name)
    if not isinstance(values, pd.Series):
        raise TypeError(
            f"{name} must be a column name of the data or a pandas Series indexed by customer id, got "
            f"{type(values).__name__}"
        )
    if values.index.has_duplicates:
        dup = _id(values.index[values.index.duplicated()][0])
        raise DataError(f"{name} has duplicated customer ids in its index, first {dup!r}")
    missing = ~index.isin(values.index)
    if missing.any():
        first = _id(index[np.flatnonzero(missing)[0]])
        examples = [_id(v) for v in values.index[:3]]
        raise DataError(
            f"{name} has no value for {int(missing.sum())} customer(s), first customer id {first!r} "
            f"(its index holds e.g. {examples}; index it by the summary's customer ids)"
        )
    return pd.Series(values.reindex(index).to_numpy(), index=index, name=name)


def _acquisition_costs(
    acquisition_cost: Any, channel: Any, data: Any, index: pd.Index
) -> tuple[FloatArray, pd.Series | None]:
    """Resolve ``acquisition_cost`` (and ``channel``) to one non-negative cost per customer."""
    channels = None
    if isinstance(acquisition_cost, Mapping):
        if channel is None:
            raise DataError(
                "acquisition_cost given per channel (a mapping) needs channel=: a column name of the data "
                "or a Series of each customer's acquisition channel indexed by customer id"
            )
        channels = _per_customer(channel, data, index, "channel")
        if channels.isna().any():
            first = _id(index[np.flatnonzero(channels.isna().to_numpy())[0]])
            raise DataError(f"channel is missing for customer id {first!r}")
        unknown = sorted({str(c) for c in channels.unique() if c not in acquisition_cost})
        if unknown:
            raise DataError(
                f"acquisition_cost has no cost for channel(s) {unknown}; it covers {list(acquisition_cost)}"
            )
        raw = pd.Series([acquisition_cost[c] for c in channels], index=index, dtype=object)
    elif channel is not None:
        raise DataError("channel= is used only with acquisition_cost given per channel, as a mapping")
    elif isinstance(acquisition_cost, str | pd.Series):
        raw = _per_customer(acquisition_cost, data, index, "acquisition_cost")
    elif isinstance(acquisition_cost, numbers.Real) and not isinstance(acquisition_cost, bool):
        raw = pd.Series(float(acquisition_cost), index=index)
    else:
        raise TypeError(
            "acquisition_cost must be a number, a column name, a Series indexed by customer id or a "
            f"mapping channel -> cost, got {type(acquisition_cost).__name__}"
        )
    try:
        cost = raw.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise DataError(f"acquisition costs must be numbers: {exc}") from exc
    bad = ~np.isfinite(cost) | (cost < 0)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"acquisition costs must be finite and non-negative: {int(bad.sum())} bad value(s), first "
            f"{float(cost[pos])!r} for customer id {_id(index[pos])!r}"
        )
    return cost, channels


def _check_segment_args(high_value_share: float, active_threshold: float) -> None:
    high_value_share = real_scalar(high_value_share, "high_value_share")
    active_threshold = real_scalar(active_threshold, "active_threshold")
    if not (0.0 <= high_value_share <= 1.0):
        raise DataError(
            f"high_value_share must lie in [0, 1] (a share of customers), got {high_value_share!r}"
        )
    if not (0.0 <= active_threshold <= 1.0):
        raise DataError(f"active_threshold must lie in [0, 1] (a probability), got {active_threshold!r}")


def predict_customer_value(
    transaction_model: HasDraws,
    spend_model: HasDraws,
    data: Any,
    *,
    horizon: float,
    discount_rate: float = 0.0,
    discount_period: float = 1.0,
    method: str = "continuous",
    interval: float | None = None,
    interval_kind: str = "parameter",
    n_draws: int = 200,
    seed: Any = 0,
    margin: Any = None,
    acquisition_cost: Any = None,
    channel: Any = None,
    high_value_share: float = 0.2,
    active_threshold: float = 0.5,
) -> pd.DataFrame:
    """The targeting table: one row per customer, ranked and segmented by predicted value.

    Parameters
    ----------
    transaction_model, spend_model, data, horizon, discount_rate, discount_period, method, interval, \
interval_kind, n_draws, seed
        As in :func:`clvlab.value.customer_lifetime_value` (``interval_kind="predictive"``: bounds of the
        customer's own discounted future spend, not of its expectation).
    margin : float or str, optional
        Profit margin on revenue: a rate in (0, 1] or a column of ``data`` with each customer's rate (as in
        :func:`clvlab.value.customer_lifetime_value`). With it the table values profit: the value column
        is ``clv_profit`` (= ``margin * clv_revenue``) instead of ``clv``, ranks, tiers, action segments,
        CLV:CAC (``clv_profit_to_cac``) and the payback horizon are computed on profit, and the columns
        ``margin`` and ``clv_revenue`` are added. ``attrs["value_column"]`` names the value column and
        ``attrs["value_basis"]`` says ``"profit"`` or ``"revenue"``.
    acquisition_cost : float, str, pandas.Series or mapping, optional
        The cost of acquiring each customer (CAC), in the spend's currency:

        - a number: the same cost for every customer;
        - a column name of ``data``, or a :class:`pandas.Series` indexed by customer id (it must cover
          every customer; extra ids are ignored): a cost per customer;
        - a mapping channel -> cost (``{"search": 40.0, "referral": 10.0}``) together with ``channel``: a
          cost per acquisition channel.

        Costs must be finite and non-negative. Adds the columns ``acquisition_cost``, ``clv_to_cac`` and
        ``payback_horizon`` (and ``channel``).
    channel : str or pandas.Series, optional
        Each customer's acquisition channel, a column name of ``data`` or a Series indexed by customer id;
        only with ``acquisition_cost`` given as a mapping, which must have a cost for every channel.
    high_value_share : float
        Share of customers, ranked by CLV, counted as high value in ``action_segment`` (default 0.2: the
        platinum and gold tiers).
    active_threshold : float
        P(alive) from which a customer counts as active in ``action_segment`` (default 0.5).

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id, with columns

        - ``p_alive``: probability the customer is still active at the end of observation;
        - ``expected_purchases``: expected purchases within the horizon (finite horizons only);
        - ``discounted_purchases``: discounted expected purchases within the horizon;
        - ``expected_spend``: expected mean value of a purchase (Gamma-Gamma);
        - ``clv``: ``expected_spend * discounted_purchases``; with ``interval``, ``clv_lower`` and
          ``clv_upper``;
        - ``clv_rank``: 1 for the most valuable customer (ties broken by customer id);
        - ``clv_percentile``: percentage of customers whose CLV is at most this customer's (100 = top);
        - ``segment``: the value tier of :data:`VALUE_TIERS` (platinum = top 5% by CLV, gold = next 15%,
          silver = next 30%, bronze = bottom half);
        - ``action_segment``: the action segment of :data:`ACTION_SEGMENTS`: ``"top value active"``
          (high value, P(alive) >= ``active_threshold``), ``"high value at risk"`` (high value, below the
          threshold), ``"low value active"`` and ``"likely lost"``, where high value means among the top
          ``high_value_share`` of customers by ``clv_rank``. Like the tiers, it depends only on each
          customer's own CLV rank and P(alive), so it does not change with the order of the rows;

        and, with ``acquisition_cost``,

        - ``channel`` (with a per-channel cost) and ``acquisition_cost`` (CAC);
        - ``clv_to_cac``: CLV / CAC, the ratio marketers compare with 3 (``inf`` for a zero cost);
        - ``payback_horizon``: the time, in the data's time unit, until the customer's discounted expected
          value reaches the CAC: the first t with ``expected_spend * D(t) >= acquisition_cost``, where D(t)
          is the discounted expected purchases in (T, T + t] (so ``payback_horizon == horizon`` means
          ``clv == acquisition_cost``). It is ``numpy.inf`` when the value over the whole horizon stays
          below the cost (exactly when ``clv_to_cac < 1``; for an infinite horizon, when the residual value
          does), and 0 for a zero cost; never NaN. Resolution: with ``method="continuous"`` the crossing
          is located on the CLV's own quadrature panels and then by bisection on an interpolant of E(t)
          (about 1e-8 relative, see :func:`clvlab.formulas.discounting.continuous_payback_time`); with
          ``method="periodic"`` value arrives at the end of each discount period, so the payback horizon
          is a whole number of ``discount_period``. With a Bayesian model the value curve is the
          posterior mean.

        ``attrs`` record the time unit, horizon, discount rate and period, method and the segment
        thresholds. The frame holds only numbers and strings, so ``to_csv`` / ``to_parquet`` round-trip it
        with the customer id.

    Notes
    -----
    Without ``margin`` CLV is revenue (expected spend), and CLV:CAC compares revenue with a cost; pass
    ``margin`` to compare profit with it (``clv_profit_to_cac``, profit payback horizon).

    Examples
    --------
    >>> import clvlab
    >>> log = clvlab.datasets.load_cdnow_transactions()
    >>> s = clvlab.rfm_summary(log, monetary_value="amount", observation_end="1997-09-30",
    ...                        time_unit="W", drop_after_end=True)
    >>> bg, gg = clvlab.BetaGeo().fit(s), clvlab.GammaGamma().fit(s)
    >>> table = clvlab.predict_customer_value(bg, gg, s, horizon=52, discount_rate=0.10,
    ...                                       discount_period=52, acquisition_cost=10.0)
    >>> table.loc[1, ["clv_to_cac", "payback_horizon"]].round(2).tolist(), table.loc[1, "action_segment"]
    ([3.68, 11.57], 'top value active')
    """
    _check_segment_args(high_value_share, active_threshold)
    parts = clv_components(
        transaction_model,
        spend_model,
        data,
        horizon=horizon,
        discount_rate=discount_rate,
        discount_period=discount_period,
        method=method,
        interval=interval,
        interval_kind=interval_kind,
        n_draws=n_draws,
        seed=seed,
        margin=margin,
    )
    index = parts.index
    value = "clv" if parts.margin is None else "clv_profit"
    costs = None
    if acquisition_cost is not None or channel is not None:
        costs = _acquisition_costs(acquisition_cost, channel, data, index)
    table = pd.DataFrame(index=index)
    # P(alive) and expected purchases at the point draws (the estimate, or posterior means).
    md = model_draws(transaction_model, "transaction", "transaction_model")
    _, columns = md.transaction_arrays(data)
    point = md.point_params()
    table["p_alive"] = mean_over_draws(md.bind(md.formulas.p_alive), point, columns)
    if np.isfinite(horizon):
        expected = md.bind(md.formulas.conditional_expected_purchases)
        table["expected_purchases"] = mean_over_draws(expected, point, columns, (float(horizon),))
    table["discounted_purchases"] = parts.discounted_purchases
    table["expected_spend"] = parts.expected_spend
    if parts.margin is not None:
        table["margin"] = parts.margin
        table["clv_revenue"] = parts.revenue
    table[value] = parts.clv
    if parts.lower is not None and parts.upper is not None:
        table[f"{value}_lower"], table[f"{value}_upper"] = parts.lower, parts.upper
    values = table[value].to_numpy()
    rank = value_rank(values, index)
    table["clv_rank"] = rank
    table["clv_percentile"] = table[value].rank(method="max", pct=True).to_numpy() * 100.0
    table["segment"] = value_tiers(rank)
    p_alive = table["p_alive"].to_numpy()
    frequency = _per_customer("frequency", data, index, "frequency").to_numpy(dtype=np.float64)
    one_time = (frequency == 0) & (p_alive >= _FIXED_ALIVE)
    table["action_segment"] = action_segments(rank, p_alive, high_value_share, active_threshold, one_time)
    if costs is not None:
        cost, channels = costs
        if channels is not None:
            table["channel"] = channels.to_numpy()
        table["acquisition_cost"] = cost
        table[f"{value}_to_cac"] = np.divide(values, cost, out=np.full(len(cost), np.inf), where=cost > 0)
        # discounted purchases that pay the cost back: cost / (value of one purchase, profit with a margin)
        per_purchase = parts.expected_spend if parts.margin is None else parts.margin * parts.expected_spend
        target = np.divide(cost, per_purchase, out=np.zeros(len(cost)), where=cost > 0)
        table["payback_horizon"] = payback_times(
            transaction_model,
            data,
            target,
            parts.discounted_purchases,
            horizon=float(horizon),
            discount_rate=float(discount_rate),
            discount_period=float(discount_period),
            method=method,
        )
    unit = data.attrs.get("time_unit") if isinstance(data, pd.DataFrame) else None
    table.attrs.update(
        time_unit=unit,
        horizon=float(horizon),
        discount_rate=float(discount_rate),
        discount_period=float(discount_period),
        method=method,
        high_value_share=float(high_value_share),
        active_threshold=float(active_threshold),
        value_column=value,
        value_basis="revenue" if parts.margin is None else "profit",
    )
    if interval is not None:
        table.attrs.update(interval=float(interval), interval_kind=interval_kind)
    note = degenerate_segments_note(table)
    table.attrs["segment_note"] = note
    if note is not None:
        warnings.warn(f"action segments: {note}", DegenerateSegmentsWarning, stacklevel=2)
    return table


def segment_summary(table: pd.DataFrame, by: str = "segment") -> pd.DataFrame:
    """Customers, value and value share per segment of a targeting table.

    Parameters
    ----------
    table : pandas.DataFrame
        A targeting table from :func:`predict_customer_value`, or a subscriber table from
        :func:`clvlab.predict_subscriber_value` (value ``subscriber_value``, ``churn_risk_mean`` instead of
        ``p_alive_mean``; its ``segment`` holds the subscriber segments, ``value_tier`` the tiers).
    by : str
        The column to group by: ``"segment"`` (value tiers, rows in :data:`VALUE_TIERS` order, most
        valuable first), ``"action_segment"`` (rows in :data:`ACTION_SEGMENTS` order) or any other column
        such as ``"channel"`` (rows sorted by label).

    Returns
    -------
    pandas.DataFrame
        One row per segment, also those without customers, with

        - ``customers``, ``clv_total``, ``clv_mean`` and ``p_alive_mean`` (0 for an empty segment; a
          table valued on profit, with ``margin``, gives ``clv_profit_total``, ``clv_profit_mean`` and
          ``clv_profit_to_cac`` instead of the ``clv_*`` columns);
        - ``value_share``: the segment's share of the table's total CLV;
        - ``customer_share``: the segment's share of the customers;

        and, when the table has acquisition costs,

        - ``acquisition_cost_total``;
        - ``clv_to_cac``: ``clv_total / acquisition_cost_total`` (``inf`` for a zero total cost);
        - ``paid_back_share``: share of the segment's customers with a finite ``payback_horizon`` (whose
          value over the horizon reaches their CAC).

        The last two are NaN for a segment without customers.
    """
    if by not in table.columns:
        raise DataError(f"the table has no column {by!r} to group by; available: {list(table.columns)}")
    value = next((c for c in ("clv_profit", "clv", "subscriber_value") if c in table.columns), None)
    if value is None:
        raise DataError(
            "segment_summary takes a targeting table: one from predict_customer_value (with 'clv' or "
            "'clv_profit') or from predict_subscriber_value (with 'subscriber_value'); this table has "
            f"none of them: {list(table.columns)}"
        )
    known = {
        "segment": [name for name, _ in VALUE_TIERS],
        "value_tier": [name for name, _ in VALUE_TIERS],
        "action_segment": [name for name, _, _ in ACTION_SEGMENTS],
    }
    present = table[by].unique().tolist()
    names = known.get(by)
    order: list[Any] = names if names is not None and set(present) <= set(names) else sorted(present)
    grouped = table.groupby(by, sort=False)
    columns = {
        "customers": grouped.size(),
        f"{value}_total": grouped[value].sum(),
        f"{value}_mean": grouped[value].mean(),
    }
    for rate in ("p_alive", "churn_risk"):
        if rate in table.columns:
            columns[f"{rate}_mean"] = grouped[rate].mean()
    out = pd.DataFrame(columns).reindex(order, fill_value=0.0)
    out["customers"] = out["customers"].astype(np.int64)
    total = float(out[f"{value}_total"].sum())
    out["value_share"] = out[f"{value}_total"] / total if total > 0 else 0.0
    out["customer_share"] = out["customers"] / max(int(out["customers"].sum()), 1)
    if "acquisition_cost" in table.columns:
        out["acquisition_cost_total"] = grouped["acquisition_cost"].sum().reindex(order, fill_value=0.0)
        clv_total = out[f"{value}_total"].to_numpy()
        cac_total = out["acquisition_cost_total"].to_numpy()
        ratio = np.divide(clv_total, cac_total, out=np.full(len(out), np.inf), where=cac_total > 0)
        empty = out["customers"].to_numpy() == 0
        out[f"{value}_to_cac"] = np.where(empty, np.nan, ratio)
        if "payback_horizon" in table.columns:
            paid = np.isfinite(table["payback_horizon"].to_numpy())
            paid_share = pd.Series(paid, index=table.index).groupby(table[by].to_numpy()).mean()
            out["paid_back_share"] = paid_share.reindex(order).to_numpy()
    out.index.name = by
    if by == "action_segment":
        out.attrs["segment_note"] = table.attrs.get("segment_note")
    return out
