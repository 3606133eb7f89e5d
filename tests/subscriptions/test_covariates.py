"""Churn covariates on the sBG and BdW (issue 20): ``delta_i = delta exp(-g' z_i)``, ML and Bayesian."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab.errors import DataError
from clvlab.formulas import bdw, sbg

# Known parameters of the simulated subscriber base: a monthly plan's odds of the mean churn probability
# are exp(0.6) times the annual plan's, and each unit of the (standardised) price adds 0.3 to the log odds.
TRUE = {"gamma": 0.8, "delta": 3.0, "dropout:plan[T.monthly]": 0.6, "dropout:price": 0.3}


def simulate_base(n: int, seed: int, c: float | None = None) -> pd.DataFrame:
    """Subscribers with a plan and a price, churn simulated at per-customer delta, observed 1..24 periods."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(["annual", "monthly"], n, p=[0.4, 0.6])
    price = rng.normal(size=n)
    eta = TRUE["dropout:plan[T.monthly]"] * (plan == "monthly") + TRUE["dropout:price"] * price
    delta_i = TRUE["delta"] * np.exp(-eta)
    observed = rng.integers(1, 25, n)
    if c is None:
        duration, churned = sbg.simulate(TRUE["gamma"], delta_i, observed, rng)
    else:
        duration, churned = bdw.simulate(TRUE["gamma"], delta_i, c, observed, rng)
    df = pd.DataFrame(
        {
            "duration": duration.astype(np.int64),
            "churned": churned.astype(bool),
            "plan": plan,
            "price": price,
        },
        index=pd.RangeIndex(n, name="customer_id"),
    )
    df.attrs["time_unit"] = "M"
    return df


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    return simulate_base(20_000, seed=7)


@pytest.fixture(scope="module")
def fitted(base: pd.DataFrame) -> clvlab.ShiftedBetaGeometric:
    return clvlab.ShiftedBetaGeometric(dropout_covariates="~ plan + price").fit(base)


def test_sbg_recovers_known_coefficients(fitted):
    est = fitted.params_
    se = np.sqrt(np.diag(fitted.covariance_.to_numpy()))
    assert list(est.index) == list(TRUE)
    for (name, truth), value, s in zip(TRUE.items(), est.to_numpy(), se, strict=True):
        # 20,000 subscribers: each estimate within 4 standard errors of the truth, and the SEs small
        assert abs(value - truth) < 4 * s, (name, value, truth, s)
        assert s < 0.1 * max(abs(truth), 1.0), (name, s)


def test_bdw_recovers_known_coefficients_and_duration_dependence():
    data = simulate_base(20_000, seed=11, c=1.4)
    model = clvlab.BetaDiscreteWeibull(dropout_covariates=["plan", "price"]).fit(data)
    est = model.params_
    se = np.sqrt(np.diag(model.covariance_.to_numpy()))
    truth = {**TRUE, "c": 1.4}
    for name, value, s in zip(est.index, est.to_numpy(), se, strict=True):
        assert abs(value - truth[name]) < 4 * s, (name, value, truth[name], s)


def test_the_gradient_is_exact(fitted, base):
    problem = fitted.likelihood_problem(base)
    theta = fitted.params_.to_numpy() * np.array([1.1, 0.9, 1.0, 1.0]) + np.array([0, 0, 0.05, -0.05])
    _, grad = problem.total_and_grad(theta)
    h = 1e-6
    for j in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        fd = (problem.total_and_grad(up)[0] - problem.total_and_grad(down)[0]) / (2 * h)
        assert grad[j] == pytest.approx(fd, rel=1e-5, abs=1e-4), j


