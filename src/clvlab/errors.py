"""Exceptions and warnings raised by clvlab.

Every error a user can fix is a :class:`DataError` (a :class:`ValueError`) that names the column, the
problem and, where it helps, the first offending row.
"""

from __future__ import annotations

__all__ = [
    "ClvlabWarning",
    "ConvergenceError",
    "CovariateWarning",
    "DataError",
    "DegenerateSegmentsWarning",
    "ModelFileError",
    "ModelVersionWarning",
    "NotFittedError",
    "UnidentifiedWarning",
]


class DataError(ValueError):
    """Input data a user can fix: a missing column, an invalid value, an inconsistent summary."""


class ConvergenceError(RuntimeError):
    """A maximum-likelihood fit did not converge; the message says what to try."""


class NotFittedError(ValueError, AttributeError):
    """A prediction was asked of a model that has not been fitted yet.

    Subclasses both :class:`ValueError` and :class:`AttributeError`, like scikit-learn's
    ``NotFittedError``, so code written for either keeps working.
    """


class ModelFileError(ValueError):
    """A saved model file is unreadable, corrupted, of an unknown model or of a newer format."""


class ClvlabWarning(UserWarning):
    """Base class of the warnings clvlab emits."""


class DegenerateSegmentsWarning(ClvlabWarning):
    """The targeting table's action segments cannot tell active from lapsed customers (see its note)."""


class ModelVersionWarning(ClvlabWarning):
    """A model file was saved by a different clvlab version than the one loading it."""


class UnidentifiedWarning(ClvlabWarning):
    """A fit reached a point where the data do not identify some parameters (a flat likelihood)."""


class CovariateWarning(ClvlabWarning):
    """A covariate is constant or collinear with others: its coefficient is not identified."""
