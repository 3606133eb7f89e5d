"""Helpers shared by the plotting modules: one view of MLE and Bayesian models, draws, logs, axes.

Nothing here imports matplotlib at module level: :func:`new_axes` imports pyplot only when a plot
function is called without an Axes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clvlab.data.summary import PurchaseOccasions
from clvlab.data.summary import read_occasions as _read_occasions
from clvlab.draws import HasDraws, ModelDraws, model_draws
from clvlab.errors import DataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes


#: Default figure size (inches) of a plot drawn without an Axes: a 16:10 slide.
FIGSIZE = (8.0, 5.0)

_UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months", "Y": "years", "period": "periods"}


def unit_label(unit: str | None) -> str:
    """Plural name of a time unit for axis labels (``"W"`` -> ``"weeks"``)."""
    if not unit:
        return "time units"
    return _UNIT_NAMES.get(unit, str(unit))


def amount_of(value: float, unit: str | None) -> str:
    """A duration with its unit, singular for 1: ``"1 week"``, ``"39 weeks"``."""
    name = unit_label(unit)
    if float(value) == 1 and name.endswith("s"):
        name = name[:-1]
    return f"{float(value):.4g} {name}"


#: The plots' name for the seam's view of a model (:class:`clvlab.draws.ModelDraws`).
ModelView = ModelDraws


def view(model: HasDraws, kind: str = "transaction", *, per_customer: bool = False) -> ModelDraws:
    """A fitted transaction (``kind="transaction"``) or spend (``kind="spend"``) model as draws.

    ``per_customer``: the plot evaluates the model only through each customer's own parameters (sums
    over customers included, e.g. the period-transactions and tracking plots), so a model with
    covariates is fine. The other plots draw population curves or grids of the model's formulas,
    which a covariate model does not have without a covariate profile.

    Raises
    ------
    TypeError
        For anything else.
    DataError
        For a model with covariates in a plot of population curves.
    """
    try:
        md = model_draws(model, kind)
    except TypeError as exc:
        raise TypeError(str(exc).replace("this needs", "this plot needs")) from None
    if md.has_covariates and not per_customer:
        raise DataError(
            f"this plot draws the population curves of a model without covariates; {md.name} has "
            "covariates (plot_period_transactions, plot_tracking with customers=, "
            "plot_calibration_vs_holdout and the gains plots take it; or plot one without)"
        )
    return md


def resolve_time_unit(mv: ModelView, time_unit: str | None) -> str:
    """The model's time unit, checked against an explicit ``time_unit``; one of them must be known."""
    fitted = mv.time_unit
    if time_unit is None:
        if fitted is None:
            raise DataError(
                f"{mv.name} does not record its time unit: pass time_unit= (the unit its parameters are in)"
            )
        return fitted
    if fitted is not None and fitted != time_unit:
        raise DataError(f"time_unit {time_unit!r} differs from the {fitted!r} {mv.name} was fitted in")
    return time_unit


#: The history plots' view of a log: :class:`clvlab.data.summary.PurchaseOccasions`.
Occasions = PurchaseOccasions


def read_occasions(
    transactions: Any,
    customer_id: str,
    datetime: str,
    observation_end: Any = None,
    *,
    drop_after_end: bool = False,
    date_format: str | None = None,
) -> PurchaseOccasions:
    """Purchase occasions of a log up to the end: :func:`clvlab.data.summary.read_occasions` (same rules)."""
    return _read_occasions(
        transactions,
        customer_id,
        datetime,
        observation_end=observation_end,
        drop_after_end=drop_after_end,
        date_format=date_format,
    )


def new_axes(ax: Axes | None) -> Axes:
    """The given Axes, or a new slide-sized figure's Axes (pyplot imported only here)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=FIGSIZE, layout="constrained")
    return new


def interval_label(interval: float) -> str:
    """Legend text of an interval, e.g. ``"90% interval"``."""
    return f"{100 * float(interval):g}% interval"


def bin_labels(k: int) -> list[str]:
    """Labels ``"0" .. "k-1"`` and the tail ``"k+"``."""
    return [str(i) for i in range(k)] + [f"{k}+"]
