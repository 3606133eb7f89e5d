"""Validation of customer summaries handed to a model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from clvlab.data._input import first_bad_row, is_polars
from clvlab.errors import DataError

__all__ = ["summary_time_unit", "validate_summary"]


def as_pandas(data: Any) -> pd.DataFrame:
    """A pandas or polars summary as a pandas DataFrame (the caller's pandas frame itself, not a copy)."""
    if isinstance(data, pd.DataFrame):
        return data
    if is_polars(data) and hasattr(data, "get_column"):
        return pd.DataFrame({c: data.get_column(c).to_numpy() for c in data.columns})
    raise DataError(f"the summary must be a pandas or polars DataFrame, got {type(data).__name__}")


def summary_time_unit(data: Any) -> str | None:
    """Return the time unit a summary records, or ``None`` when it records none.

    The unit is ``data.attrs["time_unit"]`` (set by :func:`clvlab.rfm_summary` and kept by pandas in
    Parquet files), else the value of a ``time_unit`` column (which survives CSV files), pandas or polars.

    Parameters
    ----------
    data : pandas.DataFrame or polars.DataFrame
        A customer summary. It is only read.

    Returns
    -------
    str or None
        The recorded time unit.

    Raises
    ------
    DataError
        When the ``time_unit`` column holds several units, or disagrees with ``attrs["time_unit"]``.
    """
    attrs = getattr(data, "attrs", None)
    recorded = attrs.get("time_unit") if isinstance(attrs, dict) else None
    columns = getattr(data, "columns", ())
    if "time_unit" not in columns:
        return None if recorded is None else str(recorded)
    if is_polars(data) and hasattr(data, "get_column"):
        values = data.get_column("time_unit").drop_nulls().unique().to_list()
    else:
        values = pd.unique(data["time_unit"].dropna())
    units = sorted({str(u) for u in values})
    if len(units) > 1:
        raise DataError(f"the summary's time_unit column holds several units {units}; a summary has one")
    if units and recorded is not None and units[0] != str(recorded):
        raise DataError(
            f"the summary's time_unit column says {units[0]!r} but its attrs['time_unit'] says {recorded!r}"
        )
    if units:
        return units[0]
    return None if recorded is None else str(recorded)


def validate_summary(
    data: Any,
    columns: Sequence[str],
    *,
    integer: Sequence[str] = ("frequency",),
    recency: str | None = "recency",
    age: str | None = "T",
    positive: Sequence[str] = (),
) -> tuple[pd.Index, dict[str, npt.NDArray[np.float64]]]:
    """Check a customer summary and return its index and the named columns as float arrays.

    Parameters
    ----------
    data : pandas.DataFrame or polars.DataFrame
        One row per customer, indexed by customer id (pandas) or with a positional index (polars).
    columns : sequence of str
        Columns the model needs.
    integer : sequence of str
        Columns that must hold non-negative whole numbers (counts).
    recency, age : str or None
        Names of the recency and age columns, checked for 0 <= recency <= age and for recency = 0 when
        frequency = 0 (``None`` skips the check).
    positive : sequence of str
        Columns that must be strictly positive.

    Raises
    ------
    DataError
        Naming the column, the problem and the first offending row: missing columns, an empty summary,
        NaN or infinite values, negative or non-integer counts, recency > T, recency > 0 with frequency 0,
        non-positive values where positive ones are required, and duplicated customer ids.
    """
    df = as_pandas(data)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"the summary is missing column(s) {missing}; available: {list(df.columns)} "
            "(build one with clvlab.rfm_summary)"
        )
    if len(df) == 0:
        raise DataError("the summary is empty")
    index = df.index
    if index.has_duplicates:
        dup = np.asarray(index.duplicated())
        raise DataError(f"duplicated customer ids in the summary index: {first_bad_row(dup, index)}")
    out: dict[str, npt.NDArray[np.float64]] = {}
    for c in columns:
        col = df[c]
        if not pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            raise DataError(f"column {c!r} must be numeric, got dtype {col.dtype}")
        arr = col.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(arr)
        if bad.any():
            raise DataError(f"column {c!r} has NaN or infinite values: {first_bad_row(bad, index)}")
        if (arr < 0).any():
            raise DataError(f"column {c!r} has negative values: {first_bad_row(arr < 0, index)}")
        out[c] = arr
    for c in integer:
        if c in out:
            frac = out[c] != np.round(out[c])
            if frac.any():
                raise DataError(f"column {c!r} must hold whole numbers: {first_bad_row(frac, index)}")
    for c in positive:
        if c in out and (out[c] <= 0).any():
            raise DataError(f"column {c!r} must be positive: {first_bad_row(out[c] <= 0, index)}")
    if recency is not None and age is not None and recency in out and age in out:
        too_late = out[recency] > out[age] * (1 + 1e-12)
        if too_late.any():
            raise DataError(
                f"recency exceeds {age} (the last purchase is after the end): "
                f"{first_bad_row(too_late, index)}"
            )
        if "frequency" in out:
            orphan = (out["frequency"] == 0) & (out[recency] > 0)
            if orphan.any():
                raise DataError(
                    f"recency > 0 with frequency 0 (a customer without repeat purchases has recency 0): "
                    f"{first_bad_row(orphan, index)}"
                )
    return index, out


def weights_array(data: Any, weights: Any, n: int) -> npt.NDArray[np.float64]:
    """Customer weights: ones, a column of ``data`` (by name) or an array of length ``n``.

    Raises :class:`DataError` for a missing column, a wrong length or a negative or non-finite weight.
    """
    if weights is None:
        return np.ones(n)
    if isinstance(weights, str):
        if not isinstance(data, pd.DataFrame) or weights not in data.columns:
            raise DataError(f"weights column {weights!r} is not in the data")
        weights = data[weights]
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != (n,):
        raise DataError(f"weights must have one value per customer ({n}), got {w.shape[0]}")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise DataError(f"weights must be finite and non-negative: row {int(np.flatnonzero(bad)[0])}")
    return w
