"""predict_purchases_and_p_alive gives the values of predict_purchases and predict_p_alive, in one pass."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab import DataError

# Published or CDNOW-like parameters (weeks; BG/BB: the donation data's scale).
PARAMS = {
    clvlab.BetaGeo: ({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, 39.0),
    clvlab.ParetoNBD: ({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, 39.0),
    clvlab.ModifiedBetaGeo: ({"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}, 39.0),
    clvlab.BetaGeoBetaBinom: ({"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}, 5.0),
}


@pytest.mark.parametrize("n", [500, 30_000])  # below and above the size where scoring groups rows
@pytest.mark.parametrize("model_cls", list(PARAMS))
def test_one_pass_equals_the_two_methods(model_cls, n):
    params, horizon = PARAMS[model_cls]
    unit = None if model_cls is clvlab.BetaGeoBetaBinom else "W"
    model = model_cls.from_params(params, time_unit=unit)
    rng = np.random.default_rng(1)
    ages = rng.integers(1, 40 if unit is None else 79, n).astype(float)
    data = model.simulate(ages, seed=2)
    both = model.predict_purchases_and_p_alive(data, horizon)
    assert list(both.columns) == ["expected_purchases", "p_alive"]
    pd.testing.assert_index_equal(both.index, data.index)
    np.testing.assert_array_equal(both["expected_purchases"], model.predict_purchases(data, horizon))
    np.testing.assert_array_equal(both["p_alive"], model.predict_p_alive(data))


def test_one_pass_checks_the_horizon():
    model = clvlab.BetaGeo.from_params(PARAMS[clvlab.BetaGeo][0], time_unit="W")
    data = model.simulate(np.full(10, 30.0), seed=0)
    with pytest.raises(DataError):
        model.predict_purchases_and_p_alive(data, -1.0)
    bgbb = clvlab.BetaGeoBetaBinom.from_params(PARAMS[clvlab.BetaGeoBetaBinom][0])
    with pytest.raises(DataError, match="whole number"):
        bgbb.predict_purchases_and_p_alive(bgbb.simulate(np.full(10, 6.0), seed=0), 2.5)
