"""Observed distribution of customers' average spend vs the Gamma-Gamma model's."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.special import betainc

from clvlab._types import FloatArray
from clvlab.draws import HasDraws, summarise
from clvlab.errors import DataError
from clvlab.plotting._common import new_axes, view

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_spend_distribution", "plot_spend_distribution_data"]


def plot_spend_distribution_data(
    spend_model: HasDraws, summary: pd.DataFrame, *, bins: int = 40, max_value: float | None = None
) -> pd.DataFrame:
    r"""Histogram of the repeat customers' average spend and the Gamma-Gamma model's distribution of it.

    Under the Gamma-Gamma model the mean :math:`\bar m` of a customer's ``x`` transaction values has
    :math:`x\bar m / (\gamma + x\bar m) \sim \mathrm{Beta}(px, q)` (integrating the customer's rate
    :math:`\nu \sim \mathrm{Gamma}(q, \gamma)` out of :math:`x\bar m \sim \mathrm{Gamma}(px, \nu)`; Fader
    & Hardie 2013, "The Gamma-Gamma Model of Monetary Value", eq. 3), so the probability of a bin
    :math:`(m_0, m_1]` is a difference of regularised incomplete beta functions. The model's histogram
    mixes these over the observed frequencies of the customers shown: it is the expected histogram of
    the data, and ``model_density`` is comparable bin by bin with ``observed_density``.

    Parameters
    ----------
    spend_model : GammaGamma
        A fitted :class:`clvlab.GammaGamma` or :class:`clvlab.bayes.GammaGamma` (posterior mean).
    summary : pandas.DataFrame
        Customer summary with ``frequency`` and ``monetary_value``; customers with ``frequency > 0``
        are shown.
    bins : int
        Number of equal-width bins on ``[0, max_value]``.
    max_value : float, optional
        Upper end of the histogram; defaults to the 99th percentile of the observed average spend (the
        share of customers above it is in ``attrs["share_above"]``).

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``left``, ``right``, ``observed_density`` and ``model_density`` (share of
        customers in the bin divided by its width).
    """
    mv = view(spend_model, "spend")
    _, (frequency, monetary_value) = mv.spend_arrays(summary)
    repeat = frequency > 0
    if not repeat.any():
        raise DataError("no customer has a repeat purchase: there is no average spend to show")
    x, m = frequency[repeat], monetary_value[repeat]
    if int(bins) < 1:
        raise ValueError(f"bins must be at least 1, got {bins!r}")
    top = float(np.quantile(m, 0.99)) if max_value is None else float(max_value)
    if not (np.isfinite(top) and top > 0):
        raise ValueError(f"max_value must be positive, got {max_value!r}")
    edges = np.linspace(0.0, top, int(bins) + 1)
    width = np.diff(edges)
    n = len(m)
    counts, _ = np.histogram(m, bins=edges)
    freqs, freq_counts = np.unique(x, return_counts=True)
    share = freq_counts / n

    def bin_probability(p: FloatArray, q: FloatArray, gamma: FloatArray) -> FloatArray:
        # CDF of mbar at each edge for each distinct frequency: I_{x m / (gamma + x m)}(p x, q).
        u = freqs[:, None] * edges[None, :]  # (frequencies, edges)
        z = u / (gamma[..., None] + u)
        cdf = betainc(p[..., None] * freqs[:, None], q[..., None], z)  # (draws, frequencies, edges)
        mixed = np.einsum("dfe,f->de", cdf, share)
        return np.asarray(np.diff(mixed, axis=-1), dtype=np.float64)

    point, _, _ = summarise(
        mv, bin_probability, interval=None, n_draws=0, seed=None, inner=len(freqs) * len(edges)
    )
    out = pd.DataFrame(
        {
            "left": edges[:-1],
            "right": edges[1:],
            "observed_density": counts / n / width,
            "model_density": point / width,
        }
    )
    out.index.name = "bin"
    out.attrs.update(model=mv.name, customers=n, share_above=float(np.mean(m > top)), max_value=top)
    return out


def _note(data: pd.DataFrame) -> str:
    above = data.attrs["share_above"]
    return f"\n({100 * above:.1f}% above {data.attrs['max_value']:.4g} not shown)" if above > 0 else ""


def plot_spend_distribution(
    spend_model: HasDraws,
    summary: pd.DataFrame,
    *,
    bins: int = 40,
    max_value: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Histogram of observed average spend per repeat customer with the Gamma-Gamma model's histogram.

    Draws :func:`plot_spend_distribution_data` (see there for the parameters): bars for the data, a line
    through the model's bin densities.

    Returns
    -------
    matplotlib.axes.Axes
    """
    data = plot_spend_distribution_data(spend_model, summary, bins=bins, max_value=max_value)
    ax = new_axes(ax)
    left, right = data["left"].to_numpy(), data["right"].to_numpy()
    ax.bar(
        left,
        data["observed_density"],
        width=right - left,
        align="edge",
        color="#4C72B0",
        alpha=0.6,
        label=f"Observed: {data.attrs['customers']} repeat customers{_note(data)}",
    )
    ax.plot(
        (left + right) / 2,
        data["model_density"],
        color="#DD8452",
        linewidth=2,
        label=f"Model: {data.attrs['model']}",
    )
    ax.set_xlim(0, right[-1])
    ax.set_xlabel("Average value of repeat purchases (currency units)")
    ax.set_ylabel("Share of customers per currency unit")
    ax.set_title("Average spend per customer: observed vs Gamma-Gamma")
    ax.legend(frameon=False)
    return ax
