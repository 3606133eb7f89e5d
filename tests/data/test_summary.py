from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clvlab
from clvlab import DataError
from tests._oracles import lifetimes

from ..conftest import CDNOW_CALIBRATION_END


# --- Reference values -------------------------------------------------------------------------------
def test_cdnow_calibration_summary_matches_hardie(cdnow_summary):
    s = cdnow_summary
    # tests/references.md [CDNOW-CAL-SUMMARY] (Hardie's summary file): 2,357 customers; sum of x = 2,457;
    # 1,411 with x = 0.
    assert len(s) == 2357
    assert s["frequency"].sum() == 2457
    assert (s["frequency"] == 0).sum() == 1411
    # tests/references.md [CDNOW-CUSTOMER-1]: customer 1: x = 2, t_x = 30.43, T = 38.86, zbar = 22.35.
    np.testing.assert_allclose(s.loc[1].to_numpy(), [2, 30.43, 38.86, 22.35], atol=0.005)
    assert s.attrs["time_unit"] == "W"
    assert list(s.columns) == ["frequency", "recency", "T", "monetary_value"]
    assert s.index.name == "customer_id"
    # tests/references.md [CDNOW-CAL-SUMMARY]: the 946 customers with repeat purchases (Gamma-Gamma sample).
    assert (s["frequency"] > 0).sum() == 946


def test_time_units_are_fractional_and_exact(cdnow_log):
    by_day = clvlab.rfm_summary(cdnow_log, observation_end="1997-09-30", drop_after_end=True)
    for unit, days in {"W": 7.0, "M": 365.25 / 12, "Y": 365.25}.items():
        s = clvlab.rfm_summary(cdnow_log, observation_end="1997-09-30", drop_after_end=True, time_unit=unit)
        np.testing.assert_allclose(s["recency"], by_day["recency"] / days, rtol=1e-15)
        np.testing.assert_allclose(s["T"], by_day["T"] / days, rtol=1e-15)
        assert s.attrs["time_unit"] == unit
    # 1997-01-01 .. 1997-09-30 is 272 days.
    assert by_day.loc[1, "T"] == 272.0


def _lifetimes_summary(log, **kw):
    summary_data_from_transaction_data = lifetimes("summary_data_from_transaction_data", "lifetimes.utils")
    return summary_data_from_transaction_data(log, "customer_id", "date", freq="D", **kw)


def _assert_same_as_lifetimes(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert ours.index.tolist() == theirs.index.tolist()
    for col in ["frequency", "recency", "T"]:
        np.testing.assert_array_equal(ours[col].to_numpy(), theirs[col].to_numpy(), err_msg=col)
    if "monetary_value" in theirs:
        np.testing.assert_allclose(ours["monetary_value"], theirs["monetary_value"], rtol=1e-12, atol=1e-12)


def test_agrees_with_lifetimes_on_cdnow_sample(cdnow_log):
    ours = clvlab.rfm_summary(
        cdnow_log, monetary_value="amount", observation_end="1997-09-30", drop_after_end=True
    )
    theirs = _lifetimes_summary(cdnow_log, monetary_value_col="amount", observation_period_end="1997-09-30")
    _assert_same_as_lifetimes(ours, theirs)


def test_agrees_with_lifetimes_on_full_cdnow_master():
    # tests/references.md [DATA-CDNOW-MASTER]: the full CDNOW master log (23,570 customers, 69,659 rows)
    # as shipped inside lifetimes (test oracle).
    load_dataset = lifetimes("load_dataset", "lifetimes.datasets")

    master = load_dataset("CDNOW_master.txt", header=0, sep=r"\s+")
    master.columns = ["customer_id", "date", "quantity", "amount"]
    master["date"] = pd.to_datetime(master["date"].astype(str), format="%Y%m%d")
    assert len(master) == 69659
    ours = clvlab.rfm_summary(master, monetary_value="amount")
    theirs = _lifetimes_summary(master, monetary_value_col="amount")
    assert len(ours) == 23570
    _assert_same_as_lifetimes(ours, theirs)
    ours_all = clvlab.rfm_summary(master, monetary_value="amount", include_first_transaction=True)
    theirs_all = _lifetimes_summary(master, monetary_value_col="amount", include_first_transaction=True)
    _assert_same_as_lifetimes(ours_all, theirs_all)


ID_KINDS = {
    "small ints": lambda i: i,
    "sparse big ints": lambda i: i * 10**15 - 7 * 10**15,
    "strings": lambda i: f"cust-{i:03d}",
}


@st.composite
def transaction_logs(draw):
    n = draw(st.integers(1, 60))
    kind = draw(st.sampled_from(sorted(ID_KINDS)))
    ids = [ID_KINDS[kind](i) for i in draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))]
    days = draw(st.lists(st.integers(0, 400), min_size=n, max_size=n))
    hours = draw(st.lists(st.integers(0, 23), min_size=n, max_size=n))
    cents = draw(st.lists(st.integers(1, 100_000), min_size=n, max_size=n))
    base = pd.Timestamp("2020-02-27")
    return pd.DataFrame(
        {
            "customer_id": ids,
            "date": [base + pd.Timedelta(days=d, hours=h) for d, h in zip(days, hours, strict=True)],
            "amount": np.array(cents) / 100.0,
        }
    )


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(log=transaction_logs(), extra_days=st.integers(0, 30), first=st.booleans())
def test_agrees_with_lifetimes_on_random_logs(log, extra_days, first):
    end = (log["date"].max() + pd.Timedelta(days=extra_days)).normalize()
    before = log.copy()
    ours = clvlab.rfm_summary(
        log, monetary_value="amount", observation_end=end, include_first_transaction=first
    )
    theirs = _lifetimes_summary(
        log, monetary_value_col="amount", observation_period_end=end, include_first_transaction=first
    )
    _assert_same_as_lifetimes(ours, theirs)
    pd.testing.assert_frame_equal(log, before)


