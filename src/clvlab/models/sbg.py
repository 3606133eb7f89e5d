"""sBG: the shifted beta-geometric model of contract duration (Fader & Hardie 2007)."""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

from clvlab.formulas import sbg as _formulas
from clvlab.models._contractual import ContractualModel

__all__ = ["ShiftedBetaGeometric"]


class ShiftedBetaGeometric(ContractualModel):
    """Shifted beta-geometric (sBG) model of subscription retention (Fader & Hardie 2007, JIM 21(1)).

    Each customer renews at the end of every contract period with probability ``1 - theta`` and cancels
    with probability ``theta``; ``theta ~ Beta(gamma, delta)`` across customers. The cohort's survival
    ``S(t) = B(gamma, delta + t) / B(gamma, delta)`` and its retention rate ``r(t) = (delta + t - 1) /
    (gamma + delta + t - 1)`` rise with tenure as the customers likely to churn leave (see
    :mod:`clvlab.formulas.sbg`).

    Parameter names: Fader & Hardie (2007) and (2010) write the beta parameters ``alpha, beta``; clvlab
    calls them ``gamma, delta`` as Fader, Hardie, Liu, Davin & Steenburgh (2018) do, so that this model
    is :class:`~clvlab.BetaDiscreteWeibull` at ``c = 1`` under the same names (and the BG/BB's drop-out
    process, also ``gamma, delta``). FH 2007's ``alpha`` is ``gamma``, their ``beta`` is ``delta``.

    The summary has ``duration`` and ``churned`` (:func:`clvlab.subscription_summary`,
    :func:`clvlab.survivors_to_summary`); the period is the data's ``attrs["time_unit"]``.

    Churn covariates (``dropout_covariates``, a formula such as ``"~ plan + channel"`` or a list of
    columns, :mod:`clvlab.covariates`): customer i's ``delta_i = delta exp(-g' z_i)`` with ``gamma``
    shared, so ``exp(g_j)`` is the odds ratio of the mean churn probability ``E[theta] = gamma / (gamma +
    delta)`` per unit of design column ``j`` (positive: more churn), the sign convention of the other
    models' drop-out coefficients. Fitted by maximum likelihood in the baselines and coefficients with
    the exact chain-rule gradient (:mod:`clvlab.models._covariates`); population curves then need a
    profile (:func:`clvlab.subscriber_acquisition_value`), per-customer predictions take the covariate
    columns from the data.

    Parameters
    ----------
    penalizer : float
        Optional L2 penalty on the parameters (see :class:`~clvlab.models.base.BaseModel`).
    dropout_covariates : str or list of str, optional
        Covariates of the churn process (see above).
    covariate_penalizer : float
        Optional L2 penalty on the covariate coefficients.

    Attributes
    ----------
    params_ : pandas.Series
        ``gamma``, ``delta`` (the baselines: a subscriber whose design columns are all 0), then any
        coefficients ``"dropout:<column>"``.

    Examples
    --------
    The "regular" cohort of Fader & Hardie (2007), fitted to years 1-7, and its projection of years
    8-10 (tests/references.md [SBG-FH2007-REGULAR], [SBG-FH2007-PROJECTION]; actual: 223, 207, 194):

    >>> from clvlab.data.subscriptions import survivors_to_summary
    >>> from clvlab.models.sbg import ShiftedBetaGeometric
    >>> regular = survivors_to_summary([1000, 631, 468, 382, 326, 289, 262, 241], period="Y")
    >>> model = ShiftedBetaGeometric().fit(regular, weights="weights")
    >>> model.params_.round(3).tolist()
    [0.704, 1.182]
    >>> (1000 * model.survival([8, 9, 10])).round(1).tolist()
    [220.1, 204.4, 191.2]
    """

    param_names = ("gamma", "delta")
    covariate_links: ClassVar[dict[str, tuple[tuple[str, int], ...]]] = {"dropout": (("delta", -1),)}
    dropout_params = ("gamma", "delta")
    formulas: ClassVar[ModuleType] = _formulas
