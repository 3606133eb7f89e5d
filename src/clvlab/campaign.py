r"""Campaign decisions on a targeting table: whom to contact, and the profit to expect from it.

:func:`plan_campaign` takes the targeting table of :func:`clvlab.predict_customer_value` and decides,
customer by customer, whether a contact (an offer, a call, a mailing) pays for itself.

Definitions
-----------
* *Uplift* :math:`u_i`: the fractional increase in customer *i*'s value caused by the contact: a
  customer worth :math:`v_i` without it is worth :math:`(1 + u_i) v_i` with it (0.05: the contact raises
  what the customer will spend over the table's horizon by 5%). It is an input: clvlab's models describe
  what customers do, not what a campaign changes; measure it with a controlled test.
* *Expected incremental profit* of contacting customer *i*:

  .. math:: \pi_i = u_i \, m_i \, v_i - c,

  with :math:`v_i` the customer's value in the table (``clv``: expected discounted revenue over the
  horizon), :math:`m_i` the profit margin on revenue and :math:`c` the cost of one contact. When the
  table already values profit (built with ``margin=``, value column ``clv_profit``), :math:`m_i v_i` is
  that column and no second margin is applied.
* The decision: customers are ranked by :math:`\pi_i` (highest first, ties by customer id); those with
  :math:`\pi_i > 0` are contacted, or with a ``budget`` B only the best :math:`\lfloor B / c \rfloor` of
  them (the number of contacts times the contact cost stays within the budget).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clvlab._types import FloatArray
from clvlab.errors import DataError
from clvlab.targeting import ACTION_SEGMENTS, VALUE_TIERS, value_rank

__all__ = ["UPLIFT_MAX", "CampaignPlan", "plan_campaign"]

#: Largest uplift :func:`plan_campaign` accepts: 1.0, a contact that doubles the customer's value. Larger
#: values are far beyond what campaigns are measured to achieve, and are usually a percentage passed as a
#: number (5 meaning 5%, which is 0.05).
UPLIFT_MAX = 1.0


@dataclass(frozen=True)
class CampaignPlan:
    """The outcome of :func:`plan_campaign` (see there for the definitions).

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per customer of the table, indexed by customer id, in the table's order.
    segments : pandas.DataFrame
        One row per segment of the ``by`` column.
    totals : pandas.Series
        The campaign as a whole.
    decision : str
        The decision in one sentence: whom to contact and the profit to expect, with its interval.
    interval_note : str
        What the interval covers (or why there is none).
    """

    customers: pd.DataFrame
    segments: pd.DataFrame
    totals: pd.Series
    decision: str
    interval_note: str

    def __repr__(self) -> str:
        return f"CampaignPlan: {self.decision}\n{self.totals.to_string()}"


def _id(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _require_columns(table: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in dict.fromkeys(columns) if c not in table.columns]
    if missing:
        raise DataError(
            f"the table lacks column(s) {missing}; pass the targeting table of "
            f"clvlab.predict_customer_value (it has {list(table.columns)})"
        )


def _finite_column(table: pd.DataFrame, column: str, what: str) -> FloatArray:
    try:
        values = table[column].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise DataError(f"column {column!r} ({what}) must hold numbers: {exc}") from exc
    bad = ~np.isfinite(values)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"column {column!r} ({what}) must be finite: {int(bad.sum())} bad value(s), first "
            f"{values[pos]!r} for customer id {_id(table.index[pos])!r}"
        )
    return values


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    out = float(value)
    if not math.isfinite(out):
        raise DataError(f"{name} must be finite, got {value!r}")
    return out


def _segment_order(table: pd.DataFrame, by: str) -> list[Any]:
    """Rows of the segment summary: the canonical order of the table's segment columns, else sorted."""
    if by == "action_segment":
        return [name for name, _, _ in ACTION_SEGMENTS]
    if by == "segment":
        return [name for name, _ in VALUE_TIERS]
    return sorted(table[by].unique().tolist())


