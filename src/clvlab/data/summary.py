"""From a transaction log to the per-customer summary the models need.

The summary follows the convention of the buy-till-you-die literature (Fader, Hardie & Lee 2005):

* purchases on the same calendar day are one purchase *occasion* (their amounts are summed);
* ``frequency`` x is the number of repeat occasions (all occasions but the first);
* ``recency`` t_x is the time from the first to the last occasion;
* ``T`` is the time from the first occasion to the end of observation;
* ``monetary_value`` is the mean value of the repeat occasions (0 for customers without one).
"""

from __future__ import annotations

import datetime as _dt
import warnings
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
from clvlab.errors import ClvlabWarning, DataError

__all__ = [
    "PurchaseOccasions",
    "calibration_holdout_split",
    "join_customers",
    "read_occasions",
    "rfm_summary",
]


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
    returns: bool = False  # amounts may be returns: occasions are netted (see _net_returns)
    first_day: int = 0  # days.min()
    last_day: int = 0  # days.max()

    def ids(self, codes: npt.NDArray[np.int64]) -> pd.Index:
        """The customer ids of ``codes``."""
        if self.id_offset is not None:
            return pd.Index(codes + self.id_offset, name=self.name)
        assert self.uniques is not None
        index: pd.Index = pd.Index(self.uniques.take(codes), name=self.name)
        return index


@dataclass(frozen=True)
class _Occasions:
    """Purchase occasions reduced per customer; customers present in the period, in code order."""

    codes: npt.NDArray[np.int64]  # customer codes, ascending
    n: npt.NDArray[np.int64]  # number of occasions
    first: npt.NDArray[np.int64]  # first day
    last: npt.NDArray[np.int64]  # last day
    first_amount: npt.NDArray[np.float64] | None  # value of the first occasion
    total_amount: npt.NDArray[np.float64] | None  # value of all occasions
    occasion_codes: npt.NDArray[np.int64] | None = None  # per occasion (only when asked for)
    occasion_days: npt.NDArray[np.int64] | None = None  # per occasion (only when asked for)


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


#: Days of grace after today's date for transactions and observation ends: a timezone-aware date is
#: read by its local calendar day, which can be one day ahead of this machine's date.
FUTURE_GRACE_DAYS = 1

#: An observation end this many days or more after the log's last transaction draws a ClvlabWarning.
END_GAP_WARN_DAYS = 365

#: Future-dated rows named in the error message.
_SHOW_ROWS = 5


def _today() -> _dt.date:
    """Today's date on this machine (local time); the tests replace this function to fix "today"."""
    return _dt.date.today()


