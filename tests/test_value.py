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
from tests._oracles import lifetimes


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


def test_periodic_matches_lifetimes_customer_lifetime_value(cdnow_summary):
    BetaGeoFitter, GammaGammaFitter = lifetimes("BetaGeoFitter"), lifetimes("GammaGammaFitter")

    # lifetimes' own customer_lifetime_value (it runs on today's pandas; its calibration/holdout helper
    # does not), with freq="W": monthly steps of 4.345 weeks, purchases of step i discounted by
    # (1 + rate)^i. Both libraries evaluated at lifetimes' fitted parameters.
    s = cdnow_summary
    bgf = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    repeat = s[s["frequency"] > 0]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    theirs = ggf.customer_lifetime_value(
        bgf, s["frequency"], s["recency"], s["T"], s["monetary_value"], time=12, discount_rate=0.01, freq="W"
    )
    bg = clvlab.BetaGeo.from_params(bgf.params_[["r", "alpha", "a", "b"]].to_dict(), time_unit="W")
    params = {"p": ggf.params_["p"], "q": ggf.params_["q"], "gamma": ggf.params_["v"]}
    gg = clvlab.GammaGamma.from_params(params, time_unit="W")
    factor = 4.345
    ours = clvlab.customer_lifetime_value(
        bg, gg, s, horizon=12 * factor, discount_rate=0.01, discount_period=factor, method="periodic"
    )
    np.testing.assert_allclose(ours.to_numpy(), np.asarray(theirs, dtype=float), rtol=1e-9)


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
    # tests/references.md [PNBD-DERT-CUST1], [DISCOUNT-15PCT-WEEKLY]: Pareto/NBD DERT at delta =
    # ln(1.15)/52, customer (2, 30.43, 38.86): 6.50 (FHL 2005 JMR; 6.5002 recomputed at the MLE).
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


def test_interval_does_not_depend_on_the_thread_count(monkeypatch, cdnow_summary, bgnbd, gg):
    # The (draws x distinct (x, T)) table of discounted purchases is filled in blocks of draws on
    # threads; the blocks' size changes with the thread count, the values do not.
    from clvlab import draws as draws_module
    from clvlab import value

    kw = {"horizon": 52.0, "discount_rate": 0.1, "discount_period": 52, "n_draws": 300, "seed": 1}
    monkeypatch.setattr(draws_module.os, "sched_getaffinity", lambda _pid: set(range(4)), raising=False)
    # Small blocks (CDNOW has 464 distinct (x, T)): dozens of blocks of a few draws, on 1 or 3 threads.
    monkeypatch.setattr(value, "_TABLE_BLOCK_VALUES", 1 << 14)
    tables = []
    for threads in (1, 3):
        monkeypatch.setattr(draws_module, "MAX_THREADS", threads)
        tables.append(clvlab.customer_lifetime_value(bgnbd, gg, cdnow_summary, interval=0.9, **kw))
    pd.testing.assert_frame_equal(tables[0], tables[1], rtol=1e-12)


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
        "action_segment",
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


# --- Acquisition cost (CLV:CAC, payback) and action segments ------------------------------------------


