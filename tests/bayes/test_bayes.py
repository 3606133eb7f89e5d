"""Bayesian models: one short real NUTS fit per model, predictions over the posterior, the contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvlab

pm = pytest.importorskip("pymc")
cb = pytest.importorskip("clvlab.bayes")
from clvlab.bayes import _arviz  # noqa: E402  (after the skip: needs the bayes extra)


@pytest.fixture(scope="module")
def bg_nuts(cdnow_summary):
    return cb.BetaGeo(draws=400, tune=400, chains=2, random_seed=1, progressbar=False).fit(cdnow_summary)


@pytest.fixture(scope="module")
def bg_mle(cdnow_summary):
    return clvlab.BetaGeo().fit(cdnow_summary)


def test_import_clvlab_does_not_import_pymc():
    import subprocess
    import sys

    code = "import sys, clvlab; print('pymc' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


def test_bgnbd_posterior_agrees_with_the_mle(bg_nuts, bg_mle):
    summary = bg_nuts.summary()
    assert (summary["ess_bulk"] >= 400).all()
    for name in ("r", "alpha", "a", "b"):
        # tests/references.md [BGNBD-MLE-CDNOW] (FHL 2005), reproduced by clvlab.BetaGeo: the posterior
        # mean lies within 2 posterior standard deviations of it under the weakly informative default
        # priors.
        assert abs(summary.loc[name, "mean"] - bg_mle.params_[name]) < 2 * summary.loc[name, "sd"], name
        assert summary.loc[name, "r_hat"] <= 1.01
    assert _arviz.is_posterior(bg_nuts.idata_)  # InferenceData on ArviZ 0.x, DataTree on 1.x
    assert "observed_data" in _arviz.group_names(bg_nuts.idata_)
    assert float(bg_nuts.idata_["observed_data"]["weights"].sum()) == 2357
    assert bg_nuts.n_customers_ == 2357
    assert bg_nuts.time_unit_ == "W"


def test_bgnbd_posterior_predictions(bg_nuts, bg_mle, cdnow_summary):
    post = bg_nuts.predict_purchases(cdnow_summary, 39.0)
    mle = bg_mle.predict_purchases(cdnow_summary, 39.0)
    # Posterior-mean predictions agree with the maximum-likelihood ones within 5% (issue 5).
    assert abs(post.sum() / mle.sum() - 1) < 0.05
    np.testing.assert_allclose(
        bg_nuts.predict_p_alive(cdnow_summary), bg_mle.predict_p_alive(cdnow_summary), atol=0.05
    )
    bounds = bg_nuts.predict_purchases(cdnow_summary, 39.0, interval=0.9)
    assert (
        (bounds["expected_purchases_lower"] <= bounds["expected_purchases"])
        & (bounds["expected_purchases"] <= bounds["expected_purchases_upper"])
    ).all()
    draws = bg_nuts.predict_p_alive(cdnow_summary.iloc[:50], return_draws=True)
    assert draws.dims == ("chain", "draw", "customer_id")
    assert draws.shape == (2, 400, 50)
    np.testing.assert_allclose(
        draws.mean(("chain", "draw")).to_numpy(), bg_nuts.predict_p_alive(cdnow_summary.iloc[:50]).to_numpy()
    )
    assert float(bg_nuts.expected_purchases(52.0)) == pytest.approx(
        float(bg_mle.expected_purchases(52.0)), rel=0.05
    )


def test_nutpie_is_the_default_sampler_and_pymc_samples_the_same_posterior(cdnow_summary, bg_nuts):
    # nutpie comes with the bayes extra, so sampler="auto" takes it; PyMC's own NUTS samples the very
    # same model, and the two posteriors agree within their Monte Carlo errors.
    assert bg_nuts.idata_["posterior"].attrs["inference_library"] == "nutpie"
    pymc_fit = cb.BetaGeo(
        draws=400, tune=400, chains=2, random_seed=1, progressbar=False, sampler="pymc"
    ).fit(cdnow_summary)
    assert pymc_fit.idata_["posterior"].attrs["inference_library"] == "pymc"
    ours, theirs = bg_nuts.summary(), pymc_fit.summary()
    assert (theirs["r_hat"] <= 1.01).all()
    for name in ("r", "alpha", "a", "b"):
        mcse = np.hypot(ours.loc[name, "mcse_mean"], theirs.loc[name, "mcse_mean"])
        assert abs(ours.loc[name, "mean"] - theirs.loc[name, "mean"]) < 4 * mcse + 1e-3, name
        assert theirs.loc[name, "sd"] == pytest.approx(ours.loc[name, "sd"], rel=0.2), name
    with pytest.raises(ValueError, match="sampler must be one of"):
        cb.BetaGeo(sampler="stan").fit(cdnow_summary)


def test_same_seed_same_posterior(cdnow_summary, bg_nuts):
    again = cb.BetaGeo(draws=400, tune=400, chains=2, random_seed=1, progressbar=False).fit(cdnow_summary)
    np.testing.assert_array_equal(again.param_draws(), bg_nuts.param_draws())


def test_unidentified_mle_start_falls_back_to_the_posterior_mode():
    # Simulated customers whose BG/NBD MLE runs off to the no-dropout boundary (a, b -> infinity; the
    # maximum-likelihood fit warns): the Bayesian fit does not fail on its starting point, it starts at
    # the posterior mode, which the proper priors keep finite.
    truth = {"r": 0.334, "alpha": 4.81, "a": 0.336, "b": 2.305}
    rng = np.random.default_rng(27)  # a seed whose 400 customers show too little dropout
    data = clvlab.BetaGeo.from_params(truth, time_unit="W").simulate(rng.uniform(26.0, 52.0, 400), seed=rng)
    with pytest.warns(clvlab.UnidentifiedWarning):
        boundary = clvlab.BetaGeo().fit(data)
    if boundary.params_["a"] < 1e3:  # pragma: no cover - the simulated data must reach the boundary
        pytest.fail(f"the simulated data no longer put the MLE on the boundary: {boundary.params_}")
    priors = {"a": ("Gamma", {"alpha": 8.0, "beta": 8.0}), "b": ("Gamma", {"alpha": 8.0, "beta": 3.2})}
    model = cb.BetaGeo(method="map", priors=priors, progressbar=False).fit(data)
    assert model.params_["a"] < 10
    assert model.params_["b"] < 20
    assert np.isfinite(model.predict_p_alive(data)).all()


def test_map_is_the_penalised_mle(cdnow_summary, bg_mle):
    model = cb.BetaGeo(method="map", progressbar=False).fit(cdnow_summary)
    # The half-normal priors are wide: the mode moves from the MLE by far less than a standard error.
    se = np.sqrt(np.diag(bg_mle.covariance_.to_numpy()))
    assert np.all(np.abs(model.params_.to_numpy() - bg_mle.params_.to_numpy()) < 0.2 * se)


def test_gamma_gamma_nuts(cdnow_summary):
    model = cb.GammaGamma(draws=500, tune=500, chains=2, random_seed=2, progressbar=False).fit(cdnow_summary)
    summary = model.summary()
    assert (summary["r_hat"] <= 1.01).all()
    assert (summary["ess_bulk"] >= 400).all()
    mle = clvlab.GammaGamma().fit(cdnow_summary)
    for name in ("p", "q", "gamma"):
        # tests/references.md [GG-MLE-CDNOW] (Fader & Hardie 2013) within 2 posterior sd of the posterior
        # mean.
        assert abs(summary.loc[name, "mean"] - mle.params_[name]) < 2 * summary.loc[name, "sd"]
    spend = model.predict_spend(cdnow_summary, interval=0.9)
    ratio = spend["expected_spend"].mean() / mle.predict_spend(cdnow_summary).mean()
    assert abs(ratio - 1) < 0.05
    assert (spend["expected_spend_lower"] < spend["expected_spend_upper"]).all()


def test_gamma_gamma_advi(cdnow_summary):
    model = cb.GammaGamma(method="advi", draws=500, random_seed=2, progressbar=False).fit(cdnow_summary)
    mle = clvlab.GammaGamma().fit(cdnow_summary)
    spend = model.predict_spend(cdnow_summary, interval=0.9)
    ratio = spend["expected_spend"].mean() / mle.predict_spend(cdnow_summary).mean()
    assert abs(ratio - 1) < 0.05
    assert (spend["expected_spend_lower"] < spend["expected_spend_upper"]).all()
    assert model.expected_spend() == pytest.approx(mle.expected_spend(), rel=0.1)


def test_clv_over_the_joint_posterior(cdnow_summary, bg_nuts):
    gg = cb.GammaGamma(method="advi", draws=800, random_seed=3, progressbar=False).fit(cdnow_summary)
    kw = {"horizon": 52.0, "discount_rate": 0.1, "discount_period": 52}
    table = clvlab.predict_customer_value(bg_nuts, gg, cdnow_summary, interval=0.9, **kw)
    mle = clvlab.predict_customer_value(
        clvlab.BetaGeo().fit(cdnow_summary), clvlab.GammaGamma().fit(cdnow_summary), cdnow_summary, **kw
    )
    assert abs(table["clv"].sum() / mle["clv"].sum() - 1) < 0.05
    np.testing.assert_allclose(
        table["clv"], table["expected_spend"] * table["discounted_purchases"], rtol=1e-12
    )
    assert ((table["clv_lower"] <= table["clv"]) & (table["clv"] <= table["clv_upper"])).mean() > 0.99
    with pytest.raises(TypeError, match="two Bayesian models"):
        clvlab.customer_lifetime_value(bg_nuts, clvlab.GammaGamma().fit(cdnow_summary), cdnow_summary, **kw)


def test_contract_and_bad_arguments(cdnow_summary):
    model = cb.BetaGeo(draws=10)
    assert model.get_params()["draws"] == 10
    assert "draws=10" in repr(model)
    with pytest.raises(clvlab.NotFittedError):
        model.predict_p_alive(cdnow_summary)
    with pytest.raises(ValueError, match="method must be one of"):
        cb.BetaGeo(method="gibbs").fit(cdnow_summary)
    with pytest.raises(ValueError, match="no parameter 'x'"):
        cb.BetaGeo(priors={"x": ("HalfNormal", {"sigma": 1.0})}, method="map").fit(cdnow_summary)
    with pytest.raises(ValueError, match="not a PyMC distribution"):
        cb.BetaGeo(priors={"r": ("Nope", {})}, method="map").fit(cdnow_summary)
    bad = cdnow_summary.copy()
    bad.loc[1, "recency"] = 99.0
    with pytest.raises(clvlab.DataError, match="recency exceeds T"):
        cb.BetaGeo(method="map").fit(bad)
    days = cdnow_summary.copy()
    days.attrs["time_unit"] = "D"
    fitted = cb.BetaGeo(method="map").fit(cdnow_summary)
    with pytest.raises(clvlab.DataError, match="fitted in 'W'"):
        fitted.predict_p_alive(days)


def test_save_and_load_netcdf(tmp_path, cdnow_summary, bg_nuts):
    path = bg_nuts.save(tmp_path / "bgnbd_posterior.nc")
    again = clvlab.load(path)
    assert type(again) is type(bg_nuts)
    np.testing.assert_array_equal(again.param_draws(), bg_nuts.param_draws())
    pd.testing.assert_series_equal(
        again.predict_purchases(cdnow_summary, 39.0), bg_nuts.predict_purchases(cdnow_summary, 39.0)
    )
    assert again.time_unit_ == "W"
    assert again.get_params() == bg_nuts.get_params()
    # An edited posterior is refused.
    idata = _arviz.from_netcdf(str(path), engine="h5netcdf")
    idata["posterior"]["r"] = idata["posterior"]["r"] * 1.01
    _arviz.to_netcdf(idata, str(tmp_path / "edited.nc"), engine="h5netcdf")
    with pytest.raises(clvlab.ModelFileError, match="checksum mismatch"):
        clvlab.load(tmp_path / "edited.nc")


def test_load_a_file_saved_before_the_sampler_option(tmp_path, bg_nuts):
    # Files written before `sampler` existed (clvlab 0.1.0's first Bayesian format) name no sampler;
    # they load as sampler="pymc", the only sampler of that time, and keep their checksum.
    import json

    from clvlab.bayes import persistence

    idata = _arviz.copy(bg_nuts.idata_)
    saved = _arviz.from_netcdf(str(bg_nuts.save(tmp_path / "new.nc")), engine="h5netcdf")
    manifest = json.loads(saved["posterior"].attrs["clvlab_manifest"])
    del manifest["checksum"], manifest["hyperparameters"]["sampler"]
    manifest["checksum"] = persistence._checksum(manifest, bg_nuts.param_draws())
    idata["posterior"].attrs["clvlab_manifest"] = json.dumps(manifest)
    _arviz.to_netcdf(idata, str(tmp_path / "old.nc"), engine="h5netcdf")
    old = clvlab.load(tmp_path / "old.nc")
    assert old.sampler == "pymc"
    np.testing.assert_array_equal(old.param_draws(), bg_nuts.param_draws())


@pytest.mark.slow
def test_pareto_nbd_nuts(cdnow_summary):
    # One real NUTS fit (nutpie, in (ln s, ln k) survival coordinates), default priors: about 40 s here.
    model = cb.ParetoNBD(draws=500, tune=500, chains=2, random_seed=1, progressbar=False).fit(cdnow_summary)
    summary = model.summary()
    assert (summary["r_hat"] <= 1.01).all()
    assert (summary["ess_bulk"] >= 400).all()
    assert int(model.idata_["sample_stats"]["diverging"].sum()) == 0
    mle = clvlab.ParetoNBD().fit(cdnow_summary)
    for name in ("r", "alpha", "s", "beta"):
        # tests/references.md [PNBD-MLE-CDNOW]: Pareto/NBD MLE on CDNOW (FHL 2005: 0.553, 10.578, 0.606,
        # 11.669), reproduced by clvlab.ParetoNBD, lies within 2 posterior sd of the posterior mean.
        assert abs(summary.loc[name, "mean"] - mle.params_[name]) < 2 * summary.loc[name, "sd"], name
    # The data identify the survival of the dropout process, not s and beta apart: its posterior is
    # tight around the MLE's even though s and beta themselves spread along the ridge.
    horizon = float(cdnow_summary["T"].mean())
    draws = model.param_draws()
    survival = (draws[:, 3] / (draws[:, 3] + horizon)) ** draws[:, 2]
    s_mle, beta_mle = mle.params_["s"], mle.params_["beta"]
    assert np.std(survival) < 0.05
    assert abs(np.mean(survival) - (beta_mle / (beta_mle + horizon)) ** s_mle) < 2 * np.std(survival)
    # Posterior-mean predictions agree with the maximum-likelihood ones within 5% (issue 5).
    post = model.predict_purchases(cdnow_summary, 39.0)
    assert abs(post.sum() / mle.predict_purchases(cdnow_summary, 39.0).sum() - 1) < 0.05
    np.testing.assert_allclose(
        model.predict_p_alive(cdnow_summary), mle.predict_p_alive(cdnow_summary), atol=0.05
    )


def test_pareto_nbd_map_fits_predicts_values_and_reloads(tmp_path, cdnow_summary):
    # The posterior mode, residual CLV over it and a netCDF round trip (NUTS: test_pareto_nbd_nuts).
    model = cb.ParetoNBD(method="map", progressbar=False).fit(cdnow_summary)
    mle = clvlab.ParetoNBD().fit(cdnow_summary)
    # tests/references.md [PNBD-MLE-CDNOW], [PNBD-LL-CDNOW] (LL -9594.98 to 2 decimals): the weak priors
    # move the mode by much less than a standard error.
    se = np.sqrt(np.diag(mle.covariance_.to_numpy()))
    assert np.all(np.abs(model.params_.to_numpy() - mle.params_.to_numpy()) < 0.25 * se)
    post = model.predict_purchases(cdnow_summary, 39.0)
    assert abs(post.sum() / mle.predict_purchases(cdnow_summary, 39.0).sum() - 1) < 0.01
    gg = cb.GammaGamma(method="map", progressbar=False).fit(cdnow_summary)
    clv = clvlab.customer_lifetime_value(
        model, gg, cdnow_summary, horizon=np.inf, discount_rate=0.15, discount_period=52
    )
    assert np.isfinite(clv).all()
    assert (clv > 0).all()
    again = clvlab.load(model.save(tmp_path / "pareto.nc"))
    pd.testing.assert_series_equal(again.predict_p_alive(cdnow_summary), model.predict_p_alive(cdnow_summary))


@pytest.mark.parametrize("model_class", ["BetaGeo", "ParetoNBD", "GammaGamma"])
def test_nutpie_log_density_is_the_models_log_density(model_class, cdnow_summary):
    # nutpie's callback adds the priors' compiled terms and the likelihood called directly; it must equal
    # PyMC's compiled log-density of the same model (priors + the likelihood Op) and its gradient.
    from clvlab.bayes._nutpie import model_log_density
    from clvlab.bayes._op import loglik, python_op_compiles
    from clvlab.models._fitting import deduplicate

    bayes = getattr(cb, model_class)()
    mle = bayes.mle_class()
    columns, w = mle._fit_arrays(cdnow_summary, None)
    dedup = deduplicate(columns, w)
    total_and_grad = mle._total_and_grad(dedup.columns, dedup.weights)
    with pm.Model() as model, python_op_compiles():
        theta = pm.math.stack(bayes._build_priors(dedup.columns, dedup.weights))  # noqa: PD013
        pm.Potential("loglik", loglik(total_and_grad, theta))
        reference = model.logp_dlogp_function(ravel_inputs=True)
        reference.set_extra_values({})
        ours, parameters = model_log_density(model, total_and_grad)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.normal(0.0, 1.0, size=len(bayes.param_names))
        value, grad = ours(x)
        expected_value, expected_grad = reference(x)
        assert value == pytest.approx(float(expected_value), rel=1e-12, abs=1e-9)
        np.testing.assert_allclose(grad, np.asarray(expected_grad), rtol=1e-10, atol=1e-9)
        # The default priors' transforms are logs: the parameters are exp of the unconstrained values.
        np.testing.assert_allclose(parameters(x), np.exp(x), rtol=1e-14)


def test_summary_of_a_posterior_mode_says_nan_for_what_one_draw_cannot_tell(cdnow_summary):
    # A MAP fit is one draw: the mean is the mode; sd, MCSE, ESS and R-hat are NaN, without a warning
    # (the suite turns warnings into errors).
    model = cb.BetaGeo(method="map", progressbar=False).fit(cdnow_summary)
    table = model.summary()
    np.testing.assert_allclose(table["mean"].to_numpy(), model.param_draws()[0], rtol=1e-15)
    assert table[["sd", "mcse_mean", "ess_bulk", "r_hat"]].isna().all().all()
