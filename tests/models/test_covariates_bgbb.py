"""Covariates in the BG/BB (issue 17): beta_i = beta exp(-g_p' z_i), delta_i = delta exp(-g_d' z_i)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab.covariates import Design
from clvlab.formulas import bgbb
from clvlab.models import _covariates
from clvlab.models._covariates import covariate_total_and_grad, row_params

BASE = np.array([1.2, 0.75, 0.66, 2.8])  # alpha, beta, gamma, delta (FHS 2010's donations, rounded)


def _simulate(n: int, coefs: np.ndarray, seed: int) -> pd.DataFrame:
    """Customers with two binary attributes each on the purchase and the drop-out process."""
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, size=(n, 2)).astype(float)
    beta = BASE[1] * np.exp(-(z @ coefs[:2]))
    delta = BASE[3] * np.exp(-(z @ coefs[2:]))
    n_periods = rng.integers(4, 12, size=n).astype(float)
    x, t_x = bgbb.simulate(np.full(n, BASE[0]), beta, np.full(n, BASE[2]), delta, n_periods, rng)
    return pd.DataFrame(
        {"frequency": x, "recency": t_x, "n_periods": n_periods, "web": z[:, 0], "female": z[:, 1]},
        index=pd.RangeIndex(n, name="customer_id"),
    )


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    return _simulate(20_000, np.array([0.5, -0.3, -0.4, 0.3]), seed=11)


def test_coefficients_are_recovered_within_three_standard_errors(simulated):
    coefs = np.array([0.5, -0.3, -0.4, 0.3])
    model = clvlab.BetaGeoBetaBinom(
        purchase_covariates=["web", "female"], dropout_covariates="~ web + female"
    )
    model.fit(simulated)
    names = [f"{p}:{c}" for p in ("purchase", "dropout") for c in ("web", "female")]
    assert list(model.params_.index[4:]) == names
    # Each estimate within 3 standard errors of the truth (see the BG/NBD twin in test_covariates.py).
    se = np.sqrt(np.diag(model._log_covariance))
    working = np.concatenate([np.log(model.params_.to_numpy()[:4]), model.params_.to_numpy()[4:]])
    truth = np.concatenate([np.log(BASE), coefs])
    z = (working - truth) / se
    assert np.all(np.abs(z) < 3), dict(zip(model.params_.index, z.round(2), strict=True))


@pytest.mark.parametrize("max_patterns", [256, 0])  # per covariate pattern, and per row
def test_gradient_is_exact(simulated, max_patterns, monkeypatch):
    monkeypatch.setattr(_covariates, "MAX_PATTERNS", max_patterns)
    model = clvlab.BetaGeoBetaBinom()
    data = simulated.head(3_000)
    _, z = Design.fit(["web", "female"], data, "purchase")
    cols = tuple(data[c].to_numpy(dtype=float) for c in model.data_columns)
    names = list(model.param_names)
    links = {
        p: tuple((names.index(k), s) for k, s in model.covariate_links[p]) for p in ("purchase", "dropout")
    }
    sizes = [("purchase", 2), ("dropout", 2)]
    zz = np.column_stack([z, z])
    fn = covariate_total_and_grad(
        model._total_and_grad, model.formulas.loglik_and_grad, cols, zz, np.ones(len(z)), 4, links, sizes
    )
    theta = np.array([1.1, 0.8, 0.7, 2.5, 0.3, -0.2, -0.1, 0.25])
    total, grad = fn(theta)
    # The total is the per-customer likelihood at each customer's own parameters ...
    per_row = row_params(theta, 4, links, sizes, tuple(zz.T))
    assert total == pytest.approx(float(np.sum(model.formulas.loglik(*per_row, *cols))), rel=1e-10)
    # ... whose parameters follow the documented links.
    np.testing.assert_allclose(per_row[1], 0.8 * np.exp(-(z @ theta[4:6])), rtol=1e-14)
    np.testing.assert_allclose(per_row[3], 2.5 * np.exp(-(z @ theta[6:8])), rtol=1e-14)
    for j in range(len(theta)):
        h = 1e-6 * max(abs(theta[j]), 1.0)
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        numeric = (fn(up)[0] - fn(down)[0]) / (2 * h)
        assert grad[j] == pytest.approx(numeric, rel=1e-5, abs=1e-4), j


def test_predictions_equal_a_plain_model_at_each_customers_parameters(simulated, tmp_path):
    data = simulated.head(4_000)
    model = clvlab.BetaGeoBetaBinom(purchase_covariates=["web"], dropout_covariates=["female"]).fit(data)
    est = model.params_
    expected_p, expected_alive = np.empty(len(data)), np.empty(len(data))
    for web in (0.0, 1.0):
        for female in (0.0, 1.0):
            rows = ((data["web"] == web) & (data["female"] == female)).to_numpy()
            plain = clvlab.BetaGeoBetaBinom()
            plain.params_ = pd.Series(
                [
                    est["alpha"],
                    est["beta"] * np.exp(-est["purchase:web"] * web),
                    est["gamma"],
                    est["delta"] * np.exp(-est["dropout:female"] * female),
                ],
                index=list(plain.param_names),
            )
            expected_p[rows] = plain.predict_purchases(data[rows], 5).to_numpy()
            expected_alive[rows] = plain.predict_p_alive(data[rows]).to_numpy()
    np.testing.assert_allclose(model.predict_purchases(data, 5).to_numpy(), expected_p, rtol=1e-12)
    np.testing.assert_allclose(model.predict_p_alive(data).to_numpy(), expected_alive, rtol=1e-12)
    # The covariates travel with the model file; scoring data need the attribute columns.
    again = clvlab.load(model.save(tmp_path / "bgbb.json"))
    np.testing.assert_array_equal(again.predict_purchases(data, 5).to_numpy(), expected_p)
    with pytest.raises(clvlab.DataError, match="web"):
        again.predict_purchases(data.drop(columns="web"), 5)
