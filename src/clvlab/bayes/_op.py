"""A PyTensor Op around clvlab's own weighted log-likelihood and its exact gradient.

The Bayesian models use the very same likelihood functions as the maximum-likelihood estimators (the
grouped fast paths of :mod:`clvlab.formulas`, or the per-customer ``loglik_and_grad`` weighted by the
de-duplicated rows), so the two can never disagree: PyMC sees one scalar log-likelihood of the parameter
vector and its gradient.

One :class:`LoglikOp` node returns both the total and the gradient from a single call of the shared
function; the Op's symbolic gradient is its own second output. NUTS asks for the value and the gradient
at every leapfrog step, so PyTensor's compiled ``logp_dlogp`` evaluates the likelihood once per step
rather than twice.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

TotalAndGrad = Callable[[np.ndarray], tuple[float, np.ndarray]]

__all__ = ["LoglikOp", "loglik", "python_op_compiles"]


class LoglikOp(Op):
    """Total (weighted) log-likelihood of a parameter vector and its gradient, as two outputs."""

    def __init__(self, total_and_grad: TotalAndGrad) -> None:
        self._fn = total_and_grad

    def make_node(self, *inputs: Any) -> Apply[Any]:
        (theta,) = (pt.as_tensor_variable(v) for v in inputs)
        if theta.type.ndim != 1:
            raise TypeError("LoglikOp takes a parameter vector")
        return Apply(self, [theta], [pt.dscalar(), pt.dvector()])

    def perform(self, node: Apply[Any], inputs: Sequence[Any], outputs: Any) -> None:
        (theta,) = inputs
        with np.errstate(all="ignore"):
            total, grad = self._fn(np.asarray(theta, dtype=np.float64))
        # A non-finite likelihood is an impossible point for the sampler, not an error.
        finite = bool(np.isfinite(total))
        outputs[0][0] = np.asarray(total if finite else -np.inf, dtype=np.float64)
        grad = np.asarray(grad, dtype=np.float64)
        outputs[1][0] = np.where(np.isfinite(grad), grad, 0.0) if finite else np.zeros_like(grad)

    def _pullback(
        self, inputs: Sequence[Any], outputs: Sequence[Any], cotangents: Sequence[Any]
    ) -> list[Any]:
        """Vector-Jacobian product: the cotangent of the total times the gradient output.

        Only the total is differentiable (the gradient output is for the sampler's own use), so a
        graph that differentiates through the gradient output is refused.
        """
        from pytensor.gradient import DisconnectedType

        g_total, g_grad = cotangents
        if not isinstance(g_grad.type, DisconnectedType):
            raise NotImplementedError("second derivatives of the log-likelihood are not available")
        return [g_total * outputs[1]]

    # PyTensor 3 (PyMC 6) asks Ops for ``pullback`` and deprecates ``L_op``/``grad``; PyTensor 2
    # (PyMC 5) has no ``pullback`` and calls ``L_op``. Both take (inputs, outputs, cotangents).
    if hasattr(Op, "pullback"):
        pullback = _pullback
    else:
        L_op = _pullback  # type: ignore[assignment]  # same signature; PyTensor 2 types it on Variable

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)


def loglik(total_and_grad: TotalAndGrad, theta: Any) -> Any:
    """The total log-likelihood of ``theta`` as a PyTensor scalar (its gradient is exact)."""
    return LoglikOp(total_and_grad).make_node(theta).outputs[0]


@contextmanager
def python_op_compiles() -> Iterator[None]:
    """Compile graphs holding a :class:`LoglikOp` without PyTensor's notice that it runs in Python.

    PyTensor 3 compiles to Numba by default and says so when an Op has no Numba implementation and
    runs its ``perform`` in object mode. That is this Op's design (it calls clvlab's own NumPy/SciPy
    likelihood); measured on the CDNOW BG/NBD NUTS fit, the Numba-compiled graph is as fast as the C
    one. Only that notice, for this Op, is hidden.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Numba will use object mode to run LoglikOp", category=UserWarning
        )
        yield
