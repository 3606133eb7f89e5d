"""MBG/NBD: the modified BG/NBD, where a customer may also drop out right after the first purchase."""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

import numpy as np

from clvlab._types import FloatArray
from clvlab.formulas import mbgnbd as _formulas
from clvlab.models._start import rate_scale
from clvlab.models.base import TransactionModel

__all__ = ["ModifiedBetaGeo"]


class ModifiedBetaGeo(TransactionModel):
    """MBG/NBD model (Batislam, Denizel & Filiztekin 2007, IJRM 24(3)).

    As BG/NBD, but the drop-out opportunity also follows the first purchase, so customers with no repeat
    purchase can be inactive too. ``alpha`` is in the data's time unit.

    Parameters
    ----------
    penalizer : float
        Optional L2 penalty on the parameters (see :class:`~clvlab.models.base.BaseModel`).

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``a``, ``b``.

    Notes
    -----
    Covariates (``purchase_covariates=``, ``dropout_covariates=``; :mod:`clvlab.covariates`) give customer i
    ``alpha_i = alpha exp(-g_p' z_i)`` (a positive coefficient: more purchases) and ``a_i = a exp(g_d'
    z_i)``, ``b_i = b exp(g_d' z_i)`` (Fader & Hardie's note "Incorporating Time-Invariant Covariates into
    the Pareto/NBD and BG/NBD Models", 2007, with one drop-out coefficient vector for both, as R's CLVTools;
    pymc-marketing gives ``a`` and ``b`` separate ones). The drop-out coefficients scale ``a`` and ``b`` by
    one factor, so they leave the mean drop-out probability, ``E[p] = a / (a + b)``, unchanged and change
    its concentration ``a + b``: a positive coefficient concentrates p around its mean, which lowers the
    chance of surviving several purchases, ``E[(1 - p)^k]`` for k >= 2 (Jensen's inequality), so the
    expected number of purchases before drop-out falls while the chance of dropping out at any one
    opportunity does not move. Where an attribute should shift the drop-out rate itself, the Pareto/NBD's
    ``beta_i`` is the lever.
    """

    param_names = ("r", "alpha", "a", "b")
    covariate_links: ClassVar[dict[str, tuple[tuple[str, int], ...]]] = {
        "purchase": (("alpha", -1),),
        "dropout": (("a", 1), ("b", 1)),
    }
    dropout_params = ("a", "b")
    formulas: ClassVar[ModuleType] = _formulas

    def _initial_params(self, columns: tuple[FloatArray, ...], weights: FloatArray) -> FloatArray:
        return np.array([1.0, rate_scale(columns, weights), 1.0, 1.0])
