"""Covariates in the maximum-likelihood models (issue 17): design, likelihood, recovery, scoring, files."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab import DataError
from clvlab.covariates import Design
from clvlab.errors import CovariateWarning, DegenerateSegmentsWarning
from clvlab.formulas import bgnbd, pareto_nbd
from clvlab.models import _covariates
from clvlab.models._covariates import covariate_total_and_grad, row_params

SIM = {"BetaGeo": bgnbd.simulate, "ParetoNBD": pareto_nbd.simulate}


@pytest.fixture(scope="module")
def cdnow_cov(cdnow_summary):
    """The CDNOW calibration summary with each customer's acquisition month and first purchase value."""
    log = clvlab.datasets.load_cdnow_transactions()
    first = log.sort_values(["customer_id", "date"]).groupby("customer_id").first()
    month = first["date"].dt.month.map({1: "Jan", 2: "Feb", 3: "Mar"})
    attrs = pd.DataFrame(
        {"cohort": month.to_numpy(), "first_amount": first["amount"].clip(lower=1.0).to_numpy()}
    )
    attrs.index = first.index
    out = cdnow_summary.join(attrs)
    out.attrs = dict(cdnow_summary.attrs)
    return out


def _simulate(model_cls, n, coefs, seed):
    """Customers with two binary attributes; known baselines and coefficients (purchase, dropout)."""
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, size=(n, 2)).astype(float)
    base = {"BetaGeo": [0.5, 8.0, 0.6, 2.5], "ParetoNBD": [0.6, 9.0, 0.6, 10.0]}[model_cls.__name__]
    theta = np.concatenate([base, coefs])
    links, sizes = _layout(model_cls)
    params = row_params(theta, 4, links, sizes, [z[:, 0], z[:, 1], z[:, 0], z[:, 1]])
    T = rng.uniform(20, 60, size=n)
    x, t_x = SIM[model_cls.__name__](*[np.broadcast_to(p, (n,)) for p in params], T, rng)
    frame = pd.DataFrame(
        {"frequency": x, "recency": t_x, "T": T, "web": z[:, 0], "female": z[:, 1]},
        index=pd.RangeIndex(n, name="customer_id"),
    )
    frame.attrs["time_unit"] = "W"
    return frame, theta


def _layout(model_cls):
    names = list(model_cls.param_names)
    links = {p: tuple((names.index(k), s) for k, s in v) for p, v in model_cls.covariate_links.items()}
    return links, [("purchase", 2), ("dropout", 2)]


@pytest.mark.parametrize("model_cls", [clvlab.BetaGeo, clvlab.ParetoNBD])
def test_coefficients_are_recovered_within_three_standard_errors(model_cls):
    coefs = np.array([0.5, -0.3, 0.4, 0.3])
    data, theta = _simulate(model_cls, 20_000, coefs, seed=7)
    model = model_cls(purchase_covariates=["web", "female"], dropout_covariates="~ web + female").fit(data)
    names = [f"{p}:{c}" for p in ("purchase", "dropout") for c in ("web", "female")]
    assert list(model.params_.index[4:]) == names
    # Each estimate within 3 standard errors of the truth (a 99.7% band per parameter, so that eight
    # parameters of one simulated data set pass together with probability about 0.98 if the standard
    # errors are right, and fail for a biased estimator or wrong standard errors).
    se = np.sqrt(np.diag(model._log_covariance))
    working = np.concatenate([np.log(model.params_.to_numpy()[:4]), model.params_.to_numpy()[4:]])
    truth = np.concatenate([np.log(theta[:4]), coefs])
    z = (working - truth) / se
    assert np.all(np.abs(z) < 3), dict(zip(model.params_.index, z.round(2), strict=True))


