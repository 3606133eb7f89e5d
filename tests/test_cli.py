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
    args = ["run", "--out-dir", str(tmp_path), "--acquisition-cost", "25"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "BetaGeo" in out
    assert "GammaGamma" in out
    assert "platinum" in out
    assert "high value at risk" in out
    assert "CLV:CAC" in out
    table = pd.read_csv(tmp_path / "targeting.csv", index_col="customer_id")
    assert len(table) == 2357
    assert table["clv_rank"].min() == 1
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "targeting.parquet"), table, check_exact=False)
    assert (table["acquisition_cost"] == 25.0).all()
    np.testing.assert_allclose(table["clv_to_cac"], table["clv"] / 25.0, rtol=1e-12)
    np.testing.assert_array_equal(np.isfinite(table["payback_horizon"]), table["clv"] >= 25.0)
    assert set(table["action_segment"]) <= {name for name, _, _ in clvlab.ACTION_SEGMENTS}
    # The segment summaries are written next to the table and match the API on it.
    actions = pd.read_csv(tmp_path / "action_segments.csv", index_col="action_segment")
    pd.testing.assert_frame_equal(
        actions, clvlab.segment_summary(table, by="action_segment"), check_exact=False
    )
    tiers = pd.read_csv(tmp_path / "segments.csv", index_col="segment")
    assert tiers["customers"].sum() == 2357
    # The bundled data get the published holdout check (tests/references.md [CDNOW-HOLDOUT-COUNTS]: 1,882
    # repeat purchases in weeks 40-78; [BGNBD-HOLDOUT-SUM]: BG/NBD predicts 1653.4 at the MLE) and the
    # diagnostic plots, those of the holdout in holdout/.
    assert "holdout check" in out
    assert "1882.000" in out
    assert "1653.4" in out
    for name in ("period_transactions", "p_alive_matrix", "spend_distribution", "clv_distribution"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000, name
    for name in ("tracking_cumulative", "calibration_vs_holdout", "clv_gains", "value_deciles"):
        assert (tmp_path / "holdout" / f"{name}.png").stat().st_size > 10_000, name
    bg = clvlab.load(tmp_path / "models" / "bgnbd.json")
    gg = clvlab.load(tmp_path / "models" / "gamma_gamma.json")
    assert isinstance(bg, clvlab.BetaGeo)
    assert isinstance(gg, clvlab.GammaGamma)
    assert bg.time_unit_ == "W"

    # Scoring with costs per acquisition channel from a file, with the saved models.
    ids = table.index.to_numpy()
    costs = tmp_path / "channels.csv"
    pd.DataFrame({"customer_id": ids, "channel": np.where(ids % 3 == 0, "search", "referral")}).to_csv(
        costs, index=False
    )
    # The models were saved under the output folder (models/ of the checkout stays as committed).
    model_args = ["--model-file", str(tmp_path / "models" / "bgnbd.json")]
    model_args += ["--spend-model-file", str(tmp_path / "models" / "gamma_gamma.json")]
    cdnow = tmp_path / "cdnow.csv"
    clvlab.datasets.load_cdnow_transactions().to_csv(cdnow, index=False)
    model_args += ["--transactions", str(cdnow)]
    scored = tmp_path / "scores.parquet"
    channel_args = [
        "--acquisition-cost",
        str(costs),
        "--channel-cost",
        "search=40",
        "--channel-cost",
        "referral=10",
    ]
    assert (
        main(["predict", *model_args, *channel_args, "--high-value-share", "0.1", "--output", str(scored)])
        == 0
    )
    assert "top 10% by CLV" in capsys.readouterr().out
    scores = pd.read_parquet(scored)
    np.testing.assert_array_equal(scores["acquisition_cost"], np.where(ids % 3 == 0, 40.0, 10.0))
    assert scores["channel"].tolist() == np.where(ids % 3 == 0, "search", "referral").tolist()
    assert (scores["action_segment"].isin(["top value active", "high value at risk"])).sum() == round(
        0.1 * 2357
    )
    # A cost per customer from the same kind of file.
    pd.DataFrame({"customer_id": ids, "acquisition_cost": ids % 7}).to_csv(costs, index=False)
    assert main(["predict", *model_args, "--acquisition-cost", str(costs), "--output", str(scored)]) == 0
    np.testing.assert_array_equal(pd.read_parquet(scored)["acquisition_cost"], ids % 7)
    # Bad cost options end with one line.
    capsys.readouterr()
    bad = [
        (
            ["--acquisition-cost", "25", "--channel-cost", "search=40"],
            "--channel-cost needs --acquisition-cost FILE",
        ),
        (["--acquisition-cost", str(costs), "--channel-cost", "search"], "expected CHANNEL=COST"),
        (["--acquisition-cost", str(costs), "--channel-cost", "a=1"], "needs a 'channel' column"),
        (["--acquisition-cost", str(tmp_path / "none.csv")], "acquisition cost file not found"),
        (["--acquisition-cost", "-5"], "finite and non-negative"),
    ]
    for extra, message in bad:
        assert main(["predict", *model_args, *extra, "--output", str(scored)]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err
        assert "\n" not in err


# Eight months of the online-retail year show almost no dropout: BG/NBD's b is not identified there (the
# warning's own test is test_unidentified_dropout_is_reported_and_predictions_stay_finite).
@pytest.mark.filterwarnings("ignore::clvlab.errors.UnidentifiedWarning")
@pytest.mark.filterwarnings("ignore::clvlab.errors.DegenerateSegmentsWarning")
def test_main_job_options_for_plots_and_holdout(tmp_path, retail_csv, capsys):
    base = ["run", "--out-dir", str(tmp_path / "a"), "--models-dir", str(tmp_path / "m")]
    assert main([*base, "--no-plots", "--calibration-end", "none"]) == 0
    out = capsys.readouterr().out
    assert "holdout check" not in out
    assert not list((tmp_path / "a").glob("**/*.png"))
    # A log of one's own gets the holdout check only when asked for.
    own = ["--transactions", str(retail_csv), "--customer-id", "CustomerID", "--datetime", "InvoiceDate"]
    own += ["--time-unit", "D", "--horizon", "365", "--discount-period", "365"]
    out_b = ["run", "--out-dir", str(tmp_path / "b"), "--models-dir", str(tmp_path / "m"), "--no-plots"]
    assert main([*out_b, *own, "--calibration-end", "2011-08-31"]) == 0
    out = capsys.readouterr().out
    assert "holdout check: models fitted up to 2011-08-31" in out
    assert "predicted_purchases" in out
    # ... and its action segments are degenerate (no drop-out seen), which the printed table says.
    assert "NOTE: the action segments are degenerate" in out


# Its segments are degenerate (no drop-out seen); tests/test_value.py checks that warning and note.
@pytest.mark.filterwarnings("ignore::clvlab.errors.DegenerateSegmentsWarning")
def test_fit_then_predict_on_online_retail(tmp_path, retail_csv, capsys):
    cols = ["--transactions", str(retail_csv), "--customer-id", "CustomerID", "--datetime", "InvoiceDate"]
    with pytest.warns(clvlab.UnidentifiedWarning, match="drop-out process is not identified"):
        assert main(["fit", *cols, "--model-kind", "bgnbd", "--models-dir", str(tmp_path / "m")]) == 0
    assert (tmp_path / "m" / "bgnbd.json").exists()
    assert main(["summary", str(tmp_path / "m" / "bgnbd.json")]) == 0
    assert "BetaGeo" in capsys.readouterr().out
    out = tmp_path / "scores.parquet"
    args = [
        "predict",
        "--model-file",
        str(tmp_path / "m" / "bgnbd.json"),
        "--spend-model-file",
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


def test_warnings_print_as_one_line(tmp_path, retail_csv):
    # Outside pytest's warning capture (a real process), clvlab's warnings are one "clvlab: warning:" line.
    import subprocess
    import sys

    cols = ["--transactions", str(retail_csv), "--customer-id", "CustomerID", "--datetime", "InvoiceDate"]
    cmd = [
        sys.executable,
        "-m",
        "clvlab",
        "fit",
        *cols,
        "--model-kind",
        "bgnbd",
        "--models-dir",
        str(tmp_path),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    lines = [line for line in done.stderr.splitlines() if "BetaGeo" in line]
    assert len(lines) == 1
    assert lines[0].startswith("clvlab: warning: BetaGeo: these data barely identify a = ")
    assert "drop-out process is not identified" in lines[0]


def test_unidentified_dropout_is_reported_and_predictions_stay_finite(tmp_path, retail_csv):
    # A year of online retail shows almost no dropout: the Pareto/NBD MLE runs to s -> 0, beta -> inf.
    cols = ["--transactions", str(retail_csv), "--customer-id", "CustomerID", "--datetime", "InvoiceDate"]
    with pytest.warns(clvlab.UnidentifiedWarning, match=r"flat along s=.*beta="):
        assert main(["fit", *cols, "--model-kind", "pareto-nbd", "--models-dir", str(tmp_path)]) == 0
    model = clvlab.load(tmp_path / "pareto_nbd.json")
    log = pd.read_csv(retail_csv)
    summary = clvlab.rfm_summary(log, customer_id="CustomerID", datetime="InvoiceDate", time_unit="W")
    assert np.isfinite(model.predict_purchases(summary, 52)).all()
    assert np.isfinite(model.predict_p_alive(summary)).all()
    with pytest.raises(ValueError, match="intervals are unavailable"):
        model.predict_purchases(summary, 52, interval=0.9)
    assert np.isnan(model.covariance_.to_numpy()).all()


def test_bad_input_exits_with_one_line(tmp_path, capsys):
    assert main(["run", "--transactions", str(tmp_path / "missing.csv"), "--out-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("clvlab: error:")
    assert "not found" in err
    assert "\n" not in err
    bad = tmp_path / "log.csv"
    pd.DataFrame({"cust": [1, 2], "date": ["2020-01-01", "2020-01-05"], "amount": [1.0, 2.0]}).to_csv(
        bad, index=False
    )
    assert main(["run", "--transactions", str(bad), "--out-dir", str(tmp_path)]) == 2
    assert "missing column(s) ['customer_id']" in capsys.readouterr().err
    (tmp_path / "model.json").write_bytes(b"\x80\x04\x95junk")
    args = [
        "predict",
        "--model-file",
        str(tmp_path / "model.json"),
        "--spend-model-file",
        str(tmp_path / "model.json"),
        "--transactions",
        str(bad),
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


def test_margin_and_predictive_bounds_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "out"
    args = [
        "run",
        "--out-dir",
        str(out),
        "--no-plots",
        "--calibration-end",
        "none",
        "--acquisition-cost",
        "25",
    ]
    value = ["--margin", "0.3", "--interval", "0.9", "--interval-kind", "predictive"]
    assert main([*args, *value]) == 0
    table = pd.read_parquet(out / "targeting.parquet")
    assert {"margin", "clv_revenue", "clv_profit", "clv_profit_lower", "clv_profit_upper"} <= set(table)
    assert "clv" not in table.columns
    # The same table as from Python, with the models the run saved.
    bg = clvlab.load(out / "models" / "bgnbd.json")
    gg = clvlab.load(out / "models" / "gamma_gamma.json")
    summary = clvlab.rfm_summary(
        clvlab.datasets.load_cdnow_transactions(), monetary_value="amount", time_unit="W"
    )
    expected = clvlab.predict_customer_value(
        bg,
        gg,
        summary,
        horizon=52,
        discount_rate=0.1,
        discount_period=52,
        interval=0.9,
        interval_kind="predictive",
        margin=0.3,
        acquisition_cost=25.0,
    )
    cols = ["clv_profit", "clv_profit_lower", "clv_profit_upper", "clv_profit_to_cac"]
    np.testing.assert_allclose(table[cols].to_numpy(), expected[cols].to_numpy(), rtol=1e-12)
    capsys.readouterr()
    for extra, message in [
        (["--margin", "30"], "--margin is a fraction of revenue in (0, 1]"),
        (["--interval-kind", "predictive"], "--interval-kind predictive needs --interval"),
    ]:
        assert main([*args, *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err
        assert "\n" not in err


def test_contract_job_on_the_published_cohorts_and_on_a_log(tmp_path, capsys):
    out = tmp_path / "contract"
    assert main(["contract", "--out-dir", str(out), "--acquisition-cost", "3", "--interval", "0.9"]) == 0
    table = pd.read_parquet(out / "subscribers.parquet")
    assert len(table) == 2000
    assert {"subscriber_value", "subscriber_value_lower", "churn_risk", "segment", "value_to_cac"} <= set(
        table
    )
    model = clvlab.load(out / "models" / "sbg.json")
    # tests/references.md [SBG-FH2007-COHORTS]: the two published cohorts pooled, one sBG, 10% a year.
    summary = pd.concat(
        [
            clvlab.survivors_to_summary(a, period="Y", expand=True).pipe(
                lambda d, k=k: d.set_axis(d.index + k)
            )
            for k, a in (
                (0, [1000, 631, 468, 382, 326, 289, 262, 241]),
                (1000, [1000, 869, 743, 653, 593, 551, 517, 491]),
            )
        ]
    )
    summary.attrs["time_unit"] = "Y"
    refit = clvlab.ShiftedBetaGeometric().fit(summary)
    np.testing.assert_allclose(model.params_.to_numpy(), refit.params_.to_numpy(), rtol=1e-10)
    expected = clvlab.predict_subscriber_value(refit, summary, margin_per_period=1.0, discount_rate=0.1)
    np.testing.assert_allclose(table["subscriber_value"].to_numpy(), expected["subscriber_value"].to_numpy())
    assert (out / "survival.png").exists()
    assert (out / "retention.png").exists()
    # A monthly log with an end column.
    log = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "started": ["2024-01-10", "2024-01-20", "2024-02-01", "2024-02-15", "2024-03-01", "2024-03-05"],
            "cancelled": ["2024-03-01", None, "2024-02-20", None, None, "2024-06-01"],
        }
    )
    path = tmp_path / "subs.csv"
    log.to_csv(path, index=False)
    args = ["contract", "--subscriptions", str(path), "--customer-id", "id", "--start", "started"]
    args += ["--end", "cancelled", "--observation-end", "2024-12-31", "--out-dir", str(tmp_path / "c2")]
    assert main([*args, "--margin-per-period", "12", "--no-plots"]) == 0
    scored = pd.read_csv(tmp_path / "c2" / "subscribers.csv", index_col="id")
    assert scored.loc[1, "subscriber_value"] == 0.0  # churned
    assert scored.loc[2, "subscriber_value"] > 12.0  # the payment due now, and more
    capsys.readouterr()
    for extra, message in [
        (["--margin-per-period", "-1"], "--margin-per-period must be a positive amount"),
        (["--discount-rate", "10"], "--discount-rate is a fraction per period"),
    ]:
        assert main([*args, *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err
        assert "\n" not in err
