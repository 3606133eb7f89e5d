"""Heat maps over (frequency, recency): expected future purchases and P(alive)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clvlab._types import FloatArray
from clvlab.draws import HasDraws, summarise
from clvlab.plotting._common import ModelView, amount_of, new_axes, unit_label, view

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "plot_frequency_recency_matrix",
    "plot_frequency_recency_matrix_data",
    "plot_p_alive_matrix",
    "plot_p_alive_matrix_data",
]


def _grid(
    mv: ModelView,
    summary: Any,
    T: float | None,
    max_frequency: int | None,
    n_recency: int,
) -> tuple[FloatArray, FloatArray, float]:
    """Frequencies 0..F, recency values and the age T of the matrix."""
    cols: tuple[FloatArray, ...] | None = None
    if summary is not None:
        _, cols = mv.transaction_arrays(summary)
    if T is None:
        if cols is None:
            raise ValueError("pass the summary, or T (the customers' age) and max_frequency")
        T = float(cols[2].max())
    if max_frequency is None:
        if cols is None:
            raise ValueError("pass the summary, or T (the customers' age) and max_frequency")
        max_frequency = int(cols[0].max())
    T = float(T)
    if not (np.isfinite(T) and T > 0):
        raise ValueError(f"T must be positive, got {T!r}")
    if int(max_frequency) < 1:
        raise ValueError(f"max_frequency must be at least 1, got {max_frequency!r}")
    frequency = np.arange(int(max_frequency) + 1, dtype=np.float64)
    # BG/BB: every opportunity; otherwise evenly spaced on [0, T].
    recency = np.arange(int(T) + 1, dtype=np.float64) if mv.discrete else np.linspace(0.0, T, int(n_recency))
    return frequency, recency, T


def _matrix(
    mv: ModelView, fn: Any, scalars: tuple[Any, ...], frequency: FloatArray, recency: FloatArray, T: float
) -> FloatArray:
    """``fn(*params, *scalars, x, t_x, T)`` on the grid (posterior mean for a Bayesian model).

    Impossible cells are NaN: recency > 0 without repeat purchases, and (BG/BB) more transactions than
    the opportunity of the last one.
    """
    x, t_x = (v.ravel() for v in np.meshgrid(frequency, recency, indexing="ij"))
    ok = (x > 0) | (t_x == 0)
    if mv.discrete:
        ok &= x <= t_x
    xs, ts = x[ok], t_x[ok]

    def quantity(*params: FloatArray) -> FloatArray:
        return np.asarray(fn(*params, *scalars, xs, ts, T), dtype=np.float64)

    point, _, _ = summarise(mv, quantity, interval=None, n_draws=0, seed=None, inner=len(xs))
    values = np.full(x.shape, np.nan)
    values[ok] = point
    return values.reshape(len(frequency), len(recency))


def _frame(values: FloatArray, frequency: FloatArray, recency: FloatArray) -> pd.DataFrame:
    return pd.DataFrame(
        values,
        index=pd.Index(frequency.astype(np.int64), name="frequency"),
        columns=pd.Index(recency, name="recency"),
    )


def plot_frequency_recency_matrix_data(
    model: HasDraws,
    summary: Any = None,
    *,
    t: float = 1.0,
    T: float | None = None,
    max_frequency: int | None = None,
    n_recency: int = 40,
) -> pd.DataFrame:
    r"""Expected purchases in the next ``t`` time units by frequency and recency, at age ``T``.

    Each cell is the conditional expectation :math:`E[X(T, T+t) \mid x, t_x, T]` (FHL 2005 eq. 10 for
    the BG/NBD; Schmittlein, Morrison & Colombo 1987 for the Pareto/NBD; FHS 2010 eq. 13 for the BG/BB,
    where ``t`` counts opportunities) for a customer of age ``T`` (lifetimes' frequency/recency matrix).

    Parameters
    ----------
    model : transaction model
        A fitted maximum-likelihood or Bayesian transaction model (Bayesian: posterior mean).
    summary : pandas.DataFrame, optional
        Supplies the defaults: ``T`` = the largest age (BG/BB: ``n_periods``) and ``max_frequency`` =
        the largest frequency.
    t : float
        Prediction horizon in time units.
    T : float, optional
        Age of the customers in the matrix.
    max_frequency : int, optional
        Rows are frequencies ``0 .. max_frequency``.
    n_recency : int
        Number of recency columns, evenly spaced on ``[0, T]`` (BG/BB: every opportunity ``0 .. T``).

    Returns
    -------
    pandas.DataFrame
        Rows: frequency; columns: recency (time units). Impossible cells (recency > 0 with no repeat
        purchase; BG/BB: frequency above recency) are NaN.
    """
    mv = view(model)
    frequency, recency, T_ = _grid(mv, summary, T, max_frequency, n_recency)
    values = _matrix(mv, mv.formulas.conditional_expected_purchases, (float(t),), frequency, recency, T_)
    out = _frame(values, frequency, recency)
    out.attrs.update(model=mv.name, t=float(t), T=T_, time_unit=_unit(mv, summary), discrete=mv.discrete)
    return out


def plot_p_alive_matrix_data(
    model: HasDraws,
    summary: Any = None,
    *,
    T: float | None = None,
    max_frequency: int | None = None,
    n_recency: int = 40,
) -> pd.DataFrame:
    r"""Probability of being alive at age ``T`` by frequency and recency.

    Each cell is :math:`P(\text{alive} \mid x, t_x, T)` (BG/NBD: Fader, Hardie & Lee, "Computing
    P(alive) Using the BG/NBD Model"; Pareto/NBD: Schmittlein, Morrison & Colombo 1987; BG/BB: FHS 2010,
    alive at opportunity ``T + 1``). Parameters and the returned frame as in
    :func:`plot_frequency_recency_matrix_data`.
    """
    mv = view(model)
    frequency, recency, T_ = _grid(mv, summary, T, max_frequency, n_recency)
    values = _matrix(mv, mv.formulas.p_alive, (), frequency, recency, T_)
    out = _frame(values, frequency, recency)
    out.attrs.update(model=mv.name, T=T_, time_unit=_unit(mv, summary), discrete=mv.discrete)
    return out


def _unit(mv: ModelView, summary: Any) -> str | None:
    unit = getattr(summary, "attrs", {}).get("time_unit") if summary is not None else None
    return unit if unit is not None else mv.time_unit


def _age(data: pd.DataFrame) -> str:
    if data.attrs["discrete"]:
        return f"after {data.attrs['T']:g} opportunities"
    return f"age T = {amount_of(data.attrs['T'], data.attrs['time_unit'])}"


def _draw(data: pd.DataFrame, ax: Axes | None, colorbar_label: str, title: str, cmap: str) -> Axes:
    ax = new_axes(ax)
    recency = data.columns.to_numpy(dtype=np.float64)
    frequency = data.index.to_numpy(dtype=np.float64)
    # Cell edges halfway between the grid values.
    if len(recency) > 1:
        mid = (recency[1:] + recency[:-1]) / 2
        first, last = recency[0] - (mid[0] - recency[0]), recency[-1] + (recency[-1] - mid[-1])
        r_edges = np.concatenate([[first], mid, [last]])
    else:
        r_edges = np.array([recency[0] - 0.5, recency[0] + 0.5])
    f_edges = np.append(frequency, frequency[-1] + 1) - 0.5
    values = np.ma.masked_invalid(data.to_numpy(dtype=np.float64))
    mesh = ax.pcolormesh(r_edges, f_edges, values, cmap=cmap, shading="flat")
    ax.figure.colorbar(mesh, ax=ax, label=colorbar_label)
    if data.attrs["discrete"]:
        ax.set_xlabel("Recency: opportunity of the last transaction")
        ax.set_ylabel("Frequency: transactions")
    else:
        ax.set_xlabel(f"Recency: age at last purchase ({unit_label(data.attrs['time_unit'])})")
        ax.set_ylabel("Frequency: repeat purchases")
    ax.set_title(title)
    return ax


def plot_frequency_recency_matrix(
    model: HasDraws,
    summary: Any = None,
    *,
    t: float = 1.0,
    T: float | None = None,
    max_frequency: int | None = None,
    n_recency: int = 40,
    ax: Axes | None = None,
) -> Axes:
    """Heat map of expected purchases in the next ``t`` time units by frequency and recency.

    Draws :func:`plot_frequency_recency_matrix_data` (see there for the parameters); blank cells are
    impossible histories.

    Returns
    -------
    matplotlib.axes.Axes
    """
    data = plot_frequency_recency_matrix_data(
        model, summary, t=t, T=T, max_frequency=max_frequency, n_recency=n_recency
    )
    if data.attrs["discrete"]:
        label = f"Expected transactions in the next {t:g} opportunit{'y' if t == 1 else 'ies'}"
    else:
        label = f"Expected purchases in the next {amount_of(t, data.attrs['time_unit'])}"
    what = "transactions" if data.attrs["discrete"] else "purchases"
    return _draw(data, ax, label, f"Expected {what} by frequency and recency ({_age(data)})", "viridis")


def plot_p_alive_matrix(
    model: HasDraws,
    summary: Any = None,
    *,
    T: float | None = None,
    max_frequency: int | None = None,
    n_recency: int = 40,
    ax: Axes | None = None,
) -> Axes:
    """Heat map of P(alive) by frequency and recency at age ``T``.

    Draws :func:`plot_p_alive_matrix_data` (see there for the parameters).

    Returns
    -------
    matplotlib.axes.Axes
    """
    data = plot_p_alive_matrix_data(model, summary, T=T, max_frequency=max_frequency, n_recency=n_recency)
    ax = _draw(
        data, ax, "P(alive)", f"Probability of being alive by frequency and recency ({_age(data)})", "magma"
    )
    mesh = ax.collections[-1]
    mesh.set_clim(0.0, 1.0)
    return ax
