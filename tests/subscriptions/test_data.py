"""Tests for clvlab.data.subscriptions: the contractual summary's conventions and its errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlab.data.subscriptions import subscription_summary, survivors_to_summary
from clvlab.errors import DataError


def log_frame(rows: list[tuple[object, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "start", "end"])


# ------------------------------------------------------------------------------------------------
# conventions
# ------------------------------------------------------------------------------------------------
def test_monthly_conventions():
    log = log_frame(
        [
            ("a", "2024-01-15", "2024-02-15"),  # ends on its first renewal date: lost at period 1
            ("b", "2024-01-15", "2024-02-16"),  # a day into period 2: lost at period 2
            ("c", "2024-01-15", "2024-01-15"),  # cancelled on the day it started: lost at period 1
            ("d", "2024-01-15", None),  # active: renewals on Feb 15 .. Jun 15 -> 5 by Jun 30
            ("e", "2024-06-16", None),  # active, no renewal yet -> 0
            ("f", "2024-01-15", "2024-09-01"),  # ends after observation_end: active after 5
            ("g", "2024-06-15", "2024-06-30"),  # lost within its first period
        ]
    )
    out = subscription_summary(log, observation_end="2024-06-30")
    assert out.index.name == "customer_id"
    assert out["duration"].to_dict() == {"a": 1, "b": 2, "c": 1, "d": 5, "e": 0, "f": 5, "g": 1}
    assert out["churned"].to_dict() == {
        "a": True,
        "b": True,
        "c": True,
        "d": False,
        "e": False,
        "f": False,
        "g": True,
    }
    assert out["duration"].dtype == np.int64
    assert out["churned"].dtype == bool
    assert str(out["cohort"].dtype) == "period[M]"
    assert str(out.loc["e", "cohort"]) == "2024-06"
    assert out.attrs["time_unit"] == "M"
    assert out.attrs["observation_end"] == "2024-06-30"


def test_month_ends_are_clipped():
    # Jan 31 renews on Feb 29 (2024), Mar 31, Apr 30: by Apr 30 three renewals; Feb 28 is not yet one
    log = log_frame(
        [("x", "2024-01-31", None), ("y", "2024-01-31", "2024-02-29"), ("z", "2024-01-31", "2024-03-01")]
    )
    out = subscription_summary(log, observation_end="2024-04-30")
    assert out["duration"].tolist() == [3, 1, 2]
    out = subscription_summary(log_frame([("x", "2024-01-31", None)]), observation_end="2024-02-28")
    assert out["duration"].tolist() == [0]


@pytest.mark.parametrize(
    ("period", "end", "expected"),
    [
        ("D", "2024-01-11", 10),
        ("W", "2024-01-22", 3),  # renewals on Jan 8, 15, 22
        ("Q", "2024-10-01", 3),  # Apr 1, Jul 1, Oct 1
        ("Y", "2026-01-01", 2),  # Jan 1 2025 and 2026
    ],
)
def test_other_periods(period, end, expected):
    log = log_frame([(1, "2024-01-01", None)])
    out = subscription_summary(log, period=period, observation_end=end)
    assert int(out["duration"].iloc[0]) == expected
    assert out.attrs["time_unit"] == period
    assert bool(out["churned"].iloc[0]) is False


def test_default_observation_end_is_the_latest_date():
    log = log_frame([(1, "2024-01-01", "2024-05-10"), (2, "2024-02-01", None)])
    out = subscription_summary(log)
    assert out.attrs["observation_end"] == "2024-05-10"
    assert out.loc[2, "duration"] == 3  # Mar 1, Apr 1, May 1


def test_first_subscription_rule():
    log = log_frame([(1, "2024-03-01", None), (1, "2024-01-01", "2024-02-15"), (2, "2024-01-01", None)])
    out = subscription_summary(log, multiple="first", observation_end="2024-06-30")
    assert out.loc[1, "duration"] == 2
    assert bool(out.loc[1, "churned"]) is True
    assert out.index.tolist() == [1, 2]


def test_datetime_and_polars_input():
    log = pd.DataFrame(
        {
            "id": [1, 2],
            "s": pd.to_datetime(["2024-01-01", "2024-01-05"]),
            "e": pd.to_datetime(["2024-03-01", None]),
        }
    )
    out = subscription_summary(log, customer_id="id", start="s", end="e", observation_end="2024-04-01")
    assert out["duration"].tolist() == [2, 2]
    pl = pytest.importorskip("polars")
    out_pl = subscription_summary(
        pl.from_pandas(log), customer_id="id", start="s", end="e", observation_end="2024-04-01"
    )
    pd.testing.assert_frame_equal(out_pl, out)


def test_caller_frame_is_not_mutated():
    log = log_frame([(1, "2024-01-01", "2024-03-01"), (2, "2024-01-05", None)])
    before = log.copy(deep=True)
    subscription_summary(log, observation_end="2024-04-01")
    pd.testing.assert_frame_equal(log, before)
    counts = [1000, 631, 468]
    survivors_to_summary(counts)
    assert counts == [1000, 631, 468]


# ------------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------------
def test_end_before_start():
    log = log_frame([(1, "2024-01-01", None), (2, "2024-03-01", "2024-02-01")])
    with pytest.raises(DataError, match=r"end before they start.*customer 2"):
        subscription_summary(log)


def test_overlapping_subscriptions_are_refused_and_the_message_says_what_to_pass():
    log = log_frame([(7, "2024-01-01", "2024-06-01"), (7, "2024-03-01", None)])
    with pytest.raises(DataError, match=r"customer 7 has overlapping subscriptions.*multiple='first'"):
        subscription_summary(log)
    open_first = log_frame([(7, "2024-01-01", None), (7, "2024-03-01", "2024-04-01")])
    with pytest.raises(DataError, match="overlapping"):
        subscription_summary(open_first)


def test_consecutive_subscriptions_are_refused_by_default():
    log = log_frame([(7, "2024-01-01", "2024-02-01"), (7, "2024-03-01", None)])
    with pytest.raises(DataError, match=r"customer 7 has several subscriptions.*multiple='first'"):
        subscription_summary(log)


@pytest.mark.parametrize("period", ["month", "m", "2M", None, 3])
def test_unknown_period(period):
    with pytest.raises(DataError, match="period must be one of"):
        subscription_summary(log_frame([(1, "2024-01-01", None)]), period=period)
    if period is not None:  # survivor counts may come without a period
        with pytest.raises(DataError, match="period must be one of"):
            survivors_to_summary([10, 5], period=period)


def test_missing_column():
    log = log_frame([(1, "2024-01-01", None)]).drop(columns="end")
    with pytest.raises(DataError, match=r"missing column\(s\) \['end'\]"):
        subscription_summary(log)


def test_other_input_errors():
    log = log_frame([(1, "2024-01-01", None)])
    with pytest.raises(DataError, match="multiple must be"):
        subscription_summary(log, multiple="last")
    with pytest.raises(DataError, match="start after observation_end"):
        subscription_summary(log, observation_end="2023-12-31")
    with pytest.raises(DataError, match="different columns"):
        subscription_summary(log, end="start")
    with pytest.raises(DataError, match="unparseable dates"):
        subscription_summary(log_frame([(1, "not a date", None)]))
    with pytest.raises(DataError, match="missing dates"):
        subscription_summary(log_frame([(1, None, None)]))
    with pytest.raises(DataError, match="null customer ids"):
        subscription_summary(log_frame([(None, "2024-01-01", None)]))
    with pytest.raises(DataError, match="empty"):
        subscription_summary(log.iloc[:0])


# ------------------------------------------------------------------------------------------------
# survivor counts
# ------------------------------------------------------------------------------------------------
def test_survivors_to_summary_weighted_and_expanded():
    # tests/references.md [SBG-FH2007-COHORTS]: the regular cohort, years 0..7 (FH 2007).
    active = [1000, 631, 468, 382, 326, 289, 262, 241]
    out = survivors_to_summary(active, period="Y")
    assert out["duration"].tolist() == [1, 2, 3, 4, 5, 6, 7, 7]
    assert out["churned"].tolist() == [True] * 7 + [False]
    assert out["weights"].tolist() == [369, 163, 86, 56, 37, 27, 21, 241]
    assert out["weights"].sum() == 1000
    assert out.attrs["time_unit"] == "Y"
    wide = survivors_to_summary(active, expand=True)
    assert len(wide) == 1000
    assert wide.index.name == "customer_id"
    assert int((wide["duration"] == 1).sum()) == 369
    assert int((~wide["churned"]).sum()) == 241
    assert "time_unit" not in wide.attrs


@pytest.mark.parametrize(
    ("active", "match"),
    [
        ([1000], "at least two"),
        ([[1000, 600]], "at least two"),
        ([1000, 1200], "must not increase"),
        ([1000, -1], "non-negative"),
        ([1000, np.nan], "finite"),
        ([0, 0], "cohort's size"),
        (["a", "b"], "numbers"),
    ],
)
def test_survivors_to_summary_errors(active, match):
    with pytest.raises(DataError, match=match):
        survivors_to_summary(active)


def test_survivors_as_shares_need_no_expansion():
    out = survivors_to_summary([100.0, 63.1, 46.8])
    assert out["weights"].tolist() == pytest.approx([36.9, 16.3, 46.8])
    with pytest.raises(DataError, match="whole numbers"):
        survivors_to_summary([100.0, 63.1, 46.8], expand=True)


# ------------------------------------------------------------------------------------------------
# dates after today
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def today_2024_07_01(monkeypatch):
    import datetime

    from clvlab.data import subscriptions

    monkeypatch.setattr(subscriptions, "_today", lambda: datetime.date(2024, 7, 1))


@pytest.mark.usefixtures("today_2024_07_01")
def test_a_scheduled_cancellation_does_not_move_the_default_observation_end():
    log = log_frame([(1, "2024-01-15", "2024-12-31"), (2, "2024-02-01", "2024-06-20")])
    out = subscription_summary(log)
    assert out.attrs["observation_end"] == "2024-06-20"
    # customer 1 cancels at the end of the year: active after the 5 renewals up to June 20
    assert out.loc[1, "duration"] == 5
    assert bool(out.loc[1, "churned"]) is False


@pytest.mark.usefixtures("today_2024_07_01")
def test_dates_after_today_are_refused():
    with pytest.raises(DataError, match=r"starting after today \(2024-07-01\).*customer 2"):
        subscription_summary(log_frame([(1, "2024-01-15", None), (2, "2024-08-01", None)]))
    with pytest.raises(DataError, match="observation_end 2024-12-31 is after today"):
        subscription_summary(log_frame([(1, "2024-01-15", None)]), observation_end="2024-12-31")
    # one day of grace (a timezone-aware date may be a day ahead of this machine's)
    out = subscription_summary(log_frame([(1, "2024-01-15", None)]), observation_end="2024-07-02")
    assert out.attrs["observation_end"] == "2024-07-02"
