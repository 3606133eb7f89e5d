"""Subscription logs and survivor counts to the per-customer summary of the contractual models.

The summary of a contractual (subscription) business has one row per customer with

* ``duration``: whole contract periods the customer was a subscriber. A customer lost at Fader &
  Hardie's (2007) period ``t`` (paid ``t`` periods, did not renew at the end of the ``t``-th) has
  ``duration = t``; a customer still active after ``n`` renewals has ``duration = n``;
* ``churned``: True when the customer was lost at ``duration``, False when still active after it;
* ``cohort``: the period (pandas ``Period``) in which the subscription started.

The period travels in ``df.attrs["time_unit"]`` (``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``), and
:class:`~clvlab.ShiftedBetaGeometric` and :class:`~clvlab.BetaDiscreteWeibull` read ``duration`` and
``churned``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from clvlab.data._input import customer_ids, day_to_timestamp, select_columns, to_day, to_days
from clvlab.errors import DataError

__all__ = ["PERIODS", "subscription_summary", "survivors_to_summary"]

#: Contract periods: days, weeks (7 days), calendar months, quarters (3 calendar months) and years.
PERIODS: dict[str, str] = {
    "D": "days",
    "W": "weeks of 7 days",
    "M": "calendar months",
    "Q": "quarters of 3 calendar months",
    "Y": "calendar years",
}
_FIXED_DAYS = {"D": 1, "W": 7}
_MONTHS = {"M": 1, "Q": 3, "Y": 12}
_MULTIPLE = ("refuse", "first")

IntArray = npt.NDArray[np.int64]


def _check_period(period: Any) -> str:
    if not isinstance(period, str) or period not in PERIODS:
        known = ", ".join(f"{k!r} ({v})" for k, v in PERIODS.items())
        raise DataError(f"period must be one of {known}; got {period!r}")
    return period


def _add_months(start: IntArray, months: IntArray) -> IntArray:
    """Day ``start`` plus ``months`` calendar months, the day of month clipped to the month's length."""
    d = start.astype("datetime64[D]")
    month_start = d.astype("datetime64[M]")
    day = (d - month_start.astype("datetime64[D]")).astype(np.int64)
    target = month_start + months.astype("timedelta64[M]")
    length = (
        (target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype("datetime64[D]")
    ).astype(np.int64)
    out = target.astype("datetime64[D]") + np.minimum(day, length - 1).astype("timedelta64[D]")
    return np.asarray(out.astype(np.int64), dtype=np.int64)


def _whole_periods(start: IntArray, day: IntArray, period: str) -> IntArray:
    """Largest ``k >= 0`` with ``start + k periods <= day`` (``day >= start``)."""
    if period in _FIXED_DAYS:
        return np.asarray((day - start) // _FIXED_DAYS[period], dtype=np.int64)
    step = _MONTHS[period]
    s = start.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    e = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    k = (e - s) // step
    k = np.where(_add_months(start, k * step) > day, k - 1, k)
    return np.asarray(np.maximum(k, 0), dtype=np.int64)


def _period_start(start: IntArray, k: IntArray, period: str) -> IntArray:
    """Day on which the ``k``-th renewal of a subscription started on ``start`` falls."""
    if period in _FIXED_DAYS:
        return start + k * _FIXED_DAYS[period]
    return _add_months(start, k * _MONTHS[period])


def _today() -> _dt.date:
    """Today's date on this machine (local time); the tests replace this function to fix "today"."""
    return _dt.date.today()


def latest_allowed_day() -> tuple[int, _dt.date]:
    """The last day a start or an observation end may reach (one day of grace after today), and today."""
    today = _today()
    return (today - _dt.date(1970, 1, 1)).days + 1, today


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (for messages: 7, not np.int64(7))."""
    return value.item() if isinstance(value, np.generic) else value


def _date(day: int) -> str:
    return str(day_to_timestamp(day).date())


def subscription_summary(
    log: Any,
    *,
    customer_id: str = "customer_id",
    start: str = "start",
    end: str = "end",
    period: str = "M",
    observation_end: Any = None,
    multiple: str = "refuse",
    date_format: str | None = None,
) -> pd.DataFrame:
    """Summarise a subscription log into one row per customer: ``duration``, ``churned``, ``cohort``.

    Conventions (Fader & Hardie 2007): a subscription starting on day ``s`` renews every ``period``
    (``s + k`` periods, calendar arithmetic for months, quarters and years, the day of month clipped to
    the month's length). A subscription that ends on a day in ``(s + (t - 1) periods, s + t periods]``
    (or on ``s`` itself) was lost at period ``t``: ``duration = t, churned = True`` (``end`` may be the
    last day of service or the day the cancellation took effect: both land in the same period). A
    subscription without an end, or ending after ``observation_end``, is active: ``duration`` is the
    number of renewal dates up to ``observation_end`` (``n`` with ``s + n periods <= observation_end``),
    ``churned = False``.

    Parameters
    ----------
    log : pandas.DataFrame or polars.DataFrame
        One row per subscription. It is only read.
    customer_id, start, end : str
        Column names: the customer, the start date and the end date (missing / null while active).
    period : {"M", "D", "W", "Q", "Y"}
        Contract period (see :data:`PERIODS`), recorded in ``df.attrs["time_unit"]``.
    observation_end : date-like, optional
        Last day observed, not after today; defaults to the latest start or end date in the log that is
        not after today (an end dated in the future is a scheduled cancellation: the subscription is
        active until then). Ends after ``observation_end`` count as still active.
    multiple : {"refuse", "first"}
        A customer with several subscriptions is refused (the default; the message says which); with
        ``"first"`` each customer's earliest subscription is summarised and the later ones ignored.
    date_format : str, optional
        strftime format of string dates (e.g. ``"%d/%m/%Y"``).

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (sorted): ``duration`` (int64), ``churned`` (bool), ``cohort`` (pandas
        Period of the start date, in ``period``). ``attrs`` hold ``time_unit`` (the period) and
        ``observation_end``.

    Raises
    ------
    DataError
        For a missing column, an unknown period, unreadable or missing start dates, an end before its
        start, a start after ``observation_end`` or after today, an ``observation_end`` after today, and
        (with ``multiple="refuse"``) a customer with several subscriptions, overlapping ones named as
        such.

    Examples
    --------
    >>> import pandas as pd
    >>> from clvlab.data.subscriptions import subscription_summary
    >>> log = pd.DataFrame({"customer_id": [1, 2, 3],
    ...                     "start": ["2024-01-15", "2024-01-20", "2024-02-01"],
    ...                     "end": ["2024-03-10", None, "2024-02-29"]})
    >>> subscription_summary(log, observation_end="2024-06-30")
                 duration  churned   cohort
    customer_id
    1                   2     True  2024-01
    2                   5    False  2024-01
    3                   1     True  2024-02
    """
    period = _check_period(period)
    if multiple not in _MULTIPLE:
        raise DataError(f"multiple must be one of {list(_MULTIPLE)}, got {multiple!r}")
    names = [customer_id, start, end]
    if len(set(names)) != 3:
        raise DataError(f"customer_id, start and end must name different columns: {names}")
    frame = select_columns(log, names, what="the subscription log")
    ids = customer_ids(frame[customer_id], customer_id)
    s_days = to_days(frame[start], start, date_format)
    ends = frame[end]
    has_end = ends.notna().to_numpy()
    e_days = np.full(len(frame), np.iinfo(np.int64).max, dtype=np.int64)
    if has_end.any():
        e_days[has_end] = to_days(ends[has_end], end, date_format)
    before = has_end & (e_days < s_days)
    if before.any():
        pos = int(np.flatnonzero(before)[0])
        raise DataError(
            f"{int(before.sum())} subscription(s) end before they start, first at row {pos} (customer "
            f"{_plain(ids.iloc[pos])!r}: {start} {_date(int(s_days[pos]))}, {end} {_date(int(e_days[pos]))})"
        )
    limit, today = latest_allowed_day()
    if s_days.max() > limit:
        pos = int(np.argmax(s_days))
        raise DataError(
            f"column {start!r} has subscription(s) starting after today ({today}), e.g. row {pos} (customer "
            f"{_plain(ids.iloc[pos])!r}, {_date(int(s_days[pos]))}); fix these dates or drop those rows"
        )
    if observation_end is None:
        # ends after today are scheduled cancellations, not observations: they do not move the end
        past_ends = e_days[has_end & (e_days <= limit)]
        obs = int(max(s_days.max(), past_ends.max(initial=s_days.max())))
    else:
        obs = to_day(observation_end, "observation_end", date_format)
        if obs > limit:
            raise DataError(
                f"observation_end {_date(obs)} is after today ({today}): nobody can have been observed "
                "until then; pass the last day the log covers, or leave observation_end out"
            )
    late = s_days > obs
    if late.any():
        pos = int(np.flatnonzero(late)[0])
        raise DataError(
            f"{int(late.sum())} subscription(s) start after observation_end {_date(obs)}, first at row "
            f"{pos} (customer {_plain(ids.iloc[pos])!r}, {start} {_date(int(s_days[pos]))}); filter them "
            "out or pass a later observation_end"
        )

    codes, uniques = pd.factorize(ids, sort=True)
    order = np.lexsort((s_days, codes))
    c_sorted = codes[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = c_sorted[1:] != c_sorted[:-1]
    if not first.all():
        repeat = ~first
        prev, cur = order[:-1][repeat[1:]], order[1:][repeat[1:]]
        overlap = e_days[prev] > s_days[cur]
        if multiple == "refuse":
            kind = "overlapping subscriptions" if overlap.any() else "several subscriptions"
            i, j = (prev[overlap][0], cur[overlap][0]) if overlap.any() else (prev[0], cur[0])
            prev_end = _date(int(e_days[i])) if has_end[i] else "open"
            raise DataError(
                f"{int(np.unique(c_sorted[repeat]).size)} customer(s) have several subscriptions; customer "
                f"{_plain(ids.iloc[i])!r} has {kind} (rows {int(i)} and {int(j)}: {_date(int(s_days[i]))} to "
                f"{prev_end}, and from {_date(int(s_days[j]))}). The contractual models need one "
                "subscription per customer: pass multiple='first' to keep each customer's earliest one, "
                "or merge each customer's rows into one spell (earliest start, latest end) first"
            )
    keep = order[first]
    s, e, ended = s_days[keep], e_days[keep], has_end[keep] & (e_days[keep] <= obs)
    e_obs = np.where(ended, e, obs)
    k = _whole_periods(s, e_obs, period)
    # a churn inside (s + (t - 1), s + t] periods is at t; on a renewal date exactly, at that renewal
    on_renewal = _period_start(s, k, period) == e_obs
    lost_at = np.maximum(np.where(on_renewal, k, k + 1), 1)
    duration = np.where(ended, lost_at, k).astype(np.int64)
    start_dates = pd.to_datetime(s.astype("datetime64[D]"))
    freq = {"Y": "Y", "Q": "Q", "M": "M", "W": "W", "D": "D"}[period]
    index = pd.Index(uniques[codes[keep]], name=customer_id)
    out = pd.DataFrame(
        {
            "duration": duration,
            "churned": ended,
            "cohort": pd.PeriodIndex(start_dates, freq=freq),
        },
        index=index,
    )
    out.attrs["time_unit"] = period
    out.attrs["observation_end"] = _date(obs)
    return out


def survivors_to_summary(
    active: Sequence[float] | npt.ArrayLike,
    *,
    period: str | None = None,
    expand: bool = False,
) -> pd.DataFrame:
    """A cohort's summary from its published survivor counts (active customers after 0, 1, ..., n periods).

    ``active[0]`` is the cohort's size, ``active[t]`` the number still active after ``t`` periods (the
    form in which Fader & Hardie 2007 publish their cohorts: 1000, 631, 468, ...). Then
    ``active[t - 1] - active[t]`` customers were lost at period ``t`` (``duration = t, churned = True``)
    and ``active[n]`` are still active after the last period (``duration = n, churned = False``).

    Parameters
    ----------
    active : sequence of float
        Non-increasing, non-negative counts, at least two, ``active[0] > 0``. Shares (e.g. percentages)
        are allowed when ``expand`` is False.
    period : str, optional
        The period (see :data:`PERIODS`), recorded in ``df.attrs["time_unit"]``.
    expand : bool
        False (default): one row per (duration, churned) with the number of customers in ``weights``
        (fit with ``weights="weights"``); True: one row per customer (counts must be whole numbers).

    Returns
    -------
    pandas.DataFrame
        ``duration`` (int64), ``churned`` (bool) and, unless expanded, ``weights``; index ``row``
        (or ``customer_id`` when expanded).

    Examples
    --------
    >>> from clvlab.data.subscriptions import survivors_to_summary
    >>> survivors_to_summary([1000, 631, 468], period="Y")
         duration  churned  weights
    row
    0           1     True    369.0
    1           2     True    163.0
    2           2    False    468.0
    """
    try:
        counts = np.asarray(active, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"active must be a sequence of numbers: {exc}") from None
    if counts.ndim != 1 or counts.size < 2:
        raise DataError(
            f"active must list the active customers after 0, 1, ... periods (at least two counts), got "
            f"shape {counts.shape}"
        )
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise DataError(f"active must hold finite, non-negative counts, got {counts.tolist()}")
    if counts[0] <= 0:
        raise DataError("active[0], the cohort's size, must be positive")
    rise = np.diff(counts) > 0
    if rise.any():
        t = int(np.flatnonzero(rise)[0]) + 1
        raise DataError(
            f"active must not increase (customers lost do not come back): active[{t}] = {counts[t]:g} > "
            f"active[{t - 1}] = {counts[t - 1]:g}"
        )
    if period is not None:
        period = _check_period(period)
    n = counts.size - 1
    duration = np.concatenate([np.arange(1, n + 1), [n]]).astype(np.int64)
    churned = np.concatenate([np.ones(n, dtype=bool), [False]])
    weights = np.concatenate([counts[:-1] - counts[1:], counts[-1:]])
    if expand:
        if np.any(counts != np.round(counts)):
            raise DataError("expand=True needs whole numbers of customers in active")
        reps = weights.astype(np.int64)
        out = pd.DataFrame(
            {"duration": np.repeat(duration, reps), "churned": np.repeat(churned, reps)},
            index=pd.RangeIndex(int(reps.sum()), name="customer_id"),
        )
    else:
        out = pd.DataFrame(
            {"duration": duration, "churned": churned, "weights": weights},
            index=pd.RangeIndex(n + 1, name="row"),
        )
    if period is not None:
        out.attrs["time_unit"] = period
    return out