def _value_column(table: pd.DataFrame, value_column: str | None) -> str:
    if value_column is not None:
        return value_column
    recorded = table.attrs.get("value_column")
    if isinstance(recorded, str) and recorded in table.columns:
        return recorded
    for name in ("clv", "clv_profit"):
        if name in table.columns:
            return name
    raise DataError(
        "the table has no value column ('clv', or 'clv_profit' with a margin); pass value_column= or the "
        f"targeting table of clvlab.predict_customer_value (it has {list(table.columns)})"
    )


def _is_profit(table: pd.DataFrame, column: str) -> bool:
    """Whether ``column`` already holds profit: a margin was applied upstream."""
    if column.startswith("clv_profit"):
        return True
    return column == table.attrs.get("value_column") and table.attrs.get("value_basis") == "profit"


def _rates(
    spec: Any, table: pd.DataFrame, name: str, low: float, high: float, closed_low: bool, segments: Any
) -> FloatArray:
    """A rate per customer from a number, a column name of the table or (``segments``) a mapping."""
    n = len(table)
    if isinstance(spec, str):
        values = _finite_column(table, spec, name)
    elif isinstance(spec, Mapping):
        if segments is None:
            raise TypeError(f"{name} must be a number or a column name of the table, got a mapping")
        by, order = segments
        present = table[by]
        missing = sorted({str(s) for s in present.unique() if s not in spec})
        if missing:
            raise DataError(
                f"{name} has no rate for {by} value(s) {missing}; give one for every {by} of the table "
                f"(0 for none): {[str(s) for s in present.unique()]}"
            )
        unknown = sorted({str(k) for k in spec if k not in set(order) | set(present.unique())})
        if unknown:
            raise DataError(f"{name} names {by} value(s) {unknown} that the table does not have")
        values = np.array([_number(spec[s], f"{name}[{s!r}]") for s in present], dtype=np.float64)
    else:
        values = np.full(n, _number(spec, name))
    below = values < low if closed_low else values <= low
    bad = below | (values > high)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        interval = f"{'[' if closed_low else '('}{low:g}, {high:g}]"
        hint = (
            f" (the fractional increase in value caused by a contact: 0.05 for 5%; above {high:g} a "
            "contact would more than double the customer's value)"
            if name == "uplift"
            else " (the share of revenue that is profit: 0.3 for 30%)"
        )
        raise DataError(
            f"{name} must lie in {interval}{hint}; got {values[pos]!r}"
            + (f" for customer id {_id(table.index[pos])!r}" if not np.isscalar(spec) else "")
        )
    return values


def _interval_note(level: float, kind: str | None, bounds: tuple[str, str]) -> str:
    pct = f"{100 * level:g}%"
    exact = "the uplift, margin and contact cost are taken as exact"
    if kind == "parameter":
        return (
            f"{pct} parameter interval from the table's {bounds[0]} / {bounds[1]}: the uncertainty of the "
            f"estimated model parameters only; {exact}. The total is the sum of the contacted customers' "
            "bounds: the interval of the total's expectation when customers' values rise and fall together "
            "across parameter draws (as they largely do, sharing the population parameters), otherwise "
            "wider. It does not cover how much each customer will actually buy."
        )
    if kind == "predictive":
        return (
            f"{pct} predictive interval from the table's {bounds[0]} / {bounds[1]}: per customer, the "
            "range of their own incremental profit when the uplift scales what they actually spend "
            f"(their purchase randomness and the parameter uncertainty); {exact}. The total is the sum "
            "of the contacted customers' bounds, as if every one landed on their bound at once: wider "
            "than the interval of the total, since customers' outcomes partly offset (an outer range)."
        )
    return (
        f"{pct} interval from the table's {bounds[0]} / {bounds[1]}, of unrecorded kind (the table's "
        "attrs['interval_kind'] is missing: 'parameter' bounds cover parameter uncertainty only, "
        f"'predictive' ones each customer's own purchases too); {exact}; the total sums the bounds."
    )


