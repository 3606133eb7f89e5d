"""clvlab.spark.fit: distinct rows aggregated in Spark give the estimates of the full pandas fit."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab.errors import DataError

pytest.importorskip("pyspark", reason='PySpark is not installed (pip install "clvlab[spark]")')

from clvlab import spark as cs

CDNOW = {
    "monetary_value": "amount",
    "observation_end": "1997-09-30",
    "time_unit": "W",
    "drop_after_end": True,
}


@pytest.fixture(scope="module")
def spark_summary(spark: Any, cdnow_log: pd.DataFrame) -> Any:
    return cs.rfm_summary(spark.createDataFrame(cdnow_log), **CDNOW)


def assert_same_fit(got: Any, expected: Any) -> None:
    np.testing.assert_array_equal(got.params_.to_numpy(), expected.params_.to_numpy())
    np.testing.assert_array_equal(got.covariance_.to_numpy(), expected.covariance_.to_numpy())
    assert got.log_likelihood_ == expected.log_likelihood_
    assert got.n_customers_ == expected.n_customers_
    assert got.time_unit_ == expected.time_unit_


@pytest.mark.parametrize("model", [clvlab.BetaGeo, clvlab.ParetoNBD, clvlab.ModifiedBetaGeo])
def test_transaction_models_fit_as_on_the_full_summary(spark_summary, cdnow_summary, model):
    # Counts and times of the Spark summary are exact, so the distinct rows are the pandas fit's own.
    assert_same_fit(cs.fit(model(), spark_summary), model().fit(cdnow_summary))


@pytest.mark.parametrize("model", [clvlab.BetaGeo, clvlab.ParetoNBD])
def test_a_fit_evaluated_on_the_executors_finds_the_full_fit(
    spark_summary, cdnow_summary, model, monkeypatch
):
    # More distinct rows than max_driver_rows: every likelihood evaluation is a Spark job over the
    # persisted distinct rows; the driver sees only a random sample of 500 customers (the start).
    spark_fit = importlib.import_module("clvlab.spark.fit")  # the module (clvlab.spark.fit is the function)

    monkeypatch.setattr(spark_fit, "_START_CUSTOMERS", 500)
    seen: list[float] = []
    original = spark_fit.distinct_rows

    def recording(*args: Any, **kwargs: Any) -> pd.DataFrame:
        rows = original(*args, **kwargs)
        seen.append(float(rows[spark_fit.WEIGHT_COLUMN].sum()))
        return rows

    monkeypatch.setattr(spark_fit, "distinct_rows", recording)
    got = cs.fit(model(), spark_summary, max_driver_rows=100)
    expected = model().fit(cdnow_summary)
    assert len(seen) == 1
    assert 350 < seen[0] < 650  # about 500 of the 2,357 customers reached the driver, once
    np.testing.assert_allclose(got.params_.to_numpy(), expected.params_.to_numpy(), rtol=1e-8)
    assert got.log_likelihood_ == pytest.approx(expected.log_likelihood_, rel=1e-12)
    np.testing.assert_allclose(got.covariance_.to_numpy(), expected.covariance_.to_numpy(), rtol=1e-4)
    assert got.n_customers_ == expected.n_customers_
    assert got.time_unit_ == "W"
    # The summary is validated in Spark first, as the scoring validates it.
    late = spark_summary.withColumn("recency", spark_summary["T"] + 1)
    with pytest.raises(DataError, match="recency exceeds T"):
        cs.fit(model(), late, max_driver_rows=100)


def test_gamma_gamma_fits_on_distinct_spend_rows(spark, spark_summary, cdnow_summary):
    # On the same summary values the estimates are identical ...
    same_values = spark.createDataFrame(cdnow_summary.reset_index())
    fitted = cs.fit(clvlab.GammaGamma(), same_values)
    expected = clvlab.GammaGamma().fit(cdnow_summary)
    np.testing.assert_array_equal(fitted.params_.to_numpy(), expected.params_.to_numpy())
    assert fitted.log_likelihood_ == expected.log_likelihood_
    # ... and on the Spark summary, whose mean spends differ from pandas' in the last bit (Spark sums in
    # no fixed order), the optimiser stops within its tolerance of the same optimum.
    from_spark = cs.fit(clvlab.GammaGamma(), spark_summary)
    np.testing.assert_allclose(from_spark.params_.to_numpy(), expected.params_.to_numpy(), rtol=1e-5)
    assert from_spark.time_unit_ == "W"


def test_distinct_rows_count_every_customer(spark_summary, cdnow_summary):
    rows = cs.distinct_rows(spark_summary, ("frequency", "recency", "T"))
    assert rows.attrs["time_unit"] == "W"
    assert rows["customers"].sum() == len(cdnow_summary)
    expected = cdnow_summary.groupby(["frequency", "recency", "T"]).size()
    assert len(rows) == len(expected)
    np.testing.assert_array_equal(rows["customers"].to_numpy(), expected.to_numpy())


def test_an_aggregated_summary_fits_with_its_weights(spark):
    donations = clvlab.datasets.load_donations()
    got = cs.fit(clvlab.BetaGeoBetaBinom(), spark.createDataFrame(donations), weights="weights")
    expected = clvlab.BetaGeoBetaBinom().fit(donations, weights="weights")
    np.testing.assert_array_equal(got.params_.to_numpy(), expected.params_.to_numpy())
    assert got.n_customers_ == expected.n_customers_ == 11_104


def test_fit_errors(spark, spark_summary):
    with pytest.raises(DataError, match="missing column"):
        cs.fit(clvlab.GammaGamma(), spark_summary.drop("monetary_value"))
    with pytest.raises(DataError, match="negative values"):
        cs.fit(clvlab.BetaGeo(), spark_summary.withColumn("recency", spark_summary["recency"] - 100))
    with pytest.raises(TypeError, match="clvlab maximum-likelihood model"):
        cs.fit(object(), spark_summary)  # type: ignore[type-var]


def test_covariates_join_the_distinct_rows(spark, spark_summary, cdnow_summary):
    ids = cdnow_summary.index.to_numpy()
    with_covariates = cdnow_summary.assign(
        channel=np.where(ids % 3 == 0, "search", np.where(ids % 3 == 1, "referral", "tv")),
        tenure=(ids % 4).astype(np.float64),
    )
    extra = spark.createDataFrame(with_covariates.reset_index()[["customer_id", "channel", "tenure"]])
    summary = spark_summary.join(extra, "customer_id")
    spec = {"purchase_covariates": "~ channel + tenure", "dropout_covariates": ["channel"]}
    got = cs.fit(clvlab.BetaGeo(**spec), summary)
    expected = clvlab.BetaGeo(**spec).fit(with_covariates)
    np.testing.assert_array_equal(got.params_.to_numpy(), expected.params_.to_numpy())
    assert got.params_.index.equals(expected.params_.index)
    assert got.log_likelihood_ == expected.log_likelihood_
    rows = cs.distinct_rows(summary, ("frequency", "recency", "T"), covariates=("channel", "tenure"))
    assert rows["customers"].sum() == len(cdnow_summary)
    with pytest.raises(DataError, match="learns from the data"):
        cs.fit(clvlab.BetaGeo(purchase_covariates="~ center(tenure)"), summary)


def test_a_stated_sample_fits_on_about_that_many_customers(spark_summary, cdnow_summary):
    sampled = cs.fit(clvlab.BetaGeo(), spark_summary, sample=1000, seed=2)
    assert 800 < sampled.n_customers_ < 1200  # a Bernoulli sample of 1,000 of the 2,357 customers
    whole = cs.fit(clvlab.BetaGeo(), spark_summary, sample=10_000)  # more than the customers: all
    assert whole.n_customers_ == len(cdnow_summary)
    with pytest.raises(DataError, match="sample must be a positive number"):
        cs.fit(clvlab.GammaGamma(), spark_summary, sample=0)
