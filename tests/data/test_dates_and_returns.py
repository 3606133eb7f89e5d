"""The transaction-log reading rules: string dates (date_format, day-first / month-first ambiguity, time
zones), returns netted against purchases, and one reader for every function that takes a log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab import DataError
from clvlab.plotting._common import read_occasions

DAY_FIRST_FORMATS = ["%d/%m/%Y", "%d.%m.%Y"]


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return clvlab.datasets.load_cdnow_transactions()


# --- dates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", DAY_FIRST_FORMATS)
def test_day_first_cdnow_is_refused_without_a_format_and_exact_with_it(cdnow, fmt):
    reference = clvlab.rfm_summary(cdnow, monetary_value="amount", time_unit="W")
    log = cdnow.copy()
    log["date"] = cdnow["date"].dt.strftime(fmt)
    before = log.copy()
    # The issue: read month-first, 2,521 rows got another date and T became 100.6 weeks, not 77.9.
    with pytest.raises(DataError, match=r"column 'date'.*date_format=") as info:
        clvlab.rfm_summary(log, monetary_value="amount", time_unit="W")
    assert fmt in str(info.value)  # the day-first format is suggested
    summary = clvlab.rfm_summary(log, monetary_value="amount", time_unit="W", date_format=fmt)
    pd.testing.assert_frame_equal(summary, reference)
    assert summary["T"].max() == pytest.approx(77.857, abs=1e-3)  # 545 days / 7
    pd.testing.assert_frame_equal(log, before)  # the caller's frame is untouched


def test_date_format_applies_to_split_and_its_string_ends(cdnow):
    reference = clvlab.calibration_holdout_split(
        cdnow,
        monetary_value="amount",
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        time_unit="W",
    )
    log = cdnow.assign(date=cdnow["date"].dt.strftime("%d/%m/%Y"))
    split = clvlab.calibration_holdout_split(
        log,
        monetary_value="amount",
        calibration_end="30/09/1997",
        observation_end="30/06/1998",
        time_unit="W",
        date_format="%d/%m/%Y",
    )
    pd.testing.assert_frame_equal(split, reference)


def test_ambiguous_string_observation_end_is_refused(cdnow):
    # "01/06/1998" is 1 June day-first but 6 January month-first.
    with pytest.raises(
        DataError, match=r"observation_end.*'01/06/1998'.*1998-06-01.*1998-01-06.*date_format"
    ):
        clvlab.rfm_summary(cdnow, observation_end="01/06/1998", drop_after_end=True)
    with_format = clvlab.rfm_summary(
        cdnow, observation_end="01/06/1998", drop_after_end=True, date_format="%d/%m/%Y"
    )
    iso = clvlab.rfm_summary(cdnow, observation_end="1998-06-01", drop_after_end=True)
    pd.testing.assert_frame_equal(with_format, iso)


def test_unambiguous_strings_need_no_format():
    # Every day is above 12, so each value has one reading (13 Jan, 20 Jan, 25 Feb).
    log = pd.DataFrame({"customer_id": [1, 1, 1], "date": ["13/01/2024", "20/01/2024", "25/02/2024"]})
    s = clvlab.rfm_summary(log)
    # occasions on days 0, 7 and 43 since 13 Jan: x = 2, t_x = 43, T = 43
    assert s.loc[1].tolist() == [2.0, 43.0, 43.0]
    # Named months and year-first slashes are unambiguous too.
    named = pd.DataFrame({"customer_id": [1, 1], "date": ["Jan 5, 2024", "Feb 1, 2024"]})
    assert clvlab.rfm_summary(named).loc[1, "recency"] == 27.0  # 26 days left in January + 1
    slashes = pd.DataFrame({"customer_id": [1, 1], "date": ["2024/01/05", "2024/02/01"]})
    assert clvlab.rfm_summary(slashes).loc[1, "recency"] == 27.0


def test_one_ambiguous_value_among_unambiguous_ones_is_refused():
    log = pd.DataFrame({"customer_id": [1, 1, 2], "date": ["13/01/2024", "20/01/2024", "03/04/2024"]})
    with pytest.raises(DataError, match=r"'03/04/2024' is 2024-04-03 day-first but 2024-03-04 month-first"):
        clvlab.rfm_summary(log)
    s = clvlab.rfm_summary(log, date_format="%d/%m/%Y")
    assert s.loc[2, "T"] == 0.0  # 3 April is the last day of the log


def test_date_format_mismatch_names_row_and_format():
    log = pd.DataFrame({"customer_id": [1, 2], "date": ["05/01/2024", "2024-01-06"]})
    with pytest.raises(DataError, match=r"not matching date_format '%d/%m/%Y'.*row 1.*'2024-01-06'"):
        clvlab.rfm_summary(log, date_format="%d/%m/%Y")


def test_date_format_is_ignored_for_datetime_columns(cdnow):
    pd.testing.assert_frame_equal(
        clvlab.rfm_summary(cdnow, date_format="%d/%m/%Y"), clvlab.rfm_summary(cdnow)
    )


def test_mixed_time_zone_offsets_are_read_by_local_day():
    # Local days 1 Jan and 3 Jan (recency 2); in UTC they would be 31 Dec 22:30 and 4 Jan 03:00 (4 days).
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "date": ["2024-01-01T00:30:00+02:00", "2024-01-03T22:00:00-05:00", "2024-01-03T10:00:00Z"],
        }
    )
    s = clvlab.rfm_summary(log)
    assert s.loc[1].tolist() == [1.0, 2.0, 2.0]
    assert s.loc[2].tolist() == [0.0, 0.0, 0.0]
    # The same with an explicit format holding %z, and with a naive value among aware ones.
    fmt = "%d/%m/%Y %H:%M%z"
    other = pd.DataFrame({"customer_id": [1, 1], "date": ["01/01/2024 00:30+0200", "03/01/2024 22:00-0500"]})
    assert clvlab.rfm_summary(other, date_format=fmt).loc[1, "recency"] == 2.0
    mixed = pd.DataFrame({"customer_id": [1, 1], "date": ["2024-01-01T23:00:00-05:00", "2024-01-03"]})
    assert clvlab.rfm_summary(mixed).loc[1, "recency"] == 2.0


def test_iso_strings_give_the_datetime_summary(cdnow):
    iso = cdnow.assign(date=cdnow["date"].dt.strftime("%Y-%m-%d"))
    pd.testing.assert_frame_equal(
        clvlab.rfm_summary(iso, monetary_value="amount"), clvlab.rfm_summary(cdnow, monetary_value="amount")
    )


def test_describe_customers_reads_dates_like_the_summary(cdnow):
    log = cdnow.assign(date=cdnow["date"].dt.strftime("%d.%m.%Y"))
    with pytest.raises(DataError, match="date_format"):
        clvlab.describe_customers(log, period="Q", observation_end="1998-06-30")
    got = clvlab.describe_customers(log, period="Q", observation_end="30.06.1998", date_format="%d.%m.%Y")
    want = clvlab.describe_customers(cdnow, period="Q", observation_end="1998-06-30")
    pd.testing.assert_frame_equal(got.customers, want.customers)
    pd.testing.assert_series_equal(got.metrics, want.metrics)


# --- one reader for every log ------------------------------------------------------------------------


def test_plotting_reader_refuses_transactions_after_the_end_like_the_summary(cdnow):
    with pytest.raises(DataError, match=r"fall after observation_end 1997-09-30.*drop_after_end=True"):
        clvlab.rfm_summary(cdnow, observation_end="1997-09-30")
    with pytest.raises(DataError, match=r"fall after observation_end 1997-09-30.*drop_after_end=True"):
        read_occasions(cdnow, "customer_id", "date", "1997-09-30")
    occ = read_occasions(cdnow, "customer_id", "date", "1997-09-30", drop_after_end=True)
    summary = clvlab.rfm_summary(cdnow, observation_end="1997-09-30", drop_after_end=True)
    # Same occasions: per customer, the number of occasions is frequency + 1, the first is the birth day.
    counts = pd.Series(1, index=occ.customer).groupby(level=0).sum()
    np.testing.assert_array_equal(counts.reindex(summary.index).to_numpy(), summary["frequency"] + 1)
    assert occ.end == (pd.Timestamp("1997-09-30") - pd.Timestamp("1970-01-01")).days
    assert np.all(occ.day >= occ.birth)


def test_plotting_reader_reads_dates_with_the_format(cdnow):
    log = cdnow.assign(date=cdnow["date"].dt.strftime("%d/%m/%Y"))
    with pytest.raises(DataError, match="date_format"):
        read_occasions(log, "customer_id", "date")
    a = read_occasions(log, "customer_id", "date", "30/06/1998", date_format="%d/%m/%Y")
    b = read_occasions(cdnow, "customer_id", "date", "1998-06-30")
    assert a.customer.equals(b.customer)
    np.testing.assert_array_equal(a.day, b.day)


# --- returns -----------------------------------------------------------------------------------------


def _log(rows: list[tuple[int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


def _summary(rows, **kwargs):
    return clvlab.rfm_summary(_log(rows), monetary_value="amount", allow_returns=True, **kwargs)


def test_issue_example_a_later_return_takes_back_the_latest_occasion():
    rows = [(1, "2024-01-01", 50.0), (1, "2024-01-10", 30.0), (1, "2024-01-15", -30.0)]
    s = _summary(rows)
    # The return takes back the 10 January occasion entirely: one occasion left (1 Jan, 50).
    # x = 0, t_x = 0, T = 15 Jan - 1 Jan = 14 days, repeat value 0 (was: x 2, t_x 14).
    assert s.loc[1].tolist() == [0.0, 0.0, 14.0, 0.0]
    s = _summary(rows, include_first_transaction=True)
    assert s.loc[1].tolist() == [1.0, 0.0, 14.0, 50.0]


def test_fully_refunded_first_purchase_is_no_occasion():
    rows = [
        (1, "2024-01-01", 50.0),
        (1, "2024-01-05", -50.0),
        (1, "2024-01-10", 20.0),
        (1, "2024-01-20", 40.0),
    ]
    s = _summary(rows, observation_end="2024-01-30")
    # Occasions left: 10 Jan (20) and 20 Jan (40). x = 1, t_x = 10, T = 30 Jan - 10 Jan = 20, value 40.
    assert s.loc[1].tolist() == [1.0, 10.0, 20.0, 40.0]


def test_return_larger_than_the_previous_occasion_reaches_the_one_before():
    rows = [
        (1, "2024-01-01", 50.0),
        (1, "2024-01-10", 30.0),
        (1, "2024-01-15", -40.0),
        (1, "2024-01-20", 25.0),
    ]
    # -40 takes back all 30 of 10 Jan, then 10 of 1 Jan: occasions 1 Jan (40) and 20 Jan (25).
    s = _summary(rows)
    assert s.loc[1].tolist() == [1.0, 19.0, 19.0, 25.0]
    s = _summary(rows, include_first_transaction=True)
    assert s.loc[1, "monetary_value"] == pytest.approx((40 + 25) / 2)  # 32.5


def test_same_day_purchase_and_return():
    # 10 Jan nets to 0: no occasion, the 1 Jan purchase is untouched.
    even = [(1, "2024-01-01", 50.0), (1, "2024-01-10", 30.0), (1, "2024-01-10", -30.0)]
    assert _summary(even, include_first_transaction=True).loc[1].tolist() == [1.0, 0.0, 9.0, 50.0]
    # 10 Jan nets to -10: a return of 10 taken from 1 Jan, which keeps 40.
    more = [(1, "2024-01-01", 50.0), (1, "2024-01-10", 30.0), (1, "2024-01-10", -40.0)]
    assert _summary(more, include_first_transaction=True).loc[1].tolist() == [1.0, 0.0, 9.0, 40.0]
    # 10 Jan nets to +5: an occasion of 5.
    less = [(1, "2024-01-01", 50.0), (1, "2024-01-10", 30.0), (1, "2024-01-10", -25.0)]
    assert _summary(less).loc[1].tolist() == [1.0, 9.0, 9.0, 5.0]


def test_return_beyond_everything_bought_is_not_carried_forward():
    rows = [
        (1, "2024-01-01", 20.0),
        (1, "2024-01-02", -50.0),
        (1, "2024-01-05", 30.0),
        (2, "2024-01-09", 10.0),
    ]
    s = _summary(rows, include_first_transaction=True)
    # -50 takes back the 20 of 1 Jan; the other 30 is not taken from the later 5 Jan purchase.
    # Customer 1 starts on 5 Jan: x 1 (counting the first), t_x 0, T = 9 Jan - 5 Jan = 4, value 30.
    assert s.loc[1].tolist() == [1.0, 0.0, 4.0, 30.0]


def test_returns_last_in_first_out_over_several_returns():
    rows = [
        (1, "2024-01-01", 10.0),
        (1, "2024-01-02", 20.0),
        (1, "2024-01-03", -25.0),  # takes 20 of 2 Jan, then 5 of 1 Jan -> 1 Jan keeps 5
        (1, "2024-01-04", 5.0),
        (1, "2024-01-05", -8.0),  # takes 5 of 4 Jan, then 3 of 1 Jan -> 1 Jan keeps 2
        (1, "2024-01-06", 7.0),
        (0, "2024-01-01", -5.0),  # a return before any purchase takes nothing back
        (0, "2024-01-02", 10.0),
        (0, "2024-01-03", -3.0),  # -> 2 Jan keeps 7
    ]
    s = _summary(rows, include_first_transaction=True)
    # Customer 1: occasions 1 Jan (2) and 6 Jan (7): 2 occasions, t_x 5, T 5, mean value 4.5.
    assert s.loc[1].tolist() == [2.0, 5.0, 5.0, 4.5]
    # Customer 0: one occasion, 2 Jan (7); T = 6 Jan - 2 Jan = 4.
    assert s.loc[0].tolist() == [1.0, 0.0, 4.0, 7.0]


def test_customer_who_returned_everything_is_left_out():
    rows = [(1, "2024-01-01", 10.0), (2, "2024-01-01", 15.0), (2, "2024-01-02", -15.0)]
    s = _summary(rows)
    assert s.index.tolist() == [1]
    with pytest.raises(DataError, match="no purchase occasions are left"):
        _summary([(2, "2024-01-01", 15.0), (2, "2024-01-02", -15.0)])


def test_refunds_in_cents_that_do_not_sum_exactly_to_zero_in_binary():
    rows = [(1, "2024-01-01", 19.99), (1, "2024-01-02", 0.1), (1, "2024-01-02", 0.2), (1, "2024-01-03", -0.3)]
    assert 0.1 + 0.2 - 0.3 != 0.0  # 5.6e-17 left in binary
    s = _summary(rows, include_first_transaction=True)
    assert s.loc[1].tolist() == [1.0, 0.0, 2.0, 19.99]


def test_returns_are_netted_within_each_period_of_a_split():
    rows = [
        (1, "2024-01-01", 50.0),
        (1, "2024-01-10", 30.0),
        (1, "2024-01-20", -30.0),  # holdout: returns a calibration purchase, left out of calibration
        (1, "2024-01-25", 40.0),
        (1, "2024-01-28", -15.0),  # holdout: takes 15 of 25 Jan, which keeps 25
        (1, "2024-01-29", 10.0),
    ]
    split = clvlab.calibration_holdout_split(
        _log(rows), monetary_value="amount", calibration_end="2024-01-15", allow_returns=True
    )
    # Calibration: 1 Jan (50), 10 Jan (30): x 1, t_x 9, T 14, value 30.
    assert split.loc[1, ["frequency", "recency", "T", "monetary_value"]].tolist() == [1.0, 9.0, 14.0, 30.0]
    # Holdout: 25 Jan (25) and 29 Jan (10): 2 occasions of mean value 17.5, over 14 days.
    assert split.loc[1, ["frequency_holdout", "monetary_value_holdout", "duration_holdout"]].tolist() == [
        2.0,
        17.5,
        14.0,
    ]


def test_describe_customers_counts_orders_after_returns():
    rows = [
        (1, "2024-01-01", 50.0),
        (1, "2024-01-10", 30.0),
        (1, "2024-01-15", -30.0),
        (2, "2024-03-01", 5.0),
    ]
    d = clvlab.describe_customers(_log(rows), period="D", allow_returns=True)
    assert d.customers.loc[1, "orders"] == 1  # 10 Jan was returned
    assert d.customers.loc[1, "revenue"] == 50.0
    assert d.customers.loc[1, "last_purchase"] == pd.Timestamp("2024-01-01")


def _lifo_reference(log: pd.DataFrame, end: int) -> pd.DataFrame:
    """Per-customer stack simulation of the returns rule (the definition, with a Python loop)."""
    out = {}
    days = (pd.to_datetime(log["date"]) - pd.Timestamp("1970-01-01")).dt.days
    daily = log.assign(day=days).groupby(["customer_id", "day"])["amount"].sum()
    for cust, per_day in daily.groupby(level=0):
        stack: list[list[float]] = []
        for (_, day), value in per_day.items():
            if value > 0:
                stack.append([day, value])
                continue
            owed = -value
            while owed > 0 and stack:
                take = min(owed, stack[-1][1])
                stack[-1][1] -= take
                owed -= take
                if stack[-1][1] <= 0:
                    stack.pop()
        if not stack:
            continue
        first, last = stack[0][0], stack[-1][0]
        x = len(stack) - 1
        repeat = sum(v for _, v in stack[1:])
        out[cust] = [float(x), float(last - first), float(end - first), repeat / x if x else 0.0]
    frame = pd.DataFrame.from_dict(
        out, orient="index", columns=["frequency", "recency", "T", "monetary_value"]
    )
    frame.index.name = "customer_id"
    return frame


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vectorised_netting_matches_the_stack_definition(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    amounts = rng.integers(1, 60, n).astype(float)  # whole amounts: sums are exact
    amounts[rng.random(n) < 0.3] *= -1
    log = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 300, n),
            "date": (np.datetime64("2024-01-01") + rng.integers(0, 60, n)).astype("datetime64[ns]"),
            "amount": amounts,
        }
    )
    end = int((log["date"].max() - pd.Timestamp("1970-01-01")).days)
    expected = _lifo_reference(log, end)
    got = clvlab.rfm_summary(log, monetary_value="amount", allow_returns=True)
    assert 50 < len(expected) < 300  # some customers returned everything, most did not
    pd.testing.assert_frame_equal(got, expected, check_names=False, check_index_type=False)


def test_negative_amounts_still_need_allow_returns():
    with pytest.raises(DataError, match="allow_returns=True"):
        clvlab.rfm_summary(_log([(1, "2024-01-01", 5.0), (1, "2024-01-02", -5.0)]), monetary_value="amount")
