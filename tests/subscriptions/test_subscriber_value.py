"""The subscriber targeting table and the value of a new subscriber against its CAC (issue 20)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab.errors import DataError
from clvlab.formulas import sbg
from tests.subscriptions.test_covariates import simulate_base

# tests/references.md [SBG-FH2007-COHORTS]: FH 2007's regular cohort, years 0..7.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


@pytest.fixture(scope="module")
def regular() -> pd.DataFrame:
    return clvlab.survivors_to_summary(REGULAR, period="Y", expand=True)


@pytest.fixture(scope="module")
def model(regular) -> clvlab.ShiftedBetaGeometric:
    return clvlab.ShiftedBetaGeometric().fit(regular)


@pytest.fixture(scope="module")
def cov_base() -> pd.DataFrame:
    return simulate_base(5_000, seed=5)


@pytest.fixture(scope="module")
def cov_model(cov_base) -> clvlab.ShiftedBetaGeometric:
    return clvlab.ShiftedBetaGeometric(dropout_covariates="~ plan + price").fit(cov_base)


def test_table_values_risk_and_segments(model, regular):
    g, d = model.params_.to_numpy()
    table = clvlab.predict_subscriber_value(
        model, regular, margin_per_period=100.0, discount_rate=0.1, risk_horizon=2, interval=0.9, n_draws=300
    )
    n, churned = regular["duration"].to_numpy(float), regular["churned"].to_numpy(float)
    np.testing.assert_allclose(table["subscriber_value"], 100 * sbg.derl(g, d, 0.1, n, churned), rtol=1e-12)
    np.testing.assert_allclose(
        table["churn_risk"], np.where(churned == 1, 1.0, 1 - sbg.p_active(g, d, 2, n, churned)), rtol=1e-12
    )
    assert (table["subscriber_value_lower"] <= table["subscriber_value"]).all()
    assert (table["subscriber_value_upper"] >= table["subscriber_value"]).all()
    # churned subscribers are worth nothing and form their own segment; the 241 survivors rank first
    assert (table.loc[table["churned"], "subscriber_value"] == 0).all()
    assert (table.loc[table["churned"], "segment"] == "churned").all()
    assert set(table.loc[~table["churned"], "value_rank"]) == set(range(1, 242))
    assert table["value_tier"].value_counts()["platinum"] == 50  # 5% of 1,000
    # all survivors share (duration 7) one churn risk, the default threshold (the median): only risks
    # strictly above it are "at risk", so no one is; a stated threshold at that risk marks them all
    assert table.attrs["risk_threshold"] == pytest.approx(table.loc[~table["churned"], "churn_risk"].iloc[0])
    assert set(table.loc[~table["churned"], "segment"]) == {"top value secure", "low value secure"}
    assert (table.loc[~table["churned"], "segment"] == "top value secure").sum() == 200  # top 20% by rank
    stated = clvlab.predict_subscriber_value(
        model, regular, margin_per_period=100.0, discount_rate=0.1, risk_horizon=2, risk_threshold=0.1
    )
    assert set(stated.loc[~stated["churned"], "segment"]) == {"top value at risk", "low value at risk"}
    later = clvlab.predict_subscriber_value(
        model, regular, margin_per_period=100.0, discount_rate=0.1, first_payment="in_one_period"
    )
    np.testing.assert_allclose(later["subscriber_value"], table["subscriber_value"] / 1.1, rtol=1e-12)


def test_segments_with_a_stated_threshold_and_cac(cov_model, cov_base):
    table = clvlab.predict_subscriber_value(
        cov_model,
        cov_base,
        margin_per_period=10.0,
        discount_rate=0.008,
        risk_threshold=0.2,
        acquisition_cost=50.0,
    )
    active = ~table["churned"]
    assert (table.loc[active & (table["churn_risk"] >= 0.2), "segment"].str.endswith("at risk")).all()
    assert (table.loc[active & (table["churn_risk"] < 0.2), "segment"].str.endswith("secure")).all()
    np.testing.assert_allclose(table["value_to_cac"], table["subscriber_value"] / 50.0)
    # per-customer parameters: the same table as the model's own predictions
    np.testing.assert_allclose(
        table["subscriber_value"], cov_model.subscriber_value(cov_base, 10.0, 0.008), rtol=1e-12
    )
    assert cov_base.columns.tolist() == ["duration", "churned", "plan", "price"]  # not mutated


def test_bayesian_table_is_the_posterior_mean(regular):
    pytest.importorskip("pymc")
    from clvlab.bayes.contractual import ShiftedBetaGeometric as BayesSBG

    model = BayesSBG(method="advi", draws=200, random_seed=1, progressbar=False).fit(regular)
    table = clvlab.predict_subscriber_value(
        model, regular, margin_per_period=1.0, discount_rate=0.1, interval=0.8
    )
    draws = model.param_draws()
    by_hand = sbg.derl(draws[:, [0]], draws[:, [1]], 0.1, 7.0, 0.0).mean()
    assert table["subscriber_value"].max() == pytest.approx(float(by_hand), rel=1e-12)
    assert (table["subscriber_value_upper"] > table["subscriber_value_lower"]).iloc[-1]


def test_new_subscriber_value_and_payback(model):
    g, d = model.params_.to_numpy()
    out = clvlab.subscriber_acquisition_value(
        model, margin_per_period=100.0, discount_rate=0.1, acquisition_cost=250.0, interval=0.9
    )
    assert out.index.tolist() == ["population"]
    del_ = float(sbg.discounted_expected_lifetime(g, d, 0.1))
    assert out["value"].iloc[0] == pytest.approx(100 * del_, rel=1e-12)
    assert out["value"].iloc[0] == pytest.approx(100 * model.discounted_expected_lifetime(0.1), rel=1e-12)
    assert out["expected_lifetime"].iloc[0] == np.inf  # gamma < 1: infinite mean lifetime
    assert out["value_lower"].iloc[0] < out["value"].iloc[0] < out["value_upper"].iloc[0]
    # payback: the first k with 100 x sum_{t<k} S(t) / 1.1^t >= 250, by brute force
    t = np.arange(50)
    cum = 100 * np.cumsum(sbg.survival(g, d, t) / 1.1**t)
    assert out["payback_periods"].iloc[0] == np.argmax(cum >= 250) + 1
    assert out["value_to_cac"].iloc[0] == pytest.approx(out["value"].iloc[0] / 250)
    never = clvlab.subscriber_acquisition_value(
        model, margin_per_period=1.0, discount_rate=0.1, acquisition_cost=1e6
    )
    assert never["payback_periods"].iloc[0] == np.inf


def test_new_subscriber_value_per_profile(cov_model):
    profiles = pd.DataFrame({"plan": ["annual", "monthly"], "price": [0.0, 0.0], "cac": [60.0, 30.0]})
    out = clvlab.subscriber_acquisition_value(
        cov_model, profiles, margin_per_period=10.0, discount_rate=0.008, acquisition_cost="cac"
    )
    g, d, b_plan, _ = cov_model.params_.to_numpy()
    expected = [sbg.discounted_expected_lifetime(g, d * np.exp(-b_plan * k), 0.008) for k in (0, 1)]
    np.testing.assert_allclose(out["discounted_expected_lifetime"], expected, rtol=1e-12)
    assert out["value"].iloc[0] > out["value"].iloc[1]  # the monthly plan churns more
    assert out.columns[:3].tolist() == ["plan", "price", "cac"]
    with pytest.raises(DataError, match="profiles="):
        clvlab.subscriber_acquisition_value(cov_model, margin_per_period=1.0, discount_rate=0.01)


def test_input_errors(model, regular):
    with pytest.raises(TypeError, match="contractual"):
        clvlab.predict_subscriber_value(
            clvlab.GammaGamma.from_params({"p": 6.0, "q": 4.0, "gamma": 16.0}),
            regular,
            margin_per_period=1,
            discount_rate=0.1,
        )
    with pytest.raises(DataError, match="margin_per_period"):
        clvlab.predict_subscriber_value(model, regular, margin_per_period="nope", discount_rate=0.1)
    with pytest.raises(DataError, match="discount_rate"):
        clvlab.predict_subscriber_value(model, regular, margin_per_period=1, discount_rate=-0.1)
    with pytest.raises(DataError, match="risk_threshold"):
        clvlab.predict_subscriber_value(
            model, regular, margin_per_period=1, discount_rate=0.1, risk_threshold=2
        )
    with pytest.raises(DataError, match="non-negative"):
        clvlab.subscriber_acquisition_value(
            model, margin_per_period=1, discount_rate=0.1, acquisition_cost=-1
        )
