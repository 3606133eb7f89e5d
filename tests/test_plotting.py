"""Diagnostic plots: each *_data companion against independent numbers, each plot's drawn data."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import subprocess
import sys
from math import comb

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import betaln, gammaln, hyp2f1

import clvlab
from clvlab import plotting
from tests.conftest import CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END

# Fader, Hardie & Lee (2005), Marketing Science 24(2): published BG/NBD estimates for CDNOW (weeks).
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
# tests/references.md [BGNBD-MLE-CDNOW]: the same estimates to four decimals (recomputed MLE).
REFERENCES_BGNBD = {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258}
# BTYD walkthrough (tests/references.md [CDNOW-TRACKING-ACTUAL], [BGNBD-TRACKING-CDNOW]): cumulative
# repeat transactions at the end of weeks 20-25, counted from 1997-01-01, the first purchase in the log.
TRACKING_WEEKS = [20, 21, 22, 23, 24, 25]
TRACKING_ACTUAL = [1359, 1414, 1484, 1517, 1573, 1672]
TRACKING_BGNBD = [1312.46, 1387.35, 1460.39, 1531.71, 1601.42, 1669.60]

SPLIT = {"calibration_end": CDNOW_CALIBRATION_END, "observation_end": CDNOW_OBSERVATION_END}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def bg(cdnow_summary):
    return clvlab.BetaGeo().fit(cdnow_summary)


@pytest.fixture(scope="module")
def published():
    return clvlab.BetaGeo.from_params(PUBLISHED_BGNBD, time_unit="W")


@pytest.fixture(scope="module")
def gg(cdnow_summary):
    return clvlab.GammaGamma().fit(cdnow_summary)


@pytest.fixture(scope="module")
def bgbb():
    donations = clvlab.datasets.load_donations()
    return clvlab.BetaGeoBetaBinom().fit(donations, weights="weights"), donations


# -- independent formulas -------------------------------------------------------------------------------
def bgnbd_pmf(p, t, n):
    """FHL 2005 eq. (8): P(X(t) = n) for a new customer, with the finite negative-binomial sum."""
    r, alpha, a, b = (p[k] for k in ("r", "alpha", "a", "b"))
    t = np.asarray(t, dtype=float)
    log_nb = gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * np.log(alpha / (alpha + t))
    first = np.exp(betaln(a, b + n) - betaln(a, b) + log_nb + n * np.log(t / (alpha + t)))
    if n == 0:
        return first
    nb_cdf = sum(
        np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1)) * (t / (alpha + t)) ** j for j in range(n)
    )
    return first + np.exp(betaln(a + 1, b + n - 1) - betaln(a, b)) * (1 - (alpha / (alpha + t)) ** r * nb_cdf)


def bgnbd_mean(p, t):
    """FHL 2005 eq. (9): E[X(t)] with Gauss's hypergeometric function."""
    r, alpha, a, b = (p[k] for k in ("r", "alpha", "a", "b"))
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))


def bgnbd_conditional(p, t, x, t_x, T):
    """FHL 2005 eq. (10)."""
    r, alpha, a, b = (p[k] for k in ("r", "alpha", "a", "b"))
    bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, t / (alpha + T + t)
    )
    return (a + b + x - 1) / (a - 1) * bracket / (1 + bgnbd_odds_dead(p, x, t_x, T))


def bgnbd_odds_dead(p, x, t_x, T):
    """Hardie's note "Computing P(alive) using the BG/NBD model": P(alive) = 1 / (1 + this)."""
    r, alpha, a, b = (p[k] for k in ("r", "alpha", "a", "b"))
    return np.where(x > 0, a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)


def bgbb_pmf(p, n, x):
    """FHS 2010 eq. (7): P(X(n) = x) for the BG/BB."""
    al, be, ga, de = (p[k] for k in ("alpha", "beta", "gamma", "delta"))
    total = comb(n, x) * np.exp(
        betaln(al + x, be + n - x) - betaln(al, be) + betaln(ga, de + n) - betaln(ga, de)
    )
    for i in range(x, n):
        total += comb(i, x) * np.exp(
            betaln(al + x, be + i - x) - betaln(al, be) + betaln(ga + 1, de + i) - betaln(ga, de)
        )
    return total


def params_of(model):
    return model.params_.to_dict()


