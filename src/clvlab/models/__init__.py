"""Maximum-likelihood models behind one fit/predict interface."""

from clvlab.models._contractual import ContractualModel
from clvlab.models.base import BaseModel, TransactionModel
from clvlab.models.bdw import BetaDiscreteWeibull
from clvlab.models.bgbb import BetaGeoBetaBinom
from clvlab.models.bgnbd import BetaGeo
from clvlab.models.gamma_gamma import GammaGamma
from clvlab.models.mbgnbd import ModifiedBetaGeo
from clvlab.models.pareto_nbd import ParetoNBD
from clvlab.models.sbg import ShiftedBetaGeometric
from clvlab.persistence import register_model

# The JSON model files' allow-list (clvlab.persistence imports no model; the family registers itself).
for _cls in (
    BetaGeo,
    ParetoNBD,
    ModifiedBetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ShiftedBetaGeometric,
    BetaDiscreteWeibull,
):
    register_model(_cls)
del _cls

__all__ = [
    "BaseModel",
    "BetaDiscreteWeibull",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "ContractualModel",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "ShiftedBetaGeometric",
    "TransactionModel",
]
