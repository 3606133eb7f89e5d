"""PyTensor Ops around clvlab's own weighted log-likelihood and its exact gradient.

The Bayesian models use the very same likelihood functions as the maximum-likelihood estimators (the
grouped fast paths of :mod:`clvlab.formulas`, or the per-customer ``loglik_and_grad`` weighted by the
de-duplicated rows), so the two can never disagree: PyMC sees one scalar log-likelihood of the parameter
vector and its gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

TotalAndGrad = Callable[[np.ndarray], tuple[float, np.ndarray]]


class _LoglikGrad(Op):
    """Gradient of the total log-likelihood with respect to the parameter vector."""

    itypes = [pt.dvector]  # noqa: RUF012  (pytensor reads these as plain class attributes)
    otypes = [pt.dvector]  # noqa: RUF012

    def __init__(self, total_and_grad: TotalAndGrad) -> None:
        self._fn = total_and_grad

    def perform(self, node: Apply, inputs: Sequence[Any], outputs: Any) -> None:
        (theta,) = inputs
        with np.errstate(all="ignore"):
            _, grad = self._fn(np.asarray(theta, dtype=np.float64))
        outputs[0][0] = np.where(np.isfinite(grad), grad, 0.0).astype(np.float64)


class LoglikOp(Op):
    """Total (weighted) log-likelihood of a parameter vector, with its exact gradient."""

    itypes = [pt.dvector]  # noqa: RUF012  (pytensor reads these as plain class attributes)
    otypes = [pt.dscalar]  # noqa: RUF012

    def __init__(self, total_and_grad: TotalAndGrad) -> None:
        self._fn = total_and_grad
        self._grad = _LoglikGrad(total_and_grad)

    def perform(self, node: Apply, inputs: Sequence[Any], outputs: Any) -> None:
        (theta,) = inputs
        with np.errstate(all="ignore"):
            total, _ = self._fn(np.asarray(theta, dtype=np.float64))
        # A non-finite likelihood is an impossible point for the sampler, not an error.
        outputs[0][0] = np.asarray(total if np.isfinite(total) else -np.inf, dtype=np.float64)

    def grad(self, inputs: Sequence[Any], output_grads: Sequence[Any]) -> list[Any]:
        (theta,) = inputs
        (g,) = output_grads
        return [g * self._grad(theta)]
