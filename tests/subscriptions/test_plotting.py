"""Observed vs fitted survival and retention of a cohort (clvlab.plotting.retention)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from clvlab.data.subscriptions import survivors_to_summary
from clvlab.errors import DataError
from clvlab.models.bdw import BetaDiscreteWeibull
from clvlab.models.bgnbd import BetaGeo
from clvlab.models.sbg import ShiftedBetaGeometric
from clvlab.plotting.retention import plot_retention, plot_retention_data

# tests/references.md [SBG-FH2007-COHORTS]: FH 2007's regular cohort, years 0..12 (0..7 calibration).
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def model() -> ShiftedBetaGeometric:
    return ShiftedBetaGeometric().fit(survivors_to_summary(REGULAR[:8], period="Y"), weights="weights")


def test_retention_data_columns_and_numbers(model):
    data = plot_retention_data(model, REGULAR, calibration_periods=7)
    assert data.index.tolist() == list(range(13))
    np.testing.assert_allclose(data["actual_survival"], np.array(REGULAR) / 1000)
    np.testing.assert_allclose(data["expected_survival"], model.survival(np.arange(13)), rtol=1e-12)
    np.testing.assert_allclose(
        data["actual_retention"].iloc[1:], np.array(REGULAR[1:]) / np.array(REGULAR[:-1])
    )
    np.testing.assert_allclose(
        data["expected_retention"].iloc[1:], model.retention_rate(np.arange(1, 13)), rtol=1e-12
    )
    assert np.isnan(data["actual_retention"].iloc[0])
    assert data["holdout"].tolist() == [False] * 8 + [True] * 5
    # tests/references.md [SBG-FH2007-PROJECTION]: the holdout years stay within 2% of the actual shares
    hold = data[data["holdout"]]
    assert (np.abs(hold["expected_survival"] / hold["actual_survival"] - 1) < 0.02).all()
    assert data.attrs["time_unit"] == "Y"
    assert data.attrs["cohort_size"] == 1000
    assert data.attrs["model"] == "ShiftedBetaGeometric"


def test_retention_data_interval_and_horizon(model):
    data = plot_retention_data(model, REGULAR[:8], horizon=15, interval=0.9, seed=2)
    assert len(data) == 16
    assert data["actual_active"].iloc[8:].isna().all()
    inner = data.iloc[1:]
    assert (inner["expected_survival_lower"] < inner["expected_survival"]).all()
    assert (inner["expected_survival"] < inner["expected_survival_upper"]).all()
    assert (inner["expected_retention_lower"] < inner["expected_retention_upper"]).all()
    assert data["holdout"].tolist() == [False] * 8 + [True] * 8  # beyond the fitted periods


def test_bdw_retention_rate_curves(model):
    bdw = BetaDiscreteWeibull().fit(survivors_to_summary(REGULAR[:8], period="Y"), weights="weights")
    data = plot_retention_data(bdw, REGULAR, calibration_periods=7)
    np.testing.assert_allclose(data["expected_survival"], bdw.survival(np.arange(13)), rtol=1e-12)


def test_plot_retention_draws_the_data(model):
    ax = plot_retention(model, REGULAR, calibration_periods=7, interval=0.9)
    lines = ax.get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), np.array(REGULAR) / 1000)
    assert ax.get_xlabel() == "tenure (years)"
    ax = plot_retention(model, REGULAR, kind="retention")
    assert ax.get_ylabel() == "retention rate"


def test_errors(model):
    with pytest.raises(ValueError, match="kind"):
        plot_retention(model, REGULAR, kind="hazard")
    with pytest.raises(DataError, match="calibration_periods"):
        plot_retention_data(model, REGULAR, calibration_periods=20)
    with pytest.raises(DataError, match="must not increase"):
        plot_retention_data(model, [100, 120])
    bg = BetaGeo.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    with pytest.raises(TypeError, match="contractual model"):
        plot_retention_data(bg, REGULAR)
