"""Bayesian sBG and BdW (clvlab.bayes.contractual): the MLE models' likelihood with priors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlab.data.subscriptions import survivors_to_summary
from clvlab.models.bdw import BetaDiscreteWeibull
from clvlab.models.sbg import ShiftedBetaGeometric

pytest.importorskip("pymc")
bc = pytest.importorskip("clvlab.bayes.contractual")

# tests/references.md [SBG-FH2007-COHORTS]: FH 2007's regular cohort, years 0..7.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


@pytest.fixture(scope="module")
def regular() -> pd.DataFrame:
    return survivors_to_summary(REGULAR, period="Y")


@pytest.fixture(scope="module")
def mle(regular: pd.DataFrame) -> ShiftedBetaGeometric:
    return ShiftedBetaGeometric().fit(regular, weights="weights")


@pytest.fixture(scope="module")
def nuts(regular: pd.DataFrame):
    model = bc.ShiftedBetaGeometric(draws=500, tune=500, chains=2, random_seed=1, progressbar=False)
    return model.fit(regular, weights="weights")


def test_sbg_posterior_agrees_with_the_mle(nuts, mle):
    summary = nuts.summary()
    assert (summary["ess_bulk"] >= 400).all()
    assert (summary["r_hat"] <= 1.01).all()
    se = mle.summary()["std_error"]
    for name in ("gamma", "delta"):
        # 1,000 customers and weak priors: the posterior mean is near the MLE and its sd near the SE
        assert abs(summary.loc[name, "mean"] - mle.params_[name]) < summary.loc[name, "sd"], name
        assert summary.loc[name, "sd"] == pytest.approx(se[name], rel=0.3), name
    assert nuts.n_customers_ == 1000
    assert nuts.time_unit_ == "Y"


def test_sbg_posterior_predictions(nuts, mle, regular):
    draws = nuts.param_draws()
    derl = nuts.predict_discounted_residual_lifetime(regular, 0.1)
    by_hand = ShiftedBetaGeometric.formulas.derl(draws[:, [0]], draws[:, [1]], 0.1, 7.0, 0.0).mean()
    assert derl.iloc[-1] == pytest.approx(float(by_hand), rel=1e-12)
    assert (derl.iloc[:-1] == 0).all()
    assert derl.iloc[-1] == pytest.approx(
        mle.predict_discounted_residual_lifetime(regular, 0.1).iloc[-1], rel=0.05
    )
    value = nuts.subscriber_value(regular, 10.0, 0.1, interval=0.9)
    assert value.columns.tolist() == ["subscriber_value", "subscriber_value_lower", "subscriber_value_upper"]
    assert value["subscriber_value"].iloc[-1] == pytest.approx(10 * derl.iloc[-1], rel=1e-12)
    assert value["subscriber_value_lower"].iloc[-1] < value["subscriber_value"].iloc[-1]
    all_draws = nuts.predict_p_active(regular, 2, return_draws=True)
    assert all_draws.dims == ("chain", "draw", "customer_id")
    assert all_draws.shape == (2, 500, len(regular))
    s = nuts.survival(np.arange(0, 13))
    assert s[0] == 1.0
    np.testing.assert_allclose(s, mle.survival(np.arange(0, 13)), atol=0.01)
    assert nuts.retention_rate(3) == pytest.approx(float(mle.retention_rate(3)), abs=0.01)
    assert nuts.discounted_expected_lifetime(0.1) == pytest.approx(
        mle.discounted_expected_lifetime(0.1), rel=0.02
    )
    assert nuts.model_draws().role == "contractual"


def test_map_is_near_the_mle(regular, mle):
    # The posterior mode under HalfNormal(10) priors moves the estimate by well under one standard error.
    model = bc.ShiftedBetaGeometric(method="map", progressbar=False).fit(regular, weights="weights")
    se = mle.summary()["std_error"]
    for name in ("gamma", "delta"):
        assert abs(model.params_[name] - mle.params_[name]) < 0.1 * se[name]
    bdw = bc.BetaDiscreteWeibull(method="map", progressbar=False).fit(regular, weights="weights")
    bdw_mle = BetaDiscreteWeibull().fit(regular, weights="weights")
    se_b = bdw_mle.summary()["std_error"]
    for name in ("gamma", "delta", "c"):
        assert abs(bdw.params_[name] - bdw_mle.params_[name]) < 0.5 * se_b[name], name
    out = bdw.predict_discounted_residual_lifetime(regular, 0.1)
    assert out.iloc[-1] == pytest.approx(
        bdw_mle.predict_discounted_residual_lifetime(regular, 0.1).iloc[-1], rel=0.05
    )


def test_bayesian_contractual_models_are_exported_and_saved(nuts, regular, tmp_path):
    import clvlab
    import clvlab.bayes as cb

    assert cb.ShiftedBetaGeometric is bc.ShiftedBetaGeometric
    assert cb.BetaDiscreteWeibull is bc.BetaDiscreteWeibull
    again = clvlab.load(nuts.save(tmp_path / "sbg.nc"))
    assert type(again) is bc.ShiftedBetaGeometric
    np.testing.assert_array_equal(again.param_draws(), nuts.param_draws())
    np.testing.assert_array_equal(again.survival([1, 2, 5]), nuts.survival([1, 2, 5]))