def first_purchase_weeks(log):
    """Each customer's first purchase, in weeks after 1997-01-01."""
    return ((log.groupby("customer_id")["date"].min() - pd.Timestamp("1997-01-01")).dt.days / 7).to_numpy()


def bar_heights(ax, start, count):
    return np.array([patch.get_height() for patch in ax.patches[start : start + count]])


def render(ax, tmp_path, name="plot.png"):
    path = tmp_path / name
    ax.figure.savefig(path, dpi=40)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


# -- import ---------------------------------------------------------------------------------------------
def test_plotting_is_a_lazy_subpackage_and_does_not_import_matplotlib():
    code = "import sys, clvlab; m = clvlab.plotting; print(m.__name__, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["clvlab.plotting", "False"]
    assert "plotting" in clvlab.__all__


# -- period transactions ----------------------------------------------------------------------------------
def test_period_transactions_are_the_exact_expectation(published, cdnow_summary):
    data = plotting.plot_period_transactions_data(published, cdnow_summary)
    assert list(data.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    # tests/references.md [CDNOW-CAL-SUMMARY]: 1,411 customers with x = 0; 2,357 customers.
    assert data.loc["0", "actual"] == 1411
    assert data["actual"].sum() == 2357
    counts = cdnow_summary["frequency"].value_counts()
    np.testing.assert_array_equal(data["actual"].iloc[:7], [counts.get(n, 0) for n in range(7)])
    # Sum over customers of FHL eq. (8) at each customer's own T; the tail is the rest.
    T = cdnow_summary["T"].to_numpy()
    lower = np.array([bgnbd_pmf(PUBLISHED_BGNBD, T, n).sum() for n in range(7)])
    np.testing.assert_allclose(data["expected"].iloc[:7], lower, rtol=1e-10)
    assert data.loc["7+", "expected"] == pytest.approx(2357 - lower.sum(), rel=1e-10)
    # Exact, not simulated: the same numbers on every call.
    pd.testing.assert_frame_equal(data, plotting.plot_period_transactions_data(published, cdnow_summary))


@pytest.mark.parametrize(
    ("cls", "params"),
    [
        # tests/references.md [PNBD-MLE-CDNOW]: Pareto/NBD MLE on CDNOW (weeks).
        (clvlab.ParetoNBD, {"r": 0.5533, "alpha": 10.5776, "s": 0.6062, "beta": 11.6679}),
        # tests/references.md [MBGNBD-MLE-CDNOW]: MBG/NBD estimates (lifetimes tests).
        (clvlab.ModifiedBetaGeo, {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}),
    ],
)
def test_period_transactions_other_models(cls, params, cdnow_summary):
    model = cls.from_params(params, time_unit="W")
    data = plotting.plot_period_transactions_data(model, cdnow_summary, max_frequency=4)
    T = cdnow_summary["T"].to_numpy()
    lower = [model.purchase_count_pmf(T, n).sum() for n in range(4)]
    np.testing.assert_allclose(data["expected"].iloc[:4], lower, rtol=1e-10)
    assert data["expected"].sum() == pytest.approx(2357, rel=1e-12)
    assert 0 < data.loc["4+", "expected"] < 2357


def test_period_transactions_bgbb_uses_its_own_pmf_and_weights(bgbb):
    model, donations = bgbb
    data = plotting.plot_period_transactions_data(model, donations, weights="weights")
    # 6 opportunities: bins 0..5 and "6+" (= 6).
    assert list(data.index) == ["0", "1", "2", "3", "4", "5", "6+"]
    # Donors by number of repeat donations, recomputed from the bundled file (FHS 2010 data).
    np.testing.assert_array_equal(data["actual"], [3464, 1823, 1430, 1085, 1036, 1063, 1203])
    lower = np.array([11104 * bgbb_pmf(params_of(model), 6, x) for x in range(6)])
    np.testing.assert_allclose(data["expected"].iloc[:6], lower, rtol=1e-9)
    assert data.loc["6+", "expected"] == pytest.approx(11104 * bgbb_pmf(params_of(model), 6, 6), rel=1e-8)


def test_period_transactions_interval_and_plot(bg, cdnow_summary, tmp_path):
    data = plotting.plot_period_transactions_data(bg, cdnow_summary, interval=0.9, n_draws=40, seed=3)
    assert (data["expected_lower"] <= data["expected"]).all()
    assert (data["expected"] <= data["expected_upper"]).all()
    again = plotting.plot_period_transactions_data(bg, cdnow_summary, interval=0.9, n_draws=40, seed=3)
    pd.testing.assert_frame_equal(data, again)
    # Quantiles over draws of the parameters, computed here one draw at a time.
    draws = bg.param_draws(40, 3)
    per_draw = np.array(
        [
            plotting.plot_period_transactions_data(
                clvlab.BetaGeo.from_params(dict(zip(bg.param_names, d, strict=True))), cdnow_summary
            )["expected"]
            for d in draws
        ]
    )
    np.testing.assert_allclose(data["expected_lower"], np.quantile(per_draw, 0.05, axis=0), rtol=1e-10)
    np.testing.assert_allclose(data["expected_upper"], np.quantile(per_draw, 0.95, axis=0), rtol=1e-10)

    ax = plotting.plot_period_transactions(bg, cdnow_summary, interval=0.9, n_draws=40, seed=3)
    np.testing.assert_array_equal(bar_heights(ax, 0, 8), data["actual"])
    np.testing.assert_allclose(bar_heights(ax, 8, 8), data["expected"])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(data.index)
    assert ax.get_title()
    assert ax.get_ylabel() == "Customers"
    # A summary of a log is labelled by its own observation period; a split's by its calibration period.
    assert data.attrs["period"] == "observation"
    assert ax.get_xlabel() == "Repeat purchases in the observation period"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Actual", "Model: BetaGeo, 90% interval"]
    render(ax, tmp_path)
    split = clvlab.calibration_holdout_split(
        clvlab.datasets.load_cdnow_transactions(), calibration_end="1997-09-30", time_unit="W"
    )
    ax = plotting.plot_period_transactions(bg, split)
    assert ax.get_xlabel() == "Repeat purchases in the calibration period"


def test_period_transactions_rejects_a_spend_model(gg, cdnow_summary):
    with pytest.raises(TypeError, match="transaction model"):
        plotting.plot_period_transactions_data(gg, cdnow_summary)


# -- tracking ---------------------------------------------------------------------------------------------
def test_tracking_reproduces_the_published_cdnow_numbers(bg, cdnow_log):
    data = plotting.plot_tracking_data(bg, cdnow_log, **SPLIT)
    assert len(data) == 78
    assert data.attrs["calibration_t"] == 39.0
    weeks = data.loc[TRACKING_WEEKS]
    np.testing.assert_array_equal(weeks["actual"], TRACKING_ACTUAL)
    # At the maximum-likelihood estimate (tests/references.md [BGNBD-MLE-CDNOW] before rounding) the BTYD
    # values ([BGNBD-TRACKING-CDNOW]) are reproduced to their two decimals.
    np.testing.assert_allclose(weeks["expected"], TRACKING_BGNBD, atol=0.01)
    # tests/references.md [CDNOW-HOLDOUT-COUNTS]: 2,457 repeat transactions in calibration (weeks 1-39),
    # 4,339 in all (weeks 1-78).
    assert data.loc[39, "actual"] == 2457
    assert data.loc[78, "actual"] == 4339
    assert data.loc[20, "date"] == pd.Timestamp("1997-05-20")
    assert data.loc[78, "date"] == pd.Timestamp("1998-06-30")


def test_tracking_at_the_reference_parameters_matches_a_hand_computation(cdnow_log):
    model = clvlab.BetaGeo.from_params(REFERENCES_BGNBD, time_unit="W")
    data = plotting.plot_tracking_data(model, cdnow_log, **SPLIT)
    # The 4-decimal parameters (tests/references.md [BGNBD-MLE-CDNOW]) move the BTYD numbers by < 0.1.
    np.testing.assert_allclose(data.loc[TRACKING_WEEKS, "expected"], TRACKING_BGNBD, atol=0.1)
    # Every week: sum over customers of FHL eq. (9) at their age, E[X(0)] = 0 before they are born.
    births = first_purchase_weeks(cdnow_log)
    hand = [bgnbd_mean(REFERENCES_BGNBD, np.clip(k - births, 0, None)).sum() for k in range(1, 79)]
    np.testing.assert_allclose(data["expected"], hand, rtol=1e-9, atol=1e-9)


def test_incremental_tracking_and_plot(bg, cdnow_log, tmp_path):
    cumulative = plotting.plot_tracking_data(bg, cdnow_log, **SPLIT)
    incremental = plotting.plot_tracking_data(bg, cdnow_log, cumulative=False, **SPLIT)
    np.testing.assert_allclose(incremental["actual"].cumsum(), cumulative["actual"])
    np.testing.assert_allclose(incremental["expected"].cumsum(), cumulative["expected"], rtol=1e-12)
    # Week 21 alone: 1414 - 1359 repeat transactions (BTYD walkthrough, [CDNOW-TRACKING-ACTUAL]).
    assert incremental.loc[21, "actual"] == 1414 - 1359

    ax = plotting.plot_tracking(bg, cdnow_log, cumulative=False, **SPLIT)
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(1, 79))
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), incremental["actual"])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), incremental["expected"])
    np.testing.assert_array_equal(ax.lines[2].get_xdata(), [39, 39])  # end of calibration
    assert ax.get_xlabel() == "Time since 1997-01-01 (weeks)"
    assert ax.get_ylabel() == "Repeat transactions per week"
    render(ax, tmp_path)


