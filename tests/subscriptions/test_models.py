"""Tests for ShiftedBetaGeometric and BetaDiscreteWeibull (maximum likelihood, issue 20)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from clvlab.data.subscriptions import subscription_summary, survivors_to_summary
from clvlab.draws import model_draws
from clvlab.errors import DataError, NotFittedError, UnidentifiedWarning
from clvlab.formulas import bdw as bdw_formulas
from clvlab.formulas import sbg as sbg_formulas
from clvlab.models.bdw import BetaDiscreteWeibull
from clvlab.models.sbg import ShiftedBetaGeometric
from clvlab.persistence import load

# tests/references.md [SBG-FH2007-COHORTS]: FH 2007, years 0..7.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


@pytest.fixture(scope="module")
def regular() -> pd.DataFrame:
    return survivors_to_summary(REGULAR, period="Y")


@pytest.fixture(scope="module")
def sbg_regular(regular: pd.DataFrame) -> ShiftedBetaGeometric:
    return ShiftedBetaGeometric().fit(regular, weights="weights")


# ------------------------------------------------------------------------------------------------
# published fits
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("active", "published", "ll"),
    [
        # tests/references.md [SBG-FH2007-REGULAR]: 0.704, 1.182 (FH 2007), LL -1680.27 recomputed.
        (REGULAR, {"gamma": 0.704, "delta": 1.182}, -1680.27),
        # tests/references.md [SBG-FH2007-HIGHEND]: 0.668, 3.806 (FH 2007), LL -1611.16 recomputed. The
        # issue text pairs them the same way (regular 0.704/1.182, high end 0.668/3.806): not swapped.
        (HIGH_END, {"gamma": 0.668, "delta": 3.806}, -1611.16),
    ],
)
def test_sbg_fits_fader_hardie_2007(active, published, ll):
    model = ShiftedBetaGeometric().fit(survivors_to_summary(active, period="Y"), weights="weights")
    for name, value in published.items():
        assert round(float(model.params_[name]), 3) == value
    assert model.log_likelihood_ == pytest.approx(ll, abs=0.005)
    assert model.n_customers_ == 1000
    assert model.time_unit_ == "Y"


def test_expanded_and_weighted_summaries_give_the_same_fit(sbg_regular):
    wide = ShiftedBetaGeometric().fit(survivors_to_summary(REGULAR, period="Y", expand=True))
    np.testing.assert_allclose(wide.params_, sbg_regular.params_, rtol=1e-7)
    assert wide.log_likelihood_ == pytest.approx(sbg_regular.log_likelihood_, rel=1e-10)


def test_standard_errors_match_an_independent_hessian(sbg_regular, regular):
    # The observed information by central differences of the exact gradient, on the natural scale.
    theta = sbg_regular.params_.to_numpy()
    dur, ch, w = (regular[c].to_numpy(dtype=float) for c in ("duration", "churned", "weights"))

    def grad(p):
        return np.array([w @ g for g in sbg_formulas.loglik_grad(*p, dur, ch)])

    h = 1e-5
    hess = np.column_stack([(grad(theta + h * e) - grad(theta - h * e)) / (2 * h) for e in np.eye(2)])
    se = np.sqrt(np.diag(np.linalg.inv(-hess)))
    np.testing.assert_allclose(sbg_regular.summary().loc[["gamma", "delta"], "std_error"], se, rtol=1e-3)


def test_summary_table(sbg_regular):
    table = sbg_regular.summary()
    assert table.index.tolist() == ["gamma", "delta", "log_likelihood", "aic", "bic", "n_customers"]
    est = table.loc[["gamma", "delta"]]
    assert (est["lower 95%"] < est["estimate"]).all()
    assert (est["estimate"] < est["upper 95%"]).all()
    assert table.loc["aic", "estimate"] == pytest.approx(4 - 2 * sbg_regular.log_likelihood_)


def test_bdw_fits_and_nests_the_sbg(regular, sbg_regular):
    # tests/references.md [BDW-FH2007-COHORTS]: recomputed BdW maximum on the regular cohort.
    model = BetaDiscreteWeibull().fit(regular, weights="weights")
    np.testing.assert_allclose(model.params_.to_numpy(), [0.4556, 0.7793, 1.2835], rtol=2e-3)
    assert model.log_likelihood_ == pytest.approx(-1679.60, abs=0.01)
    assert model.log_likelihood_ >= sbg_regular.log_likelihood_
    assert model.summary().index[:3].tolist() == ["gamma", "delta", "c"]


def test_bdw_at_c_1_predicts_as_the_sbg(sbg_regular, regular):
    g, d = sbg_regular.params_
    twin = BetaDiscreteWeibull.from_params({"gamma": g, "delta": d, "c": 1.0}, time_unit="Y")
    t = np.arange(0, 15)
    np.testing.assert_allclose(twin.survival(t), sbg_regular.survival(t), rtol=1e-12)
    np.testing.assert_allclose(twin.retention_rate(t[1:]), sbg_regular.retention_rate(t[1:]), rtol=1e-12)
    for method, args in (
        ("predict_p_active", (3,)),
        ("predict_discounted_residual_lifetime", (0.1,)),
        ("subscriber_value", (50.0, 0.1)),
    ):
        np.testing.assert_allclose(
            getattr(twin, method)(regular, *args), getattr(sbg_regular, method)(regular, *args), rtol=1e-10
        )
    assert twin.discounted_expected_lifetime(0.1) == pytest.approx(
        sbg_regular.discounted_expected_lifetime(0.1), rel=1e-10
    )


# ------------------------------------------------------------------------------------------------
# parameter recovery
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cls", "true"),
    [
        (ShiftedBetaGeometric, {"gamma": 0.9, "delta": 2.5}),
        (BetaDiscreteWeibull, {"gamma": 1.2, "delta": 3.0, "c": 1.5}),
    ],
)
def test_parameter_recovery(cls, true):
    data = cls.from_params(true, time_unit="M").simulate(24, size=20_000, seed=11)
    model = cls().fit(data)
    se = np.sqrt(np.diag(model.covariance_.to_numpy()))
    z = (model.params_.to_numpy() - np.array(list(true.values()))) / se
    assert np.all(np.abs(z) < 4), z
    assert model.time_unit_ == "M"


def test_a_simulated_subscription_log_round_trips_through_the_summary():
    # Draw lifetimes T from the sBG, write them as a monthly log (a customer lost at period T stops on
    # the last day of month T), summarise it and compare with min(T, n) and T <= n.
    rng = np.random.default_rng(5)
    n_cust = 1500
    duration, churned = sbg_formulas.simulate(0.8, 2.0, np.full(n_cust, 60.0), rng)
    starts = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, n_cust), unit="D")
    stop = [
        s + pd.DateOffset(months=int(t)) - pd.Timedelta(days=1) for s, t in zip(starts, duration, strict=True)
    ]
    obs = pd.Timestamp("2022-12-31")
    ends = pd.Series([e if (c and e <= obs) else pd.NaT for e, c in zip(stop, churned, strict=True)])
    log = pd.DataFrame({"customer_id": np.arange(n_cust), "start": starts, "end": ends})
    out = subscription_summary(log, observation_end=obs)
    observed_renewals = np.array(
        [max(k for k in range(61) if s + pd.DateOffset(months=k) <= obs) for s in starts]
    )
    lost = ends.notna().to_numpy()
    np.testing.assert_array_equal(out["churned"].to_numpy(), lost)
    np.testing.assert_array_equal(out["duration"].to_numpy()[lost], duration[lost])
    np.testing.assert_array_equal(out["duration"].to_numpy()[~lost], observed_renewals[~lost])
    model = ShiftedBetaGeometric().fit(out)
    se = np.sqrt(np.diag(model.covariance_.to_numpy()))
    assert np.all(np.abs(model.params_.to_numpy() - [0.8, 2.0]) < 4 * se)


# ------------------------------------------------------------------------------------------------
# predictions
# ------------------------------------------------------------------------------------------------
def customers() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "duration": [1, 3, 3, 7, 0],
            "churned": [True, False, True, False, False],
            "margin": [10.0, 20, 30, 40, 50],
        },
        index=pd.Index(list("abcde"), name="customer_id"),
    )
    df.attrs["time_unit"] = "Y"
    return df


def test_per_customer_predictions(sbg_regular):
    data = customers()
    g, d = sbg_regular.params_
    p = sbg_regular.predict_p_active(data, 2)
    assert p.index.tolist() == list("abcde")
    assert p["a"] == 0.0
    assert p["c"] == 0.0
    assert p["b"] == pytest.approx(float(sbg_formulas.survival(g, d, 5) / sbg_formulas.survival(g, d, 3)))
    derl = sbg_regular.predict_discounted_residual_lifetime(data, 0.1)
    assert derl["a"] == 0.0
    assert derl["d"] == pytest.approx(float(sbg_formulas.derl(g, d, 0.1, 7, 0)))
    # longer tenure, more loyal: DERL rises with duration (FH 2010)
    assert derl["e"] < derl["b"] < derl["d"]
    erl = sbg_regular.predict_residual_lifetime(data)
    assert np.isinf(erl["b"])  # gamma < 1: infinite mean lifetime
    assert erl["a"] == 0.0
    el = sbg_regular.predict_retention_elasticity(data, 0.1)
    assert np.isnan(el["a"])
    assert el["d"] > 1


def test_subscriber_value_conventions(sbg_regular):
    data = customers()
    derl = sbg_regular.predict_discounted_residual_lifetime(data, 0.1)
    now = sbg_regular.subscriber_value(data, 100.0, 0.1)
    later = sbg_regular.subscriber_value(data, 100.0, 0.1, first_payment="in_one_period")
    np.testing.assert_allclose(now, 100 * derl)
    np.testing.assert_allclose(later, now / 1.1)
    by_column = sbg_regular.subscriber_value(data, "margin", 0.1)
    np.testing.assert_allclose(by_column, data["margin"] * derl)
    by_array = sbg_regular.subscriber_value(data, data["margin"].to_numpy(), 0.1)
    np.testing.assert_allclose(by_array, by_column)
    assert now.name == "subscriber_value"
    with pytest.raises(ValueError, match="first_payment"):
        sbg_regular.subscriber_value(data, 100.0, 0.1, first_payment="later")
    with pytest.raises(DataError, match="one per customer"):
        sbg_regular.subscriber_value(data, [1.0, 2.0], 0.1)
    with pytest.raises(DataError, match="margin column"):
        sbg_regular.subscriber_value(data, "profit", 0.1)


def test_new_subscriber_value(sbg_regular):
    g, d = sbg_regular.params_
    del_ = sbg_regular.discounted_expected_lifetime(0.1)
    assert del_ == pytest.approx(float(sbg_formulas.discounted_expected_lifetime(g, d, 0.1)))
    assert del_ > 1


def test_intervals(sbg_regular):
    data = customers()
    out = sbg_regular.subscriber_value(data, 100.0, 0.1, interval=0.9, seed=1)
    assert out.columns.tolist() == ["subscriber_value", "subscriber_value_lower", "subscriber_value_upper"]
    active = ~data["churned"]
    assert (out.loc[active, "subscriber_value_lower"] < out.loc[active, "subscriber_value"]).all()
    assert (out.loc[active, "subscriber_value"] < out.loc[active, "subscriber_value_upper"]).all()
    assert (out.loc[~active].to_numpy() == 0).all()
    curve = sbg_regular.survival([1, 5, 10], interval=0.9)
    assert curve.index.tolist() == [1.0, 5.0, 10.0]
    assert (curve["survival_lower"] < curve["survival"]).all()
    assert (curve["survival"] < curve["survival_upper"]).all()


def test_cohort_curves(sbg_regular):
    t = np.arange(1, 13)
    s = sbg_regular.survival(np.arange(0, 13))
    np.testing.assert_allclose(sbg_regular.churn_probability(t), s[:-1] - s[1:], rtol=1e-9)
    r = sbg_regular.retention_rate(t)
    assert np.all(np.diff(r) > 0)
    np.testing.assert_allclose(r, s[1:] / s[:-1], rtol=1e-12)


def test_model_draws_and_simulation(sbg_regular):
    md = model_draws(sbg_regular)
    assert md.role == "contractual"
    assert md.time_unit == "Y"
    sim = sbg_regular.simulate(10, size=500, seed=3)
    assert sim.columns.tolist() == ["duration", "churned"]
    assert sim["churned"].dtype == bool
    assert sim.attrs["time_unit"] == "Y"
    assert sim["duration"].max() <= 10
    with pytest.raises(DataError, match="whole numbers"):
        sbg_regular.simulate(2.5, size=3)


# ------------------------------------------------------------------------------------------------
# persistence and input safety
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [ShiftedBetaGeometric, BetaDiscreteWeibull])
def test_save_load_round_trip(cls, regular, tmp_path):
    model = cls().fit(regular, weights="weights")
    path = model.save(tmp_path / "model.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["model"] == cls.__name__
    assert doc["time_unit"] == "Y"
    loaded = load(path)
    assert type(loaded) is cls
    pd.testing.assert_series_equal(loaded.params_, model.params_)
    pd.testing.assert_frame_equal(loaded.covariance_, model.covariance_)
    assert loaded.log_likelihood_ == model.log_likelihood_
    data = customers()
    pd.testing.assert_series_equal(
        loaded.subscriber_value(data, 10.0, 0.1), model.subscriber_value(data, 10.0, 0.1)
    )
    pd.testing.assert_frame_equal(loaded.summary(), model.summary())


def test_caller_frames_are_not_mutated(sbg_regular):
    wide = survivors_to_summary(REGULAR, period="Y", expand=True)
    wide_before = wide.copy(deep=True)
    ShiftedBetaGeometric().fit(wide)
    pd.testing.assert_frame_equal(wide, wide_before)
    assert wide.attrs == {"time_unit": "Y"}
    data = customers()
    before = data.copy(deep=True)
    sbg_regular.predict_p_active(data, 1)
    sbg_regular.subscriber_value(data, "margin", 0.1, interval=0.8)
    pd.testing.assert_frame_equal(data, before)
    assert data["churned"].dtype == bool


def test_a_barely_identified_fit_warns_in_subscription_terms():
    with pytest.warns(UnidentifiedWarning, match="Few customers churned") as record:
        ShiftedBetaGeometric().fit(customers())
    assert "P(alive)" not in str(record[0].message)


def test_input_errors(sbg_regular):
    with pytest.raises(NotFittedError):
        ShiftedBetaGeometric().predict_p_active(customers(), 1)
    with pytest.raises(NotFittedError):
        BetaDiscreteWeibull().survival(3)
    bad = customers().assign(churned=[0, 1, 2, 0, 0])
    with pytest.raises(DataError, match="churned"):
        sbg_regular.predict_p_active(bad, 1)
    zero = customers().assign(duration=[0, 3, 3, 7, 0])
    with pytest.raises(DataError, match="duration 0"):
        sbg_regular.predict_p_active(zero, 1)
    with pytest.raises(DataError, match="negative"):
        sbg_regular.predict_p_active(customers().assign(duration=[-1, 3, 3, 7, 0]), 1)
    with pytest.raises(DataError, match="whole numbers"):
        sbg_regular.predict_p_active(customers().assign(duration=[1.5, 3, 3, 7, 0]), 1)
    with pytest.raises(DataError, match="missing column"):
        sbg_regular.predict_p_active(customers().drop(columns="churned"), 1)
    with pytest.raises(DataError, match="no customer churned"):
        ShiftedBetaGeometric().fit(customers().assign(churned=False))
    monthly = customers()
    monthly.attrs["time_unit"] = "M"
    with pytest.raises(DataError, match="time unit"):
        sbg_regular.predict_p_active(monthly, 1)
    with pytest.raises(DataError, match="discount_rate"):
        sbg_regular.predict_discounted_residual_lifetime(customers(), -0.1)
    with pytest.raises(DataError, match="periods_ahead"):
        sbg_regular.predict_p_active(customers(), 1.5)
    with pytest.raises(TypeError, match="discount_rate"):
        sbg_regular.subscriber_value(customers(), 1.0, "10%")


def test_bdw_predictions_are_finite(regular):
    model = BetaDiscreteWeibull().fit(regular, weights="weights")
    data = customers()
    out = model.predict_discounted_residual_lifetime(data, 0.1)
    g, d, c = model.params_
    assert out["d"] == pytest.approx(float(bdw_formulas.derl(g, d, c, 0.1, 7, 0)))
    assert out["a"] == 0.0
    assert np.isfinite(model.subscriber_value(data, 10.0, 0.1)).all()
    erl = model.predict_residual_lifetime(data)
    # c * gamma = 0.58 < 1 on this cohort: an infinite undiscounted residual lifetime
    assert np.isinf(erl["b"])


@pytest.mark.parametrize("cls", [ShiftedBetaGeometric, BetaDiscreteWeibull])
def test_predictions_grouped_by_distinct_rows_equal_the_formulas(cls, regular):
    # 50,000 customers hold 120 distinct (duration, churned) rows: the predictions are evaluated once per
    # distinct row and gathered back; they must equal the formulas evaluated customer by customer.
    model = cls().fit(regular, weights="weights")
    rng = np.random.default_rng(8)
    n = 50_000
    duration = rng.integers(1, 61, n)
    churned = rng.random(n) < 0.3
    margin = rng.uniform(5, 50, n)
    data = pd.DataFrame({"duration": duration, "churned": churned, "margin": margin})
    data.attrs["time_unit"] = "Y"
    theta = tuple(model.params_)
    dur, ch = duration.astype(float), churned.astype(float)
    np.testing.assert_allclose(
        model.subscriber_value(data, "margin", 0.05),
        margin * model.formulas.derl(*theta, 0.05, dur, ch),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        model.predict_p_active(data, 4), model.formulas.p_active(*theta, 4.0, dur, ch), rtol=1e-12
    )


def test_polars_summary(sbg_regular, regular):
    pl = pytest.importorskip("polars")
    model = ShiftedBetaGeometric().fit(pl.from_pandas(regular), weights=regular["weights"].to_numpy())
    np.testing.assert_allclose(model.params_, sbg_regular.params_, rtol=1e-10)
    out = sbg_regular.predict_p_active(pl.from_pandas(customers()), 1)
    assert out.tolist() == sbg_regular.predict_p_active(customers(), 1).tolist()


def test_bdw_retention_elasticity_per_customer(regular):
    model = BetaDiscreteWeibull().fit(regular, weights="weights")
    g, d, c = model.params_.to_numpy()
    eta = model.predict_retention_elasticity(regular, 0.1, interval=0.9, n_draws=100)
    n, churned = regular["duration"].to_numpy(float), regular["churned"].to_numpy(float)
    np.testing.assert_allclose(
        eta["retention_elasticity"], bdw_formulas.retention_elasticity(g, d, c, 0.1, n, churned), rtol=1e-12
    )
    active = churned == 0
    assert (eta["retention_elasticity_lower"][active] < eta["retention_elasticity"][active]).all()
    assert eta["retention_elasticity"][~active].isna().all()
