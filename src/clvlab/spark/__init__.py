"""clvlab on Apache Spark: summaries, distinct-row fits and scoring where the data live.

A thin layer over the pandas path (``pip install "clvlab[spark]"``; PySpark 4 and Java 17):

* :func:`rfm_summary` and :func:`calibration_holdout_split` build the customer summary in Spark SQL,
  with the conventions of :func:`clvlab.rfm_summary` (same-day occasions, time units, returns, the end of
  observation, future dates) and its :class:`~clvlab.errors.DataError` raised on the driver; the
  time unit travels in the columns' metadata.
* :func:`fit` fits a model on the driver from the distinct summary rows and their counts, which Spark
  aggregates (:func:`distinct_rows`): the same estimates as fitting the full pandas summary.
* :func:`predict_customer_value` scores every customer with the pandas targeting code through
  ``mapInPandas`` and ranks, tiers and segments them globally in Spark.

``import clvlab`` never imports this module (nor PySpark).
"""

from __future__ import annotations

try:
    import pyspark  # noqa: F401  (the extra's presence is checked here, once)
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError('clvlab.spark needs PySpark 4 (and Java 17): pip install "clvlab[spark]"') from exc

from clvlab.spark._common import time_unit_of as summary_time_unit
from clvlab.spark.fit import distinct_rows, fit
from clvlab.spark.scoring import predict_customer_value, segment_summary, table_settings
from clvlab.spark.summary import calibration_holdout_split, rfm_summary

__all__ = [
    "calibration_holdout_split",
    "distinct_rows",
    "fit",
    "predict_customer_value",
    "rfm_summary",
    "segment_summary",
    "summary_time_unit",
    "table_settings",
]
