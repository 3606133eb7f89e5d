"""The estimator contract (tests/_contract.py) holds for the contractual models too."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlab.models.bdw import BetaDiscreteWeibull
from clvlab.models.sbg import ShiftedBetaGeometric
from tests._contract import (
    check_fit_returns_self_without_mutating,
    check_hyperparameters_only,
    check_refit_overwrites,
    check_weights_equal_repeated_rows,
)

MODELS = [ShiftedBetaGeometric, BetaDiscreteWeibull]


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    """3,000 subscribers observed for 6 to 30 months (an unbalanced panel, as in a real log)."""
    truth = ShiftedBetaGeometric.from_params({"gamma": 0.8, "delta": 2.0}, time_unit="M")
    n_periods = np.random.default_rng(4).integers(6, 31, 3000)
    return truth.simulate(n_periods, seed=4)


@pytest.mark.parametrize("cls", MODELS)
def test_hyperparameters_only(cls):
    check_hyperparameters_only(cls(), f"{cls.__name__}(penalizer=0.0)", "penalizer", 0.01)


@pytest.mark.parametrize("cls", MODELS)
def test_fit_returns_self_without_mutating(cls, simulated):
    model = check_fit_returns_self_without_mutating(cls(), simulated)
    assert model.time_unit_ == "M"


@pytest.mark.parametrize("cls", MODELS)
def test_refit_overwrites(cls, simulated):
    check_refit_overwrites(cls, simulated, cls().fit(simulated))


@pytest.mark.parametrize("cls", MODELS)
def test_weights_equal_repeated_rows(cls, simulated):
    weighted, _ = check_weights_equal_repeated_rows(
        lambda data, **kw: cls().fit(data, **kw), simulated, ["duration", "churned"]
    )
    assert weighted.time_unit_ == "M"