def test_payback_time_on_known_value_curves():
    from clvlab.formulas.discounting import continuous_payback_time, periodic_payback_time

    # Purchases at a constant rate lam: E(t) = lam t, so D(t) = lam (1 - exp(-delta t)) / delta and the
    # target c is reached at t* = -ln(1 - c delta / lam) / delta, never when c >= lam / delta.
    lam = np.array([0.5, 1.0, 2.0, 0.1, 3.0])
    delta = 0.01
    c = np.array([10.0, 10.0, 0.0, 50.0, 299.0])

    def linear(t):
        return lam * t

    exact = np.array(
        [
            -np.log1p(-ci * delta / li) / delta if ci * delta < li else np.inf
            for ci, li in zip(c, lam, strict=True)
        ]
    )
    # lam / delta = 50, 100, 200, 10, 300: customer 4 never pays back (c = 50 > 10).
    assert np.isinf(exact[3])
    got = continuous_payback_time(linear, c, np.inf, delta, scale=3.0)
    np.testing.assert_allclose(got, exact, rtol=1e-10)
    assert got[2] == 0.0
    # Finite horizon: t* = 22.31 and 10.54 fall inside 30, t* of customer 5 (about 570) does not.
    got = continuous_payback_time(linear, c, 30.0, delta, scale=3.0)
    np.testing.assert_allclose(got[:3], exact[:3], rtol=1e-10)
    assert np.isinf(got[3:]).all()
    # Undiscounted: E(t) = c at t = c / lam.
    np.testing.assert_allclose(
        continuous_payback_time(linear, c, 1e3, 0.0, scale=3.0)[:3], (c / lam)[:3], rtol=1e-12
    )
    # A saturating curve E(t) = 3 (1 - exp(-lam t)) (a customer who fades away): against quadrature.
    from clvlab.formulas.discounting import continuous_discounted_purchases

    def fading(t):
        return 3 * (1 - np.exp(-lam * t))

    target = np.array([1.0, 2.0, 0.5, 1.5, 2.9])
    got = continuous_payback_time(fading, target, 100.0, 0.02, scale=1.0)
    for i, t in enumerate(got):
        assert np.isfinite(t)
        d = continuous_discounted_purchases(lambda s, i=i: fading(s)[i], t, 0.02, 1.0)
        assert d == pytest.approx(target[i], rel=1e-9)
    # Periodic: lam P purchases per period of P = 4, discounted by 1.1^k at the end of period k.
    # Customer 1 (2 per period): 2/1.1 + 2/1.21 = 3.47 < 4 <= 3.47 + 2/1.331 = 4.97 -> paid back at k = 3.
    got = periodic_payback_time(linear, np.array([4.0, 4.0, 0.0, 4.0, 1.0]), 10, 4.0, 0.1)
    assert got.tolist() == [12.0, 8.0, 0.0, np.inf, 4.0]


@pytest.fixture(scope="module")
def cac_table(cdnow_summary, bgnbd, gg):
    costs = pd.Series(np.linspace(0.0, 60.0, len(cdnow_summary)), index=cdnow_summary.index)
    kw = {"horizon": 52.0, "discount_rate": 0.1, "discount_period": 52}
    return clvlab.predict_customer_value(bgnbd, gg, cdnow_summary, acquisition_cost=costs, **kw), costs, kw


def test_clv_to_cac_and_payback_on_cdnow(cdnow_summary, bgnbd, gg, cac_table):
    table, costs, kw = cac_table
    assert list(table.columns[-3:]) == ["acquisition_cost", "clv_to_cac", "payback_horizon"]
    np.testing.assert_array_equal(table["acquisition_cost"], costs)
    free = table["acquisition_cost"] == 0
    assert free.sum() == 1
    assert table.loc[free, "clv_to_cac"].iloc[0] == np.inf
    assert table.loc[free, "payback_horizon"].iloc[0] == 0.0
    np.testing.assert_allclose(table.loc[~free, "clv_to_cac"], table["clv"][~free] / costs[~free], rtol=1e-15)
    payback = table["payback_horizon"]
    assert not payback.isna().any()
    # Paid back within the horizon exactly when CLV reaches the cost.
    np.testing.assert_array_equal(np.isfinite(payback), table["clv"] >= costs)
    assert ((payback >= 0) & (payback <= 52.0) | np.isinf(payback)).all()
    # Brute force: the CLV with the payback horizon as horizon equals the cost, and a little earlier it is
    # below the cost.
    paid = table[np.isfinite(payback) & (payback > 0)]
    pick = paid.iloc[np.linspace(0, len(paid) - 1, 12).astype(int)]
    rows = cdnow_summary.loc[pick.index]
    for cid, row in pick.iterrows():
        one = rows.loc[[cid]]
        at = clvlab.customer_lifetime_value(bgnbd, gg, one, **{**kw, "horizon": row["payback_horizon"]})
        assert at.iloc[0] == pytest.approx(row["acquisition_cost"], rel=1e-7)
        before = clvlab.customer_lifetime_value(
            bgnbd, gg, one, **{**kw, "horizon": row["payback_horizon"] * 0.999}
        )
        assert before.iloc[0] < row["acquisition_cost"]


