"""Tracking plots: actual vs expected repeat transactions over calendar time, cumulative or per period."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clvlab._types import FloatArray
from clvlab.data._input import day_to_timestamp, time_unit_days, to_day
from clvlab.data.summary import join_customers
from clvlab.draws import HasDraws, ModelDraws, summarise
from clvlab.errors import DataError
from clvlab.plotting._common import (
    interval_label,
    new_axes,
    read_occasions,
    resolve_time_unit,
    unit_label,
    view,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_tracking", "plot_tracking_data"]


def plot_tracking_data(
    model: HasDraws,
    transactions: Any,
    *,
    customer_id: str = "customer_id",
    datetime: str = "date",
    calibration_end: Any,
    observation_end: Any = None,
    time_unit: str | None = None,
    freq: float = 1.0,
    cumulative: bool = True,
    interval: float | None = None,
    n_draws: int = 200,
    seed: Any = 0,
    drop_after_end: bool = False,
    date_format: str | None = None,
    customers: Any = None,
) -> pd.DataFrame:
    r"""Actual and expected repeat transactions of the calibration customers, period by period.

    Time runs in periods of ``freq`` time units from the first purchase in the log (day 0). The periods
    end at day :math:`e_k = \mathrm{round}(k \cdot \mathrm{freq} \cdot \text{days per unit})`,
    :math:`k = 1, 2, \dots` (whole days, so weeks are exact), up to ``observation_end``; a last partial
    period is left out. The cohort is the customers whose first purchase is on or before
    ``calibration_end`` (those a calibration fit knows about).

    * actual (cumulative): the cohort's repeat purchase occasions (same-day purchases merged, first
      purchases excluded) dated before day :math:`e_k`;
    * expected (cumulative): :math:`\sum_i E[X(t_k - s_i)]` over the cohort customers born before
      :math:`e_k`, with :math:`s_i` customer *i*'s first purchase and :math:`E[X(t)]` the model's
      unconditional expected repeat purchases of a new customer (FHL 2005 eq. 9 for the BG/NBD); with
      covariates, at customer *i*'s own parameters (their attributes from ``customers``).

    These are the tracking numbers of the BTYD walkthrough: on CDNOW with weekly periods and the
    BG/NBD at its maximum-likelihood estimate, weeks 20 to 25 give 1359, 1414, 1484, 1517, 1573, 1672
    actual and 1312.46 ... 1669.60 expected cumulative repeat transactions (entries
    [CDNOW-TRACKING-ACTUAL] and [BGNBD-TRACKING-CDNOW] of the ledger ``tests/references.md``).

    Parameters
    ----------
    model : transaction model
        A fitted continuous-time transaction model (BG/NBD, Pareto/NBD, MBG/NBD, or a :mod:`clvlab.bayes`
        one). The BG/BB counts discrete opportunities, not calendar time: it raises :class:`TypeError`.
    transactions : pandas.DataFrame or polars.DataFrame
        The transaction log, one row per transaction.
    customer_id, datetime : str
        Column names in ``transactions``.
    calibration_end : date-like
        Last day of the calibration period (marked in the plot; defines the cohort).
    observation_end : date-like, optional
        Last day to track; defaults to the last date in the log.
    time_unit : str, optional
        Unit of the model's parameters; defaults to the unit the model was fitted in.
    freq : float
        Period length in time units (1 with weekly data: weekly points).
    cumulative : bool
        Cumulative totals (default) or the transactions within each period (incremental).
    interval : float, optional
        With a level such as 0.9, add ``expected_lower`` and ``expected_upper``: quantiles over
        parameter draws (posterior draws for a Bayesian model; ``n_draws`` asymptotic draws seeded by
        ``seed`` otherwise).
    drop_after_end : bool
        Transactions after ``observation_end`` raise :class:`~clvlab.DataError` unless this is True, in
        which case they are left out (as in :func:`clvlab.rfm_summary`).
    date_format : str, optional
        strftime format of string dates (and of string ``observation_end`` / ``calibration_end``), as in
        :func:`clvlab.rfm_summary`.
    customers : pandas.DataFrame, optional
        For a model with covariates (and only then): the customers' attributes, one row per customer,
        indexed by the customer id or holding it in the ``customer_id`` column, as for
        :func:`clvlab.rfm_summary`; every customer of the cohort needs a row.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``period`` (1, 2, ...), with ``t`` (end of the period in time units since day 0),
        ``date`` (last calendar day of the period), ``actual`` and ``expected`` (and the bounds).
        ``attrs["calibration_t"]`` is the end of the calibration period on the ``t`` scale.
    """
    mv = view(model, per_customer=True)
    if mv.discrete:
        raise TypeError(
            f"{mv.name} counts discrete transaction opportunities, not calendar time: tracking plots need a "
            "continuous-time model (BetaGeo, ParetoNBD, ModifiedBetaGeo)"
        )
    unit = resolve_time_unit(mv, time_unit)
    days_per_unit = time_unit_days(unit)
    step = float(freq) * days_per_unit
    if not (np.isfinite(step) and step > 0):
        raise ValueError(f"freq must be a positive number of time units, got {freq!r}")
    occ = read_occasions(
        transactions,
        customer_id,
        datetime,
        observation_end,
        drop_after_end=drop_after_end,
        date_format=date_format,
    )
    cal_end = to_day(calibration_end, "calibration_end", date_format)
    cohort = occ.birth <= cal_end
    if not cohort.any():
        raise DataError("no customer made a first purchase on or before calibration_end")
    if cal_end >= occ.end:
        raise DataError("calibration_end must be before observation_end")
    origin = int(occ.birth[cohort].min())
    n_periods = int(np.floor((occ.end + 1 - origin) / step + 1e-9))
    if n_periods < 1:
        raise DataError(f"the log covers less than one period of {freq:g} {unit_label(unit)}")
    ends = np.rint(np.arange(1, n_periods + 1) * step).astype(np.int64)  # day offsets, exclusive

    # Actual: repeat occasions of the cohort before each period end.
    repeat = cohort & (occ.day > occ.birth)
    actual = np.searchsorted(np.sort(occ.day[repeat] - origin), ends, side="left").astype(np.float64)

    # Expected: sum over customers of E[X(age)], on the distinct (age in whole days, covariate pattern).
    members = np.flatnonzero(occ.first <= cal_end)
    z = _cohort_design(mv, occ.ids[members], customers, customer_id)
    keys, born = np.unique(np.column_stack([occ.first[members] - origin, z]), axis=0, return_counts=True)
    age_days = ends[:, None] - keys[None, :, 0]  # (periods, distinct first days and patterns)
    period_of, group_of = np.nonzero(age_days > 0)
    pairs, inverse = np.unique(
        np.column_stack([age_days[period_of, group_of], keys[group_of, 1:]]), axis=0, return_inverse=True
    )
    counts = np.zeros((n_periods, len(pairs)))  # customers of each age and pattern at each period end
    np.add.at(counts, (period_of, inverse.reshape(-1)), born[group_of].astype(np.float64))
    t_ages, patterns = pairs[:, 0] / days_per_unit, tuple(pairs[:, 1:].T)
    expected_fn = mv.bind(mv.formulas.expected_purchases)

    def expected(*params: FloatArray) -> FloatArray:
        vals = np.asarray(expected_fn(*params, t_ages, *patterns), dtype=np.float64)
        return np.asarray(vals @ counts.T, dtype=np.float64)

    def incremental(cum: FloatArray) -> FloatArray:
        return np.diff(cum, axis=-1, prepend=0.0)

    point, lo, hi = summarise(
        mv,
        expected,
        interval=interval,
        n_draws=n_draws,
        seed=seed,
        inner=len(pairs),
        transform=None if cumulative else incremental,
    )
    if not cumulative:
        actual = np.diff(actual, prepend=0.0)
    dates = pd.DatetimeIndex([day_to_timestamp(origin + int(e) - 1) for e in ends])
    out = pd.DataFrame(
        {"t": ends / days_per_unit, "date": dates, "actual": actual, "expected": point},
        index=pd.Index(np.arange(1, n_periods + 1), name="period"),
    )
    if lo is not None and hi is not None:
        out["expected_lower"], out["expected_upper"] = lo, hi
    out.attrs.update(
        model=mv.name,
        time_unit=unit,
        freq=float(freq),
        cumulative=cumulative,
        interval=interval,
        calibration_t=(cal_end + 1 - origin) / days_per_unit,
        origin=day_to_timestamp(origin),
        customers=len(members),
    )
    return out


def _cohort_design(mv: ModelDraws, ids: pd.Index, customers: Any, customer_id: str) -> FloatArray:
    """The design columns of the cohort's customers (no columns for a model without covariates)."""
    if not mv.has_covariates:
        if customers is not None:
            raise DataError(f"{mv.name} has no covariates: customers= is for models with covariates")
        return np.empty((len(ids), 0))
    if customers is None:
        raise DataError(
            f"{mv.name} has covariates: pass customers= (the customers' attributes, one row per customer, "
            "as for rfm_summary) so that each customer's expected purchases use their own parameters"
        )
    frame = join_customers(pd.DataFrame(index=ids.rename(customer_id)), customers, customer_id)
    return np.column_stack(mv.covariate_columns(frame))


