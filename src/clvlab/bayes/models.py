"""Bayesian BG/NBD, MBG/NBD, Pareto/NBD, BG/BB and Gamma-Gamma: the maximum-likelihood maths with priors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from clvlab import models as _mle
from clvlab._types import FloatArray
from clvlab.bayes._coordinates import SurvivalCoordinates
from clvlab.bayes.base import BayesModel, BayesTransactionModel
from clvlab.models._start import mean_age, rate_scale

__all__ = ["BetaGeo", "BetaGeoBetaBinom", "GammaGamma", "ModifiedBetaGeo", "ParetoNBD"]

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


class ModifiedBetaGeo(BayesTransactionModel):
    """Bayesian MBG/NBD (Batislam, Denizel & Filiztekin 2007), :class:`clvlab.ModifiedBetaGeo`'s likelihood.

    Default priors: those of :class:`BetaGeo` (r, a, b ~ HalfNormal(10); alpha ~ HalfNormal(10 x mean T /
    (mean frequency + 1))).
    """

    mle_class = _mle.ModifiedBetaGeo

    def default_priors(self, columns: tuple[FloatArray, ...], weights: FloatArray) -> Priors:
        """Weakly informative half-normal priors, alpha's on the data's time scale (as BG/NBD's)."""
        return BetaGeo.default_priors(self, columns, weights)  # type: ignore[arg-type]


class BetaGeoBetaBinom(BayesTransactionModel):
    """Bayesian BG/BB (Fader, Hardie & Shang 2010) with :class:`clvlab.BetaGeoBetaBinom`'s likelihood.

    Default priors: alpha, beta, gamma, delta ~ HalfNormal(10) (the beta distributions of the transaction
    and drop-out probabilities; no time scale, as opportunities are counted).
    """

    mle_class = _mle.BetaGeoBetaBinom

    def default_priors(self, columns: tuple[FloatArray, ...], weights: FloatArray) -> Priors:
        """Half-normal priors on the four beta parameters."""
        return {name: ("HalfNormal", {"sigma": 10.0}) for name in ("alpha", "beta", "gamma", "delta")}


class ParetoNBD(BayesTransactionModel):
    """Bayesian Pareto/NBD (Schmittlein, Morrison & Colombo 1987) with :class:`clvlab.ParetoNBD`'s likelihood.

    Default priors: r ~ HalfNormal(10), alpha ~ HalfNormal(10 x mean T / (mean frequency + 1)) for the
    purchase process, as in :class:`BetaGeo`; s ~ HalfNormal(1) and beta ~ HalfNormal(mean T) for the
    dropout process (mu ~ Gamma(s, beta)).

    Why the dropout priors are narrower: the data identify the share of customers surviving the
    observation window, not ``s`` and ``beta`` apart. The likelihood stays nearly flat as both grow
    together (towards homogeneous dropout, ``1 / sqrt(s)`` being the coefficient of variation of the
    dropout rate), so along that ridge the posterior is whatever the prior says, and the forecasts move
    with it. On CDNOW, HalfNormal(10) priors on s and on beta (at alpha's scale) put the posterior mean
    at s = 2.2, beta = 72 and the posterior-mean forecast of the 39 holdout weeks 13% below the
    maximum-likelihood one (which itself falls short of the actual purchases); HalfNormal(1) on s
    (heterogeneous dropout, as in published Pareto/NBD fits: CDNOW's s is 0.61) and a beta on the scale
    of the observation window keep it within 4% (3.5% in a 2 x (500 + 500) NUTS run). Pass
    ``priors=`` to state other beliefs. With nutpie, NUTS moves in ``(ln s, ln k)``,
    ``k = -ln S(mean T)`` the log survival at the data's mean age
    (:class:`clvlab.bayes._coordinates.SurvivalCoordinates`): the same posterior, a straighter geometry.
    """

    mle_class = _mle.ParetoNBD

    def default_priors(self, columns: tuple[FloatArray, ...], weights: FloatArray) -> Priors:
        """Half-normal priors: alpha's on the purchase time scale, beta's on the observation window's."""
        scale = 10.0 * rate_scale(columns, weights)
        return {
            "r": ("HalfNormal", {"sigma": 10.0}),
            "alpha": ("HalfNormal", {"sigma": scale}),
            "s": ("HalfNormal", {"sigma": 1.0}),
            "beta": ("HalfNormal", {"sigma": mean_age(columns, weights)}),
        }

    def _sampling_coordinates(
        self, model: pm.Model, columns: tuple[FloatArray, ...], weights: FloatArray
    ) -> SurvivalCoordinates | None:
        """``(ln s, ln k)`` for ``(ln s, ln beta)``, when both are sampled on PyMC's log scale."""
        names = [v.name for v in model.value_vars]
        if "s_log__" not in names or "beta_log__" not in names:
            return None  # a prior override with another transform: sample in PyMC's coordinates
        horizon = mean_age(columns, weights)
        return SurvivalCoordinates(names.index("s_log__"), names.index("beta_log__"), horizon)


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
        view = self._mle_view()
        index, columns = view.validated_columns(data)
        spend = view.bind(self.mle_class.formulas.conditional_expected_spend)
        return self._posterior(spend, "expected_spend", index, (), columns, interval, return_draws)

    def expected_spend(self) -> float:
        """Posterior mean of the population mean spend p gamma / (q - 1)."""
        self._mle_view().require_no_covariates("the population mean spend")
        draws = self.param_draws()
        return float(np.mean(self.mle_class.formulas.expected_spend(draws[:, 0], draws[:, 1], draws[:, 2])))
