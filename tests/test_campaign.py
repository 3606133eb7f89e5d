"""plan_campaign and the profit curve: hand-computed decisions, budgets, intervals and refusals."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab import plotting


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _table() -> pd.DataFrame:
    """Four customers, a revenue table with 90% parameter bounds, like predict_customer_value's."""
    table = pd.DataFrame(
        {
            "clv": [1000.0, 200.0, 50.0, 400.0],
            "clv_lower": [900.0, 150.0, 40.0, 300.0],
            "clv_upper": [1100.0, 260.0, 60.0, 500.0],
            "action_segment": ["top value active", "low value active", "likely lost", "top value active"],
            "m": [0.5, 0.5, 1.0, 0.25],
        },
        index=pd.Index([10, 11, 12, 13], name="customer_id"),
    )
    table.attrs.update(interval=0.9, interval_kind="parameter", value_column="clv", value_basis="revenue")
    return table


def test_hand_computed_profit_and_choice():
    # profit = uplift x margin x clv - cost = 0.05 x (1000, 200, 50, 400) - 5 = (45, 5, -2.5, 15)
    plan = clvlab.plan_campaign(_table(), contact_cost=5.0, uplift=0.1, margin=0.5)
    c = plan.customers
    np.testing.assert_allclose(c["incremental_value"], [50.0, 10.0, 2.5, 20.0])
    np.testing.assert_allclose(c["expected_incremental_profit"], [45.0, 5.0, -2.5, 15.0])
    assert c["profit_rank"].tolist() == [1, 3, 4, 2]
    assert c["contact"].tolist() == [True, True, False, True]
    # bounds: 0.05 x lower - 5 = (40, 2.5, -3, 10), 0.05 x upper - 5 = (50, 8, -2, 20)
    np.testing.assert_allclose(c["incremental_profit_lower"], [40.0, 2.5, -3.0, 10.0])
    np.testing.assert_allclose(c["incremental_profit_upper"], [50.0, 8.0, -2.0, 20.0])
    t = plan.totals
    assert (t["customers"], t["profitable"], t["contacted"], t["contact_cost"]) == (4, 3, 3, 15.0)
    assert t["expected_incremental_profit"] == pytest.approx(65.0)
    assert (t["incremental_profit_lower"], t["incremental_profit_upper"]) == pytest.approx((52.5, 78.0))
    assert np.isnan(t["max_contacts"])
    s = plan.segments
    assert s.index.tolist() == [name for name, _, _ in clvlab.ACTION_SEGMENTS]
    assert s.loc["top value active", ["customers", "profitable", "contacted"]].tolist() == [2, 2, 2]
    assert s.loc["likely lost", ["customers", "profitable", "contacted"]].tolist() == [1, 0, 0]
    assert s.loc["high value at risk", "customers"] == 0
    assert s.loc["top value active", "expected_incremental_profit"] == pytest.approx(60.0)
    assert s.loc["low value active", "incremental_profit_upper"] == pytest.approx(8.0)
    assert s["expected_incremental_profit"].sum() == pytest.approx(65.0)
    assert plan.decision.startswith("Contact 3 of 4 customers (contact cost 15.00)")
    assert "65.00 (90% parameter interval 52.50 to 78.00)" in plan.decision
    assert "parameter" in plan.interval_note


def test_budget_binding_and_not():
    table = _table()
    binding = clvlab.plan_campaign(table, contact_cost=5.0, uplift=0.1, margin=0.5, budget=14.99)
    # 14.99 / 5 pays for 2 contacts: the two best (45 and 15)
    assert binding.customers["contact"].tolist() == [True, False, False, True]
    assert binding.totals["max_contacts"] == 2
    assert binding.totals["expected_incremental_profit"] == pytest.approx(60.0)
    assert "limits the campaign to 2 of the 3" in binding.decision
    loose = clvlab.plan_campaign(table, contact_cost=5.0, uplift=0.1, margin=0.5, budget=100.0)
    free = clvlab.plan_campaign(table, contact_cost=5.0, uplift=0.1, margin=0.5)
    assert loose.customers["contact"].equals(free.customers["contact"])
    assert loose.totals["contacted"] == 3
    assert "limits" not in loose.decision
    # exactly at the cost of three contacts despite rounding (0.3 / 0.1 = 2.9999999999999996)
    tight = clvlab.plan_campaign(table, contact_cost=0.1, uplift=0.1, margin=0.5, budget=0.3)
    assert tight.totals["max_contacts"] == 3
    none = clvlab.plan_campaign(table, contact_cost=5.0, uplift=0.1, margin=0.5, budget=0.0)
    assert not none.customers["contact"].any()
    assert none.decision.startswith("Contact nobody: the budget")
    # a free contact: the budget cannot bind
    free_contact = clvlab.plan_campaign(table, contact_cost=0.0, uplift=0.1, margin=0.5, budget=0.0)
    assert free_contact.totals["contacted"] == 4


def test_nobody_worth_contacting():
    plan = clvlab.plan_campaign(_table(), contact_cost=100.0, uplift=0.1, margin=0.5)
    assert plan.totals["contacted"] == 0
    assert plan.totals["expected_incremental_profit"] == 0.0
    assert "customer id 10, -50.00" in plan.decision


