"""RFM summaries of a transaction log in Spark SQL, with the conventions of :func:`clvlab.rfm_summary`.

Everything per row runs as Spark SQL expressions (no Python UDF); the driver runs one aggregate query
over the log to validate it and find its first and last day (the global end of observation), and raises
clvlab's own :class:`~clvlab.errors.DataError` there, never from an executor.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as sf

from clvlab.data._input import day_to_timestamp, time_unit_days, to_day
from clvlab.data.summary import END_GAP_WARN_DAYS, latest_allowed_day
from clvlab.errors import ClvlabWarning, DataError
from clvlab.spark._common import (
    check_timezone,
    day_number,
    is_numeric,
    not_finite,
    plain,
    require_columns,
    tagged,
)

__all__ = ["calibration_holdout_split", "rfm_summary"]

#: Internal column names of the log while it is summarised.
_ID, _DAY, _AMT = "__clvlab_id", "__clvlab_day", "__clvlab_amount"
_PERIOD = "__clvlab_holdout"
#: Future-dated rows named in the error message.
_SHOW_ROWS = 5
#: Summary columns (the customer id column may not take one of these names).
_RESERVED = (
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "frequency_holdout",
    "monetary_value_holdout",
    "duration_holdout",
)


@dataclass(frozen=True)
class _Log:
    """A checked log as Spark columns (``_ID``, ``_DAY``, ``_AMT``) and its first and last day."""

    rows: DataFrame
    customer_id: str
    with_amount: bool
    returns: bool
    first_day: int
    last_day: int


def _date(day: int) -> Any:
    return day_to_timestamp(day).date()


def _read_log(
    transactions: Any,
    customer_id: str,
    datetime: str,
    monetary_value: str | None,
    allow_returns: bool,
    timezone: str,
    end_day: int | None,
    end_name: str,
) -> tuple[_Log, int]:
    """Check the log in one aggregate query; return it and the number of rows after ``end_day``."""
    if not isinstance(transactions, DataFrame):
        raise DataError(f"transactions must be a Spark DataFrame, got {type(transactions).__name__}")
    columns = [customer_id, datetime] + ([monetary_value] if monetary_value is not None else [])
    if len(set(columns)) != len(columns):
        raise DataError(f"customer_id, datetime and monetary_value must name different columns: {columns}")
    require_columns(transactions, columns, "transactions")
    if customer_id in _RESERVED:
        raise DataError(f"the customer id column may not be named {customer_id!r} (a summary column)")
    check_timezone(timezone)
    day = day_number(transactions, datetime, timezone)
    if monetary_value is not None and not is_numeric(transactions, monetary_value):
        dtype = transactions.schema[monetary_value].dataType.simpleString()
        raise DataError(f"column {monetary_value!r} must be numeric, got dtype {dtype}")
    amount = sf.col(monetary_value).cast("double") if monetary_value is not None else sf.lit(None)
    rows = transactions.select(
        sf.col(customer_id).alias(_ID), day.alias(_DAY), amount.cast("double").alias(_AMT)
    )
    limit, today = latest_allowed_day()
    aggregates: list[Column] = [
        sf.count(sf.lit(1)).alias("n"),
        sf.count_if(sf.col(_ID).isNull()).alias("null_ids"),
        sf.count_if(sf.col(_DAY).isNull()).alias("null_dates"),
        sf.min(_DAY).alias("first"),
        sf.max(_DAY).alias("last"),
        sf.count_if(sf.col(_DAY) > sf.lit(limit)).alias("future"),
    ]
    if monetary_value is not None:
        aggregates += [
            sf.count_if(not_finite(sf.col(_AMT))).alias("bad_amounts"),
            sf.count_if(sf.col(_AMT) < 0).alias("negative"),
        ]
    if end_day is not None:
        aggregates.append(sf.count_if(sf.col(_DAY) > sf.lit(end_day)).alias("after_end"))
    stats = rows.agg(*aggregates).first()
    assert stats is not None
    if stats["n"] == 0:
        raise DataError("transactions is empty: there is nothing to summarise")
    if stats["null_ids"]:
        raise DataError(f"column {customer_id!r} has null customer ids: {stats['null_ids']} row(s)")
    if stats["null_dates"]:
        raise DataError(f"column {datetime!r} has missing dates: {stats['null_dates']} row(s)")
    if monetary_value is not None:
        if stats["bad_amounts"]:
            example = rows.filter(not_finite(sf.col(_AMT))).select(_ID, _AMT).first()
            assert example is not None
            raise DataError(
                f"column {monetary_value!r} has NaN, infinite or missing amounts: {stats['bad_amounts']} "
                f"row(s), e.g. customer {plain(example[_ID])!r}, value {example[_AMT]}"
            )
        if stats["negative"] and not allow_returns:
            example = rows.filter(sf.col(_AMT) < 0).select(_ID, _AMT).first()
            assert example is not None
            raise DataError(
                f"column {monetary_value!r} has negative amounts (returns?): {stats['negative']} row(s), "
                f"e.g. customer {plain(example[_ID])!r}, value {example[_AMT]}; remove them, or pass "
                "allow_returns=True to net them against the same day's purchases"
            )
    if stats["future"]:
        shown_rows = (
            rows.filter(sf.col(_DAY) > sf.lit(limit)).orderBy(_DAY, _ID).select(_ID, _DAY).limit(_SHOW_ROWS)
        ).collect()
        shown = ", ".join(f"customer {plain(r[_ID])!r} on {_date(int(r[_DAY]))}" for r in shown_rows)
        more = f" and {stats['future'] - _SHOW_ROWS} more" if stats["future"] > _SHOW_ROWS else ""
        raise DataError(
            f"column {datetime!r} has {stats['future']} transaction(s) dated after today ({today}), "
            f"earliest: {shown}{more}. A log of past purchases cannot hold them, and one such date would "
            "move the end of observation (and T) for every customer. Fix these dates (a typo in the year?) "
            "or drop those rows before summarising"
        )
    log = _Log(
        rows=rows,
        customer_id=customer_id,
        with_amount=monetary_value is not None,
        returns=allow_returns and monetary_value is not None,
        first_day=int(stats["first"]),
        last_day=int(stats["last"]),
    )
    return log, int(stats["after_end"]) if end_day is not None else 0


def _resolve_end(log: _Log, end: int | None, after_end: int, drop_after_end: bool, name: str) -> int:
    """The last day observed, by the rules of :func:`clvlab.data.summary._resolve_end`."""
    if end is None:
        return log.last_day
    if end < log.first_day:
        raise DataError(f"{name} {_date(end)} is before the first transaction ({_date(log.first_day)})")
    limit, today = latest_allowed_day()
    if end > limit:
        raise DataError(
            f"{name} {_date(end)} is after today ({today}): nobody can have been observed until then, and "
            "T would count time that has not happened yet. Pass the last day your data covers (the log's "
            f"last transaction is on {_date(log.last_day)}), or leave {name} out to use that day"
        )
    gap = end - log.last_day
    if gap >= END_GAP_WARN_DAYS:
        warnings.warn(
            f"{name} {_date(end)} is {gap} days ({gap / 365.25:.1f} years) after the log's last transaction "
            f"({_date(log.last_day)}): no customer bought anything in that time, and T includes it for "
            f"everyone. Check {name} (a typo in the year?) and the log (is it complete?)",
            ClvlabWarning,
            stacklevel=4,
        )
    if after_end and not drop_after_end:
        first = log.rows.filter(sf.col(_DAY) > sf.lit(end)).orderBy(_DAY, _ID).select(_ID, _DAY).first()
        assert first is not None
        raise DataError(
            f"{after_end} transaction(s) fall after {name} {_date(end)} (the earliest: customer "
            f"{plain(first[_ID])!r} on {_date(int(first[_DAY]))}); pass drop_after_end=True to summarise "
            "only up to that date, or use calibration_holdout_split"
        )
    return end


def _net_returns(occasions: DataFrame) -> DataFrame:
    """Occasions with the value left once later returns are netted (see clvlab.data.summary._net_returns).

    The same reflected running sums, as window functions per customer and period (calibration or
    holdout, netted apart as in the pandas path) ordered by day: the running sum S, its floor
    min(0, min S), the level R = S - floor, the smallest level from here on, and the value left,
    clip(kept - (R - v), 0, max(v, 0)), zero within 1e-9 of the level. Customers without a return day
    keep their values untouched, as in the pandas path.
    """
    by_customer = Window.partitionBy(_ID, _PERIOD)
    so_far = by_customer.orderBy(_DAY).rowsBetween(Window.unboundedPreceding, Window.currentRow)
    from_here = by_customer.orderBy(_DAY).rowsBetween(Window.currentRow, Window.unboundedFollowing)
    v = sf.col(_AMT)
    step1 = occasions.select(
        _ID,
        _PERIOD,
        _DAY,
        _AMT,
        sf.max((v <= 0).cast("int")).over(by_customer).alias("has_return"),
        sf.sum(v).over(so_far).alias("running"),
    )
    step2 = step1.withColumn(
        "level", sf.col("running") - sf.least(sf.min("running").over(so_far), sf.lit(0.0))
    )
    step3 = step2.withColumn("kept", sf.min("level").over(from_here))
    left = sf.least(
        sf.greatest(sf.col("kept") - (sf.col("level") - v), sf.lit(0.0)), sf.greatest(v, sf.lit(0.0))
    )
    netted = sf.when(left <= sf.lit(1e-9) * sf.abs(sf.col("level")), sf.lit(0.0)).otherwise(left)
    value = sf.when(sf.col("has_return") == 1, netted).otherwise(v)
    return step3.select(_ID, _PERIOD, _DAY, value.alias(_AMT)).filter(sf.col(_AMT) > 0)


def _per_customer(log: _Log, end: int, calibration_end: int | None = None) -> DataFrame:
    """The rows up to ``end`` reduced to one row per customer of the (calibration) period, in one pass.

    Occasions are the (customer, day) groups (amounts summed, returns netted per period); each customer
    gets ``n``, ``first``, ``last``, ``first_amount`` and ``total`` of the occasions up to
    ``calibration_end`` (all of them without one) and, with a ``calibration_end``, ``n_holdout`` and
    ``total_holdout`` of those after it. Customers without an occasion in the calibration period are
    left out, as in :func:`clvlab.calibration_holdout_split`.
    """
    day = sf.col(_DAY)
    holdout = day > sf.lit(calibration_end) if calibration_end is not None else sf.lit(False)
    rows = log.rows.filter(day <= sf.lit(end))
    if log.with_amount:
        occasions = rows.groupBy(_ID, _DAY).agg(sf.sum(_AMT).alias(_AMT)).withColumn(_PERIOD, holdout)
        if log.returns:
            occasions = _net_returns(occasions)
    else:
        occasions = rows.select(_ID, _DAY).distinct().withColumn(_PERIOD, holdout)
    cal = ~sf.col(_PERIOD)
    amount = sf.col(_AMT)
    aggregates = [
        sf.count_if(cal).alias("n"),
        sf.min(sf.when(cal, day)).alias("first"),
        sf.max(sf.when(cal, day)).alias("last"),
    ]
    if log.with_amount:
        aggregates += [
            sf.min_by(amount, sf.when(cal, day)).alias("first_amount"),
            sf.sum(sf.when(cal, amount)).alias("total"),
        ]
    if calibration_end is not None:
        aggregates.append(sf.count_if(~cal).alias("n_holdout"))
        if log.with_amount:
            aggregates.append(sf.sum(sf.when(~cal, amount)).alias("total_holdout"))
    return occasions.groupBy(_ID).agg(*aggregates).filter(sf.col("n") > 0)


def _summary_columns(
    log: _Log, end: int, unit_days: float, time_unit: str, include_first: bool
) -> list[Column]:
    """The summary's columns (id, frequency, recency, T, monetary value) from :func:`_per_customer`'s."""
    n = sf.col("n").cast("double")
    frequency = n if include_first else n - sf.lit(1.0)
    out = [
        tagged(sf.col(_ID), log.customer_id, role="customer_id"),
        tagged(frequency, "frequency", time_unit=time_unit),
        tagged(
            (sf.col("last") - sf.col("first")).cast("double") / sf.lit(unit_days),
            "recency",
            time_unit=time_unit,
        ),
        tagged((sf.lit(end) - sf.col("first")).cast("double") / sf.lit(unit_days), "T", time_unit=time_unit),
    ]
    if log.with_amount:
        total = sf.col("total") if include_first else sf.col("total") - sf.col("first_amount")
        monetary = sf.when(frequency > 0, total / frequency).otherwise(sf.lit(0.0))
        out.append(tagged(monetary, "monetary_value", time_unit=time_unit))
    return out


def _end_day(value: Any, name: str, date_format: str | None) -> int | DataError | None:
    """``value`` as a day number, or the DataError to raise once the log has been checked (pandas order)."""
    if value is None:
        return None
    try:
        return to_day(value, name, date_format)
    except DataError as exc:
        return exc


def _read_log_and_end(
    transactions: Any,
    customer_id: str,
    datetime: str,
    monetary_value: str | None,
    allow_returns: bool,
    timezone: str,
    observation_end: Any,
    drop_after_end: bool,
    date_format: str | None,
) -> tuple[_Log, int]:
    """Check the log and resolve the end of observation (errors in the order of the pandas path)."""
    end_day = _end_day(observation_end, "observation_end", date_format)
    known = end_day if isinstance(end_day, int) else None
    log, after_end = _read_log(
        transactions, customer_id, datetime, monetary_value, allow_returns, timezone, known, "observation_end"
    )
    if isinstance(end_day, DataError):
        raise end_day
    return log, _resolve_end(log, known, after_end, drop_after_end, "observation_end")


def _check_not_empty(summary: DataFrame, log: _Log) -> None:
    """With returns, refuse a log whose occasions are all netted away (one query, on the driver)."""
    if log.returns and summary.isEmpty():
        raise DataError("no purchase occasions are left in the period once returns are netted")


def rfm_summary(
    transactions: DataFrame,
    *,
    customer_id: str = "customer_id",
    datetime: str = "date",
    monetary_value: str | None = None,
    observation_end: Any = None,
    time_unit: str = "D",
    timezone: str = "UTC",
    include_first_transaction: bool = False,
    drop_after_end: bool = False,
    allow_returns: bool = False,
    date_format: str | None = None,
) -> DataFrame:
    """Summarise a Spark transaction log into one row per customer, like :func:`clvlab.rfm_summary`.

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame
        One row per transaction; never modified.
    customer_id, datetime, monetary_value, observation_end, time_unit, include_first_transaction, \
