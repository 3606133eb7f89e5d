"""clvlab: probabilistic, predictive customer lifetime value.

Importing clvlab is light: matplotlib and pymc are imported only by the plotting and Bayesian modules
(``clvlab.plotting`` is imported on first access; matplotlib only when a plot is drawn).
"""

from __future__ import annotations

import importlib
from typing import Any

from clvlab import datasets
from clvlab._version import __version__
from clvlab.acquisition import acquisition_value
from clvlab.backtesting import backtest, backtest_wide
from clvlab.campaign import CampaignPlan, plan_campaign
from clvlab.data import calibration_holdout_split, rfm_summary, validate_summary
from clvlab.data.subscriptions import subscription_summary, survivors_to_summary
from clvlab.describe import compare_simple_clv, describe_customers
from clvlab.errors import (
    ClvlabWarning,
    ConvergenceError,
    DataError,
    DegenerateSegmentsWarning,
    ModelFileError,
    NotFittedError,
    UnidentifiedWarning,
)
from clvlab.evaluation import compare_models, evaluate, likelihood_ratio_test
from clvlab.models import (
    BetaDiscreteWeibull,
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    ShiftedBetaGeometric,
)
from clvlab.persistence import load
from clvlab.predictive import PurchaseTotal, predict_total_purchases
from clvlab.subscriber_value import (
    SUBSCRIBER_SEGMENTS,
    predict_subscriber_value,
    subscriber_acquisition_value,
)
from clvlab.targeting import ACTION_SEGMENTS, VALUE_TIERS, predict_customer_value, segment_summary
from clvlab.value import customer_lifetime_value

__all__ = [
    "ACTION_SEGMENTS",
    "SUBSCRIBER_SEGMENTS",
    "VALUE_TIERS",
    "BetaDiscreteWeibull",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "CampaignPlan",
    "ClvlabWarning",
    "ConvergenceError",
    "DataError",
    "DegenerateSegmentsWarning",
    "GammaGamma",
    "ModelFileError",
    "ModifiedBetaGeo",
    "NotFittedError",
    "ParetoNBD",
    "PurchaseTotal",
    "ShiftedBetaGeometric",
    "UnidentifiedWarning",
    "__version__",
    "acquisition_value",
    "backtest",
    "backtest_wide",
    "calibration_holdout_split",
    "compare_models",
    "compare_simple_clv",
    "customer_lifetime_value",
    "datasets",
    "describe_customers",
    "evaluate",
    "likelihood_ratio_test",
    "load",
    "plan_campaign",
    "plotting",
    "predict_customer_value",
    "predict_subscriber_value",
    "predict_total_purchases",
    "rfm_summary",
    "segment_summary",
    "subscriber_acquisition_value",
    "subscription_summary",
    "survivors_to_summary",
    "validate_summary",
]


def __getattr__(name: str) -> Any:
    # clvlab.plotting on first access (PEP 562), so that `import clvlab` stays light.
    if name == "plotting":
        return importlib.import_module("clvlab.plotting")
    raise AttributeError(f"module 'clvlab' has no attribute {name!r}")