def test_uplift_per_segment_and_margin_column():
    table = _table()
    uplift = {"top value active": 0.1, "low value active": 0.2, "likely lost": 0.5}
    plan = clvlab.plan_campaign(table, contact_cost=5.0, uplift=uplift, margin=0.5)
    # 0.1 x 0.5 x 1000 - 5, 0.2 x 0.5 x 200 - 5, 0.5 x 0.5 x 50 - 5, 0.1 x 0.5 x 400 - 5
    np.testing.assert_allclose(plan.customers["expected_incremental_profit"], [45.0, 15.0, 7.5, 15.0])
    assert plan.customers["profit_rank"].tolist() == [1, 2, 4, 3]  # the tie at 15: lower id first
    by_column = clvlab.plan_campaign(table, contact_cost=5.0, uplift=0.1, margin="m")
    # 0.1 x (0.5 x 1000, 0.5 x 200, 1.0 x 50, 0.25 x 400) - 5
    np.testing.assert_allclose(by_column.customers["expected_incremental_profit"], [45.0, 5.0, 0.0, 5.0])
    assert by_column.customers["contact"].tolist() == [True, True, False, True]  # zero profit: no contact
    table["u"] = [0.0, 0.1, 0.2, 0.3]
    col = clvlab.plan_campaign(table, contact_cost=1.0, uplift="u", margin=1.0, by="action_segment")
    np.testing.assert_allclose(col.customers["expected_incremental_profit"], [-1.0, 19.0, 9.0, 119.0])


def test_profit_table_takes_no_second_margin():
    table = _table().rename(
        columns={"clv": "clv_profit", "clv_lower": "clv_profit_lower", "clv_upper": "clv_profit_upper"}
    )
    table.attrs.update(value_column="clv_profit", value_basis="profit")
    with pytest.raises(clvlab.DataError, match="already profit"):
        clvlab.plan_campaign(table, contact_cost=5.0, uplift=0.1, margin=0.5)
    plan = clvlab.plan_campaign(table, contact_cost=5.0, uplift=0.05)
    np.testing.assert_allclose(plan.customers["expected_incremental_profit"], [45.0, 5.0, -2.5, 15.0])
    assert "margin" not in plan.customers.columns
    assert plan.totals.attrs["value_basis"] == "profit"
    with pytest.raises(clvlab.DataError, match="revenue: pass margin="):
        clvlab.plan_campaign(_table(), contact_cost=5.0, uplift=0.1)


def test_real_table_revenue_with_margin_equals_profit_table(cdnow_summary):
    bg, gg = clvlab.BetaGeo().fit(cdnow_summary), clvlab.GammaGamma().fit(cdnow_summary)
    kw = {"horizon": 52, "discount_rate": 0.1, "discount_period": 52, "interval": 0.9, "n_draws": 50}
    revenue = clvlab.predict_customer_value(bg, gg, cdnow_summary, **kw)
    profit = clvlab.predict_customer_value(bg, gg, cdnow_summary, margin=0.3, **kw)
    a = clvlab.plan_campaign(revenue, contact_cost=2.0, uplift=0.1, margin=0.3)
    b = clvlab.plan_campaign(profit, contact_cost=2.0, uplift=0.1)
    np.testing.assert_allclose(
        a.customers["expected_incremental_profit"], b.customers["expected_incremental_profit"], rtol=1e-12
    )
    assert a.customers["contact"].equals(b.customers["contact"])
    pd.testing.assert_series_equal(a.totals, b.totals, rtol=1e-10)
    assert 0 < a.totals["contacted"] < len(revenue)
    assert a.totals["incremental_profit_lower"] < a.totals["expected_incremental_profit"]
    assert a.totals["expected_incremental_profit"] < a.totals["incremental_profit_upper"]
    # every contacted customer is more profitable than every one left out
    c = a.customers
    assert c.loc[c["contact"], "expected_incremental_profit"].min() > 0
    assert c.loc[~c["contact"], "expected_incremental_profit"].max() <= 0


