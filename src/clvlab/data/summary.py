"""From a transaction log to the per-customer summary the models need.

The summary follows the convention of the buy-till-you-die literature (Fader, Hardie & Lee 2005):

* purchases on the same calendar day are one purchase *occasion* (their amounts are summed);
* ``frequency`` x is the number of repeat occasions (all occasions but the first);
* ``recency`` t_x is the time from the first to the last occasion;
* ``T`` is the time from the first occasion to the end of observation;
* ``monetary_value`` is the mean value of the repeat occasions (0 for customers without one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from clvlab.data._input import (
    customer_ids,
    day_to_timestamp,
    select_columns,
    time_unit_days,
    to_amounts,
    to_day,
    to_days,
)
from clvlab.errors import DataError

__all__ = ["calibration_holdout_split", "rfm_summary"]


@dataclass(frozen=True)
class _Log:
    """A validated transaction log as flat arrays."""

    ids: pd.Index  # sorted unique customer ids
    codes: npt.NDArray[np.intp]  # per row: position of its customer in ``ids``
    days: npt.NDArray[np.int64]  # per row: calendar day (days since 1970-01-01)
    amounts: npt.NDArray[np.float64] | None


@dataclass(frozen=True)
class _Occasions:
    """Per-customer purchase occasions; customers in the order of their codes."""

    n: npt.NDArray[np.int64]  # number of occasions
    first: npt.NDArray[np.int64]  # first day
    last: npt.NDArray[np.int64]  # last day
    first_amount: npt.NDArray[np.float64] | None  # value of the first occasion
    total_amount: npt.NDArray[np.float64] | None  # value of all occasions


def _read_log(
    transactions: Any,
    customer_id: str,
    datetime: str,
    monetary_value: str | None,
    allow_returns: bool,
) -> _Log:
    columns = [customer_id, datetime] + ([monetary_value] if monetary_value is not None else [])
    if len(set(columns)) != len(columns):
        raise DataError(f"customer_id, datetime and monetary_value must name different columns: {columns}")
    frame = select_columns(transactions, columns)
    ids_col = customer_ids(frame[customer_id], customer_id)
    days = to_days(frame[datetime], datetime)
    amounts = (
        to_amounts(frame[monetary_value], monetary_value, allow_negative=allow_returns)
        if monetary_value is not None
        else None
    )
    try:
        codes, ids = pd.factorize(ids_col, sort=True)
    except TypeError as exc:
        raise DataError(f"column {customer_id!r} mixes id types that cannot be sorted: {exc}") from exc
    return _Log(ids=pd.Index(ids, name=customer_id), codes=codes, days=days, amounts=amounts)


def _occasions(log: _Log, keep: npt.NDArray[np.bool_] | None = None) -> _Occasions:
    """Collapse rows to (customer, day) occasions and reduce them per customer.

    One hash-based factorisation of the (customer, day) key, then reductions over the sorted unique
    occasions; linear in the number of rows apart from sorting the occasions.
    """
    codes, days, amounts = log.codes, log.days, log.amounts
    if keep is not None:
        codes, days = codes[keep], days[keep]
        amounts = amounts[keep] if amounts is not None else None
    n_customers = len(log.ids)
    if len(codes) == 0:
        raise DataError("no transactions fall inside the requested period")
    day0 = int(days.min())
    span = int(days.max()) - day0 + 1
    key = codes.astype(np.int64) * span + (days - day0)
    occ_index, occ_key = pd.factorize(key, sort=True)
    occ_customer = occ_key // span
    occ_day = occ_key % span + day0
    boundary = np.empty(len(occ_key), dtype=bool)
    boundary[0] = True
    np.not_equal(occ_customer[1:], occ_customer[:-1], out=boundary[1:])
    starts = np.flatnonzero(boundary)
    ends = np.append(starts[1:], len(occ_key)) - 1
    customers = occ_customer[starts]
    n = np.zeros(n_customers, dtype=np.int64)
    first = np.zeros(n_customers, dtype=np.int64)
    last = np.zeros(n_customers, dtype=np.int64)
    n[customers] = ends - starts + 1
    first[customers] = occ_day[starts]
    last[customers] = occ_day[ends]
    first_amount = total_amount = None
    if amounts is not None:
        occ_amount = np.bincount(occ_index, weights=amounts, minlength=len(occ_key))
        first_amount = np.zeros(n_customers)
        total_amount = np.zeros(n_customers)
        first_amount[customers] = occ_amount[starts]
        total_amount[customers] = np.add.reduceat(occ_amount, starts)
    return _Occasions(n=n, first=first, last=last, first_amount=first_amount, total_amount=total_amount)


def _resolve_end(log: _Log, observation_end: Any, drop_after_end: bool, name: str) -> int:
    last_day = int(log.days.max())
    if observation_end is None:
        return last_day
    end = to_day(observation_end, name)
    if end < int(log.days.min()):
        raise DataError(
            f"{name} {day_to_timestamp(end).date()} is before the first transaction "
            f"({day_to_timestamp(int(log.days.min())).date()})"
        )
    after = log.days > end
    if after.any() and not drop_after_end:
        pos = int(np.flatnonzero(after)[0])
        raise DataError(
            f"{int(after.sum())} transaction(s) fall after {name} {day_to_timestamp(end).date()} "
            f"(first at row {pos}, dated {day_to_timestamp(int(log.days[pos])).date()}); pass "
            "drop_after_end=True to summarise only up to that date, or use calibration_holdout_split"
        )
    return end


def _summary_frame(
    log: _Log,
    occ: _Occasions,
    end: int,
    unit_days: float,
    time_unit: str,
    with_monetary: bool,
    include_first_transaction: bool,
) -> pd.DataFrame:
    present = occ.n > 0
    ids = log.ids[present]
    n = occ.n[present]
    first = occ.first[present]
    frequency = (n if include_first_transaction else n - 1).astype(np.float64)
    data: dict[str, npt.NDArray[np.float64]] = {
        "frequency": frequency,
        "recency": (occ.last[present] - first) / unit_days,
        "T": (end - first) / unit_days,
    }
    if with_monetary:
        assert occ.total_amount is not None and occ.first_amount is not None
        total = occ.total_amount[present]
        if not include_first_transaction:
            total = total - occ.first_amount[present]
        with np.errstate(invalid="ignore", divide="ignore"):
            data["monetary_value"] = np.where(frequency > 0, total / frequency, 0.0)
    df = pd.DataFrame(data, index=ids)
    df.attrs["time_unit"] = time_unit
    return df


def rfm_summary(
    transactions: Any,
    *,
    customer_id: str = "customer_id",
    datetime: str = "date",
    monetary_value: str | None = None,
    observation_end: Any = None,
    time_unit: str = "D",
    include_first_transaction: bool = False,
    drop_after_end: bool = False,
    allow_returns: bool = False,
) -> pd.DataFrame:
    """Summarise a transaction log into one row per customer: frequency, recency, T (and spend).

    Parameters
    ----------
    transactions : pandas.DataFrame or polars.DataFrame
        One row per transaction. It is never modified.
    customer_id, datetime : str
        Names of the customer id and date columns. Dates may be datetime64 (naive or timezone-aware, in
        which case the local calendar day counts), ``datetime.date`` objects or parseable strings.
    monetary_value : str, optional
        Name of the amount column. When given, the summary has a ``monetary_value`` column.
    observation_end : date-like, optional
        End of the observation period; defaults to the last date in the log.
    time_unit : {"D", "W", "M", "Y"}
        Unit of ``recency`` and ``T``: days, weeks of 7 days (fractional, as in the literature), months of
        365.25/12 days or years of 365.25 days. Recorded in ``df.attrs["time_unit"]``.
    include_first_transaction : bool
        If True, ``frequency`` counts every occasion and ``monetary_value`` averages all of them (as in
        lifetimes); the default follows the models: repeat occasions only.
    drop_after_end : bool
        Transactions after ``observation_end`` raise :class:`DataError` unless this is True, in which case
        they are left out (a calibration summary of a longer log).
    allow_returns : bool
        Negative amounts (returns) raise :class:`DataError` unless this is True, in which case they are
        netted against the same day's purchases.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (sorted), columns ``frequency``, ``recency``, ``T`` and optionally
        ``monetary_value``, all float64. Customers whose first purchase is after ``observation_end``
        (only possible with ``drop_after_end=True``) are left out.

    Raises
    ------
    DataError
        For missing columns, an empty log, null customer ids, unparseable or missing dates, non-numeric,
        NaN, infinite or negative amounts, and transactions after ``observation_end``.

    Notes
    -----
    Definitions as in Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing
    Science 24(2): x = number of repeat purchase occasions, t_x = time of the last purchase, T = time of
    the end of observation, both measured from the first purchase. Customers with x = 0 have recency 0 and
    monetary value 0.

    Examples
    --------
    >>> import clvlab
    >>> log = clvlab.datasets.load_cdnow_transactions()
    >>> s = clvlab.rfm_summary(log, monetary_value="amount", observation_end="1997-09-30",
    ...                        time_unit="W", drop_after_end=True)
    >>> s.loc[1].round(2).tolist()
    [2.0, 30.43, 38.86, 22.35]
    """
    unit_days = time_unit_days(time_unit)
    log = _read_log(transactions, customer_id, datetime, monetary_value, allow_returns)
    end = _resolve_end(log, observation_end, drop_after_end, "observation_end")
    keep = log.days <= end
    occ = _occasions(log, None if keep.all() else keep)
    return _summary_frame(
        log, occ, end, unit_days, time_unit, monetary_value is not None, include_first_transaction
    )


def calibration_holdout_split(
    transactions: Any,
    *,
    customer_id: str = "customer_id",
    datetime: str = "date",
    calibration_end: Any,
    observation_end: Any = None,
    monetary_value: str | None = None,
    time_unit: str = "D",
    drop_after_end: bool = False,
    allow_returns: bool = False,
) -> pd.DataFrame:
    """Split a log into a calibration summary and what the same customers did in the holdout period.

    The calibration period runs from the first transaction to ``calibration_end`` (inclusive); the holdout
    period is (``calibration_end``, ``observation_end``].

    Parameters
    ----------
    transactions : pandas.DataFrame or polars.DataFrame
        One row per transaction; never modified.
    customer_id, datetime, monetary_value, time_unit, allow_returns
        As in :func:`rfm_summary`.
    calibration_end : date-like
        Last day of the calibration period. Must lie within the log, before ``observation_end``.
    observation_end : date-like, optional
        Last day of the holdout period; defaults to the last date in the log.
    drop_after_end : bool
        As in :func:`rfm_summary`, for transactions after ``observation_end``.

    Returns
    -------
    pandas.DataFrame
        The calibration summary (``frequency``, ``recency``, ``T`` and optionally ``monetary_value``)
        plus ``frequency_holdout`` (purchase occasions in the holdout period), ``monetary_value_holdout``
        (their mean value, 0 if none; only with ``monetary_value``) and ``duration_holdout`` (length of the
        holdout period in ``time_unit``).

    Notes
    -----
    Customers whose first purchase falls after ``calibration_end`` are left out: they were not yet
    customers at the end of calibration, so the models have nothing to predict for them. A purchase
    occasion is a calendar day, in both periods.
    """
    unit_days = time_unit_days(time_unit)
    log = _read_log(transactions, customer_id, datetime, monetary_value, allow_returns)
    end = _resolve_end(log, observation_end, drop_after_end, "observation_end")
    cal_end = to_day(calibration_end, "calibration_end")
    if not int(log.days.min()) <= cal_end < end:
        raise DataError(
            f"calibration_end {day_to_timestamp(cal_end).date()} must lie within the log, on or after the "
            f"first transaction ({day_to_timestamp(int(log.days.min())).date()}) and before "
            f"observation_end ({day_to_timestamp(end).date()})"
        )
    in_cal = log.days <= cal_end
    cal = _occasions(log, in_cal)
    with_monetary = monetary_value is not None
    summary = _summary_frame(log, cal, cal_end, unit_days, time_unit, with_monetary, False)
    holdout_rows = (~in_cal) & (log.days <= end)
    in_summary = cal.n > 0
    freq_h = np.zeros(len(log.ids), dtype=np.float64)
    value_h = np.zeros(len(log.ids), dtype=np.float64)
    if holdout_rows.any():
        hold = _occasions(log, holdout_rows)
        freq_h = hold.n.astype(np.float64)
        if with_monetary:
            assert hold.total_amount is not None
            with np.errstate(invalid="ignore", divide="ignore"):
                value_h = np.where(hold.n > 0, hold.total_amount / np.maximum(hold.n, 1), 0.0)
    summary["frequency_holdout"] = freq_h[in_summary]
    if with_monetary:
        summary["monetary_value_holdout"] = value_h[in_summary]
    summary["duration_holdout"] = (end - cal_end) / unit_days
    summary.attrs["time_unit"] = time_unit
    return summary