def test_payback_residual_value_and_periodic(small, bgnbd, gg):
    # Infinite horizon: a customer with a residual value above the cost pays back at a finite time.
    table = clvlab.predict_customer_value(
        bgnbd, gg, small, horizon=np.inf, discount_rate=0.15, discount_period=52, acquisition_cost=20.0
    )
    fin = np.isfinite(table["payback_horizon"])
    np.testing.assert_array_equal(fin, table["clv"] >= 20.0)
    assert fin.any()
    assert (~fin).any()
    for cid, row in table[fin].iterrows():
        at = clvlab.customer_lifetime_value(
            bgnbd,
            gg,
            small.loc[[cid]],
            horizon=row["payback_horizon"],
            discount_rate=0.15,
            discount_period=52,
        )
        assert at.iloc[0] == pytest.approx(20.0, rel=1e-7)
    # Periodic: value booked at the end of each 4-week period, so payback is a whole number of periods,
    # the first k with CLV(4k) >= cost.
    kw = {"discount_rate": 0.01, "discount_period": 4.0, "method": "periodic"}
    table = clvlab.predict_customer_value(bgnbd, gg, small, horizon=52.0, acquisition_cost=5.0, **kw)
    for cid, row in table.iterrows():
        clv_k = [
            clvlab.customer_lifetime_value(bgnbd, gg, small.loc[[cid]], horizon=4.0 * k, **kw).iloc[0]
            for k in range(1, 14)
        ]
        paid = [k for k, v in zip(range(1, 14), clv_k, strict=True) if v >= 5.0]
        assert row["payback_horizon"] == (4.0 * paid[0] if paid else np.inf)


