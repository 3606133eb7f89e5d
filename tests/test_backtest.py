"""backtest: rolling origins scored by evaluate's metrics; the baselines as defined; wide view and plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab import plotting
from clvlab.backtesting import last_period_forecast, simple_forecast


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


ORIGINS = ["1997-06-30", "1997-09-30"]


@pytest.fixture(scope="module")
def cdnow_backtest(cdnow_log):
    return clvlab.backtest(
        cdnow_log, models={"BG/NBD": clvlab.BetaGeo()}, calibration_ends=ORIGINS, holdout=26, time_unit="W"
    )


def test_table_shape(cdnow_backtest, cdnow_split):
    bt = cdnow_backtest
    assert list(bt.columns) == ["origin", "model", "metric", "value"]
    bg, gg = clvlab.BetaGeo().fit(cdnow_split), clvlab.GammaGamma().fit(cdnow_split)
    metrics = clvlab.evaluate(bg, cdnow_split, spend_model=gg).index.tolist()
    assert len(metrics) == 17
    assert len(bt) == 2 * 3 * 17  # origins x (one model + two baselines) x metrics
    assert bt["origin"].unique().tolist() == [pd.Timestamp(o) for o in ORIGINS]
    assert bt["model"].unique().tolist() == ["BG/NBD", "simple", "last_period"]
    for _, group in bt.groupby(["origin", "model"]):
        assert group["metric"].tolist() == metrics
    assert np.isfinite(bt["value"]).all()
    assert bt.attrs["holdout_days"] == 182
    wide = clvlab.backtest_wide(bt)
    assert wide.shape == (6, 17)
    gini = clvlab.backtest_wide(bt, "gini")
    assert gini.index.tolist() == ["BG/NBD", "simple", "last_period"]
    assert [str(c) for c in gini.columns] == [*ORIGINS, "mean"]
    np.testing.assert_allclose(gini["mean"], gini[[c for c in gini.columns if c != "mean"]].mean(axis=1))


def test_model_metrics_equal_evaluate_on_the_same_split(cdnow_log, cdnow_backtest):
    for origin in ORIGINS:
        end = pd.Timestamp(origin) + pd.Timedelta(days=182)
        split = clvlab.calibration_holdout_split(
            cdnow_log,
            calibration_end=origin,
            observation_end=end,
            monetary_value="amount",
            time_unit="W",
            drop_after_end=True,
        )
        bg, gg = clvlab.BetaGeo().fit(split), clvlab.GammaGamma().fit(split)
        expected = clvlab.evaluate(bg, split, spend_model=gg)["value"]
        rows = cdnow_backtest[
            (cdnow_backtest["origin"] == pd.Timestamp(origin)) & (cdnow_backtest["model"] == "BG/NBD")
        ]
        got = rows.set_index("metric")["value"]
        pd.testing.assert_series_equal(got, expected, check_names=False, rtol=1e-12)


def test_simple_baseline_is_compare_simple_clv_forecast(cdnow_log, cdnow_split):
    # the quickstart's split (39 + 39 weeks): the simple formula's holdout forecast and ranking
    bt = clvlab.backtest(
        cdnow_log, models={}, calibration_ends=["1997-09-30"], holdout=39, time_unit="W", baselines=["simple"]
    )
    bg, gg = clvlab.BetaGeo().fit(cdnow_split), clvlab.GammaGamma().fit(cdnow_split)
    cmp = clvlab.compare_simple_clv(
        cdnow_log, bg, gg, calibration_end="1997-09-30", observation_end="1998-06-30", period="Q"
    )
    got = bt.set_index("metric")["value"]
    assert got["predicted_value"] == pytest.approx(cmp.metrics["simple_holdout_value"], rel=1e-12)
    assert got["actual_value"] == pytest.approx(cmp.metrics["holdout_value"], rel=1e-12)
    assert got["gini"] == pytest.approx(cmp.metrics["gini_simple"], rel=1e-12)
    # purchases: orders per period x sum_{t=1}^{h} r^t, the same sum as the value's
    desc = clvlab.describe_customers(cdnow_log, period="Q", observation_end="1997-09-30", drop_after_end=True)
    r, h = desc.metrics["retention_rate"], 273 / (365.25 / 4)
    factor = r * (1 - r**h) / (1 - r)
    purchases, value = simple_forecast(
        cdnow_log, pd.Timestamp("1997-09-30"), 273, cdnow_split.index, "Q", "amount", {}
    )
    np.testing.assert_allclose(purchases, desc.customers["purchase_frequency"].to_numpy() * factor)
    np.testing.assert_allclose(value, cmp.customers["simple_holdout_value"].to_numpy(), rtol=1e-12)


def _tiny_log() -> pd.DataFrame:
    rows = [
        ("A", "2020-01-01", 10.0),
        ("A", "2020-01-10", 20.0),  # on the window's open start: not in it
        ("A", "2020-01-11", 5.0),
        ("A", "2020-01-11", 7.0),  # same day: one occasion of 12
        ("A", "2020-01-20", 3.0),  # the origin: in the window
        ("A", "2020-01-25", 8.0),  # holdout
        ("B", "2020-01-02", 50.0),
        ("B", "2020-01-30", 40.0),  # holdout
        ("C", "2020-01-15", 30.0),  # acquired in the window: the first purchase counts
        ("C", "2020-01-18", 10.0),
        ("D", "2020-01-25", 99.0),  # acquired in the holdout: not scored
    ]
    log = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    log["date"] = pd.to_datetime(log["date"])
    return log


def test_last_period_repeat_by_hand():
    log = _tiny_log()
    before = log.copy()
    # origin 2020-01-20, holdout 10 days: the window is (2020-01-10, 2020-01-20]
    origin = int(np.datetime64("2020-01-20", "D").astype(np.int64))
    purchases, value = last_period_forecast(log, origin, 10, pd.Index(["A", "B", "C"]), "amount", {})
    np.testing.assert_array_equal(purchases, [2.0, 0.0, 2.0])
    np.testing.assert_allclose(value, [15.0, 0.0, 40.0])
    bt = clvlab.backtest(
        log, models={}, calibration_ends=["2020-01-20"], holdout=10, time_unit="D", baselines=["last_period"]
    )
    got = bt.set_index("metric")["value"]
    assert got["n_customers"] == 3
    assert (got["actual_purchases"], got["predicted_purchases"]) == (2.0, 4.0)  # A 1, B 1, C 0
    assert (got["actual_value"], got["predicted_value"]) == (48.0, 55.0)
    assert got["mae"] == pytest.approx((1 + 1 + 2) / 3)  # |(2, 0, 2) - (1, 1, 0)|
    assert got["value_mae"] == pytest.approx((7 + 40 + 40) / 3)  # |(15, 0, 40) - (8, 40, 0)|
    pd.testing.assert_frame_equal(log, before)


def test_origins_from_n_origins_and_step(cdnow_log):
    bt = clvlab.backtest(
        cdnow_log, models={}, n_origins=2, step=13, holdout=26, time_unit="W", baselines=["last_period"]
    )
    # the last origin is 26 weeks (182 days) before 1998-06-30; the other 13 weeks (91 days) earlier
    assert bt.attrs["origins"] == [pd.Timestamp("1997-09-30"), pd.Timestamp("1997-12-30")]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"calibration_ends": ["1998-01-01"]}, "leaves no room"),
        ({"calibration_ends": ["1997-01-01"]}, "leaves no room"),
        ({"calibration_ends": ["1997-06-30"], "n_origins": 2}, "not both"),
        ({}, "pass calibration_ends"),
        ({"calibration_ends": "1997-06-30"}, "list of dates"),
        ({"calibration_ends": ["1997-06-30", "1997-06-30"]}, "repeated"),
        ({"n_origins": 0}, "positive whole number"),
        ({"n_origins": 2, "baselines": ["naive"]}, "baselines must be"),
        ({"n_origins": 2, "models": {"simple": clvlab.BetaGeo()}}, "baselines' names"),
        ({"n_origins": 2, "holdout": 0}, "at least one day"),
        ({"n_origins": 2, "period": "fortnight"}, "period must be one of"),
        ({"n_origins": 2, "models": {}, "baselines": []}, "nothing to backtest"),
    ],
)
def test_refusals(cdnow_log, kwargs, message):
    args = {"holdout": 26, "time_unit": "W", "models": {"BG/NBD": clvlab.BetaGeo()}} | kwargs
    with pytest.raises(clvlab.DataError, match=message):
        clvlab.backtest(cdnow_log, **args)


def test_models_must_be_clvlab_models(cdnow_log):
    with pytest.raises(TypeError, match="clvlab model instance"):
        clvlab.backtest(cdnow_log, models={"x": object()}, n_origins=1, holdout=26, time_unit="W")


def test_fitted_models_are_not_refitted(cdnow_log, cdnow_split):
    bg = clvlab.BetaGeo().fit(cdnow_split)
    params = bg.params_.copy()
    clvlab.backtest(cdnow_log, models=[bg], calibration_ends=["1997-06-30"], holdout=26, baselines=[])
    pd.testing.assert_series_equal(bg.params_, params)


def test_plot_backtest(cdnow_backtest):
    data = plotting.plot_backtest_data(cdnow_backtest, "top_decile_lift")
    pd.testing.assert_frame_equal(data, clvlab.backtest_wide(cdnow_backtest, "top_decile_lift"))
    ax = plotting.plot_backtest(cdnow_backtest, "top_decile_lift")
    lines = ax.get_lines()
    assert len(lines) == 3
    np.testing.assert_allclose(
        lines[0].get_ydata(), data.loc["BG/NBD", [c for c in data.columns if c != "mean"]]
    )
    assert ax.get_legend_handles_labels()[1][1].startswith("simple (mean ")
    with pytest.raises(clvlab.DataError, match="no metric 'auc'"):
        plotting.plot_backtest_data(cdnow_backtest, "auc")
