"""Bayesian sBG and BdW: the contractual models' likelihood with priors (issue 20).

The classes wrap :class:`clvlab.ShiftedBetaGeometric` and :class:`clvlab.BetaDiscreteWeibull`: the same
data validation, de-duplicated weighted rows and likelihood function (:mod:`clvlab.formulas.sbg`,
:mod:`clvlab.formulas.bdw`, exact gradients) through :class:`clvlab.bayes.base.BayesModel`; the
predictions are the same formula functions averaged over the posterior draws. Churn covariates
(``dropout_covariates``) work as in the maximum-likelihood twins (``delta_i = delta exp(-g' z_i)``), with the
coefficient priors of :class:`clvlab.bayes.base.BayesModel`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from clvlab import models as _mle
from clvlab._guards import real_number
from clvlab._types import FloatArray
from clvlab.bayes.base import BayesModel
from clvlab.models._contractual import per_period_rate, value_terms, whole_periods

__all__ = ["BetaDiscreteWeibull", "ShiftedBetaGeometric"]

Priors = dict[str, tuple[str, dict[str, float]]]
Prediction = pd.Series | pd.DataFrame | xr.DataArray


class BayesContractualModel(BayesModel):
    """Posterior predictions of the contractual models.

    The methods of :class:`clvlab.models._contractual.ContractualModel`, as posterior means with optional
    credible bounds (``interval``) or all draws (``return_draws``).
    """

    def _bind(self, fn: Any) -> Any:
        """``fn`` of the posterior draws' columns (per-customer parameters with covariates)."""
        return self._mle_view().bind(fn)

    def _curve(self, fn: Any, t: Any) -> FloatArray:
        self._mle_view().require_no_covariates("the cohort's curve")
        draws = self.param_draws()
        tt = np.asarray(real_number(t, "t"))
        vals = fn(*(draws[:, [j]] for j in range(draws.shape[1])), np.atleast_1d(tt).reshape(-1)[None, :])
        out = np.asarray(vals, dtype=np.float64).mean(axis=0)
        return out.reshape(tt.shape) if tt.ndim else np.asarray(out[0])

    def survival(self, t: Any) -> FloatArray:
        """Posterior mean of S(t), the share of a new cohort active after ``t`` periods."""
        return self._curve(self.mle_class.formulas.survival, t)

    def retention_rate(self, t: Any) -> FloatArray:
        """Posterior mean of the retention rate r(t) = S(t) / S(t - 1) at period ``t >= 1``."""
        return self._curve(self.mle_class.formulas.retention_rate, t)

    def churn_probability(self, t: Any) -> FloatArray:
        """Posterior mean of P(T = t)."""
        return self._curve(self.mle_class.formulas.churn_pmf, t)

    def predict_p_active(
        self, data: Any, periods_ahead: int = 1, *, interval: float | None = None, return_draws: bool = False
    ) -> Prediction:
        """Posterior mean of P(still a subscriber ``periods_ahead`` renewals from now | history)."""
        index, cols = self._mle_view().validated_columns(data)
        m = whole_periods(periods_ahead, "periods_ahead")
        fn = self._bind(self.mle_class.formulas.p_active)
        return self._posterior(fn, "p_active", index, (m,), cols, interval, return_draws)

    def predict_residual_lifetime(
        self, data: Any, *, interval: float | None = None, return_draws: bool = False
    ) -> Prediction:
        """Posterior mean of the expected number of future renewals (infinite if any draw's is)."""
        index, cols = self._mle_view().validated_columns(data)
        fn = self._bind(self.mle_class.formulas.expected_residual_lifetime)
        return self._posterior(fn, "residual_lifetime", index, (), cols, interval, return_draws)

    def predict_discounted_residual_lifetime(
        self, data: Any, discount_rate: float, *, interval: float | None = None, return_draws: bool = False
    ) -> Prediction:
        """Posterior mean of the discounted expected residual lifetime (Fader & Hardie 2010), in periods."""
        index, cols = self._mle_view().validated_columns(data)
        fn = self._bind(self.mle_class.formulas.derl)
        scalars = (per_period_rate(discount_rate),)
        return self._posterior(
            fn, "discounted_residual_lifetime", index, scalars, cols, interval, return_draws
        )

    def predict_retention_elasticity(
        self, data: Any, discount_rate: float, *, interval: float | None = None, return_draws: bool = False
    ) -> Prediction:
        """Posterior mean of each customer's retention elasticity of residual value (Fader & Hardie 2010)."""
        index, cols = self._mle_view().validated_columns(data)
        fn = self._bind(self.mle_class.formulas.retention_elasticity)
        scalars = (per_period_rate(discount_rate),)
        return self._posterior(fn, "retention_elasticity", index, scalars, cols, interval, return_draws)

    def subscriber_value(
        self,
        data: Any,
        margin_per_period: Any,
        discount_rate: float,
        *,
        first_payment: str = "now",
        interval: float | None = None,
        return_draws: bool = False,
    ) -> Prediction:
        """Posterior mean of margin per period x DERL (first-payment convention as in the MLE model)."""
        index, cols = self._mle_view().validated_columns(data)
        fn, scalars, columns = value_terms(
            self.mle_class.formulas, data, index, cols, margin_per_period, discount_rate, first_payment
        )
        return self._posterior(
            self._bind(fn), "subscriber_value", index, scalars, columns, interval, return_draws
        )

    def discounted_expected_lifetime(self, discount_rate: float) -> float:
        """Posterior mean of a new subscriber's discounted expected lifetime (first payment counted 1)."""
        self._mle_view().require_no_covariates("a new subscriber's discounted expected lifetime")
        draws = self.param_draws()
        d = per_period_rate(discount_rate)
        fn = self.mle_class.formulas.discounted_expected_lifetime
        return float(np.mean(fn(*(draws[:, j] for j in range(draws.shape[1])), d)))


class ShiftedBetaGeometric(BayesContractualModel):
    """Bayesian shifted beta-geometric (Fader & Hardie 2007) on the likelihood of the MLE model.

    Default priors: gamma, delta ~ HalfNormal(10) (the beta distribution of the churn probability; its
    mean ``gamma / (gamma + delta)`` and polarisation ``1 / (gamma + delta + 1)`` are left wide open).
    """

    mle_class = _mle.ShiftedBetaGeometric

    def default_priors(self, columns: tuple[FloatArray, ...], weights: FloatArray) -> Priors:
        """Half-normal priors on the beta parameters (no scale: churn probabilities have none)."""
        return {"gamma": ("HalfNormal", {"sigma": 10.0}), "delta": ("HalfNormal", {"sigma": 10.0})}


class BetaDiscreteWeibull(BayesContractualModel):
    """Bayesian beta-discrete-Weibull (FHLDS 2018) with :class:`clvlab.BetaDiscreteWeibull`'s likelihood.

    Default priors: gamma, delta ~ HalfNormal(10); c ~ HalfNormal(2) (duration dependence: ``c = 1`` is
    none, published fits lie between about 0.5 and 2).
    """

    mle_class = _mle.BetaDiscreteWeibull

    def default_priors(self, columns: tuple[FloatArray, ...], weights: FloatArray) -> Priors:
        """Half-normal priors; the Weibull shape ``c`` centred on plausible duration dependence."""
        return {
            "gamma": ("HalfNormal", {"sigma": 10.0}),
            "delta": ("HalfNormal", {"sigma": 10.0}),
            "c": ("HalfNormal", {"sigma": 2.0}),
        }