def test_per_customer_predictions_use_each_customers_delta(fitted, base):
    rows = base.iloc[:200]
    g, d, b_plan, b_price = fitted.params_.to_numpy()
    delta_i = d * np.exp(-(b_plan * (rows["plan"] == "monthly") + b_price * rows["price"])).to_numpy()
    n, churned = rows["duration"].to_numpy(float), rows["churned"].to_numpy(float)
    np.testing.assert_allclose(
        fitted.predict_discounted_residual_lifetime(rows, 0.01),
        sbg.derl(g, delta_i, 0.01, n, churned),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        fitted.predict_p_active(rows, 6), sbg.p_active(g, delta_i, 6, n, churned), rtol=1e-12
    )
    np.testing.assert_allclose(
        fitted.predict_retention_elasticity(rows, 0.01),
        sbg.retention_elasticity(g, delta_i, 0.01, n, churned),
        rtol=1e-12,
    )
    # the margin column comes before the design columns: value = factor x margin x DERL per customer
    margin = np.linspace(5, 15, len(rows))
    value = fitted.subscriber_value(rows, margin, 0.01, first_payment="in_one_period")
    np.testing.assert_allclose(value, margin * sbg.derl(g, delta_i, 0.01, n, churned) / 1.01, rtol=1e-12)
    with_bounds = fitted.subscriber_value(rows, margin, 0.01, interval=0.9, n_draws=200)
    assert (with_bounds["subscriber_value_lower"] <= with_bounds["subscriber_value"] + 1e-9).all()
    assert (with_bounds["subscriber_value_upper"] >= with_bounds["subscriber_value"] - 1e-9).all()
    active = rows["churned"].to_numpy() == 0
    assert (with_bounds["subscriber_value_upper"] - with_bounds["subscriber_value_lower"])[active].min() > 0


def test_population_quantities_need_a_profile(fitted, base):
    for call in (
        lambda: fitted.survival([1, 2]),
        lambda: fitted.retention_rate(2),
        lambda: fitted.discounted_expected_lifetime(0.01),
        lambda: fitted.simulate(12, size=3),
    ):
        with pytest.raises(DataError, match="subscriber_acquisition_value"):
            call()
    with pytest.raises(DataError, match="price"):
        fitted.predict_p_active(base[["duration", "churned", "plan"]].assign())


def test_save_and_load_carry_the_encoding(fitted, base, tmp_path):
    path = fitted.save(tmp_path / "sbg.json")
    loaded = clvlab.load(path)
    assert loaded.get_params() == fitted.get_params()
    assert loaded.covariates_["dropout"].columns == fitted.covariates_["dropout"].columns
    rows = base.iloc[:50]
    pd.testing.assert_series_equal(
        loaded.predict_discounted_residual_lifetime(rows, 0.02),
        fitted.predict_discounted_residual_lifetime(rows, 0.02),
    )
    # a single-level frame is encoded with the fitted levels, not its own
    one = rows[rows["plan"] == "annual"].head(3)
    np.testing.assert_allclose(loaded.predict_p_active(one, 2), fitted.predict_p_active(one, 2), rtol=1e-15)
    with pytest.raises(DataError):
        loaded.predict_p_active(one.assign(plan="weekly"), 2)


def test_bayesian_sbg_with_covariates(tmp_path):
    pytest.importorskip("pymc")
    from clvlab.bayes.contractual import ShiftedBetaGeometric as BayesSBG

    data = simulate_base(1_500, seed=3)
    data = data.assign(price=np.sign(data["price"]))  # four covariate patterns: a quick posterior
    mle = clvlab.ShiftedBetaGeometric(dropout_covariates="~ plan + price").fit(data)
    model = BayesSBG(
        dropout_covariates="~ plan + price", draws=600, tune=600, chains=2, random_seed=3, progressbar=False
    ).fit(data)
    summary = model.summary()
    assert list(summary.index) == list(mle.params_.index)
    se = mle.summary()["std_error"]
    for name in mle.params_.index:
        assert abs(summary.loc[name, "mean"] - mle.params_[name]) < 0.5 * se[name] + summary.loc[name, "sd"]
    rows = data.iloc[:20]
    derl = model.predict_discounted_residual_lifetime(rows, 0.01)
    draws = model.param_draws()
    z_plan = (rows["plan"] == "monthly").to_numpy(float)
    delta_i = draws[:, [1]] * np.exp(-(draws[:, [2]] * z_plan + draws[:, [3]] * rows["price"].to_numpy()))
    by_hand = sbg.derl(
        draws[:, [0]], delta_i, 0.01, rows["duration"].to_numpy(float), rows["churned"].to_numpy(float)
    )
    np.testing.assert_allclose(derl, by_hand.mean(axis=0), rtol=1e-10)
    with pytest.raises(DataError):
        model.survival(3)
    loaded = clvlab.load(model.save(tmp_path / "bayes_sbg.nc"))
    np.testing.assert_allclose(loaded.predict_discounted_residual_lifetime(rows, 0.01), derl, rtol=1e-12)