@pytest.mark.parametrize("max_patterns", [256, 0])  # per covariate pattern, and per row
@pytest.mark.parametrize("model_cls", [clvlab.BetaGeo, clvlab.ParetoNBD, clvlab.ModifiedBetaGeo])
def test_gradient_is_exact(model_cls, max_patterns, monkeypatch, cdnow_cov):
    monkeypatch.setattr(_covariates, "MAX_PATTERNS", max_patterns)
    model = model_cls()
    _, z = Design.fit("~ cohort", cdnow_cov, "purchase")
    cols = tuple(cdnow_cov[c].to_numpy(dtype=float) for c in model.data_columns)
    w = np.ones(len(z))
    names = list(model.param_names)
    links = {
        p: tuple((names.index(k), s) for k, s in model.covariate_links[p]) for p in ("purchase", "dropout")
    }
    sizes = [("purchase", 2), ("dropout", 2)]
    zz = np.column_stack([z, z])
    fn = covariate_total_and_grad(
        model._total_and_grad, model.formulas.loglik_and_grad, cols, zz, w, 4, links, sizes
    )
    theta = np.array([0.4, 6.0, 0.7, 2.0, 0.2, -0.1, 0.3, -0.2])
    if model_cls is clvlab.ParetoNBD:
        theta[2:4] = [0.6, 9.0]
    total, grad = fn(theta)
    # The total equals the per-customer likelihood at each customer's own parameters.
    per_row = row_params(theta, 4, links, sizes, tuple(zz.T))
    assert total == pytest.approx(float(np.sum(model.formulas.loglik(*per_row, *cols))), rel=1e-10)
    for j in range(len(theta)):
        h = 1e-6 * max(abs(theta[j]), 1.0)
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        numeric = (fn(up)[0] - fn(down)[0]) / (2 * h)
        assert grad[j] == pytest.approx(numeric, rel=1e-5, abs=1e-4), j


def test_zero_coefficients_reproduce_the_model_without_covariates(cdnow_cov):
    plain = clvlab.BetaGeo().fit(cdnow_cov)
    cov = clvlab.BetaGeo(purchase_covariates="~ cohort").fit(cdnow_cov)
    # Nested models: the covariate fit can only be as good or better, and not by much on CDNOW.
    assert cov.log_likelihood_ >= plain.log_likelihood_ - 1e-6
    cov.params_.iloc[4:] = 0.0
    cov.params_.iloc[:4] = plain.params_.to_numpy()
    np.testing.assert_allclose(cov.predict_p_alive(cdnow_cov), plain.predict_p_alive(cdnow_cov), rtol=1e-13)
    np.testing.assert_allclose(
        cov.predict_purchases(cdnow_cov, 39), plain.predict_purchases(cdnow_cov, 39), rtol=1e-13
    )


def test_predictions_equal_a_homogeneous_model_at_each_customers_parameters(cdnow_cov):
    bg = clvlab.BetaGeo(purchase_covariates="~ cohort + log(first_amount)", dropout_covariates=["cohort"])
    bg.fit(cdnow_cov)
    gg = clvlab.GammaGamma(spend_covariates="~ log(first_amount)").fit(cdnow_cov)
    table = clvlab.predict_customer_value(
        bg, gg, cdnow_cov, horizon=52, discount_rate=0.1, discount_period=52, acquisition_cost=20.0
    )
    links, sizes = bg._covariate_layout()
    _, cols = bg.validated_columns(cdnow_cov)
    _, s_cols = gg.validated_columns(cdnow_cov)
    s_links, s_sizes = gg._covariate_layout()
    for i in (0, 5, 100, 2000):
        one = cdnow_cov.iloc[[i]].copy()
        one.attrs = dict(cdnow_cov.attrs)
        own = row_params(bg.params_.to_numpy(), 4, links, sizes, [c[i] for c in cols[3:]])
        own_bg = clvlab.BetaGeo.from_params(dict(zip(bg.param_names, own, strict=True)), time_unit="W")
        s_own = row_params(gg.params_.to_numpy(), 3, s_links, s_sizes, [c[i] for c in s_cols[2:]])
        own_gg = clvlab.GammaGamma.from_params(dict(zip(gg.param_names, s_own, strict=True)), time_unit="W")
        with warnings.catch_warnings():  # one customer: the segments' degeneracy note is expected
            warnings.simplefilter("ignore", DegenerateSegmentsWarning)
            ref = clvlab.predict_customer_value(
                own_bg, own_gg, one, horizon=52, discount_rate=0.1, discount_period=52, acquisition_cost=20.0
            )
        for col in ("p_alive", "expected_purchases", "expected_spend", "clv"):
            assert table[col].iloc[i] == pytest.approx(ref[col].iloc[0], rel=1e-12), col
        # The payback time is a root found to about 1e-8 relative (formulas.discounting).
        assert table["payback_horizon"].iloc[i] == pytest.approx(ref["payback_horizon"].iloc[0], rel=1e-8)