def test_tracking_interval_band(bg, cdnow_log, tmp_path):
    ax = plotting.plot_tracking(bg, cdnow_log, interval=0.9, n_draws=50, **SPLIT)
    data = plotting.plot_tracking_data(bg, cdnow_log, interval=0.9, n_draws=50, **SPLIT)
    assert (data["expected_lower"] <= data["expected"]).all()
    assert (data["expected"] <= data["expected_upper"]).all()
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert np.isin(np.round(data["expected_upper"], 9), np.round(band, 9)).all()
    assert np.isin(np.round(data["expected_lower"], 9), np.round(band, 9)).all()
    np.testing.assert_allclose(ax.lines[1].get_ydata(), data["expected"])
    render(ax, tmp_path)


def test_tracking_errors(bg, bgbb, cdnow_log):
    with pytest.raises(TypeError, match="continuous-time"):
        plotting.plot_tracking_data(bgbb[0], cdnow_log, **SPLIT)
    with pytest.raises(clvlab.DataError, match="time_unit"):
        plotting.plot_tracking_data(bg, cdnow_log, time_unit="D", **SPLIT)
    unknown = clvlab.BetaGeo.from_params(PUBLISHED_BGNBD)
    with pytest.raises(clvlab.DataError, match="time_unit"):
        plotting.plot_tracking_data(unknown, cdnow_log, **SPLIT)


