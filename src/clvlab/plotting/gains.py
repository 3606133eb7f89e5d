"""Value ranking diagnostics: the gains curve with its Gini coefficient, and decile calibration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clvlab.errors import DataError
from clvlab.evaluation import actual_holdout_value, gains_curve, gini, paired_values, top_share_lift
from clvlab.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "plot_clv_gains",
    "plot_clv_gains_data",
    "plot_value_deciles",
    "plot_value_deciles_data",
]


def _inputs(predicted: Any, actual: Any, column: str) -> tuple[pd.Series, pd.Series]:
    """Predicted scores and actual values as aligned Series.

    ``predicted`` may be a targeting table (its ``column``), ``actual`` a calibration/holdout split (its
    total holdout value, :func:`clvlab.evaluation.actual_holdout_value`).
    """
    if isinstance(predicted, pd.DataFrame):
        if column not in predicted.columns:
            raise DataError(f"the predictions table has no column {column!r}")
        predicted = predicted[column]
    if isinstance(actual, pd.DataFrame):
        actual = actual_holdout_value(actual)
    if not isinstance(predicted, pd.Series):
        predicted = pd.Series(np.asarray(predicted, dtype=np.float64).reshape(-1))
    if not isinstance(actual, pd.Series):
        actual = pd.Series(np.asarray(actual, dtype=np.float64).reshape(-1), index=predicted.index)
    p, a = paired_values(predicted, actual)
    return pd.Series(p, index=predicted.index), pd.Series(a, index=predicted.index)


def plot_clv_gains_data(predicted: Any, actual: Any, *, column: str = "clv") -> pd.DataFrame:
    """Cumulative share of the actual value captured by the customers ranked on predicted value.

    See :mod:`clvlab.evaluation` for the definitions: tied predictions form one block along which the
    curve is linear, so the result does not depend on row order; ``attrs`` carry the normalised Gini
    coefficient and the top-decile lift.

    Parameters
    ----------
    predicted : pandas.Series, array-like or pandas.DataFrame
        Predicted value per customer, or a targeting table (:func:`clvlab.predict_customer_value`) whose
        ``column`` is used.
    actual : pandas.Series, array-like or pandas.DataFrame
        Actual (non-negative) value per customer, or a calibration/holdout split (with
        ``monetary_value_holdout``) whose total holdout value is used. Series are aligned on the index.
    column : str
        Column of a predictions table.

    Returns
    -------
    pandas.DataFrame
        One row per number of customers k = 0 .. N: ``customer_share`` (k / N), ``model`` (share of the
        value held by the top k by prediction), ``perfect`` (by actual value) and ``random`` (k / N).
    """
    p, a = _inputs(predicted, actual, column)
    share, model, perfect = gains_curve(p, a)
    out = pd.DataFrame({"customer_share": share, "model": model, "perfect": perfect, "random": share})
    out.attrs.update(gini=gini(p, a), top_decile_lift=top_share_lift(p, a, 0.1), customers=len(p))
    return out


def plot_clv_gains(predicted: Any, actual: Any, *, column: str = "clv", ax: Axes | None = None) -> Axes:
    """Gains chart: the model's ranking against the perfect and a random one, Gini in the legend.

    Draws :func:`plot_clv_gains_data` (see there for the parameters).

    Returns
    -------
    matplotlib.axes.Axes
    """
    data = plot_clv_gains_data(predicted, actual, column=column)
    ax = new_axes(ax)
    x = data["customer_share"].to_numpy() * 100
    ax.plot(
        x,
        data["model"] * 100,
        color="#DD8452",
        linewidth=2,
        label=f"Model ranking (Gini {data.attrs['gini']:.2f})",
    )
    ax.plot(x, data["perfect"] * 100, color="#55A868", linestyle="--", label="Perfect ranking")
    ax.plot(x, data["random"] * 100, color="0.5", linestyle=":", label="Random ranking")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_xlabel("Customers, ranked by predicted value (% of customers)")
    ax.set_ylabel("Actual holdout value captured (%)")
    share = data.attrs["top_decile_lift"] * 10
    ax.set_title(f"Gains: the predicted top 10% of customers capture {share:.0f}% of the actual value")
    ax.legend(frameon=False, loc="lower right")
    return ax


def plot_value_deciles_data(
    predicted: Any, actual: Any, *, column: str = "clv", n_groups: int = 10
) -> pd.DataFrame:
    """Mean predicted and actual value in groups of customers ranked on predicted value.

    Customers are ranked by prediction (highest first; ties by customer id, so the groups do not depend
    on row order) and cut into ``n_groups`` groups of (nearly) equal size: group 1 holds the top.
    For a calibration check the prediction must cover the same period as the actual value, e.g. the
    undiscounted predicted holdout value (:func:`clvlab.evaluation.predict_holdout_value`).

    Parameters
    ----------
    predicted, actual, column
        As in :func:`plot_clv_gains_data`.
    n_groups : int
        Number of groups (10: deciles).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``group`` (1 = highest predictions), with ``customers``, ``predicted_mean``,
        ``actual_mean``, ``predicted_total`` and ``actual_total``.
    """
    p, a = _inputs(predicted, actual, column)
    n = len(p)
    k = int(n_groups)
    if not 1 <= k <= n:
        raise ValueError(f"n_groups must be between 1 and the number of customers ({n}), got {n_groups!r}")
    ids = np.argsort(np.argsort(p.index.to_numpy(), kind="stable"), kind="stable")
    order = np.lexsort((ids, -p.to_numpy()))
    group = np.empty(n, dtype=np.int64)
    group[order] = np.arange(n) * k // n + 1
    frame = pd.DataFrame({"group": group, "predicted": p.to_numpy(), "actual": a.to_numpy()})
    g = frame.groupby("group")
    out = pd.DataFrame(
        {
            "customers": g.size(),
            "predicted_mean": g["predicted"].mean(),
            "actual_mean": g["actual"].mean(),
            "predicted_total": g["predicted"].sum(),
            "actual_total": g["actual"].sum(),
        }
    )
    out.attrs["n_groups"] = k
    return out


def plot_value_deciles(
    predicted: Any, actual: Any, *, column: str = "clv", n_groups: int = 10, ax: Axes | None = None
) -> Axes:
    """Bar chart of mean predicted vs actual value by group of predicted value (decile calibration).

    Draws :func:`plot_value_deciles_data` (see there for the parameters).

    Returns
    -------
    matplotlib.axes.Axes
    """
    data = plot_value_deciles_data(predicted, actual, column=column, n_groups=n_groups)
    ax = new_axes(ax)
    pos = np.arange(len(data))
    width = 0.4
    ax.bar(pos - width / 2, data["actual_mean"], width, label="Actual", color="#4C72B0")
    ax.bar(pos + width / 2, data["predicted_mean"], width, label="Predicted", color="#DD8452")
    ax.set_xticks(pos, [str(i) for i in data.index])
    name = "Decile" if data.attrs["n_groups"] == 10 else "Group"
    ax.set_xlabel(f"{name} of predicted value (1 = highest)")
    ax.set_ylabel("Mean value per customer (currency units)")
    ax.set_title("Predicted vs actual holdout value by decile of prediction")
    ax.legend(frameon=False)
    return ax