def test_intervals_and_bounds_for_covariate_models(cdnow_cov):
    bg = clvlab.ParetoNBD(purchase_covariates="~ cohort").fit(cdnow_cov)
    gg = clvlab.GammaGamma().fit(cdnow_cov)
    clv = clvlab.customer_lifetime_value(
        bg,
        gg,
        cdnow_cov.iloc[:300],
        horizon=52,
        discount_rate=0.1,
        discount_period=52,
        interval=0.9,
        n_draws=50,
    )
    assert ((clv["clv_lower"] <= clv["clv"] * 1.05) & (clv["clv"] <= clv["clv_upper"] * 1.05)).all()
    assert (clv["clv_upper"] > clv["clv_lower"]).all()
    p = bg.predict_p_alive(cdnow_cov, interval=0.9, n_draws=100)
    assert ((p["p_alive_lower"] <= p["p_alive"] + 1e-12) & (p["p_alive"] <= p["p_alive_upper"] + 1e-12)).all()


def test_scoring_data_get_the_fitted_encoding(cdnow_cov):
    bg = clvlab.BetaGeo(purchase_covariates=["cohort"]).fit(cdnow_cov)
    # One customer alone: the cohort column holds one level, yet the columns are those of the fit.
    one = cdnow_cov[cdnow_cov["cohort"] == "Mar"].iloc[[0]]
    whole = bg.predict_p_alive(cdnow_cov)
    assert bg.predict_p_alive(one).iloc[0] == whole.loc[one.index[0]]
    bad = cdnow_cov.iloc[:3].copy()
    bad["cohort"] = ["Jan", "Apr", "Mar"]
    with pytest.raises(DataError, match=r"level\(s\) \{'Apr'\}"):
        bg.predict_p_alive(bad)
    with pytest.raises(DataError, match=r"lack covariate column\(s\) \['cohort'\]"):
        bg.predict_p_alive(cdnow_cov.drop(columns="cohort"))
    missing = cdnow_cov.iloc[:3].copy()
    missing.loc[missing.index[1], "cohort"] = None
    with pytest.raises(DataError, match="must not be missing"):
        bg.predict_p_alive(missing)


def test_bad_specifications_and_refusals(cdnow_cov):
    with pytest.raises(DataError, match="right-hand-side formula"):
        clvlab.BetaGeo(purchase_covariates="frequency ~ cohort").fit(cdnow_cov)
    with pytest.raises(DataError, match="keep the intercept"):
        clvlab.BetaGeo(purchase_covariates="~ cohort - 1").fit(cdnow_cov)
    with pytest.raises(DataError, match=r"cohrt"):
        clvlab.BetaGeo(purchase_covariates=["cohrt"]).fit(cdnow_cov)
    with pytest.raises(TypeError, match="unexpected"):
        clvlab.BetaGeoBetaBinom(spend_covariates=["cohort"])
    model = clvlab.BetaGeo(dropout_covariates=["cohort"]).fit(cdnow_cov)
    for call in (lambda: model.expected_purchases(10), lambda: model.simulate(10, size=5)):
        with pytest.raises(DataError, match="acquisition_value"):
            call()
    with pytest.raises(DataError, match="acquisition_value"):
        clvlab.GammaGamma(spend_covariates=["cohort"]).fit(cdnow_cov).expected_spend()


