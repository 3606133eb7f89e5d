"""Maximum-likelihood machinery shared by every model: de-duplication, optimisation, Hessian.

Parameters are optimised on the log scale (all BTYD parameters are positive), with exact gradients from
the formula modules. The objective is the weighted mean negative log-likelihood plus an optional L2
penalty on the natural-scale parameters, so the optimiser works on a scale that does not grow with the
number of customers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from clvlab.errors import ConvergenceError

FloatArray = npt.NDArray[np.float64]
LoglikAndGrad = Callable[..., tuple[FloatArray, Sequence[FloatArray]]]


@dataclass(frozen=True)
class Deduplicated:
    """Unique data rows and their total weights."""

    columns: tuple[FloatArray, ...]
    weights: FloatArray


def deduplicate(columns: Sequence[FloatArray], weights: FloatArray) -> Deduplicated:
    """Collapse identical rows of ``columns`` into one, summing their ``weights`` (hash-based, O(n))."""
    frame = pd.DataFrame({f"c{i}": c for i, c in enumerate(columns)})
    frame["w"] = weights
    agg = frame.groupby([f"c{i}" for i in range(len(columns))], sort=True)["w"].sum()
    index = agg.index
    if isinstance(index, pd.MultiIndex):
        uniq = tuple(np.asarray(index.get_level_values(i), dtype=np.float64) for i in range(len(columns)))
    else:
        uniq = (np.asarray(index, dtype=np.float64),)
    return Deduplicated(columns=uniq, weights=agg.to_numpy(dtype=np.float64))


@dataclass(frozen=True)
class FitResult:
    """The optimum on the natural scale and the curvature there."""

    params: FloatArray
    log_likelihood: float  # total weighted log-likelihood, without the penalty
    covariance: FloatArray  # covariance of the natural-scale estimates (delta method)
    log_covariance: FloatArray  # covariance of the log-scale estimates
    n_iter: int


class Objective:
    """Weighted mean negative log-likelihood on the log scale, with an L2 penalty."""

    def __init__(
        self, loglik_and_grad: LoglikAndGrad, data: Deduplicated, penalizer: float
    ) -> None:
        self._fn = loglik_and_grad
        self._data = data
        self._penalizer = penalizer
        self._total_weight = float(data.weights.sum())

    def total_loglik(self, theta: FloatArray) -> float:
        """Weighted total log-likelihood at natural-scale ``theta`` (no penalty)."""
        ll, _ = self._fn(*theta, *self._data.columns)
        return float(self._data.weights @ ll)

    def __call__(self, u: FloatArray) -> tuple[float, FloatArray]:
        """Objective and gradient at log-scale parameters ``u``."""
        theta = np.exp(u)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            ll, grads = self._fn(*theta, *self._data.columns)
            w = self._data.weights
            value = -float(w @ ll) / self._total_weight + self._penalizer * float(theta @ theta)
            grad = np.array([-(w @ g) for g in grads], dtype=np.float64) * theta / self._total_weight
        grad += 2.0 * self._penalizer * theta * theta
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            # Steer the line search away from regions where the likelihood is not finite.
            return np.inf, np.zeros_like(u)
        return value, grad

    def hessian(self, u: FloatArray, step: float = 1e-5) -> FloatArray:
        """Hessian of the *total* penalised negative log-likelihood at ``u`` (central differences of
        the exact gradient), symmetrised."""
        k = len(u)
        h = np.empty((k, k))
        for j in range(k):
            e = np.zeros(k)
            e[j] = step
            _, gp = self(u + e)
            _, gm = self(u - e)
            h[:, j] = (gp - gm) / (2 * step)
        h = 0.5 * (h + h.T)
        return h * self._total_weight


def maximise(
    loglik_and_grad: LoglikAndGrad,
    data: Deduplicated,
    initial: FloatArray,
    penalizer: float,
    *,
    model_name: str,
    param_names: Sequence[str],
    max_iter: int = 2000,
) -> FitResult:
    """Maximise the likelihood from ``initial`` (natural scale) and return the optimum with its curvature.

    Raises
    ------
    ConvergenceError
        When the optimiser stops away from a stationary point or at a non-finite likelihood.
    """
    objective = Objective(loglik_and_grad, data, penalizer)
    u0 = np.log(np.asarray(initial, dtype=np.float64))
    value0, _ = objective(u0)
    if not np.isfinite(value0):
        raise ConvergenceError(
            f"{model_name}: the log-likelihood is not finite at the starting values "
            f"{dict(zip(param_names, initial, strict=True))}; check the data for extreme values"
        )
    res = optimize.minimize(
        objective,
        u0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "maxcor": 20, "ftol": 1e-15, "gtol": 1e-10},
    )
    u = res.x
    # Polish with a few Newton steps: L-BFGS-B may stop on a flat ridge (the Pareto/NBD likelihood is
    # nearly flat in beta) a little short of the optimum; Newton on the exact gradient finishes the job.
    n_iter = int(res.nit)
    value, grad = objective(u)
    for _ in range(20):
        if np.max(np.abs(grad)) < 1e-10:
            break
        hess = objective.hessian(u) / objective._total_weight
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-4:
            cand = u - t * step
            cval, cgrad = objective(cand)
            if np.isfinite(cval) and cval <= value + 1e-4 * t * float(grad @ (-step)) + 1e-15:
                break
            t /= 2
        else:
            break
        u, value, grad = cand, cval, cgrad
        n_iter += 1
    if not np.isfinite(value) or np.max(np.abs(grad)) > 1e-5:
        raise ConvergenceError(
            f"{model_name}: the fit did not converge (largest gradient {np.max(np.abs(grad)):.2e} on the "
            f"log scale, optimiser message: {res.message}). Try a small penalizer (e.g. penalizer=0.001), "
            "check that recency and T are in a sensible time unit (weeks rather than seconds), and that the "
            "data hold enough repeat purchases to identify the model"
        )
    theta = np.exp(u)
    hess_u = objective.hessian(u)
    try:
        cov_u = np.linalg.inv(hess_u)
        if not np.all(np.isfinite(cov_u)) or np.any(np.linalg.eigvalsh(hess_u) <= 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov_u = np.full_like(hess_u, np.nan)
    cov = cov_u * np.outer(theta, theta)
    return FitResult(
        params=theta,
        log_likelihood=objective.total_loglik(theta),
        covariance=cov,
        log_covariance=cov_u,
        n_iter=n_iter,
    )
