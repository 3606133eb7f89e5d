"""Maximum-likelihood models behind one fit/predict interface."""

from clvlab.models.base import BaseModel, TransactionModel
from clvlab.models.bgbb import BetaGeoBetaBinom
from clvlab.models.bgnbd import BetaGeo
from clvlab.models.gamma_gamma import GammaGamma
from clvlab.models.mbgnbd import ModifiedBetaGeo
from clvlab.models.pareto_nbd import ParetoNBD

__all__ = [
    "BaseModel",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "TransactionModel",
]