def latest_allowed_day() -> tuple[int, _dt.date]:
    """The last day a log or an observation end may reach (days since 1970-01-01), and today's date."""
    today = _today()
    return (today - _dt.date(1970, 1, 1)).days + FUTURE_GRACE_DAYS, today


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (for messages: 7, not np.int64(7))."""
    return value.item() if isinstance(value, np.generic) else value


def _refuse_future_rows(ids: pd.Series, column: str, days: npt.NDArray[np.int64], last_day: int) -> None:
    """Raise :class:`DataError` naming the transactions dated after today (plus the grace day).

    ``last_day`` is ``days.max()``: a log with no such row costs no further pass over the rows.
    """
    limit, today = latest_allowed_day()
    if last_day <= limit:
        return
    future = days > limit
    pos = np.flatnonzero(future)
    shown = ", ".join(
        f"row {p} (customer {_plain(ids.iloc[p])!r}, {day_to_timestamp(int(days[p])).date()})"
        for p in pos[:_SHOW_ROWS]
    )
    more = f" and {len(pos) - _SHOW_ROWS} more" if len(pos) > _SHOW_ROWS else ""
    raise DataError(
        f"column {column!r} has {len(pos)} transaction(s) dated after today ({today}): {shown}{more}. "
        "A log of past purchases cannot hold them, and one such date would move the end of observation "
        "(and T) for every customer. Fix these dates (a typo in the year?) or drop those rows before "
        "summarising"
    )


def _read_log(
    transactions: Any,
    customer_id: str,
    datetime: str,
    monetary_value: str | None,
    allow_returns: bool,
    date_format: str | None = None,
) -> _Log:
    columns = [customer_id, datetime] + ([monetary_value] if monetary_value is not None else [])
    if len(set(columns)) != len(columns):
        raise DataError(f"customer_id, datetime and monetary_value must name different columns: {columns}")
    frame = select_columns(transactions, columns)
    ids_col = customer_ids(frame[customer_id], customer_id)
    days = to_days(frame[datetime], datetime, date_format)
    amounts = (
        to_amounts(frame[monetary_value], monetary_value, allow_negative=allow_returns)
        if monetary_value is not None
        else None
    )
    last_day = int(days.max())
    _refuse_future_rows(ids_col, datetime, days, last_day)
    codes, n_codes, offset, uniques = _encode_ids(ids_col, customer_id)
    return _Log(
        codes=codes,
        n_codes=n_codes,
        id_offset=offset,
        uniques=uniques,
        name=customer_id,
        days=days,
        amounts=amounts,
        returns=allow_returns and amounts is not None,
        first_day=int(days.min()),
        last_day=last_day,
    )


def _net_returns(customer: npt.NDArray[np.int64], value: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Value of each occasion that is left once later returns are netted against it.

    ``customer`` and ``value`` are occasions sorted by customer, then day; ``value`` is the day's net
    amount. A day with a net value <= 0 is a return of -value: it takes back the customer's most recent
    earlier purchase occasion that still has value left, then the one before, and so on (last in, first
    out); what it takes back beyond everything bought before it is ignored. Returns 0 for return days and
    fully returned occasions.

    Vectorised with the levels of a stack: within a customer, the reflected running sum
    R_i = S_i - min(0, min_{j<=i} S_j) of the values (S the running sum) is the value held after
    occasion i; purchase i holds the levels (R_i - v_i, R_i], of which those below min_{j>=i} R_j survive.
    Only customers with a return day are computed.
    """
    returns = value <= 0
    if not returns.any():
        return value
    affected = np.unique(customer[returns])
    pos = np.minimum(np.searchsorted(affected, customer), len(affected) - 1)
    sel = affected[pos] == customer
    who, v = customer[sel], value[sel]
    running = pd.Series(v).groupby(who, sort=False).cumsum().to_numpy()
    floor = np.minimum(pd.Series(running).groupby(who, sort=False).cummin().to_numpy(), 0.0)
    level = running - floor
    kept = pd.Series(level[::-1]).groupby(who[::-1], sort=False).cummin().to_numpy()[::-1]
    left = np.clip(kept - (level - v), 0.0, np.maximum(v, 0.0))
    # Sums of cents are not exact in binary: what is left within rounding of the level is nothing.
    left[left <= 1e-9 * np.abs(level)] = 0.0
    out = value.copy()
    out[sel] = left
    return out