def test_constant_and_collinear_covariates_warn(cdnow_cov):
    data = cdnow_cov.assign(one=1.0, twice=2.0 * cdnow_cov["first_amount"])
    with pytest.warns(CovariateWarning, match="constant"):
        Design.fit(["one"], data, "purchase")
    with pytest.warns(CovariateWarning, match="collinear"):
        Design.fit(["first_amount", "twice"], data, "purchase")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Design.fit(["first_amount"], data, "purchase")


def test_hyperparameters_and_the_caller_frame(cdnow_cov):
    model = clvlab.BetaGeo(purchase_covariates="~ cohort", covariate_penalizer=0.1)
    assert model.get_params() == {
        "penalizer": 0.0,
        "purchase_covariates": "~ cohort",
        "covariate_penalizer": 0.1,
    }
    assert repr(model) == "BetaGeo(penalizer=0.0, purchase_covariates='~ cohort', covariate_penalizer=0.1)"
    assert model.set_params(dropout_covariates=["cohort"]) is model
    before = cdnow_cov.copy(deep=True)
    model.fit(cdnow_cov)
    pd.testing.assert_frame_equal(cdnow_cov, before)
    # The L2 penalty shrinks the coefficients towards zero.
    free = clvlab.BetaGeo(purchase_covariates="~ cohort", dropout_covariates=["cohort"]).fit(cdnow_cov)
    assert np.abs(model.params_.iloc[4:]).sum() < np.abs(free.params_.iloc[4:]).sum()
    # Refitting without covariates forgets them.
    model.set_params(purchase_covariates=None, dropout_covariates=None).fit(cdnow_cov)
    assert not model.has_covariates
    assert list(model.params_.index) == ["r", "alpha", "a", "b"]


def test_weights_equal_repeated_rows_with_covariates(cdnow_cov):
    sample = cdnow_cov.sample(n=600, random_state=3)
    agg = sample.groupby(["frequency", "recency", "T", "cohort"]).size().rename("n").reset_index()
    agg.attrs = dict(sample.attrs)
    a = clvlab.BetaGeo(purchase_covariates=["cohort"]).fit(agg, weights="n")
    b = clvlab.BetaGeo(purchase_covariates=["cohort"]).fit(sample)
    np.testing.assert_allclose(a.params_, b.params_, rtol=1e-6)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-10)


@pytest.mark.parametrize(
    ("model_cls", "kwargs"),
    [
        (
            clvlab.BetaGeo,
            {"purchase_covariates": "~ cohort + log(first_amount)", "dropout_covariates": ["cohort"]},
        ),
        (clvlab.ParetoNBD, {"dropout_covariates": "~ C(cohort) + center(first_amount)"}),
        (clvlab.GammaGamma, {"spend_covariates": ["cohort"]}),
    ],
)
def test_save_and_load_round_trip(model_cls, kwargs, cdnow_cov, tmp_path):
    model = model_cls(**kwargs).fit(cdnow_cov)
    path = model.save(tmp_path / "m.json")
    again = clvlab.load(path)
    pd.testing.assert_series_equal(again.params_, model.params_)
    assert again.get_params() == model.get_params()
    assert again.covariates_ == model.covariates_
    predict = "predict_spend" if model_cls is clvlab.GammaGamma else "predict_p_alive"
    np.testing.assert_array_equal(getattr(again, predict)(cdnow_cov), getattr(model, predict)(cdnow_cov))
    pd.testing.assert_frame_equal(again.summary(), model.summary())


