"""Boundary checks for transaction logs: column selection, polars input, dates and amounts.

Everything here reads the caller's frame and returns new arrays; nothing writes into the input.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from clvlab.errors import DataError

#: Length of one time unit in days. Weeks are 7 days (fractional weeks, as in the literature); months
#: and years are 365.25 / 12 and 365.25 days.
TIME_UNIT_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12.0, "Y": 365.25}


def time_unit_days(time_unit: str) -> float:
    """Return the length of ``time_unit`` in days, or raise :class:`DataError` for an unknown unit."""
    try:
        return TIME_UNIT_DAYS[time_unit]
    except (KeyError, TypeError):
        raise DataError(
            f"time_unit must be one of {sorted(TIME_UNIT_DAYS)} (days, weeks of 7 days, months of "
            f"365.25/12 days, years of 365.25 days); got {time_unit!r}"
        ) from None


def is_polars(obj: object) -> bool:
    return type(obj).__module__.split(".", 1)[0] == "polars"


def select_columns(frame: Any, columns: Sequence[str], *, what: str = "transactions") -> pd.DataFrame:
    """Return a new pandas DataFrame holding only ``columns`` of ``frame`` (pandas or polars).

    Raises
    ------
    DataError
        If ``frame`` is not a DataFrame, lacks a column or is empty.
    """
    if is_polars(frame) and hasattr(frame, "get_column"):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(f"{what}: missing column(s) {missing}; available: {list(frame.columns)}")
        data = {}
        for c in columns:
            s = frame.get_column(c)
            dtype = s.dtype
            if getattr(dtype, "time_zone", None) is not None:
                # Keep the local calendar day, as for timezone-aware pandas input.
                s = s.dt.replace_time_zone(None)
            data[c] = s.to_numpy()
        out = pd.DataFrame(data)
    elif isinstance(frame, pd.DataFrame):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(f"{what}: missing column(s) {missing}; available: {list(frame.columns)}")
        # Series share the caller's memory (copy-on-write): nothing below writes into them.
        out = pd.DataFrame({c: frame[c] for c in columns}, copy=False)
    else:
        raise DataError(f"{what} must be a pandas or polars DataFrame, got {type(frame).__name__}")
    if len(out) == 0:
        raise DataError(f"{what} is empty: there is nothing to summarise")
    return out


def first_bad_row(mask: npt.NDArray[np.bool_], index: pd.Index | None = None) -> str:
    """Describe the first True position of ``mask`` for an error message."""
    pos = int(np.flatnonzero(mask)[0])
    where = f"row {pos}" if index is None else f"row {pos} (index {index[pos]!r})"
    return f"{int(mask.sum())} row(s), first at {where}"


def customer_ids(values: pd.Series, column: str) -> pd.Series:
    """Check customer ids for nulls and for mixed types; return them unchanged.

    Ids of two kinds in one column (``1`` and ``"1"``, numbers and strings, numbers and booleans) are
    refused: they cannot be sorted, and ``1`` and ``"1"`` would silently be two customers.
    """
    null = values.isna().to_numpy()
    if null.any():
        raise DataError(f"column {column!r} has null customer ids: {first_bad_row(null)}")
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=False).startswith("mixed"):
        kinds = pd.Series([_id_kind(v) for v in pd.unique(values.to_numpy())], dtype=object).unique()
        if len(kinds) > 1:
            first = values.map(_id_kind).ne(kinds[0]).to_numpy()
            raise DataError(
                f"column {column!r} mixes customer ids of types {kinds[0]} and {kinds[1]} (e.g. 1 and "
                f"'1'): {first_bad_row(first, values.index)}, value {values.iloc[int(first.argmax())]!r}; "
                f"make them one type first, e.g. df[{column!r}] = df[{column!r}].astype(str)"
            )
    return values


def _id_kind(value: Any) -> str:
    """A customer id's kind: ints and floats are one kind (they compare), booleans another."""
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | float | np.integer | np.floating):
        return "number"
    return type(value).__name__


#: A UTC offset (or Z / UTC / GMT) right after a time of day at the end of a date string.
_OFFSET = r"(\d:\d\d(?::\d\d(?:[.,]\d*)?)?)\s*(?:Z|UTC|GMT|[+-]\d\d(?::?\d\d)?)$"