def plot_tracking(
    model: HasDraws,
    transactions: Any,
    *,
    customer_id: str = "customer_id",
    datetime: str = "date",
    calibration_end: Any,
    observation_end: Any = None,
    time_unit: str | None = None,
    freq: float = 1.0,
    cumulative: bool = True,
    interval: float | None = None,
    n_draws: int = 200,
    seed: Any = 0,
    drop_after_end: bool = False,
    date_format: str | None = None,
    customers: Any = None,
    ax: Axes | None = None,
) -> Axes:
    """Actual vs expected repeat transactions over time, with the end of calibration marked.

    Draws :func:`plot_tracking_data` (see there for the parameters): the actual line, the model's line,
    a shaded band for the ``interval`` if given, and a vertical line at the end of calibration.

    Returns
    -------
    matplotlib.axes.Axes
    """
    data = plot_tracking_data(
        model,
        transactions,
        customer_id=customer_id,
        datetime=datetime,
        calibration_end=calibration_end,
        observation_end=observation_end,
        time_unit=time_unit,
        freq=freq,
        cumulative=cumulative,
        interval=interval,
        n_draws=n_draws,
        seed=seed,
        drop_after_end=drop_after_end,
        date_format=date_format,
        customers=customers,
    )
    ax = new_axes(ax)
    t = data["t"].to_numpy()
    ax.plot(t, data["actual"], label="Actual", color="#4C72B0", linewidth=2)
    ax.plot(
        t,
        data["expected"],
        label=f"Model: {data.attrs['model']}",
        color="#DD8452",
        linestyle="--",
        linewidth=2,
    )
    if "expected_lower" in data:
        ax.fill_between(
            t,
            data["expected_lower"],
            data["expected_upper"],
            color="#DD8452",
            alpha=0.25,
            linewidth=0,
            label=interval_label(float(data.attrs["interval"])),
        )
    ax.axvline(data.attrs["calibration_t"], color="0.4", linestyle=":", label="End of calibration")
    unit = unit_label(data.attrs["time_unit"])
    origin = data.attrs["origin"].date()
    ax.set_xlabel(f"Time since {origin} ({unit})")
    per = "" if data.attrs["freq"] == 1 else f"{data.attrs['freq']:g} "
    singular = unit[:-1] if unit.endswith("s") else unit
    if data.attrs["cumulative"]:
        ax.set_ylabel("Cumulative repeat transactions")
        ax.set_title("Tracking cumulative repeat transactions")
    else:
        ax.set_ylabel(f"Repeat transactions per {per}{singular}")
        ax.set_title("Tracking repeat transactions per period")
    ax.set_xlim(0, t[-1])
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, loc="upper left")
    return ax
