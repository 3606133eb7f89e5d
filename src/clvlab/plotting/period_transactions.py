"""Actual vs expected number of customers with 0, 1, 2, ... repeat purchases in the fitted period."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clvlab._types import FloatArray
from clvlab.data.validation import weights_array
from clvlab.draws import HasDraws, summarise
from clvlab.plotting._common import bin_labels, interval_label, new_axes, view

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_period_transactions", "plot_period_transactions_data"]


def plot_period_transactions_data(
    model: HasDraws,
    summary: Any,
    *,
    max_frequency: int = 7,
    weights: Any = None,
    interval: float | None = None,
    n_draws: int = 200,
    seed: Any = 0,
) -> pd.DataFrame:
    r"""Actual and expected numbers of customers by repeat purchases in the summary's period.

    The expected number with ``n`` repeat purchases is exact, not simulated:

    .. math:: E[\#\{i: x_i = n\}] = \sum_i w_i\, P(X(T_i) = n),

    the model's probability of ``n`` purchases in each customer's own observation period ``T_i`` (with
    covariates, at the customer's own parameters; FHL
    2005 eq. 8 for the BG/NBD; Fader & Hardie's P(X(t) = x) note for the Pareto/NBD; Batislam et al.
    2007 for the MBG/NBD; FHS 2010 eq. 7 for the BG/BB with ``T_i = n_periods``). The last bin,
    ``"K+"``, holds the rest: customers minus the sum of the lower bins, so the two columns have the same
    total.

    Parameters
    ----------
    model : transaction model
        A fitted :class:`clvlab.BetaGeo`, :class:`clvlab.ParetoNBD`, :class:`clvlab.ModifiedBetaGeo`,
        :class:`clvlab.BetaGeoBetaBinom` or :mod:`clvlab.bayes` transaction model.
    summary : pandas.DataFrame
        The summary the model was fitted on (``frequency``, ``recency``, ``T``; BG/BB: ``n_periods``): a
        summary of the whole log, or the calibration part of :func:`clvlab.calibration_holdout_split`.
    max_frequency : int
        Number of single-count bins ``0 .. max_frequency - 1`` before the tail bin (BG/BB: at most the
        largest ``n_periods``).
    weights : array-like or str, optional
        Customers each row stands for (an aggregated summary such as the donations data), or the name
        of a column holding them.
    interval : float, optional
        With a level such as 0.9, add ``expected_lower`` and ``expected_upper``: quantiles of the
        expected counts over parameter draws (posterior draws for a Bayesian model; ``n_draws`` draws
        from the asymptotic distribution, seeded by ``seed``, for a maximum-likelihood one).

    Returns
    -------
    pandas.DataFrame
        Indexed by the bin label (``"0"``, ``"1"``, ..., ``"K+"``), with columns ``actual`` and
        ``expected`` (and the bounds). For a Bayesian model ``expected`` is the posterior mean.
        ``attrs["period"]`` names the period counted: ``"calibration"`` for a calibration / holdout split
        (it has ``duration_holdout``), ``"observation"`` otherwise (each customer's own ``T``).
    """
    mv = view(model, per_customer=True)
    _, (x, _, T, *z) = mv.transaction_arrays(summary)
    w = weights_array(summary, weights, len(x))
    k = int(max_frequency)
    if k < 1:
        raise ValueError(f"max_frequency must be at least 1, got {max_frequency!r}")
    if mv.discrete:
        k = min(k, int(T.max()))
    # Customers grouped by age (and, with covariates, by covariate pattern: their own parameters).
    groups, inverse = np.unique(np.column_stack([T, *z]), axis=0, return_inverse=True)
    ages, patterns = groups[:, 0], tuple(groups[:, 1:].T)
    age_weights = np.bincount(inverse.reshape(-1), weights=w, minlength=len(ages))
    total = float(w.sum())
    pmf = mv.bind(mv.formulas.purchase_count_pmf)

    def expected(*params: FloatArray) -> FloatArray:
        cols = [
            np.asarray(pmf(*params, ages, float(n), *patterns), dtype=np.float64) @ age_weights
            for n in range(k)
        ]
        lower = np.stack(cols, axis=-1)
        return np.concatenate([lower, total - lower.sum(axis=-1, keepdims=True)], axis=-1)

    point, lo, hi = summarise(mv, expected, interval=interval, n_draws=n_draws, seed=seed, inner=len(ages))
    actual = np.array([w[x == n].sum() for n in range(k)] + [w[x >= k].sum()])
    out = pd.DataFrame({"actual": actual, "expected": point}, index=pd.Index(bin_labels(k), name="frequency"))
    if lo is not None and hi is not None:
        out["expected_lower"], out["expected_upper"] = lo, hi
    period = "calibration" if "duration_holdout" in getattr(summary, "columns", ()) else "observation"
    out.attrs.update(model=mv.name, interval=interval, customers=total, discrete=mv.discrete, period=period)
    return out


def plot_period_transactions(
    model: HasDraws,
    summary: Any,
    *,
    max_frequency: int = 7,
    weights: Any = None,
    interval: float | None = None,
    n_draws: int = 200,
    seed: Any = 0,
    ax: Axes | None = None,
) -> Axes:
    """Bar chart of actual vs expected customers by number of repeat purchases (exact, not simulated).

    Draws :func:`plot_period_transactions_data` (see there for the parameters): one bar per bin for the
    data and one for the model, with error bars for the ``interval`` if given.

    Returns
    -------
    matplotlib.axes.Axes
    """
    data = plot_period_transactions_data(
        model,
        summary,
        max_frequency=max_frequency,
        weights=weights,
        interval=interval,
        n_draws=n_draws,
        seed=seed,
    )
    ax = new_axes(ax)
    pos = np.arange(len(data))
    width = 0.4
    ax.bar(pos - width / 2, data["actual"], width, label="Actual", color="#4C72B0")
    yerr = None
    if "expected_lower" in data:
        yerr = np.vstack(
            [data["expected"] - data["expected_lower"], data["expected_upper"] - data["expected"]]
        )
    ax.bar(
        pos + width / 2,
        data["expected"],
        width,
        yerr=yerr,
        capsize=3 if yerr is not None else 0,
        label=f"Model: {data.attrs['model']}"
        + (f", {interval_label(interval)}" if interval is not None else ""),
        color="#DD8452",
    )
    ax.set_xticks(pos, list(data.index))
    if data.attrs["discrete"]:
        ax.set_xlabel("Transactions in the observed opportunities")
    else:
        ax.set_xlabel(f"Repeat purchases in the {data.attrs['period']} period")
    ax.set_ylabel("Customers")
    ax.set_title("Frequency of repeat transactions: actual vs model")
    ax.legend(frameon=False)
    return ax
