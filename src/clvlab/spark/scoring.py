"""The targeting table of every customer of a Spark summary, scored where the data live.

Each executor reloads the two models from clvlab's own model files (JSON, or netCDF for
:mod:`clvlab.bayes`), shipped as bytes with the task (no model object is pickled), and runs the pandas
:func:`clvlab.targeting.predict_customer_value` on large batches of customers through ``mapInPandas``.
The per-customer columns come from there unchanged; the ranks, percentiles, value tiers and action
segments, which depend on every customer, are computed globally in Spark from each customer's CLV rank.
"""

from __future__ import annotations

import hashlib
import numbers
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as sf
from pyspark.sql import types as st

from clvlab.draws import ModelDraws, model_draws
from clvlab.errors import ClvlabWarning, DataError, DegenerateSegmentsWarning
from clvlab.spark._common import (
    METADATA_KEY,
    covariate_variables,
    customer_id_column,
    is_numeric,
    not_finite,
    plain,
    require_columns,
    tagged,
    time_unit_of,
)
from clvlab.targeting import (
    _FIXED_ALIVE,
    ACTION_SEGMENTS,
    VALUE_TIERS,
)
from clvlab.targeting import (
    predict_customer_value as _pandas_table,
)

__all__ = [
    "model_from_payload",
    "model_payload",
    "predict_customer_value",
    "segment_summary",
    "table_settings",
]

#: Customers per pandas batch scored on an executor: Arrow hands ``mapInPandas`` batches of
#: ``spark.sql.execution.arrow.maxRecordsPerBatch`` rows (10,000 by default), which are joined up to
#: this many, so the per-batch work (model reload check, distinct rows, the CLV quadrature) is amortised.
BATCH_ROWS = 100_000
_FREQ = "__clvlab_frequency"
_MIN_RANK = "__clvlab_min_rank"
#: Models reloaded in this process, by the SHA-256 of their file (a worker scores many tasks).
_LOADED: dict[str, Any] = {}
_MAX_LOADED = 8


# -- models as bytes -------------------------------------------------------------------------------------
def model_payload(model: Any) -> bytes:
    """A fitted model as the bytes of its clvlab model file (JSON, or netCDF for a Bayesian model).

    This is what :func:`predict_customer_value` ships to the executors: data, never a pickle.
    """
    save = getattr(model, "save", None)
    if save is None:
        raise TypeError(f"cannot ship a {type(model).__name__}: only clvlab models can be saved")
    with tempfile.TemporaryDirectory(prefix="clvlab-model-") as tmp:
        path = Path(save(Path(tmp) / "model"))
        return path.read_bytes()


def model_from_payload(payload: bytes) -> Any:
    """The model whose file :func:`model_payload` returned, loaded by :func:`clvlab.persistence.load`.

    Loaded once per process and payload (cached by SHA-256): the file format's own checks apply, and
    nothing in the bytes is ever executed.
    """
    key = hashlib.sha256(payload).hexdigest()
    model = _LOADED.get(key)
    if model is None:
        from clvlab.persistence import load

        with tempfile.TemporaryDirectory(prefix="clvlab-model-") as tmp:
            path = Path(tmp) / "model"
            path.write_bytes(payload)
            model = load(path)
        if len(_LOADED) >= _MAX_LOADED:
            _LOADED.clear()
        _LOADED[key] = model
    return model


# -- the executor side ------------------------------------------------------------------------------------
def _rebatch(batches: Iterator[pd.DataFrame], rows: int) -> Iterator[pd.DataFrame]:
    """Join Arrow's small batches into frames of at least ``rows`` rows (the last one may be smaller)."""
    pending: list[pd.DataFrame] = []
    size = 0
    for batch in batches:
        if len(batch) == 0:
            continue
        pending.append(batch)
        size += len(batch)
        if size >= rows:
            yield pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
            pending, size = [], 0
    if pending:
        yield pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]


