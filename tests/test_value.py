"""Discounted CLV, intervals and the targeting table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

import clvlab
from clvlab import DataError


@pytest.fixture(scope="module")
def bgnbd(cdnow_summary):
    return clvlab.BetaGeo().fit(cdnow_summary)


@pytest.fixture(scope="module")
def gg(cdnow_summary):
    return clvlab.GammaGamma().fit(cdnow_summary)


@pytest.fixture(scope="module")
def small(cdnow_summary):
    # A handful of varied customers keeps the brute-force checks fast.
    return cdnow_summary.iloc[[0, 1, 2, 5, 8, 17, 40, 100, 157]]


def test_periodic_matches_lifetimes_discrete_formula(cdnow_summary, bgnbd, gg):
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    # lifetimes' customer_lifetime_value (crashes on current pandas) with freq="W": monthly steps of
    # factor = 4.345 weeks, purchases of step i discounted by (1 + rate)^(i / factor). Recomputed here from
    # lifetimes' own conditional expectations and spend at our parameters.
    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series(bgnbd.params_.to_dict())
    ggf = GammaGammaFitter()
    ggf.params_ = pd.Series({"p": gg.params_["p"], "q": gg.params_["q"], "v": gg.params_["gamma"]})
    f, r, T, m = (cdnow_summary[c] for c in ["frequency", "recency", "T", "monetary_value"])
    spend = ggf.conditional_expected_average_profit(f, m).to_numpy()
    factor, months, rate = 4.345, 12, 0.01
    expected = np.zeros(len(cdnow_summary))
    for i in np.arange(1, months + 1) * factor:
        n = bgf.conditional_expected_number_of_purchases_up_to_time(i, f, r, T) - (
            bgf.conditional_expected_number_of_purchases_up_to_time(i - factor, f, r, T)
        )
        expected += spend * np.asarray(n) / (1 + rate) ** (i / factor)
    ours = clvlab.customer_lifetime_value(
        bgnbd,
        gg,
        cdnow_summary,
        horizon=months * factor,
        discount_rate=rate,
        discount_period=factor,
        method="periodic",
    )
    np.testing.assert_allclose(ours.to_numpy(), expected, rtol=1e-9)


@pytest.mark.parametrize("horizon", [13.0, 52.0, 520.0, np.inf])
def test_continuous_matches_brute_force_integration(small, bgnbd, gg, horizon):
    delta = np.log(1.15) / 52
    ours = clvlab.customer_lifetime_value(
        bgnbd, gg, small, horizon=horizon, discount_rate=0.15, discount_period=52
    ).to_numpy()
    spend = gg.predict_spend(small).to_numpy()
    th = tuple(bgnbd.params_)
    for i, (x, t_x, T) in enumerate(small[["frequency", "recency", "T"]].to_numpy()):
        # Integrate exp(-delta t) E'(t) on a fine grid: the purchase intensity by central differences.
        def intensity(t, x=x, t_x=t_x, T=T):
            h = 1e-4 * max(t, 1.0)
            e = bgnbd.formulas.conditional_expected_purchases
            lo = max(t - h, 0.0)
            return (e(*th, t + h, x, t_x, T) - e(*th, lo, x, t_x, T)) / (t + h - lo)

        upper = horizon if np.isfinite(horizon) else 60 / delta
        brute, _ = integrate.quad(
            lambda t, f=intensity: np.exp(-delta * t) * f(t), 0, upper, limit=2000, epsabs=0, epsrel=1e-10
        )
        assert ours[i] == pytest.approx(spend[i] * brute, rel=1e-6)


def test_pareto_nbd_dert_matches_fhl_2005(cdnow_summary, gg):
    pareto = clvlab.ParetoNBD().fit(cdnow_summary)
    one = pd.DataFrame({"frequency": [2.0], "recency": [30.43], "T": [38.86], "monetary_value": [22.35]})
    one.attrs["time_unit"] = "W"
    clv = clvlab.customer_lifetime_value(
        pareto, gg, one, horizon=np.inf, discount_rate=0.15, discount_period=52
    )
    dert = clv.iloc[0] / gg.predict_spend(one).iloc[0]
    # REFERENCES.md: Pareto/NBD DERT at delta = ln(1.15)/52, customer (2, 30.43, 38.86): 6.50 (FHL 2005
    # JMR; 6.5002 recomputed at the MLE).
    assert dert == pytest.approx(6.5002, abs=2e-3)
    # The closed form agrees with the general quadrature used for the other models.
    from clvlab.formulas.discounting import continuous_discounted_purchases

    th = tuple(pareto.params_)
    numeric = continuous_discounted_purchases(
        lambda t: pareto.formulas.conditional_expected_purchases(*th, t, 2.0, 30.43, 38.86),
        np.inf,
        np.log(1.15) / 52,
    )
    assert dert == pytest.approx(float(numeric), rel=1e-6)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    rate=st.floats(0.0, 0.5),
    extra=st.floats(0.01, 0.5),
    horizon=st.floats(1.0, 300.0),
    longer=st.floats(1.0, 300.0),
)
def test_clv_falls_with_discount_and_grows_with_horizon(small, bgnbd, gg, rate, extra, horizon, longer):
    def clv(h, r):
        return clvlab.customer_lifetime_value(
            bgnbd, gg, small, horizon=h, discount_rate=r, discount_period=52
        )

    base = clv(horizon, rate)
    assert (clv(horizon, rate + extra).to_numpy() < base.to_numpy()).all()
    assert (clv(horizon + longer, rate).to_numpy() > base.to_numpy()).all()
    assert (base > 0).all()


def test_interval_brackets_the_estimate_and_is_seeded(small, bgnbd, gg):
    kw = {"horizon": 52.0, "discount_rate": 0.1, "discount_period": 52, "n_draws": 200}
    a = clvlab.customer_lifetime_value(bgnbd, gg, small, interval=0.9, seed=3, **kw)
    b = clvlab.customer_lifetime_value(bgnbd, gg, small, interval=0.9, seed=3, **kw)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["clv", "clv_lower", "clv_upper"]
    assert ((a["clv_lower"] < a["clv"]) & (a["clv"] < a["clv_upper"])).all()
    wide = clvlab.customer_lifetime_value(bgnbd, gg, small, interval=0.99, seed=3, **kw)
    assert (wide["clv_upper"] - wide["clv_lower"] > a["clv_upper"] - a["clv_lower"]).all()
    point = clvlab.customer_lifetime_value(
        bgnbd, gg, small, **{k: v for k, v in kw.items() if k != "n_draws"}
    )
    np.testing.assert_array_equal(a["clv"].to_numpy(), point.to_numpy())


def test_prediction_intervals(small, bgnbd):
    pred = bgnbd.predict_purchases(small, 39.0, interval=0.9, n_draws=500, seed=1)
    assert list(pred.columns) == [
        "expected_purchases",
        "expected_purchases_lower",
        "expected_purchases_upper",
    ]
    assert (pred["expected_purchases_lower"] <= pred["expected_purchases"]).all()
    assert (pred["expected_purchases"] <= pred["expected_purchases_upper"]).all()
    alive = bgnbd.predict_p_alive(small, interval=0.5, n_draws=500, seed=1)
    assert ((alive["p_alive_lower"] >= 0) & (alive["p_alive_upper"] <= 1)).all()
    # The draws follow the fitted covariance on the log scale.
    n = 20_000
    draws = np.log(bgnbd.param_draws(n, seed=0))
    cov = bgnbd._log_covariance
    # Sampling error of a covariance estimate: sqrt((s_ii s_jj + s_ij^2) / n); allow 5 of them.
    tol = 5 * np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert np.all(np.abs(np.cov(draws.T) - cov) < tol)
    np.testing.assert_allclose(
        draws.mean(axis=0), np.log(bgnbd.params_.to_numpy()), atol=5 * np.sqrt(np.diag(cov) / n).max()
    )
    prob = bgnbd.predict_purchase_probability(small, 39.0, 1, interval=0.9, n_draws=300, seed=1)
    assert list(prob.columns) == [
        "purchase_probability",
        "purchase_probability_lower",
        "purchase_probability_upper",
    ]
    assert (prob["purchase_probability_lower"] <= prob["purchase_probability_upper"]).all()
    with pytest.raises(ValueError, match="interval must be a level"):
        bgnbd.predict_p_alive(small, interval=90)


def test_targeting_table(cdnow_summary, bgnbd, gg, tmp_path):
    table = clvlab.predict_customer_value(
        bgnbd, gg, cdnow_summary, horizon=52.0, discount_rate=0.1, discount_period=52
    )
    assert list(table.columns) == [
        "p_alive",
        "expected_purchases",
        "discounted_purchases",
        "expected_spend",
        "clv",
        "clv_rank",
        "clv_percentile",
        "segment",
    ]
    assert table.index.equals(cdnow_summary.index)
    np.testing.assert_allclose(
        table["clv"], table["expected_spend"] * table["discounted_purchases"], rtol=1e-12
    )
    assert (table["discounted_purchases"] < table["expected_purchases"]).all()
    assert sorted(table["clv_rank"]) == list(range(1, len(table) + 1))
    top = table.sort_values("clv_rank").iloc[0]
    assert top["clv"] == table["clv"].max()
    assert top["clv_percentile"] == 100.0
    # VALUE_TIERS: 5% platinum, 15% gold, 30% silver, 50% bronze, by rank.
    n = len(table)
    counts = table["segment"].value_counts()
    assert counts["platinum"] == round(0.05 * n)
    assert counts["platinum"] + counts["gold"] == round(0.20 * n)
    assert (
        table.loc[table["segment"] == "platinum", "clv"].min()
        >= table.loc[table["segment"] == "gold", "clv"].max()
    )
    # Stable under row order.
    shuffled = cdnow_summary.sample(frac=1.0, random_state=0)
    again = clvlab.predict_customer_value(
        bgnbd, gg, shuffled, horizon=52.0, discount_rate=0.1, discount_period=52
    )
    pd.testing.assert_frame_equal(again.loc[table.index], table)
    # Exports keep the customer id and dtypes.
    table.to_csv(tmp_path / "t.csv")
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "t.csv", index_col="customer_id"), table, check_exact=False, rtol=1e-12
    )
    table.to_parquet(tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), table)


def test_residual_value_table_and_bad_arguments(small, bgnbd, gg):
    table = clvlab.predict_customer_value(
        bgnbd, gg, small, horizon=np.inf, discount_rate=0.15, discount_period=52
    )
    assert "expected_purchases" not in table
    assert np.isfinite(table["clv"]).all()
    with pytest.raises(DataError, match="infinite horizon needs a positive discount_rate"):
        clvlab.customer_lifetime_value(bgnbd, gg, small, horizon=np.inf)
    with pytest.raises(DataError, match="whole number of discount periods"):
        clvlab.customer_lifetime_value(bgnbd, gg, small, horizon=10, discount_period=4, method="periodic")
    with pytest.raises(DataError, match="horizon must be positive"):
        clvlab.customer_lifetime_value(bgnbd, gg, small, horizon=0)
    with pytest.raises(DataError, match="discount_rate"):
        clvlab.customer_lifetime_value(bgnbd, gg, small, horizon=5, discount_rate=-0.1)
    with pytest.raises(TypeError, match="spend_model"):
        clvlab.customer_lifetime_value(bgnbd, bgnbd, small, horizon=5)
    with pytest.raises(DataError, match="monetary_value"):
        clvlab.customer_lifetime_value(bgnbd, gg, small.drop(columns="monetary_value"), horizon=5)


def test_bgbb_value_is_periodic(gg):
    donations = clvlab.datasets.load_donations()
    bgbb = clvlab.BetaGeoBetaBinom().fit(donations, weights="weights")
    data = donations.assign(monetary_value=np.where(donations["frequency"] > 0, 50.0, 0.0))
    spend = clvlab.GammaGamma.from_params({"p": 6.0, "q": 4.0, "gamma": 20.0})
    five = clvlab.customer_lifetime_value(bgbb, spend, data, horizon=5, discount_rate=0.1, method="periodic")
    residual = clvlab.customer_lifetime_value(
        bgbb, spend, data, horizon=np.inf, discount_rate=0.1, method="periodic"
    )
    assert (residual > five).all()
    assert (five > 0).all()
    # Undiscounted, five periods of value is spend times expected transactions in the next five.
    flat = clvlab.customer_lifetime_value(bgbb, spend, data, horizon=5, method="periodic")
    np.testing.assert_allclose(
        flat.to_numpy(), (spend.predict_spend(data) * bgbb.predict_purchases(data, 5)).to_numpy(), rtol=1e-12
    )
    with pytest.raises(DataError, match="discrete-time"):
        clvlab.customer_lifetime_value(bgbb, spend, data, horizon=5)
