"""clvlab.spark.predict_customer_value equals the pandas targeting table, customer by customer."""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab.errors import ClvlabWarning, DataError
from tests.spark.conftest import to_pandas

pytest.importorskip("pyspark", reason='PySpark is not installed (pip install "clvlab[spark]")')

from pyspark.sql import functions as sf

from clvlab import spark as cs
from clvlab.spark import scoring

CDNOW = {
    "monetary_value": "amount",
    "observation_end": "1997-09-30",
    "time_unit": "W",
    "drop_after_end": True,
}
VALUE = {"horizon": 52, "discount_rate": 0.10, "discount_period": 52}


@pytest.fixture(scope="module")
def spark_summary(spark: Any, cdnow_log: pd.DataFrame) -> Any:
    return cs.rfm_summary(spark.createDataFrame(cdnow_log), **CDNOW).cache()


@pytest.fixture(scope="module")
def models(cdnow_summary: pd.DataFrame) -> tuple[Any, Any, Any]:
    return (
        clvlab.BetaGeo().fit(cdnow_summary),
        clvlab.ParetoNBD().fit(cdnow_summary),
        clvlab.GammaGamma().fit(cdnow_summary),
    )


def assert_same_table(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same customers, columns and order; numbers to 1e-12 relative, ranks and segments exactly."""
    assert list(got.columns) == list(expected.columns)
    np.testing.assert_array_equal(got.index.to_numpy(), expected.index.to_numpy())
    for column in expected.columns:
        g, e = got[column].to_numpy(), expected[column].to_numpy()
        if column in ("clv_rank", "segment", "action_segment", "channel", "clv_percentile"):
            np.testing.assert_array_equal(g, e, err_msg=column)
        else:
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=0, err_msg=column)


def test_cdnow_table_equals_pandas(spark_summary, cdnow_summary, models):
    bg, _, gg = models
    table = cs.predict_customer_value(bg, gg, spark_summary, **VALUE, acquisition_cost=10.0)
    expected = clvlab.predict_customer_value(bg, gg, cdnow_summary, **VALUE, acquisition_cost=10.0)
    got = to_pandas(table)
    assert_same_table(got, expected)
    # CDNOW has many customers of equal CLV (one-time buyers of the same week): ties go by customer id.
    assert got["clv"].duplicated().sum() > 100
    assert cs.table_settings(table) == {k: v for k, v in expected.attrs.items() if k != "segment_note"}


def test_intervals_channels_and_small_batches_across_partitions(spark, spark_summary, cdnow_summary, models):
    _, pnbd, gg = models
    channels = np.where(cdnow_summary.index.to_numpy() % 3 == 0, "search", "referral")
    costs = {"search": 40.0, "referral": 5.0}
    options = {
        "horizon": np.inf,
        "discount_rate": 0.15,
        "discount_period": 52,
        "interval": 0.9,
        "n_draws": 40,
        "seed": 3,
        "acquisition_cost": costs,
        "channel": "channel",
        "high_value_share": 0.3,
        "active_threshold": 0.6,
    }
    with_channel = spark_summary.withColumn(
        "channel", sf.when(sf.col("customer_id") % 3 == 0, "search").otherwise("referral")
    ).repartition(7)
    table = cs.predict_customer_value(pnbd, gg, with_channel, **options, batch_rows=300)
    expected = clvlab.predict_customer_value(pnbd, gg, cdnow_summary.assign(channel=channels), **options)
    assert_same_table(to_pandas(table), expected)


def test_profit_tables_equal_pandas_and_predictive_bounds_are_refused(spark_summary, cdnow_summary, models):
    # A margin per customer (a column) and a flat one; bounds, CLV:CAC and segments on profit.
    bg, _, gg = models
    ids = cdnow_summary.index.to_numpy()
    rates = np.where(ids % 2 == 0, 0.3, 0.5)
    options = {**VALUE, "interval": 0.8, "n_draws": 30, "seed": 2}
    with_margin = spark_summary.withColumn(
        "m", sf.when(sf.col("customer_id") % 2 == 0, 0.3).otherwise(0.5)
    ).repartition(3)
    table = cs.predict_customer_value(bg, gg, with_margin, **options, margin="m", acquisition_cost=2.0)
    expected = clvlab.predict_customer_value(
        bg, gg, cdnow_summary.assign(m=rates), **options, margin="m", acquisition_cost=2.0
    )
    assert "clv_profit_to_cac" in expected.columns
    assert "clv" not in expected.columns
    assert_same_table(to_pandas(table), expected)
    assert cs.table_settings(table) == {k: v for k, v in expected.attrs.items() if k != "segment_note"}
    for by in ("segment", "action_segment"):
        pd.testing.assert_frame_equal(
            cs.segment_summary(table, by), clvlab.segment_summary(expected, by), check_exact=False, rtol=1e-9
        )
    flat = cs.predict_customer_value(bg, gg, spark_summary, **VALUE, margin=0.25)
    assert_same_table(
        to_pandas(flat), clvlab.predict_customer_value(bg, gg, cdnow_summary, **VALUE, margin=0.25)
    )
    bad = spark_summary.withColumn("m", sf.when(sf.col("customer_id") == 7, 1.5).otherwise(0.3))
    with pytest.raises(DataError, match=r"margin column 'm' must hold rates in \(0, 1\].*customer id 7"):
        cs.predict_customer_value(bg, gg, bad, **VALUE, margin="m")
    with pytest.raises(DataError, match="margin must be a rate"):
        cs.predict_customer_value(bg, gg, spark_summary, **VALUE, margin=30)
    # Simulated (predictive) CLV bounds would depend on each customer's partition: refused, with the way out.
    with pytest.raises(DataError, match=r"parameter bounds only.*pandas summary"):
        cs.predict_customer_value(bg, gg, spark_summary, **options, interval_kind="predictive")


def test_time_unit_is_checked_and_survives_parquet(spark, spark_summary, models, tmp_path):
    bg, _, gg = models
    spark_summary.write.parquet(str(tmp_path / "summary"))
    again = spark.read.parquet(str(tmp_path / "summary"))
    assert cs.summary_time_unit(again) == "W"
    cs.predict_customer_value(bg, gg, again, **VALUE)  # checked on the driver: no error, no warning
    in_days = cs.rfm_summary(
        spark.createDataFrame(clvlab.datasets.load_cdnow_transactions()), **{**CDNOW, "time_unit": "D"}
    )
    with pytest.raises(DataError, match="time unit 'D' but BetaGeo was fitted in 'W'"):
        cs.predict_customer_value(bg, gg, in_days, **VALUE)
    untagged = spark_summary.select(*[sf.col(c).alias(c, metadata={}) for c in spark_summary.columns])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ClvlabWarning)
        cs.predict_customer_value(bg, gg, untagged, **VALUE, customer_id="customer_id")
    assert [str(w.message)[:37] for w in caught if w.category is ClvlabWarning] == [
        "the summary records no time unit (its"
    ]


def test_summary_and_argument_errors_are_raised_on_the_driver(spark_summary, models):
    bg, _, gg = models
    with pytest.raises(DataError, match="horizon must be positive"):
        cs.predict_customer_value(bg, gg, spark_summary, horizon=-1)
    with pytest.raises(DataError, match="high_value_share must lie in"):
        cs.predict_customer_value(bg, gg, spark_summary, **VALUE, high_value_share=2.0)
    with pytest.raises(TypeError, match="acquisition_cost must be"):
        cs.predict_customer_value(bg, gg, spark_summary, **VALUE, acquisition_cost=[1.0])
    late = spark_summary.withColumn("recency", sf.col("T") + 1)
    with pytest.raises(DataError, match=r"recency exceeds T .*row\(s\), e.g. customer id"):
        cs.predict_customer_value(bg, gg, late, **VALUE)
    twice = spark_summary.unionByName(spark_summary.limit(3))
    with pytest.raises(DataError, match="duplicated customer ids"):
        cs.predict_customer_value(bg, gg, twice, **VALUE)
    with pytest.raises(DataError, match="missing column"):
        cs.predict_customer_value(bg, gg, spark_summary.drop("monetary_value"), **VALUE)
    with pytest.raises(DataError, match="no cost for channel"):
        cs.predict_customer_value(
            bg,
            gg,
            spark_summary.withColumn("c", sf.lit("tv")),
            **VALUE,
            acquisition_cost={"a": 1.0},
            channel="c",
        )


def test_models_travel_as_their_files_not_as_pickles(models):
    bg, _, gg = models
    payload = scoring.model_payload(bg)
    assert payload.lstrip().startswith(b"{")  # clvlab's JSON model file
    again = scoring.model_from_payload(payload)
    assert again.params_.equals(bg.params_)
    scorer = scoring._Scorer(payload, scoring.model_payload(gg), "customer_id", "W", ("clv",))
    pickled = pickle.dumps(scorer)
    assert b"clvlab.models" not in pickled  # no model object inside, only bytes
    assert pickle.loads(pickled) == scorer


def test_rebatching_joins_small_batches():
    batches = [pd.DataFrame({"a": range(k)}) for k in (3, 0, 4, 5, 1)]
    sizes = [len(b) for b in scoring._rebatch(iter(batches), 6)]
    assert sizes == [7, 6]


@pytest.mark.slow
def test_bayesian_models_score_like_pandas(spark_summary, cdnow_summary):
    # A posterior mode (one draw) keeps the fit quick; the executor reloads the models from their netCDF
    # files, which imports PyMC there once (one partition: one Python worker), about 10 s.
    cb = pytest.importorskip("clvlab.bayes", reason='PyMC is not installed (pip install "clvlab[bayes]")')
    bg = cb.BetaGeo(method="map", progressbar=False).fit(cdnow_summary)
    gg = cb.GammaGamma(method="map", progressbar=False).fit(cdnow_summary)
    assert scoring.model_payload(bg).startswith(b"\x89HDF")  # netCDF-4, never a pickle
    table = cs.predict_customer_value(bg, gg, spark_summary.coalesce(1), **VALUE)
    assert_same_table(to_pandas(table), clvlab.predict_customer_value(bg, gg, cdnow_summary, **VALUE))


def test_models_with_covariates_score_like_pandas(spark, spark_summary, cdnow_summary):
    ids = cdnow_summary.index.to_numpy()
    with_covariates = cdnow_summary.assign(channel=np.where(ids % 2 == 0, "search", "referral"))
    bg = clvlab.BetaGeo(purchase_covariates=["channel"]).fit(with_covariates)
    gg = clvlab.GammaGamma().fit(with_covariates)
    extra = spark.createDataFrame(with_covariates.reset_index()[["customer_id", "channel"]])
    summary = spark_summary.join(extra, "customer_id")
    table = cs.predict_customer_value(bg, gg, summary, **VALUE)
    assert_same_table(to_pandas(table), clvlab.predict_customer_value(bg, gg, with_covariates, **VALUE))
    with pytest.raises(DataError, match="missing column"):
        cs.predict_customer_value(bg, gg, spark_summary, **VALUE)


def test_ranks_are_global_with_ties_spread_over_partitions(spark, models):
    # 90 customers in 3 groups of identical rows (so identical CLV), ids whose text order ("c10" < "c9")
    # is not their numeric order, shuffled over 5 partitions: every tie is broken by the id as text, as
    # pandas sorts it, and ranks, percentiles and tiers span all partitions.
    bg, _, gg = models
    rows = [(0.0, 0.0, 30.0, 0.0), (2.0, 20.0, 30.0, 25.0), (5.0, 28.0, 30.0, 40.0)]
    ids = [f"c{i}" for i in range(90)]
    frame = pd.DataFrame(
        [rows[i % 3] for i in range(90)], columns=["frequency", "recency", "T", "monetary_value"], index=ids
    )
    frame.index.name = "customer_id"
    frame.attrs["time_unit"] = "W"
    plain = spark.createDataFrame(frame.reset_index().sample(frac=1.0, random_state=4))
    unit = {"clvlab": {"time_unit": "W"}}
    sdf = plain.select(
        "customer_id", *[sf.col(c).alias(c, metadata=unit) for c in frame.columns]
    ).repartition(5)
    assert sdf.rdd.getNumPartitions() == 5
    table = cs.predict_customer_value(bg, gg, sdf, **VALUE, customer_id="customer_id")
    with warnings.catch_warnings():  # three kinds of customer, all active: the segments are degenerate
        warnings.simplefilter("ignore", clvlab.DegenerateSegmentsWarning)
        expected = clvlab.predict_customer_value(bg, gg, frame, **VALUE)
    got = to_pandas(table)
    assert_same_table(got, expected.sort_index())
    top = got.sort_values("clv_rank")
    assert top.index[:3].tolist() == ["c11", "c14", "c17"]  # the highest group, ids in text order
    assert sorted(got["clv_percentile"].unique().tolist()) == pytest.approx([100 / 3, 200 / 3, 100.0])
