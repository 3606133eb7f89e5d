"""clvlab.mlflow: a model logged as clvlab's own files, served as a pyfunc and through spark_udf."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import clvlab
import clvlab.mlflow as clvlab_mlflow
from clvlab.errors import DataError

mlflow = pytest.importorskip("mlflow", reason='MLflow is not installed (pip install "clvlab[mlflow]")')
pytest.importorskip("mlflow.pyfunc", reason='MLflow is not installed (pip install "clvlab[mlflow]")')
pytest.importorskip("pyspark", reason='PySpark is not installed (pip install "clvlab[spark]")')

VALUE = {"horizon": 52.0, "discount_rate": 0.10, "discount_period": 52.0}
INPUTS = ["frequency", "recency", "T", "monetary_value"]


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # A file store under tmp_path (MLflow 3 keeps it behind an opt-in; the database stores need
    # SQLAlchemy, which mlflow-skinny does not bring).
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"file:{tmp_path / 'mlruns'}")
    return tmp_path


@pytest.fixture(scope="module")
def fitted(cdnow_split: pd.DataFrame) -> tuple[Any, Any]:
    return clvlab.BetaGeo().fit(cdnow_split), clvlab.GammaGamma().fit(cdnow_split)


def test_round_trip_pyfunc_and_spark_udf(spark, tracking, cdnow_split, fitted):
    bg, gg = fitted
    info = clvlab_mlflow.log_model(
        bg, "clv", spend_model=gg, **VALUE, holdout=cdnow_split, params={"data": "cdnow"}
    )

    # The artifact is clvlab's JSON model files and a JSON of settings: nothing pickled.
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=info.model_uri))
    files = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".cloudpickle"))]
    assert {"data/clvlab/model", "data/clvlab/spend_model", "data/clvlab/settings.json"} <= set(files)
    assert json.loads((local / "data/clvlab/model").read_text())["format"] == "clvlab-model"

    loaded = clvlab_mlflow.load_model(info.model_uri)
    assert loaded.model.params_.equals(bg.params_)
    assert loaded.spend_model.params_.equals(gg.params_)
    assert loaded.settings["time_unit"] == "W"
    assert loaded.settings["horizon"] == 52.0

    run = mlflow.get_run(info.run_id)
    assert float(run.data.params["BetaGeo.r"]) == float(bg.params_["r"])
    assert run.data.params["data"] == "cdnow"
    report = clvlab.evaluate(bg, cdnow_split, spend_model=gg)["value"]
    assert {k: run.data.metrics[f"holdout_{k}"] for k in report.index} == report.to_dict()

    expected = clvlab.predict_customer_value(bg, gg, cdnow_split, **VALUE)
    columns = clvlab_mlflow.output_columns(bg, gg, 52.0)
    pyfunc = mlflow.pyfunc.load_model(info.model_uri)
    assert [c.name for c in pyfunc.metadata.get_input_schema().inputs] == INPUTS
    out = pyfunc.predict(cdnow_split[INPUTS].reset_index(drop=True))
    np.testing.assert_allclose(out[columns].to_numpy(), expected[columns].to_numpy(), rtol=1e-12, atol=0)

    udf = mlflow.pyfunc.spark_udf(
        spark, info.model_uri, result_type=clvlab_mlflow.result_type(bg, gg, 52.0), env_manager="local"
    )
    sdf = spark.createDataFrame(cdnow_split.reset_index()[["customer_id", *INPUTS]]).repartition(3)
    scored = sdf.select("customer_id", udf(*INPUTS).alias("v")).select("customer_id", "v.*")
    got = scored.toPandas().set_index("customer_id").sort_index()
    assert list(got.columns) == columns
    np.testing.assert_allclose(got.to_numpy(), expected[columns].to_numpy(), rtol=1e-12, atol=0)


def test_a_transaction_model_alone(tracking, cdnow_split, fitted):
    bg, _ = fitted
    info = clvlab_mlflow.log_model(bg, horizon=39.0)
    out = mlflow.pyfunc.load_model(info.model_uri).predict(cdnow_split[["frequency", "recency", "T"]])
    assert list(out.columns) == ["p_alive", "expected_purchases"]
    np.testing.assert_array_equal(out["p_alive"].to_numpy(), bg.predict_p_alive(cdnow_split).to_numpy())
    np.testing.assert_array_equal(
        out["expected_purchases"].to_numpy(), bg.predict_purchases(cdnow_split, 39.0).to_numpy()
    )
    assert clvlab_mlflow.load_model(info.model_uri).spend_model is None


def test_log_model_errors(tracking, fitted):
    bg, gg = fitted
    with pytest.raises(DataError, match="needs horizon"):
        clvlab_mlflow.log_model(bg, spend_model=gg)
    with pytest.raises(DataError, match="must be a transaction model"):
        clvlab_mlflow.log_model(gg, spend_model=gg, horizon=52.0)
    with pytest.raises(DataError, match="needs spend_model"):
        clvlab_mlflow.log_model(bg, horizon=52.0, margin=0.3)
    with pytest.raises(DataError, match=r"margin must be a rate in \(0, 1\]"):
        clvlab_mlflow.log_model(bg, spend_model=gg, horizon=52.0, margin=30)


def test_a_profit_pyfunc_values_customers_on_margin(tmp_path, cdnow_split, fitted):
    bg, gg = fitted
    path = clvlab_mlflow.save_model(bg, tmp_path / "m", spend_model=gg, **VALUE, margin=0.3)
    columns = clvlab_mlflow.output_columns(bg, gg, 52.0, margin=0.3)
    assert columns[-3:] == ["margin", "clv_revenue", "clv_profit"]
    pyfunc = mlflow.pyfunc.load_model(str(path))
    assert [c.name for c in pyfunc.metadata.get_output_schema().inputs] == columns
    out = pyfunc.predict(cdnow_split[INPUTS].reset_index(drop=True))
    expected = clvlab.predict_customer_value(bg, gg, cdnow_split, **VALUE, margin=0.3)
    np.testing.assert_allclose(out[columns].to_numpy(), expected[columns].to_numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(out["clv_profit"], 0.3 * out["clv_revenue"], rtol=1e-15)


def test_models_with_covariates_score_from_the_attribute_columns(spark, tracking, cdnow_split):
    rng = np.random.default_rng(0)
    data = cdnow_split.assign(
        channel=rng.choice(["search", "referral", "social"], len(cdnow_split)),
        first_amount=rng.gamma(2.0, 20.0, len(cdnow_split)),
    )
    bg = clvlab.BetaGeo(purchase_covariates="~ channel + log(first_amount)", dropout_covariates=["channel"])
    bg.fit(data)
    gg = clvlab.GammaGamma(spend_covariates=["channel"]).fit(data)
    info = clvlab_mlflow.log_model(bg, "clv", spend_model=gg, **VALUE)
    assert clvlab_mlflow.covariate_inputs(bg, gg) == {"channel": "string", "first_amount": "double"}
    pyfunc = mlflow.pyfunc.load_model(info.model_uri)
    inputs = [*INPUTS, "channel", "first_amount"]
    schema = {c.name: str(c.type) for c in pyfunc.metadata.get_input_schema().inputs}
    assert list(schema) == inputs
    assert "string" in schema["channel"]
    expected = clvlab.predict_customer_value(bg, gg, data, **VALUE)
    columns = clvlab_mlflow.output_columns(bg, gg, 52.0)
    out = pyfunc.predict(data[inputs].reset_index(drop=True))
    np.testing.assert_allclose(out[columns].to_numpy(), expected[columns].to_numpy(), rtol=1e-12, atol=0)
    # The same through Spark, and an unseen level is the model's own error.
    udf = mlflow.pyfunc.spark_udf(
        spark, info.model_uri, result_type=clvlab_mlflow.result_type(bg, gg, 52.0), env_manager="local"
    )
    sdf = spark.createDataFrame(data.reset_index()[["customer_id", *inputs]]).repartition(2)
    got = sdf.select("customer_id", udf(*inputs).alias("v")).select("customer_id", "v.*").toPandas()
    got = got.set_index("customer_id").sort_index()
    np.testing.assert_allclose(got[columns].to_numpy(), expected[columns].to_numpy(), rtol=1e-12, atol=0)
    with pytest.raises(DataError, match="tiktok"):
        pyfunc.predict(data[inputs].head(3).assign(channel="tiktok").reset_index(drop=True))
    run = mlflow.get_run(info.run_id)
    assert float(run.data.params["BetaGeo.purchase:channel.T.search"]) == float(
        bg.params_["purchase:channel[T.search]"]
    )
    assert "BetaGeo.purchase:log_first_amount_" in run.data.params
