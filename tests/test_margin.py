"""CLV as profit (issue 19): ``margin=`` on customer_lifetime_value and the targeting table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvlab

KW = {"horizon": 52, "discount_rate": 0.1, "discount_period": 52}


@pytest.fixture(scope="module")
def fitted(cdnow_summary):
    return clvlab.BetaGeo().fit(cdnow_summary), clvlab.GammaGamma().fit(cdnow_summary)


@pytest.fixture(scope="module")
def with_margin(cdnow_summary):
    data = cdnow_summary.copy()
    data["margin"] = np.where(np.arange(len(data)) % 2 == 0, 0.2, 0.5)
    return data


def test_scalar_and_column_margins_scale_clv_and_name_it_profit(fitted, cdnow_summary, with_margin):
    bg, gg = fitted
    revenue = clvlab.customer_lifetime_value(bg, gg, cdnow_summary, **KW)
    assert revenue.name == "clv"
    assert revenue.attrs["value_basis"] == "revenue"
    profit = clvlab.customer_lifetime_value(bg, gg, cdnow_summary, margin=0.3, **KW)
    assert profit.name == "clv_profit"
    assert profit.attrs["value_basis"] == "profit"
    np.testing.assert_allclose(profit.to_numpy(), 0.3 * revenue.to_numpy(), rtol=1e-12)
    per_customer = clvlab.customer_lifetime_value(bg, gg, with_margin, margin="margin", **KW)
    np.testing.assert_allclose(
        per_customer.to_numpy(), with_margin["margin"] * revenue.to_numpy(), rtol=1e-12
    )
    assert "margin" in with_margin.columns
    assert "clv_profit" not in with_margin.columns


def test_margin_scales_both_kinds_of_bounds(fitted, cdnow_summary):
    bg, gg = fitted
    for kind in ("parameter", "predictive"):
        rev = clvlab.customer_lifetime_value(
            bg, gg, cdnow_summary, interval=0.9, interval_kind=kind, n_draws=50, **KW
        )
        prof = clvlab.customer_lifetime_value(
            bg, gg, cdnow_summary, interval=0.9, interval_kind=kind, n_draws=50, margin=0.25, **KW
        )
        assert list(prof.columns) == ["clv_profit", "clv_profit_lower", "clv_profit_upper"]
        assert prof.attrs == {"interval": 0.9, "interval_kind": kind, "value_basis": "profit"}
        np.testing.assert_allclose(prof.to_numpy(), 0.25 * rev.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    ("margin", "match"),
    [
        (0.0, r"margin must be a rate in \(0, 1\]"),
        (1.5, r"margin must be a rate in \(0, 1\]"),
        (float("nan"), r"margin must be a rate in \(0, 1\]"),
        (-0.2, r"margin must be a rate in \(0, 1\]"),
        (True, r"margin must be a rate in \(0, 1\]"),
        ("no_such_column", "names no column of the data"),
        ("label", "must hold numbers"),
        ("bad", r"1 bad value\(s\), first 30.0 in row 1"),
    ],
)
def test_bad_margins_are_refused(fitted, cdnow_summary, margin, match):
    bg, gg = fitted
    data = cdnow_summary.copy()
    data["label"] = "a"
    data["bad"] = 0.3
    data.iloc[1, data.columns.get_loc("bad")] = 30.0  # a percentage, not a rate
    with pytest.raises(clvlab.DataError, match=match):
        clvlab.customer_lifetime_value(bg, gg, data, margin=margin, **KW)


def test_targeting_table_on_profit(fitted, cdnow_summary, with_margin):
    bg, gg = fitted
    revenue = clvlab.predict_customer_value(bg, gg, with_margin, acquisition_cost=10.0, **KW)
    profit = clvlab.predict_customer_value(bg, gg, with_margin, acquisition_cost=10.0, margin="margin", **KW)
    assert "clv" not in profit.columns
    assert "clv_to_cac" not in profit.columns
    assert {"margin", "clv_revenue", "clv_profit", "clv_profit_to_cac"} <= set(profit.columns)
    assert profit.attrs["value_column"] == "clv_profit"
    assert profit.attrs["value_basis"] == "profit"
    assert revenue.attrs["value_column"] == "clv"
    assert revenue.attrs["value_basis"] == "revenue"
    np.testing.assert_allclose(profit["clv_revenue"], revenue["clv"], rtol=1e-12)
    np.testing.assert_allclose(profit["clv_profit"], with_margin["margin"] * revenue["clv"], rtol=1e-12)
    np.testing.assert_allclose(profit["clv_profit_to_cac"], profit["clv_profit"] / 10.0, rtol=1e-12)
    # Ranks follow profit: with per-customer margins the order differs from the revenue order.
    expected_rank = (-profit["clv_profit"]).rank(method="first").astype(int)
    assert (profit["clv_rank"] == expected_rank).mean() > 0.99
    assert not (profit["clv_rank"] == revenue["clv_rank"]).all()
    # Profit payback = revenue payback of cost / margin (the identity the old docstring suggested).
    scaled = clvlab.predict_customer_value(
        bg, gg, with_margin, acquisition_cost=pd.Series(10.0 / with_margin["margin"]), **KW
    )
    np.testing.assert_allclose(profit["payback_horizon"], scaled["payback_horizon"], rtol=1e-9)
    summary = clvlab.segment_summary(profit)
    assert {"clv_profit_total", "clv_profit_mean", "clv_profit_to_cac"} <= set(summary.columns)
    assert summary["clv_profit_total"].sum() == pytest.approx(profit["clv_profit"].sum())


def test_targeting_table_records_the_interval_kind(fitted, cdnow_summary):
    bg, gg = fitted
    table = clvlab.predict_customer_value(
        bg, gg, cdnow_summary, interval=0.8, interval_kind="predictive", n_draws=50, margin=0.4, **KW
    )
    assert (table.attrs["interval"], table.attrs["interval_kind"]) == (0.8, "predictive")
    assert np.all(table["clv_profit_lower"] <= table["clv_profit_upper"])
    assert np.all(table["clv_profit_lower"] >= 0)
