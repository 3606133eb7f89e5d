"""Deterministic, data-driven starting values for the optimiser."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def rate_scale(columns: tuple[FloatArray, ...], weights: FloatArray) -> float:
    """A starting value for a gamma scale parameter (alpha, beta): mean T over mean (x + 1).

    With shape 1 this makes the prior mean purchase rate match the data's, whatever the time unit.
    """
    x, T = columns[0], columns[-1]
    mean_T = float(weights @ T) / float(weights.sum())
    mean_x = float(weights @ x) / float(weights.sum())
    return max(mean_T / (mean_x + 1.0), 1e-3)
