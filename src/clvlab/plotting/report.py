"""Write the key diagnostic plots of a fitted model as PNG files (used by ``clvlab run``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from clvlab._guards import write_atomically
from clvlab.draws import SpendPredictor, TransactionPredictor
from clvlab.evaluation import actual_holdout_value, predict_holdout_value
from clvlab.plotting._common import FIGSIZE, view
from clvlab.plotting.calibration_holdout import plot_calibration_vs_holdout
from clvlab.plotting.clv_distribution import plot_clv_distribution
from clvlab.plotting.gains import plot_clv_gains, plot_value_deciles
from clvlab.plotting.matrices import plot_frequency_recency_matrix, plot_p_alive_matrix
from clvlab.plotting.period_transactions import plot_period_transactions
from clvlab.plotting.spend import plot_spend_distribution
from clvlab.plotting.tracking import plot_tracking

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["write_report_plots"]


def _save(out_dir: Path, name: str, draw: Callable[[Axes], Any], dpi: int) -> Path:
    """Draw on a new figure (not registered with pyplot, so nothing accumulates) and save it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, layout="constrained")
    draw(fig.subplots())
    path = out_dir / f"{name}.png"
    write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
    return path


def write_report_plots(
    transaction_model: TransactionPredictor,
    spend_model: SpendPredictor,
    summary: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    calibration_holdout: pd.DataFrame | None = None,
    table: pd.DataFrame | None = None,
    transactions: Any = None,
    calibration_end: Any = None,
    observation_end: Any = None,
    customer_id: str = "customer_id",
    datetime: str = "date",
    weights: Any = None,
    interval: float | Literal["auto"] | None = "auto",
    dpi: int = 150,
    drop_after_end: bool = False,
    date_format: str | None = None,
) -> list[Path]:
    """Write the key diagnostic plots of fitted models to ``out_dir`` as PNG files.

    Always (for the ``summary`` the models were fitted on):

    * ``period_transactions.png`` (:func:`plot_period_transactions`),
    * ``frequency_recency_matrix.png`` and ``p_alive_matrix.png``,
    * ``spend_distribution.png`` when a spend model is given and ``summary`` has ``monetary_value``.

    With ``calibration_holdout`` (a :func:`clvlab.calibration_holdout_split` of the same customers):
    ``calibration_vs_holdout.png``; with a spend model and ``monetary_value_holdout`` also
    ``clv_gains.png`` and ``value_deciles.png``, ranking customers on their predicted undiscounted
    holdout value (:func:`clvlab.evaluation.predict_holdout_value`) against their actual holdout spend.

    With ``transactions`` and ``calibration_end`` (continuous-time models): ``tracking_cumulative.png``
    and ``tracking_incremental.png``. With ``table`` (:func:`clvlab.predict_customer_value`):
    ``clv_distribution.png``.

    Parameters
    ----------
    transaction_model : transaction model
        Fitted maximum-likelihood or :mod:`clvlab.bayes` transaction model.
    spend_model : GammaGamma or None
        Fitted spend model, if any.
    summary : pandas.DataFrame
        The customer summary the models were fitted on.
    out_dir : path
        Directory for the files (created if missing); existing files of the same names are replaced.
    calibration_holdout, table, transactions, calibration_end, observation_end
        Optional inputs enabling the plots above.
    customer_id, datetime : str
        Column names of ``transactions``.
    weights : array-like or str, optional
        Customer weights of an aggregated ``summary`` (period transactions plot).
    interval : float, None or "auto"
        Interval level of the bands on the period and tracking plots; ``"auto"`` (default) draws 90%
        credible bands for a Bayesian transaction model and none for a maximum-likelihood one.
    dpi : int
        Resolution of the PNG files.
    drop_after_end : bool
        Transactions after ``observation_end`` raise :class:`~clvlab.DataError` unless this is True
        (tracking plots; as in :func:`clvlab.rfm_summary`).
    date_format : str, optional
        strftime format of string dates in ``transactions``, as in :func:`clvlab.rfm_summary`.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order above.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    mv = view(transaction_model, per_customer=True)
    level = (0.9 if mv.bayesian else None) if interval == "auto" else interval
    written = [
        _save(
            out,
            "period_transactions",
            lambda ax: plot_period_transactions(
                transaction_model, summary, weights=weights, interval=level, ax=ax
            ),
            dpi,
        ),
        _save(
            out,
            "frequency_recency_matrix",
            lambda ax: plot_frequency_recency_matrix(transaction_model, summary, ax=ax),
            dpi,
        ),
        _save(out, "p_alive_matrix", lambda ax: plot_p_alive_matrix(transaction_model, summary, ax=ax), dpi),
    ]
    if spend_model is not None and "monetary_value" in summary.columns:
        written.append(
            _save(
                out,
                "spend_distribution",
                lambda ax: plot_spend_distribution(spend_model, summary, ax=ax),
                dpi,
            )
        )
    if calibration_holdout is not None:
        written.append(
            _save(
                out,
                "calibration_vs_holdout",
                lambda ax: plot_calibration_vs_holdout(transaction_model, calibration_holdout, ax=ax),
                dpi,
            )
        )
        if spend_model is not None and "monetary_value_holdout" in calibration_holdout.columns:
            actual = actual_holdout_value(calibration_holdout)
            if float(actual.sum()) > 0:
                predicted = predict_holdout_value(transaction_model, spend_model, calibration_holdout)
                written.append(
                    _save(out, "clv_gains", lambda ax: plot_clv_gains(predicted, actual, ax=ax), dpi)
                )
                written.append(
                    _save(out, "value_deciles", lambda ax: plot_value_deciles(predicted, actual, ax=ax), dpi)
                )
    if transactions is not None and calibration_end is not None and not mv.discrete:
        for cumulative, name in ((True, "tracking_cumulative"), (False, "tracking_incremental")):
            written.append(
                _save(
                    out,
                    name,
                    lambda ax, c=cumulative: plot_tracking(  # type: ignore[misc]
                        transaction_model,
                        transactions,
                        customer_id=customer_id,
                        datetime=datetime,
                        calibration_end=calibration_end,
                        observation_end=observation_end,
                        cumulative=c,
                        interval=level,
                        drop_after_end=drop_after_end,
                        date_format=date_format,
                        ax=ax,
                    ),
                    dpi,
                )
            )
    if table is not None and "clv" in table.columns:
        written.append(_save(out, "clv_distribution", lambda ax: plot_clv_distribution(table, ax=ax), dpi))
    return written
