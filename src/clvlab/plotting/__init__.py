"""Diagnostic plots of fitted models (matplotlib, imported only when a plot is drawn).

Every plot function takes ``ax=None`` (a new slide-sized figure when omitted) and returns the Axes it
drew on; its ``*_data`` companion returns the numbers it draws as a DataFrame, computed exactly from the
model's formulas (no simulation), so figures are reproducible and testable. Bayesian models
(:mod:`clvlab.bayes`) are shown at their posterior means, and ``interval=`` adds credible bands from the
posterior draws (for maximum-likelihood models: bands from the asymptotic distribution of the
estimates).
"""

from clvlab.plotting.backtest import plot_backtest, plot_backtest_data
from clvlab.plotting.calibration_holdout import plot_calibration_vs_holdout, plot_calibration_vs_holdout_data
from clvlab.plotting.campaign import plot_profit_curve, plot_profit_curve_data
from clvlab.plotting.clv_distribution import plot_clv_distribution, plot_clv_distribution_data
from clvlab.plotting.gains import (
    plot_clv_gains,
    plot_clv_gains_data,
    plot_value_deciles,
    plot_value_deciles_data,
)
from clvlab.plotting.history import plot_history_alive, plot_history_alive_data
from clvlab.plotting.matrices import (
    plot_frequency_recency_matrix,
    plot_frequency_recency_matrix_data,
    plot_p_alive_matrix,
    plot_p_alive_matrix_data,
)
from clvlab.plotting.period_transactions import plot_period_transactions, plot_period_transactions_data
from clvlab.plotting.posterior import plot_posterior, plot_posterior_data, plot_trace, plot_trace_data
from clvlab.plotting.report import write_report_plots
from clvlab.plotting.retention import plot_retention, plot_retention_data
from clvlab.plotting.simple_vs_model import plot_simple_vs_model, plot_simple_vs_model_data
from clvlab.plotting.spend import plot_spend_distribution, plot_spend_distribution_data
from clvlab.plotting.tracking import plot_tracking, plot_tracking_data

__all__ = [
    "plot_backtest",
    "plot_backtest_data",
    "plot_calibration_vs_holdout",
    "plot_calibration_vs_holdout_data",
    "plot_clv_distribution",
    "plot_clv_distribution_data",
    "plot_clv_gains",
    "plot_clv_gains_data",
    "plot_frequency_recency_matrix",
    "plot_frequency_recency_matrix_data",
    "plot_history_alive",
    "plot_history_alive_data",
    "plot_p_alive_matrix",
    "plot_p_alive_matrix_data",
    "plot_period_transactions",
    "plot_period_transactions_data",
    "plot_posterior",
    "plot_posterior_data",
    "plot_profit_curve",
    "plot_profit_curve_data",
    "plot_retention",
    "plot_retention_data",
    "plot_simple_vs_model",
    "plot_simple_vs_model_data",
    "plot_spend_distribution",
    "plot_spend_distribution_data",
    "plot_trace",
    "plot_trace_data",
    "plot_tracking",
    "plot_tracking_data",
    "plot_value_deciles",
    "plot_value_deciles_data",
    "write_report_plots",
]
