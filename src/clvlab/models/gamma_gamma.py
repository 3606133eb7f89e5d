"""Gamma-Gamma: the spend model for the mean value of a customer's repeat purchases."""

from __future__ import annotations

from types import ModuleType
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from clvlab._types import FloatArray
from clvlab.data.validation import validate_summary
from clvlab.errors import DataError
from clvlab.formulas import gamma_gamma as _formulas
from clvlab.models.base import BaseModel

__all__ = ["GammaGamma"]


class GammaGamma(BaseModel):
    """Gamma-Gamma spend model (Fader, Hardie & Lee 2005 JMR; Fader & Hardie 2013).

    Each transaction's value is Gamma(p, nu) with a customer-specific nu ~ Gamma(q, gamma); a customer's
    mean spend is independent of their purchase count. Fitted on customers with ``frequency > 0`` using
    ``monetary_value``, the mean value of their repeat purchases.

    Parameters
    ----------
    penalizer : float
        Optional L2 penalty on the parameters (see :class:`~clvlab.models.base.BaseModel`).

    Attributes
    ----------
    params_ : pandas.Series
        ``p``, ``q``, ``gamma``.
    n_customers_ : float
        Number of customers with repeat purchases used in the fit.

    Examples
    --------
    >>> import clvlab
    >>> log = clvlab.datasets.load_cdnow_transactions()
    >>> s = clvlab.rfm_summary(log, monetary_value="amount", observation_end="1997-09-30",
    ...                        time_unit="W", drop_after_end=True)
    >>> clvlab.GammaGamma().fit(s).params_.round(2).tolist()
    [6.25, 3.74, 15.44]
    """

    param_names = ("p", "q", "gamma")
    covariate_links: ClassVar[dict[str, tuple[tuple[str, int], ...]]] = {"spend": (("gamma", 1),)}
    data_columns = ("frequency", "monetary_value")
    formulas: ClassVar[ModuleType] = _formulas
    _recency_age = (None, None)

    def _validate(self, data: Any) -> tuple[pd.Index, dict[str, FloatArray]]:
        index, cols = validate_summary(data, self.data_columns, recency=None, age=None)
        bad = (cols["frequency"] > 0) & (cols["monetary_value"] <= 0)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"monetary_value must be positive for customers with repeat purchases: "
                f"{int(bad.sum())} row(s), first at index {index[pos]!r}"
            )
        return index, cols

    def _fit_arrays(self, data: Any, weights: Any) -> tuple[tuple[FloatArray, ...], FloatArray]:
        (x, m), w = super()._fit_arrays(data, weights)
        repeat = x > 0
        if not repeat.any():
            raise DataError("no customer has a repeat purchase: the Gamma-Gamma model needs frequency > 0")
        return (x[repeat], m[repeat]), w[repeat]

    def _fit_rows(self, columns: tuple[FloatArray, ...]) -> Any:
        return columns[0] > 0

    def _initial_params(self, columns: tuple[FloatArray, ...], weights: FloatArray) -> FloatArray:
        mean_spend = float(weights @ columns[1]) / float(weights.sum())
        return np.array([1.0, 2.0, mean_spend])

    def predict_spend(
        self, data: Any, *, interval: float | None = None, n_draws: int = 1000, seed: Any = 0
    ) -> pd.Series | pd.DataFrame:
        """Conditional expected mean transaction value E[M | x, m_x] per customer.

        Customers with ``frequency == 0`` get the population mean :meth:`expected_spend`
        (Fader, Hardie & Lee 2005 JMR, eq. 5). ``interval``, ``n_draws`` and ``seed`` add
        parameter-uncertainty bounds as in :meth:`clvlab.BetaGeo.predict_purchases`.
        """
        index, columns = self.validated_columns(data)
        return self._with_interval(
            self.formulas.conditional_expected_spend,
            "expected_spend",
            index,
            (),
            columns,
            interval,
            n_draws,
            seed,
        )

    def expected_spend(self) -> float:
        """Population mean transaction value p gamma / (q - 1) (infinite when q <= 1)."""
        self.require_no_covariates("the population mean spend")
        return float(self.formulas.expected_spend(*self._theta))

    def simulate(self, frequency: Any, *, seed: Any = None) -> pd.DataFrame:
        """Draw mean spends for customers with the given repeat purchase counts (all >= 1)."""
        self.require_no_covariates("simulating spend")
        x = np.atleast_1d(np.asarray(frequency, dtype=np.float64))
        if np.any(x < 1) or np.any(x != np.round(x)):
            raise DataError("frequency must hold whole numbers >= 1 to simulate spend")
        rng = np.random.default_rng(seed)
        m = self.formulas.simulate(*self._theta, x, rng)
        df = pd.DataFrame({"frequency": x, "monetary_value": m})
        df.index.name = "customer_id"
        return df
