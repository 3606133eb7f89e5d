"""Trace and posterior plots of the Bayesian models, drawn with matplotlib from the posterior draws.

ArviZ 0.x and 1.x draw these plots through different APIs with different return types (an array of
Axes against an ``arviz_plots.PlotCollection``); clvlab draws them itself from :func:`plot_trace_data`
so that the same call returns the same Axes grid on every supported stack, and the numbers drawn are
the numbers the ``*_data`` companion returns. The densities are Gaussian kernel density estimates
(:class:`scipy.stats.gaussian_kde`, Scott's bandwidth), the interval the highest-density interval of
the pooled draws (the shortest interval holding ``hdi_prob`` of them; Hyndman 1996).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clvlab._types import FloatArray
from clvlab.draws import model_draws

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["hdi", "plot_posterior", "plot_posterior_data", "plot_trace", "plot_trace_data"]


def _check(model: Any) -> None:
    """A fitted Bayesian model (posterior draws), or a TypeError / NotFittedError saying what is wrong."""
    try:
        bayesian = model_draws(model).bayesian
    except TypeError:
        bayesian = False
    if not bayesian:
        raise TypeError(
            f"trace and posterior plots need a Bayesian model from clvlab.bayes, got {type(model).__name__}"
        )


def hdi(draws: Any, prob: float) -> tuple[float, float]:
    """Highest-density interval: the shortest interval holding ``prob`` of the draws.

    Parameters
    ----------
    draws : array-like
        Draws of one scalar quantity.
    prob : float
        Probability mass of the interval, in (0, 1).

    Returns
    -------
    tuple of float
        Lower and upper bound (both are draws).
    """
    if not 0.0 < float(prob) < 1.0:
        raise ValueError(f"hdi_prob must lie strictly between 0 and 1, got {prob!r}")
    x = np.sort(np.asarray(draws, dtype=np.float64).reshape(-1))
    n = len(x)
    k = max(int(np.floor(prob * n)), 1)
    if k >= n:
        return float(x[0]), float(x[-1])
    widths = x[k:] - x[: n - k]
    i = int(np.argmin(widths))
    return float(x[i]), float(x[i + k])


def _density(values: FloatArray, grid_size: int = 200) -> tuple[FloatArray, FloatArray]:
    """A kernel density estimate of ``values`` on a grid spanning them (a spike if they are equal)."""
    from scipy.stats import gaussian_kde

    lo, hi = float(values.min()), float(values.max())
    if not hi > lo:
        return np.array([lo, lo]), np.array([0.0, 1.0])
    grid = np.linspace(lo, hi, grid_size)
    return grid, gaussian_kde(values)(grid)


def _names(model: Any, var_names: Any) -> list[str]:
    names = list(model.param_names) if var_names is None else [str(v) for v in var_names]
    unknown = [n for n in names if n not in model.param_names]
    if unknown:
        raise ValueError(
            f"var_names: {type(model).__name__} has no parameter(s) {unknown}; {model.param_names}"
        )
    return names


def plot_trace_data(model: Any) -> pd.DataFrame:
    """The posterior draws: one row per (chain, draw), one column per parameter.

    Parameters
    ----------
    model : clvlab.bayes model
        A fitted Bayesian model (its ``idata_`` posterior).

    Returns
    -------
    pandas.DataFrame
        Columns ``chain``, ``draw`` and the model's parameters.
    """
    _check(model)
    post = model.idata_["posterior"]
    names = list(model.param_names)
    first = post[names[0]]
    chains, draws = int(first.sizes["chain"]), int(first.sizes["draw"])
    out = pd.DataFrame(
        {
            "chain": np.repeat(np.arange(chains), draws),
            "draw": np.tile(np.arange(draws), chains),
        }
    )
    for name in names:
        out[name] = post[name].transpose("chain", "draw").to_numpy().reshape(-1)
    return out


def plot_posterior_data(model: Any) -> pd.DataFrame:
    """The posterior draws the posterior plot summarises (as :func:`plot_trace_data`)."""
    return plot_trace_data(model)


def plot_trace(model: Any, *, axes: Any = None, var_names: Any = None) -> Any:
    """Trace plot of the parameters: posterior density per chain (left) and draws by iteration (right).

    Parameters
    ----------
    model : clvlab.bayes model
        A fitted Bayesian model.
    axes : numpy.ndarray of matplotlib.axes.Axes, optional
        A (parameters x 2) grid to draw on; a new figure if omitted.
    var_names : list of str, optional
        Parameters to show (all by default).

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        The (parameters x 2) grid: densities left, draws right, one line per chain.
    """
    _check(model)
    names = _names(model, var_names)
    data = plot_trace_data(model)
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(
            len(names), 2, figsize=(10.0, 1.8 * len(names) + 0.6), squeeze=False, layout="constrained"
        )
    axes = np.asarray(axes, dtype=object).reshape(len(names), 2)
    for row, name in enumerate(names):
        left, right = axes[row]
        for chain, draws in data.groupby("chain", sort=True):
            values = draws[name].to_numpy(dtype=np.float64)
            right.plot(draws["draw"].to_numpy(), values, lw=0.6, alpha=0.8, label=f"chain {chain}")
            grid, density = _density(values)
            left.plot(grid, density, lw=1.2, label=f"chain {chain}")
        left.set_title(name)
        left.set_yticks([])
        right.set_title(name)
        right.set_xlabel("draw" if row == len(names) - 1 else "")
    return axes


def plot_posterior(model: Any, *, ax: Axes | Any = None, hdi_prob: float = 0.9, var_names: Any = None) -> Any:
    """Posterior density of each parameter with its mean and highest-density interval.

    Parameters
    ----------
    model : clvlab.bayes model
        A fitted Bayesian model.
    ax : matplotlib.axes.Axes or array of them, optional
        One Axes per parameter; a new row of Axes if omitted.
    hdi_prob : float
        Mass of the highest-density interval shown (see :func:`hdi`).
    var_names : list of str, optional
        Parameters to show (all by default).

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        One Axes per parameter, titled with its name.
    """
    _check(model)
    names = _names(model, var_names)
    data = plot_posterior_data(model)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(
            1, len(names), figsize=(3.2 * len(names), 2.8), squeeze=False, layout="constrained"
        )
    axes = np.asarray(ax, dtype=object).reshape(-1)
    if len(axes) != len(names):
        raise ValueError(f"ax: need {len(names)} Axes (one per parameter), got {len(axes)}")
    for a, name in zip(axes, names, strict=True):
        values = data[name].to_numpy(dtype=np.float64)
        grid, density = _density(values)
        a.plot(grid, density, color="C0", lw=1.5)
        lower, upper = hdi(values, hdi_prob)
        a.plot([lower, upper], [0.0, 0.0], color="k", lw=4, solid_capstyle="butt")
        a.annotate(
            f"{hdi_prob:.0%} HDI {lower:.3g} to {upper:.3g}",
            ((lower + upper) / 2, 0.0),
            xytext=(0, 5),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
        mean = float(values.mean())
        a.axvline(mean, color="C1", lw=1, ls="--")
        a.text(0.98, 0.96, f"mean {mean:.3g}", transform=a.transAxes, ha="right", va="top", fontsize=8)
        a.set_title(name)
        a.set_yticks([])
    return axes
