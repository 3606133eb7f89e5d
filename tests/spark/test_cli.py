"""clvlab run --engine spark: the main job in Spark gives the pandas targeting table and the usual outputs."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab.cli import main
from tests.spark.test_scoring import assert_same_table

pytest.importorskip("pyspark", reason='PySpark is not installed (pip install "clvlab[spark]")')


def test_run_on_parquet_equals_the_pandas_table(spark, cdnow_log, tmp_path, capsys):
    log_file = tmp_path / "log.parquet"
    cdnow_log.to_parquet(log_file)
    out = tmp_path / "out"
    argv = ["run", "--engine", "spark", "--transactions", str(log_file), "--observation-end", "1997-09-30"]
    argv += ["--acquisition-cost", "10", "--out-dir", str(out), "--calibration-end", "none", "--top", "3"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "fitting BetaGeo on distinct rows" in printed
    assert "CLV:CAC" in printed
    bg, gg = clvlab.load(out / "models" / "bgnbd.json"), clvlab.load(out / "models" / "gamma_gamma.json")
    summary = clvlab.rfm_summary(
        cdnow_log, monetary_value="amount", observation_end="1997-09-30", time_unit="W", drop_after_end=True
    )
    np.testing.assert_array_equal(bg.params_.to_numpy(), clvlab.BetaGeo().fit(summary).params_.to_numpy())
    value = {"horizon": 52.0, "discount_rate": 0.1, "discount_period": 52.0, "acquisition_cost": 10.0}
    expected = clvlab.predict_customer_value(bg, gg, summary, **value)
    table = spark.read.parquet(str(out / "targeting.parquet")).toPandas().set_index("customer_id")
    assert_same_table(table.sort_index(), expected)  # ranks over all customers, ties by id
    tiers = pd.read_csv(out / "segments.csv", index_col="segment")
    pd.testing.assert_frame_equal(tiers, clvlab.segment_summary(expected), check_exact=False, rtol=1e-9)
    parameters = pd.read_csv(out / "parameters.csv", index_col=[0, 1])
    assert parameters.loc[("BetaGeo", "r"), "estimate"] == pytest.approx(bg.params_["r"], rel=1e-12)


def test_run_on_csv_with_text_dates_holdout_and_channel_costs(spark, cdnow_log, tmp_path, capsys):
    log = cdnow_log.rename(columns={"customer_id": "cust", "date": "day", "amount": "value"})
    log["day"] = log["day"].dt.strftime("%d/%m/%Y")
    log.to_csv(tmp_path / "log.csv", index=False)
    ids = np.sort(log["cust"].unique())
    channels = pd.DataFrame({"cust": ids, "channel": np.where(ids % 2 == 0, "search", "tv")})
    channels.to_csv(tmp_path / "channels.csv", index=False)
    out = tmp_path / "out"
    argv = ["run", "--engine", "spark", "--transactions", str(tmp_path / "log.csv"), "--customer-id", "cust"]
    argv += ["--datetime", "day", "--amount", "value", "--date-format", "%d/%m/%Y", "--time-unit", "W"]
    argv += ["--calibration-end", "30/09/1997", "--out-dir", str(out)]
    argv += ["--acquisition-cost", str(tmp_path / "channels.csv"), "--channel-cost", "search=30"]
    argv += ["--channel-cost", "tv=5"]
    assert main(argv) == 0
    assert "holdout check: models fitted up to 30/09/1997" in capsys.readouterr().out
    metrics = pd.read_csv(out / "holdout_metrics.csv", index_col="metric")
    split = clvlab.calibration_holdout_split(
        cdnow_log, monetary_value="amount", calibration_end="1997-09-30", time_unit="W"
    )
    bg = clvlab.BetaGeo().fit(split)
    expected = clvlab.evaluate(bg, split, spend_model=clvlab.GammaGamma().fit(split))
    np.testing.assert_allclose(metrics["value"], expected["value"], rtol=1e-6)  # the published split
    table = spark.read.parquet(str(out / "targeting.parquet")).toPandas()
    assert sorted(table["clv_rank"]) == list(range(1, len(ids) + 1))
    assert set(table["channel"]) == {"search", "tv"}
    assert (out / "models" / "bgnbd.json").is_file()


def test_run_with_covariates_and_margin_equals_pandas(spark, cdnow_log, tmp_path, capsys):
    # Cohort covariates from a --customers file, profit at a 30% margin, 80% parameter bounds.
    log_file = tmp_path / "log.parquet"
    cdnow_log.to_parquet(log_file)
    first = cdnow_log.groupby("customer_id")["date"].min()
    customers = pd.DataFrame(
        {"customer_id": first.index, "cohort": first.dt.month.map({1: "Jan", 2: "Feb", 3: "Mar"}).to_numpy()}
    )
    customers.to_csv(tmp_path / "customers.csv", index=False)
    out = tmp_path / "out"
    argv = ["run", "--engine", "spark", "--transactions", str(log_file), "--time-unit", "W"]
    argv += ["--customers", str(tmp_path / "customers.csv"), "--purchase-covariates", "~ cohort"]
    argv += ["--dropout-covariates", "cohort", "--margin", "0.3", "--interval", "0.8"]
    argv += ["--out-dir", str(out), "--calibration-end", "1997-09-30"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "customer attributes joined from" in printed
    assert "holdout check" in printed
    bg = clvlab.load(out / "models" / "bgnbd.json")
    gg = clvlab.load(out / "models" / "gamma_gamma.json")
    summary = clvlab.rfm_summary(
        cdnow_log, monetary_value="amount", time_unit="W", customers=customers.set_index("customer_id")
    )
    expected_model = clvlab.BetaGeo(purchase_covariates="~ cohort", dropout_covariates=["cohort"]).fit(
        summary
    )
    np.testing.assert_allclose(bg.params_.to_numpy(), expected_model.params_.to_numpy(), rtol=1e-9)
    value = {"horizon": 52.0, "discount_rate": 0.1, "discount_period": 52.0, "margin": 0.3}
    value |= {"interval": 0.8}
    expected = clvlab.predict_customer_value(bg, gg, summary, **value)
    table = spark.read.parquet(str(out / "targeting.parquet")).toPandas().set_index("customer_id")
    assert_same_table(table.sort_index(), expected)
    tiers = pd.read_csv(out / "segments.csv", index_col="segment")
    pd.testing.assert_frame_equal(tiers, clvlab.segment_summary(expected), check_exact=False, rtol=1e-9)

    def refused(frame: pd.DataFrame) -> str:
        frame.to_csv(tmp_path / "bad.csv", index=False)
        bad = [*argv[: argv.index("--customers") + 1], str(tmp_path / "bad.csv")]
        bad += argv[argv.index("--customers") + 2 :]
        assert main(bad) == 2
        return capsys.readouterr().err

    assert "2 duplicated customer id(s), e.g. 1" in refused(pd.concat([customers.head(2), customers]))
    assert "1 customer(s) of the summary have no row in it, e.g. customer id 5" in refused(
        customers[customers["customer_id"] != 5]
    )
    assert "already holds" in refused(customers.assign(frequency=1))
    assert main([*argv, "--interval-kind", "predictive"]) == 2
    assert "parameter bounds only" in capsys.readouterr().err


def test_spark_engine_errors_are_one_line(spark, tmp_path, monkeypatch, capsys):
    def run(*extra: str) -> str:
        assert main(["run", "--out-dir", str(tmp_path / "o"), *extra]) == 2
        return capsys.readouterr().err

    assert "--spark-master is for --engine spark" in run("--spark-master", "local[1]")
    assert "need --customers FILE" in run("--engine", "spark", "--purchase-covariates", "x")
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # as without the extra
    assert 'pip install "clvlab[spark]"' in run("--engine", "spark")
    monkeypatch.undo()
    from pyspark.sql import SparkSession

    monkeypatch.setattr(SparkSession, "getActiveSession", staticmethod(lambda: None))
    monkeypatch.setattr("shutil.which", lambda _: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    assert "needs a Java 17 runtime" in run("--engine", "spark")


def test_date_formats_translate_to_spark_patterns():
    from clvlab.cli import _spark_pattern

    assert _spark_pattern("%d/%m/%Y") == "dd/MM/yyyy"
    assert _spark_pattern("%Y-%m-%dT%H:%M:%S") == "yyyy-MM-dd'T'HH:mm:ss"
    with pytest.raises(clvlab.DataError, match="%j has no Spark equivalent"):
        _spark_pattern("%Y-%j")