@dataclass(frozen=True)
class _Scorer:
    """What ``mapInPandas`` runs on each partition: the models' file bytes and the table's settings."""

    transaction_payload: bytes
    spend_payload: bytes
    customer_id: str
    time_unit: str | None
    columns: tuple[str, ...]  # per-customer output columns, after the id
    options: dict[str, Any] = field(default_factory=dict)
    batch_rows: int = BATCH_ROWS

    def __call__(self, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        transaction_model = model_from_payload(self.transaction_payload)
        spend_model = model_from_payload(self.spend_payload)
        for frame in _rebatch(batches, self.batch_rows):
            data = frame.set_index(self.customer_id)
            data.attrs["time_unit"] = self.time_unit
            with warnings.catch_warnings():
                # The segments note is about the whole table; a batch's is meaningless.
                warnings.simplefilter("ignore", DegenerateSegmentsWarning)
                table = _pandas_table(transaction_model, spend_model, data, **self.options)
            out = table.reset_index()
            out[_FREQ] = data["frequency"].to_numpy(dtype=np.float64)
            yield out[[self.customer_id, *self.columns, _FREQ]]


# -- the driver side --------------------------------------------------------------------------------------
def _cost_columns(acquisition_cost: Any, channel: Any) -> tuple[list[str], bool]:
    """Summary columns the acquisition costs read, and whether the table has a ``channel`` column.

    Only what is Spark's own is checked here (costs and channels are named columns, never Series); the
    rules shared with the pandas table (a mapping needs ``channel``, ``channel`` needs a mapping) are
    that function's, raised by the probe of :func:`_check_arguments`.
    """
    if channel is not None and not isinstance(channel, str):
        raise TypeError(f"on Spark, channel must be the name of a column of the summary, got {channel!r}")
    if isinstance(acquisition_cost, Mapping):
        return ([channel] if channel is not None else []), channel is not None
    if isinstance(acquisition_cost, str):
        return [acquisition_cost], False
    if acquisition_cost is None or (
        isinstance(acquisition_cost, numbers.Real) and not isinstance(acquisition_cost, bool)
    ):
        return [], False
    raise TypeError(
        "on Spark, acquisition_cost must be a number, the name of a column of the summary or a mapping "
        f"channel -> cost (with channel=, a column name), got {type(acquisition_cost).__name__}"
    )


def _check_arguments(
    transaction_model: Any,
    spend_model: Any,
    data_columns: list[str],
    cost_columns: list[str],
    options: dict[str, Any],
    covariates: dict[str, Any] | None = None,
) -> None:
    """Raise the pandas path's own errors for bad arguments, on the driver, before scoring.

    Scores one valid made-up customer (no purchase yet; with covariates, those of a customer of the
    summary) with :func:`clvlab.predict_customer_value`, so the checks are exactly that function's
    (horizon, rates, method, interval, segment thresholds, the kind of acquisition cost).
    """
    row: dict[str, Any] = dict(covariates or {})
    row.update(dict.fromkeys(data_columns, 0.0))
    row.update({k: 1.0 for k in ("T", "n_periods") if k in row})
    cost = options["acquisition_cost"]
    if isinstance(cost, Mapping) and cost_columns:
        row[cost_columns[0]] = next(iter(cost), "")
    elif cost_columns:
        row[cost_columns[0]] = 0.0
    if isinstance(options.get("margin"), str):
        row[options["margin"]] = 1.0  # a valid rate (the column's values are checked by _validate)
    probe = pd.DataFrame({k: [v] for k, v in row.items()}, index=pd.Index([0], name="customer_id"))
    probe.attrs["time_unit"] = getattr(transaction_model, "time_unit_", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _pandas_table(transaction_model, spend_model, probe, **options)


def _validate(
    summary: DataFrame,
    customer_id: str,
    models: list[Any],
    acquisition_cost: Any,
    channel: str | None,
    margin: Any = None,
) -> int:
    """Check the summary with one aggregate query, as the models check a pandas one; return its size."""
    checks: list[tuple[str, Column]] = []
    seen: set[str] = set()
    for mle in models:
        for column in mle.data_columns:
            if column in seen:
                continue
            seen.add(column)
            if not is_numeric(summary, column):
                dtype = summary.schema[column].dataType.simpleString()
                raise DataError(f"column {column!r} must be numeric, got dtype {dtype}")
            value = sf.col(column).cast("double")
            checks.append((f"column {column!r} has NaN, infinite or missing values", not_finite(value)))
            checks.append((f"column {column!r} has negative values", value < 0))
            if column in mle._integer_columns:
                checks.append((f"column {column!r} must hold whole numbers", value != sf.round(value)))
        recency, age = mle._recency_age
        if recency is not None and age is not None:
            r, a = sf.col(recency).cast("double"), sf.col(age).cast("double")
            checks.append(
                (f"recency exceeds {age} (the last purchase is after the end)", r > a * (1 + 1e-12))
            )
            checks.append(
                (
                    "recency > 0 with frequency 0 (a customer without repeat purchases has recency 0)",
                    (sf.col("frequency") == 0) & (r > 0),
                )
            )
        if mle.role == "spend":
            checks.append(
                (
                    "monetary_value must be positive for customers with repeat purchases",
                    (sf.col("frequency") > 0) & (sf.col("monetary_value") <= 0),
                )
            )
    if isinstance(acquisition_cost, str):
        if not is_numeric(summary, acquisition_cost):
            raise DataError(f"acquisition costs must be numbers: column {acquisition_cost!r} is not numeric")
        cost = sf.col(acquisition_cost).cast("double")
        checks.append(("acquisition costs must be finite and non-negative", not_finite(cost) | (cost < 0)))
    if channel is not None:
        checks.append(("channel is missing", sf.col(channel).isNull()))
    if isinstance(margin, str):
        if not is_numeric(summary, margin):
            dtype = summary.schema[margin].dataType.simpleString()
            raise DataError(f"margin column {margin!r} must hold numbers (rates in (0, 1]), got {dtype}")
        rate = sf.col(margin).cast("double")
        checks.append(
            (
                f"margin column {margin!r} must hold rates in (0, 1] (0.3 for 30%)",
                not_finite(rate) | (rate <= 0) | (rate > 1),
            )
        )
    ident = sf.col(customer_id)
    aggregates = [sf.count(sf.lit(1)).alias("n"), sf.count_distinct(ident).alias("ids")]
    aggregates.append(sf.count_if(ident.isNull()).alias("null_ids"))
    for i, (_, bad) in enumerate(checks):
        bad = sf.coalesce(bad, sf.lit(False))
        aggregates += [sf.count_if(bad).alias(f"bad{i}"), sf.min(sf.when(bad, ident)).alias(f"id{i}")]
    stats = summary.agg(*aggregates).first()
    assert stats is not None
    if stats["n"] == 0:
        raise DataError("the summary is empty")
    if stats["null_ids"]:
        raise DataError(f"column {customer_id!r} has null customer ids: {stats['null_ids']} row(s)")
    if stats["ids"] != stats["n"]:
        raise DataError(
            f"duplicated customer ids in column {customer_id!r}: {stats['n'] - stats['ids']} row(s) more "
            "than customers"
        )
    for i, (message, _) in enumerate(checks):
        if stats[f"bad{i}"]:
            raise DataError(
                f"{message}: {stats[f'bad{i}']} row(s), e.g. customer id {plain(stats[f'id{i}'])!r}"
            )
    if isinstance(acquisition_cost, Mapping) and channel is not None:
        channels = {r[channel] for r in summary.select(channel).distinct().limit(10_000).collect()}
        unknown = sorted(str(c) for c in channels if c not in acquisition_cost)
        if unknown:
            raise DataError(
                f"acquisition_cost has no cost for channel(s) {unknown}; it covers {list(acquisition_cost)}"
            )
    return int(stats["n"])


def _time_unit(summary: DataFrame, models: list[ModelDraws]) -> str | None:
    """The summary's time unit, checked against the models' (as the pandas path does, on the driver)."""
    unit = time_unit_of(summary)
    for md in models:
        fitted = md.time_unit
        if unit is not None and fitted is not None and unit != fitted:
            raise DataError(
                f"the data are in time unit {unit!r} but {md.name} was fitted in {fitted!r}; rebuild the "
                "summary with the fitted time unit"
            )
    if unit is None:
        fitted = models[0].time_unit
        if fitted is not None:
            warnings.warn(
                f"the summary records no time unit (its columns carry no clvlab metadata), so recency and "
                f"T are taken to be in {fitted!r}, the unit {models[0].name} was fitted in; build it with "
                "clvlab.spark.rfm_summary (or keep its columns' metadata) to have it checked",
                ClvlabWarning,
                stacklevel=3,
            )
        return fitted
    return unit


def predict_customer_value(
    transaction_model: Any,
    spend_model: Any,
    summary: DataFrame,
    *,
    horizon: float,
    discount_rate: float = 0.0,
    discount_period: float = 1.0,
    method: str = "continuous",
    interval: float | None = None,
    interval_kind: str = "parameter",
    n_draws: int = 200,
    seed: int = 0,
    margin: float | str | None = None,
    acquisition_cost: Any = None,
    channel: str | None = None,
    high_value_share: float = 0.2,
    active_threshold: float = 0.5,
    customer_id: str | None = None,
    batch_rows: int = BATCH_ROWS,
) -> DataFrame:
    """The targeting table of :func:`clvlab.predict_customer_value` for a Spark summary, as a Spark DataFrame.

    Parameters
    ----------
    transaction_model, spend_model
        Fitted clvlab models (maximum-likelihood or :mod:`clvlab.bayes`).
    summary : pyspark.sql.DataFrame
        One row per customer with the models' columns, e.g. from :func:`clvlab.spark.rfm_summary`. Its
        time unit (column metadata) must be the models'.
    horizon, discount_rate, discount_period, method, interval, n_draws, seed, high_value_share, \
active_threshold
        As in :func:`clvlab.predict_customer_value`.
    interval_kind : {"parameter"}
        Parameter bounds only. Predictive CLV bounds are simulated per batch of customers, so on Spark
        a customer's bounds would depend on the partition it lands in: they are refused here (score a
        pandas summary for them).
    margin : float or str, optional
        Profit margin on revenue: a rate in (0, 1] or the name of a column of ``summary`` with each
        customer's rate. With it the value column is ``clv_profit`` (``margin`` and ``clv_revenue`` added;
        ranks, tiers, segments and CLV:CAC on profit), as in :func:`clvlab.predict_customer_value`.
    acquisition_cost : float, str or mapping, optional
        A number, the name of a column of ``summary``, or a mapping channel -> cost with ``channel``.
    channel : str, optional
        The column of ``summary`` holding each customer's acquisition channel.
    customer_id : str, optional
        The customer id column; by default the one :func:`clvlab.spark.rfm_summary` tagged, else
        ``"customer_id"``.
    batch_rows : int
        Customers per pandas batch on the executors (Arrow's batches are joined up to this size).

    Returns
    -------
    pyspark.sql.DataFrame
        The customer id and the columns of the pandas table, in its order: ``p_alive``,
        ``expected_purchases`` (finite horizons), ``discounted_purchases``, ``expected_spend``, ``clv``
        (``clv_lower``, ``clv_upper``), ``clv_rank``, ``clv_percentile``, ``segment``, ``action_segment``
        (``channel``, ``acquisition_cost``, ``clv_to_cac``, ``payback_horizon``); with ``margin``,
        ``margin``, ``clv_revenue`` and ``clv_profit`` (its bounds, ``clv_profit_to_cac``) in place of
        ``clv``. Equal to the pandas table of the same summary. The table's settings (time unit, horizon,
        rates, thresholds, value column and basis) are in the value column's metadata. Lazy: nothing is
        scored until an action runs.

    Raises
    ------
    DataError
        On the driver, for the pandas path's argument errors, a summary in another time unit than the
        models', and invalid summary values (one aggregate query: missing, negative or non-integer
        values, recency > T, duplicated ids, bad costs or channels).

    Warns
    -----
    ClvlabWarning
        When the summary records no time unit.

    Notes
    -----
    ``clv_rank`` orders every customer by CLV (ties by customer id) with one Spark window over the whole
    table, which Spark evaluates in a single partition: the ranks are global, at the cost of one sort of
    (customer id, CLV) pairs on one executor. The pandas table's degenerate-segments note is not computed
    (it needs a pass over the scored table).
    """
    if interval_kind != "parameter":
        raise DataError(
            f"interval_kind={interval_kind!r}: Spark scoring gives parameter bounds only; predictive CLV "
            "bounds are simulated batch by batch, so a customer's would depend on its partition. Use "
            "interval_kind='parameter', or clvlab.predict_customer_value on a pandas summary"
        )
    t_md = model_draws(transaction_model, "transaction", "transaction_model")
    s_md = model_draws(spend_model, "spend", "spend_model")
    options = {
        "horizon": horizon,
        "discount_rate": discount_rate,
        "discount_period": discount_period,
        "method": method,
        "interval": interval,
        "interval_kind": interval_kind,
        "n_draws": n_draws,
        "seed": seed,
        "margin": margin,
        "acquisition_cost": acquisition_cost,
        "channel": channel,
        "high_value_share": high_value_share,
        "active_threshold": active_threshold,
    }
    cost_columns, with_channel = _cost_columns(acquisition_cost, channel)
    if isinstance(margin, str):
        cost_columns = [*cost_columns, margin]  # read like a cost column: checked on the driver
    data_columns = list(dict.fromkeys([*t_md.mle.data_columns, *s_md.mle.data_columns]))
    covariates = [
        c for c in (*covariate_variables(t_md.mle), *covariate_variables(s_md.mle)) if c not in data_columns
    ]
    if not covariates:
        _check_arguments(transaction_model, spend_model, data_columns, cost_columns, options)
    if not isinstance(summary, DataFrame):
        raise DataError(f"the summary must be a Spark DataFrame, got {type(summary).__name__}")
    ident = customer_id_column(summary, customer_id)
    needed = list(dict.fromkeys([*data_columns, *covariates, *cost_columns]))
    require_columns(summary, needed, "the summary")
    if covariates:  # a made-up customer cannot have valid covariates: take one customer's
        first = summary.select(*covariates).limit(1).collect()
        values = first[0].asDict() if first else dict.fromkeys(covariates)
        _check_arguments(transaction_model, spend_model, data_columns, cost_columns, options, values)
    unit = _time_unit(summary, [t_md, s_md])
    n = _validate(summary, ident, [t_md.mle, s_md.mle], acquisition_cost, channel, margin)

    finite = bool(np.isfinite(horizon))
    value = "clv" if margin is None else "clv_profit"
    per_customer = ["p_alive", *(["expected_purchases"] if finite else [])]
    per_customer += ["discounted_purchases", "expected_spend"]
    per_customer += [] if margin is None else ["margin", "clv_revenue"]
    per_customer += [value, *([f"{value}_lower", f"{value}_upper"] if interval is not None else [])]
    costs = [] if acquisition_cost is None else ["acquisition_cost", f"{value}_to_cac", "payback_horizon"]
    scored_columns = [*per_customer, *(["channel"] if with_channel else []), *costs]
    fields = [summary.schema[ident]]
    for name in scored_columns:
        dtype = summary.schema[channel].dataType if name == "channel" and channel else st.DoubleType()
        fields.append(st.StructField(name, dtype, True))
    fields.append(st.StructField(_FREQ, st.DoubleType(), True))
    scorer = _Scorer(
        transaction_payload=model_payload(transaction_model),
        spend_payload=model_payload(spend_model),
        customer_id=ident,
        time_unit=unit,
        columns=tuple(scored_columns),
        options=options,
        batch_rows=int(batch_rows),
    )
    inputs = list(dict.fromkeys([ident, *needed, "frequency"]))
    scored = summary.select(*inputs).mapInPandas(scorer, st.StructType(fields))
    return _rank_and_segment(scored, ident, n, scored_columns, options, unit, value)


def _rank_and_segment(
    scored: DataFrame,
    ident: str,
    n: int,
    scored_columns: list[str],
    options: dict[str, Any],
    unit: str | None,
    value: str = "clv",
) -> DataFrame:
    """Global ranks, percentiles, tiers and action segments, as in :mod:`clvlab.targeting`."""
    by_value = Window.orderBy(sf.col(value).desc(), sf.col(ident).asc())
    by_clv = Window.orderBy(sf.col(value).desc())
    ranked = scored.select(
        "*",
        sf.row_number().over(by_value).cast("long").alias("clv_rank"),
        sf.rank().over(by_clv).alias(_MIN_RANK),
    )
    rank = sf.col("clv_rank")
    # Percentage of customers whose CLV is at most this one's: n minus those strictly above (pandas'
    # rank(method="max", pct=True) x 100).
    percentile = (sf.lit(n) - sf.col(_MIN_RANK) + sf.lit(1)).cast("double") / sf.lit(float(n)) * sf.lit(100.0)
    cuts = np.cumsum([share for _, share in VALUE_TIERS]) * n
    names = [name for name, _ in VALUE_TIERS]
    half = rank.cast("double") - sf.lit(0.5)
    tier: Column = sf.lit(names[-1])
    for cut, name in reversed(list(zip(cuts[:-1], names[:-1], strict=True))):
        tier = sf.when(half <= sf.lit(float(cut)), sf.lit(name)).otherwise(tier)
    segments = [name for name, _, _ in ACTION_SEGMENTS]
    high = half <= sf.lit(float(options["high_value_share"]) * n)
    p_alive = sf.col("p_alive")
    active = p_alive >= sf.lit(float(options["active_threshold"]))
    one_time = (sf.col(_FREQ) == 0) & (p_alive >= sf.lit(_FIXED_ALIVE))
    action = (
        sf.when(one_time, sf.lit(segments[3]))
        .when(high & active, sf.lit(segments[0]))
        .when(high, sf.lit(segments[1]))
        .when(active, sf.lit(segments[2]))
        .otherwise(sf.lit(segments[4]))
    )
    settings = {
        "time_unit": unit,
        # Spark's metadata is strict JSON: an infinite horizon is written as clvlab's files write it.
        "horizon": float(options["horizon"]) if np.isfinite(options["horizon"]) else "Infinity",
        "discount_rate": float(options["discount_rate"]),
        "discount_period": float(options["discount_period"]),
        "method": options["method"],
        "high_value_share": float(options["high_value_share"]),
        "active_threshold": float(options["active_threshold"]),
        # as the pandas table's attrs
        "value_column": value,
        "value_basis": "revenue" if value == "clv" else "profit",
    }
    if options["interval"] is not None:
        settings.update(interval=float(options["interval"]), interval_kind=options["interval_kind"])
    before = [c for c in scored_columns if c in {"p_alive", "expected_purchases", "discounted_purchases"}]
    before += ["expected_spend", *(c for c in scored_columns if c in {"margin", "clv_revenue"})]
    cac = f"{value}_to_cac"
    after = [c for c in scored_columns if c in {"channel", "acquisition_cost", cac, "payback_horizon"}]
    bounds = [c for c in scored_columns if c in {f"{value}_lower", f"{value}_upper"}]
    return ranked.select(
        tagged(sf.col(ident), ident, role="customer_id"),
        *before,
        tagged(sf.col(value), value, **settings),
        *bounds,
        "clv_rank",
        percentile.alias("clv_percentile"),
        tier.alias("segment"),
        action.alias("action_segment"),
        *after,
    )


def table_settings(table: DataFrame) -> dict[str, Any]:
    """The settings a Spark targeting table records in its value column's metadata.

    The same keys and values as the pandas table's ``attrs`` (time unit, horizon, discount rate and
    period, method, segment thresholds, value column and basis), without its segment note. The value
    column is ``clv_profit`` for a table valued on profit (``margin=``), ``clv`` otherwise.
    """
    settings = dict(table.schema[_value_column(table)].metadata.get(METADATA_KEY, {}))
    if settings.get("horizon") == "Infinity":
        settings["horizon"] = float("inf")
    return settings


def _value_column(table: DataFrame) -> str:
    """``clv_profit`` (a table valued on profit) or ``clv``; a DataError for another table."""
    value = next((c for c in ("clv_profit", "clv") if c in table.columns), None)
    if value is None:
        raise DataError(
            "this is not a targeting table of clvlab.spark.predict_customer_value: it has no 'clv' or "
            f"'clv_profit' column; columns: {table.columns}"
        )
    return value


def segment_summary(table: DataFrame, by: str = "segment") -> pd.DataFrame:
    """:func:`clvlab.segment_summary` of a Spark targeting table, aggregated in Spark.

    Parameters
    ----------
    table : pyspark.sql.DataFrame
        A table from :func:`predict_customer_value` (or read back from its Parquet files).
    by : str
        ``"segment"``, ``"action_segment"`` or another column such as ``"channel"``.

    Returns
    -------
    pandas.DataFrame
        The same rows and columns as :func:`clvlab.segment_summary` of the pandas table
        (``clv_profit_*`` columns for a table valued on profit; sums to
        rounding: Spark adds in no fixed order); one aggregate query, one row per segment reaches the
        driver. The degenerate-segments note is not computed.
    """
    value = _value_column(table)
    if by not in table.columns:
        raise DataError(f"the table has no column {by!r} to group by; available: {table.columns}")
    with_costs = "acquisition_cost" in table.columns
    aggregates = [
        sf.count(sf.lit(1)).cast("long").alias("customers"),
        sf.sum(value).alias(f"{value}_total"),
        sf.avg(value).alias(f"{value}_mean"),
        sf.avg("p_alive").alias("p_alive_mean"),
    ]
    if with_costs:
        paid = (~not_finite(sf.col("payback_horizon"))).cast("double")
        aggregates += [sf.sum("acquisition_cost").alias("acquisition_cost_total"), sf.avg(paid).alias("paid")]
    rows = table.groupBy(by).agg(*aggregates).toPandas().set_index(by)
    if by == "segment":
        order: list[Any] = [name for name, _ in VALUE_TIERS]
    elif by == "action_segment":
        order = [name for name, _, _ in ACTION_SEGMENTS]
    else:
        order = sorted(rows.index.tolist())
    out = rows.reindex(order)
    paid_share = out.pop("paid").to_numpy(dtype=np.float64) if with_costs else None
    out = out.fillna(0.0)
    out["customers"] = out["customers"].astype(np.int64)
    total = float(out[f"{value}_total"].sum())
    out["value_share"] = out[f"{value}_total"] / total if total > 0 else 0.0
    out["customer_share"] = out["customers"] / max(int(out["customers"].sum()), 1)
    if with_costs and paid_share is not None:
        cost = out.pop("acquisition_cost_total")
        out["acquisition_cost_total"] = cost
        value_total, cac_total = out[f"{value}_total"].to_numpy(), cost.to_numpy()
        ratio = np.divide(value_total, cac_total, out=np.full(len(out), np.inf), where=cac_total > 0)
        out[f"{value}_to_cac"] = np.where(out["customers"].to_numpy() == 0, np.nan, ratio)
        out["paid_back_share"] = paid_share
    out.index.name = by
    return out