def test_acquisition_cost_forms_and_errors(cdnow_summary, small, bgnbd, gg):
    kw = {"horizon": 52.0, "discount_rate": 0.1, "discount_period": 52}
    number = clvlab.predict_customer_value(bgnbd, gg, small, acquisition_cost=15, **kw)
    per_customer = clvlab.predict_customer_value(
        bgnbd, gg, small, acquisition_cost=pd.Series(15.0, index=cdnow_summary.index), **kw
    )
    pd.testing.assert_frame_equal(number, per_customer)
    # A column of the data, and a cost per channel.
    channel = pd.Series(np.where(np.arange(len(small)) % 2 == 0, "search", "referral"), index=small.index)
    by_channel = clvlab.predict_customer_value(
        bgnbd, gg, small, acquisition_cost={"search": 40.0, "referral": 10.0}, channel=channel, **kw
    )
    assert by_channel["channel"].tolist() == channel.tolist()
    np.testing.assert_array_equal(by_channel["acquisition_cost"], np.where(channel == "search", 40.0, 10.0))
    with_column = small.assign(channel=channel, cac=by_channel["acquisition_cost"])
    from_columns = clvlab.predict_customer_value(
        bgnbd, gg, with_column, acquisition_cost={"search": 40.0, "referral": 10.0}, channel="channel", **kw
    )
    pd.testing.assert_frame_equal(from_columns, by_channel)
    from_cost_column = clvlab.predict_customer_value(bgnbd, gg, with_column, acquisition_cost="cac", **kw)
    pd.testing.assert_frame_equal(from_cost_column, by_channel.drop(columns="channel"))
    summary = clvlab.segment_summary(by_channel, by="channel")
    assert summary.index.tolist() == ["referral", "search"]
    assert summary["customers"].tolist() == [4, 5]
    assert summary.loc["search", "acquisition_cost_total"] == 200.0

    with pytest.raises(DataError, match=r"no value for 1 customer\(s\), first customer id 6"):
        clvlab.predict_customer_value(
            bgnbd, gg, small, acquisition_cost=pd.Series(1.0, index=small.index.drop(6)), **kw
        )
    with pytest.raises(DataError, match=r"no cost for channel\(s\) \['referral'\]"):
        clvlab.predict_customer_value(
            bgnbd, gg, small, acquisition_cost={"search": 1.0}, channel=channel, **kw
        )
    with pytest.raises(DataError, match="needs channel="):
        clvlab.predict_customer_value(bgnbd, gg, small, acquisition_cost={"search": 1.0}, **kw)
    with pytest.raises(DataError, match="channel= is used only"):
        clvlab.predict_customer_value(bgnbd, gg, small, acquisition_cost=3.0, channel=channel, **kw)
    with pytest.raises(DataError, match="finite and non-negative"):
        clvlab.predict_customer_value(bgnbd, gg, small, acquisition_cost=-1.0, **kw)
    with pytest.raises(DataError, match="names no column"):
        clvlab.predict_customer_value(bgnbd, gg, small, acquisition_cost="cost", **kw)
    with pytest.raises(TypeError, match="acquisition_cost must be"):
        clvlab.predict_customer_value(bgnbd, gg, small, acquisition_cost=[1.0, 2.0], **kw)
    with pytest.raises(DataError, match="high_value_share"):
        clvlab.predict_customer_value(bgnbd, gg, small, high_value_share=20, **kw)
    with pytest.raises(TypeError, match="high_value_share must be a number"):
        clvlab.predict_customer_value(bgnbd, gg, small, high_value_share="0.2", **kw)
    with pytest.raises(TypeError, match="active_threshold must be a number"):
        clvlab.predict_customer_value(bgnbd, gg, small, active_threshold="half", **kw)


def test_action_segments_follow_their_definition_and_row_order(cdnow_summary, bgnbd, gg, cac_table):
    table, costs, kw = cac_table
    n = len(table)
    # Definition: high value = the top 20% by CLV rank (round(0.2 n) customers), active = P(alive) >= 0.5.
    # BG/NBD fixes P(alive) = 1 for customers without a repeat purchase: they are "one-time buyer",
    # whatever their value, never "active" on the strength of that assumption.
    high = table["clv_rank"] <= round(0.2 * n)
    active = table["p_alive"] >= 0.5
    one_time = (cdnow_summary.loc[table.index, "frequency"] == 0).to_numpy()
    assert (table.loc[one_time, "p_alive"] == 1.0).all()
    expected = np.select(
        [one_time, high & active, high & ~active, ~high & active],
        ["one-time buyer", "top value active", "high value at risk", "low value active"],
        "likely lost",
    )
    np.testing.assert_array_equal(table["action_segment"].to_numpy(), expected)
    assert one_time.sum() == 1411  # CDNOW calibration: 1,411 of 2,357 customers made no repeat purchase
    # High value = the platinum and gold tiers at the default share.
    np.testing.assert_array_equal(high, table["segment"].isin(["platinum", "gold"]))
    # Stable under row order (costs given by customer id follow their customers).
    shuffled = cdnow_summary.sample(frac=1.0, random_state=7)
    again = clvlab.predict_customer_value(
        bgnbd, gg, shuffled, acquisition_cost=costs.sample(frac=1.0, random_state=8), **kw
    )
    pd.testing.assert_frame_equal(again.loc[table.index], table)
    # Other thresholds.
    strict = clvlab.predict_customer_value(
        bgnbd, gg, cdnow_summary, high_value_share=0.05, active_threshold=0.9, **kw
    )
    top = strict["clv_rank"] <= round(0.05 * n)
    assert (strict.loc[top & (strict["p_alive"] >= 0.9), "action_segment"] == "top value active").all()
    assert (strict.loc[~top & (strict["p_alive"] < 0.9), "action_segment"] == "likely lost").all()
    assert strict.attrs["active_threshold"] == 0.9

    summary = clvlab.segment_summary(table, by="action_segment")
    assert summary.index.tolist() == [name for name, _, _ in clvlab.ACTION_SEGMENTS]
    counts = table["action_segment"].value_counts()
    assert summary["customers"].to_dict() == {k: counts.get(k, 0) for k in summary.index}
    assert summary["value_share"].sum() == pytest.approx(1.0)
    assert summary["customer_share"].sum() == pytest.approx(1.0)
    for name, row in summary.iterrows():
        part = table[table["action_segment"] == name]
        assert row["clv_total"] == pytest.approx(part["clv"].sum())
        assert row["clv_to_cac"] == pytest.approx(part["clv"].sum() / part["acquisition_cost"].sum())
        assert row["paid_back_share"] == pytest.approx(np.isfinite(part["payback_horizon"]).mean())
    # The value-tier summary keeps its columns first and in order.
    tiers = clvlab.segment_summary(table)
    assert list(tiers.columns[:5]) == ["customers", "clv_total", "clv_mean", "p_alive_mean", "value_share"]
    with pytest.raises(DataError, match="no column 'region'"):
        clvlab.segment_summary(table, by="region")