def test_customers_are_joined_and_checked():
    log = clvlab.datasets.load_cdnow_transactions()
    first = log.sort_values(["customer_id", "date"]).groupby("customer_id")["date"].first()
    customers = pd.DataFrame(
        {"customer_id": first.index, "cohort": first.dt.month.map({1: "Jan", 2: "Feb", 3: "Mar"})}
    )
    kw = {"observation_end": "1997-09-30", "time_unit": "W", "drop_after_end": True}
    before = customers.copy()
    s = clvlab.rfm_summary(log, customers=customers, **kw)
    pd.testing.assert_frame_equal(customers, before)
    assert s.attrs["time_unit"] == "W"
    assert (s["cohort"] == customers.set_index("customer_id")["cohort"].reindex(s.index)).all()
    split = clvlab.calibration_holdout_split(
        log, calibration_end="1997-09-30", time_unit="W", customers=customers
    )
    assert list(split.columns[-1:]) == ["cohort"]
    with pytest.raises(DataError, match="duplicated customer id"):
        clvlab.rfm_summary(log, customers=pd.concat([customers, customers.iloc[:1]]), **kw)
    with pytest.raises(DataError, match=r"have no row in customers, e\.g\. customer id 1"):
        clvlab.rfm_summary(log, customers=customers.iloc[1:], **kw)
    with pytest.raises(DataError, match="already holds"):
        clvlab.rfm_summary(log, customers=customers.assign(T=1.0), **kw)


def test_likelihood_ratio_test_in_compare_models(cdnow_cov):
    log = clvlab.datasets.load_cdnow_transactions()
    split = clvlab.calibration_holdout_split(
        log, calibration_end="1997-09-30", time_unit="W", customers=cdnow_cov[["cohort", "first_amount"]]
    )
    plain = clvlab.BetaGeo().fit(split)
    cohort = clvlab.BetaGeo(purchase_covariates=["cohort"]).fit(split)
    both = clvlab.BetaGeo(purchase_covariates="~ cohort + log(first_amount)").fit(split)
    table = clvlab.compare_models({"plain": plain, "cohort": cohort, "both": both}, split)
    assert pd.isna(table.loc["plain", "lr_against"])
    assert table.loc["cohort", "lr_against"] == "plain"
    assert table.loc["both", "lr_against"] == "cohort"  # the largest model it nests
    stat = 2 * (both.log_likelihood_ - cohort.log_likelihood_)
    assert table.loc["both", "lr_statistic"] == pytest.approx(stat, rel=1e-9)
    assert table.loc["both", "lr_df"] == 1
    from scipy import stats

    assert table.loc["both", "lr_p_value"] == pytest.approx(stats.chi2.sf(stat, 1), rel=1e-9)
    direct = clvlab.likelihood_ratio_test(plain, cohort, split)
    assert direct["df"] == 2
    assert direct["statistic"] == pytest.approx(table.loc["cohort", "lr_statistic"], rel=1e-12)
    with pytest.raises(ValueError, match="subset"):
        clvlab.likelihood_ratio_test(cohort, plain, split)
    with pytest.raises(ValueError, match="subset"):
        clvlab.likelihood_ratio_test(clvlab.ParetoNBD().fit(split), both, split)


def test_likelihood_ratio_test_of_spend_models_on_a_split_with_one_time_buyers(cdnow_cov):
    # Gamma-Gamma's likelihood covers the customers with repeat purchases only: the one-time buyers of
    # the split (monetary_value 0) are not scored, so the statistic is finite and equals the fits' own.
    plain = clvlab.GammaGamma().fit(cdnow_cov)
    cov = clvlab.GammaGamma(spend_covariates=["cohort"]).fit(cdnow_cov)
    assert (cdnow_cov["frequency"] == 0).any()
    test = clvlab.likelihood_ratio_test(plain, cov, cdnow_cov)
    assert test["statistic"] == pytest.approx(2 * (cov.log_likelihood_ - plain.log_likelihood_), rel=1e-9)
    assert test["df"] == 2
    assert 0 <= test["p_value"] <= 1


def test_plots_of_covariate_models(cdnow_cov):
    pytest.importorskip("matplotlib")
    from clvlab import plotting

    log = clvlab.datasets.load_cdnow_transactions()
    split = clvlab.calibration_holdout_split(
        log, calibration_end="1997-09-30", time_unit="W", customers=cdnow_cov[["cohort"]]
    )
    model = clvlab.BetaGeo(purchase_covariates=["cohort"]).fit(split)
    # Per-customer predictions: fine.
    data = plotting.plot_calibration_vs_holdout_data(model, split)
    assert np.isfinite(data["predicted"].dropna()).all()
    # Population curves of the model's formulas (a grid of frequency and recency): refused, saying
    # which plots take it.
    with pytest.raises(DataError, match="population curves"):
        plotting.plot_frequency_recency_matrix_data(model)


