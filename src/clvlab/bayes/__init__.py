"""Bayesian variants of clvlab's models, on PyMC (install with ``pip install "clvlab[bayes]"``).

The classes share names with the maximum-likelihood ones (``clvlab.bayes.BetaGeo`` beside
``clvlab.BetaGeo``) and the very same likelihood and prediction functions. Importing this namespace
imports PyMC and ArviZ; ``import clvlab`` does not.
"""

from clvlab.bayes.base import BayesModel, SamplingWarning
from clvlab.bayes.contractual import BetaDiscreteWeibull, ShiftedBetaGeometric
from clvlab.bayes.models import BetaGeo, BetaGeoBetaBinom, GammaGamma, ModifiedBetaGeo, ParetoNBD
from clvlab.bayes.persistence import load_netcdf as _load_netcdf
from clvlab.persistence import register_format

register_format("netcdf", _load_netcdf)  # clvlab.load reads the posterior files from now on

__all__ = [
    "BayesModel",
    "BetaDiscreteWeibull",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "SamplingWarning",
    "ShiftedBetaGeometric",
]
