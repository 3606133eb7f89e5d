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


def test_posterior_predictive_clv_bounds_cover_cdnow_holdout_spend(cdnow_split):
    import clvlab.bayes as cb

    bg = clvlab.load(FILE)
    gg = cb.GammaGamma(draws=200, tune=300, progressbar=False).fit(cdnow_split)
    actual = (cdnow_split["frequency_holdout"] * cdnow_split["monetary_value_holdout"]).to_numpy()
    t = float(cdnow_split["duration_holdout"].iloc[0])
    kw = {"horizon": t, "interval": 0.9}
    pred = clvlab.customer_lifetime_value(bg, gg, cdnow_split, interval_kind="predictive", **kw)
    par = clvlab.customer_lifetime_value(bg, gg, cdnow_split, **kw)
    # The posterior mean over all draws, whatever the interval and its kind (the bounds pair the
    # two posteriors' draws; the point does not).
    none = clvlab.customer_lifetime_value(bg, gg, cdnow_split, horizon=t)  # a Series without bounds
    np.testing.assert_allclose(pred["clv"], none, rtol=1e-12)
    np.testing.assert_allclose(par["clv"], none, rtol=1e-12)
    lower, upper = pred["clv_lower"].to_numpy(), pred["clv_upper"].to_numpy()
    covered = float(np.mean((actual >= lower) & (actual <= upper)))
    # As for the maximum-likelihood models (tests/test_predictive.py: 0.931 there): about 90%; the
    # posterior (parameter-only) bounds cover almost no customer's own spend.
    assert 0.85 <= covered <= 0.99, covered
    p_lower, p_upper = par["clv_lower"].to_numpy(), par["clv_upper"].to_numpy()
    assert float(np.mean((actual >= p_lower) & (actual <= p_upper))) < 0.05
