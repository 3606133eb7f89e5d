"""Pareto/NBD: Poisson purchasing with exponential lifetimes (Schmittlein, Morrison & Colombo 1987)."""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

import numpy as np

from clvlab._types import FloatArray
from clvlab.formulas import pareto_nbd as _formulas
from clvlab.models._start import rate_scale
from clvlab.models.base import TransactionModel

__all__ = ["ParetoNBD"]


class ParetoNBD(TransactionModel):
    """Pareto/NBD model (Schmittlein, Morrison & Colombo 1987, Management Science; Fader & Hardie 2005).

    While active, a customer buys at rate lambda ~ Gamma(r, alpha) and drops out at rate
    mu ~ Gamma(s, beta). ``alpha`` and ``beta`` are in the data's time unit. The fit is deterministic
    (quasi-Newton from a data-driven start, polished by Newton steps), unlike a random-start simplex.

    Parameters
    ----------
    penalizer : float
        Optional L2 penalty on the parameters (see :class:`~clvlab.models.base.BaseModel`).

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``s``, ``beta``.
    """

    param_names = ("r", "alpha", "s", "beta")
    covariate_links: ClassVar[dict[str, tuple[tuple[str, int], ...]]] = {
        "purchase": (("alpha", -1),),
        "dropout": (("beta", -1),),
    }
    dropout_params = ("s", "beta")
    formulas: ClassVar[ModuleType] = _formulas

    def _initial_params(self, columns: tuple[FloatArray, ...], weights: FloatArray) -> FloatArray:
        scale = rate_scale(columns, weights)
        return np.array([1.0, scale, 1.0, scale])