def test_interval_level_kind_and_absence():
    table = _table()
    with pytest.raises(clvlab.DataError, match=r"90% bounds; pass interval=0\.9"):
        clvlab.plan_campaign(table, contact_cost=5.0, uplift=0.1, margin=0.5, interval=0.8)
    table.attrs["interval_kind"] = "predictive"
    assert "predictive" in clvlab.plan_campaign(table, contact_cost=5.0, uplift=0.1, margin=0.5).interval_note
    off = clvlab.plan_campaign(table, contact_cost=5.0, uplift=0.1, margin=0.5, interval=None)
    assert "incremental_profit_lower" not in off.customers.columns
    assert np.isnan(off.totals["incremental_profit_lower"])
    bare = table.drop(columns=["clv_lower", "clv_upper"])
    plan = clvlab.plan_campaign(bare, contact_cost=5.0, uplift=0.1, margin=0.5)
    assert "no interval: the table has no value bounds" in plan.decision
    assert plan.interval_note.startswith("no interval: the table has no clv_lower")
    assert np.isnan(plan.segments["incremental_profit_upper"]).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"contact_cost": -1.0}, "contact_cost must be non-negative"),
        ({"contact_cost": float("inf")}, "contact_cost must be finite"),
        ({"contact_cost": float("nan")}, "contact_cost must be finite"),
        ({"uplift": -0.1}, r"uplift must lie in \[0, 1\]"),
        ({"uplift": 5.0}, "0.05 for 5%"),
        ({"margin": 0.0}, r"margin must lie in \(0, 1\]"),
        ({"margin": 1.2}, r"margin must lie in \(0, 1\]"),
        ({"budget": -1.0}, "budget must be non-negative"),
        ({"interval": 1.0}, r"interval must lie in \(0, 1\)"),
        ({"by": "channel"}, r"lacks column\(s\) \['channel'\]"),
        ({"uplift": "u"}, r"lacks column\(s\) \['u'\]"),
        ({"value_column": "clv_profit"}, r"lacks column\(s\) \['clv_profit'\]"),
        ({"uplift": {"top value active": 0.1}}, "no rate for action_segment value"),
        (
            {"uplift": {"top value active": 0.1, "low value active": 0.1, "likely lost": 0, "lost": 0}},
            r"names action_segment value\(s\) \['lost'\]",
        ),
        ({"uplift": {"top value active": 2.0, "low value active": 0.1, "likely lost": 0}}, "customer id 10"),
    ],
)
def test_refusals(kwargs, message):
    args = {"contact_cost": 5.0, "uplift": 0.1, "margin": 0.5} | kwargs
    with pytest.raises(clvlab.DataError, match=message):
        clvlab.plan_campaign(_table(), **args)


def test_bad_values_and_types():
    table = _table()
    table.loc[12, "clv"] = np.nan
    with pytest.raises(clvlab.DataError, match="customer id 12"):
        clvlab.plan_campaign(table, contact_cost=5.0, uplift=0.1, margin=0.5)
    with pytest.raises(TypeError, match="contact_cost must be a number"):
        clvlab.plan_campaign(_table(), contact_cost="5", uplift=0.1, margin=0.5)
    with pytest.raises(clvlab.DataError, match="pandas DataFrame"):
        clvlab.plan_campaign(_table().to_numpy(), contact_cost=5.0, uplift=0.1, margin=0.5)


def test_table_is_not_modified():
    table = _table()
    before, attrs = table.copy(), dict(table.attrs)
    clvlab.plan_campaign(
        table,
        contact_cost=5.0,
        uplift={"top value active": 0.1, "low value active": 0.2, "likely lost": 0.0},
        margin="m",
        budget=10.0,
    )
    pd.testing.assert_frame_equal(table, before)
    assert table.attrs == attrs


def test_profit_curve_data_and_plot():
    plan = clvlab.plan_campaign(_table(), contact_cost=5.0, uplift=0.1, margin=0.5, budget=10.0)
    data = plotting.plot_profit_curve_data(plan)
    # best first: 45, 15, 5, -2.5
    np.testing.assert_allclose(data["expected_incremental_profit"], [0.0, 45.0, 60.0, 65.0, 62.5])
    np.testing.assert_allclose(data["incremental_profit_lower"], [0.0, 40.0, 50.0, 52.5, 49.5])
    assert data.attrs["optimum_contacts"] == 3
    assert data.attrs["optimum_profit"] == pytest.approx(65.0)
    assert data.attrs["budget_contacts"] == 2
    assert data.attrs["planned_contacts"] == 2
    ax = plotting.plot_profit_curve(plan)
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), data["expected_incremental_profit"])
    labels = ax.get_legend_handles_labels()[1]
    assert "Optimum: 3 contacts, 65" in labels
    assert "Budget: 2 contacts" in labels
    assert any("90% parameter interval" in label for label in labels)
    with pytest.raises(TypeError, match="CampaignPlan"):
        plotting.plot_profit_curve_data(_table())


def test_segments_by_value_tier_and_other_columns():
    table = _table()
    table["segment"] = ["platinum", "silver", "bronze", "gold"]
    table["channel"] = ["web", "mail", "web", "mail"]
    plan = clvlab.plan_campaign(
        table,
        contact_cost=5.0,
        uplift={"platinum": 0.1, "gold": 0.1, "silver": 0.0, "bronze": 0.0},
        margin=0.5,
        by="segment",
    )
    assert plan.segments.index.tolist() == [name for name, _ in clvlab.VALUE_TIERS]
    # silver and bronze get no uplift: only 10 (45) and 13 (15) are contacted
    assert plan.customers["contact"].tolist() == [True, False, False, True]
    assert plan.segments["contacted"].tolist() == [1, 1, 0, 0]
    by_channel = clvlab.plan_campaign(table, contact_cost=5.0, uplift=0.1, margin=0.5, by="channel")
    assert by_channel.segments.index.tolist() == ["mail", "web"]
    assert by_channel.segments.loc["mail", "expected_incremental_profit"] == pytest.approx(5.0 + 15.0)
