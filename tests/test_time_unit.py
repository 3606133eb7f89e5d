"""A summary's time unit travels with it (attrs, Parquet metadata, a time_unit column) and is checked.

The issue's reproduction: a daily CDNOW summary scored by a weekly BG/NBD gave a mean CLV of 4.77 instead
of 29.22 with no error. A unit that disagrees with the model's is a DataError naming both; a summary that
records no unit is scored in the model's unit with a ClvlabWarning naming ``attrs["time_unit"]``.
"""

from __future__ import annotations

import pandas as pd
import pytest

import clvlab
from clvlab.data.validation import summary_time_unit

VALUE = {"horizon": 52, "discount_rate": 0.1, "discount_period": 52}


@pytest.fixture(scope="module")
def log():
    return clvlab.datasets.load_cdnow_transactions()


@pytest.fixture(scope="module")
def weekly(log):
    summary = clvlab.rfm_summary(log, monetary_value="amount", time_unit="W")
    return summary, clvlab.BetaGeo().fit(summary), clvlab.GammaGamma().fit(summary)


@pytest.fixture(scope="module")
def daily(log):
    return clvlab.rfm_summary(log, monetary_value="amount", time_unit="D")


def test_daily_summary_and_weekly_model_is_refused(weekly, daily):
    summary, bg, gg = weekly
    assert clvlab.predict_customer_value(bg, gg, summary, **VALUE)["clv"].mean() == pytest.approx(
        29.22, abs=0.01
    )
    with pytest.raises(clvlab.DataError, match=r"time unit 'D' but BetaGeo was fitted in 'W'"):
        clvlab.predict_customer_value(bg, gg, daily, **VALUE)
    with pytest.raises(clvlab.DataError, match=r"'D'.*'W'"):
        bg.predict_p_alive(daily)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_unit_survives_files(fmt, weekly, daily, tmp_path):
    summary, bg, gg = weekly
    if fmt == "parquet":
        # pandas keeps attrs in the Parquet file's metadata.
        daily.to_parquet(tmp_path / "d.parquet")
        summary.to_parquet(tmp_path / "w.parquet")
        back_d, back_w = pd.read_parquet(tmp_path / "d.parquet"), pd.read_parquet(tmp_path / "w.parquet")
    else:
        # CSV has no metadata: a time_unit column carries the unit.
        daily.assign(time_unit="D").to_csv(tmp_path / "d.csv")
        summary.assign(time_unit="W").to_csv(tmp_path / "w.csv")
        back_d = pd.read_csv(tmp_path / "d.csv", index_col="customer_id")
        back_w = pd.read_csv(tmp_path / "w.csv", index_col="customer_id")
        assert back_d.attrs == {}
    assert summary_time_unit(back_d) == "D"
    assert summary_time_unit(back_w) == "W"
    with pytest.raises(clvlab.DataError, match=r"'D'.*'W'"):
        clvlab.predict_customer_value(bg, gg, back_d, **VALUE)
    table = clvlab.predict_customer_value(bg, gg, back_w, **VALUE)
    expected = clvlab.predict_customer_value(bg, gg, summary, **VALUE)
    pd.testing.assert_series_equal(table["clv"], expected["clv"], check_exact=False, rtol=1e-12)


def test_summary_without_unit_warns_and_is_not_modified(weekly):
    summary, bg, gg = weekly
    bare = pd.DataFrame(
        summary[["frequency", "recency", "T", "monetary_value"]].to_numpy(), index=summary.index
    )
    bare.columns = ["frequency", "recency", "T", "monetary_value"]
    assert bare.attrs == {}
    before = bare.copy()
    with pytest.warns(clvlab.ClvlabWarning, match=r"attrs\['time_unit'\].*'W'"):
        p = bg.predict_p_alive(bare)
    with pytest.warns(clvlab.ClvlabWarning, match=r"attrs\['time_unit'\]"):
        table = clvlab.predict_customer_value(bg, gg, bare, **VALUE)
    assert bare.attrs == {}  # the caller's frame is never modified
    pd.testing.assert_frame_equal(bare, before)
    pd.testing.assert_series_equal(p, bg.predict_p_alive(summary), check_names=False)
    assert table["clv"].mean() == pytest.approx(29.22, abs=0.01)
    # Stating the unit silences the warning.
    labelled = bare.copy()
    labelled.attrs["time_unit"] = "W"
    bg.predict_p_alive(labelled)


def test_a_model_without_unit_scores_any_summary_silently(weekly):
    summary, bg, _ = weekly
    bare = summary[["frequency", "recency", "T"]].copy()
    bare.attrs = {}
    unitless = clvlab.BetaGeo.from_params(bg.params_.to_dict())
    assert unitless.time_unit_ is None
    unitless.predict_p_alive(bare)  # no warning: neither side states a unit (filterwarnings = error)
    unitless.predict_p_alive(summary)


def test_inconsistent_unit_records_are_refused(weekly):
    summary, bg, _ = weekly
    mixed = summary.assign(time_unit=["W"] * (len(summary) - 1) + ["D"])
    with pytest.raises(clvlab.DataError, match=r"several units \['D', 'W'\]"):
        bg.predict_p_alive(mixed)
    clash = summary.assign(time_unit="D")  # attrs say W
    with pytest.raises(clvlab.DataError, match=r"column says 'D' but its attrs\['time_unit'\] says 'W'"):
        bg.predict_p_alive(clash)
    assert "time_unit" not in summary.columns