#: A day-first format to quote in error messages when none can be guessed.
_EXAMPLE_FORMAT = "%d/%m/%Y"


def _strptime(values: pd.Series, fmt: str, *, dayfirst: bool = False) -> pd.Series:
    """Parse strings with ``fmt`` (a strftime format, ``"ISO8601"`` or ``"mixed"``); NaT where they fail.

    Time-zone offsets are dropped so that each date keeps its local calendar day (wall-clock time), also
    when the offsets differ between values (which pandas refuses to parse into one column).
    """
    try:
        parsed = pd.to_datetime(values, format=fmt, errors="coerce", dayfirst=dayfirst)
    except ValueError as exc:
        if "timezone" not in str(exc).lower():
            raise
        wall = values.astype(str).str.replace(_OFFSET, r"\1", regex=True)
        if fmt not in ("ISO8601", "mixed"):
            fmt = fmt.replace("%z", "").replace("%Z", "").strip()
        parsed = pd.to_datetime(wall, format=fmt, errors="coerce", dayfirst=dayfirst)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    return parsed


def _guess_format(values: pd.Series) -> str | None:
    """The strftime format pandas guesses from the first values (month first where both fit)."""
    from pandas.tseries.api import guess_datetime_format

    for value in values.iloc[:20]:
        if isinstance(value, str):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fmt = guess_datetime_format(value, dayfirst=False)
            if fmt is not None:
                return fmt
    return None


def _swap_day_month(fmt: str) -> str | None:
    """``fmt`` with day and month swapped, or None when it has no day-month order to swap.

    Year-first formats (``%Y/%m/%d``, ISO order) are not swapped: nobody writes year, day, month.
    """
    if "%d" not in fmt or "%m" not in fmt:
        return None
    year = min((i for i in (fmt.find("%Y"), fmt.find("%y")) if i >= 0), default=-1)
    if 0 <= year < min(fmt.index("%d"), fmt.index("%m")):
        return None
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def _refuse_ambiguous(
    what: str, values: pd.Series, day_first: pd.Series, month_first: pd.Series, fmt: str | None
) -> None:
    """Raise :class:`DataError` if a value reads as two different dates, day first and month first."""
    differ = (day_first.notna() & month_first.notna() & (day_first != month_first)).to_numpy()
    if not differ.any():
        return
    pos = int(np.flatnonzero(differ)[0])
    suggestion = fmt if fmt is not None else _EXAMPLE_FORMAT
    raise DataError(
        f"{what} has dates that read as different days day-first and month-first: {values.iloc[pos]!r} is "
        f"{day_first.iloc[pos].date()} day-first but {month_first.iloc[pos].date()} month-first "
        f"({int(differ.sum())} such distinct value(s)). Pass date_format= with the format of the dates, "
        f'for example date_format="{suggestion}" (strftime codes: %d day, %m month, %Y year)'
    )


def _read_strings(values: pd.Series, what: str) -> pd.Series:
    """Parse distinct date strings given without a format; NaT where they cannot be read.

    ISO dates (year first) are read directly. Other values are read both day first and month first
    (each falling back to the other order only where it must, as for "13/01/2024"); a value that reads
    as two different dates is refused, so the reading of a row never depends on the other rows.
    """
    iso = _strptime(values, "ISO8601")
    if iso.notna().all():
        return iso
    fmt = _guess_format(values)
    other = _swap_day_month(fmt) if fmt is not None else None
    if fmt is None:
        parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    elif other is None:
        parsed = _strptime(values, fmt)
    else:
        first, second = _strptime(values, fmt), _strptime(values, other)
        day_first_fmt = fmt if fmt.index("%d") < fmt.index("%m") else other
        day, month = (first, second) if day_first_fmt == fmt else (second, first)
        _refuse_ambiguous(what, values, day, month, day_first_fmt)
        parsed = first.fillna(second)
    parsed = parsed.fillna(iso)
    left = parsed.isna().to_numpy()
    if left.any():  # values of another form: pandas' (dateutil's) reading, both ways
        rest = values[left]
        month = _strptime(rest, "mixed", dayfirst=False)
        day = _strptime(rest, "mixed", dayfirst=True)
        _refuse_ambiguous(what, rest, day, month, None)
        parsed = parsed.astype(month.dtype)
        parsed[left] = month.fillna(day).to_numpy()
    return parsed


