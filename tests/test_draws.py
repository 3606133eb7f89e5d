"""The draws seam (clvlab.draws): every fitted model, either family, is seen the same way by consumers."""

from __future__ import annotations

import numpy as np
import pytest

import clvlab
from clvlab.draws import HasDraws, ModelDraws, model_draws

MLE = [clvlab.BetaGeo, clvlab.ModifiedBetaGeo, clvlab.ParetoNBD]


@pytest.mark.parametrize("cls", MLE)
def test_a_fitted_mle_model_is_one_draw_for_points_and_asymptotic_draws_for_bounds(cls, cdnow_summary):
    model = cls().fit(cdnow_summary)
    assert isinstance(model, HasDraws)
    md = model_draws(model, "transaction")
    assert isinstance(md, ModelDraws)
    assert not md.bayesian
    assert md.role == "transaction"
    assert md.mle is model
    np.testing.assert_array_equal(md.point_params(), np.asarray(model._theta)[None, :])
    draws = md.draws(50, 0)
    assert draws.shape == (50, len(cls.param_names))
    np.testing.assert_array_equal(draws, model.param_draws(50, 0))
    assert md.time_unit == "W"


def test_spend_and_discrete_models_state_their_role(cdnow_summary):
    gg = clvlab.GammaGamma().fit(cdnow_summary)
    assert model_draws(gg, "spend").role == "spend"
    with pytest.raises(TypeError, match="transaction_model: this needs a clvlab transaction model"):
        model_draws(gg, "transaction", "transaction_model")
    assert clvlab.BetaGeoBetaBinom.discrete
    assert not clvlab.BetaGeo.discrete


def test_anything_else_is_refused_and_unfitted_models_say_so():
    with pytest.raises(TypeError, match="spend_model: expected a fitted clvlab model, got dict"):
        model_draws({"p": 1.0}, "spend", "spend_model")
    with pytest.raises(clvlab.NotFittedError):
        model_draws(clvlab.BetaGeo())


def test_a_bayesian_model_is_its_posterior_draws_for_points_and_bounds(cdnow_summary):
    cb = pytest.importorskip("clvlab.bayes")
    model = cb.BetaGeo(method="map", progressbar=False).fit(cdnow_summary)
    md = model_draws(model, "transaction")
    assert md.bayesian
    assert md.name == "Bayesian BetaGeo"
    np.testing.assert_array_equal(md.point_params(), model.param_draws())
    np.testing.assert_array_equal(md.draws(10, 0), model.param_draws())  # n_draws is the posterior's own
    assert type(md.mle) is clvlab.BetaGeo


def test_over_data_rows_equals_the_direct_evaluation(cdnow_summary, monkeypatch):
    # Distinct rows once and slices of rows (a tiny budget forces dozens of slices) change nothing.
    from clvlab import draws as draws_module
    from clvlab.formulas import bgnbd

    model = clvlab.BetaGeo().fit(cdnow_summary)
    draws = model.param_draws(64, 3)
    cols = tuple(cdnow_summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    direct = bgnbd.conditional_expected_purchases(*(draws[:, [j]] for j in range(4)), 39.0, *cols)
    monkeypatch.setattr(draws_module, "MEMORY_BUDGET", 64 * 50)
    (full,) = draws_module.over_data_rows(
        bgnbd.conditional_expected_purchases, draws, cols, (39.0,), len(cols[0]), keep_draws=True
    )
    np.testing.assert_allclose(full, direct, rtol=1e-13)  # to the last bits: the formulas group rows too
    mean, lower, upper = draws_module.over_data_rows(
        bgnbd.conditional_expected_purchases, draws, cols, (39.0,), len(cols[0]), interval=0.8
    )
    np.testing.assert_allclose(mean, direct.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(lower, np.quantile(direct, 0.1, axis=0), rtol=1e-13)
    np.testing.assert_allclose(upper, np.quantile(direct, 0.9, axis=0), rtol=1e-13)


def test_model_draws_of_a_bayesian_model_must_carry_its_posterior(cdnow_summary):
    model = clvlab.BetaGeo().fit(cdnow_summary)
    with pytest.raises(ValueError, match="posterior draws"):
        ModelDraws(model=model, mle=model, bayesian=True)
    with pytest.raises(ValueError, match="posterior draws"):
        ModelDraws(model=model, mle=model, bayesian=False, posterior=np.ones((2, 4)))
