"""BdW: the beta-discrete-Weibull model of contract duration (Fader, Hardie, Liu, Davin & Steenburgh 2018)."""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

from clvlab.formulas import bdw as _formulas
from clvlab.models._contractual import ContractualModel

__all__ = ["BetaDiscreteWeibull"]


class BetaDiscreteWeibull(ContractualModel):
    """Beta-discrete-Weibull (BdW) model of subscription retention (FHLDS 2018, JIM 43).

    A customer's probability of surviving ``t`` periods is ``(1 - theta)^(t^c)``: their churn
    probability rises with tenure for ``c > 1`` (duration dependence), falls for ``c < 1`` and is constant
    for ``c = 1``, where the model is :class:`~clvlab.ShiftedBetaGeometric`; ``theta ~ Beta(gamma,
    delta)`` across customers, so ``S(t) = B(gamma, delta + t^c) / B(gamma, delta)`` (see
    :mod:`clvlab.formulas.bdw`; the parameter names are the paper's).

    The discounted residual lifetime has no closed form here: it is summed term by term (to 1e-13),
    and the undiscounted one is infinite unless ``c * gamma > 1``.

    Churn covariates (``dropout_covariates``) as for :class:`~clvlab.ShiftedBetaGeometric`:
    ``delta_i = delta exp(-g' z_i)``, ``gamma`` and ``c`` shared, so ``exp(g_j)`` is the odds ratio of the
    mean of ``theta`` (positive: more churn at every tenure).

    Parameters
    ----------
    penalizer : float
        Optional L2 penalty on the parameters (see :class:`~clvlab.models.base.BaseModel`).
    dropout_covariates : str or list of str, optional
        Covariates of the churn process (:mod:`clvlab.covariates`).
    covariate_penalizer : float
        Optional L2 penalty on the covariate coefficients.

    Attributes
    ----------
    params_ : pandas.Series
        ``gamma``, ``delta``, ``c``, then any coefficients ``"dropout:<column>"``.
    """

    param_names = ("gamma", "delta", "c")
    covariate_links: ClassVar[dict[str, tuple[tuple[str, int], ...]]] = {"dropout": (("delta", -1),)}
    dropout_params = ("gamma", "delta", "c")
    formulas: ClassVar[ModuleType] = _formulas
