"""Shared pieces of :mod:`clvlab.spark`: column metadata, calendar days and driver-side checks."""

from __future__ import annotations

import datetime as _dt
import re
import zoneinfo
from collections.abc import Iterable
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as sf
from pyspark.sql import types as st

from clvlab.errors import DataError

#: Key of clvlab's entry in a Spark column's metadata (a JSON object stored with the schema, which
#: Parquet files keep).
METADATA_KEY = "clvlab"
#: Microseconds in a day.
_DAY_MICROS = 86_400_000_000
_EPOCH = _dt.date(1970, 1, 1)


def tagged(column: Column, name: str, **fields: Any) -> Column:
    """``column`` named ``name`` with ``fields`` in its clvlab metadata (e.g. ``time_unit="W"``)."""
    return column.alias(name, metadata={METADATA_KEY: dict(fields)})


def column_metadata(sdf: DataFrame, name: str) -> dict[str, Any]:
    """The clvlab metadata of column ``name`` ({} when it has none)."""
    meta = sdf.schema[name].metadata.get(METADATA_KEY, {})
    return dict(meta) if isinstance(meta, dict) else {}


def time_unit_of(sdf: DataFrame) -> str | None:
    """The time unit a Spark summary records in its columns' metadata, or None.

    :func:`clvlab.spark.rfm_summary` tags ``recency``, ``T`` (and ``duration_holdout``) with it. Columns
    that disagree raise :class:`DataError`.
    """
    units = {
        str(meta["time_unit"])
        for field in sdf.schema.fields
        if (meta := field.metadata.get(METADATA_KEY)) and isinstance(meta, dict) and "time_unit" in meta
    }
    if len(units) > 1:
        raise DataError(f"the summary's columns record several time units {sorted(units)}; a summary has one")
    return units.pop() if units else None


def customer_id_column(sdf: DataFrame, customer_id: str | None) -> str:
    """The customer id column: ``customer_id``, else the column tagged as such, else ``"customer_id"``."""
    if customer_id is None:
        tagged_ids = [
            f.name for f in sdf.schema.fields if f.metadata.get(METADATA_KEY, {}).get("role") == "customer_id"
        ]
        customer_id = tagged_ids[0] if len(tagged_ids) == 1 else "customer_id"
    if customer_id not in sdf.columns:
        raise DataError(
            f"the summary has no customer id column {customer_id!r}; available: {sdf.columns} (pass "
            "customer_id= with its name)"
        )
    return customer_id


def require_columns(sdf: DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise :class:`DataError` naming the columns of ``columns`` that ``sdf`` lacks."""
    missing = [c for c in columns if c not in sdf.columns]
    if missing:
        raise DataError(f"{what}: missing column(s) {missing}; available: {sdf.columns}")


def check_timezone(timezone: str) -> str:
    """``timezone`` if it is an IANA time-zone name (``"UTC"``, ``"Europe/Paris"``), else DataError."""
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise DataError(
            f"timezone must be an IANA time-zone name such as 'UTC' or 'Europe/Paris', got {timezone!r}"
        ) from None
    return timezone


def day_number(sdf: DataFrame, column: str, timezone: str) -> Column:
    """Calendar days since 1970-01-01 of a date column, as a Spark expression (no Python per row).

    ``DateType`` and naive ``TimestampNTZType`` values count by their own calendar day. ``TimestampType``
    values are instants: they count by their calendar day in ``timezone`` (not the session's time zone),
    as a timezone-aware pandas column counts by its local day.

    Raises
    ------
    DataError
        For a column of another type (strings, numbers): convert it with ``to_date`` / ``to_timestamp``.
    """
    dtype = sdf.schema[column].dataType
    col = sf.col(column)
    if isinstance(dtype, st.DateType):
        return sf.datediff(col, sf.lit(_EPOCH))
    if isinstance(dtype, st.TimestampNTZType):
        return sf.datediff(sf.to_date(col), sf.lit(_EPOCH))
    if isinstance(dtype, st.TimestampType):
        # from_utc_timestamp shifts the instant by the zone's offset at that instant, so the shifted
        # microseconds read in UTC are the local wall-clock time: floor-divide them into days.
        micros = sf.unix_micros(sf.from_utc_timestamp(col, timezone))
        return ((micros - sf.pmod(micros, sf.lit(_DAY_MICROS))) / sf.lit(_DAY_MICROS)).cast("long")
    if isinstance(dtype, st.NumericType | st.BooleanType):
        raise DataError(
            f"column {column!r} holds numbers ({dtype.simpleString()}), not dates; convert it first, for "
            f"example with pyspark.sql.functions.to_date(col.cast('string'), 'yyyyMMdd')"
        )
    raise DataError(
        f"column {column!r} must hold dates or timestamps, got {dtype.simpleString()}; convert strings "
        "with pyspark.sql.functions.to_date or to_timestamp and their format first"
    )


def is_numeric(sdf: DataFrame, column: str) -> bool:
    """Whether ``column`` is of a numeric Spark type (booleans are not numbers here)."""
    return isinstance(sdf.schema[column].dataType, st.NumericType)


def not_finite(column: Column) -> Column:
    """True where a double column is null, NaN or infinite."""
    return (
        column.isNull()
        | sf.isnan(column)
        | (column == sf.lit(float("inf")))
        | (column == sf.lit(float("-inf")))
    )


def plain(value: Any) -> Any:
    """A value collected from Spark as a plain Python value for messages."""
    return value.item() if hasattr(value, "item") and not isinstance(value, str | bytes) else value


def covariate_variables(model: Any, available: Iterable[str] = ()) -> list[str]:
    """The data columns a model's covariates read (none without covariates), sorted.

    A fitted model names them in its encodings (``covariates_``). For an unfitted one they are read from
    its covariate specifications (formulas or column lists) with formulaic, and, since formulaic does
    not list the variables of data-dependent transforms such as ``center(x)``, every column of
    ``available`` that the formula names is added too.
    """
    fitted = getattr(model, "covariates_", None)
    if fitted:
        return sorted({v for design in fitted.values() for v in design.variables})
    specs = model.covariate_specs() if hasattr(model, "covariate_specs") else {}
    if not specs:
        return []
    import formulaic

    from clvlab.covariates import covariate_formula

    found: set[str] = set()
    for process, spec in specs.items():
        formula = covariate_formula(spec, f"{process}_covariates")
        found |= {str(v) for v in formulaic.Formula(formula).required_variables}
        found |= {
            c
            for c in available
            if f"`{c}`" in formula or re.search(rf"(?<![\w.`]){re.escape(c)}(?![\w`(])", formula)
        }
    return sorted(found)