def plan_campaign(
    table: pd.DataFrame,
    *,
    contact_cost: float,
    uplift: Any,
    margin: Any = None,
    budget: float | None = None,
    value_column: str | None = None,
    interval: float | None = 0.9,
    by: str = "action_segment",
) -> CampaignPlan:
    r"""Whom to contact, and the incremental profit to expect, from a targeting table.

    Parameters
    ----------
    table : pandas.DataFrame
        The targeting table of :func:`clvlab.predict_customer_value`, indexed by customer id; never
        modified.
    contact_cost : float
        Cost of contacting one customer, in the value's currency; finite and non-negative.
    uplift : float, str or mapping
        The fractional increase in a customer's value caused by the contact (see
        :mod:`clvlab.campaign`), in [0, :data:`UPLIFT_MAX`]: one rate for everyone, a column name of the
        table with each customer's rate, or a mapping from the values of the ``by`` column to a rate
        (``{"top value active": 0.02, "high value at risk": 0.15, ...}``; every segment of the table needs
        one).
    margin : float or str, optional
        Profit margin on revenue, in (0, 1]: a rate, or a column name of the table. Required when the
        table values revenue (``clv``; pass 1.0 to treat revenue as profit); refused when it already
        values profit (built with ``margin=``: ``clv_profit``), which would apply a margin twice.
    budget : float, optional
        Money available for contacts: at most :math:`\lfloor` budget / contact_cost :math:`\rfloor`
        customers are contacted, the best ones. Without it every customer with a positive expected
        incremental profit is.
    value_column : str, optional
        The value per customer; by default the table's ``attrs["value_column"]`` (``clv``, or
        ``clv_profit`` for a table valued on profit).
    interval : float or None
        Level of the profit interval; it must be the level of the table's bounds
        (``<value_column>_lower`` / ``_upper``, ``attrs["interval"]``). ``None``: no interval. A table
        without bounds gives no interval (the note says so).
    by : str
        The column of the per-segment summary and of a per-segment ``uplift``.

    Returns
    -------
    CampaignPlan
        ``customers``, indexed by customer id: ``by``, ``value`` (the value column), ``margin`` (when
        applied here), ``uplift``, ``incremental_value`` (:math:`u_i m_i v_i`),
        ``expected_incremental_profit`` (:math:`\pi_i`), with bounds ``incremental_profit_lower`` /
        ``incremental_profit_upper`` (:math:`u_i m_i` times the value's bounds, minus the cost),
        ``profit_rank`` (1 = the most profitable contact) and ``contact`` (bool).

        ``segments``, one row per value of ``by`` (all canonical segments, empty ones too):
        ``customers``, ``profitable`` (positive expected incremental profit), ``contacted``,
        ``contact_cost`` (total spent), ``expected_incremental_profit`` of the contacted, and its bounds.

        ``totals``: the same for the whole campaign, plus ``max_contacts`` (what the budget pays for; NaN
        without a budget) and ``budget``.

        ``decision`` says it in a sentence; ``interval_note`` what the interval covers.

    Notes
    -----
    The expected incremental profit is an expectation under the model, with the uplift, margin and
    contact cost as given: a wrong uplift moves every number here in proportion. The value is the table's
    (discounted) value over its horizon, so a contact's effect is assumed to last that long.

    Examples
    --------
    >>> import pandas as pd
    >>> import clvlab
    >>> table = pd.DataFrame({"clv": [1000.0, 200.0, 50.0], "action_segment": ["top value active"] * 3},
    ...                      index=pd.Index([1, 2, 3], name="customer_id"))
    >>> plan = clvlab.plan_campaign(table, contact_cost=5.0, uplift=0.1, margin=0.5, interval=None)
    >>> plan.customers["expected_incremental_profit"].tolist(), plan.customers["contact"].tolist()
    ([45.0, 5.0, -2.5], [True, True, False])
    """
    if not isinstance(table, pd.DataFrame):
        raise DataError(
            f"table must be the targeting table (a pandas DataFrame) of clvlab.predict_customer_value, "
            f"got {type(table).__name__}"
        )
    cost = _number(contact_cost, "contact_cost")
    if cost < 0:
        raise DataError(f"contact_cost must be non-negative (the cost of one contact), got {contact_cost!r}")
    budget_value = None
    if budget is not None:
        budget_value = _number(budget, "budget")
        if budget_value < 0:
            raise DataError(f"budget must be non-negative, got {budget!r}")
    level = None
    if interval is not None:
        level = _number(interval, "interval")
        if not 0 < level < 1:
            raise DataError(f"interval must lie in (0, 1) (e.g. 0.9 for 90%), got {interval!r}")
    column = _value_column(table, value_column)
    needed = [column, by] + [spec for spec in (margin, uplift) if isinstance(spec, str)]
    _require_columns(table, needed)
    if len(table) == 0:
        raise DataError("the table has no customers")
    if table.index.has_duplicates:
        raise DataError(
            f"the table has duplicated customer ids, first {_id(table.index[table.index.duplicated()][0])!r}"
        )
    profit_basis = _is_profit(table, column)
    if profit_basis and margin is not None:
        raise DataError(
            f"the values in {column!r} are already profit (the table was built with margin=...); a second "
            "margin would count it twice: leave margin out"
        )
    if not profit_basis and margin is None:
        raise DataError(
            f"the values in {column!r} are revenue: pass margin= (the share of revenue that is profit, "
            "e.g. 0.3, or a column of the table; 1.0 treats revenue as profit), or value the table on profit "
            "with predict_customer_value(..., margin=...)"
        )
    value = _finite_column(table, column, "value")
    order = _segment_order(table, by)
    up = _rates(uplift, table, "uplift", 0.0, UPLIFT_MAX, True, (by, order))
    m = np.ones(len(table)) if margin is None else _rates(margin, table, "margin", 0.0, 1.0, False, None)
    scale = up * m
    gross = scale * value
    profit = gross - cost

    bounds = (f"{column}_lower", f"{column}_upper")
    has_bounds = all(b in table.columns for b in bounds)
    lower = upper = None
    if level is None:
        note = "no interval: interval=None"
    elif not has_bounds:
        note = (
            f"no interval: the table has no {bounds[0]} / {bounds[1]}; build it with "
            f"predict_customer_value(..., interval={level:g}) (interval_kind='parameter' or 'predictive')"
        )
    else:
        recorded = table.attrs.get("interval")
        if recorded is not None and not math.isclose(float(recorded), level, abs_tol=1e-12):
            table_level = float(recorded)
            raise DataError(
                f"the table's bounds are {100 * table_level:g}% bounds; pass interval={table_level:g} or "
                f"build the table with interval={level:g}"
            )
        kind = table.attrs.get("interval_kind")
        note = _interval_note(level, kind if isinstance(kind, str) else None, bounds)
        lower = scale * _finite_column(table, bounds[0], "lower bound") - cost
        upper = scale * _finite_column(table, bounds[1], "upper bound") - cost

    index = table.index
    n = len(index)
    rank = value_rank(profit, index)
    n_profitable = int(np.sum(profit > 0))
    max_contacts = n
    if budget_value is not None and cost > 0:
        # floor(B / c), robust to rounding (0.3 / 0.1 is 2.9999999999999996)
        max_contacts = min(n, math.floor(budget_value / cost * (1 + 1e-12)))
    n_contacts = min(n_profitable, max_contacts)
    contact = rank <= n_contacts

    customers = pd.DataFrame({by: table[by].to_numpy(), "value": value}, index=index)
    if margin is not None:
        customers["margin"] = m
    customers["uplift"] = up
    customers["incremental_value"] = gross
    customers["expected_incremental_profit"] = profit
    if lower is not None and upper is not None:
        customers["incremental_profit_lower"] = lower
        customers["incremental_profit_upper"] = upper
    customers["profit_rank"] = rank
    customers["contact"] = contact

    chosen = customers[contact]
    keys = customers[by]
    grouped = customers.groupby(by, sort=False)
    segments = pd.DataFrame(
        {
            "customers": grouped.size(),
            "profitable": (customers["expected_incremental_profit"] > 0).groupby(keys.to_numpy()).sum(),
            "contacted": customers["contact"].groupby(keys.to_numpy()).sum(),
        }
    )
    segments = segments.reindex(list(dict.fromkeys([*order, *keys.unique().tolist()])), fill_value=0)
    segments = segments.astype(np.int64)
    segments["contact_cost"] = segments["contacted"] * cost
    sums = chosen.groupby(by, sort=False)
    for name in ("expected_incremental_profit", "incremental_profit_lower", "incremental_profit_upper"):
        if name in chosen.columns:
            segments[name] = sums[name].sum().reindex(segments.index, fill_value=0.0)
        else:
            segments[name] = np.nan
    segments.index.name = by

    total_profit = float(chosen["expected_incremental_profit"].sum())
    total_lower = float(chosen["incremental_profit_lower"].sum()) if lower is not None else math.nan
    total_upper = float(chosen["incremental_profit_upper"].sum()) if upper is not None else math.nan
    totals = pd.Series(
        {
            "customers": float(n),
            "profitable": float(n_profitable),
            "contacted": float(n_contacts),
            "contact_cost": n_contacts * cost,
            "expected_incremental_profit": total_profit,
            "incremental_profit_lower": total_lower,
            "incremental_profit_upper": total_upper,
            "max_contacts": float(max_contacts) if budget_value is not None else math.nan,
            "budget": budget_value if budget_value is not None else math.nan,
        },
        name="value",
    )
    totals.index.name = "metric"

    if n_contacts == 0:
        best = int(np.argmin(rank))
        why = (
            f"the budget ({budget_value:,.2f}) pays for no contact at {cost:,.2f} each"
            if n_profitable > 0
            else (
                f"no customer's expected incremental profit is positive (the best, customer id "
                f"{_id(index[best])!r}, {profit[best]:,.2f} at a contact cost of {cost:,.2f})"
            )
        )
        decision = f"Contact nobody: {why}."
    else:
        decision = (
            f"Contact {n_contacts:,} of {n:,} customers (contact cost {n_contacts * cost:,.2f}); "
            f"expected incremental profit {total_profit:,.2f}"
        )
        if lower is not None and level is not None:
            kind = table.attrs.get("interval_kind")
            label = f"{100 * level:g}% {kind + ' ' if isinstance(kind, str) else ''}interval"
            decision += f" ({label} {total_lower:,.2f} to {total_upper:,.2f})"
        else:
            decision += " (no interval: the table has no value bounds)" if level is not None else ""
        if n_contacts < n_profitable:
            decision += (
                f"; the budget of {budget_value:,.2f} limits the campaign to {max_contacts:,} of the "
                f"{n_profitable:,} customers worth contacting"
            )
        decision += "."
    info = {
        "value_column": column,
        "value_basis": "profit" if profit_basis else "revenue",
        "contact_cost": cost,
        "budget": budget_value,
        "interval": level if lower is not None else None,
        "interval_kind": table.attrs.get("interval_kind") if lower is not None else None,
        "interval_note": note,
        "by": by,
    }
    for obj in (customers, segments, totals):
        obj.attrs.update(info)
    return CampaignPlan(
        customers=customers, segments=segments, totals=totals, decision=decision, interval_note=note
    )