@pytest.mark.parametrize("model_cls", [clvlab.BetaGeo, clvlab.ParetoNBD])
def test_period_transactions_of_a_covariate_model_sum_each_cohorts_own_model(model_cls, cdnow_cov):
    pytest.importorskip("matplotlib")
    from clvlab import plotting

    model = model_cls(purchase_covariates=["cohort"], dropout_covariates=["cohort"]).fit(cdnow_cov)
    got = plotting.plot_period_transactions_data(model, cdnow_cov)
    # By another route: each cohort's customers under a model without covariates at that cohort's
    # parameters (baselines scaled by its coefficients), added up.
    names = list(model_cls.param_names)
    links = {p: tuple((names.index(k), s) for k, s in v) for p, v in model_cls.covariate_links.items()}
    total = 0.0
    for cohort in ("Feb", "Jan", "Mar"):
        zc = [float(cohort == "Jan"), float(cohort == "Mar")] * 2
        per = row_params(model.params_.to_numpy(), 4, links, [("purchase", 2), ("dropout", 2)], zc)
        plain = model_cls.from_params(dict(zip(names, per, strict=True)), time_unit="W")
        part = cdnow_cov[cdnow_cov["cohort"] == cohort]
        total = total + plotting.plot_period_transactions_data(plain, part)[["actual", "expected"]]
    pd.testing.assert_frame_equal(got[["actual", "expected"]], total, rtol=1e-10)
    assert got["expected"].sum() == pytest.approx(len(cdnow_cov))


@pytest.mark.parametrize("model_cls", [clvlab.BetaGeo, clvlab.ParetoNBD])
def test_clv_bounds_by_covariate_pattern_equal_those_per_customer(model_cls, cdnow_cov, monkeypatch):
    from clvlab import value

    model = model_cls(purchase_covariates=["cohort"], dropout_covariates=["cohort"]).fit(cdnow_cov)
    gg = clvlab.GammaGamma(spend_covariates=["cohort"]).fit(cdnow_cov)
    data = cdnow_cov.iloc[::7]
    kw = {"horizon": 52, "discount_rate": 0.1, "discount_period": 52, "interval": 0.9, "n_draws": 60}
    by_pattern = clvlab.customer_lifetime_value(model, gg, data, **kw)
    monkeypatch.setattr(value, "_MAX_PATTERNS", 0)  # every customer with their own parameters
    per_customer = clvlab.customer_lifetime_value(model, gg, data, **kw)
    # The same draws; the per-(x, T) table and direct quadrature agree to about 1e-10.
    pd.testing.assert_frame_equal(by_pattern, per_customer, rtol=1e-9)


def test_import_clvlab_imports_no_optional_heavy_library():
    import subprocess
    import sys

    heavy = ("formulaic", "pyspark", "mlflow", "pymc", "matplotlib")
    code = f"import sys, clvlab; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    ("n_patterns", "n_columns"),
    [(16, 4), (3, 1), (200, 9)],  # (200, 9): 200**9 > 2**62 packed codes, the row-wise fallback
)
def test_pattern_codes_name_each_rows_pattern(n_patterns, n_columns):
    rng = np.random.default_rng(n_patterns)
    distinct = rng.normal(size=(n_patterns, n_columns)).round(3)
    which = rng.integers(0, n_patterns, 5_000)
    z = distinct[which]
    codes, patterns = _covariates._pattern_codes(z)
    np.testing.assert_array_equal(patterns[codes], z)  # each row's pattern, exactly
    assert len(np.unique(patterns, axis=0)) == len(patterns) == len(np.unique(z, axis=0))