drop_after_end, allow_returns
        As in :func:`clvlab.rfm_summary`. The date column must be a Spark ``date``, ``timestamp_ntz``
        (naive: counted by its calendar day) or ``timestamp`` (an instant: counted by its calendar day in
        ``timezone``); convert strings with ``to_date`` / ``to_timestamp`` first.
    timezone : str
        IANA time zone whose calendar days count for ``timestamp`` columns (default ``"UTC"``, whatever
        the session's time zone is).
    date_format : str, optional
        strftime format of a string ``observation_end``.

    Returns
    -------
    pyspark.sql.DataFrame
        Columns ``customer_id`` (the id column, under its own name), ``frequency``, ``recency``, ``T`` and
        optionally ``monetary_value`` (doubles), the same rows and values as :func:`clvlab.rfm_summary`
        (money to rounding: Spark sums amounts in no fixed order). The time unit is recorded in the
        columns' metadata (``{"clvlab": {"time_unit": ...}}``), which Parquet files keep; the scoring
        functions check it. Rows come in no particular order.

    Raises
    ------
    DataError
        As :func:`clvlab.rfm_summary`, raised on the driver after one aggregate query over the log;
        also for a date column that is not a date or timestamp and an unknown ``timezone``.

    Warns
    -----
    ClvlabWarning
        When ``observation_end`` is 365 days or more after the log's last transaction.

    Notes
    -----
    One aggregate query (count, nulls, first and last day, amounts, future dates, rows after
    ``observation_end``) checks the log; the summary itself is lazy: occasions are grouped by
    (customer, day), returns netted with window functions per customer, and customers aggregated, all in
    Spark SQL. With ``allow_returns=True`` one more query checks that some occasion is left.
    """
    unit_days = time_unit_days(time_unit)
    log, end = _read_log_and_end(
        transactions,
        customer_id,
        datetime,
        monetary_value,
        allow_returns,
        timezone,
        observation_end,
        drop_after_end,
        date_format,
    )
    columns = _summary_columns(log, end, unit_days, time_unit, include_first_transaction)
    summary = _per_customer(log, end).select(*columns)
    _check_not_empty(summary, log)
    return summary


def calibration_holdout_split(
    transactions: DataFrame,
    *,
    customer_id: str = "customer_id",
    datetime: str = "date",
    calibration_end: Any,
    observation_end: Any = None,
    monetary_value: str | None = None,
    time_unit: str = "D",
    timezone: str = "UTC",
    drop_after_end: bool = False,
    allow_returns: bool = False,
    date_format: str | None = None,
) -> DataFrame:
    """Calibration summary and holdout of a Spark log, like :func:`clvlab.calibration_holdout_split`.

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame
        One row per transaction; never modified.
    customer_id, datetime, calibration_end, observation_end, monetary_value, time_unit, drop_after_end, \
allow_returns, date_format
        As in :func:`clvlab.calibration_holdout_split`.
    timezone : str
        As in :func:`rfm_summary`.

    Returns
    -------
    pyspark.sql.DataFrame
        The id column, ``frequency``, ``recency``, ``T`` (and ``monetary_value``) of the calibration
        period, ``frequency_holdout`` (and ``monetary_value_holdout``) and ``duration_holdout``; the time
        unit in the columns' metadata.

    Raises
    ------
    DataError
        As :func:`clvlab.calibration_holdout_split`, on the driver.
    """
    unit_days = time_unit_days(time_unit)
    log, end = _read_log_and_end(
        transactions,
        customer_id,
        datetime,
        monetary_value,
        allow_returns,
        timezone,
        observation_end,
        drop_after_end,
        date_format,
    )
    cal_end = to_day(calibration_end, "calibration_end", date_format)
    if not log.first_day <= cal_end < end:
        raise DataError(
            f"calibration_end {_date(cal_end)} must lie within the log, on or after the first transaction "
            f"({_date(log.first_day)}) and before observation_end ({_date(end)})"
        )
    customers = _per_customer(log, end, cal_end)
    # The holdout columns come from the same aggregate as the calibration ones: one pass, no join.
    out = _summary_columns(log, cal_end, unit_days, time_unit, False)
    n_h = sf.col("n_holdout").cast("double")
    out.append(tagged(n_h, "frequency_holdout", time_unit=time_unit))
    if log.with_amount:
        value_h = sf.when(n_h > 0, sf.col("total_holdout") / n_h).otherwise(sf.lit(0.0))
        out.append(tagged(value_h, "monetary_value_holdout", time_unit=time_unit))
    duration = (end - cal_end) / unit_days
    out.append(tagged(sf.lit(duration), "duration_holdout", time_unit=time_unit))
    summary = customers.select(*out)
    _check_not_empty(summary, log)
    return summary