def _occasions(
    log: _Log, keep: npt.NDArray[np.bool_] | None = None, *, per_occasion: bool = False
) -> _Occasions:
    """Collapse rows to (customer, day) occasions and reduce them per customer.

    The (customer, day, row) triple is packed into one int64 and sorted (numpy's vectorised sort is far
    faster than an argsort or a hash table); occasions and customers are then runs of the sorted keys.
    Amounts of one occasion are summed in row order. With returns allowed (``log.returns``), occasions are
    netted by :func:`_net_returns` and only those with value left are purchase occasions. With
    ``per_occasion`` the customer code and day of every occasion are kept too.
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
    if log.returns and occ_amount is not None:
        occ_amount = _net_returns(occ_customer, occ_amount)
        purchase = occ_amount > 0
        if not purchase.all():
            occ_customer, occ_day, occ_amount = (
                occ_customer[purchase],
                occ_day[purchase],
                occ_amount[purchase],
            )
        if len(occ_day) == 0:
            raise DataError("no purchase occasions are left in the period once returns are netted")
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
        occasion_codes=occ_customer if per_occasion else None,
        occasion_days=occ_day + day0 if per_occasion else None,
    )


def _resolve_end(
    log: _Log, observation_end: Any, drop_after_end: bool, name: str, date_format: str | None = None
) -> int:
    """The last day observed: ``observation_end`` (read with ``date_format``) or the log's last day.

    Every reader of a log follows these rules. Raises :class:`DataError` when the end is before the
    first transaction or after today (plus :data:`FUTURE_GRACE_DAYS`), or when transactions fall after it
    and ``drop_after_end`` is False; warns (:class:`~clvlab.errors.ClvlabWarning`) when it is
    :data:`END_GAP_WARN_DAYS` days or more after the log's last transaction.
    """
    last_day, first_day = log.last_day, log.first_day
    if observation_end is None:
        return last_day
    end = to_day(observation_end, name, date_format)
    if end < first_day:
        raise DataError(
            f"{name} {day_to_timestamp(end).date()} is before the first transaction "
            f"({day_to_timestamp(first_day).date()})"
        )
    limit, today = latest_allowed_day()
    if end > limit:
        raise DataError(
            f"{name} {day_to_timestamp(end).date()} is after today ({today}): nobody can have been "
            "observed until then, and T would count time that has not happened yet. Pass the last day "
            f"your data covers (the log's last transaction is on {day_to_timestamp(last_day).date()}), "
            f"or leave {name} out to use that day"
        )
    gap = end - last_day
    if gap >= END_GAP_WARN_DAYS:
        warnings.warn(
            f"{name} {day_to_timestamp(end).date()} is {gap} days ({gap / 365.25:.1f} years) after the "
            f"log's last transaction ({day_to_timestamp(last_day).date()}): no customer bought anything "
            f"in that time, and T includes it for everyone. Check {name} (a typo in the year?) and the log "
            "(is it complete?)",
            ClvlabWarning,
            stacklevel=3,
        )
    after = log.days > end if last_day > end else None
    if after is not None and not drop_after_end:
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


@dataclass(frozen=True)
class PurchaseOccasions:
    """A transaction log read up to its end: purchase occasions, and their reduction per customer.

    Built by :func:`read_occasions`, with :func:`rfm_summary`'s rules. Per-customer arrays follow
    ``ids``; per-occasion arrays are sorted by customer, then day.
    """

    ids: pd.Index  #: customer ids (ascending)
    orders: npt.NDArray[np.int64]  #: purchase occasions per customer
    first: npt.NDArray[np.int64]  #: first purchase day per customer (days since 1970-01-01)
    last: npt.NDArray[np.int64]  #: last purchase day per customer
    revenue: npt.NDArray[np.float64] | None  #: total value per customer (``None`` without amounts)
    occasion_customer: npt.NDArray[np.int64]  #: position in ``ids`` of each occasion's customer
    day: npt.NDArray[np.int64]  #: day of each occasion
    end: int  #: the observation end (day)

    @property
    def customer(self) -> pd.Index:
        """Customer id of each occasion."""
        return self.ids.take(self.occasion_customer)

    @property
    def birth(self) -> npt.NDArray[np.int64]:
        """The customer's first purchase day, per occasion."""
        return self.first[self.occasion_customer]


