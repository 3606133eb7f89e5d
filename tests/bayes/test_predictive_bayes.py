"""Predictive intervals of a Bayesian model (issue 19): the conditional pmf averaged over posterior draws.

Uses the saved posterior of ``files/bgnbd_pymc5.nc`` (a Bayesian BG/NBD of the CDNOW calibration period,
200 draws; see ``test_stacks.py``), so no sampling runs here. Coverage bounds as in
``tests/test_predictive.py``: 0.85 to 0.99 for a 90% interval of counts (bounds are whole numbers, so
the interval holds at least 90% under the model).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import clvlab

pytest.importorskip("pymc")
pytest.importorskip("clvlab.bayes")

FILE = Path(__file__).parent / "files" / "bgnbd_pymc5.nc"


def test_posterior_predictive_intervals_cover_cdnow_holdout_purchases(cdnow_split):
    model = clvlab.load(FILE)
    t = float(cdnow_split["duration_holdout"].iloc[0])
    actual = cdnow_split["frequency_holdout"].to_numpy()
    pred = model.predict_purchases(cdnow_split, t, interval=0.9, interval_kind="predictive")
    par = model.predict_purchases(cdnow_split, t, interval=0.9)
    assert pred.attrs == {"interval": 0.9, "interval_kind": "predictive"}
    assert par.attrs == {"interval": 0.9, "interval_kind": "parameter"}
    np.testing.assert_allclose(pred["expected_purchases"], par["expected_purchases"], rtol=1e-12)

    def coverage(frame):
        lower, upper = frame.iloc[:, 1].to_numpy(), frame.iloc[:, 2].to_numpy()
        return float(np.mean((actual >= lower) & (actual <= upper)))

    assert 0.85 <= coverage(pred) <= 0.99
    assert coverage(par) < 0.05
    total = clvlab.predict_total_purchases(model, cdnow_split, t, interval_kind="predictive")
    assert total.expected == pytest.approx(float(par["expected_purchases"].sum()))
    assert total.lower < total.expected < total.upper
    with pytest.raises(clvlab.DataError, match="return_draws"):
        model.predict_purchases(cdnow_split, t, interval=0.9, interval_kind="predictive", return_draws=True)
