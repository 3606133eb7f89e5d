"""Bayesian variants of clvlab's models, on PyMC (install with ``pip install "clvlab[bayes]"``).

The classes share names with the maximum-likelihood ones (``clvlab.bayes.BetaGeo`` beside
``clvlab.BetaGeo``) and the very same likelihood and prediction functions. Importing this namespace
imports PyMC and ArviZ; ``import clvlab`` does not.
"""

from clvlab.bayes.base import BayesModel, SamplingWarning
from clvlab.bayes.models import BetaGeo, GammaGamma, ParetoNBD

__all__ = ["BayesModel", "BetaGeo", "GammaGamma", "ParetoNBD", "SamplingWarning"]
