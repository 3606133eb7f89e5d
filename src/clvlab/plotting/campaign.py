"""The profit curve of a campaign plan: cumulative expected incremental profit by number of contacts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from clvlab.campaign import CampaignPlan
from clvlab.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_profit_curve", "plot_profit_curve_data"]


def plot_profit_curve_data(plan: CampaignPlan) -> pd.DataFrame:
    """Cumulative expected incremental profit of contacting the best k customers, k = 0 .. N.

    Customers are taken in the plan's ``profit_rank`` order (highest expected incremental profit first),
    so the curve rises while each added contact is profitable, peaks at the optimum (every customer with
    a positive expected profit contacted) and falls after it.

    Parameters
    ----------
    plan : CampaignPlan
        The output of :func:`clvlab.plan_campaign`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``contacts`` (k = 0 .. N), with ``expected_incremental_profit`` (the sum over the k
        best customers; 0 at k = 0) and, when the plan has an interval, ``incremental_profit_lower`` and
        ``incremental_profit_upper`` (the sums of their bounds, see ``plan.interval_note``). ``attrs``:
        ``optimum_contacts`` and ``optimum_profit`` (the peak), ``budget_contacts`` (the most contacts the
        budget pays for; None without a budget) and ``planned_contacts``, ``planned_profit`` (the plan's
        choice).
    """
    if not isinstance(plan, CampaignPlan):
        raise TypeError(f"plan must be the CampaignPlan of clvlab.plan_campaign, got {type(plan).__name__}")
    ordered = plan.customers.sort_values("profit_rank")
    columns = [
        c
        for c in ("expected_incremental_profit", "incremental_profit_lower", "incremental_profit_upper")
        if c in ordered.columns
    ]
    cumulative = np.vstack([np.zeros(len(columns)), np.cumsum(ordered[columns].to_numpy(), axis=0)])
    out = pd.DataFrame(cumulative, columns=columns, index=pd.RangeIndex(len(ordered) + 1, name="contacts"))
    optimum = int(plan.totals["profitable"])
    budget = plan.totals["max_contacts"]
    out.attrs.update(
        optimum_contacts=optimum,
        optimum_profit=float(out["expected_incremental_profit"].iloc[optimum]),
        budget_contacts=None if np.isnan(budget) else int(budget),
        planned_contacts=int(plan.totals["contacted"]),
        planned_profit=float(plan.totals["expected_incremental_profit"]),
        interval_note=plan.interval_note,
    )
    return out


def plot_profit_curve(plan: CampaignPlan, *, ax: Axes | None = None) -> Axes:
    """Cumulative expected incremental profit against the number of customers contacted, best first.

    Draws :func:`plot_profit_curve_data`: the curve, its interval band when the plan has one, the optimum
    (a dot) and the number of contacts the budget pays for (a dashed line).

    Returns
    -------
    matplotlib.axes.Axes
    """
    data = plot_profit_curve_data(plan)
    ax = new_axes(ax)
    k = data.index.to_numpy()
    if "incremental_profit_lower" in data.columns:
        level = plan.totals.attrs.get("interval")
        kind = plan.totals.attrs.get("interval_kind")
        label = f"{100 * level:g}% {kind or ''} interval (summed bounds)" if level else "interval"
        ax.fill_between(
            k,
            data["incremental_profit_lower"],
            data["incremental_profit_upper"],
            color="#4C72B0",
            alpha=0.2,
            linewidth=0,
            label=label,
        )
    ax.plot(k, data["expected_incremental_profit"], color="#4C72B0", linewidth=2, label="Expected")
    best, top = data.attrs["optimum_contacts"], data.attrs["optimum_profit"]
    ax.plot([best], [top], "o", color="#C44E52", label=f"Optimum: {best:,} contacts, {top:,.0f}")
    budget = data.attrs["budget_contacts"]
    if budget is not None and budget <= k[-1]:
        ax.axvline(budget, color="0.3", linestyle="--", linewidth=1, label=f"Budget: {budget:,} contacts")
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    ax.set_xlim(0, k[-1])
    ax.set_xlabel("Customers contacted, best expected incremental profit first")
    ax.set_ylabel("Cumulative expected incremental profit")
    ax.set_title(
        f"Profit curve: contact {data.attrs['planned_contacts']:,}, "
        f"expect {data.attrs['planned_profit']:,.0f}"
    )
    ax.legend(frameon=False, loc="best")
    return ax
