"""BG/BB: the discrete-time beta-geometric / beta-Bernoulli model."""

from __future__ import annotations

from types import ModuleType
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from clvlab._types import FloatArray
from clvlab.errors import DataError
from clvlab.formulas import bgbb as _formulas
from clvlab.models.base import TransactionModel

__all__ = ["BetaGeoBetaBinom"]


class BetaGeoBetaBinom(TransactionModel):
    """BG/BB model (Fader, Hardie & Shang 2010, Marketing Science 29(6)) for discrete opportunities.

    At each of ``n_periods`` transaction opportunities an active customer transacts with probability
    p ~ Beta(alpha, beta); between opportunities they drop out with probability theta ~ Beta(gamma, delta).
    The summary has ``frequency`` (transactions after the first opportunity), ``recency`` (the last
    opportunity with a transaction, 0 if none) and ``n_periods`` (opportunities observed).

    Horizons in the predictions (``t``) count future opportunities; P(X = n) given history is not offered.

    Parameters
    ----------
    penalizer : float
        Optional L2 penalty on the parameters (see :class:`~clvlab.models.base.BaseModel`).

    Attributes
    ----------
    params_ : pandas.Series
        ``alpha``, ``beta``, ``gamma``, ``delta``.

    Notes
    -----
    Covariates (``purchase_covariates=``, ``dropout_covariates=``; :mod:`clvlab.covariates`) give customer i
    ``beta_i = beta exp(-g_p' z_i)`` and ``delta_i = delta exp(-g_d' z_i)``: a positive purchase coefficient
    raises the mean transaction probability, a positive drop-out coefficient the mean drop-out probability,
    and ``exp(g_j)`` is the factor on the odds of the mean, ``alpha / beta_i`` (``gamma / delta_i``). FHS
    2010 state no covariate version; this is the link of clvlab's sBG and BdW churn covariates (``delta_i =
    delta exp(-g' z_i)``) applied to both processes, with the sign convention of the other models (positive:
    more purchases, earlier drop-out).

    Examples
    --------
    >>> import clvlab
    >>> donations = clvlab.datasets.load_donations()
    >>> model = clvlab.BetaGeoBetaBinom().fit(donations, weights="weights")
    >>> model.params_.round(3).tolist()
    [1.204, 0.75, 0.657, 2.783]
    """

    param_names = ("alpha", "beta", "gamma", "delta")
    covariate_links: ClassVar[dict[str, tuple[tuple[str, int], ...]]] = {
        "purchase": (("beta", -1),),
        "dropout": (("delta", -1),),
    }
    discrete = True
    dropout_params = ("gamma", "delta")
    data_columns = ("frequency", "recency", "n_periods")
    formulas: ClassVar[ModuleType] = _formulas
    _integer_columns = ("frequency", "recency", "n_periods")
    _recency_age = ("recency", "n_periods")

    def _initial_params(self, columns: tuple[FloatArray, ...], weights: FloatArray) -> FloatArray:
        return np.ones(4)

    def _validate(self, data: Any) -> tuple[pd.Index, dict[str, FloatArray]]:
        index, cols = super()._validate(data)
        too_many = cols["frequency"] > cols["n_periods"]
        if too_many.any():
            raise DataError(
                f"frequency exceeds n_periods (more transactions than opportunities) at row "
                f"{int(np.flatnonzero(too_many)[0])}"
            )
        return index, cols

    def predict_purchase_probability(
        self,
        data: Any,
        t: float,
        n: int,
        *,
        interval: float | None = None,
        n_draws: int = 1000,
        seed: Any = 0,
    ) -> pd.Series | pd.DataFrame:
        """Probability of exactly ``n`` transactions in the next ``t`` opportunities given the history.

        :func:`clvlab.formulas.bgbb.conditional_purchase_pmf` (``t`` a whole number of opportunities);
        ``interval``, ``n_draws`` and ``seed`` add parameter-uncertainty bounds as for the other models.
        """
        _whole(t, "t")
        return super().predict_purchase_probability(data, t, n, interval=interval, n_draws=n_draws, seed=seed)

    def predict_purchases(
        self,
        data: Any,
        t: float,
        *,
        interval: float | None = None,
        interval_kind: str = "parameter",
        n_draws: int = 1000,
        seed: Any = 0,
    ) -> pd.Series | pd.DataFrame:
        """Expected transactions in the next ``t`` opportunities given each customer's history.

        FHS 2010 eq. 13; ``interval`` and ``interval_kind`` add bounds as for the other models (predictive:
        from :func:`clvlab.formulas.bgbb.conditional_purchase_pmf`, exact).
        """
        _whole(t, "t")
        return super().predict_purchases(
            data, t, interval=interval, interval_kind=interval_kind, n_draws=n_draws, seed=seed
        )

    def predict_purchases_and_p_alive(self, data: Any, t: float) -> pd.DataFrame:
        """:meth:`predict_purchases` (``t`` whole opportunities) and :meth:`predict_p_alive` in one pass."""
        _whole(t, "t")
        return super().predict_purchases_and_p_alive(data, t)

    def predict_p_alive(
        self, data: Any, *, interval: float | None = None, n_draws: int = 1000, seed: Any = 0
    ) -> pd.Series | pd.DataFrame:
        """Probability that each customer is alive at the next opportunity (n_periods + 1)."""
        return super().predict_p_alive(data, interval=interval, n_draws=n_draws, seed=seed)

    def simulate(self, T: Any, *, size: int | None = None, seed: Any = None) -> pd.DataFrame:
        """Draw customers observed for ``T`` opportunities; returns frequency, recency, n_periods."""
        _whole(T, "T")
        df = super().simulate(T, size=size, seed=seed)
        return df.rename(columns={"T": "n_periods"})


def _whole(value: Any, name: str) -> None:
    arr = np.asarray(value, dtype=np.float64)
    if np.any(arr != np.round(arr)):
        raise DataError(f"{name} counts opportunities and must be a whole number, got {value!r}")
