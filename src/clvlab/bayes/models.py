"""Bayesian BG/NBD, Pareto/NBD and Gamma-Gamma: the maximum-likelihood models' maths with priors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from clvlab import models as _mle
from clvlab.bayes.base import BayesModel, BayesTransactionModel, FloatArray
from clvlab.models._start import rate_scale
from clvlab.models.gamma_gamma import _spend

__all__ = ["BetaGeo", "GammaGamma", "ParetoNBD"]

Priors = dict[str, tuple[str, dict[str, float]]]


class BetaGeo(BayesTransactionModel):
    """Bayesian BG/NBD (Fader, Hardie & Lee 2005) with the likelihood of :class:`clvlab.BetaGeo`.

    Default priors: r, a, b ~ HalfNormal(10); alpha ~ HalfNormal(10 x mean T / (mean frequency + 1)).
    """

    mle_class = _mle.BetaGeo

    def default_priors(self, columns: tuple[FloatArray, ...], weights: FloatArray) -> Priors:
        """Weakly informative half-normal priors, alpha's on the data's time scale."""
        scale = 10.0 * rate_scale(columns, weights)
        return {
            "r": ("HalfNormal", {"sigma": 10.0}),
            "alpha": ("HalfNormal", {"sigma": scale}),
            "a": ("HalfNormal", {"sigma": 10.0}),
            "b": ("HalfNormal", {"sigma": 10.0}),
        }


class ParetoNBD(BayesTransactionModel):
    """Bayesian Pareto/NBD (Schmittlein, Morrison & Colombo 1987) with :class:`clvlab.ParetoNBD`'s likelihood.

    Default priors: r, s ~ HalfNormal(10); alpha, beta ~ HalfNormal(10 x mean T / (mean frequency + 1)).
    """

    mle_class = _mle.ParetoNBD

    def default_priors(self, columns: tuple[FloatArray, ...], weights: FloatArray) -> Priors:
        """Weakly informative half-normal priors, alpha's and beta's on the data's time scale."""
        scale = 10.0 * rate_scale(columns, weights)
        return {
            "r": ("HalfNormal", {"sigma": 10.0}),
            "alpha": ("HalfNormal", {"sigma": scale}),
            "s": ("HalfNormal", {"sigma": 10.0}),
            "beta": ("HalfNormal", {"sigma": scale}),
        }


class GammaGamma(BayesModel):
    """Bayesian Gamma-Gamma spend model with the likelihood of :class:`clvlab.GammaGamma`.

    Default priors: p, q ~ HalfNormal(10); gamma ~ HalfNormal(10 x mean spend of the repeat customers).
    """

    mle_class = _mle.GammaGamma

    def default_priors(self, columns: tuple[FloatArray, ...], weights: FloatArray) -> Priors:
        """Weakly informative half-normal priors, gamma's on the data's currency scale."""
        mean_spend = float(weights @ columns[1]) / float(weights.sum())
        return {
            "p": ("HalfNormal", {"sigma": 10.0}),
            "q": ("HalfNormal", {"sigma": 10.0}),
            "gamma": ("HalfNormal", {"sigma": 10.0 * mean_spend}),
        }

    def predict_spend(
        self, data: Any, *, interval: float | None = None, return_draws: bool = False
    ) -> pd.Series | pd.DataFrame | xr.DataArray:
        """Posterior mean of E[M | x, m_x] (population mean for customers without repeat purchases)."""
        mle = self._mle_view()
        mle._check_time_unit(data)
        index, cols = mle._validate(data)
        columns = (cols["frequency"], cols["monetary_value"])
        return self._posterior(_spend, "expected_spend", index, (), columns, interval, return_draws)

    def expected_spend(self) -> float:
        """Posterior mean of the population mean spend p gamma / (q - 1)."""
        draws = self.param_draws()
        return float(np.mean(self.mle_class.formulas.expected_spend(draws[:, 0], draws[:, 1], draws[:, 2])))
