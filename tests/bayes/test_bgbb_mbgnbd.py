"""Bayesian BG/BB and MBG/NBD: the maximum-likelihood models' likelihood with priors, covariates included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab.formulas import bgbb

pytest.importorskip("pymc")
cb = pytest.importorskip("clvlab.bayes")

FAST = {"draws": 400, "tune": 400, "progressbar": False}


def test_bgbb_posterior_on_the_donations_agrees_with_fhs_2010(tmp_path):
    donations = clvlab.datasets.load_donations()
    # 22 distinct rows: four chains cost little (two of 400 draws gave R-hat 1.016).
    model = cb.BetaGeoBetaBinom(**{**FAST, "chains": 4, "tune": 600}).fit(donations, weights="weights")
    table = model.summary()
    assert list(table.index) == ["alpha", "beta", "gamma", "delta"]
    assert (table["r_hat"] < 1.01).all()
    # 11,104 donors and weak priors: posterior means within half a posterior sd of the maximum-likelihood
    # estimates, FHS 2010's published 1.204, 0.750, 0.657, 2.783 ([BGBB-MLE-DONATIONS]).
    published = np.array([1.204, 0.750, 0.657, 2.783])
    assert np.all(np.abs(table["mean"].to_numpy() - published) < 0.5 * table["sd"].to_numpy())
    # Predictions are posterior means over the draws of the very same formulas.
    head = donations.head(5)
    draws = model.param_draws()
    columns = [head[c].to_numpy(dtype=float) for c in model.mle_class.data_columns]
    expected = np.mean([bgbb.conditional_expected_purchases(*d, 5.0, *columns) for d in draws], axis=0)
    np.testing.assert_allclose(model.predict_purchases(head, 5).to_numpy(), expected, rtol=1e-10)
    again = clvlab.load(model.save(tmp_path / "bgbb.nc"))
    assert isinstance(again, cb.BetaGeoBetaBinom)
    np.testing.assert_array_equal(again.param_draws(), draws)


def test_mbgnbd_posterior_on_cdnow_agrees_with_the_mle(cdnow_summary):
    # Four chains: two of 400 draws gave R-hat 1.010 on PyMC 6 (a and b are weakly identified).
    model = cb.ModifiedBetaGeo(**{**FAST, "chains": 4, "tune": 600}).fit(cdnow_summary)
    table = model.summary()
    assert (table["r_hat"] < 1.01).all()
    mle = clvlab.ModifiedBetaGeo().fit(cdnow_summary)
    # a and b are weakly identified on CDNOW (posterior sds about a quarter and a half of their means):
    # the posterior means lie within one posterior sd of the maximum-likelihood estimates.
    assert np.all(np.abs(table["mean"] - mle.params_) < table["sd"])


def test_bgbb_covariates_in_the_bayesian_model():
    rng = np.random.default_rng(5)
    n = 6_000
    web = rng.integers(0, 2, n).astype(float)
    beta = 0.75 * np.exp(-0.6 * web)  # beta_i = beta exp(-g_p z_i), g_p = 0.6
    n_periods = np.full(n, 8.0)
    x, t_x = bgbb.simulate(np.full(n, 1.2), beta, np.full(n, 0.66), np.full(n, 2.8), n_periods, rng)
    data = pd.DataFrame({"frequency": x, "recency": t_x, "n_periods": n_periods, "web": web})
    model = cb.BetaGeoBetaBinom(purchase_covariates=["web"], **FAST).fit(data)
    mle = clvlab.BetaGeoBetaBinom(purchase_covariates=["web"]).fit(data)
    table = model.summary()
    assert table.index[-1] == "purchase:web"
    assert (table["r_hat"] < 1.01).all()
    post = table.loc["purchase:web"]
    assert abs(post["mean"] - mle.params_["purchase:web"]) < 0.5 * post["sd"]
    assert abs(post["mean"] - 0.6) < 3 * post["sd"]  # the simulated truth
