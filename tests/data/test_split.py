import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab import DataError

from ..conftest import CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END


def test_cdnow_holdout_totals(cdnow_split, cdnow_summary):
    # tests/references.md [CDNOW-HOLDOUT-COUNTS]: 1,882 repeat transactions in the holdout (weeks 40-78),
    # 2,457 in calibration.
    assert cdnow_split["frequency_holdout"].sum() == 1882
    assert cdnow_split["frequency"].sum() == 2457
    assert (cdnow_split["duration_holdout"] == 39.0).all()
    # The calibration part is the calibration summary itself.
    pd.testing.assert_frame_equal(cdnow_split[cdnow_summary.columns], cdnow_summary)
    assert cdnow_split.attrs["time_unit"] == "W"


def test_holdout_matches_an_independent_groupby(cdnow_log, cdnow_split):
    daily = cdnow_log.groupby(["customer_id", cdnow_log["date"].dt.normalize()])["amount"].sum().reset_index()
    hold = daily[(daily["date"] > CDNOW_CALIBRATION_END) & (daily["date"] <= CDNOW_OBSERVATION_END)]
    g = hold.groupby("customer_id")["amount"]
    count = g.size().reindex(cdnow_split.index, fill_value=0)
    mean = g.mean().reindex(cdnow_split.index, fill_value=0.0)
    np.testing.assert_array_equal(cdnow_split["frequency_holdout"], count.to_numpy(float))
    np.testing.assert_allclose(cdnow_split["monetary_value_holdout"], mean.to_numpy(), rtol=1e-12)


def test_customers_first_seen_in_holdout_are_left_out():
    log = pd.DataFrame(
        {
            "customer_id": ["old", "old", "new", "new"],
            "date": ["2021-01-01", "2021-02-10", "2021-02-05", "2021-02-20"],
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    split = clvlab.calibration_holdout_split(
        log,
        calibration_end="2021-01-31",
        observation_end="2021-02-28",
        monetary_value="amount",
        time_unit="W",
    )
    assert split.index.tolist() == ["old"]
    assert split.loc["old", "frequency_holdout"] == 1.0
    assert split.loc["old", "monetary_value_holdout"] == 2.0
    assert split.loc["old", "duration_holdout"] == 4.0  # 28 days


@pytest.mark.parametrize("calibration_end", ["1996-12-31", "1998-06-30", "1999-01-01"])
def test_calibration_end_outside_the_log_is_an_error(cdnow_log, calibration_end):
    with pytest.raises(DataError, match="calibration_end"):
        clvlab.calibration_holdout_split(cdnow_log, calibration_end=calibration_end)


def test_transactions_after_observation_end_are_an_error_unless_dropped(cdnow_log):
    with pytest.raises(DataError, match="after observation_end"):
        clvlab.calibration_holdout_split(
            cdnow_log, calibration_end="1997-09-30", observation_end="1998-01-31"
        )
    split = clvlab.calibration_holdout_split(
        cdnow_log, calibration_end="1997-09-30", observation_end="1998-01-31", drop_after_end=True
    )
    assert split["frequency_holdout"].sum() < 1882
