"""clvlab.acquisition_value: what a new customer is worth per profile, against its acquisition cost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab import DataError
from clvlab.formulas import bgnbd, pareto_nbd
from clvlab.models._covariates import row_params

KW = {"discount_rate": 0.1, "discount_period": 52}


@pytest.fixture(scope="module")
def cohorts(cdnow_cohorts):
    return cdnow_cohorts


@pytest.mark.parametrize(
    ("model_cls", "simulate"), [(clvlab.BetaGeo, bgnbd.simulate), (clvlab.ParetoNBD, pareto_nbd.simulate)]
)
def test_expected_new_customer_purchases_match_simulation(model_cls, simulate, cohorts):
    model = model_cls(purchase_covariates=["cohort"], dropout_covariates=["cohort"]).fit(cohorts)
    gg = clvlab.GammaGamma().fit(cohorts)
    profiles = pd.DataFrame({"cohort": ["Jan", "Mar"]})
    table = clvlab.acquisition_value(model, gg, profiles, horizon=52)
    links, sizes = model._covariate_layout()
    z = model.covariate_columns(profiles)
    rng = np.random.default_rng(11)
    n = 200_000
    for i in range(len(profiles)):
        params = row_params(model.params_.to_numpy(), 4, links, sizes, [c[i] for c in z])
        x, _ = simulate(*params, np.full(n, 52.0), rng)
        se = x.std() / np.sqrt(n)
        assert abs(x.mean() - table["expected_repeat_purchases"].iloc[i]) < 4 * se
    # Undiscounted: the value is the spend times the first purchase and the expected repeats.
    assert np.allclose(
        table["value"], table["expected_spend"] * (1.0 + table["expected_repeat_purchases"]), rtol=1e-12
    )


def test_discounting_equals_a_fine_sum_and_payback_reaches_the_cost(cdnow_summary):
    bg, gg = clvlab.BetaGeo().fit(cdnow_summary), clvlab.GammaGamma().fit(cdnow_summary)
    table = clvlab.acquisition_value(bg, gg, horizon=104, acquisition_cost=60.0, **KW)
    assert list(table.index) == ["population"]
    # int_0^H exp(-delta t) dE[X(t)] by a fine midpoint sum of the increments.
    delta = np.log1p(0.1) / 52
    grid = np.linspace(0, 104, 200_001)
    e = bg.expected_purchases(grid)
    mid = 0.5 * (grid[1:] + grid[:-1])
    brute = 1.0 + np.sum(np.exp(-delta * mid) * np.diff(e))
    assert table["discounted_purchases"].iloc[0] == pytest.approx(brute, rel=1e-8)
    assert table["expected_spend"].iloc[0] == pytest.approx(gg.expected_spend(), rel=1e-12)
    t = table["payback_horizon"].iloc[0]
    assert 0 < t < 104
    at_t = clvlab.acquisition_value(bg, gg, horizon=t, **KW)["value"].iloc[0]
    assert at_t == pytest.approx(60.0, rel=1e-7)
    assert table["value_to_cac"].iloc[0] == pytest.approx(table["value"].iloc[0] / 60.0)
    # A cost the first purchase covers pays back at once; one never reached gives inf.
    costs = clvlab.acquisition_value(
        bg, gg, pd.DataFrame({"c": [1.0, 1e6]}), horizon=104, acquisition_cost="c", **KW
    )
    assert costs["payback_horizon"].tolist() == [0.0, np.inf]


def test_profiles_of_a_covariate_model_equal_the_homogeneous_model_at_their_parameters(cohorts):
    bg = clvlab.BetaGeo(purchase_covariates=["cohort"], dropout_covariates=["cohort"]).fit(cohorts)
    gg = clvlab.GammaGamma(spend_covariates=["cohort"]).fit(cohorts)
    profiles = pd.DataFrame({"cohort": ["Feb", "Jan", "Mar"], "cac": [10.0, 20.0, 30.0]})
    table = clvlab.acquisition_value(
        bg, gg, profiles, horizon=np.inf, acquisition_cost="cac", interval=0.9, n_draws=100, **KW
    )
    assert list(table.columns[:2]) == ["cohort", "cac"]
    assert "expected_repeat_purchases" not in table.columns  # not reported over an unbounded horizon
    links, sizes = bg._covariate_layout()
    s_links, s_sizes = gg._covariate_layout()
    z, zs = bg.covariate_columns(profiles), gg.covariate_columns(profiles)
    for i in range(3):
        own = row_params(bg.params_.to_numpy(), 4, links, sizes, [c[i] for c in z])
        s_own = row_params(gg.params_.to_numpy(), 3, s_links, s_sizes, [c[i] for c in zs])
        ref = clvlab.acquisition_value(
            clvlab.BetaGeo.from_params(dict(zip(bg.param_names, own, strict=True)), time_unit="W"),
            clvlab.GammaGamma.from_params(dict(zip(gg.param_names, s_own, strict=True)), time_unit="W"),
            horizon=np.inf,
            **KW,
        )
        assert table["value"].iloc[i] == pytest.approx(ref["value"].iloc[0], rel=1e-12)
        assert table["value_lower"].iloc[i] < table["value"].iloc[i] < table["value_upper"].iloc[i]


def test_refusals(cohorts, cdnow_summary):
    bg = clvlab.BetaGeo(purchase_covariates=["cohort"]).fit(cohorts)
    gg = clvlab.GammaGamma().fit(cohorts)
    with pytest.raises(DataError, match="pass profiles="):
        clvlab.acquisition_value(bg, gg, horizon=52)
    with pytest.raises(DataError, match="lack covariate column"):
        clvlab.acquisition_value(bg, gg, pd.DataFrame({"region": ["x"]}), horizon=52)
    with pytest.raises(DataError, match="not fitted with"):
        clvlab.acquisition_value(bg, gg, pd.DataFrame({"cohort": ["Apr"]}), horizon=52)
    plain = clvlab.BetaGeo().fit(cdnow_summary)
    with pytest.raises(DataError, match="non-negative"):
        clvlab.acquisition_value(plain, gg, horizon=52, acquisition_cost=-1.0)
    with pytest.raises(DataError, match="lacks"):
        clvlab.acquisition_value(plain, gg, horizon=52, acquisition_cost="cac")
    with pytest.raises(DataError, match="infinite horizon"):
        clvlab.acquisition_value(plain, gg, horizon=np.inf)
    with pytest.raises(TypeError, match="spend"):
        clvlab.acquisition_value(plain, plain, horizon=52)
