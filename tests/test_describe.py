"""The marketer's metrics (describe_customers) and the simple formula against the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab import DataError
from clvlab.describe import period_starts

MONTH = 365.25 / 12  # days in the average month of the metrics (PERIOD_DAYS["M"])


@pytest.fixture
def tiny_log():
    # Five customers, observed to 2020-04-30; period "M" gives the calendar months Jan..Apr 2020.
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 3, 3, 4, 4, 5],
            "date": pd.to_datetime(
                [
                    "2020-01-05",  # customer 1: two purchases on one day are one order of 30
                    "2020-01-05",
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
    # 1: Jan 5..Apr 30 = 27 + 29 + 31 + 30 = 117 days; 2: Jan 20.. = 12 + 90 = 102; 3: Feb 3.. = 27 + 61
    # = 88; 4: Mar 15.. = 17 + 30 = 47; 5: Apr 25..30 = 6 days -> floored to one month.
    exposure = np.array([117, 102, 88, 47, MONTH]) / MONTH
    np.testing.assert_allclose(c["exposure"], exposure, rtol=1e-14)
    np.testing.assert_allclose(c["purchase_frequency"], [3, 1, 2, 2, 1] / exposure, rtol=1e-14)
    # Observed lifespan, first to last order: 1: Jan 5 -> Apr 1 = 87 days; 3: Feb 3 -> Mar 3 = 29 (2020 is
    # a leap year); 4: Mar 15 -> Apr 20 = 36; single-order customers 0.
    np.testing.assert_allclose(c["observed_lifespan"], np.array([87, 0, 29, 36, 0]) / MONTH, rtol=1e-14)
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
    # Retention one month after acquisition: cohorts Jan, Feb, Mar: (1 + 1 + 1) / (2 + 1 + 1) = 3/4;
    # two months: cohorts Jan, Feb: (0 + 0) / (1 + 1) = 0; three months: Jan: 1 / 0 -> undefined.
    r = d.retention
    assert r["cohorts"].tolist() == [3, 2, 1]
    assert r["active_before"].tolist() == [4.0, 2.0, 0.0]
    assert r["active"].tolist() == [3.0, 0.0, 1.0]
    np.testing.assert_array_equal(r["retention_rate"].to_numpy(), [0.75, 0.0, nan])
    np.testing.assert_array_equal(r["churn_rate"].to_numpy(), [0.25, 1.0, nan])

    m = d.metrics
    assert m["customers"] == 5
    assert m["orders"] == 9
    assert m["revenue"] == 370.0
    assert m["average_order_value"] == pytest.approx(370 / 9, rel=1e-14)
    assert m["orders_per_customer"] == pytest.approx(9 / 5, rel=1e-14)
    total_exposure = exposure.sum()  # (117 + 102 + 88 + 47) / 30.4375 + 1 months
    assert m["purchase_frequency"] == pytest.approx(9 / total_exposure, rel=1e-14)
    assert m["value_per_period"] == pytest.approx(370 / total_exposure, rel=1e-14)
    assert m["repeat_rate"] == pytest.approx(3 / 5)
    assert m["observed_lifespan"] == pytest.approx((87 + 29 + 36) / 5 / MONTH, rel=1e-14)
    # Pooled retention: (3 + 0 + 1) / (4 + 2 + 0) = 2/3, churn 1/3, lifespan 1 / churn = 3 months.
    assert m["retention_rate"] == pytest.approx(2 / 3, rel=1e-14)
    assert m["churn_rate"] == pytest.approx(1 / 3, rel=1e-14)
    assert m["expected_lifespan"] == pytest.approx(3.0, rel=1e-14)
    # Simple CLV = AOV x frequency x lifespan = (370 / 9) x (9 / exposure) x 3 = 370 x 3 / exposure.
    assert m["simple_clv"] == pytest.approx(370 * 3 / total_exposure, rel=1e-14)
    np.testing.assert_allclose(c["simple_clv"], c["revenue"] / exposure * 3, rtol=1e-14)
    assert m.attrs["period"] == "M"


def test_margin_and_discount(tiny_log):
    d = clvlab.describe_customers(
        tiny_log, period="M", observation_end="2020-04-30", margin=0.3, discount_rate=0.1
    )
    # Discounted lifespan (1 + d) / (1 + d - r) = 1.1 / (1.1 - 2/3) = 1.1 / 0.4333... = 2.538...
    lifespan = 1.1 / (1.1 - 2 / 3)
    assert d.metrics["expected_lifespan"] == pytest.approx(lifespan, rel=1e-14)
    plain = clvlab.describe_customers(tiny_log, period="M", observation_end="2020-04-30")
    assert d.metrics["simple_clv"] == pytest.approx(0.3 * plain.metrics["simple_clv"] / 3 * lifespan)
    np.testing.assert_allclose(d.customers["simple_clv"], 0.3 * plain.customers["simple_clv"] / 3 * lifespan)


def test_no_churn_gives_an_infinite_lifespan_not_nan():
    # Both customers active in both months: retention 1, churn 0 -> lifespan and simple CLV infinite.
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2],
            "date": ["2021-01-03", "2021-02-03", "2021-01-10", "2021-02-20"],
            "amount": [5.0, 5.0, 0.0, 0.0],
        }
    )
    d = clvlab.describe_customers(log, period="M", observation_end="2021-02-28")
    assert d.metrics["retention_rate"] == 1.0
    assert d.metrics["churn_rate"] == 0.0
    assert d.metrics["expected_lifespan"] == np.inf
    assert d.customers["simple_clv"].tolist() == [np.inf, 0.0]  # zero revenue stays zero
    # A discount rate makes it finite again: (1 + d) / d = 11 periods at 10%.
    disc = clvlab.describe_customers(log, period="M", observation_end="2021-02-28", discount_rate=0.1)
    assert disc.metrics["expected_lifespan"] == pytest.approx(11.0)


def _cohorts_by_hand(log: pd.DataFrame, freq: str) -> pd.DataFrame:
    """The cohort table with calendar periods, plain pandas: customers of each first-purchase period
    active (any purchase) in each later period."""
    per = log.assign(p=log["date"].dt.to_period(freq))
    first = per.groupby("customer_id")["p"].min().rename("cohort")
    active = per[["customer_id", "p"]].drop_duplicates().join(first, on="customer_id")
    active["j"] = [(p - k).n for p, k in zip(active["p"], active["cohort"], strict=True)]
    return active.pivot_table(
        index="cohort", columns="j", values="customer_id", aggfunc="count", fill_value=0
    )


@pytest.mark.parametrize(
    ("freq", "period", "end"),
    [("M", "M", "2011-11-30"), ("Q", "Q", "2011-09-30"), ("W-SAT", "W", "2011-11-26")],
)
def test_cohorts_retention_and_churn_against_an_independent_table(freq, period, end):
    retail = clvlab.datasets.load_online_retail()
    log = retail[retail["date"] <= end]
    d = clvlab.describe_customers(retail, period=period, observation_end=end, drop_after_end=True)
    table = _cohorts_by_hand(log, freq)
    last = log["date"].dt.to_period(freq).max()
    n_periods = (last - table.index.min()).n + 1
    # Every observed cell agrees; cells after the end are NaN.
    ours = d.cohorts
    assert len(ours) == len(table)
    for (k, row), (_, mine) in zip(table.iterrows(), ours.iterrows(), strict=True):
        offset = (last - k).n  # periods observed after the cohort's own
        np.testing.assert_array_equal(
            mine.to_numpy()[: offset + 1], row.reindex(range(offset + 1), fill_value=0)
        )
        assert mine.iloc[offset + 1 :].isna().all()
        assert mine.name.to_period(freq) == k
    # Period-over-period retention, pooled over the cohorts observed j periods, by plain loops.
    num = den = 0.0
    for j in range(1, n_periods):
        a = b = 0.0
        for k, row in table.iterrows():
            if (last - k).n >= j:
                a += row.get(j, 0)
                b += row.get(j - 1, 0)
        assert d.retention.loc[j, "active"] == a
        assert d.retention.loc[j, "active_before"] == b
        assert d.retention.loc[j, "retention_rate"] == pytest.approx(a / b, rel=1e-14)
        assert d.retention.loc[j, "churn_rate"] == pytest.approx(1 - a / b, rel=1e-14)
        num, den = num + a, den + b
    assert d.metrics["retention_rate"] == pytest.approx(num / den, rel=1e-14)
    assert d.metrics["churn_rate"] == pytest.approx(1 - num / den, rel=1e-14)
    assert d.metrics["expected_lifespan"] == pytest.approx(den / (den - num), rel=1e-12)
    # Orders are purchase days, as in rfm_summary.
    s = clvlab.rfm_summary(retail, monetary_value="amount", observation_end=end, drop_after_end=True)
    np.testing.assert_array_equal(d.customers["orders"], s["frequency"] + 1)
    assert d.metrics["customers"] == len(s)


def test_periods_count_back_from_the_end():
    day = pd.Timestamp("1970-01-01")

    def days(*dates):
        return [(pd.Timestamp(x) - day).days for x in dates]

    # Years ending 1998-06-30: 1996-07-01 .. 1997-06-30 and 1997-07-01 .. 1998-06-30.
    starts = period_starts(*days("1997-01-01", "1998-06-30"), "Y")
    assert starts.tolist() == days("1996-07-01", "1997-07-01")
    # Calendar months when the end is a month end; weeks of 7 days back from the end.
    assert period_starts(*days("2020-01-31", "2020-03-31"), "M").tolist() == days(
        "2020-01-01", "2020-02-01", "2020-03-01"
    )
    assert period_starts(*days("2020-01-01", "2020-01-15"), "W").tolist() == days(
        "2019-12-26", "2020-01-02", "2020-01-09"
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