def read_occasions(
    transactions: Any,
    customer_id: str = "customer_id",
    datetime: str = "date",
    monetary_value: str | None = None,
    *,
    observation_end: Any = None,
    drop_after_end: bool = False,
    allow_returns: bool = False,
    date_format: str | None = None,
) -> PurchaseOccasions:
    """Read a transaction log into purchase occasions, exactly as :func:`rfm_summary` reads it.

    The one transaction-log reader behind the summaries, :func:`clvlab.describe_customers` and the
    history plots: the same ids, dates (``date_format``), same-day purchases merged into one occasion,
    returns netted (``allow_returns``), ``observation_end`` defaulting to the last date in the log, and
    transactions after it refused with :class:`~clvlab.errors.DataError` unless ``drop_after_end``.
    Arguments as in :func:`rfm_summary`.
    """
    log = _read_log(transactions, customer_id, datetime, monetary_value, allow_returns, date_format)
    end = _resolve_end(log, observation_end, drop_after_end, "observation_end", date_format)
    keep = log.days <= end
    occ = _occasions(log, None if keep.all() else keep, per_occasion=True)
    assert occ.occasion_codes is not None
    assert occ.occasion_days is not None
    return PurchaseOccasions(
        ids=log.ids(occ.codes),
        orders=occ.n,
        first=occ.first,
        last=occ.last,
        revenue=occ.total_amount,
        occasion_customer=np.searchsorted(occ.codes, occ.occasion_codes).astype(np.int64),
        day=occ.occasion_days,
        end=end,
    )


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
    date_format: str | None = None,
    customers: Any = None,
) -> pd.DataFrame:
    """Summarise a transaction log into one row per customer: frequency, recency, T (and spend).

    Parameters
    ----------
    transactions : pandas.DataFrame or polars.DataFrame
        One row per transaction. It is never modified.
    customer_id, datetime : str
        Names of the customer id and date columns. Dates may be datetime64 (naive or timezone-aware, in
        which case the local calendar day counts), ``datetime.date`` objects or strings (see
        ``date_format``).
    monetary_value : str, optional
        Name of the amount column. When given, the summary has a ``monetary_value`` column.
    observation_end : date-like, optional
        End of the observation period; defaults to the last date in the log. It may not be after today
        (see Notes, **Dates in the future**).
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
        netted against purchases (see Notes).
    date_format : str, optional
        strftime format of string dates, e.g. ``"%d/%m/%Y"``; it applies to a string ``observation_end``
        too. Without it, ISO dates (``"1997-01-31"``, with or without a time and offset) are read
        directly and other strings are read both day first and month first: a value that gives two
        different days (``"01/02/1997"``) is refused with :class:`DataError`, so pass the format. Time-
        zone offsets in strings are dropped (the local calendar day counts), also when they differ
        between rows.
    customers : pandas.DataFrame, optional
        Customer attributes (covariates such as channel or region) to join, one row per customer,
        indexed by the customer id or with a ``customer_id`` column; see :func:`join_customers`.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (sorted), columns ``frequency``, ``recency``, ``T`` and optionally
        ``monetary_value``, all float64. Customers whose first purchase is after ``observation_end``
        (only possible with ``drop_after_end=True``), and with ``allow_returns=True`` customers who
        returned everything they bought, are left out.

    Raises
    ------
    DataError
        For missing columns, an empty log, null customer ids, unparseable, ambiguous (day-first or
        month-first) or missing dates, non-numeric, NaN, infinite or negative amounts, transactions
        after ``observation_end``, transactions dated after today and an ``observation_end`` after today.

    Warns
    -----
    ClvlabWarning
        When ``observation_end`` is 365 days or more after the log's last transaction.

    Notes
    -----
    Definitions as in Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing
    Science 24(2): x = number of repeat purchase occasions, t_x = time of the last purchase, T = time of
    the end of observation, both measured from the first purchase. Customers with x = 0 have recency 0 and
    monetary value 0.

    **Returns** (``allow_returns=True``). The amounts of one customer and day are summed first (a
    same-day return nets against that day's purchases). A day whose net amount is negative is a return:
    it takes back value from the customer's most recent earlier purchase occasion that still has value
    left, then from the one before, and so on (last in, first out); a return larger than everything
    bought before it takes back only that. A day whose value left is zero or less (a fully returned
    occasion, a return day, a day of zero net amount) is not a purchase occasion. So a return never adds
    an occasion and never extends recency; it lowers the value of the occasions it takes back, and when it
    takes back an occasion entirely, frequency and recency (and, for the first occasion, the start of
    ``T``) are those of the remaining occasions. For example, purchases of 50 on 1 January and 30 on 10
    January and a return of -30 on 15 January give one occasion (1 January, 50): frequency 0, recency 0.
    Returns are netted within the summarised period only: in :func:`calibration_holdout_split` a
    holdout return does not change the calibration summary, and returns after ``observation_end`` are
    not counted.

    **Dates in the future.** "Today" is this machine's local date (``datetime.date.today()``), with one
    day of grace for time zones ahead of it: a date counts as in the future when it is later than
    tomorrow. A log holding transactions dated in the future is refused with :class:`DataError` naming
    how many there are and the first five (row position, customer id, date), whatever
    ``observation_end`` and ``drop_after_end`` are: a log of past purchases cannot hold them, and one
    such typo would otherwise become the end of observation and lengthen ``T`` for every customer. There
    is no option to accept them; fix or drop those rows (scheduled orders are not purchases yet). An
    ``observation_end`` in the future is refused the same way. An ``observation_end`` 365 days or more
    after the log's last transaction (a year in which nobody bought anything, usually a typo in the year
    or an incomplete log) draws a :class:`~clvlab.errors.ClvlabWarning` naming the last transaction's
    date and the gap. These checks cost one pass (the maximum) over the dates already read. Every
    reader of a log follows these rules.

    Examples
    --------
    >>> import clvlab
    >>> log = clvlab.datasets.load_cdnow_transactions()
    >>> s = clvlab.rfm_summary(log, monetary_value="amount", observation_end="1997-09-30",
    ...                        time_unit="W", drop_after_end=True)
    >>> s.loc[1].round(2).tolist()
    [2.0, 30.43, 38.86, 22.34]
    """
    unit_days = time_unit_days(time_unit)
    log = _read_log(transactions, customer_id, datetime, monetary_value, allow_returns, date_format)
    end = _resolve_end(log, observation_end, drop_after_end, "observation_end", date_format)
    keep = log.days <= end
    occ = _occasions(log, None if keep.all() else keep)
    summary = _summary_frame(
        log, occ, end, unit_days, time_unit, monetary_value is not None, include_first_transaction
    )
    return join_customers(summary, customers, customer_id)


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
    date_format: str | None = None,
    customers: Any = None,
) -> pd.DataFrame:
    """Split a log into a calibration summary and what the same customers did in the holdout period.

    The calibration period runs from the first transaction to ``calibration_end`` (inclusive); the holdout
    period is (``calibration_end``, ``observation_end``].

    Parameters
    ----------
    transactions : pandas.DataFrame or polars.DataFrame
        One row per transaction; never modified.
    customer_id, datetime, monetary_value, time_unit, allow_returns, date_format, customers
        As in :func:`rfm_summary`; ``date_format`` applies to string ``calibration_end`` and
        ``observation_end`` too.
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
    occasion is a calendar day, in both periods. With ``allow_returns=True`` returns are netted within
    each period (see :func:`rfm_summary`): a holdout return of a calibration purchase changes neither.
    """
    unit_days = time_unit_days(time_unit)
    log = _read_log(transactions, customer_id, datetime, monetary_value, allow_returns, date_format)
    end = _resolve_end(log, observation_end, drop_after_end, "observation_end", date_format)
    cal_end = to_day(calibration_end, "calibration_end", date_format)
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
    return join_customers(summary, customers, customer_id)


