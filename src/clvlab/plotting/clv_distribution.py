"""Distribution of predicted customer lifetime value in a targeting table, with the value tiers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from clvlab.errors import DataError
from clvlab.plotting._common import new_axes, unit_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_clv_distribution", "plot_clv_distribution_data"]


def plot_clv_distribution_data(
    table: pd.DataFrame, *, column: str = "clv", bins: int = 40, max_value: float | None = None
) -> pd.DataFrame:
    """Histogram of predicted value per customer.

    Parameters
    ----------
    table : pandas.DataFrame
        A targeting table from :func:`clvlab.predict_customer_value` (or any frame with ``column``).
    column : str
        The value column.
    bins : int
        Number of equal-width bins on ``[0, max_value]``.
    max_value : float, optional
        Upper end; defaults to the 99th percentile (the share of customers above it is in
        ``attrs["share_above"]``).

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``left``, ``right`` and ``customers``. ``attrs["tiers"]`` maps each value tier
        of the table's ``segment`` column (if any) but the lowest to its smallest value.
    """
    if column not in table.columns:
        raise DataError(f"the table has no column {column!r}")
    values = table[column].to_numpy(dtype=np.float64)
    if len(values) == 0 or not np.all(np.isfinite(values)):
        raise DataError(f"column {column!r} must hold finite values")
    top = float(np.quantile(values, 0.99)) if max_value is None else float(max_value)
    if not top > max(float(values.min()), 0.0):
        top = float(values.max()) + 1.0
    edges = np.linspace(min(float(values.min()), 0.0), top, int(bins) + 1)
    counts, _ = np.histogram(values, bins=edges)
    out = pd.DataFrame({"left": edges[:-1], "right": edges[1:], "customers": counts})
    out.index.name = "bin"
    tiers: dict[str, float] = {}
    if "segment" in table.columns:
        lowest = table.groupby("segment", sort=False)[column].min().sort_values(ascending=False)
        tiers = {str(k): float(v) for k, v in lowest.iloc[:-1].items()}
    out.attrs.update(
        tiers=tiers,
        share_above=float(np.mean(values > top)),
        customers=len(values),
        horizon=table.attrs.get("horizon"),
        time_unit=table.attrs.get("time_unit"),
    )
    return out


def plot_clv_distribution(
    table: pd.DataFrame,
    *,
    column: str = "clv",
    bins: int = 40,
    max_value: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Histogram of predicted value with the lower bound of each value tier marked.

    Draws :func:`plot_clv_distribution_data` (see there for the parameters).

    Returns
    -------
    matplotlib.axes.Axes
    """
    data = plot_clv_distribution_data(table, column=column, bins=bins, max_value=max_value)
    ax = new_axes(ax)
    left, right = data["left"].to_numpy(), data["right"].to_numpy()
    ax.bar(left, data["customers"], width=right - left, align="edge", color="#4C72B0", label="Customers")
    colours = ["#8172B3", "#DD8452", "#55A868", "#C44E52"]
    for (name, value), colour in zip(data.attrs["tiers"].items(), colours, strict=False):
        if value <= right[-1]:
            ax.axvline(value, color=colour, linestyle="--", label=f"{name.capitalize()} from {value:,.2f}")
    horizon, unit = data.attrs["horizon"], data.attrs["time_unit"]
    what = f" over {horizon:g} {unit_label(unit)}" if horizon is not None and np.isfinite(horizon) else ""
    ax.set_xlim(left[0], right[-1])
    ax.set_xlabel(f"Predicted value per customer{what} (currency units)")
    ax.set_ylabel("Customers")
    above = data.attrs["share_above"]
    note = f" ({100 * above:.1f}% above {right[-1]:,.4g} not shown)" if above > 0 else ""
    ax.set_title(f"Distribution of predicted customer value{note}")
    ax.legend(frameon=False)
    return ax
