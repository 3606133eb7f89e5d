"""Estimator-contract checks shared by the maximum-likelihood and the Bayesian contract tests.

``tests/models/test_contract.py`` and ``tests/bayes/test_contract.py`` run these on their own model lists,
so both families are held to the same checks, written once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest


def check_hyperparameters_only(model: Any, expected_repr: str, set_name: str, set_value: Any) -> None:
    """Constructor state: hyperparameters only, a readable repr; ``set_params`` returns self, checks names."""
    assert not [k for k in vars(model) if k.endswith("_")]
    assert repr(model) == expected_repr
    assert model.set_params(**{set_name: set_value}) is model
    assert getattr(model, set_name) == set_value
    with pytest.raises(ValueError, match="no hyperparameter"):
        model.set_params(learning_rate=1)


def check_fit_returns_self_without_mutating(model: Any, data: pd.DataFrame) -> Any:
    """``fit`` returns the model, leaves the caller's frame unchanged and learns positive parameters."""
    before = data.copy(deep=True)
    assert model.fit(data) is model
    pd.testing.assert_frame_equal(data, before)  # never mutate the caller's frame
    assert list(model.params_.index) == list(model.param_names)
    assert (model.params_ > 0).all()
    return model


def check_refit_overwrites(make: Callable[[], Any], data: pd.DataFrame, reference: Any) -> Any:
    """A model refitted after a fit on other data equals a fresh fit (``reference``) exactly."""
    model = make()
    model.fit(data.sample(frac=0.5, random_state=0))
    assert model.fit(data) is model
    pd.testing.assert_series_equal(model.params_, reference.params_, check_exact=True)
    assert model.n_customers_ == reference.n_customers_
    return model


def check_weights_equal_repeated_rows(
    fit: Callable[..., Any], data: pd.DataFrame, columns: list[str]
) -> tuple[Any, Any]:
    """Fitting distinct rows with counts as ``weights`` equals fitting the repeated rows."""
    sample = data.sample(n=800, random_state=1)
    agg = sample.groupby(columns).size().rename("n").reset_index()
    agg.attrs = sample.attrs
    weighted = fit(agg, weights="n")
    plain = fit(sample)
    np.testing.assert_allclose(weighted.params_, plain.params_, rtol=1e-6)
    assert weighted.n_customers_ == plain.n_customers_
    return weighted, plain
