"""The estimator contract, enforced on every maximum-likelihood model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab import DataError, NotFittedError
from tests._contract import (
    check_fit_returns_self_without_mutating,
    check_hyperparameters_only,
    check_refit_overwrites,
    check_weights_equal_repeated_rows,
)

TRANSACTION_MODELS = [clvlab.BetaGeo, clvlab.ParetoNBD, clvlab.ModifiedBetaGeo]
ALL_MODELS = [*TRANSACTION_MODELS, clvlab.BetaGeoBetaBinom, clvlab.GammaGamma]


@pytest.fixture(scope="module")
def donations():
    return clvlab.datasets.load_donations()


def _data_for(model_cls, cdnow_summary, donations):
    if model_cls is clvlab.BetaGeoBetaBinom:
        # Expand the weighted donation patterns to one row per donor.
        return (
            donations.loc[donations.index.repeat(donations["weights"])]
            .reset_index(drop=True)
            .drop(columns="weights")
        )
    return cdnow_summary


@pytest.mark.parametrize("model_cls", ALL_MODELS)
def test_constructor_holds_hyperparameters_only(model_cls):
    model = model_cls(penalizer=0.01)
    assert model.get_params() == {"penalizer": 0.01}
    check_hyperparameters_only(model, f"{model_cls.__name__}(penalizer=0.01)", "penalizer", 0.0)


@pytest.mark.parametrize("model_cls", ALL_MODELS)
def test_fit_returns_self_with_fitted_attributes(model_cls, cdnow_summary, donations):
    data = _data_for(model_cls, cdnow_summary, donations)
    model = check_fit_returns_self_without_mutating(model_cls(), data)
    k = len(model.param_names)
    assert model.covariance_.shape == (k, k)
    assert np.all(np.isfinite(model.covariance_.to_numpy()))
    assert np.all(np.linalg.eigvalsh(model.covariance_.to_numpy()) > 0)
    assert model.aic_ == pytest.approx(2 * k - 2 * model.log_likelihood_)
    assert model.bic_ == pytest.approx(k * np.log(model.n_customers_) - 2 * model.log_likelihood_)
    table = model.summary()
    assert list(table.columns) == ["estimate", "std_error", "lower 95%", "upper 95%"]
    assert table.loc["log_likelihood", "estimate"] == model.log_likelihood_
    est = table.loc[list(model.param_names)]
    assert ((est["lower 95%"] < est["estimate"]) & (est["estimate"] < est["upper 95%"])).all()


@pytest.mark.parametrize("model_cls", ALL_MODELS)
def test_fit_is_deterministic_and_refit_overwrites(model_cls, cdnow_summary, donations):
    data = _data_for(model_cls, cdnow_summary, donations)
    check_refit_overwrites(model_cls, data, model_cls().fit(data))


@pytest.mark.parametrize("model_cls", ALL_MODELS)
def test_weights_equal_repeated_rows(model_cls, cdnow_summary, donations):
    data = _data_for(model_cls, cdnow_summary, donations)
    weighted, plain = check_weights_equal_repeated_rows(
        lambda d, **kw: model_cls().fit(d, **kw), data, list(model_cls.data_columns)
    )
    assert weighted.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-9)


@pytest.mark.parametrize("model_cls", TRANSACTION_MODELS)
def test_predictions_before_fit_raise(model_cls, cdnow_summary):
    model = model_cls()
    with pytest.raises(NotFittedError, match="not fitted"):
        model.predict_purchases(cdnow_summary, 10)
    with pytest.raises(NotFittedError):
        model.predict_p_alive(cdnow_summary)
    with pytest.raises(NotFittedError):
        model.expected_purchases(10)
    with pytest.raises(NotFittedError):
        model.summary()


def test_spend_prediction_before_fit_raises(cdnow_summary):
    with pytest.raises(NotFittedError):
        clvlab.GammaGamma().predict_spend(cdnow_summary)


@pytest.mark.parametrize("model_cls", TRANSACTION_MODELS)
def test_predictions_are_series_by_customer_and_finite(model_cls, cdnow_summary):
    model = model_cls().fit(cdnow_summary)
    for pred in (
        model.predict_purchases(cdnow_summary, 39.0),
        model.predict_p_alive(cdnow_summary),
        model.predict_purchase_probability(cdnow_summary, 39.0, 2),
    ):
        assert isinstance(pred, pd.Series)
        assert pred.index.equals(cdnow_summary.index)
        assert np.all(np.isfinite(pred.to_numpy()))
    p_alive = model.predict_p_alive(cdnow_summary)
    assert ((p_alive >= 0) & (p_alive <= 1)).all()
    t = np.array([1.0, 10.0, 52.0])
    ex = model.expected_purchases(t)
    assert ex.shape == (3,)
    assert np.all(np.diff(ex) > 0)
    pmf = model.purchase_count_pmf(39.0, np.arange(200))
    assert pmf.sum() == pytest.approx(1.0, abs=1e-6)
    # The mean of the pmf is E[X(t)].
    assert (np.arange(200) * pmf).sum() == pytest.approx(float(model.expected_purchases(39.0)), rel=1e-5)


@pytest.mark.parametrize("model_cls", TRANSACTION_MODELS)
def test_time_unit_mismatch_is_an_error(model_cls, cdnow_summary):
    model = model_cls().fit(cdnow_summary)
    assert model.time_unit_ == "W"
    days = cdnow_summary.copy()
    days[["recency", "T"]] *= 7
    days.attrs["time_unit"] = "D"
    with pytest.raises(DataError, match=r"time unit 'D'.*fitted in 'W'"):
        model.predict_purchases(days, 10)


@pytest.mark.parametrize("model_cls", TRANSACTION_MODELS)
def test_bad_summaries_and_arguments_raise_data_error(model_cls, cdnow_summary):
    model = model_cls()
    bad = cdnow_summary.copy()
    bad.loc[1, "recency"] = 100.0
    with pytest.raises(DataError, match="recency exceeds T"):
        model.fit(bad)
    model.fit(cdnow_summary)
    with pytest.raises(DataError, match="t must be finite and non-negative"):
        model.predict_purchases(cdnow_summary, -1)
    with pytest.raises(DataError, match="n must be a non-negative whole number"):
        model.predict_purchase_probability(cdnow_summary, 1.0, 1.5)
    with pytest.raises(DataError, match="weights must have one value per customer"):
        model_cls().fit(cdnow_summary, weights=[1.0, 2.0])


@pytest.mark.parametrize("model_cls", TRANSACTION_MODELS)
def test_simulate_is_seeded(model_cls, cdnow_summary):
    model = model_cls().fit(cdnow_summary)
    a = model.simulate(39.0, size=500, seed=1)
    b = model.simulate(39.0, size=500, seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["frequency", "recency", "T"]
    assert ((a["recency"] <= a["T"]) & (a["recency"] >= 0)).all()
    assert ((a["frequency"] == 0) == (a["recency"] == 0)).all()
    assert a.attrs["time_unit"] == "W"


def test_penalizer_shrinks_parameters(cdnow_summary):
    plain = clvlab.BetaGeo().fit(cdnow_summary)
    shrunk = clvlab.BetaGeo(penalizer=0.1).fit(cdnow_summary)
    assert float((shrunk.params_**2).sum()) < float((plain.params_**2).sum())
    assert shrunk.log_likelihood_ < plain.log_likelihood_
    with pytest.raises(ValueError, match="penalizer must be a non-negative number"):
        clvlab.BetaGeo(penalizer=-1).fit(cdnow_summary)


def test_polars_summary_gives_identical_fit(cdnow_summary):
    pl = pytest.importorskip("polars")
    frame = pl.from_dict({c: cdnow_summary[c].to_numpy() for c in ["frequency", "recency", "T"]})
    a = clvlab.BetaGeo().fit(cdnow_summary)
    b = clvlab.BetaGeo().fit(frame)
    pd.testing.assert_series_equal(a.params_, b.params_)