def join_customers(summary: pd.DataFrame, customers: Any, customer_id: str = "customer_id") -> pd.DataFrame:
    """``summary`` with the customer attributes of ``customers`` joined on the customer id (covariates).

    ``customers`` is a DataFrame with one row per customer, indexed by the customer id or holding it in
    a ``customer_id`` column (the name passed to :func:`rfm_summary`). Every customer of the summary
    must have a row; customers without transactions in the period are ignored. A new frame is returned
    (``attrs`` kept); ``None`` returns ``summary`` unchanged.

    Raises
    ------
    DataError
        For duplicate customer ids, customers of the summary without attributes, or attribute columns
        that clash with the summary's own.
    """
    if customers is None:
        return summary
    if not isinstance(customers, pd.DataFrame):
        raise DataError(
            f"customers must be a pandas DataFrame of customer attributes, got {type(customers).__name__}"
        )
    attrs = customers.set_index(customer_id) if customer_id in customers.columns else customers
    if attrs.index.has_duplicates:
        dup = attrs.index[attrs.index.duplicated()].unique()
        raise DataError(
            f"customers holds {len(dup)} duplicated customer id(s), e.g. {_plain(dup[0])!r}: one row per "
            "customer is needed"
        )
    clash = [c for c in attrs.columns if c in summary.columns]
    if clash:
        raise DataError(
            f"customers has column(s) {clash} that the summary already holds; rename or drop them"
        )
    try:
        missing = summary.index.difference(attrs.index)
    except TypeError:
        missing = summary.index
    if len(missing):
        raise DataError(
            f"{len(missing)} customer(s) of the summary have no row in customers, e.g. customer id "
            f"{_plain(missing[0])!r} (check that the ids have the same type, e.g. int vs str)"
        )
    joined = summary.join(attrs, how="left")
    joined.attrs = dict(summary.attrs)
    return joined