def _parse_dates(
    values: pd.Series, what: str, date_format: str | None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Days since 1970-01-01 of non-null, non-datetime64 values, and where they could not be read.

    Each distinct value is parsed once (logs repeat their dates).
    """
    codes, uniques = pd.factorize(values)
    distinct = pd.Series(uniques)
    parsed = _strptime(distinct, date_format) if date_format is not None else _read_strings(distinct, what)
    bad_distinct = parsed.isna().to_numpy()
    days = parsed.to_numpy().astype("datetime64[D]").view(np.int64)
    return days[codes], bad_distinct[codes]


def to_days(values: pd.Series, column: str, date_format: str | None = None) -> npt.NDArray[np.int64]:
    """Convert a date column to whole calendar days since 1970-01-01.

    Parameters
    ----------
    values : pandas.Series
        datetime64 (naive or timezone-aware: the local calendar day is kept), ``datetime.date`` objects
        or date strings.
    column : str
        The column's name, for error messages.
    date_format : str, optional
        strftime format of string dates (e.g. ``"%d/%m/%Y"``); ignored for datetime64 columns.

    Returns
    -------
    numpy.ndarray
        int64 days since 1970-01-01. Times of day are dropped: purchases on one calendar day are one
        purchase occasion. Time-zone offsets in strings are dropped too (the local calendar day counts),
        also when they differ between rows.

    Raises
    ------
    DataError
        For missing or unparseable dates, numbers, values that do not match ``date_format``, and string
        dates without ``date_format`` that read as different days day-first and month-first.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        null = values.isna().to_numpy()
        if null.any():
            raise DataError(f"column {column!r} has missing dates: {first_bad_row(null)}")
        return values.to_numpy().astype("datetime64[D]").view(np.int64)
    null_before = values.isna().to_numpy()
    if null_before.any():
        raise DataError(f"column {column!r} has missing dates: {first_bad_row(null_before)}")
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        raise DataError(
            f"column {column!r} holds numbers ({values.dtype}), not dates; convert it first, for "
            "example pandas.to_datetime(df[col].astype(str), format='%Y%m%d')"
        )
    days, bad = _parse_dates(values, f"column {column!r}", date_format)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        what = f"dates not matching date_format {date_format!r}" if date_format else "unparseable dates"
        raise DataError(f"column {column!r} has {what}: {first_bad_row(bad)}, value {values.iloc[pos]!r}")
    return days


def to_amounts(values: pd.Series, column: str, *, allow_negative: bool) -> npt.NDArray[np.float64]:
    """Check a monetary column: numeric, finite and (unless allowed) non-negative."""
    if not (pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)):
        raise DataError(f"column {column!r} must be numeric, got dtype {values.dtype}")
    arr = values.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(arr)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"column {column!r} has NaN or infinite amounts: {first_bad_row(bad)}, value {arr[pos]}"
        )
    if not allow_negative:
        neg = arr < 0
        if neg.any():
            pos = int(np.flatnonzero(neg)[0])
            raise DataError(
                f"column {column!r} has negative amounts (returns?): {first_bad_row(neg)}, value {arr[pos]}; "
                "remove them, or pass allow_returns=True to net them against the same day's purchases"
            )
    return arr


def to_day(value: Any, name: str, date_format: str | None = None) -> int:
    """Convert one date-like value (string, date, Timestamp) to whole days since 1970-01-01.

    Strings are read by the rules of :func:`to_days` (``date_format``, day-first / month-first
    ambiguity, time-zone offsets).
    """
    if isinstance(value, str):
        days, bad = _parse_dates(pd.Series([value], dtype=object), name, date_format)
        if bad[0]:
            hint = f" matching date_format {date_format!r}" if date_format is not None else ""
            raise DataError(f"{name} is not a date{hint}: {value!r}")
        return int(days[0])
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name} is not a date: {value!r}") from exc
    if pd.isna(ts):
        raise DataError(f"{name} is not a date: {value!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return int(ts.to_datetime64().astype("datetime64[D]").astype(np.int64))


def day_to_timestamp(day: int) -> pd.Timestamp:
    """Inverse of :func:`to_day`."""
    return pd.Timestamp(np.datetime64(int(day), "D"))
