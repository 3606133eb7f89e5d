"""The command line: main job, fit -> predict on the online-retail log, help and errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab.cli import main


@pytest.fixture(scope="module")
def retail_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("retail") / "invoices.csv"
    clvlab.datasets.load_online_retail().rename(
        columns={"customer_id": "CustomerID", "date": "InvoiceDate"}
    ).to_csv(path, index=False)
    return path


def test_main_job_on_bundled_data(tmp_path, capsys):
    assert main(["run", "--out", str(tmp_path), "--models-dir", str(tmp_path / "models")]) == 0
    out = capsys.readouterr().out
    assert "BetaGeo" in out
    assert "GammaGamma" in out
    assert "platinum" in out
    table = pd.read_csv(tmp_path / "targeting.csv", index_col="customer_id")
    assert len(table) == 2357
    assert table["clv_rank"].min() == 1
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "targeting.parquet"), table, check_exact=False)
    bg = clvlab.load(tmp_path / "models" / "bgnbd.json")
    gg = clvlab.load(tmp_path / "models" / "gamma_gamma.json")
    assert isinstance(bg, clvlab.BetaGeo)
    assert isinstance(gg, clvlab.GammaGamma)
    assert bg.time_unit_ == "W"


def test_fit_then_predict_on_online_retail(tmp_path, retail_csv, capsys):
    cols = ["--transactions", str(retail_csv), "--customer-id", "CustomerID", "--datetime", "InvoiceDate"]
    assert main(["fit", *cols, "--model", "bgnbd", "--out", str(tmp_path / "m")]) == 0
    assert (tmp_path / "m" / "bgnbd.json").exists()
    assert main(["summary", str(tmp_path / "m" / "bgnbd.json")]) == 0
    assert "BetaGeo" in capsys.readouterr().out
    out = tmp_path / "scores.parquet"
    args = [
        "predict",
        "--model",
        str(tmp_path / "m" / "bgnbd.json"),
        "--spend-model",
        str(tmp_path / "m" / "gamma_gamma.json"),
        *cols,
        "--horizon",
        "52",
        "--discount-rate",
        "0.1",
        "--discount-period",
        "52",
        "--output",
        str(out),
    ]
    assert main(args) == 0
    scores = pd.read_parquet(out)
    assert len(scores) == 4338
    assert scores.index.name == "CustomerID"
    assert np.isfinite(scores["clv"]).all()
    assert (scores["clv"] > 0).all()
    # The CLI scores exactly what the Python API gives with the reloaded models.
    log = pd.read_csv(retail_csv)
    summary = clvlab.rfm_summary(
        log, customer_id="CustomerID", datetime="InvoiceDate", monetary_value="amount", time_unit="W"
    )
    api = clvlab.predict_customer_value(
        clvlab.load(tmp_path / "m" / "bgnbd.json"),
        clvlab.load(tmp_path / "m" / "gamma_gamma.json"),
        summary,
        horizon=52,
        discount_rate=0.1,
        discount_period=52,
    )
    pd.testing.assert_frame_equal(scores, api, check_exact=True)


def test_unidentified_dropout_is_reported_and_predictions_stay_finite(tmp_path, retail_csv):
    # A year of online retail shows almost no dropout: the Pareto/NBD MLE runs to s -> 0, beta -> inf.
    cols = ["--transactions", str(retail_csv), "--customer-id", "CustomerID", "--datetime", "InvoiceDate"]
    with pytest.warns(clvlab.UnidentifiedWarning, match=r"flat along s=.*beta="):
        assert main(["fit", *cols, "--model", "pareto-nbd", "--out", str(tmp_path)]) == 0
    model = clvlab.load(tmp_path / "pareto_nbd.json")
    log = pd.read_csv(retail_csv)
    summary = clvlab.rfm_summary(log, customer_id="CustomerID", datetime="InvoiceDate", time_unit="W")
    assert np.isfinite(model.predict_purchases(summary, 52)).all()
    assert np.isfinite(model.predict_p_alive(summary)).all()
    with pytest.raises(ValueError, match="intervals are unavailable"):
        model.predict_purchases(summary, 52, interval=0.9)
    assert np.isnan(model.covariance_.to_numpy()).all()


def test_bad_input_exits_with_one_line(tmp_path, capsys):
    assert main(["run", "--transactions", str(tmp_path / "missing.csv"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("clvlab: error:")
    assert "not found" in err
    assert "\n" not in err
    bad = tmp_path / "log.csv"
    pd.DataFrame({"cust": [1, 2], "date": ["2020-01-01", "2020-01-05"], "amount": [1.0, 2.0]}).to_csv(
        bad, index=False
    )
    assert main(["run", "--transactions", str(bad), "--out", str(tmp_path)]) == 2
    assert "missing column(s) ['customer_id']" in capsys.readouterr().err
    (tmp_path / "model.json").write_bytes(b"\x80\x04\x95junk")
    args = [
        "predict",
        "--model",
        str(tmp_path / "model.json"),
        "--spend-model",
        str(tmp_path / "model.json"),
        "--output",
        str(tmp_path / "o.csv"),
    ]
    assert main(args) == 2
    assert "never loads pickles" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "fit", "predict", "summary"])
def test_every_subcommand_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "example" in capsys.readouterr().out


def test_python_dash_m_entry_point():
    done = subprocess.run(
        [sys.executable, "-m", "clvlab", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "run" in done.stdout