def test_pattern_codes_beyond_the_limit_and_without_columns(monkeypatch):
    z = np.arange(40.0).reshape(20, 2)
    monkeypatch.setattr(_covariates, "MAX_PATTERNS", 19)
    assert _covariates._pattern_codes(z) is None
    monkeypatch.setattr(_covariates, "MAX_PATTERNS", 20)
    assert _covariates._pattern_codes(z) is not None
    codes, patterns = _covariates._pattern_codes(np.empty((5, 0)))
    np.testing.assert_array_equal(codes, 0)
    assert patterns.shape == (1, 0)


def test_warm_started_covariate_fit_equals_a_cold_fit(monkeypatch):
    from clvlab.models import base

    data, _ = _simulate(clvlab.BetaGeo, 30_000, np.array([0.4, -0.3, 0.3, 0.2]), seed=7)
    data["recency"] = np.floor(data["recency"] * 10) / 10  # coarse, so that rows repeat
    data["T"] = np.ceil(data["T"])
    kw = {"purchase_covariates": ["web", "female"], "dropout_covariates": ["web", "female"]}
    monkeypatch.setattr(base, "_WARM_START_ROWS", 2_000)  # the subsample fit, then Newton on all rows
    warm = clvlab.BetaGeo(**kw).fit(data)
    monkeypatch.setattr(base, "_WARM_START_ROWS", 10**9)
    cold = clvlab.BetaGeo(**kw).fit(data)
    np.testing.assert_allclose(warm.params_, cold.params_, rtol=1e-6)
    np.testing.assert_allclose(warm.covariance_, cold.covariance_, rtol=1e-4)
    assert warm.log_likelihood_ == pytest.approx(cold.log_likelihood_, rel=1e-12)


def test_tracking_of_a_covariate_model_sums_each_cohorts_own_model(cdnow_cov):
    pytest.importorskip("matplotlib")
    from clvlab import plotting

    log = clvlab.datasets.load_cdnow_transactions()
    attrs = cdnow_cov[["cohort"]]
    model = clvlab.BetaGeo(purchase_covariates=["cohort"], dropout_covariates=["cohort"]).fit(cdnow_cov)
    kw = {"calibration_end": "1997-09-30", "observation_end": "1998-06-30"}
    got = plotting.plot_tracking_data(model, log, customers=attrs, **kw)
    names = list(clvlab.BetaGeo.param_names)
    links = {p: tuple((names.index(k), s) for k, s in v) for p, v in clvlab.BetaGeo.covariate_links.items()}
    # By hand: each customer's E[X(t_k - s_i)] at their cohort's parameters, t_k the period ends in
    # weeks since 1997-01-01 and s_i the first purchase.
    first = log.groupby("customer_id")["date"].min()
    birth = ((first - pd.Timestamp("1997-01-01")).dt.days / 7).reindex(attrs.index).to_numpy()
    ends = got["t"].to_numpy()[:, None]
    total = np.zeros(len(got))
    for cohort in ("Feb", "Jan", "Mar"):
        zc = [float(cohort == "Jan"), float(cohort == "Mar")] * 2
        per = row_params(model.params_.to_numpy(), 4, links, [("purchase", 2), ("dropout", 2)], zc)
        age = ends - birth[(attrs["cohort"] == cohort).to_numpy()][None, :]
        ex = clvlab.BetaGeo.formulas.expected_purchases(*per, np.where(age > 0, age, 1.0))
        total += np.where(age > 0, ex, 0.0).sum(axis=1)
    assert got.attrs["origin"] == pd.Timestamp("1997-01-01")
    np.testing.assert_allclose(got["expected"], total, rtol=1e-10)
    with pytest.raises(DataError, match="pass customers="):
        plotting.plot_tracking_data(model, log, **kw)
    with pytest.raises(DataError, match="have no row in customers"):
        plotting.plot_tracking_data(model, log, customers=attrs.iloc[5:], **kw)
    with pytest.raises(DataError, match="no covariates"):
        plotting.plot_tracking_data(clvlab.BetaGeo().fit(cdnow_cov), log, customers=attrs, **kw)