class _Posterior:
    """A stand-in for a clvlab.bayes model: fixed parameter draws around a maximum-likelihood model."""

    def __init__(self, mle, draws):
        self.mle_class = type(mle)
        self._mle = mle
        self._draws = np.asarray(draws, dtype=np.float64)

    def _mle_view(self):
        return self._mle

    def model_draws(self):  # the draws seam every consumer uses (clvlab.draws)
        from clvlab.draws import ModelDraws

        return ModelDraws(model=self, mle=self._mle, bayesian=True, posterior=self._draws)

    def param_draws(self):
        return self._draws

    def predict_p_alive(self, data):
        return self._mle.predict_p_alive(data)

    def predict_purchases(self, data, t):
        return self._mle.predict_purchases(data, t)


def test_payback_over_posterior_draws(small, bgnbd, gg):
    theta = np.asarray(bgnbd._theta)
    spend = _Posterior(gg, np.tile(gg._theta, (3, 1)))
    kw = {"horizon": 52.0, "discount_rate": 0.1, "discount_period": 52, "acquisition_cost": 8.0}
    # Identical draws: the same as the point estimate.
    same = clvlab.predict_customer_value(_Posterior(bgnbd, np.tile(theta, (3, 1))), spend, small, **kw)
    point = clvlab.predict_customer_value(bgnbd, gg, small, **kw)
    np.testing.assert_allclose(same["payback_horizon"], point["payback_horizon"], rtol=1e-12)
    # Two different draws: the value curve is the posterior mean, so at the payback horizon the mean of
    # the two draws' CLVs equals the cost.
    draws = np.vstack([theta * [1.0, 0.8, 1.0, 1.0], theta * [1.0, 1.25, 1.0, 1.0], theta])
    post = clvlab.predict_customer_value(_Posterior(bgnbd, draws), spend, small, **kw)
    fin = post[np.isfinite(post["payback_horizon"])]
    assert len(fin) > 0
    models = [
        clvlab.BetaGeo.from_params(dict(zip(bgnbd.param_names, d, strict=True)), time_unit="W") for d in draws
    ]
    for cid, row in fin.iterrows():
        clvs = [
            clvlab.customer_lifetime_value(
                m, gg, small.loc[[cid]], horizon=row["payback_horizon"], discount_rate=0.1, discount_period=52
            ).iloc[0]
            for m in models
        ]
        assert np.mean(clvs) == pytest.approx(8.0, rel=1e-7)


