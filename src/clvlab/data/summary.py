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
    """A validated transaction log as flat arrays.

    Customers are identified by non-negative integer ``codes`` whose order is the order of the ids:
    either the ids' offsets from the smallest id (integer ids in a compact range, no factorisation
    needed) or their ranks among the sorted unique ids.
    """

    codes: npt.NDArray[np.int64]  # per row
    n_codes: int  # codes lie in [0, n_codes)
    id_offset: int | None  # integer fast path: id = code + id_offset
    uniques: pd.Index | None  # general path: id = uniques[code]
    name: str  # the customer id column
    days: npt.NDArray[np.int64]  # per row: calendar day (days since 1970-01-01)
    amounts: npt.NDArray[np.float64] | None

    def ids(self, codes: npt.NDArray[np.int64]) -> pd.Index:
        """The customer ids of ``codes``."""
        if self.id_offset is not None:
            return pd.Index(codes + self.id_offset, name=self.name)
        assert self.uniques is not None
        return pd.Index(self.uniques.take(codes), name=self.name)


@dataclass(frozen=True)
class _Occasions:
    """Purchase occasions reduced per customer; customers present in the period, in code order."""

    codes: npt.NDArray[np.int64]  # customer codes, ascending
    n: npt.NDArray[np.int64]  # number of occasions
    first: npt.NDArray[np.int64]  # first day
    last: npt.NDArray[np.int64]  # last day
    first_amount: npt.NDArray[np.float64] | None  # value of the first occasion
    total_amount: npt.NDArray[np.float64] | None  # value of all occasions


#: Bits available for packing (customer, day, row) into one non-negative int64.
_PACK_BITS = 63


def _bits(n: int) -> int:
    return max(int(n - 1).bit_length(), 1)


def _encode_ids(
    values: pd.Series, column: str
) -> tuple[npt.NDArray[np.int64], int, int | None, pd.Index | None]:
    arr = values.to_numpy()
    if arr.dtype.kind in "iu" and len(arr) > 0 and int(arr.max()) < (1 << 62):
        lo, hi = int(arr.min()), int(arr.max())
        # Offsets from the smallest id serve as codes when the id range is compact (no hashing needed).
        if hi - lo < max(4 * len(arr), 1 << 20) and hi - lo < (1 << 40):
            return np.subtract(arr, lo, dtype=np.int64), hi - lo + 1, lo, None
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError as exc:
        raise DataError(f"column {column!r} mixes id types that cannot be sorted: {exc}") from exc
    return codes.astype(np.int64), len(uniques), None, pd.Index(uniques)


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
    codes, n_codes, offset, uniques = _encode_ids(ids_col, customer_id)
    return _Log(
        codes=codes,
        n_codes=n_codes,
        id_offset=offset,
        uniques=uniques,
        name=customer_id,
        days=days,
        amounts=amounts,
    )


def _occasions(log: _Log, keep: npt.NDArray[np.bool_] | None = None) -> _Occasions:
    """Collapse rows to (customer, day) occasions and reduce them per customer.

    The (customer, day, row) triple is packed into one int64 and sorted (numpy's vectorised sort is far
    faster than an argsort or a hash table); occasions and customers are then runs of the sorted keys.
    Amounts of one occasion are summed in row order.
    """
    codes, days, amounts = log.codes, log.days, log.amounts
    if keep is not None:
        codes, days = codes[keep], days[keep]
        amounts = amounts[keep] if amounts is not None else None
    n_rows = len(codes)
    if n_rows == 0:
        raise DataError("no transactions fall inside the requested period")
    day0 = int(days.min())
    day_bits = _bits(int(days.max()) - day0 + 1)
    row_bits = _bits(n_rows) if amounts is not None else 0
    if _bits(log.n_codes) + day_bits + row_bits <= _PACK_BITS:
        # In-place arithmetic (the bit fields do not overlap, so + is |): no temporaries of full length.
        packed = np.left_shift(codes, day_bits)
        packed += days
        packed -= day0
        if amounts is not None:
            packed <<= row_bits
            packed += np.arange(n_rows, dtype=np.int64)
        packed.sort()
        key = packed >> row_bits if row_bits else packed
        gathered = None
        if amounts is not None:
            packed &= (1 << row_bits) - 1
            gathered = amounts[packed]
        del packed
    else:  # too many bits to pack: sort the (customer, day) key and carry the rows along
        key = codes * (int(days.max()) - day0 + 1) + (days - day0)
        rows = np.argsort(key, kind="stable")
        key = key[rows]
        gathered = amounts[rows] if amounts is not None else None
        del rows
        day_bits = 0
    # Arrays are released as soon as they are used: peak memory stays a small multiple of the input.
    change = np.empty(n_rows, dtype=bool)
    change[0] = True
    np.not_equal(key[1:], key[:-1], out=change[1:])
    occ_starts = np.flatnonzero(change)
    del change
    occ_key = key[occ_starts]
    del key
    occ_amount = np.add.reduceat(gathered, occ_starts) if gathered is not None else None
    del gathered, occ_starts
    if day_bits:
        occ_customer = occ_key >> day_bits
        occ_key &= (1 << day_bits) - 1
    else:
        span = int(days.max()) - day0 + 1
        occ_customer, occ_key = np.divmod(occ_key, span)
    occ_day = occ_key  # days since day0
    new_customer = np.empty(len(occ_day), dtype=bool)
    new_customer[0] = True
    np.not_equal(occ_customer[1:], occ_customer[:-1], out=new_customer[1:])
    starts = np.flatnonzero(new_customer)
    del new_customer
    ends = np.append(starts[1:], len(occ_day)) - 1
    first_amount = total_amount = None
    if occ_amount is not None:
        first_amount = occ_amount[starts]
        total_amount = np.add.reduceat(occ_amount, starts)
    return _Occasions(
        codes=occ_customer[starts],
        n=ends - starts + 1,
        first=occ_day[starts] + day0,
        last=occ_day[ends] + day0,
        first_amount=first_amount,
        total_amount=total_amount,
    )


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
    frequency = (occ.n if include_first_transaction else occ.n - 1).astype(np.float64)
    data: dict[str, npt.NDArray[np.float64]] = {
        "frequency": frequency,
        "recency": (occ.last - occ.first) / unit_days,
        "T": (end - occ.first) / unit_days,
    }
    if with_monetary:
        assert occ.total_amount is not None
        assert occ.first_amount is not None
        total = occ.total_amount if include_first_transaction else occ.total_amount - occ.first_amount
        data["monetary_value"] = np.divide(total, frequency, out=np.zeros_like(total), where=frequency > 0)
    df = pd.DataFrame(data, index=log.ids(occ.codes))
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
    freq_h = np.zeros(len(cal.codes), dtype=np.float64)
    value_h = np.zeros(len(cal.codes), dtype=np.float64)
    if holdout_rows.any():
        hold = _occasions(log, holdout_rows)
        # Holdout customers seen in calibration: both code lists are sorted.
        pos = np.searchsorted(cal.codes, hold.codes)
        pos_clipped = np.minimum(pos, len(cal.codes) - 1)
        known = cal.codes[pos_clipped] == hold.codes
        freq_h[pos_clipped[known]] = hold.n[known]
        if with_monetary:
            assert hold.total_amount is not None
            value_h[pos_clipped[known]] = hold.total_amount[known] / hold.n[known]
    summary["frequency_holdout"] = freq_h
    if with_monetary:
        summary["monetary_value_holdout"] = value_h
    summary["duration_holdout"] = (end - cal_end) / unit_days
    summary.attrs["time_unit"] = time_unit
    return summary
