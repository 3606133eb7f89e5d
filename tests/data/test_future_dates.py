"""Dates in the future (issue 15, item 4): future-dated transactions and observation ends are refused,
an observation end far beyond the last transaction is warned about; the standard usages stay silent."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest

import clvlab
import clvlab.data.summary as summary_module
from clvlab.cli import main
from clvlab.errors import ClvlabWarning, DataError
from clvlab.plotting._common import read_occasions

CAL_END, OBS_END = "1997-09-30", "1998-06-30"


@pytest.fixture
def today(monkeypatch):
    """Fix "today" to 2026-12-05 so the tests do not depend on the clock."""
    fixed = dt.date(2026, 12, 5)
    monkeypatch.setattr(summary_module, "_today", lambda: fixed)
    return fixed


def _with_rows(log: pd.DataFrame, rows: list[tuple[int, str]]) -> pd.DataFrame:
    extra = pd.DataFrame(
        {
            "customer_id": [c for c, _ in rows],
            "date": pd.to_datetime([d for _, d in rows]).astype(log["date"].dtype),
            "quantity": 1,
            "amount": 10.0,
        }
    )
    return pd.concat([log, extra], ignore_index=True)


def _readers(log: pd.DataFrame, **kw):
    """Every public reader of a log, each a callable taking the log."""
    return {
        "rfm_summary": lambda: clvlab.rfm_summary(log, monetary_value="amount", time_unit="W", **kw),
        "calibration_holdout_split": lambda: clvlab.calibration_holdout_split(
            log, monetary_value="amount", calibration_end=CAL_END, time_unit="W", **kw
        ),
        "describe_customers": lambda: clvlab.describe_customers(log, period="Q", **kw),
        "compare_simple_clv": lambda: clvlab.compare_simple_clv(
            log, None, None, calibration_end=CAL_END, time_unit="W", **kw
        ),
        "read_occasions": lambda: read_occasions(log, "customer_id", "date", kw.get("observation_end")),
    }


def test_one_future_row_is_refused_by_every_reader_naming_the_row(cdnow_log, today):
    log = _with_rows(cdnow_log, [(7, "2030-01-01")])
    before = log.copy()
    for read in _readers(log).values():
        with pytest.raises(
            DataError,
            match=r"column 'date' has 1 transaction\(s\) dated after today \(2026-12-05\): "
            r"row 6919 \(customer 7, 2030-01-01\)\..*Fix these dates.*drop those rows",
        ):
            read()
    pd.testing.assert_frame_equal(log, before)  # the caller's frame is untouched


def test_future_rows_are_refused_even_when_dropped_after_observation_end(cdnow_log, today):
    # A typo is an error whether or not the period would leave it out.
    log = _with_rows(cdnow_log, [(7, "2030-01-01")])
    with pytest.raises(DataError, match="dated after today"):
        clvlab.rfm_summary(log, observation_end=OBS_END, drop_after_end=True)
    with pytest.raises(DataError, match="dated after today"):
        clvlab.calibration_holdout_split(
            log, calibration_end=CAL_END, observation_end=OBS_END, drop_after_end=True
        )


def test_many_future_rows_show_the_count_and_the_first_five(cdnow_log, today):
    rows = [(100 + i, f"20{30 + i}-03-0{1 + i % 9}") for i in range(8)]
    log = _with_rows(cdnow_log, rows)
    with pytest.raises(DataError) as err:
        clvlab.rfm_summary(log)
    msg = str(err.value)
    assert "8 transaction(s) dated after today" in msg
    assert "row 6919 (customer 100, 2030-03-01)" in msg
    assert "row 6923 (customer 104, 2034-03-05)" in msg
    assert "customer 105" not in msg
    assert "and 3 more" in msg


def test_string_ids_string_dates_and_polars_name_the_rows(today):
    log = pd.DataFrame(
        {"cust": ["a", "b", "c"], "when": ["05/01/2020", "07/01/2020", "05/01/2031"], "x": [1.0, 2.0, 3.0]}
    )
    with pytest.raises(DataError, match=r"column 'when' has 1 .*row 2 \(customer 'c', 2031-01-05\)"):
        clvlab.rfm_summary(log, customer_id="cust", datetime="when", date_format="%d/%m/%Y")
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({"customer_id": [1, 2], "date": [dt.date(2020, 1, 1), dt.date(2099, 1, 1)]})
    with pytest.raises(DataError, match=r"row 1 \(customer 2, 2099-01-01\)"):
        clvlab.rfm_summary(frame)


def test_one_day_of_grace_for_time_zones_ahead(today):
    tomorrow, after = today + dt.timedelta(days=1), today + dt.timedelta(days=2)
    log = pd.DataFrame({"customer_id": [1, 1], "date": pd.to_datetime(["2026-01-01", str(tomorrow)])})
    s = clvlab.rfm_summary(log)
    assert s.loc[1, "T"] == (tomorrow - dt.date(2026, 1, 1)).days
    # A timezone-aware purchase made on the local day after tomorrow is refused.
    aware = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "date": pd.to_datetime(["2026-01-01 10:00", f"{after} 00:30"]).tz_localize("Pacific/Auckland"),
        }
    )
    with pytest.raises(DataError, match=rf"1 transaction\(s\) dated after today.*customer 2, {after}"):
        clvlab.rfm_summary(aware)
    assert clvlab.rfm_summary(log, observation_end=str(tomorrow)).loc[1, "frequency"] == 1
    with pytest.raises(DataError, match=rf"observation_end {after} is after today \({today}\)"):
        clvlab.rfm_summary(log, observation_end=str(after))


def test_injected_today_counts_the_rows_after_it(cdnow_log, monkeypatch):
    monkeypatch.setattr(summary_module, "_today", lambda: dt.date(1998, 6, 1))
    days = cdnow_log["date"].to_numpy().astype("datetime64[D]")
    expected = int((days > np.datetime64("1998-06-02")).sum())
    with pytest.raises(DataError, match=rf"has {expected} transaction\(s\) dated after today \(1998-06-01\)"):
        clvlab.rfm_summary(cdnow_log)


def test_observation_end_after_today_is_refused_naming_the_argument(cdnow_log, today):
    for end, fmt in [("2030-01-01", None), ("01/01/2030", "%d/%m/%Y"), (pd.Timestamp("2030-01-01"), None)]:
        kw = {"observation_end": end, "drop_after_end": True, "date_format": fmt}
        for name, read in _readers(cdnow_log, **kw).items():
            if name == "read_occasions" and fmt is not None:
                continue
            with pytest.raises(
                DataError,
                match=r"observation_end 2030-01-01 is after today \(2026-12-05\).*last transaction is on "
                r"1998-06-30.*leave observation_end out",
            ):
                read()


def test_observation_end_a_year_after_the_last_transaction_warns(cdnow_log, today):
    with pytest.warns(
        ClvlabWarning,
        match=r"observation_end 1999-06-30 is 365 days \(1.0 years\) after the log's last transaction "
        r"\(1998-06-30\).*typo in the year",
    ):
        s = clvlab.rfm_summary(cdnow_log, observation_end="1999-06-30", time_unit="W")
    assert s["T"].max() == pytest.approx((pd.Timestamp("1999-06-30") - pd.Timestamp("1997-01-01")).days / 7)
    with pytest.warns(ClvlabWarning, match=r"observation_end 2009-06-30 is 4018 days \(11.0 years\)"):
        clvlab.calibration_holdout_split(cdnow_log, calibration_end=CAL_END, observation_end="2009-06-30")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clvlab.rfm_summary(cdnow_log, observation_end="1999-06-29")  # 364 days: no warning


def test_standard_usages_stay_silent(cdnow_log):
    retail = clvlab.datasets.load_online_retail()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clvlab.rfm_summary(cdnow_log, monetary_value="amount", time_unit="W", observation_end=OBS_END)
        clvlab.calibration_holdout_split(
            cdnow_log,
            monetary_value="amount",
            calibration_end=CAL_END,
            observation_end=OBS_END,
            time_unit="W",
        )
        clvlab.rfm_summary(cdnow_log, observation_end=CAL_END, drop_after_end=True)
        clvlab.rfm_summary(retail, monetary_value="amount", time_unit="W", observation_end="2011-12-09")
        clvlab.calibration_holdout_split(retail, calibration_end="2011-09-09", observation_end="2011-12-09")
        clvlab.describe_customers(retail, period="M", observation_end="2011-12-09")


def test_command_line_refuses_with_one_line_and_exit_2(tmp_path, capsys, cdnow_log, today):
    base = ["run", "--no-plots", "--out-dir", str(tmp_path / "out"), "--models-dir", str(tmp_path / "m")]
    assert main([*base, "--observation-end", "2030-01-01"]) == 2
    err = capsys.readouterr().err.strip()
    assert "observation_end 2030-01-01 is after today" in err
    assert "\n" not in err
    path = tmp_path / "log.csv"
    _with_rows(cdnow_log, [(7, "2030-01-01")]).to_csv(path, index=False)
    assert main([*base, "--transactions", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "1 transaction(s) dated after today (2026-12-05): row 6919 (customer 7, 2030-01-01)" in err
    assert "\n" not in err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