# -- calibration vs holdout --------------------------------------------------------------------------------
def test_calibration_vs_holdout(published, cdnow_split, tmp_path):
    data = plotting.plot_calibration_vs_holdout_data(published, cdnow_split)
    assert list(data.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    # tests/references.md [CDNOW-HOLDOUT-COUNTS]: 1,882 actual holdout purchases; [BGNBD-HOLDOUT-SUM]:
    # 1653.9 expected (published parameters).
    assert (data["customers"] * data["actual"]).sum() == pytest.approx(1882, abs=1e-9)
    assert (data["customers"] * data["predicted"]).sum() == pytest.approx(1653.9, abs=0.05)
    s = cdnow_split
    x = s["frequency"].to_numpy()
    hand = bgnbd_conditional(PUBLISHED_BGNBD, 39.0, x, s["recency"].to_numpy(), s["T"].to_numpy())
    group = np.minimum(x, 7)
    np.testing.assert_allclose(data["predicted"], [hand[group == g].mean() for g in range(8)], rtol=1e-10)
    np.testing.assert_allclose(
        data["actual"], [s["frequency_holdout"].to_numpy()[group == g].mean() for g in range(8)]
    )
    ax = plotting.plot_calibration_vs_holdout(published, cdnow_split)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), data["actual"])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), data["predicted"])
    assert ax.get_ylabel() == "Mean purchases in the holdout (39 weeks)"
    render(ax, tmp_path)