def test_unpackable_keys_take_the_argsort_path(cdnow_log, monkeypatch):
    from clvlab.data import summary as summary_module

    kw = {"monetary_value": "amount", "time_unit": "W"}
    packed = clvlab.rfm_summary(cdnow_log, **kw)
    packed_split = clvlab.calibration_holdout_split(cdnow_log, calibration_end="1997-09-30", **kw)
    monkeypatch.setattr(summary_module, "_PACK_BITS", 0)
    pd.testing.assert_frame_equal(clvlab.rfm_summary(cdnow_log, **kw), packed)
    pd.testing.assert_frame_equal(
        clvlab.calibration_holdout_split(cdnow_log, calibration_end="1997-09-30", **kw), packed_split
    )


# --- Conventions --------------------------------------------------------------------------------------
def test_same_day_purchases_are_one_occasion():
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b"],
            "date": ["2021-01-01 09:00", "2021-01-01 18:00", "2021-01-08", "2021-01-15", "2021-01-10"],
            "amount": [10.0, 5.0, 20.0, 40.0, 7.0],
        }
    )
    s = clvlab.rfm_summary(log, monetary_value="amount", observation_end="2021-01-22")
    # a: occasions on days 0 (15.0), 7 (20.0), 14 (40.0); repeat mean (20 + 40) / 2.
    assert s.loc["a"].tolist() == [2.0, 14.0, 21.0, 30.0]
    assert s.loc["b"].tolist() == [0.0, 0.0, 12.0, 0.0]
    s_all = clvlab.rfm_summary(log, monetary_value="amount", include_first_transaction=True)
    assert s_all.loc["a", "frequency"] == 3.0
    assert s_all.loc["a", "monetary_value"] == 25.0
    weeks = clvlab.rfm_summary(log, time_unit="W", observation_end="2021-01-22")
    assert weeks.loc["a"].tolist() == [2.0, 2.0, 3.0]
    assert "monetary_value" not in weeks


def test_date_types_give_identical_summaries():
    base = pd.DataFrame(
        {"customer_id": [1, 1, 2, 2, 1], "amount": [1.0, 2.0, 3.0, 4.0, 5.0]},
    )
    stamps = pd.to_datetime(
        ["2022-03-01 23:30", "2022-03-05", "2022-03-02", "2022-04-01", "2022-04-10"], format="mixed"
    )
    expected = clvlab.rfm_summary(base.assign(date=stamps), monetary_value="amount")
    variants = {
        "strings": base.assign(
            date=["2022-03-01 23:30", "2022-03-05", "2022-03-02", "2022-04-01", "2022-04-10"]
        ),
        "date objects": base.assign(date=[t.date() for t in stamps]),
        "tz-aware": base.assign(date=stamps.tz_localize("America/New_York")),
        "tz-aware, other zone": base.assign(date=stamps.tz_localize("Asia/Tokyo")),
        "seconds resolution": base.assign(date=stamps.astype("datetime64[s]")),
    }
    for name, log in variants.items():
        pd.testing.assert_frame_equal(clvlab.rfm_summary(log, monetary_value="amount"), expected, obj=name)


def test_timezone_aware_dates_keep_the_local_calendar_day():
    # 23:30 in New York on March 1st is March 2nd in UTC: the local day must count.
    log = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "date": pd.to_datetime(["2022-03-01 23:30", "2022-03-02 00:10"]).tz_localize("America/New_York"),
        }
    )
    s = clvlab.rfm_summary(log)
    assert s.loc[1].tolist() == [1.0, 1.0, 1.0]