def test_one_time_buyers_are_placed_by_p_alive_where_the_model_can_lose_them(cdnow_summary, gg):
    # MBG/NBD lets a customer drop out right after the first purchase, so P(alive) < 1 for one-time
    # buyers and they are placed like everyone else: no "one-time buyer" segment.
    mbg = clvlab.ModifiedBetaGeo().fit(cdnow_summary)
    table = clvlab.predict_customer_value(mbg, gg, cdnow_summary, horizon=52)
    one_time = (cdnow_summary.loc[table.index, "frequency"] == 0).to_numpy()
    assert (table.loc[one_time, "p_alive"] < 1.0).all()
    assert (table["action_segment"] != "one-time buyer").all()
    assert table.attrs["segment_note"] is None
    summary = clvlab.segment_summary(table, by="action_segment")
    assert summary.loc["one-time buyer", "customers"] == 0


def test_unidentified_dropout_warns_at_fit_and_flags_degenerate_segments():
    # Issue 15 item 6, on the bundled online-retail log (purchases only, weeks): the BG/NBD's a and b are
    # barely identified (a = 0.0034 with a 95% interval spanning a factor of ~10^5), P(alive) ~ 1 for
    # everyone and the "at risk" / "likely lost" segments come out empty. Both steps say so.
    log = clvlab.datasets.load_online_retail()
    summary = clvlab.rfm_summary(log[log["amount"] > 0], monetary_value="amount", time_unit="W")
    with pytest.warns(
        clvlab.UnidentifiedWarning, match=r"barely identify a = 0\.0034.*drop-out process is not"
    ):
        bg = clvlab.BetaGeo().fit(summary)
    gg = clvlab.GammaGamma().fit(summary)
    with pytest.warns(clvlab.DegenerateSegmentsWarning, match="sees no drop-out"):
        table = clvlab.predict_customer_value(bg, gg, summary, horizon=52)
    assert "no drop-out" in table.attrs["segment_note"]
    counts = clvlab.segment_summary(table, by="action_segment")
    assert counts.loc[["high value at risk", "likely lost"], "customers"].sum() == 0
    assert counts.attrs["segment_note"] == table.attrs["segment_note"]
    # CDNOW identifies drop-out: no warning (filterwarnings = error would fail the fit otherwise).
    cdnow = clvlab.rfm_summary(
        clvlab.datasets.load_cdnow_transactions(),
        observation_end="1997-09-30",
        time_unit="W",
        drop_after_end=True,
    )
    clvlab.BetaGeo().fit(cdnow)


def test_segment_summary_of_a_subscriber_table_and_of_other_tables():
    from clvlab.data.subscriptions import survivors_to_summary

    # Fader & Hardie's (2007) regular cohort, one row per customer.
    regular = survivors_to_summary([1000, 631, 468, 382, 326, 289, 262, 241], period="Y", expand=True)
    sbg = clvlab.ShiftedBetaGeometric().fit(regular)
    table = clvlab.predict_subscriber_value(
        sbg, regular, margin_per_period=100.0, discount_rate=0.1, acquisition_cost=150.0
    )
    out = clvlab.segment_summary(table)
    by_hand = table.groupby("segment")["subscriber_value"].sum()
    pd.testing.assert_series_equal(
        out["subscriber_value_total"], by_hand.reindex(out.index), check_names=False
    )
    assert out["customers"].sum() == 1000
    assert out.loc["churned", "churn_risk_mean"] == 1.0
    assert "p_alive_mean" not in out.columns
    tiers = clvlab.segment_summary(table, by="value_tier")
    assert list(tiers.index) == [name for name, _ in clvlab.VALUE_TIERS]
    with pytest.raises(clvlab.DataError, match="takes a targeting table"):
        clvlab.segment_summary(table.drop(columns="subscriber_value"))
