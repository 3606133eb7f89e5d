"""Boundary checks for transaction logs: column selection, polars input, dates and amounts.

Everything here reads the caller's frame and returns new arrays; nothing writes into the input.
"""

from __future__ import annotations

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


def _is_polars(obj: object) -> bool:
    return type(obj).__module__.split(".", 1)[0] == "polars"


def select_columns(frame: Any, columns: Sequence[str], *, what: str = "transactions") -> pd.DataFrame:
    """Return a new pandas DataFrame holding only ``columns`` of ``frame`` (pandas or polars).

    Raises
    ------
    DataError
        If ``frame`` is not a DataFrame, lacks a column or is empty.
    """
    if _is_polars(frame) and hasattr(frame, "get_column"):
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
    """Check customer ids for nulls and return them unchanged."""
    null = values.isna().to_numpy()
    if null.any():
        raise DataError(f"column {column!r} has null customer ids: {first_bad_row(null)}")
    return values


def to_days(values: pd.Series, column: str) -> npt.NDArray[np.int64]:
    """Convert a date column to whole calendar days since 1970-01-01.

    Accepts datetime64 (naive or timezone-aware: the local calendar day is kept), ``datetime.date``
    objects and parseable strings. Times of day are dropped: purchases on one calendar day are one
    purchase occasion.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    if not pd.api.types.is_datetime64_dtype(values.dtype):
        null_before = values.isna().to_numpy()
        if null_before.any():
            raise DataError(f"column {column!r} has missing dates: {first_bad_row(null_before)}")
        if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            raise DataError(
                f"column {column!r} holds numbers ({values.dtype}), not dates; convert it first, for "
                "example pandas.to_datetime(df[col].astype(str), format='%Y%m%d')"
            )
        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = parsed.dt.tz_localize(None)
        bad = parsed.isna().to_numpy()
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"column {column!r} has unparseable dates: {first_bad_row(bad)}, value {values.iloc[pos]!r}"
            )
        values = parsed
    null = values.isna().to_numpy()
    if null.any():
        raise DataError(f"column {column!r} has missing dates: {first_bad_row(null)}")
    return values.to_numpy().astype("datetime64[D]").view(np.int64)


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


def to_day(value: Any, name: str) -> int:
    """Convert one date-like value (string, date, Timestamp) to whole days since 1970-01-01."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name} is not a date: {value!r}") from exc
    if ts is pd.NaT:
        raise DataError(f"{name} is not a date: {value!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return int(ts.to_datetime64().astype("datetime64[D]").astype(np.int64))


def day_to_timestamp(day: int) -> pd.Timestamp:
    """Inverse of :func:`to_day`."""
    return pd.Timestamp(np.datetime64(int(day), "D"))
