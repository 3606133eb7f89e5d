"""BG/NBD: the beta-geometric / negative binomial distribution model of repeat purchasing."""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

import numpy as np

from clvlab._types import FloatArray
from clvlab.formulas import bgnbd as _formulas
from clvlab.models._start import rate_scale
from clvlab.models.base import TransactionModel

__all__ = ["BetaGeo"]


class BetaGeo(TransactionModel):
    """BG/NBD model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way", Marketing Science).

    While active, a customer buys at rate lambda ~ Gamma(r, alpha); after each purchase they drop out
    with probability p ~ Beta(a, b). ``alpha`` is in the data's time unit.

    Parameters
    ----------
    penalizer : float
        Optional L2 penalty on the parameters (see :class:`~clvlab.models.base.BaseModel`).

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``a``, ``b``.
    covariance_, log_likelihood_, aic_, bic_, n_customers_, time_unit_
        See :class:`~clvlab.models.base.BaseModel`.

    Examples
    --------
    >>> import clvlab
    >>> log = clvlab.datasets.load_cdnow_transactions()
    >>> s = clvlab.rfm_summary(log, observation_end="1997-09-30", time_unit="W", drop_after_end=True)
    >>> model = clvlab.BetaGeo().fit(s)
    >>> model.params_.round(4).tolist()
    [0.2426, 4.4136, 0.7929, 2.4259]
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
