"""The marketer's metrics (describe_customers) and the simple formula against the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab import DataError
from clvlab.describe import period_bounds, period_starts

MONTH = 365.25 / 12  # days in the average month of the metrics (PERIOD_DAYS["M"])


@pytest.fixture
def tiny_log():
    # Five customers, observed to 2020-04-30; the first order is on 2020-01-01, so period "M" gives the
    # calendar months Jan..Apr 2020.
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 3, 3, 4, 4, 5],
            "date": pd.to_datetime(
                [
                    "2020-01-01",  # customer 1: two purchases on one day are one order of 30
                    "2020-01-01",
                    "2020-02-10",
                    "2020-04-01",
                    "2020-01-20",  # customer 2: one order
                    "2020-02-03",  # customer 3
                    "2020-03-03",
                    "2020-03-15",  # customer 4
                    "2020-04-20",
                    "2020-04-25",  # customer 5: acquired five days before the end
                ]
            ),
            "amount": [10.0, 20.0, 30.0, 60.0, 50.0, 20.0, 40.0, 10.0, 30.0, 100.0],
        }
    )


def test_every_metric_on_a_hand_made_log(tiny_log):
    before = tiny_log.copy()
    d = clvlab.describe_customers(tiny_log, period="M", observation_end="2020-04-30")
    pd.testing.assert_frame_equal(tiny_log, before)  # the caller's frame is untouched
    c = d.customers
    assert list(c.index) == [1, 2, 3, 4, 5]
    # Orders (same-day purchases merged) and revenue.
    assert c["orders"].tolist() == [3, 1, 2, 2, 1]
    assert c["revenue"].tolist() == [120.0, 50.0, 60.0, 40.0, 100.0]
    # AOV = revenue / orders: 120/3, 50/1, 60/2, 40/2, 100/1.
    assert c["average_order_value"].tolist() == [40.0, 50.0, 30.0, 20.0, 100.0]
    # Exposure, first order to 2020-04-30 with both days counted, in months of 30.4375 days, at least 1:
    # 1: Jan 1..Apr 30 = 31 + 29 + 31 + 30 = 121 days; 2: Jan 20.. = 12 + 90 = 102; 3: Feb 3.. = 27 + 61
    # = 88; 4: Mar 15.. = 17 + 30 = 47; 5: Apr 25..30 = 6 days -> floored to one month.
    exposure = np.array([121, 102, 88, 47, MONTH]) / MONTH
    np.testing.assert_allclose(c["exposure"], exposure, rtol=1e-14)
    np.testing.assert_allclose(c["purchase_frequency"], [3, 1, 2, 2, 1] / exposure, rtol=1e-14)
    # Observed lifespan, first to last order: 1: Jan 1 -> Apr 1 = 91 days; 3: Feb 3 -> Mar 3 = 29 (2020 is
    # a leap year); 4: Mar 15 -> Apr 20 = 36; single-order customers 0.
    np.testing.assert_allclose(c["observed_lifespan"], np.array([91, 0, 29, 36, 0]) / MONTH, rtol=1e-14)
    assert c["repeat_customer"].tolist() == [True, False, True, True, False]
    assert c["cohort"].dt.strftime("%Y-%m").tolist() == [
        "2020-01",
        "2020-01",
        "2020-02",
        "2020-03",
        "2020-04",
    ]

    # Cohort table by hand (active = at least one order in the month):
    #   Jan cohort {1, 2}: Jan 2, Feb 1 (customer 1), Mar 0, Apr 1 (customer 1 again)
    #   Feb cohort {3}:    Feb 1, Mar 1, Apr 0
    #   Mar cohort {4}:    Mar 1, Apr 1
    #   Apr cohort {5}:    Apr 1
    nan = np.nan
    expected = [[2, 1, 0, 1], [1, 1, 0, nan], [1, 1, nan, nan], [1, nan, nan, nan]]
    np.testing.assert_array_equal(d.cohorts.to_numpy(), np.array(expected))
    assert d.cohorts.index.strftime("%Y-%m").tolist() == ["2020-01", "2020-02", "2020-03", "2020-04"]
    np.testing.assert_array_equal(d.cohort_retention.iloc[0].to_numpy(), [1.0, 0.5, 0.0, 0.5])
    # Retention one month after acquisition, cohorts Jan, Feb, Mar: of the 2 + 1 + 1 active at j = 0,
    # customers 1 (Jan, Feb), 3 (Feb, Mar) and 4 (Mar, Apr) are active again: 3/4. Two months, cohorts
    # Jan, Feb: of customers 1 (Feb) and 3 (Mar), neither buys in the next month: 0 / 2. Three months,
    # Jan cohort: nobody was active in March (j = 2), so the rate is undefined; customer 1's April order
    # is a return (active in April, not in March), not retention.
    r = d.retention
    assert r["cohorts"].tolist() == [3, 2, 1]
    assert r["active_before"].tolist() == [4.0, 2.0, 0.0]
    assert r["retained"].tolist() == [3.0, 0.0, 0.0]
    assert r["returning"].tolist() == [0.0, 0.0, 1.0]
    assert r["active"].tolist() == [3.0, 0.0, 1.0]
    np.testing.assert_array_equal(r["retention_rate"].to_numpy(), [0.75, 0.0, nan])
    np.testing.assert_array_equal(r["churn_rate"].to_numpy(), [0.25, 1.0, nan])

    m = d.metrics
    assert m["customers"] == 5
    assert m["orders"] == 9
    assert m["revenue"] == 370.0
    assert m["average_order_value"] == pytest.approx(370 / 9, rel=1e-14)
    assert m["orders_per_customer"] == pytest.approx(9 / 5, rel=1e-14)
    total_exposure = exposure.sum()  # (121 + 102 + 88 + 47) / 30.4375 + 1 months
    assert m["purchase_frequency"] == pytest.approx(9 / total_exposure, rel=1e-14)
    assert m["value_per_period"] == pytest.approx(370 / total_exposure, rel=1e-14)
    assert m["repeat_rate"] == pytest.approx(3 / 5)
    assert m["observed_lifespan"] == pytest.approx((91 + 29 + 36) / 5 / MONTH, rel=1e-14)
    # Pooled retention: (3 + 0 + 0) / (4 + 2 + 0) = 1/2, churn 1/2, lifespan 1 / churn = 2 months.
    assert m["retention_rate"] == pytest.approx(1 / 2, rel=1e-14)
    assert m["churn_rate"] == pytest.approx(1 / 2, rel=1e-14)
    assert m["expected_lifespan"] == pytest.approx(2.0, rel=1e-14)
    # Simple CLV = AOV x frequency x lifespan = (370 / 9) x (9 / exposure) x 2 = 370 x 2 / exposure.
    assert m["simple_clv"] == pytest.approx(370 * 2 / total_exposure, rel=1e-14)
    np.testing.assert_allclose(c["simple_clv"], c["revenue"] / exposure * 2, rtol=1e-14)
    assert m.attrs["period"] == "M"


def test_margin_and_discount(tiny_log):
    d = clvlab.describe_customers(
        tiny_log, period="M", observation_end="2020-04-30", margin=0.3, discount_rate=0.1
    )
    # Discounted lifespan (1 + d) / (1 + d - r) = 1.1 / (1.1 - 1/2) = 1.1 / 0.6 = 1.8333...
    lifespan = 1.1 / (1.1 - 1 / 2)
    assert d.metrics["expected_lifespan"] == pytest.approx(lifespan, rel=1e-14)
    plain = clvlab.describe_customers(tiny_log, period="M", observation_end="2020-04-30")
    assert d.metrics["simple_clv"] == pytest.approx(0.3 * plain.metrics["simple_clv"] / 2 * lifespan)
    np.testing.assert_allclose(d.customers["simple_clv"], 0.3 * plain.customers["simple_clv"] / 2 * lifespan)


def test_no_churn_gives_an_infinite_lifespan_not_nan():
    # Months from the first order, Jan 3 - Feb 2 and Feb 3 - Mar 2 (complete: the end is Mar 2). Both
    # customers active in both: retention 1, churn 0 -> lifespan and simple CLV infinite.
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2],
            "date": ["2021-01-03", "2021-02-03", "2021-01-10", "2021-02-20"],
            "amount": [5.0, 5.0, 0.0, 0.0],
        }
    )
    d = clvlab.describe_customers(log, period="M", observation_end="2021-03-02")
    assert d.metrics["retention_rate"] == 1.0
    assert d.metrics["churn_rate"] == 0.0
    assert d.metrics["expected_lifespan"] == np.inf
    assert d.customers["simple_clv"].tolist() == [np.inf, 0.0]  # zero revenue stays zero
    # A discount rate makes it finite again: (1 + d) / d = 11 periods at 10%.
    disc = clvlab.describe_customers(log, period="M", observation_end="2021-03-02", discount_rate=0.1)
    assert disc.metrics["expected_lifespan"] == pytest.approx(11.0)


def _cohorts_by_hand(log: pd.DataFrame, freq: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cohort table with pandas periods, plain pandas: customers of each first-purchase period active
    (any purchase) in each later period, and those of them also active in the period before."""
    per = log.assign(p=log["date"].dt.to_period(freq))
    first = per.groupby("customer_id")["p"].min().rename("cohort")
    active = per[["customer_id", "p"]].drop_duplicates().join(first, on="customer_id")
    active["j"] = [(p - k).n for p, k in zip(active["p"], active["cohort"], strict=True)]
    keys = set(zip(active["customer_id"], active["p"], strict=True))
    active["kept"] = [(c, p - 1) in keys for c, p in zip(active["customer_id"], active["p"], strict=True)]

    def table(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.pivot_table(
            index="cohort", columns="j", values="customer_id", aggfunc="count", fill_value=0
        )

    return table(active), table(active[active["kept"]])


@pytest.mark.parametrize(
    ("freq", "period", "end", "table_end"),
    [
        # The log starts on Wednesday 2010-12-01: months are calendar months, quarters Dec-Feb, Mar-May,
        # ... (pandas Q-NOV), weeks Wednesday to Tuesday (W-TUE). The trailing partial period (Dec 1-9
        # 2011, Sep 2011 of the quarter Sep-Nov, Wed-Thu of the last week) is left out of the cohorts.
        ("M", "M", "2011-12-09", "2011-11-30"),
        ("M", "M", "2011-11-30", "2011-11-30"),
        ("Q-NOV", "Q", "2011-09-30", "2011-08-31"),
        ("W-TUE", "W", "2011-12-01", "2011-11-29"),
    ],
)
def test_cohorts_retention_and_churn_against_an_independent_table(freq, period, end, table_end):
    retail = clvlab.datasets.load_online_retail()
    log = retail[retail["date"] <= table_end]
    d = clvlab.describe_customers(retail, period=period, observation_end=end, drop_after_end=True)
    assert d.cohorts.attrs["cohort_periods_end"] == pd.Timestamp(table_end)
    table, kept = _cohorts_by_hand(log, freq)
    last = log["date"].dt.to_period(freq).max()
    n_periods = (last - table.index.min()).n + 1
    # Every observed cell agrees; cells after the end are NaN.
    ours = d.cohorts
    assert len(ours) == len(table)
    assert ours.index[0] == retail["date"].min()  # the first cohort starts with the data
    for (k, row), (_, mine) in zip(table.iterrows(), ours.iterrows(), strict=True):
        offset = (last - k).n  # periods observed after the cohort's own
        np.testing.assert_array_equal(
            mine.to_numpy()[: offset + 1], row.reindex(range(offset + 1), fill_value=0)
        )
        assert mine.iloc[offset + 1 :].isna().all()
        assert mine.name == k.start_time
    # Period-over-period retention, pooled over the cohorts observed j periods, by plain loops: of the
    # customers active j - 1 periods after acquisition, those active again j periods after.
    num = den = 0.0
    for j in range(1, n_periods):
        a = b = r = 0.0
        for k, row in table.iterrows():
            if (last - k).n >= j:
                a += row.get(j, 0)
                b += row.get(j - 1, 0)
                r += kept.loc[k].get(j, 0) if k in kept.index else 0
        assert d.retention.loc[j, "active"] == a
        assert d.retention.loc[j, "active_before"] == b
        assert d.retention.loc[j, "retained"] == r
        assert d.retention.loc[j, "returning"] == a - r
        assert d.retention.loc[j, "retention_rate"] == pytest.approx(r / b, rel=1e-14)
        assert d.retention.loc[j, "churn_rate"] == pytest.approx(1 - r / b, rel=1e-14)
        num, den = num + r, den + b
    assert d.metrics["retention_rate"] == pytest.approx(num / den, rel=1e-14)
    assert d.metrics["churn_rate"] == pytest.approx(1 - num / den, rel=1e-14)
    assert d.metrics["expected_lifespan"] == pytest.approx(den / (den - num), rel=1e-12)
    # Orders are purchase days, as in rfm_summary (over the whole log to `end`, the partial period too).
    s = clvlab.rfm_summary(retail, monetary_value="amount", observation_end=end, drop_after_end=True)
    np.testing.assert_array_equal(d.customers["orders"], s["frequency"] + 1)
    assert d.metrics["customers"] == len(s)


def test_a_hand_computed_example_with_returns_and_a_partial_last_period():
    # First order 2021-03-15, observed to 2021-06-20. Months from the first order:
    #   P0 Mar 15 - Apr 14, P1 Apr 15 - May 14, P2 May 15 - Jun 14, P3 Jun 15 - Jul 14 (only 6 days
    #   observed: left out of cohorts and retention).
    # Customers (periods active): A P0, P1, P2; B P0, P2 (lapses in P1, returns in P2); C P0 only;
    #   D P1, P2; E P1 only; F P3 only (acquired in the partial period: in no cohort of the table).
    orders = [
        ("A", "2021-03-15"),
        ("A", "2021-04-20"),
        ("A", "2021-05-20"),
        ("B", "2021-04-10"),
        ("B", "2021-06-01"),
        ("C", "2021-04-14"),
        ("D", "2021-04-15"),
        ("D", "2021-06-14"),
        ("E", "2021-05-14"),
        ("F", "2021-06-18"),
    ]
    log = pd.DataFrame(orders, columns=["customer_id", "date"]).assign(amount=10.0)
    d = clvlab.describe_customers(log, period="M", observation_end="2021-06-20")
    # Cohort table: P0 cohort {A, B, C}: P0 3, P1 1 (A), P2 2 (A, B); P1 cohort {D, E}: P1 2, P2 1 (D).
    nan = np.nan
    np.testing.assert_array_equal(d.cohorts.to_numpy(), [[3, 1, 2], [2, 1, nan]])
    assert d.cohorts.index.tolist() == [pd.Timestamp("2021-03-15"), pd.Timestamp("2021-04-15")]
    assert d.cohorts.attrs["cohort_periods_end"] == pd.Timestamp("2021-06-14")
    assert d.customers.loc["F", "cohort"] == pd.Timestamp("2021-06-15")
    # j = 1 (cohorts P0, P1): active before 3 + 2 = 5; retained A (P0 -> P1) and D (P1 -> P2) = 2;
    #   r_1 = 2/5 = 0.4.
    # j = 2 (cohort P0): active before 1 (A in P1); retained A (P1 -> P2) = 1; B is active in P2 but not
    #   in P1: returning, not retained; r_2 = 1/1 = 1. (The old ratio of active counts gave 2/1 = 2.)
    r = d.retention
    assert r["cohorts"].tolist() == [2, 1]
    assert r["active_before"].tolist() == [5.0, 1.0]
    assert r["retained"].tolist() == [2.0, 1.0]
    assert r["returning"].tolist() == [0.0, 1.0]
    assert r["active"].tolist() == [2.0, 2.0]
    np.testing.assert_allclose(r["retention_rate"], [0.4, 1.0], rtol=1e-15)
    np.testing.assert_allclose(r["churn_rate"], [0.6, 0.0], atol=1e-15)
    # Pooled: (2 + 1) / (5 + 1) = 1/2; churn 1/2; lifespan 2 months.
    assert d.metrics["retention_rate"] == pytest.approx(0.5, rel=1e-15)
    assert d.metrics["churn_rate"] == pytest.approx(0.5, rel=1e-15)
    assert d.metrics["expected_lifespan"] == pytest.approx(2.0, rel=1e-15)


@pytest.mark.parametrize(
    ("loader", "periods"),
    [("load_cdnow_transactions", ["D", "W", "M", "Q"]), ("load_online_retail", ["D", "W", "M", "Q"])],
)
def test_rates_within_zero_and_one_on_the_bundled_logs(loader, periods):
    # The case: describe_customers(online_retail, period="M") reported retention up to 1.216 and
    # churn down to -0.216 (returning customers counted as retained, cohorts from 2010-11-10).
    log = getattr(clvlab.datasets, loader)()
    first = log["date"].min()
    for period in periods:
        d = clvlab.describe_customers(log, period=period)
        rates = d.retention[["retention_rate", "churn_rate"]].to_numpy()
        # NaN exactly where nobody was active the period before (daily CDNOW: late ages of one cohort).
        undefined = (d.retention["active_before"] == 0).to_numpy()
        np.testing.assert_array_equal(np.isnan(rates), np.column_stack([undefined, undefined]))
        rates = rates[~undefined]
        assert len(rates) > 0
        assert ((rates >= 0) & (rates <= 1)).all(), (period, d.retention)
        m = d.metrics
        assert 0 <= m["retention_rate"] <= 1, period
        assert 0 <= m["churn_rate"] <= 1, period
        # Cohorts aligned to the data: the first cohort starts on the first order's day, none before.
        assert d.cohorts.index[0] == first, period
        assert (d.customers["cohort"] >= first).all()
        assert (d.customers["cohort"] <= d.customers["first_purchase"]).all()
        assert (d.cohorts.index.isin(d.customers["cohort"])).all()
        assert d.cohorts.attrs["cohort_periods_end"] <= log["date"].max()
        # Retained customers are among those active the period before, and all active = retained + returning.
        r = d.retention
        assert (r["retained"] <= r["active_before"]).all()
        assert (r["retained"] <= r["active"]).all()
        np.testing.assert_array_equal(r["retained"] + r["returning"], r["active"])
        share = d.cohort_retention.to_numpy()
        assert np.nanmin(share) >= 0
        assert np.nanmax(share) <= 1


def test_periods_count_forward_from_the_first_order():
    day = pd.Timestamp("1970-01-01")

    def days(*dates):
        return [(pd.Timestamp(x) - day).days for x in dates]

    # Years from 1997-01-01 to 1998-06-30: 1997 (complete) and 1998 (cut at Jun 30).
    assert period_bounds(*days("1997-01-01", "1998-06-30"), "Y").tolist() == days(
        "1997-01-01", "1998-01-01", "1999-01-01"
    )
    assert period_starts(*days("1997-01-01", "1998-06-30"), "Y").tolist() == days("1997-01-01", "1998-01-01")
    # Calendar months from a month's first day; the last bound is end + 1 when the last period is complete.
    assert period_bounds(*days("2020-01-01", "2020-03-31"), "M").tolist() == days(
        "2020-01-01", "2020-02-01", "2020-03-01", "2020-04-01"
    )
    # Months from Jan 31 do not drift: Feb 29, Mar 31, Apr 30 (each counted from the first day).
    assert period_bounds(*days("2020-01-31", "2020-04-29"), "M").tolist() == days(
        "2020-01-31", "2020-02-29", "2020-03-31", "2020-04-30"
    )
    # Weeks of 7 days forward from the first day.
    assert period_starts(*days("2020-01-01", "2020-01-15"), "W").tolist() == days(
        "2020-01-01", "2020-01-08", "2020-01-15"
    )


def test_order_polars_and_errors(tiny_log):
    kw = {"period": "M", "observation_end": "2020-04-30"}
    d = clvlab.describe_customers(tiny_log, **kw)
    shuffled = clvlab.describe_customers(tiny_log.sample(frac=1.0, random_state=3), **kw)
    pd.testing.assert_frame_equal(shuffled.customers, d.customers)
    pd.testing.assert_frame_equal(shuffled.cohorts, d.cohorts)
    pd.testing.assert_series_equal(shuffled.metrics, d.metrics)
    pl = pytest.importorskip("polars")
    from_polars = clvlab.describe_customers(pl.from_pandas(tiny_log), **kw)
    pd.testing.assert_frame_equal(from_polars.customers, d.customers)
    assert "CustomerDescription(period='M'" in repr(d)

    with pytest.raises(DataError, match="period must be one of"):
        clvlab.describe_customers(tiny_log, period="fortnight")
    with pytest.raises(DataError, match="choose a shorter period"):
        clvlab.describe_customers(tiny_log, period="Y", observation_end="2020-04-30")
    with pytest.raises(DataError, match=r"missing column\(s\) \['spend'\]"):
        clvlab.describe_customers(tiny_log, monetary_value="spend")
    with pytest.raises(DataError, match="negative amounts"):
        clvlab.describe_customers(tiny_log.assign(amount=-tiny_log["amount"]), period="M")
    with pytest.raises(DataError, match="margin"):
        clvlab.describe_customers(tiny_log, period="M", margin=-1)
    with pytest.raises(DataError, match="after observation_end"):
        clvlab.describe_customers(tiny_log, period="M", observation_end="2020-03-31")


@pytest.fixture(scope="module")
def comparison(cdnow_log, cdnow_split):
    bg = clvlab.BetaGeo().fit(cdnow_split)
    gg = clvlab.GammaGamma().fit(cdnow_split)
    out = clvlab.compare_simple_clv(
        cdnow_log, bg, gg, calibration_end="1997-09-30", observation_end="1998-06-30", period="Q"
    )
    return out, bg, gg


def test_simple_versus_model_on_cdnow(comparison, cdnow_log, cdnow_split):
    out, bg, gg = comparison
    c = out.customers
    assert c.index.equals(cdnow_split.index)
    assert out.horizon == pytest.approx(39.0)  # 1997-10-01 .. 1998-06-30: 273 days = 39 weeks
    np.testing.assert_allclose(
        c["model_holdout_value"],
        clvlab.customer_lifetime_value(bg, gg, cdnow_split, horizon=39.0),
        rtol=1e-12,
    )
    actual = cdnow_split["frequency_holdout"] * cdnow_split["monetary_value_holdout"]
    np.testing.assert_allclose(c["holdout_value"], actual, rtol=1e-12)
    # The simple formula on the calibration period only.
    cal = clvlab.describe_customers(cdnow_log, period="Q", observation_end="1997-09-30", drop_after_end=True)
    np.testing.assert_allclose(c["simple_clv"], cal.customers["simple_clv"], rtol=1e-12)
    r = cal.metrics["retention_rate"]
    h = 273 / (365.25 / 4)  # the holdout in quarters
    per_period = cal.customers["revenue"] / cal.customers["exposure"]
    np.testing.assert_allclose(c["simple_holdout_value"], per_period * r * (1 - r**h) / (1 - r), rtol=1e-12)
    # Capture: the share of the actual holdout value held by the top k customers by each score; customers
    # tied with the k-th score share their block's value evenly (many CLVs tie: same history, same value).
    total = actual.sum()

    def captured(score, k):
        score, value = np.asarray(score), np.asarray(actual)
        kth = np.sort(score)[::-1][k - 1]
        above = score > kth
        return (value[above].sum() + (k - above.sum()) * value[score == kth].mean()) / total

    per_period_simple = per_period.to_numpy()  # the simple ranking: value per period (x lifespan)
    for share, row in out.capture.iterrows():
        k = round(share * len(c))
        assert row["customers"] == k
        assert row["model"] == pytest.approx(captured(c["model_holdout_value"], k), rel=1e-9)
        assert row["simple"] == pytest.approx(captured(per_period_simple, k), rel=1e-9)
        assert row["perfect"] == pytest.approx(actual.nlargest(k).sum() / total, rel=1e-12)
        assert row["simple"] <= row["perfect"]
        assert row["model"] <= row["perfect"]
    # Ranks: 1 = highest score, ties by customer id.
    assert c.loc[c["model_rank"] == 1, "model_holdout_value"].iloc[0] == c["model_holdout_value"].max()
    assert sorted(c["simple_rank"]) == list(range(1, len(c) + 1))
    m = out.metrics
    assert m["holdout_value"] == pytest.approx(total)
    assert m["spearman_simple_model"] == pytest.approx(
        per_period.rank().corr(c["model_holdout_value"].rank()), rel=1e-12
    )
    assert 0 < m["gini_simple"] < 1
    assert 0 < m["gini_model"] < 1


def test_simple_versus_model_plot(comparison):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from clvlab.plotting.simple_vs_model import plot_simple_vs_model, plot_simple_vs_model_data

    out, _, _ = comparison
    data = plot_simple_vs_model_data(out)
    n = len(out.customers)
    assert list(data.columns) == ["customer_share", "simple", "model", "perfect", "random"]
    assert len(data) == n + 1
    for _, row in out.capture.iterrows():
        k = int(row["customers"])
        assert data.loc[k, "simple"] == pytest.approx(row["simple"], rel=1e-12)
        assert data.loc[k, "model"] == pytest.approx(row["model"], rel=1e-12)
        assert data.loc[k, "customer_share"] == pytest.approx(k / n)
    assert data.attrs["gini_model"] == pytest.approx(out.metrics["gini_model"])
    assert (np.diff(data["perfect"]) >= 0).all()
    scatter = plot_simple_vs_model_data(out, kind="scatter")
    assert list(scatter.columns) == ["simple_holdout_value", "model_holdout_value", "holdout_value"]
    ax = plot_simple_vs_model(out)
    assert len(ax.get_lines()) == 4
    assert "Gini" in ax.get_legend().get_texts()[0].get_text() + ax.get_legend().get_texts()[1].get_text()
    _, ax2 = plt.subplots()
    assert plot_simple_vs_model(out, kind="scatter", ax=ax2) is ax2
    plt.close("all")
    with pytest.raises(ValueError, match="kind must be one of"):
        plot_simple_vs_model_data(out, kind="pie")
    with pytest.raises(DataError, match="compare_simple_clv"):
        plot_simple_vs_model_data(out.customers)