def test_polars_input_gives_identical_results(cdnow_log):
    pl = pytest.importorskip("polars")
    frame = pl.from_dict({c: cdnow_log[c].to_numpy() for c in cdnow_log.columns})
    kw = {"monetary_value": "amount", "time_unit": "W"}
    pd.testing.assert_frame_equal(clvlab.rfm_summary(frame, **kw), clvlab.rfm_summary(cdnow_log, **kw))
    split_kw = {**kw, "calibration_end": CDNOW_CALIBRATION_END}
    pd.testing.assert_frame_equal(
        clvlab.calibration_holdout_split(frame, **split_kw),
        clvlab.calibration_holdout_split(cdnow_log, **split_kw),
    )
    tz = frame.with_columns(pl.col("date").dt.replace_time_zone("Europe/Paris"))
    pd.testing.assert_frame_equal(clvlab.rfm_summary(tz, **kw), clvlab.rfm_summary(cdnow_log, **kw))


def test_caller_frame_is_never_mutated(cdnow_log_copy):
    before = cdnow_log_copy.copy(deep=True)
    clvlab.rfm_summary(cdnow_log_copy, monetary_value="amount", time_unit="W")
    clvlab.calibration_holdout_split(cdnow_log_copy, monetary_value="amount", calibration_end="1997-09-30")
    pd.testing.assert_frame_equal(cdnow_log_copy, before)


def test_returns_are_netted_only_when_allowed():
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "date": ["2021-01-01", "2021-01-05", "2021-01-05"],
            "amount": [10.0, 30.0, -5.0],
        }
    )
    with pytest.raises(DataError, match=r"negative amounts.*row 2.*allow_returns=True"):
        clvlab.rfm_summary(log, monetary_value="amount")
    s = clvlab.rfm_summary(log, monetary_value="amount", allow_returns=True)
    assert s.loc[1, "monetary_value"] == 25.0


def test_observation_end_defaults_to_last_date_and_late_rows_are_an_error(cdnow_log):
    s = clvlab.rfm_summary(cdnow_log)
    # 1997-01-01 .. 1998-06-30 is 545 days.
    assert s.loc[1, "T"] == 545.0
    with pytest.raises(DataError, match=r"fall after observation_end 1997-09-30.*drop_after_end=True"):
        clvlab.rfm_summary(cdnow_log, observation_end="1997-09-30")


def test_customers_first_seen_after_the_end_are_left_out():
    log = pd.DataFrame({"customer_id": [1, 2], "date": ["2021-01-01", "2021-03-01"]})
    s = clvlab.rfm_summary(log, observation_end="2021-02-01", drop_after_end=True)
    assert s.index.tolist() == [1]


# --- Bad input ----------------------------------------------------------------------------------------
def _log(**overrides):
    data = {
        "customer_id": [1, 2, 3],
        "date": ["2021-01-01", "2021-01-02", "2021-01-03"],
        "amount": [1.0, 2.0, 3.0],
    }
    data.update(overrides)
    return pd.DataFrame(data)


@pytest.mark.parametrize(
    ("log", "kwargs", "pattern"),
    [
        (_log().drop(columns="date"), {}, r"missing column\(s\) \['date'\]"),
        (_log().iloc[:0], {}, r"empty"),
        (
            _log(customer_id=[1, None, 3]),
            {},
            r"'customer_id' has null customer ids: 1 row\(s\), first at row 1",
        ),
        (
            _log(date=["2021-01-01", "not a date", "2021-01-03"]),
            {},
            r"unparseable dates.*row 1.*'not a date'",
        ),
        (_log(date=["2021-01-01", None, "2021-01-03"]), {}, r"missing dates.*row 1"),
        (_log(date=[20210101, 20210102, 20210103]), {}, r"holds numbers"),
        (_log(amount=["1", "2", "3"]), {"monetary_value": "amount"}, r"'amount' must be numeric"),
        (_log(amount=[1.0, np.nan, 3.0]), {"monetary_value": "amount"}, r"NaN or infinite amounts.*row 1"),
        (_log(amount=[1.0, 2.0, np.inf]), {"monetary_value": "amount"}, r"NaN or infinite amounts.*row 2"),
        (_log(), {"time_unit": "fortnight"}, r"time_unit must be one of"),
        (_log(), {"observation_end": "yesterday-ish"}, r"observation_end is not a date"),
        (_log(), {"observation_end": "2020-01-01"}, r"before the first transaction"),
        (_log(), {"monetary_value": "date"}, r"must name different columns"),
        ([1, 2, 3], {}, r"must be a pandas or polars DataFrame"),
    ],
)
def test_bad_logs_raise_data_error(log, kwargs, pattern):
    with pytest.raises(DataError, match=pattern):
        clvlab.rfm_summary(log, **kwargs)


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


def test_python_dates_and_datetimes_accepted():
    log = pd.DataFrame({"customer_id": [1, 1], "date": [dt.date(2021, 1, 1), dt.datetime(2021, 1, 3, 12)]})
    assert clvlab.rfm_summary(log).loc[1].tolist() == [1.0, 2.0, 2.0]