# -- matrices ---------------------------------------------------------------------------------------------
def test_frequency_recency_and_p_alive_matrices(published, cdnow_summary, tmp_path):
    fr = plotting.plot_frequency_recency_matrix_data(published, cdnow_summary, t=2.0, n_recency=12)
    T = cdnow_summary["T"].max()
    assert fr.shape == (int(cdnow_summary["frequency"].max()) + 1, 12)
    assert fr.attrs["T"] == T
    x, t_x = np.meshgrid(fr.index.to_numpy(float), fr.columns.to_numpy(float), indexing="ij")
    hand = bgnbd_conditional(PUBLISHED_BGNBD, 2.0, x, t_x, T)
    impossible = (x == 0) & (t_x > 0)  # recency without a repeat purchase
    assert np.isnan(fr.to_numpy()[impossible]).all()
    np.testing.assert_allclose(fr.to_numpy()[~impossible], hand[~impossible], rtol=1e-9)

    pa = plotting.plot_p_alive_matrix_data(published, cdnow_summary, n_recency=12)
    np.testing.assert_allclose(
        pa.to_numpy()[~impossible],
        1 / (1 + bgnbd_odds_dead(PUBLISHED_BGNBD, x, t_x, T))[~impossible],
        rtol=1e-10,
    )

    ax = plotting.plot_frequency_recency_matrix(published, cdnow_summary, t=2.0, n_recency=12)
    drawn = ax.collections[0].get_array()
    np.testing.assert_allclose(np.ma.filled(drawn, np.nan).reshape(fr.shape), fr.to_numpy(), equal_nan=True)
    assert "next 2 weeks" in ax.figure.axes[1].get_ylabel()  # the colour bar
    render(ax, tmp_path, "fr.png")
    ax = plotting.plot_p_alive_matrix(published, T=30.0, max_frequency=5, n_recency=7)
    assert ax.collections[0].get_array().size == 6 * 7
    assert ax.collections[0].get_clim() == (0.0, 1.0)
    render(ax, tmp_path, "pa.png")


def test_bgbb_frequency_recency_matrix(bgbb):
    model, donations = bgbb
    fr = plotting.plot_frequency_recency_matrix_data(model, donations)
    assert list(fr.columns) == [0, 1, 2, 3, 4, 5, 6]
    one = pd.DataFrame({"frequency": [3.0], "recency": [5.0], "n_periods": [6.0]})
    one.attrs["time_unit"] = "period"
    expected = model.predict_purchases(one, 1).iloc[0]
    assert fr.loc[3, 5.0] == pytest.approx(expected, rel=1e-12)
    assert np.isnan(fr.loc[4, 3.0])  # more transactions than opportunities up to the last


# -- history --------------------------------------------------------------------------------------------
def test_history_alive(bg, cdnow_log, tmp_path):
    data = plotting.plot_history_alive_data(bg, cdnow_log, 1, observation_end=CDNOW_OBSERVATION_END)
    # Customer 1's purchase days in the log.
    days = pd.to_datetime(["1997-01-01", "1997-01-18", "1997-08-02", "1997-12-12"])
    assert list(data.loc[data["purchase"], "date"]) == list(days)
    at_end = data.set_index("date").loc[pd.Timestamp(CDNOW_CALIBRATION_END)]
    # tests/references.md [CDNOW-CUSTOMER-1] (Hardie's summary file): x = 2, t_x = 30.43, T = 38.86;
    # [BGNBD-CUST1-PALIVE] (Hardie's P(alive) note): P(alive) 0.7266.
    assert at_end["frequency"] == 2
    assert at_end["recency"] == pytest.approx(30.43, abs=0.005)
    assert at_end["T"] == pytest.approx(38.86, abs=0.005)
    assert at_end["p_alive"] == pytest.approx(0.7266, abs=1e-4)
    hand = 1 / (1 + bgnbd_odds_dead(params_of(bg), data["frequency"], data["recency"], data["T"]))
    np.testing.assert_allclose(data["p_alive"], hand, rtol=1e-10)
    assert len(data) == (pd.Timestamp(CDNOW_OBSERVATION_END) - days[0]).days + 1

    ax = plotting.plot_history_alive(bg, cdnow_log, 1, calibration_end=CDNOW_CALIBRATION_END)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), data["p_alive"])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), data.loc[data["purchase"], "p_alive"])
    assert len(ax.lines[1].get_xdata()) == 4
    render(ax, tmp_path)
    with pytest.raises(clvlab.DataError, match="no transactions"):
        plotting.plot_history_alive_data(bg, cdnow_log, 999_999)


