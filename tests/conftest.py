"""Shared fixtures: the bundled data sets and their standard CDNOW summaries."""

from __future__ import annotations

import pandas as pd
import pytest

import clvlab

# The standard CDNOW split (tests/references.md [CDNOW-SPLIT]): calibration weeks 1-39 ending 1997-09-30,
# holdout weeks 40-78 ending 1998-06-30, time in weeks of 7 days.
CDNOW_CALIBRATION_END = "1997-09-30"
CDNOW_OBSERVATION_END = "1998-06-30"


@pytest.fixture(scope="session")
def cdnow_log() -> pd.DataFrame:
    return clvlab.datasets.load_cdnow_transactions()


@pytest.fixture
def cdnow_log_copy(cdnow_log: pd.DataFrame) -> pd.DataFrame:
    return cdnow_log.copy()


@pytest.fixture(scope="session")
def cdnow_summary(cdnow_log: pd.DataFrame) -> pd.DataFrame:
    """CDNOW calibration summary in weeks, with monetary value (Hardie's summary file)."""
    return clvlab.rfm_summary(
        cdnow_log,
        monetary_value="amount",
        observation_end=CDNOW_CALIBRATION_END,
        time_unit="W",
        drop_after_end=True,
    )


@pytest.fixture(scope="session")
def cdnow_split(cdnow_log: pd.DataFrame) -> pd.DataFrame:
    return clvlab.calibration_holdout_split(
        cdnow_log,
        monetary_value="amount",
        calibration_end=CDNOW_CALIBRATION_END,
        observation_end=CDNOW_OBSERVATION_END,
        time_unit="W",
    )


@pytest.fixture(scope="session")
def cdnow_cohorts(cdnow_log: pd.DataFrame) -> pd.DataFrame:
    """The CDNOW calibration summary with each customer's acquisition month (``cohort``: Jan, Feb, Mar)."""
    first = cdnow_log.sort_values(["customer_id", "date"]).groupby("customer_id")["date"].first()
    customers = pd.DataFrame(
        {"cohort": first.dt.month.map({1: "Jan", 2: "Feb", 3: "Mar"})}, index=first.index
    )
    return clvlab.rfm_summary(
        cdnow_log,
        monetary_value="amount",
        observation_end=CDNOW_CALIBRATION_END,
        time_unit="W",
        drop_after_end=True,
        customers=customers,
    )
