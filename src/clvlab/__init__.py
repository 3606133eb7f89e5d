"""clvlab: probabilistic, predictive customer lifetime value.

Importing clvlab is light: matplotlib and pymc are imported only by the plotting and Bayesian modules.
"""

from clvlab import datasets
from clvlab.data import calibration_holdout_split, rfm_summary, validate_summary
from clvlab.errors import (
    ClvlabWarning,
    ConvergenceError,
    DataError,
    ModelFileError,
    NotFittedError,
    UnidentifiedWarning,
)
from clvlab.models import BetaGeo, BetaGeoBetaBinom, GammaGamma, ModifiedBetaGeo, ParetoNBD
from clvlab.persistence import load
from clvlab.value import VALUE_TIERS, customer_lifetime_value, predict_customer_value, segment_summary

__version__ = "0.1.0"

__all__ = [
    "VALUE_TIERS",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "ClvlabWarning",
    "ConvergenceError",
    "DataError",
    "GammaGamma",
    "ModelFileError",
    "ModifiedBetaGeo",
    "NotFittedError",
    "ParetoNBD",
    "UnidentifiedWarning",
    "__version__",
    "calibration_holdout_split",
    "customer_lifetime_value",
    "datasets",
    "load",
    "predict_customer_value",
    "rfm_summary",
    "segment_summary",
    "validate_summary",
]
