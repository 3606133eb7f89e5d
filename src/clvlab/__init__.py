"""clvlab: probabilistic, predictive customer lifetime value.

Importing clvlab is light: matplotlib and pymc are imported only by the plotting and Bayesian modules.
"""

from clvlab import datasets
from clvlab.data import calibration_holdout_split, rfm_summary, validate_summary
from clvlab.errors import ConvergenceError, DataError, ModelFileError, NotFittedError

__version__ = "0.1.0"

__all__ = [
    "ConvergenceError",
    "DataError",
    "ModelFileError",
    "NotFittedError",
    "__version__",
    "calibration_holdout_split",
    "datasets",
    "rfm_summary",
    "validate_summary",
]
