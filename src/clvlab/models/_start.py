"""Deterministic, data-driven starting values for the optimiser."""

from __future__ import annotations

from clvlab._types import FloatArray


def mean_age(columns: tuple[FloatArray, ...], weights: FloatArray) -> float:
    """The customers' weighted mean age T (the last data column), in the data's time unit."""
    return float(weights @ columns[-1]) / float(weights.sum())


def rate_scale(columns: tuple[FloatArray, ...], weights: FloatArray) -> float:
    """A starting value for a gamma scale parameter (alpha, beta): mean T over mean (x + 1).

    With shape 1 this makes the prior mean purchase rate match the data's, whatever the time unit.
    """
    mean_x = float(weights @ columns[0]) / float(weights.sum())
    return max(mean_age(columns, weights) / (mean_x + 1.0), 1e-3)