# -- spend ------------------------------------------------------------------------------------------------
def test_spend_distribution(gg, cdnow_summary, tmp_path):
    data = plotting.plot_spend_distribution_data(gg, cdnow_summary, bins=20, max_value=100.0)
    repeat = cdnow_summary[cdnow_summary["frequency"] > 0]
    assert len(repeat) == 946  # tests/references.md [CDNOW-CAL-SUMMARY]: 946 repeat customers
    observed, edges = np.histogram(repeat["monetary_value"], bins=20, range=(0, 100))
    np.testing.assert_allclose(data["observed_density"] * 5.0, observed / 946)
    # Gamma-Gamma: x mbar / gamma ~ BetaPrime(p x, q) (Fader & Hardie 2013); mixed over the customers.
    p, q, g = gg.params_[["p", "q", "gamma"]]
    x = repeat["frequency"].to_numpy()[:, None]
    cdf = stats.betaprime.cdf(x * edges[None, :] / g, p * x, q).mean(axis=0)
    np.testing.assert_allclose(data["model_density"] * 5.0, np.diff(cdf), rtol=1e-9, atol=1e-15)
    assert data.attrs["share_above"] == pytest.approx((repeat["monetary_value"] > 100).mean())

    ax = plotting.plot_spend_distribution(gg, cdnow_summary, bins=20, max_value=100.0)
    np.testing.assert_allclose(bar_heights(ax, 0, 20), data["observed_density"])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), data["model_density"])
    np.testing.assert_allclose(ax.lines[0].get_xdata(), (edges[1:] + edges[:-1]) / 2)
    render(ax, tmp_path)
    with pytest.raises(TypeError, match="GammaGamma"):
        plotting.plot_spend_distribution_data(clvlab.BetaGeo.from_params(PUBLISHED_BGNBD), cdnow_summary)


# -- value ranking --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def holdout_value(published, gg, cdnow_split):
    predicted = clvlab.evaluation.predict_holdout_value(published, gg, cdnow_split)
    actual = cdnow_split["frequency_holdout"] * cdnow_split["monetary_value_holdout"]
    return predicted, actual


def test_clv_gains(holdout_value, cdnow_split, tmp_path):
    predicted, actual = holdout_value
    data = plotting.plot_clv_gains_data(predicted, cdnow_split)  # the split's holdout value
    assert len(data) == 2358
    assert data["model"].iloc[0] == 0
    assert data["model"].iloc[-1] == pytest.approx(1.0)
    # The curve at the top 100 customers: their actual value over the total, when no tie crosses 100.
    order = np.argsort(-predicted.to_numpy(), kind="stable")
    top = predicted.to_numpy()[order]
    assert top[99] != top[100]
    assert data["model"].iloc[100] == pytest.approx(actual.to_numpy()[order][:100].sum() / actual.sum())
    assert data["perfect"].iloc[100] == pytest.approx(
        np.sort(actual.to_numpy())[::-1][:100].sum() / actual.sum()
    )
    ev = clvlab.evaluate(
        clvlab.BetaGeo.from_params(PUBLISHED_BGNBD, time_unit="W"),
        cdnow_split,
        spend_model=clvlab.GammaGamma().fit(cdnow_split),
    )
    assert data.attrs["gini"] == pytest.approx(ev.loc["gini", "value"], rel=1e-12)

    ax = plotting.plot_clv_gains(predicted, actual)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), data["model"] * 100)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), data["perfect"] * 100)
    assert f"Gini {data.attrs['gini']:.2f}" in ax.get_legend().get_texts()[0].get_text()
    render(ax, tmp_path)


def test_value_deciles(holdout_value, tmp_path):
    predicted, actual = holdout_value
    data = plotting.plot_value_deciles_data(predicted, actual)
    assert list(data.index) == list(range(1, 11))
    assert data["customers"].sum() == 2357
    assert set(data["customers"]) == {235, 236}
    assert data["actual_total"].sum() == pytest.approx(actual.sum())
    assert data["predicted_total"].sum() == pytest.approx(predicted.sum())
    assert data["predicted_mean"].is_monotonic_decreasing
    # Decile 1: the 235 customers with the highest predictions, ties broken by customer id.
    frame = pd.DataFrame({"p": predicted, "a": actual}).rename_axis("id").reset_index()
    top = frame.sort_values(["p", "id"], ascending=[False, True]).head(data.loc[1, "customers"])
    assert data.loc[1, "actual_mean"] == pytest.approx(top["a"].mean())
    ax = plotting.plot_value_deciles(predicted, actual)
    np.testing.assert_allclose(bar_heights(ax, 0, 10), data["actual_mean"])
    np.testing.assert_allclose(bar_heights(ax, 10, 10), data["predicted_mean"])
    render(ax, tmp_path)


