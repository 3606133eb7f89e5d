"""Maximum-likelihood models behind one fit/predict interface."""

from clvlab.models.base import BaseModel, TransactionModel
from clvlab.models.bgbb import BetaGeoBetaBinom
from clvlab.models.bgnbd import BetaGeo
from clvlab.models.gamma_gamma import GammaGamma
from clvlab.models.mbgnbd import ModifiedBetaGeo
from clvlab.models.pareto_nbd import ParetoNBD
from clvlab.persistence import register_model

# The JSON model files' allow-list (clvlab.persistence imports no model; the family registers itself).
for _cls in (BetaGeo, ParetoNBD, ModifiedBetaGeo, BetaGeoBetaBinom, GammaGamma):
    register_model(_cls)
del _cls

__all__ = [
    "BaseModel",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "TransactionModel",
]
