"""A backtest's metric by origin: each model and baseline across rolling calibration ends."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from clvlab.backtesting import backtest_wide
from clvlab.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_backtest", "plot_backtest_data"]

_LABELS = {
    "gini": "Normalised Gini of the value ranking (1 perfect, 0 random)",
    "top_decile_lift": "Top-decile lift of holdout value",
    "spearman": "Spearman correlation of holdout purchases",
    "value_spearman": "Spearman correlation of holdout value",
    "purchases_relative_error": "Total holdout purchases: predicted / actual - 1",
    "value_relative_error": "Total holdout value: predicted / actual - 1",
    "rmse": "RMSE of holdout purchases per customer",
    "mae": "MAE of holdout purchases per customer",
}


def plot_backtest_data(results: pd.DataFrame, metric: str = "gini") -> pd.DataFrame:
    """One metric of a backtest by origin: forecasters as rows, origins as columns, and their mean.

    Parameters
    ----------
    results : pandas.DataFrame
        The output of :func:`clvlab.backtest`.
    metric : str
        A metric name of :func:`clvlab.evaluate` (``"gini"``, ``"top_decile_lift"``, ``"rmse"``, ...).

    Returns
    -------
    pandas.DataFrame
        :func:`clvlab.backtest_wide` of ``metric``.
    """
    return backtest_wide(results, metric)


def plot_backtest(results: pd.DataFrame, metric: str = "gini", *, ax: Axes | None = None) -> Axes:
    """A backtest's metric at each origin, one line per model and baseline (mean in the legend).

    Draws :func:`plot_backtest_data`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    data = plot_backtest_data(results, metric)
    ax = new_axes(ax)
    origins = [c for c in data.columns if c != "mean"]
    x = np.arange(len(origins))
    for name, row in data.iterrows():
        style = "--" if name in ("simple", "last_period") else "-"
        ax.plot(
            x, row[origins].to_numpy(dtype=float), style, marker="o", label=f"{name} (mean {row['mean']:.3g})"
        )
    ax.set_xticks(x, [str(o) for o in origins])
    ax.set_xlabel("Origin (calibration end)")
    ax.set_ylabel(_LABELS.get(metric, metric))
    holdout = results.attrs.get("holdout")
    unit = results.attrs.get("time_unit")
    after = f", {holdout:g} {unit} holdout each" if holdout is not None else ""
    ax.set_title(f"Backtest: {metric} at {len(origins)} origins{after}")
    if metric in ("purchases_relative_error", "value_relative_error"):
        ax.axhline(0.0, color="0.5", linewidth=0.8)
    ax.legend(frameon=False, loc="best")
    return ax
