"""The simple CLV formula against the model: holdout value captured by each ranking, or per customer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clvlab.errors import DataError
from clvlab.evaluation import gains_curve, gini
from clvlab.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from clvlab.describe import SimpleModelComparison

__all__ = ["plot_simple_vs_model", "plot_simple_vs_model_data"]

_KINDS = ("capture", "scatter")


def _customers(comparison: Any) -> pd.DataFrame:
    frame = getattr(comparison, "customers", None)
    needed = {"simple_holdout_value", "model_holdout_value", "holdout_value"}
    if not isinstance(frame, pd.DataFrame) or not needed <= set(frame.columns):
        raise DataError("expected the result of clvlab.compare_simple_clv, got " + type(comparison).__name__)
    return frame


def plot_simple_vs_model_data(comparison: SimpleModelComparison, *, kind: str = "capture") -> pd.DataFrame:
    """The numbers :func:`plot_simple_vs_model` draws.

    Parameters
    ----------
    comparison : SimpleModelComparison
        The result of :func:`clvlab.compare_simple_clv`.
    kind : {"capture", "scatter"}
        ``"capture"``: one row per number of targeted customers k = 0 .. N with ``customer_share``
        (k / N) and the share of the actual holdout value held by the top k customers ranked by the
        simple formula (``simple``), by the model (``model``), by the actual value (``perfect``) and at
        random (``random`` = k / N); tied scores share their block's value evenly
        (:func:`clvlab.evaluation.gains_curve`), so the curves do not depend on row order. ``attrs``
        hold each ranking's normalised Gini coefficient (``gini_simple``, ``gini_model``).
        ``"scatter"``: per customer, ``simple_holdout_value`` and ``model_holdout_value`` (both forecasts
        of the holdout value) and the actual ``holdout_value``.

    Returns
    -------
    pandas.DataFrame
    """
    frame = _customers(comparison)
    if kind == "scatter":
        return frame[["simple_holdout_value", "model_holdout_value", "holdout_value"]].copy()
    if kind != "capture":
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    actual = frame["holdout_value"].to_numpy()
    simple = frame["simple_holdout_value"].to_numpy()
    model = frame["model_holdout_value"].to_numpy()
    share, by_simple, perfect = gains_curve(simple, actual)
    _, by_model, _ = gains_curve(model, actual)
    out = pd.DataFrame(
        {"customer_share": share, "simple": by_simple, "model": by_model, "perfect": perfect, "random": share}
    )
    out.attrs.update(gini_simple=gini(simple, actual), gini_model=gini(model, actual), customers=len(frame))
    return out


def plot_simple_vs_model(
    comparison: SimpleModelComparison, *, kind: str = "capture", ax: Axes | None = None
) -> Axes:
    """Draw the simple CLV formula against the model on the holdout.

    ``kind="capture"`` (default): the gains chart of both rankings, the share of the actual holdout value
    captured against the share of customers targeted, with the perfect and the random ranking and each
    ranking's Gini coefficient in the legend. ``kind="scatter"``: each customer's simple-formula forecast
    of the holdout value against the model's, on log-log axes (customers with a zero forecast are left
    out), with the line of equality. The numbers come from :func:`plot_simple_vs_model_data`.

    Parameters
    ----------
    comparison : SimpleModelComparison
        The result of :func:`clvlab.compare_simple_clv`.
    kind : {"capture", "scatter"}
        Which view to draw.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    data = plot_simple_vs_model_data(comparison, kind=kind)
    ax = new_axes(ax)
    if kind == "capture":
        x = data["customer_share"]
        ax.plot(x, data["perfect"], color="0.3", linestyle=":", label="perfect ranking")
        ax.plot(x, data["model"], color="C0", label=f"model (Gini {data.attrs['gini_model']:.2f})")
        ax.plot(x, data["simple"], color="C1", label=f"simple formula (Gini {data.attrs['gini_simple']:.2f})")
        ax.plot(x, data["random"], color="0.6", linestyle="--", label="random")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("share of customers targeted (ranked by predicted value)")
        ax.set_ylabel("share of actual holdout value captured")
        ax.set_title("Holdout value captured: simple CLV formula vs model")
        ax.legend(loc="lower right")
        return ax
    keep = (data["simple_holdout_value"] > 0) & (data["model_holdout_value"] > 0)
    sub = data[keep]
    ax.scatter(sub["simple_holdout_value"], sub["model_holdout_value"], s=8, alpha=0.4, color="C0")
    if len(sub):
        lo = float(np.minimum(sub["simple_holdout_value"].min(), sub["model_holdout_value"].min()))
        hi = float(np.maximum(sub["simple_holdout_value"].max(), sub["model_holdout_value"].max()))
        ax.plot([lo, hi], [lo, hi], color="0.4", linestyle="--", label="equal")
        ax.legend(loc="upper left")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("simple formula: forecast holdout value")
    ax.set_ylabel("model: expected holdout value")
    ax.set_title("Per customer: simple CLV formula vs model")
    return ax
