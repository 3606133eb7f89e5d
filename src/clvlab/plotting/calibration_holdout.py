"""Average holdout purchases by calibration frequency: actual vs predicted."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from clvlab.draws import TransactionPredictor
from clvlab.errors import DataError
from clvlab.evaluation import predict_holdout_purchases
from clvlab.plotting._common import amount_of, bin_labels, new_axes, view

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_calibration_vs_holdout", "plot_calibration_vs_holdout_data"]


def plot_calibration_vs_holdout_data(
    model: TransactionPredictor, calibration_holdout: pd.DataFrame, *, max_frequency: int = 7
) -> pd.DataFrame:
    r"""Mean actual and predicted holdout purchases of the customers with each calibration frequency.

    The prediction for customer *i* is the conditional expectation over their holdout period,
    :math:`E[X(T_i, T_i + \tau_i) \mid x_i, t_{x,i}, T_i]` with :math:`\tau_i` = ``duration_holdout``
    (FHL 2005 eq. 10 for the BG/NBD and its analogues; posterior mean for a Bayesian model): the
    conditional-expectations check of Fader, Hardie & Lee (2005), figure 4.

    Parameters
    ----------
    model : transaction model
        Fitted on the calibration part of ``calibration_holdout``.
    calibration_holdout : pandas.DataFrame
        Output of :func:`clvlab.calibration_holdout_split`.
    max_frequency : int
        Customers with ``frequency >= max_frequency`` form the last bin, ``"K+"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by the frequency bin, with ``customers``, ``actual`` and ``predicted`` (means over the
        bin's customers; NaN for an empty bin).
    """
    mv = view(model, per_customer=True)
    if "frequency_holdout" not in calibration_holdout:
        raise DataError("calibration_holdout lacks frequency_holdout; use clvlab.calibration_holdout_split")
    k = int(max_frequency)
    if k < 1:
        raise ValueError(f"max_frequency must be at least 1, got {max_frequency!r}")
    predicted = predict_holdout_purchases(model, calibration_holdout).to_numpy()
    actual = calibration_holdout["frequency_holdout"].to_numpy(dtype=np.float64)
    x = calibration_holdout["frequency"].to_numpy(dtype=np.float64)
    groups = np.minimum(x, k).astype(np.int64)
    customers = np.bincount(groups, minlength=k + 1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        act = np.bincount(groups, weights=actual, minlength=k + 1) / customers
        pred = np.bincount(groups, weights=predicted, minlength=k + 1) / customers
    out = pd.DataFrame(
        {"customers": customers.astype(np.int64), "actual": act, "predicted": pred},
        index=pd.Index(bin_labels(k), name="frequency"),
    )
    durations = calibration_holdout["duration_holdout"].to_numpy(dtype=np.float64)
    out.attrs.update(
        model=mv.name,
        time_unit=calibration_holdout.attrs.get("time_unit", mv.time_unit),
        duration_holdout=float(durations.max()),
        equal_durations=bool(np.all(durations == durations[0])),
    )
    return out


def plot_calibration_vs_holdout(
    model: TransactionPredictor,
    calibration_holdout: pd.DataFrame,
    *,
    max_frequency: int = 7,
    ax: Axes | None = None,
) -> Axes:
    """Line chart of mean holdout purchases by calibration frequency, actual vs predicted.

    Draws :func:`plot_calibration_vs_holdout_data` (see there for the parameters).

    Returns
    -------
    matplotlib.axes.Axes
    """
    data = plot_calibration_vs_holdout_data(model, calibration_holdout, max_frequency=max_frequency)
    ax = new_axes(ax)
    pos = np.arange(len(data))
    ax.plot(pos, data["actual"], marker="o", label="Actual", color="#4C72B0")
    ax.plot(
        pos,
        data["predicted"],
        marker="s",
        linestyle="--",
        label=f"Model: {data.attrs['model']}",
        color="#DD8452",
    )
    ax.set_xticks(pos, list(data.index))
    horizon = amount_of(data.attrs["duration_holdout"], data.attrs["time_unit"])
    if not data.attrs["equal_durations"]:
        horizon = f"up to {horizon}"
    ax.set_xlabel("Repeat purchases in the calibration period")
    ax.set_ylabel(f"Mean purchases in the holdout ({horizon})")
    ax.set_title("Conditional expectations: holdout purchases by calibration frequency")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    return ax