def test_clv_distribution(bg, gg, cdnow_summary, tmp_path):
    table = clvlab.predict_customer_value(bg, gg, cdnow_summary, horizon=52)
    data = plotting.plot_clv_distribution_data(table, bins=30)
    clv = table["clv"].to_numpy()
    counts, _ = np.histogram(clv, bins=30, range=(0, np.quantile(clv, 0.99)))
    np.testing.assert_array_equal(data["customers"], counts)
    assert set(data.attrs["tiers"]) == {"platinum", "gold", "silver"}
    assert data.attrs["tiers"]["platinum"] == table.loc[table["segment"] == "platinum", "clv"].min()
    ax = plotting.plot_clv_distribution(table, bins=30)
    np.testing.assert_array_equal(bar_heights(ax, 0, 30), counts)
    render(ax, tmp_path)


# -- report -----------------------------------------------------------------------------------------------
def test_write_report_plots(bg, gg, cdnow_summary, cdnow_split, cdnow_log, tmp_path):
    table = clvlab.predict_customer_value(bg, gg, cdnow_summary, horizon=52)
    paths = plotting.write_report_plots(
        bg,
        gg,
        cdnow_summary,
        tmp_path / "out",
        calibration_holdout=cdnow_split,
        table=table,
        transactions=cdnow_log,
        calibration_end=CDNOW_CALIBRATION_END,
        dpi=30,
    )
    assert [p.name for p in paths] == [
        "period_transactions.png",
        "frequency_recency_matrix.png",
        "p_alive_matrix.png",
        "spend_distribution.png",
        "calibration_vs_holdout.png",
        "clv_gains.png",
        "value_deciles.png",
        "tracking_cumulative.png",
        "tracking_incremental.png",
        "clv_distribution.png",
    ]
    for path in paths:
        assert path.parent == tmp_path / "out"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == []  # nothing left open in pyplot


def test_write_report_plots_for_bgbb(bgbb, tmp_path):
    model, donations = bgbb
    paths = plotting.write_report_plots(model, None, donations, tmp_path, weights="weights", dpi=30)
    assert [p.name for p in paths] == [
        "period_transactions.png",
        "frequency_recency_matrix.png",
        "p_alive_matrix.png",
    ]


# -- Bayesian models ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bayes_bg(cdnow_summary):
    cb = pytest.importorskip("clvlab.bayes")
    return cb.BetaGeo(draws=100, tune=100, chains=1, random_seed=1, progressbar=False).fit(cdnow_summary)


def test_bayesian_period_and_tracking_bands(bayes_bg, cdnow_summary, cdnow_log, tmp_path):
    draws = bayes_bg.param_draws()
    assert draws.shape == (100, 4)
    names = bayes_bg.param_names
    period = plotting.plot_period_transactions_data(bayes_bg, cdnow_summary, interval=0.9)
    # Posterior mean and 5% / 95% quantiles of the exact expected counts, one posterior draw at a time.
    ages, customers = np.unique(cdnow_summary["T"], return_counts=True)
    per_draw = []
    for d in draws:
        p = dict(zip(names, d, strict=True))
        lower = [bgnbd_pmf(p, ages, n) @ customers for n in range(7)]
        per_draw.append([*lower, 2357 - sum(lower)])
    per_draw = np.array(per_draw)
    np.testing.assert_allclose(period["expected"], per_draw.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(period["expected_lower"], np.quantile(per_draw, 0.05, axis=0), rtol=1e-9)
    np.testing.assert_allclose(period["expected_upper"], np.quantile(per_draw, 0.95, axis=0), rtol=1e-9)

    tracking = plotting.plot_tracking_data(bayes_bg, cdnow_log, interval=0.8, **SPLIT)
    births, born = np.unique(first_purchase_weeks(cdnow_log), return_counts=True)
    ages = np.clip(np.arange(1, 79)[:, None] - births[None, :], 0, None)
    per_draw = np.array([bgnbd_mean(dict(zip(names, d, strict=True)), ages) @ born for d in draws])
    np.testing.assert_allclose(tracking["expected"], per_draw.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(tracking["expected_lower"], np.quantile(per_draw, 0.1, axis=0), rtol=1e-9)
    np.testing.assert_allclose(tracking["expected_upper"], np.quantile(per_draw, 0.9, axis=0), rtol=1e-9)
    np.testing.assert_array_equal(tracking.loc[TRACKING_WEEKS, "actual"], TRACKING_ACTUAL)

    ax = plotting.plot_tracking(bayes_bg, cdnow_log, interval=0.8, **SPLIT)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), tracking["expected"])
    assert "80% interval" in [t.get_text() for t in ax.get_legend().get_texts()]
    render(ax, tmp_path, "tracking.png")
    ax = plotting.plot_period_transactions(bayes_bg, cdnow_summary, interval=0.9)
    np.testing.assert_allclose(bar_heights(ax, 8, 8), period["expected"])
    assert ax.get_legend().get_texts()[1].get_text() == "Model: Bayesian BetaGeo, 90% interval"
    render(ax, tmp_path, "period.png")


