"""The marketer's view of a transaction log, and where the simple CLV formula and the model disagree.

:func:`describe_customers` computes the descriptive metrics marketing teams use (average order value,
purchase frequency, observed lifespan, repeat rate, cohort retention and churn) and the "spreadsheet" CLV

    CLV = average order value x purchase frequency x expected lifespan,   expected lifespan = 1 / churn,

per customer and overall. :func:`compare_simple_clv` sets that formula against a fitted model on a
calibration / holdout split: which customers each ranks on top, and how much of the holdout value each
ranking captures.

Orders are purchase *occasions*, as in :func:`clvlab.rfm_summary`: purchases by one customer on one
calendar day are one order (their amounts are summed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from clvlab._types import FloatArray
from clvlab.data._input import day_to_timestamp, time_unit_days
from clvlab.data.summary import calibration_holdout_split, read_occasions
from clvlab.draws import SpendPredictor, TransactionPredictor
from clvlab.errors import DataError

__all__ = [
    "PERIOD_DAYS",
    "CustomerDescription",
    "SimpleModelComparison",
    "compare_simple_clv",
    "describe_customers",
    "period_bounds",
    "period_starts",
]

IntArray = npt.NDArray[np.int64]

#: Average length of a period in days, for rates and durations (frequency, lifespan, exposure): days,
#: weeks of 7 days, months of 365.25 / 12 days, quarters of 365.25 / 4 days and years of 365.25 days.
PERIOD_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12, "Q": 365.25 / 4, "Y": 365.25}

#: Calendar step of a period for the cohort table: (days, months).
_PERIOD_STEP: dict[str, tuple[int, int]] = {"D": (1, 0), "W": (7, 0), "M": (0, 1), "Q": (0, 3), "Y": (0, 12)}


def _check_period(period: str) -> float:
    if period not in PERIOD_DAYS:
        raise DataError(
            f"period must be one of {list(PERIOD_DAYS)} (day, week, month, quarter, year); got {period!r}"
        )
    return PERIOD_DAYS[period]


def period_bounds(first_day: int, end_day: int, period: str) -> IntArray:
    """Boundaries (days since 1970-01-01) of the periods from ``first_day`` on, covering ``end_day``.

    Period i is the days ``[b[i], b[i + 1])``; ``b[0] = first_day`` and ``b[-1]`` is the first boundary
    after ``end_day``, so the last period is complete exactly when ``b[-1] == end_day + 1``. Periods step
    forward from ``first_day`` in calendar steps (1 or 7 days; 1, 3 or 12 months, each counted from
    ``first_day`` so that month ends do not drift), so when ``first_day`` is the first day of a calendar
    month, quarter or year, the periods are calendar months, quarters or years.
    """
    _check_period(period)
    first, stop = int(first_day), int(end_day) + 1
    if stop <= first:
        raise DataError("the observation end is before the first order")
    days, months = _PERIOD_STEP[period]
    if days:
        k = -(-(stop - first) // days)  # ceil: enough periods to reach end_day
        return first + days * np.arange(k + 1, dtype=np.int64)
    ts = day_to_timestamp(first)
    bounds = [first]
    k = 1
    while bounds[-1] < stop:
        bounds.append(
            int(np.datetime64((ts + pd.DateOffset(months=months * k)).date(), "D").astype(np.int64))
        )
        k += 1
    return np.array(bounds, dtype=np.int64)


def period_starts(first_day: int, end_day: int, period: str) -> IntArray:
    """First days (days since 1970-01-01) of the periods covering ``[first_day, end_day]``, ascending.

    The first period starts on ``first_day`` (the day of the log's first order, so that the first cohort
    is the data's first period, not a period partly before the data); see :func:`period_bounds`. Every
    period is complete except possibly the last, which ends at ``end_day``.
    """
    return period_bounds(first_day, end_day, period)[:-1]


@dataclass(frozen=True)
class CustomerDescription:
    """Descriptive metrics of a transaction log (see :func:`describe_customers` for the definitions).

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per customer, indexed by customer id.
    metrics : pandas.Series
        The overall metrics.
    cohorts : pandas.DataFrame
        The cohort table: customers of each acquisition cohort (rows) active j periods after acquisition
        (columns j = 0, 1, ...), over the complete periods from the first order on; NaN where period
        k + j is after the last complete period.
    retention : pandas.DataFrame
        Period-over-period retention and churn by periods since acquisition, pooled over cohorts: the
        cohorts observed, customers active the period before (``active_before``), those of them active
        again (``retained``), returning customers (active, but not the period before), all ``active``,
        ``retention_rate`` = retained / active_before and ``churn_rate`` = 1 - retention_rate, both in
        [0, 1].
    period : str
        The period of rates and cohorts (``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``).
    observation_end : pandas.Timestamp
        The last day observed.
    """

    customers: pd.DataFrame
    metrics: pd.Series
    cohorts: pd.DataFrame
    retention: pd.DataFrame
    period: str
    observation_end: pd.Timestamp

    @property
    def cohort_retention(self) -> pd.DataFrame:
        """The cohort table as shares of each cohort's size: C[k, j] / C[k, 0]."""
        return self.cohorts.div(self.cohorts[0], axis=0)

    def __repr__(self) -> str:
        head = (
            f"CustomerDescription(period={self.period!r}, observation_end="
            f"{self.observation_end.date()}, {int(self.metrics['customers']):,} customers)"
        )
        return head + "\n" + self.metrics.to_string()


def describe_customers(
    transactions: Any,
    *,
    customer_id: str = "customer_id",
    datetime: str = "date",
    monetary_value: str = "amount",
    period: str = "Q",
    observation_end: Any = None,
    drop_after_end: bool = False,
    margin: float = 1.0,
    discount_rate: float = 0.0,
    allow_returns: bool = False,
    date_format: str | None = None,
) -> CustomerDescription:
    r"""Average order value, purchase frequency, lifespan, retention, churn and the simple CLV formula.

    Parameters
    ----------
    transactions : pandas.DataFrame or polars.DataFrame
        One row per transaction; never modified.
    customer_id, datetime, monetary_value : str
        Names of the customer id, date and amount columns (dates as in :func:`clvlab.rfm_summary`).
    period : {"D", "W", "M", "Q", "Y"}
        The period of frequencies, lifespans and cohorts: day, week, month, quarter or year.
        Retention needs two complete periods from the first order, so the default is a quarter (a log
        of 18 months, like CDNOW, holds one complete year).
    observation_end : date-like, optional
        Last day observed; defaults to the last date in the log.
    drop_after_end : bool
        Transactions after ``observation_end`` raise :class:`~clvlab.DataError` unless this is True, in
        which case they are left out.
    margin : float
        Share of revenue that is profit, applied to the simple CLV (1 = revenue CLV).
    discount_rate : float
        Discount rate per period of the simple CLV (0 = undiscounted, the textbook formula).
    allow_returns : bool
        As in :func:`clvlab.rfm_summary`: negative amounts are netted against purchases (a fully returned
        occasion is no order, and a customer is active in a period only with an order left in it).
    date_format : str, optional
        strftime format of string dates (and of a string ``observation_end``), as in
        :func:`clvlab.rfm_summary`.

    Returns
    -------
    CustomerDescription
        ``customers`` (per customer), ``metrics`` (overall), ``cohorts`` (the cohort table, also as shares
        in ``cohort_retention``) and ``retention`` (retention and churn by periods since acquisition).

    Notes
    -----
    **Orders and value.** An order is a purchase occasion: one customer's purchases on one calendar
    day (summed). Per customer ``orders`` and ``revenue``; over all customers the totals.

    - *Average order value*: AOV = revenue / orders (overall: total revenue / total orders).
    - *Orders per customer*: total orders / customers.
    - *Purchase frequency* (orders per customer per period): f = orders / exposure, where the exposure
      is the time from the customer's first order to ``observation_end`` (both days included) in
      periods, at least one period (so that a customer acquired just before the end is not
      extrapolated into a high rate). Overall f = total orders / total exposure: the orders per
      customer per period of the customer base.
    - *Value per period*: AOV x f = revenue / exposure.
    - *Observed lifespan*: time from the first to the last order, in periods (``recency`` of
      :func:`clvlab.rfm_summary`); overall, its mean.
    - *Repeat rate*: share of customers with two or more orders.

    **Cohorts, retention and churn.** Time is cut into periods counted forward from the day of the log's
    first order (see :func:`period_bounds`: calendar months, quarters or years when that day starts
    one), so the first cohort is the data's first period. Cohorts and retention use the *complete*
    periods only: a trailing period cut short by ``observation_end`` is left out of both (its end is in
    ``attrs["cohort_periods_end"]``), since a customer who had only a few days of it to buy would count
    as lapsed. A customer's *cohort* k is the period of their first order; they are *active* in a period
    with at least one order in it. The cohort table C[k, j] counts the customers of cohort k active in
    period k + j (C[k, 0] is the cohort's size), for the complete periods observed.

    - *Retention rate j periods after acquisition*: r_j = retained_j / active_before_j, where, over the
      cohorts observed for j periods, active_before_j counts the customers active j - 1 periods after
      acquisition and retained_j those of them active again j periods after. It lies in [0, 1] (NaN when
      nobody was active at j - 1). Customers active at j but not at j - 1 are *returning* (lapsed
      customers who came back): they are counted in the table (``returning``, and in ``active`` =
      retained + returning) but are not retention, so that r_j is the share of last period's active
      customers who stayed active. (A ratio of active counts, sum C[k, j] / sum C[k, j - 1], is not a
      rate: returning customers push it above 1.)
    - *Retention rate* r: the same ratio pooled over all j >= 1, sum retained_j / sum active_before_j:
      the period-over-period retention rate of the cohorts, in [0, 1]. *Churn rate* = 1 - r.
    - *Expected lifespan*: L = 1 / churn periods, the mean of a geometric lifetime in which a customer
      stays each period with probability r (counting the current period). With a discount rate d per
      period it is the discounted lifespan sum_{t>=0} (r / (1 + d))^t = (1 + d) / (1 + d - r). It is
      ``inf`` when r >= 1 + d (no churn observed).

    **Simple CLV** = margin x AOV x f x L, per customer with the customer's own AOV and f and the
    overall L; overall with the overall AOV and f (the CLV of the average customer, a ratio of totals,
    so not the mean of the per-customer values). It values each customer's whole lifetime, past
    included. The formula assumes every customer keeps buying at their past rate until they churn at the
    population's rate; it cannot tell a lapsed big spender from an active one. :func:`compare_simple_clv`
    measures what that costs against a model.

    Raises
    ------
    DataError
        For the input problems of :func:`clvlab.rfm_summary`, an unknown period, and when retention
        cannot be measured because the log holds fewer than two complete periods from its first order
        to ``observation_end`` (choose a shorter period).

    Examples
    --------
    >>> import clvlab
    >>> log = clvlab.datasets.load_cdnow_transactions()
    >>> d = clvlab.describe_customers(log, period="Q", observation_end="1998-06-30")
    >>> d.metrics[["average_order_value", "retention_rate"]].round(3).tolist()
    [36.453, 0.32]
    >>> d.cohort_retention.round(2).iloc[0].tolist()  # the one CDNOW cohort, quarter by quarter
    [1.0, 0.22, 0.18, 0.17, 0.16, 0.13]
    """
    period_days = _check_period(period)
    if not (np.isfinite(margin) and margin >= 0):
        raise DataError(f"margin must be a non-negative share of revenue, got {margin!r}")
    if not (np.isfinite(discount_rate) and discount_rate >= 0):
        raise DataError(f"discount_rate must be a non-negative rate per period, got {discount_rate!r}")
    occ = read_occasions(
        transactions,
        customer_id,
        datetime,
        monetary_value,
        observation_end=observation_end,
        drop_after_end=drop_after_end,
        allow_returns=allow_returns,
        date_format=date_format,
    )
    end = occ.end
    assert occ.revenue is not None
    bounds = period_bounds(int(occ.first.min()), end, period)
    starts = bounds[:-1]
    n_periods = len(starts)
    # Cohorts and retention use complete periods only: a trailing partial period (the log ends inside
    # it) would count as lapsed every customer who simply had less time to buy.
    n_complete = int(np.sum(bounds[1:] <= end + 1))
    if n_complete < 2:
        raise DataError(
            f"retention needs two complete {period!r} periods from the first order "
            f"({day_to_timestamp(int(bounds[0])).date()}) to observation_end "
            f"({day_to_timestamp(end).date()}); choose a shorter period"
        )
    cohort = np.searchsorted(starts, occ.first, side="right") - 1

    # Active (customer, period) pairs from the purchase occasions; a pair is *retained* when the customer
    # was also active in the period before (pairs are sorted codes * n_periods + period, unique).
    codes, days = occ.occasion_customer, occ.day
    pair = np.unique(codes * n_periods + (np.searchsorted(starts, days, side="right") - 1))
    pair_code, pair_period = np.divmod(pair, n_periods)
    kept = pair_period < n_complete
    was_active = (pair_period > 0) & np.isin(pair - 1, pair, assume_unique=True)
    pair_cohort = cohort[pair_code]
    counts = np.zeros((n_complete, n_complete))
    retained_counts = np.zeros((n_complete, n_complete))
    age = pair_period - pair_cohort
    np.add.at(counts, (pair_cohort[kept], age[kept]), 1.0)
    np.add.at(retained_counts, (pair_cohort[kept & was_active], age[kept & was_active]), 1.0)
    cohorts_present = np.unique(cohort[cohort < n_complete])  # cohort 0 holds the first order
    k_idx, j_idx = np.meshgrid(np.arange(n_complete), np.arange(n_complete), indexing="ij")
    observed = k_idx + j_idx <= n_complete - 1
    # Per j >= 1: the cohorts observed j periods after acquisition, their actives at j - 1, and those of
    # them still active at j (retained); customers active at j but not at j - 1 are returning.
    ages = np.arange(1, n_complete)
    by_age = [cohorts_present[cohorts_present <= n_complete - 1 - j] for j in ages]
    n_cohorts = np.array([len(ks) for ks in by_age], dtype=np.int64)
    before = np.array([counts[ks, j - 1].sum() for ks, j in zip(by_age, ages, strict=True)])
    retained = np.array([retained_counts[ks, j].sum() for ks, j in zip(by_age, ages, strict=True)])
    active = np.array([counts[ks, j].sum() for ks, j in zip(by_age, ages, strict=True)])
    rate = np.divide(retained, before, out=np.full(len(ages), np.nan), where=before > 0)
    retention = pd.DataFrame(
        {
            "cohorts": n_cohorts,
            "active_before": before,
            "retained": retained,
            "returning": active - retained,
            "active": active,
            "retention_rate": rate,
            "churn_rate": 1.0 - rate,
        },
        index=pd.Index(ages, name="periods_since_acquisition"),
    )
    # before > 0 at j = 1 (cohort 0 is observed and not empty), so the pooled rate is defined.
    retention_rate = float(retained.sum() / before.sum())
    churn_rate = 1.0 - retention_rate
    d = float(discount_rate)
    lifespan = (1.0 + d) / (1.0 + d - retention_rate) if retention_rate < 1.0 + d else np.inf

    cohort_table = pd.DataFrame(
        np.where(observed, counts, np.nan)[cohorts_present],
        index=pd.DatetimeIndex(starts[cohorts_present].astype("datetime64[D]"), name="cohort"),
    )
    cohort_table.columns = pd.RangeIndex(cohort_table.shape[1], name="periods_since_acquisition")

    orders = occ.orders.astype(np.float64)
    revenue = occ.revenue
    exposure = np.maximum((end - occ.first + 1) / period_days, 1.0)
    value_per_period = revenue / exposure
    customers = pd.DataFrame(
        {
            "cohort": starts[cohort].astype("datetime64[D]").astype("datetime64[ns]"),
            "first_purchase": occ.first.astype("datetime64[D]").astype("datetime64[ns]"),
            "last_purchase": occ.last.astype("datetime64[D]").astype("datetime64[ns]"),
            "orders": occ.orders.astype(np.int64),
            "revenue": revenue,
            "average_order_value": revenue / orders,
            "exposure": exposure,
            "purchase_frequency": orders / exposure,
            "observed_lifespan": (occ.last - occ.first) / period_days,
            "repeat_customer": occ.orders >= 2,
            "simple_clv": _times_lifespan(margin * value_per_period, lifespan),
        },
        index=occ.ids,
    )
    n_customers = len(customers)
    total_orders, total_revenue, total_exposure = float(orders.sum()), float(revenue.sum()), exposure.sum()
    aov = total_revenue / total_orders
    frequency = total_orders / float(total_exposure)
    metrics = pd.Series(
        {
            "customers": float(n_customers),
            "orders": total_orders,
            "revenue": total_revenue,
            "average_order_value": aov,
            "orders_per_customer": total_orders / n_customers,
            "purchase_frequency": frequency,
            "value_per_period": aov * frequency,
            "repeat_rate": float(np.mean(occ.orders >= 2)),
            "observed_lifespan": float(customers["observed_lifespan"].mean()),
            "retention_rate": retention_rate,
            "churn_rate": churn_rate,
            "expected_lifespan": lifespan,
            "simple_clv": float(_times_lifespan(np.array([margin * aov * frequency]), lifespan)[0]),
        },
        name="value",
    )
    metrics.index.name = "metric"
    info = {
        "period": period,
        "margin": float(margin),
        "discount_rate": d,
        "observation_end": day_to_timestamp(end),
        "cohort_periods_end": day_to_timestamp(int(bounds[n_complete]) - 1),
    }
    for frame in (customers, cohort_table, retention):
        frame.attrs.update(info)
    metrics.attrs.update(info)
    return CustomerDescription(
        customers=customers,
        metrics=metrics,
        cohorts=cohort_table,
        retention=retention,
        period=period,
        observation_end=day_to_timestamp(end),
    )


def _times_lifespan(value: FloatArray, lifespan: float) -> FloatArray:
    """``value * lifespan`` with 0 x inf = 0 (no value lasts forever at zero)."""
    if np.isfinite(lifespan):
        return value * lifespan
    return np.where(value > 0, np.inf, np.where(value < 0, -np.inf, 0.0))


def _simple_horizon_factor(retention_rate: float, periods: float) -> float:
    """sum_{t=1}^{h} r^t for real h: r (1 - r^h) / (1 - r) (h when r = 1)."""
    r = retention_rate
    if abs(1.0 - r) < 1e-12:
        return float(periods)
    return float(r * (1.0 - r**periods) / (1.0 - r))


@dataclass(frozen=True)
class SimpleModelComparison:
    """The simple CLV formula against a fitted model on a holdout (see :func:`compare_simple_clv`).

    Attributes
    ----------
    customers : pandas.DataFrame
        Per customer: the simple formula's values, the model's, P(alive) and the actual holdout value.
    capture : pandas.DataFrame
        Share of the actual holdout value held by the top customers ranked by each.
    metrics : pandas.Series
        Totals, rank correlations and Gini coefficients.
    description : CustomerDescription
        The description of the calibration period that the simple formula uses.
    horizon : float
        Length of the holdout period in ``time_unit``.
    time_unit : str
        Time unit of the model.
    """

    customers: pd.DataFrame
    capture: pd.DataFrame
    metrics: pd.Series
    description: CustomerDescription = field(repr=False)
    horizon: float
    time_unit: str

    def __repr__(self) -> str:
        head = (
            f"SimpleModelComparison({len(self.customers):,} customers, holdout {self.horizon:g} "
            f"{self.time_unit}, simple formula per {self.description.period!r})"
        )
        return head + "\n" + self.capture.to_string() + "\n" + self.metrics.to_string()


def compare_simple_clv(
    transactions: Any,
    transaction_model: TransactionPredictor,
    spend_model: SpendPredictor,
    *,
    calibration_end: Any,
    observation_end: Any = None,
    customer_id: str = "customer_id",
    datetime: str = "date",
    monetary_value: str = "amount",
    period: str = "Q",
    time_unit: str | None = None,
    top: tuple[float, ...] = (0.05, 0.1, 0.2, 0.5),
    drop_after_end: bool = False,
    allow_returns: bool = False,
    date_format: str | None = None,
) -> SimpleModelComparison:
    """Compare the simple CLV formula with a model's CLV on a calibration / holdout split.

    Both are computed from the calibration period only (the log up to ``calibration_end``) and judged
    on what each customer actually spent in the holdout period (``calibration_end``,
    ``observation_end``].

    Parameters
    ----------
    transactions : pandas.DataFrame or polars.DataFrame
        The transaction log; never modified.
    transaction_model, spend_model
        A transaction model and a :class:`~clvlab.GammaGamma` spend model (maximum likelihood or
        :mod:`clvlab.bayes`), **fitted on the calibration summary** (``clvlab.calibration_holdout_split``
        with the same ``calibration_end``), not on the whole log.
    calibration_end, observation_end : date-like
        As in :func:`clvlab.calibration_holdout_split`.
    customer_id, datetime, monetary_value : str
        Column names, as in :func:`describe_customers`.
    period : {"D", "W", "M", "Q", "Y"}
        Period of the simple formula (see :func:`describe_customers`). Calibration periods are short, so
        the default is a quarter; the period must leave at least one cohort transition.
    time_unit : str, optional
        Time unit of the model; defaults to the one it was fitted in (``time_unit_``).
    top : tuple of float
        Shares of customers for the ``capture`` table.
    drop_after_end, allow_returns : bool
        As in :func:`clvlab.calibration_holdout_split`.
    date_format : str, optional
        strftime format of string dates, ``calibration_end`` and ``observation_end``, as in
        :func:`clvlab.rfm_summary`.

    Returns
    -------
    SimpleModelComparison
        ``customers`` indexed by customer id, with

        - ``simple_clv``: the simple formula's lifetime value, AOV x f x L (:func:`describe_customers`);
        - ``simple_holdout_value``: the simple formula's own forecast for the holdout, value per period
          x sum_{t=1}^{h} r^t = AOV x f x r (1 - r^h) / (1 - r), with h the holdout length in periods
          and r the calibration retention rate (each future period is reached with probability r^t);
        - ``model_holdout_value``: the model's expected (undiscounted) value over the holdout,
          :func:`clvlab.customer_lifetime_value` with ``horizon`` = the holdout length;
        - ``p_alive``: the model's P(alive) at the end of calibration;
        - ``holdout_value``: what the customer actually spent in the holdout;
        - ``simple_rank`` and ``model_rank``: 1 for the customer each ranks highest (ties by customer id).

        ``capture`` indexed by ``top_share``: ``customers`` (the top round(share x N)), and the share of
        the total actual holdout value held by the top customers ranked by ``simple``, by ``model`` and by
        the actual value itself (``perfect``, the most any ranking can capture). Ties share their
        block's value evenly, as in :func:`clvlab.evaluation.gains_curve`.

        ``metrics``: the number of customers, the actual, simple and model holdout totals, Spearman
        rank correlations (simple vs model, each vs actual) and the normalised Gini coefficient of each
        ranking (1 perfect, 0 random).

    Notes
    -----
    Both rank customers, so the capture table compares them on the decision a campaign makes: whom to
    target. The simple formula ranks by past value per period, so customers who spent a lot and then
    stopped stay on top; the model discounts them by P(alive).
    """
    from clvlab.evaluation import gains_curve, gini
    from clvlab.targeting import value_rank
    from clvlab.value import customer_lifetime_value

    unit = time_unit if time_unit is not None else getattr(transaction_model, "time_unit_", None)
    if unit is None:
        raise DataError(
            "the transaction model records no time unit; pass time_unit= (the unit of the summary it was "
            "fitted on)"
        )
    shares = np.asarray(top, dtype=np.float64)
    if shares.ndim != 1 or not np.all((shares > 0) & (shares <= 1)):
        raise DataError(f"top must hold shares of customers in (0, 1], got {top!r}")
    split = calibration_holdout_split(
        transactions,
        customer_id=customer_id,
        datetime=datetime,
        calibration_end=calibration_end,
        observation_end=observation_end,
        monetary_value=monetary_value,
        time_unit=unit,
        drop_after_end=drop_after_end,
        allow_returns=allow_returns,
        date_format=date_format,
    )
    desc = describe_customers(
        transactions,
        customer_id=customer_id,
        datetime=datetime,
        monetary_value=monetary_value,
        period=period,
        observation_end=calibration_end,
        drop_after_end=True,
        allow_returns=allow_returns,
        date_format=date_format,
    )
    index = split.index
    if not desc.customers.index.equals(index):  # pragma: no cover - both come from the same log reader
        raise DataError("the calibration description and the split hold different customers")
    horizon = float(split["duration_holdout"].iloc[0])
    model_value = customer_lifetime_value(transaction_model, spend_model, split, horizon=horizon)
    p_alive = transaction_model.predict_p_alive(split)
    actual = (split["frequency_holdout"] * split["monetary_value_holdout"]).to_numpy()
    r = float(desc.metrics["retention_rate"])
    periods = horizon * time_unit_days(unit) / PERIOD_DAYS[period]
    per_period = (desc.customers["revenue"] / desc.customers["exposure"]).to_numpy()
    simple = desc.customers["simple_clv"].to_numpy()
    model = np.asarray(model_value, dtype=np.float64)
    customers = pd.DataFrame(
        {
            "simple_clv": simple,
            "simple_holdout_value": per_period * _simple_horizon_factor(r, periods),
            "model_holdout_value": model,
            "p_alive": np.asarray(p_alive, dtype=np.float64),
            "holdout_value": actual,
            "simple_rank": value_rank(per_period, index),
            "model_rank": value_rank(model, index),
        },
        index=index,
    )
    n = len(index)
    counts = np.maximum(np.round(shares * n).astype(np.int64), 1)
    curves = {name: gains_curve(score, actual) for name, score in (("simple", per_period), ("model", model))}
    capture = pd.DataFrame(
        {
            "customers": counts,
            "simple": curves["simple"][1][counts],
            "model": curves["model"][1][counts],
            "perfect": curves["model"][2][counts],
        },
        index=pd.Index(shares, name="top_share"),
    )

    def spearman(a: FloatArray, b: FloatArray) -> float:
        return float(pd.Series(a).corr(pd.Series(b), method="spearman"))

    metrics = pd.Series(
        {
            "customers": float(n),
            "holdout_value": float(actual.sum()),
            "simple_holdout_value": float(customers["simple_holdout_value"].sum()),
            "model_holdout_value": float(model.sum()),
            "spearman_simple_model": spearman(per_period, model),
            "spearman_simple_actual": spearman(per_period, actual),
            "spearman_model_actual": spearman(model, actual),
            "gini_simple": gini(per_period, actual),
            "gini_model": gini(model, actual),
        },
        name="value",
    )
    metrics.index.name = "metric"
    info = {"period": period, "time_unit": unit, "horizon": horizon, "retention_rate": r}
    for obj in (customers, capture, metrics):
        obj.attrs.update(info)
    return SimpleModelComparison(
        customers=customers,
        capture=capture,
        metrics=metrics,
        description=desc,
        horizon=horizon,
        time_unit=unit,
    )
