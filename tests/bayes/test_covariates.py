"""Covariates in the Bayesian models (issue 17): the same likelihood, priors on the coefficients."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvlab

pytest.importorskip("pymc")
cb = pytest.importorskip("clvlab.bayes")

FAST = {"draws": 400, "tune": 400, "progressbar": False}
#: The comparison with pymc-marketing: 4 chains, more tuning (2 x 400 gave R-hat 1.011 on PyMC 6).
LONGER = {"draws": 500, "tune": 800, "chains": 4, "progressbar": False}


@pytest.fixture(scope="module")
def cohorts(cdnow_cohorts):
    return cdnow_cohorts


@pytest.fixture(scope="module")
def bg_nuts(cohorts):
    return cb.BetaGeo(purchase_covariates=["cohort"], **FAST).fit(cohorts)


def test_posterior_of_the_coefficients_agrees_with_the_mle(bg_nuts, cohorts):
    mle = clvlab.BetaGeo(purchase_covariates=["cohort"]).fit(cohorts)
    table = bg_nuts.summary()
    names = ["purchase:cohort[T.Jan]", "purchase:cohort[T.Mar]"]
    assert list(table.index) == ["r", "alpha", "a", "b", *names]
    assert (table["r_hat"] < 1.01).all()
    # Weak priors and 2,357 customers: posterior means within half a posterior sd of the MLE, and
    # posterior sds within 25% of the asymptotic standard errors.
    se = mle.summary().loc[names, "std_error"]
    assert np.all(np.abs(table.loc[names, "mean"] - mle.params_[names]) < 0.5 * table.loc[names, "sd"])
    np.testing.assert_allclose(table.loc[names, "sd"], se, rtol=0.25)


def test_predictions_are_posterior_means_over_per_customer_parameters(bg_nuts, cohorts):
    p = bg_nuts.predict_p_alive(cohorts, interval=0.9)
    # By hand: each draw's per-customer parameters, then the formula, then the mean.
    draws = bg_nuts.param_draws()
    cohort = cohorts["cohort"].to_numpy()
    zj, zm = (cohort == "Jan").astype(float), (cohort == "Mar").astype(float)
    alpha = draws[:, [1]] * np.exp(-(draws[:, [4]] * zj + draws[:, [5]] * zm))
    cols = [cohorts[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T")]
    by_hand = clvlab.BetaGeo.formulas.p_alive(draws[:, [0]], alpha, draws[:, [2]], draws[:, [3]], *cols).mean(
        axis=0
    )
    np.testing.assert_allclose(p["p_alive"], by_hand, rtol=1e-12)
    assert ((p["p_alive_lower"] <= p["p_alive"] + 1e-12) & (p["p_alive"] <= p["p_alive_upper"] + 1e-12)).all()


def test_value_and_acquisition_with_bayesian_covariate_models(bg_nuts, cohorts):
    gg = cb.GammaGamma(spend_covariates=["cohort"], method="map", progressbar=False).fit(cohorts)
    with pytest.raises(TypeError, match="not one of each"):
        clvlab.acquisition_value(
            bg_nuts, clvlab.GammaGamma().fit(cohorts), pd.DataFrame({"cohort": ["Jan"]}), horizon=52
        )
    gg_nuts = cb.GammaGamma(spend_covariates=["cohort"], draws=400, tune=1000, progressbar=False).fit(cohorts)
    table = clvlab.predict_customer_value(
        bg_nuts, gg_nuts, cohorts, horizon=52, discount_rate=0.1, discount_period=52
    )
    np.testing.assert_allclose(
        table["clv"], table["expected_spend"] * table["discounted_purchases"], rtol=1e-12
    )
    new = clvlab.acquisition_value(
        bg_nuts, gg_nuts, pd.DataFrame({"cohort": ["Jan", "Feb", "Mar"]}), horizon=52, interval=0.9
    )
    assert (new["value_lower"] < new["value"]).all()
    assert (new["value"] < new["value_upper"]).all()
    assert np.isfinite(gg.params_).all()


def test_priors_on_the_coefficients(cohorts):
    # A tight prior at zero pulls the posterior mode (MAP) onto it; the default one barely moves it.
    tight = {"purchase:cohort[T.Jan]": ("Normal", {"mu": 0.0, "sigma": 1e-3})}
    pulled = cb.BetaGeo(purchase_covariates=["cohort"], method="map", priors=tight, progressbar=False).fit(
        cohorts
    )
    free = cb.BetaGeo(purchase_covariates=["cohort"], method="map", progressbar=False).fit(cohorts)
    assert abs(pulled.params_["purchase:cohort[T.Jan]"]) < 1e-3
    mle = clvlab.BetaGeo(purchase_covariates=["cohort"]).fit(cohorts)
    assert free.params_["purchase:cohort[T.Jan]"] == pytest.approx(
        mle.params_["purchase:cohort[T.Jan]"], abs=0.02
    )
    with pytest.raises(ValueError, match="no parameter 'purchase:cohort"):
        cb.BetaGeo(
            purchase_covariates=["cohort"],
            method="map",
            priors={"purchase:cohort[T.Apr]": tight["purchase:cohort[T.Jan]"]},
            progressbar=False,
        ).fit(cohorts)


def test_save_and_load(bg_nuts, cohorts, tmp_path):
    path = bg_nuts.save(tmp_path / "bg.nc")
    again = clvlab.load(path)
    assert again.get_params() == bg_nuts.get_params()
    assert again.covariates_ == bg_nuts.covariates_
    np.testing.assert_array_equal(again.param_draws(), bg_nuts.param_draws())
    pd.testing.assert_series_equal(again.predict_p_alive(cohorts), bg_nuts.predict_p_alive(cohorts))


def test_posterior_agrees_with_pymc_marketing_within_monte_carlo_error(cohorts):
    # The same model and priors as pymc-marketing's BetaGeoModel with purchase covariates (its
    # a/b configuration): alpha_i = alpha exp(-g' z_i).
    # tests/references.md [PYMCM-BGNBD-COV-CDNOW]: pymc-marketing 0.19.2's posterior means and MC SEs.
    peer = pd.DataFrame(
        {
            "mean": [0.2442, 4.6246, 0.9650, 3.1535, 0.0894, -0.0019],
            "mcse": [0.0004, 0.0204, 0.0140, 0.0596, 0.0044, 0.0045],
        },
        index=["r", "alpha", "a", "b", "purchase:feb", "purchase:mar"],
    )
    data = cohorts.assign(
        feb=(cohorts["cohort"] == "Feb").astype(float), mar=(cohorts["cohort"] == "Mar").astype(float)
    )
    priors = {
        k: ("HalfNormal", {"sigma": s}) for k, s in {"r": 5.0, "alpha": 100.0, "a": 10.0, "b": 10.0}.items()
    }
    priors |= {f"purchase:{c}": ("Normal", {"mu": 0.0, "sigma": 1.0}) for c in ("feb", "mar")}
    model = cb.BetaGeo(purchase_covariates=["feb", "mar"], priors=priors, random_seed=3, **LONGER).fit(data)
    ours = model.summary()
    assert list(ours.index) == list(peer.index)
    # Two independent Monte Carlo estimates of one posterior mean: their difference has standard error
    # sqrt(mcse_ours^2 + mcse_peer^2); 4 of them is a 1-in-15,000 miss per parameter if all is right,
    # while a wrong sign or link (e.g. exp(+g'z)) moves the coefficients by 0.18 (40 such errors).
    z = (ours["mean"] - peer["mean"]) / np.sqrt(ours["mcse_mean"] ** 2 + peer["mcse"] ** 2)
    assert (z.abs() < 4).all(), z