def test_bayesian_matrices_are_posterior_means(bayes_bg, cdnow_summary):
    pa = plotting.plot_p_alive_matrix_data(bayes_bg, cdnow_summary, max_frequency=3, n_recency=5)
    grid = pd.DataFrame(
        {"frequency": [2.0, 3.0], "recency": [pa.columns[2], pa.columns[4]], "T": [pa.attrs["T"]] * 2}
    )
    grid.attrs["time_unit"] = "W"
    np.testing.assert_allclose(
        [pa.loc[2, pa.columns[2]], pa.loc[3, pa.columns[4]]], bayes_bg.predict_p_alive(grid), rtol=1e-10
    )


def test_hdi_is_the_shortest_interval_with_the_mass():
    from clvlab.plotting.posterior import hdi

    rng = np.random.default_rng(0)
    draws = rng.standard_normal(200_000)
    lower, upper = hdi(draws, 0.9)
    # Symmetric unimodal: the HDI is the central interval, +-1.6449 (the normal's 95% quantile).
    assert lower == pytest.approx(-1.6449, abs=0.02)
    assert upper == pytest.approx(1.6449, abs=0.02)
    assert np.mean((draws >= lower) & (draws <= upper)) == pytest.approx(0.9, abs=1e-4)
    # Skewed: shorter than the equal-tailed interval, shifted towards the mode.
    skewed = rng.exponential(size=200_000)
    lower, upper = hdi(skewed, 0.9)
    assert lower == pytest.approx(0.0, abs=1e-3)
    assert upper == pytest.approx(-np.log(0.1), rel=0.01)
    assert upper - lower < np.quantile(skewed, 0.95) - np.quantile(skewed, 0.05)
    with pytest.raises(ValueError, match="hdi_prob"):
        hdi(draws, 1.0)


def test_trace_and_posterior_plots(bayes_bg, bg, tmp_path):
    data = plotting.plot_trace_data(bayes_bg)
    assert list(data.columns) == ["chain", "draw", "r", "alpha", "a", "b"]
    np.testing.assert_array_equal(data[["r", "alpha", "a", "b"]].to_numpy(), bayes_bg.param_draws())
    axes = plotting.plot_trace(bayes_bg)
    assert axes.shape == (4, 2)
    np.testing.assert_allclose(axes[0, 1].lines[0].get_ydata(), data["r"])  # the trace of r
    axes[0, 0].figure.savefig(tmp_path / "trace.png", dpi=30)
    axes = plotting.plot_posterior(bayes_bg)
    assert axes.shape == (4,)
    assert [ax.get_title() for ax in axes] == ["r", "alpha", "a", "b"]
    from clvlab.plotting import posterior

    # The black bar is the 90% highest-density interval of the pooled draws.
    np.testing.assert_allclose(axes[0].lines[1].get_xdata(), posterior.hdi(data["r"], 0.9))
    axes[0].figure.savefig(tmp_path / "posterior.png", dpi=30)
    with pytest.raises(TypeError, match="Bayesian"):
        plotting.plot_trace(bg)


def test_bayesian_report_draws_bands_by_default(bayes_bg, cdnow_summary, tmp_path):
    paths = plotting.write_report_plots(bayes_bg, None, cdnow_summary, tmp_path, dpi=30)
    assert [p.name for p in paths] == [
        "period_transactions.png",
        "frequency_recency_matrix.png",
        "p_alive_matrix.png",
    ]
