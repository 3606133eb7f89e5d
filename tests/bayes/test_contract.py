"""The estimator contract of ``tests/models/test_contract.py``, on the Bayesian models (issue 16).

Fitted by ``method="map"`` (the posterior mode as one draw: the same code paths as NUTS after sampling,
in about a second). Each check of the maximum-likelihood contract is here, parametrised over
``clvlab.bayes.BetaGeo``, ``ParetoNBD`` and ``GammaGamma``; a check that does not apply to a Bayesian
model is a parameter skipped with its reason, so the test report lists it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab import DataError, NotFittedError
from clvlab.draws import HasDraws, model_draws
from tests._contract import (
    check_fit_returns_self_without_mutating,
    check_hyperparameters_only,
    check_refit_overwrites,
    check_weights_equal_repeated_rows,
)

pytest.importorskip("pymc")
cb = pytest.importorskip("clvlab.bayes")

FAST = {"method": "map", "progressbar": False}
TRANSACTION_MODELS = [cb.BetaGeo, cb.ParetoNBD]
ALL_MODELS = [*TRANSACTION_MODELS, cb.GammaGamma]


def _skipped(reason: str) -> list[object]:
    return [pytest.param(cls, marks=pytest.mark.skip(reason=reason)) for cls in ALL_MODELS]


def _fit(model_cls: type, data: pd.DataFrame, **kwargs: object) -> object:
    return model_cls(**FAST).fit(data, **kwargs)


@pytest.fixture(scope="module")
def fitted(cdnow_summary):
    return {cls: _fit(cls, cdnow_summary) for cls in ALL_MODELS}


@pytest.mark.parametrize("model_cls", ALL_MODELS)
def test_constructor_holds_hyperparameters_only(model_cls):
    model = model_cls(**FAST)
    assert model.get_params() == model_cls().get_params() | FAST
    check_hyperparameters_only(model, f"{model_cls.__name__}(method='map', progressbar=False)", "draws", 50)


@pytest.mark.parametrize("model_cls", ALL_MODELS)
def test_fit_returns_self_and_learned_state_ends_in_underscore(model_cls, cdnow_summary):
    data = cdnow_summary
    model = model_cls(**FAST)
    hyper = model._hyperparameter_names()  # get_params() leaves out unset covariate arguments
    check_fit_returns_self_without_mutating(model, data)
    public = {k for k in vars(model) if not k.startswith("_")}
    assert public - hyper == {"idata_", "params_", "n_customers_", "time_unit_"}
    # Gamma-Gamma is fitted to the customers with repeat purchases, as its maximum-likelihood twin.
    assert model.n_customers_ == model_cls.mle_class().fit(data).n_customers_
    assert model.param_draws().shape == (1, len(model.param_names))  # MAP: the mode as one draw
    # summary() is not called here: on a one-draw (MAP) posterior ArviZ's sd warns "Degrees of freedom
    # <= 0" (tests/bayes/test_bayes.py checks it on a NUTS posterior).


@pytest.mark.parametrize(
    "model_cls",
    _skipped(
        "maximum-likelihood outputs: a Bayesian model has no covariance_, log_likelihood_, aic_, bic_ or "
        "confidence-interval summary(); its uncertainty is the posterior (summary() is ArviZ's table, "
        "checked in test_bayes.py on a NUTS fit)"
    ),
)
def test_fit_returns_self_with_fitted_attributes(model_cls):
    raise AssertionError("not applicable")  # pragma: no cover


@pytest.mark.parametrize("model_cls", ALL_MODELS)
def test_fit_is_deterministic_and_refit_overwrites(model_cls, cdnow_summary, fitted):
    model = check_refit_overwrites(lambda: model_cls(**FAST), cdnow_summary, fitted[model_cls])
    np.testing.assert_array_equal(model.param_draws(), fitted[model_cls].param_draws())


@pytest.mark.parametrize("model_cls", ALL_MODELS)
def test_weights_equal_repeated_rows(model_cls, cdnow_summary):
    check_weights_equal_repeated_rows(
        lambda d, **kw: _fit(model_cls, d, **kw), cdnow_summary, list(model_cls.mle_class.data_columns)
    )


@pytest.mark.parametrize("model_cls", TRANSACTION_MODELS)
def test_predictions_before_fit_raise(model_cls, cdnow_summary, tmp_path):
    model = model_cls(**FAST)
    with pytest.raises(NotFittedError, match="not fitted"):
        model.predict_purchases(cdnow_summary, 10)
    with pytest.raises(NotFittedError):
        model.predict_p_alive(cdnow_summary)
    with pytest.raises(NotFittedError):
        model.expected_purchases(10)
    with pytest.raises(NotFittedError):
        model.summary()
    with pytest.raises(NotFittedError):
        model.model_draws()
    with pytest.raises(NotFittedError):
        model.save(tmp_path / "m.nc")


def test_spend_prediction_before_fit_raises(cdnow_summary):
    with pytest.raises(NotFittedError):
        cb.GammaGamma(**FAST).predict_spend(cdnow_summary)
    with pytest.raises(NotFittedError):
        cb.GammaGamma(**FAST).expected_spend()


def _predictions(model, data: pd.DataFrame) -> dict[str, pd.Series]:
    if isinstance(model, cb.GammaGamma):
        return {"spend": model.predict_spend(data)}
    return {
        "purchases": model.predict_purchases(data, 39.0),
        "p_alive": model.predict_p_alive(data),
        "probability": model.predict_purchase_probability(data, 39.0, 2),
    }


@pytest.mark.parametrize("model_cls", ALL_MODELS)
def test_predictions_are_series_by_customer_and_finite(model_cls, cdnow_summary, fitted):
    model = fitted[model_cls]
    for pred in _predictions(model, cdnow_summary).values():
        assert isinstance(pred, pd.Series)
        assert pred.index.equals(cdnow_summary.index)
        assert np.all(np.isfinite(pred.to_numpy()))
    if model_cls is cb.GammaGamma:
        assert np.isfinite(model.expected_spend())
        return
    p_alive = model.predict_p_alive(cdnow_summary)
    assert ((p_alive >= 0) & (p_alive <= 1)).all()
    ex = model.expected_purchases(np.array([1.0, 10.0, 52.0]))
    assert ex.shape == (3,)
    assert np.all(np.diff(ex) > 0)
    # With one draw (the mode) a Bayesian prediction is the maximum-likelihood twin's formula at it.
    twin = model.mle_class.from_params(model.params_.to_dict(), time_unit="W")
    np.testing.assert_allclose(p_alive, twin.predict_p_alive(cdnow_summary), rtol=1e-12)


@pytest.mark.parametrize(
    "model_cls",
    _skipped(
        "purchase_count_pmf and simulate are offered by the maximum-likelihood models only (the "
        "Bayesian ones predict per customer over the posterior; their mle_class twin simulates)"
    ),
)
def test_purchase_count_pmf_and_simulate(model_cls):
    raise AssertionError("not applicable")  # pragma: no cover


@pytest.mark.parametrize("model_cls", ALL_MODELS)
def test_time_unit_mismatch_is_an_error(model_cls, cdnow_summary, fitted):
    model = fitted[model_cls]
    assert model.time_unit_ == "W"
    days = cdnow_summary.copy()
    days[["recency", "T"]] *= 7
    days.attrs["time_unit"] = "D"
    with pytest.raises(DataError, match=r"time unit 'D'.*fitted in 'W'"):
        next(iter(_predictions(model, days).values()))


@pytest.mark.parametrize("model_cls", TRANSACTION_MODELS)
def test_bad_summaries_and_arguments_raise_data_error(model_cls, cdnow_summary, fitted):
    bad = cdnow_summary.copy()
    bad.loc[1, "recency"] = 100.0
    with pytest.raises(DataError, match="recency exceeds T"):
        model_cls(**FAST).fit(bad)
    model = fitted[model_cls]
    with pytest.raises(DataError, match="t must be finite and non-negative"):
        model.predict_purchases(cdnow_summary, -1)
    with pytest.raises(DataError, match="n must be a non-negative whole number"):
        model.predict_purchase_probability(cdnow_summary, 1.0, 1.5)
    with pytest.raises(DataError, match="weights must have one value per customer"):
        model_cls(**FAST).fit(cdnow_summary, weights=[1.0, 2.0])


@pytest.mark.parametrize("model_cls", ALL_MODELS)
def test_save_and_load_round_trip(model_cls, cdnow_summary, fitted, tmp_path):
    model = fitted[model_cls]
    path = model.save(tmp_path / "model.nc")
    again = clvlab.load(path)
    assert type(again) is model_cls
    assert again.get_params() == model.get_params()
    assert (again.time_unit_, again.n_customers_) == (model.time_unit_, model.n_customers_)
    np.testing.assert_array_equal(again.param_draws(), model.param_draws())
    for name, pred in _predictions(model, cdnow_summary).items():
        pd.testing.assert_series_equal(_predictions(again, cdnow_summary)[name], pred, check_exact=True)


@pytest.mark.parametrize("model_cls", ALL_MODELS)
def test_model_draws_seam(model_cls, fitted):
    model = fitted[model_cls]
    assert isinstance(model, HasDraws)
    md = model.model_draws()
    assert md.model is model
    assert md.bayesian
    assert md.name == f"Bayesian {model_cls.__name__}"
    assert md.time_unit == "W"
    assert isinstance(md.mle, model_cls.mle_class)
    np.testing.assert_array_equal(md.draws(10, seed=0), model.param_draws())  # all posterior draws
    np.testing.assert_array_equal(md.point_params(), model.param_draws())
    role = "spend" if model_cls is cb.GammaGamma else "transaction"
    assert md.role == role
    assert model_draws(model, role).model is model
    with pytest.raises(TypeError, match="this needs a clvlab"):
        model_draws(model, "transaction" if role == "spend" else "spend")
