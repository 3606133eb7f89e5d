"""Fitting at scale: Spark aggregates the distinct summary rows, the model fits on the driver with weights.

A maximum-likelihood fit needs only the distinct data rows and how many customers share each: (x, t_x,
T) for a transaction model (x, t_x, n for BG/BB), (x, m_x) for Gamma-Gamma. Spark counts them; up to
:data:`MAX_DRIVER_ROWS` of them reach the driver, where :meth:`clvlab.models.base.BaseModel.fit` runs with
``weights=``. The model de-duplicates the full pandas summary into exactly these rows and counts, so the
estimates are the same. With more (daily dates over years and tens of millions of customers give
millions), a transaction model's rows stay on the executors and each likelihood evaluation of the fit is
a Spark job (:func:`fit`'s ``max_driver_rows``), so the driver's memory does not grow with the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as sf
from pyspark.sql import types as st

from clvlab._types import FloatArray
from clvlab.errors import DataError
from clvlab.models._fitting import deduplicate
from clvlab.models.base import BaseModel
from clvlab.spark._common import (
    covariate_variables,
    customer_id_column,
    is_numeric,
    require_columns,
    time_unit_of,
)

__all__ = ["distinct_rows", "fit"]

#: Name of the count column of :func:`distinct_rows`.
WEIGHT_COLUMN = "customers"

#: Distinct rows up to which :func:`fit` brings them to the driver; beyond, the likelihood is evaluated
#: on the executors (the driver then holds a sample of customers and the parameters only).
MAX_DRIVER_ROWS = 1_000_000

#: Customers in the random sample whose distinct rows start a fit evaluated on the executors.
_START_CUSTOMERS = 200_000

#: Distinct rows per partition of a fit evaluated on the executors.
_PARTITION_ROWS = 250_000

M = TypeVar("M", bound=BaseModel)


def distinct_rows(
    summary: DataFrame,
    columns: tuple[str, ...] | list[str],
    *,
    weights: str | None = None,
    covariates: tuple[str, ...] | list[str] = (),
) -> pd.DataFrame:
    """The distinct rows of ``columns`` in a Spark summary and the number of customers in each.

    Parameters
    ----------
    summary : pyspark.sql.DataFrame
        A customer summary, e.g. from :func:`clvlab.spark.rfm_summary`. Only read.
    columns : sequence of str
        The columns a model reads (``model.data_columns``).
    weights : str, optional
        A column of per-row weights to sum instead of counting rows (an already aggregated summary).
    covariates : sequence of str
        Further columns of the distinct key, kept with their own type (a model's covariates).

    Returns
    -------
    pandas.DataFrame
        ``columns`` (float64), ``covariates`` and ``customers`` (the count or summed weight), sorted, with
        ``attrs["time_unit"]`` from the summary's column metadata (when recorded).

    Raises
    ------
    DataError
        For a missing or non-numeric column.
    """
    columns, extra = list(columns), [c for c in covariates if c not in columns]
    rows = _distinct(summary, columns, weights, extra).toPandas()
    rows = rows.astype(dict.fromkeys([*columns, WEIGHT_COLUMN], "float64"))
    rows = rows.sort_values([*columns, *extra], ignore_index=True)
    unit = time_unit_of(summary)
    if unit is not None:
        rows.attrs["time_unit"] = unit
    return rows


def _distinct(summary: DataFrame, columns: list[str], weights: str | None, extra: list[str]) -> DataFrame:
    """The Spark query of the distinct (``columns``, ``extra``) rows with their customer counts (checked)."""
    numeric = columns + ([weights] if weights is not None else [])
    require_columns(summary, numeric + extra, "the summary")
    for column in numeric:
        if not is_numeric(summary, column):
            dtype = summary.schema[column].dataType.simpleString()
            raise DataError(f"column {column!r} must be numeric, got dtype {dtype}")
    count = sf.count(sf.lit(1)) if weights is None else sf.sum(sf.col(weights).cast("double"))
    return (
        summary.select(
            *[sf.col(c).cast("double").alias(c) for c in columns], *extra, *([weights] if weights else [])
        )
        .groupBy(*columns, *extra)
        .agg(count.cast("double").alias(WEIGHT_COLUMN))
    )


def fit(
    model: M,
    summary: DataFrame,
    *,
    weights: str | None = None,
    sample: int | None = None,
    seed: int = 0,
    max_driver_rows: int | None = MAX_DRIVER_ROWS,
    **fit_kwargs: Any,
) -> M:
    """Fit a clvlab model on a Spark summary from its distinct rows, on the driver.

    Parameters
    ----------
    model : clvlab model
        An unfitted (or to be refitted) maximum-likelihood model: ``BetaGeo``, ``ParetoNBD``,
        ``ModifiedBetaGeo``, ``BetaGeoBetaBinom`` or ``GammaGamma``. It is fitted in place and returned.
    summary : pyspark.sql.DataFrame
        A customer summary with the model's ``data_columns`` (see :func:`clvlab.spark.rfm_summary`).
    weights : str, optional
        A column of per-row customer counts, for a summary that is already aggregated.
    sample : int, optional
        Fit on a uniform random sample of about this many customers (Spark's Bernoulli sample with
        ``seed``) when the summary has more; the whole summary otherwise. A stated sample bounds what
        reaches the driver where the distinct rows are about as many as the customers (Gamma-Gamma with
        money in cents); the estimates are then those of the sample, not of the full fit.
    seed : int
        Seed of the sample (and of the starting sample of a fit evaluated on the executors).
    max_driver_rows : int or None
        The most distinct rows brought to the driver. With more (a transaction model without covariates,
        e.g. on tens of millions of customers with daily dates), they stay on the executors, persisted,
        and every likelihood evaluation of the fit is a Spark job summing each partition's weighted
        log-likelihood and exact gradient (the formulas' own grouped evaluation); the driver holds a
        random sample of customers (its distinct rows start the fit) and the parameters, so its memory
        does not grow with the data. The estimates are those of the fit on all rows (sums in another
        order: equal to rounding; 7 evaluations, each a Spark job, on CDNOW). ``None``: always on the driver.
    **fit_kwargs
        Passed on to ``model.fit``.

    Returns
    -------
    model
        The fitted model: the same estimates, log-likelihood and standard errors as ``model.fit`` on
        the whole summary collected to pandas, with ``n_customers_`` the number of customers and
        ``time_unit_`` the summary's time unit.

    Notes
    -----
    Validation is that of the pandas fit, on the distinct rows (so it names a row of the distinct
    table, not a customer). Gamma-Gamma reads the distinct (frequency, monetary_value) rows: with money
    in cents there are about as many as customers with repeat purchases, which is what the pandas fit
    reads too; ``sample=`` caps them. The transaction models' distinct (x, t_x, T) rows are bounded by
    the number of distinct purchase counts times the days of the log squared, whatever the customers.
    """
    if not isinstance(model, BaseModel):
        raise TypeError(f"model must be a clvlab maximum-likelihood model, got {type(model).__name__}")
    if sample is not None:
        if isinstance(sample, bool) or not isinstance(sample, int) or sample < 1:
            raise DataError(f"sample must be a positive number of customers, got {sample!r}")
        n = summary.count()
        if n > sample:
            summary = summary.sample(fraction=sample / n, seed=seed)
    covariates = [c for c in covariate_variables(model, summary.columns) if c not in model.data_columns]
    if max_driver_rows is not None and not covariates and not fit_kwargs and model.role == "transaction":
        fitted = _fit_on_executors(model, summary, weights, int(max_driver_rows), seed)
        if fitted is not None:
            return fitted
    rows = distinct_rows(summary, model.data_columns, weights=weights, covariates=covariates)
    if covariates:
        _refuse_stateful_transforms(model, rows)
    return model.fit(rows, weights=WEIGHT_COLUMN, **fit_kwargs)


def _refuse_stateful_transforms(model: BaseModel, rows: pd.DataFrame) -> None:
    """Refuse covariate transforms whose state (a mean, a scale) would be computed on the distinct rows.

    ``center(x)`` or ``scale(x)`` learn a statistic of the rows they see; on the distinct rows it is not
    the customers' (the rows are not weighted), so the estimates would not be the full fit's.
    """
    from clvlab.covariates import Design

    for process, spec in model.covariate_specs().items():
        design, _ = Design.fit(spec, rows, process)
        if design.transforms:
            raise DataError(
                f"{process}_covariates={spec!r} uses a transform that learns from the data "
                f"({', '.join(design.transforms)}); on Spark the fit sees distinct rows, not customers, "
                "so it would learn another state: transform the column in Spark first and pass it plainly"
            )


# -- fits whose likelihood is evaluated on the executors ---------------------------------------------------
@dataclass(frozen=True)
class _PartialLikelihood:
    """What ``mapInPandas`` runs per partition of the distinct rows.

    Their weighted log-likelihood and its gradient at ``theta``, one output row per partition.
    """

    model_class: type
    columns: tuple[str, ...]
    theta: tuple[float, ...]

    def __call__(self, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        frames = [b for b in batches if len(b)]
        if not frames:
            return
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        columns = tuple(frame[c].to_numpy(dtype=np.float64) for c in self.columns)
        weights = frame[WEIGHT_COLUMN].to_numpy(dtype=np.float64)
        model = self.model_class()
        keep = model._fit_rows(columns) & (weights > 0)
        rows = deduplicate(tuple(c[keep] for c in columns), weights[keep])
        with np.errstate(all="ignore"):
            total, grad = model._total_and_grad(rows.columns, rows.weights)(np.asarray(self.theta))
        yield pd.DataFrame({"total": [float(total)], "grad": [np.asarray(grad, dtype=np.float64).tolist()]})


def _fit_on_executors(
    model: M, summary: DataFrame, weights: str | None, max_driver_rows: int, seed: int
) -> M | None:
    """Fit with the likelihood summed on the executors when the distinct rows exceed ``max_driver_rows``.

    Returns ``None`` (the caller brings the rows to the driver) when they do not.
    """
    from clvlab.spark.scoring import _validate

    columns = list(model.data_columns)
    distinct = _distinct(summary, columns, weights, [])
    if distinct.limit(max_driver_rows + 1).count() <= max_driver_rows:
        return None
    # The summary's values are checked as the scoring checks them (one aggregate query, on the driver).
    if weights is None:
        _validate(summary, customer_id_column(summary, None), [model], None, None)
    spark = summary.sparkSession
    counted = distinct.persist(StorageLevel.MEMORY_AND_DISK)
    totals = counted.agg(sf.sum(WEIGHT_COLUMN).alias("w"), sf.count(sf.lit(1)).alias("n")).first()
    assert totals is not None
    total_weight = float(totals["w"])
    # Partitions of at most _PARTITION_ROWS rows: each evaluation's Python worker holds one at a time.
    parts = max(2, spark.sparkContext.defaultParallelism, -(-int(totals["n"]) // _PARTITION_ROWS))
    distinct = counted.repartition(parts).persist(StorageLevel.MEMORY_AND_DISK)
    distinct.count()
    counted.unpersist()
    try:
        # A random sample of customers (not of distinct rows: the sample's likelihood estimates the
        # whole one) starts the fit on the driver.
        start_rows = distinct_rows(
            summary.sample(fraction=min(1.0, _START_CUSTOMERS / max(total_weight, 1.0)), seed=seed),
            columns,
            weights=weights,
        )
        sample = model._fit_arrays(start_rows, WEIGHT_COLUMN)  # the model's own checks of the rows
        schema = st.StructType(
            [st.StructField("total", st.DoubleType()), st.StructField("grad", st.ArrayType(st.DoubleType()))]
        )

        def total_and_grad(theta: FloatArray) -> tuple[float, FloatArray]:
            partial = _PartialLikelihood(type(model), tuple(columns), tuple(float(v) for v in theta))
            rows = distinct.mapInPandas(partial, schema).collect()
            total = float(sum(r["total"] for r in rows))
            grad = np.sum([np.asarray(r["grad"], dtype=np.float64) for r in rows], axis=0)
            return total, grad

        frame = pd.DataFrame()
        unit = time_unit_of(summary)
        if unit is not None:
            frame.attrs["time_unit"] = unit
        model._fit_elsewhere(deduplicate(*sample), total_and_grad, total_weight, frame)
    finally:
        distinct.unpersist()
    return model
