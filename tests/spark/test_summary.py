"""clvlab.spark.rfm_summary and calibration_holdout_split equal the pandas path, errors included."""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab.data import summary as summary_module
from clvlab.errors import ClvlabWarning, DataError
from tests.spark.conftest import generated_log, to_pandas

pytest.importorskip("pyspark", reason='PySpark is not installed (pip install "clvlab[spark]")')

from pyspark.sql import functions as sf

from clvlab import spark as cs

MONEY = ("monetary_value", "monetary_value_holdout")


def assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same customers and columns; exact counts and times, money to 1e-12 relative."""
    assert list(got.columns) == list(expected.columns)
    assert got.index.name == expected.index.name
    np.testing.assert_array_equal(got.index.to_numpy(), expected.index.to_numpy())
    for column in expected.columns:
        g, e = got[column].to_numpy(), expected[column].to_numpy()
        assert g.dtype == np.float64, column
        if column in MONEY:
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=0, err_msg=column)
        else:
            np.testing.assert_array_equal(g, e, err_msg=column)


@pytest.fixture(scope="module")
def cdnow_sdf(spark: Any, cdnow_log: pd.DataFrame) -> Any:
    return spark.createDataFrame(cdnow_log)


@pytest.mark.parametrize(
    "kwargs",
    [
        {
            "monetary_value": "amount",
            "observation_end": "1997-09-30",
            "time_unit": "W",
            "drop_after_end": True,
        },
        {"time_unit": "M"},
        {"monetary_value": "amount", "time_unit": "D", "include_first_transaction": True},
        {"monetary_value": "amount", "observation_end": dt.date(1998, 7, 31), "time_unit": "Y"},
    ],
)
def test_cdnow_summary_equals_pandas(cdnow_sdf, cdnow_log, kwargs):
    got = cs.rfm_summary(cdnow_sdf, **kwargs)
    assert_same(to_pandas(got), clvlab.rfm_summary(cdnow_log, **kwargs))
    for column in ("frequency", "recency", "T"):
        assert got.schema[column].metadata == {"clvlab": {"time_unit": kwargs["time_unit"]}}


def test_cdnow_split_equals_pandas(cdnow_sdf, cdnow_log):
    kwargs = {"calibration_end": "1997-09-30", "observation_end": "1998-06-30", "time_unit": "W"}
    for money in ({}, {"monetary_value": "amount"}):
        got = cs.calibration_holdout_split(cdnow_sdf, **kwargs, **money)
        assert_same(to_pandas(got), clvlab.calibration_holdout_split(cdnow_log, **kwargs, **money))


@pytest.mark.parametrize(
    ("options", "kwargs"),
    [
        ({"returns": True, "huge": 3000}, {"allow_returns": True, "time_unit": "W"}),
        ({"tz": "America/New_York", "string_ids": True}, {"timezone": "America/New_York", "time_unit": "M"}),
        ({"tz": "Asia/Kolkata", "returns": True}, {"timezone": "Asia/Kolkata", "allow_returns": True}),
    ],
)
def test_generated_logs_equal_pandas(spark, options, kwargs):
    log = generated_log(11, **options)
    # 16 partitions for a few thousand rows: some are empty.
    sdf = spark.createDataFrame(log).repartition(16)
    timezone = kwargs.pop("timezone", None)
    spark_kwargs = {**kwargs, **({"timezone": timezone} if timezone else {})}
    args = {"monetary_value": "amount", "observation_end": "2024-09-30", "drop_after_end": True}
    assert_same(
        to_pandas(cs.rfm_summary(sdf, **args, **spark_kwargs)), clvlab.rfm_summary(log, **args, **kwargs)
    )
    split = {"monetary_value": "amount", "calibration_end": "2024-03-31"}
    assert_same(
        to_pandas(cs.calibration_holdout_split(sdf, **split, **spark_kwargs)),
        clvlab.calibration_holdout_split(log, **split, **kwargs),
    )


def test_returns_example_from_the_docstring(spark):
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2],
            "date": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-15", "2024-01-02", "2024-01-05"]),
            "amount": [50.0, 30.0, -30.0, 10.0, 5.0],
        }
    )
    got = to_pandas(cs.rfm_summary(spark.createDataFrame(log), monetary_value="amount", allow_returns=True))
    assert got.loc[1].tolist() == [0.0, 0.0, 14.0, 0.0]
    assert_same(got, clvlab.rfm_summary(log, monetary_value="amount", allow_returns=True))


def test_date_types_count_by_calendar_day(spark):
    log = generated_log(5, n_customers=60)
    expected = clvlab.rfm_summary(log, monetary_value="amount", time_unit="W")
    sdf = spark.createDataFrame(log)
    for column in (
        sf.col("date").cast("timestamp_ntz"),  # naive: its own calendar day
        sf.to_date("date"),
    ):
        cast = sdf.withColumn("date", column)
        assert_same(to_pandas(cs.rfm_summary(cast, monetary_value="amount", time_unit="W")), expected)


def test_timestamps_count_in_the_given_zone_not_the_session_zone(spark):
    log = generated_log(7, n_customers=80, tz="UTC")
    sdf = spark.createDataFrame(log)
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    try:
        got = to_pandas(cs.rfm_summary(sdf, monetary_value="amount"))
        tokyo = to_pandas(cs.rfm_summary(sdf, monetary_value="amount", timezone="Asia/Tokyo"))
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    assert_same(got, clvlab.rfm_summary(log, monetary_value="amount"))
    in_tokyo = log.assign(date=log["date"].dt.tz_convert("Asia/Tokyo"))
    assert_same(tokyo, clvlab.rfm_summary(in_tokyo, monetary_value="amount"))
    assert not got["T"].equals(tokyo["T"])


def test_time_unit_metadata_survives_parquet(spark, cdnow_sdf, tmp_path):
    summary = cs.calibration_holdout_split(cdnow_sdf, calibration_end="1997-09-30", time_unit="W")
    summary.write.parquet(str(tmp_path / "summary"))
    again = spark.read.parquet(str(tmp_path / "summary"))
    assert cs.summary_time_unit(again) == "W"
    assert again.schema["duration_holdout"].metadata == {"clvlab": {"time_unit": "W"}}
    assert again.schema["customer_id"].metadata == {"clvlab": {"role": "customer_id"}}


def test_the_caller_frame_is_not_changed(cdnow_sdf):
    before = (cdnow_sdf.schema, cdnow_sdf.count())
    cs.rfm_summary(cdnow_sdf, monetary_value="amount").count()
    assert (cdnow_sdf.schema, cdnow_sdf.count()) == before


# -- errors: the pandas path's DataErrors, raised on the driver -------------------------------------------
def _small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3],
            "date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-15", "2024-03-01"]),
            "amount": [10.0, 20.0, 5.0, 7.5],
        }
    )


def _with(column: str, row: int, value: Any) -> pd.DataFrame:
    log = _small()
    log.loc[row, column] = value
    return log


@pytest.mark.parametrize(
    ("log", "kwargs", "match"),
    [
        (_small().iloc[:0], {}, "empty"),
        (_small(), {"monetary_value": "price"}, "missing column"),
        (_small(), {"customer_id": "date"}, "different columns"),
        (_with("amount", 1, -5.0), {"monetary_value": "amount"}, "negative amounts"),
        (_with("amount", 2, np.nan), {"monetary_value": "amount"}, "NaN"),
        (_small(), {"observation_end": "2023-12-31"}, "before the first transaction"),
        (_small(), {"observation_end": "2024-02-15"}, "fall after observation_end"),
        (_small(), {"observation_end": "2099-01-01"}, "after today"),
        (_small(), {"observation_end": "not a date"}, "not a date"),
        (_small(), {"time_unit": "fortnight"}, "time_unit must be one of"),
    ],
)
def test_errors_match_pandas(spark, log, kwargs, match):
    with pytest.raises(DataError, match=match):
        clvlab.rfm_summary(log, **kwargs)
    sdf = spark.createDataFrame(log, schema="customer_id long, date timestamp, amount double")
    with pytest.raises(DataError, match=match):
        cs.rfm_summary(sdf, **kwargs)


def test_null_ids_and_dates_are_refused(spark):
    sdf = spark.createDataFrame(_small())
    with pytest.raises(DataError, match="null customer ids: 1 row"):
        cs.rfm_summary(sdf.withColumn("customer_id", sf.when(sf.col("amount") > 6, sf.col("customer_id"))))
    with pytest.raises(DataError, match="missing dates: 1 row"):
        cs.rfm_summary(sdf.withColumn("date", sf.when(sf.col("amount") > 6, sf.col("date"))))


def test_future_dates_are_refused_like_pandas(spark, monkeypatch):
    monkeypatch.setattr(summary_module, "_today", lambda: dt.date(2024, 1, 20))
    log = _small()
    with pytest.raises(DataError, match="2 transaction"):
        clvlab.rfm_summary(log)
    with pytest.raises(
        DataError,
        match=r"2 transaction\(s\) dated after today \(2024-01-20\), earliest: "
        r"customer 1 on 2024-02-01, customer 3 on 2024-03-01",
    ):
        cs.rfm_summary(spark.createDataFrame(log))


def test_a_late_observation_end_warns_like_pandas(spark):
    log = _small()
    with pytest.warns(ClvlabWarning, match="after the log's last transaction"):
        expected = clvlab.rfm_summary(log, observation_end="2025-06-01")
    sdf = spark.createDataFrame(log)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ClvlabWarning)
        got = cs.rfm_summary(sdf, observation_end="2025-06-01")
    assert ["after the log's last transaction" in str(w.message) for w in caught] == [True]
    assert_same(to_pandas(got), expected)


def test_spark_specific_errors(spark):
    sdf = spark.createDataFrame(_small())
    with pytest.raises(DataError, match="must hold dates or timestamps, got string"):
        cs.rfm_summary(sdf.withColumn("date", sf.col("date").cast("string")))
    with pytest.raises(DataError, match="holds numbers"):
        cs.rfm_summary(sdf.withColumn("date", sf.lit(20240101)))
    with pytest.raises(DataError, match="IANA time-zone name"):
        cs.rfm_summary(sdf, timezone="Mars/Olympus")
    with pytest.raises(DataError, match="must be numeric"):
        cs.rfm_summary(sdf.withColumn("amount", sf.lit("x")), monetary_value="amount")
    with pytest.raises(DataError, match="Spark DataFrame"):
        cs.rfm_summary(_small())
    with pytest.raises(DataError, match="calibration_end 2024-03-01 must lie within the log"):
        cs.calibration_holdout_split(sdf, calibration_end="2024-03-01")
    everything_back = spark.createDataFrame(
        pd.DataFrame(
            {"customer_id": [1, 1], "date": pd.to_datetime(["2024-01-01"] * 2), "amount": [5.0, -5.0]}
        )
    )
    with pytest.raises(DataError, match="no purchase occasions are left"):
        cs.rfm_summary(everything_back, monetary_value="amount", allow_returns=True)
