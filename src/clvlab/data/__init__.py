"""The transaction data layer: summaries of transaction logs and their validation."""

from clvlab.data.summary import calibration_holdout_split, rfm_summary
from clvlab.data.validation import validate_summary

__all__ = ["calibration_holdout_split", "rfm_summary", "validate_summary"]
