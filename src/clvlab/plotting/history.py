"""One customer's probability of being alive over time, with their purchases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clvlab._types import FloatArray
from clvlab.data._input import day_to_timestamp, time_unit_days, to_day
from clvlab.draws import HasDraws, summarise
from clvlab.errors import DataError
from clvlab.plotting._common import new_axes, read_occasions, resolve_time_unit, view

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_history_alive", "plot_history_alive_data"]


def plot_history_alive_data(
    model: HasDraws,
    transactions: Any,
    customer: Any,
    *,
    customer_id: str = "customer_id",
    datetime: str = "date",
    observation_end: Any = None,
    time_unit: str | None = None,
    drop_after_end: bool = False,
    date_format: str | None = None,
) -> pd.DataFrame:
    r"""P(alive) of one customer on every day from their first purchase to ``observation_end``.

    On day *d* the customer's history is ``x`` = repeat purchase occasions up to *d*, ``t_x`` = time
    of the last one and ``T`` = time of *d*, both since the first purchase (in the model's time unit);
    the value is :math:`P(\text{alive} \mid x, t_x, T)` (BG/NBD: Fader, Hardie & Lee, "Computing P(alive)
    Using the BG/NBD Model"; Pareto/NBD: Schmittlein, Morrison & Colombo 1987), the posterior mean for a
    Bayesian model.

    Parameters
    ----------
    model : transaction model
        A fitted continuous-time transaction model (BG/BB raises :class:`TypeError`).
    transactions : pandas.DataFrame or polars.DataFrame
        The transaction log.
    customer
        The customer's id.
    customer_id, datetime : str
        Column names in ``transactions``.
    observation_end : date-like, optional
        Last day of the path; defaults to the last date in the log.
    time_unit : str, optional
        Unit of the model's parameters; defaults to the unit the model was fitted in.
    drop_after_end : bool
        Transactions after ``observation_end`` raise :class:`~clvlab.DataError` unless this is True, in
        which case they are left out (as in :func:`clvlab.rfm_summary`).
    date_format : str, optional
        strftime format of string dates (and of string ``observation_end`` / ``calibration_end``), as in
        :func:`clvlab.rfm_summary`.

    Returns
    -------
    pandas.DataFrame
        One row per day: ``date``, ``T`` (time since the first purchase), ``frequency``, ``recency``,
        ``p_alive`` and ``purchase`` (True on purchase days, the first included).
    """
    mv = view(model)
    if mv.discrete:
        raise TypeError(f"{mv.name} counts discrete opportunities: P(alive) histories need calendar time")
    unit = resolve_time_unit(mv, time_unit)
    per_unit = time_unit_days(unit)
    occ = read_occasions(
        transactions,
        customer_id,
        datetime,
        observation_end,
        drop_after_end=drop_after_end,
        date_format=date_format,
    )
    mine = occ.customer == customer
    if not np.any(mine):
        raise DataError(f"customer {customer!r} has no transactions on or before observation_end")
    days = np.sort(occ.day[mine])
    birth = int(days[0])
    calendar = np.arange(birth, occ.end + 1)
    n_seen = np.searchsorted(days, calendar, side="right")  # occasions up to each day, first included
    x = (n_seen - 1).astype(np.float64)
    t_x = (days[n_seen - 1] - birth) / per_unit
    T = (calendar - birth) / per_unit

    def quantity(*params: FloatArray) -> FloatArray:
        return np.asarray(mv.formulas.p_alive(*params, x, t_x, T), dtype=np.float64)

    point, _, _ = summarise(mv, quantity, interval=None, n_draws=0, seed=None, inner=len(calendar))
    out = pd.DataFrame(
        {
            "date": pd.DatetimeIndex([day_to_timestamp(int(d)) for d in calendar]),
            "T": T,
            "frequency": x,
            "recency": t_x,
            "p_alive": point,
            "purchase": np.isin(calendar, days),
        }
    )
    out.attrs.update(model=mv.name, customer=customer, time_unit=unit)
    return out


def plot_history_alive(
    model: HasDraws,
    transactions: Any,
    customer: Any,
    *,
    customer_id: str = "customer_id",
    datetime: str = "date",
    observation_end: Any = None,
    calibration_end: Any = None,
    time_unit: str | None = None,
    drop_after_end: bool = False,
    date_format: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Line chart of one customer's P(alive) over time, purchases marked.

    Draws :func:`plot_history_alive_data` (see there for the parameters); ``calibration_end``, if
    given, is marked with a vertical line.

    Returns
    -------
    matplotlib.axes.Axes
    """
    data = plot_history_alive_data(
        model,
        transactions,
        customer,
        customer_id=customer_id,
        datetime=datetime,
        observation_end=observation_end,
        time_unit=time_unit,
        drop_after_end=drop_after_end,
        date_format=date_format,
    )
    ax = new_axes(ax)
    dates = data["date"].to_numpy()
    ax.plot(dates, data["p_alive"], color="#4C72B0", linewidth=2, label="P(alive)")
    bought = data["purchase"].to_numpy()
    ax.plot(
        dates[bought],
        data["p_alive"].to_numpy()[bought],
        linestyle="none",
        marker="o",
        color="#C44E52",
        label="Purchase",
    )
    import matplotlib.dates as mdates

    if calibration_end is not None:
        when = float(
            mdates.date2num(day_to_timestamp(to_day(calibration_end, "calibration_end", date_format)))
        )
        ax.axvline(when, color="0.4", linestyle=":", label="End of calibration")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("Date")
    ax.set_ylabel("P(alive)")
    ax.set_title(f"P(alive) history of customer {data.attrs['customer']} ({data.attrs['model']})")
    ax.legend(frameon=False, loc="lower left")
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return ax
