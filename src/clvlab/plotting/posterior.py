"""Trace and posterior plots of the Bayesian models, through ArviZ."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_posterior", "plot_posterior_data", "plot_trace", "plot_trace_data"]


def _check(model: Any) -> None:
    if not hasattr(model, "idata_") and not hasattr(model, "mle_class"):
        raise TypeError(
            f"trace and posterior plots need a Bayesian model from clvlab.bayes, got {type(model).__name__}"
        )
    if not hasattr(model, "idata_"):
        model._check_fitted()


@contextmanager
def _arviz_quiet() -> Iterator[None]:
    """Hide one notice ArviZ's plotting code (0.23) triggers in matplotlib >= 3.11, nothing else.

    ArviZ passes a dict to ``matplotlib.cbook.normalize_kwargs``, which matplotlib 3.11 deprecates; it
    concerns ArviZ's code, not the caller's, who cannot act on it.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Passing a dict or None as alias_mapping", category=DeprecationWarning
        )
        yield


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


def plot_trace(model: Any, **kwargs: Any) -> Any:
    """Trace plot of the parameters (``arviz.plot_trace`` on the model's posterior).

    Parameters
    ----------
    model : clvlab.bayes model
        A fitted Bayesian model.
    **kwargs
        Passed to :func:`arviz.plot_trace` (e.g. ``axes=``, ``compact=``).

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        ArviZ's (parameters x 2) grid: densities left, draws right.
    """
    _check(model)
    import arviz as az

    kwargs.setdefault("var_names", list(model.param_names))
    kwargs.setdefault("backend_kwargs", {"layout": "constrained"})
    with _arviz_quiet():
        return az.plot_trace(model.idata_, **kwargs)


def plot_posterior(model: Any, *, ax: Axes | Any = None, hdi_prob: float = 0.9, **kwargs: Any) -> Any:
    """Posterior densities of the parameters with their HDI (``arviz.plot_posterior``).

    Parameters
    ----------
    model : clvlab.bayes model
        A fitted Bayesian model.
    ax : matplotlib.axes.Axes or array of them, optional
        One Axes per parameter.
    hdi_prob : float
        Mass of the highest-density interval shown.
    **kwargs
        Passed to :func:`arviz.plot_posterior`.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
    """
    _check(model)
    import arviz as az

    kwargs.setdefault("var_names", list(model.param_names))
    if ax is None:
        kwargs.setdefault("backend_kwargs", {"layout": "constrained"})
    with _arviz_quiet():
        return az.plot_posterior(model.idata_, ax=ax, hdi_prob=hdi_prob, **kwargs)
