"""The grouped maximum-likelihood fast paths equal the per-customer reference formulas."""

import numpy as np
import pytest

from clvlab.formulas import bgnbd, mbgnbd
from clvlab.models._fitting import deduplicate


@pytest.mark.parametrize("module", [bgnbd, mbgnbd])
@pytest.mark.parametrize(
    "params", [(0.2426, 4.4135, 0.7929, 2.4258), (2.5, 0.3, 0.2, 0.4), (0.05, 300.0, 5.0, 0.7)]
)
def test_fast_path_equals_reference(module, params):
    rng = np.random.default_rng(7)
    n = 5000
    T = np.round(rng.uniform(0, 400, n), 1)
    x = rng.poisson(rng.gamma(0.5, 4.0, n)).astype(float)
    heavy = rng.random(n) < 0.01
    x[heavy] = rng.integers(500, 10_000, int(heavy.sum()))
    t_x = np.where(x > 0, np.round(rng.uniform(0, 1, n) * T, 1), 0.0)
    t_x[: n // 10] = np.where(x[: n // 10] > 0, T[: n // 10], 0.0)  # recency = T
    w = rng.integers(1, 5, n).astype(float)
    d = deduplicate([x, t_x, T], w)
    total, grad = module.fit_loglik_and_grad(*params, module.prepare_fit(*d.columns, d.weights))
    ll, grads = module.loglik_and_grad(*params, *d.columns)
    assert total == pytest.approx(float(d.weights @ ll), rel=1e-12)
    np.testing.assert_allclose(grad, [d.weights @ g for g in grads], rtol=1e-10)
