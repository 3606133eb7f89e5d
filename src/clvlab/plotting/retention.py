"""Retention plots of a contractual model: a cohort's observed vs fitted survival and retention curves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from clvlab._types import FloatArray
from clvlab.data.subscriptions import survivors_to_summary
from clvlab.draws import HasDraws, model_draws, summarise
from clvlab.errors import DataError
from clvlab.plotting._common import interval_label, new_axes, unit_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_retention", "plot_retention_data"]

_KINDS = ("survival", "retention")


def plot_retention_data(
    model: HasDraws,
    active: Sequence[float] | npt.ArrayLike,
    *,
    calibration_periods: int | None = None,
    horizon: int | None = None,
    interval: float | None = None,
    n_draws: int = 200,
    seed: Any = 0,
) -> pd.DataFrame:
    r"""A cohort's observed survival and retention by tenure beside the model's, period by period.

    For periods :math:`t = 0, 1, \dots`: the observed share still active :math:`a_t / a_0` and the
    observed retention rate :math:`a_t / a_{t-1}` from the survivor counts ``active``, and the model's
    :math:`S(t)` and :math:`r(t) = S(t) / S(t - 1)` (the formulas at the estimate, or their posterior
    means for a :mod:`clvlab.bayes` model). Periods after ``calibration_periods`` are flagged as holdout.
    On Fader & Hardie's (2007) regular cohort fitted to years 1-7 the fitted survival of years 8-12 stays
    within 2% of the actual (ledger entry [SBG-FH2007-PROJECTION] of ``tests/references.md``).

    Parameters
    ----------
    model : contractual model
        A fitted :class:`~clvlab.ShiftedBetaGeometric` or :class:`~clvlab.BetaDiscreteWeibull` (or a
        Bayesian one).
    active : sequence of float
        Active customers of the cohort after 0, 1, ... periods (see :func:`clvlab.survivors_to_summary`).
    calibration_periods : int, optional
        Periods the model was fitted to (marks the holdout); all of ``active`` when omitted.
    horizon : int, optional
        Last period of the model's curves (defaults to the last observed period); beyond the observed
        periods the actual columns are NaN.
    interval : float, optional
        Level of a band around the model's curves (parameter uncertainty), from ``n_draws`` asymptotic
        draws seeded by ``seed`` (maximum likelihood) or the posterior draws (Bayesian).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``period``: ``actual_active``, ``actual_survival``, ``expected_survival``,
        ``actual_retention``, ``expected_retention``, ``holdout``, and with ``interval`` the ``_lower`` and
        ``_upper`` bounds of both expected curves. ``attrs``: ``model``, ``time_unit``,
        ``calibration_periods``, ``cohort_size``, ``interval``.
    """
    md = model_draws(model, name="model")
    if md.role != "contractual":
        raise TypeError(
            f"model: this plot needs a contractual model (ShiftedBetaGeometric, BetaDiscreteWeibull), got "
            f"{type(model).__name__}"
        )
    counts = survivors_to_summary(active)  # validation of the counts, one rule for both functions
    observed = np.asarray(active, dtype=np.float64)
    n_obs = len(observed) - 1
    last = n_obs if horizon is None else int(horizon)
    if last < 1:
        raise DataError(f"horizon must be at least 1 period, got {horizon!r}")
    cal = n_obs if calibration_periods is None else int(calibration_periods)
    if not 0 <= cal <= n_obs:
        raise DataError(
            f"calibration_periods must lie between 0 and {n_obs} (the observed periods), got {cal}"
        )
    t = np.arange(0, last + 1, dtype=np.float64)
    formulas = md.formulas

    def curves(*params: FloatArray) -> FloatArray:
        surv = formulas.survival(*params, t[None, :])
        rate = formulas.retention_rate(*params, np.maximum(t[None, 1:], 1.0))
        return np.asarray(np.concatenate([surv, rate], axis=1), dtype=np.float64)

    point, lo, hi = summarise(md, curves, interval=interval, n_draws=n_draws, seed=seed, inner=2 * len(t))
    actual = np.full(len(t), np.nan)
    actual[: min(len(t), n_obs + 1)] = observed[: len(t)]
    with np.errstate(divide="ignore", invalid="ignore"):
        actual_rate = np.concatenate([[np.nan], actual[1:] / actual[:-1]])
    out = pd.DataFrame(
        {
            "actual_active": actual,
            "actual_survival": actual / observed[0],
            "expected_survival": point[: len(t)],
            "actual_retention": actual_rate,
            "expected_retention": np.concatenate([[np.nan], point[len(t) :]]),
            "holdout": t > cal,
        },
        index=pd.Index(t.astype(np.int64), name="period"),
    )
    if lo is not None and hi is not None:
        for name, part in (("survival", slice(0, len(t))), ("retention", slice(len(t), None))):
            pad = [] if name == "survival" else [np.nan]
            out[f"expected_{name}_lower"] = np.concatenate([pad, lo[part]])
            out[f"expected_{name}_upper"] = np.concatenate([pad, hi[part]])
    out.attrs.update(
        model=md.name,
        time_unit=md.time_unit,
        calibration_periods=cal,
        cohort_size=float(counts["weights"].sum()),
        interval=interval,
    )
    return out


def plot_retention(
    model: HasDraws,
    active: Sequence[float] | npt.ArrayLike,
    *,
    kind: str = "survival",
    calibration_periods: int | None = None,
    horizon: int | None = None,
    interval: float | None = None,
    n_draws: int = 200,
    seed: Any = 0,
    ax: Axes | None = None,
) -> Axes:
    """Observed vs fitted survival (``kind="survival"``) or retention rate (``"retention"``) by tenure.

    Draws :func:`plot_retention_data` (see there for the parameters): the observed points, the model's
    line, a band for ``interval`` if given, and a vertical line at the end of calibration when there is
    a holdout.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    data = plot_retention_data(
        model,
        active,
        calibration_periods=calibration_periods,
        horizon=horizon,
        interval=interval,
        n_draws=n_draws,
        seed=seed,
    )
    ax = new_axes(ax)
    t = data.index.to_numpy()
    ax.plot(t, data[f"actual_{kind}"], "o", color="black", label="actual")
    ax.plot(t, data[f"expected_{kind}"], "-", color="C0", label=data.attrs["model"])
    if interval is not None:
        ax.fill_between(
            t,
            data[f"expected_{kind}_lower"],
            data[f"expected_{kind}_upper"],
            color="C0",
            alpha=0.2,
            label=interval_label(interval),
        )
    cal = data.attrs["calibration_periods"]
    if data["holdout"].any():
        ax.axvline(cal, color="grey", linestyle="--", linewidth=1, label="end of calibration")
    ax.set_xlabel(f"tenure ({unit_label(data.attrs['time_unit'] or 'period')})")
    ax.set_ylabel("share of the cohort still active" if kind == "survival" else "retention rate")
    what = "Survival" if kind == "survival" else "Retention"
    ax.set_title(f"{what} by tenure: actual vs {data.attrs['model']}")
    ax.legend()
    return ax
