"""Array type aliases shared by every layer (a leaf: imports nothing of clvlab)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray"]

#: A float64 NumPy array, the type of every data column, parameter vector and prediction.
FloatArray = npt.NDArray[np.float64]
