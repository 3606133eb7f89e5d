"""Helpers shared by the plotting modules: one view of MLE and Bayesian models, draws, logs, axes.

Nothing here imports matplotlib at module level: :func:`new_axes` imports pyplot only when a plot
function is called without an Axes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from clvlab.data.summary import _occasions, _read_log, _resolve_end
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


def view(model: HasDraws, kind: str = "transaction") -> ModelDraws:
    """A fitted transaction (``kind="transaction"``) or spend (``kind="spend"``) model as draws.

    Raises
    ------
    TypeError
        For anything else.
    """
    try:
        return model_draws(model, kind)
    except TypeError as exc:
        raise TypeError(str(exc).replace("this needs", "this plot needs")) from None


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


@dataclass(frozen=True)
class Occasions:
    """Purchase occasions of a transaction log: one row per customer and calendar day."""

    customer: pd.Index  # customer id per occasion
    day: npt.NDArray[np.int64]  # calendar day (days since 1970-01-01) per occasion
    birth: npt.NDArray[np.int64]  # the customer's first day, per occasion
    end: int  # last day observed


def read_occasions(
    transactions: Any,
    customer_id: str,
    datetime: str,
    observation_end: Any = None,
    *,
    drop_after_end: bool = False,
    date_format: str | None = None,
) -> Occasions:
    """Purchase occasions of a log up to the end, read exactly as :func:`clvlab.rfm_summary` reads it.

    The same reader and the same rules: dates (``date_format``), same-day purchases merged into one
    occasion, ``observation_end`` defaulting to the last date in the log, and transactions after it
    refused with :class:`DataError` unless ``drop_after_end`` is True.
    """
    log = _read_log(transactions, customer_id, datetime, None, False, date_format)
    end = _resolve_end(log, observation_end, drop_after_end, "observation_end", date_format)
    keep = log.days <= end
    occ = _occasions(log, None if keep.all() else keep, per_occasion=True)
    assert occ.occasion_codes is not None
    assert occ.occasion_days is not None
    codes = occ.occasion_codes
    return Occasions(
        customer=log.ids(codes),
        day=occ.occasion_days,
        birth=occ.first[np.searchsorted(occ.codes, codes)],
        end=end,
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
