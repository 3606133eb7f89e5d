"""Helpers shared by the plotting modules: one view of MLE and Bayesian models, draws, logs, axes.

Nothing here imports matplotlib at module level: :func:`new_axes` imports pyplot only when a plot
function is called without an Axes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from clvlab.data.summary import _occasions, _read_log, _resolve_end
from clvlab.errors import DataError
from clvlab.models.base import BaseModel, TransactionModel, _interval_quantiles
from clvlab.models.bgbb import BetaGeoBetaBinom
from clvlab.models.gamma_gamma import GammaGamma

if TYPE_CHECKING:
    from matplotlib.axes import Axes

FloatArray = npt.NDArray[np.float64]

#: Default figure size (inches) of a plot drawn without an Axes: a 16:10 slide.
FIGSIZE = (8.0, 5.0)

#: Elements per array within which draws are evaluated in one block.
_BUDGET = 1 << 21

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


@dataclass(frozen=True)
class ModelView:
    """A maximum-likelihood or Bayesian (:mod:`clvlab.bayes`) model seen through one interface.

    ``mle`` is the model itself, or the Bayesian model's maximum-likelihood twin at the posterior means
    (used for data validation and the time unit only). Quantities are evaluated with the shared formula
    functions: at the estimate for a maximum-likelihood model, as the posterior mean over all draws for
    a Bayesian one (as the Bayesian models' own predictions are).
    """

    model: Any
    mle: BaseModel
    bayesian: bool

    @property
    def formulas(self) -> ModuleType:
        """The model's formula module."""
        return self.mle.formulas

    @property
    def name(self) -> str:
        """Display name, e.g. ``"BetaGeo"`` or ``"Bayesian BetaGeo"``."""
        return ("Bayesian " if self.bayesian else "") + type(self.model).__name__

    @property
    def discrete(self) -> bool:
        """Whether the model counts discrete opportunities (BG/BB)."""
        return isinstance(self.mle, BetaGeoBetaBinom)

    @property
    def time_unit(self) -> str | None:
        """The time unit the model was fitted in, if known."""
        return getattr(self.model, "time_unit_", None)

    def transaction_arrays(self, data: Any) -> tuple[pd.Index, tuple[FloatArray, ...]]:
        """Validated customer index and data columns of a transaction model's summary."""
        if not isinstance(self.mle, TransactionModel):
            raise TypeError(f"{self.name} is not a transaction model")
        return self.mle._predict_arrays(data)

    def draws(self, n_draws: int, seed: Any) -> FloatArray:
        """Parameter draws, shape (draws, params): all posterior draws, or ``n_draws`` asymptotic ones."""
        if self.bayesian:
            return np.asarray(self.model.param_draws(), dtype=np.float64)
        return self.mle.param_draws(n_draws, seed)

    def point_params(self) -> FloatArray:
        """Parameters at which a point value is computed: the estimate, or all posterior draws."""
        if self.bayesian:
            return np.asarray(self.model.param_draws(), dtype=np.float64)
        return np.asarray(self.mle._theta, dtype=np.float64)[None, :]


def view(model: Any, kind: str = "transaction") -> ModelView:
    """Wrap a fitted transaction (``kind="transaction"``) or spend (``kind="spend"``) model.

    Raises
    ------
    TypeError
        For anything else.
    """
    bayesian = hasattr(model, "mle_class") and hasattr(model, "_mle_view")
    if bayesian:
        mle = model._mle_view()
    elif isinstance(model, BaseModel):
        model._check_fitted()
        mle = model
    else:
        raise TypeError(f"expected a fitted clvlab model, got {type(model).__name__}")
    wanted = TransactionModel if kind == "transaction" else GammaGamma
    if not isinstance(mle, wanted):
        what = "transaction model (BetaGeo, ParetoNBD, ...)" if kind == "transaction" else "GammaGamma model"
        raise TypeError(f"this plot needs a clvlab {what}, got {type(model).__name__}")
    return ModelView(model=model, mle=mle, bayesian=bayesian)


def over_draws(quantity: Callable[..., Any], params: FloatArray, inner: int = 1) -> FloatArray:
    """Evaluate ``quantity(*columns)`` for each row of ``params``, in blocks of rows.

    ``quantity`` receives one ``(d, 1)`` array per parameter and returns an array of shape ``(d, m)``;
    ``inner`` is the size of its largest intermediate per draw, which sets the block size so that memory
    stays bounded. Returns the ``(len(params), m)`` stack.
    """
    block = max(1, _BUDGET // max(inner, 1))
    parts = []
    for start in range(0, len(params), block):
        part = params[start : start + block]
        vals = np.asarray(quantity(*(part[:, [j]] for j in range(part.shape[1]))), dtype=np.float64)
        parts.append(vals.reshape(len(part), -1))
    return np.concatenate(parts, axis=0)


def summarise(
    mv: ModelView,
    quantity: Callable[..., Any],
    *,
    interval: float | None,
    n_draws: int,
    seed: Any,
    inner: int = 1,
    transform: Callable[[FloatArray], FloatArray] | None = None,
) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
    """Point value and optional equal-tailed interval of a model quantity.

    The point value is the quantity at the estimate (maximum likelihood) or its posterior mean
    (Bayesian). With ``interval`` (e.g. 0.9) the bounds are quantiles over parameter draws: posterior
    draws for a Bayesian model, ``n_draws`` draws from the asymptotic normal distribution of the log
    parameters for a maximum-likelihood one (parameter uncertainty only). ``transform`` maps the
    ``(draws, m)`` values before summarising (e.g. cumulative to incremental).
    """

    def values(params: FloatArray) -> FloatArray:
        out = over_draws(quantity, params, inner)
        return transform(out) if transform is not None else out

    point_vals = values(mv.point_params())
    point = point_vals.mean(axis=0)
    if interval is None:
        return point, None, None
    q = _interval_quantiles(interval)
    draws = point_vals if mv.bayesian else values(mv.draws(n_draws, seed))
    lower, upper = np.quantile(draws, q, axis=0)
    return point, lower, upper


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
