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
import pandas as pd
from scipy import optimize

from clvlab._types import FloatArray
from clvlab.errors import ConvergenceError
from clvlab.formulas._distinct import rank_codes

LoglikAndGrad = Callable[..., tuple[FloatArray, Sequence[FloatArray]]]


@dataclass(frozen=True)
class Deduplicated:
    """Unique data rows (sorted by the first column, then the others) and their total weights."""

    columns: tuple[FloatArray, ...]
    weights: FloatArray


def deduplicate(columns: Sequence[FloatArray], weights: FloatArray) -> Deduplicated:
    """Collapse identical rows of ``columns`` into one, summing their ``weights``.

    Each column is coded by its rank among its sorted unique values; the codes (and, for unequal
    weights, the row number) are packed into one int64 and sorted with numpy's vectorised sort, so that
    equal rows form runs. Rows come out sorted by the first column (e.g. frequency), then the others.
    Falls back to a pandas group-by when the codes do not fit in 63 bits.
    """
    keep = weights > 0
    if not keep.all():
        columns = [c[keep] for c in columns]
        weights = weights[keep]
    coded = [rank_codes(c) for c in columns]
    uniques = [u for _, u in coded]
    bits = [max(int(len(u) - 1).bit_length(), 1) for u in uniques]
    n = len(weights)
    uniform = bool(np.all(weights == weights[0]))
    row_bits = 0 if uniform else max(int(n - 1).bit_length(), 1)
    if sum(bits) + row_bits > 63:
        return _deduplicate_pandas(columns, weights)
    key = np.zeros(n, dtype=np.int64)
    for (code, _), b in zip(coded, bits, strict=True):
        key <<= b
        key += code
    if not uniform:
        key <<= row_bits
        key += np.arange(n, dtype=np.int64)
    key.sort()
    if not uniform:
        rows = key & ((1 << row_bits) - 1)
        key >>= row_bits
        w_sorted = weights[rows]
    change = np.empty(n, dtype=bool)
    change[0] = True
    np.not_equal(key[1:], key[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    if uniform:
        w_unique = np.diff(np.append(starts, n)).astype(np.float64) * float(weights[0])
    else:
        w_unique = np.add.reduceat(w_sorted, starts)
    ukey = key[starts]
    out = []
    shift = 0
    for u, b in zip(reversed(uniques), reversed(bits), strict=True):
        out.append(u[(ukey >> shift) & ((1 << b) - 1)])
        shift += b
    return Deduplicated(columns=tuple(reversed(out)), weights=w_unique)


def subsample(data: Deduplicated, size: int) -> Deduplicated:
    """About ``size`` rows of ``data`` for a warm start, keeping the row order (sorted by the first column).

    The heaviest 1% of rows are kept whole; the others are taken at a regular stride k with their
    weights multiplied by k, so that the subsample's weighted log-likelihood estimates the full one.
    """
    n = len(data.weights)
    stride = max(1, n // size)
    heavy = data.weights >= np.quantile(data.weights, 0.99)
    picked = np.zeros(n, dtype=bool)
    picked[::stride] = True
    keep = picked | heavy
    weights = np.where(heavy, data.weights, data.weights * stride)[keep]
    return Deduplicated(columns=tuple(c[keep] for c in data.columns), weights=weights)


def _deduplicate_pandas(columns: Sequence[FloatArray], weights: FloatArray) -> Deduplicated:
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
    log_covariance: FloatArray  # covariance on the working scale (log; coefficients as they are)
    n_iter: int
    flat: tuple[int, ...] = ()  # parameters along which the likelihood is flat (covariance unavailable)
    #: Hessian of the mean penalised objective at the optimum (working scale): a warm start's curvature.
    curvature: FloatArray | None = None


#: ``total_and_grad(theta) -> (sum of weighted log-likelihoods, gradient)`` at natural-scale theta.
TotalAndGrad = Callable[[FloatArray], tuple[float, FloatArray]]


def generic_total_and_grad(loglik_and_grad: LoglikAndGrad, data: Deduplicated) -> TotalAndGrad:
    """Weighted totals from a per-customer ``loglik_and_grad`` formula."""
    w = data.weights

    def total_and_grad(theta: FloatArray) -> tuple[float, FloatArray]:
        ll, grads = loglik_and_grad(*theta, *data.columns)
        return float(w @ ll), np.array([float(w @ g) for g in grads])

    return total_and_grad


class Objective:
    """Weighted mean negative log-likelihood on the working scale, with L2 penalties.

    The first ``n_positive`` parameters (all by default) are positive and optimised on the log scale,
    penalised by ``penalizer * theta**2``; the others (covariate coefficients) are unconstrained,
    optimised as they are and penalised by ``coef_penalizer * coef**2``.
    """

    def __init__(
        self,
        total_and_grad: TotalAndGrad,
        total_weight: float,
        penalizer: float,
        n_positive: int | None = None,
        coef_penalizer: float = 0.0,
    ) -> None:
        self._fn = total_and_grad
        self._penalizer = penalizer
        self._coef_penalizer = coef_penalizer
        self._k = n_positive
        self.total_weight = total_weight

    def natural(self, u: FloatArray) -> FloatArray:
        """Natural-scale parameters of working-scale ``u``."""
        k = len(u) if self._k is None else self._k
        return np.concatenate([np.exp(u[:k]), u[k:]])

    def jacobian(self, u: FloatArray) -> FloatArray:
        """D theta / d u (diagonal): theta for the log-scale parameters, 1 for the coefficients."""
        k = len(u) if self._k is None else self._k
        return np.concatenate([np.exp(u[:k]), np.ones(len(u) - k)])

    def total_loglik(self, theta: FloatArray) -> float:
        """Weighted total log-likelihood at natural-scale ``theta`` (no penalty)."""
        return self._fn(theta)[0]

    def __call__(self, u: FloatArray) -> tuple[float, FloatArray]:
        """Objective and gradient at log-scale parameters ``u``."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            k = len(u) if self._k is None else self._k
            theta = self.natural(u)
            total, grad_theta = self._fn(theta)
            pos, coef = theta[:k], theta[k:]
            value = (
                -total / self.total_weight
                + self._penalizer * float(pos @ pos)
                + self._coef_penalizer * float(coef @ coef)
            )
            grad = -grad_theta * self.jacobian(u) / self.total_weight
            grad[:k] += 2.0 * self._penalizer * pos * pos
            grad[k:] += 2.0 * self._coef_penalizer * coef
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            # Steer the line search away from regions where the likelihood is not finite.
            return np.inf, np.zeros_like(u)
        return value, grad

    def hessian(self, u: FloatArray, grad: FloatArray | None = None, step: float = 1e-6) -> FloatArray:
        """Hessian of the *mean* penalised objective at ``u``, by differences of the exact gradient.

        Forward differences from ``grad`` (the gradient at ``u``) when given, central ones otherwise;
        symmetrised.
        """
        k = len(u)
        h = np.empty((k, k))
        for j in range(k):
            e = np.zeros(k)
            e[j] = step
            _, gp = self(u + e)
            if grad is not None:
                h[:, j] = (gp - grad) / step
            else:
                _, gm = self(u - e)
                h[:, j] = (gp - gm) / (2 * step)
        return 0.5 * (h + h.T)


@dataclass
class _State:
    u: FloatArray
    value: float
    grad: FloatArray
    converged: bool
    n_iter: int


def _newton(
    objective: Objective, u: FloatArray, max_iter: int = 30, hessian: FloatArray | None = None
) -> _State:
    """Newton iterations from ``u`` re-using one Hessian while it keeps the gradient shrinking.

    ``hessian``, when given, is the first curvature used (e.g. a subsample fit's, which saves a
    finite-difference Hessian on the full data); it is refreshed like any other when progress is slow.
    Stops when the gradient vanishes (to 1e-10 on the mean log-likelihood scale, i.e. to rounding), or
    when a step fails (singular or indefinite curvature, no decrease), returning where it got to.
    """
    value, grad = objective(u)
    state = _State(u, value, grad, False, 0)
    if not np.isfinite(value):
        return state
    hess = objective.hessian(u, grad) if hessian is None else hessian
    for _ in range(max_iter):
        if np.max(np.abs(state.grad)) < 1e-10:
            state.converged = True
            return state
        try:
            step = np.linalg.solve(hess, state.grad)
        except np.linalg.LinAlgError:
            return state
        slope = float(state.grad @ step)
        if not np.all(np.isfinite(step)) or slope <= 0:  # not a descent direction
            return state
        t = 1.0
        while True:
            cand = state.u - t * step
            cval, cgrad = objective(cand)
            if np.isfinite(cval) and cval <= state.value - 1e-4 * t * slope + 1e-15:
                break
            t /= 2
            if t < 1e-4:
                return state
        shrink = np.max(np.abs(cgrad)) / np.max(np.abs(state.grad))
        state = _State(cand, cval, cgrad, False, state.n_iter + 1)
        if shrink > 0.25:  # slow progress: refresh the curvature
            hess = objective.hessian(state.u, state.grad)
    state.converged = bool(np.max(np.abs(state.grad)) < 1e-10)
    return state


def maximise(
    total_and_grad: TotalAndGrad,
    total_weight: float,
    initial: FloatArray,
    penalizer: float,
    *,
    model_name: str,
    param_names: Sequence[str],
    max_iter: int = 2000,
    warm: bool = False,
    n_positive: int | None = None,
    coef_penalizer: float = 0.0,
    hessian: FloatArray | None = None,
) -> FitResult:
    """Maximise the likelihood from ``initial`` (natural scale) and return the optimum with its curvature.

    BFGS on the log scale, then Newton steps on the exact gradient with a finite-difference Hessian
    until the gradient vanishes to rounding (BFGS can stop early on the flat ridges these
    likelihoods have, e.g. Pareto/NBD's beta). With ``warm=True`` (``initial`` is already close, e.g. a
    fit on a subsample) Newton goes first, from ``hessian`` when given (the subsample fit's
    :attr:`FitResult.curvature`), and BFGS only runs if it fails. A Hessian at the optimum
    gives the covariance. With ``n_positive``, only the first ``n_positive`` parameters are positive
    (log scale); the rest are unconstrained coefficients (penalised by ``coef_penalizer``).

    Raises
    ------
    ConvergenceError
        When the optimiser stops away from a stationary point or at a non-finite likelihood.
    """
    objective = Objective(total_and_grad, total_weight, penalizer, n_positive, coef_penalizer)
    init = np.asarray(initial, dtype=np.float64)
    k = len(init) if n_positive is None else n_positive
    u0 = np.concatenate([np.log(init[:k]), init[k:]])
    value0, _ = objective(u0)
    if not np.isfinite(value0):
        raise ConvergenceError(
            f"{model_name}: the log-likelihood is not finite at the starting values "
            f"{dict(zip(param_names, initial, strict=True))}; check the data for extreme values"
        )
    message = "Newton iterations from a warm start"
    state = _State(u0, value0, np.zeros_like(u0), False, 0)
    if warm:
        state = _newton(objective, u0, hessian=hessian)
    if not state.converged:
        # BFGS: the log scale needs no bounds, and scipy's BFGS costs less per iteration than L-BFGS-B
        # for a handful of parameters (measured: 0.37 s vs 0.60 s for a 10^6-customer BG/NBD fit).
        res = optimize.minimize(
            objective, state.u, jac=True, method="BFGS", options={"maxiter": max_iter, "gtol": 1e-8}
        )
        message = str(res.message)
        polished = _newton(objective, res.x)
        polished.n_iter += state.n_iter + int(res.nit)
        state = polished
    u, value, grad, n_iter = state.u, state.value, state.grad, state.n_iter
    if not np.isfinite(value) or np.max(np.abs(grad)) > 1e-5:
        raise ConvergenceError(
            f"{model_name}: the fit did not converge (largest gradient {np.max(np.abs(grad)):.2e} on the "
            f"log scale; {message}). Try a small penalizer (e.g. penalizer=0.001), "
            "check that recency and T are in a sensible time unit (weeks rather than seconds), and that the "
            "data hold enough repeat purchases to identify the model"
        )
    theta = objective.natural(u)
    jac = objective.jacobian(u)
    curvature = objective.hessian(u, grad)
    hess_total = curvature * total_weight
    eigval, eigvec = np.linalg.eigh(hess_total)
    flat: tuple[int, ...] = ()
    # Relative to the largest curvature, a curvature below 1e-9 is numerically zero: a ridge.
    if np.all(np.isfinite(eigval)) and eigval[0] > 1e-9 * max(eigval[-1], 1e-300):
        cov_u = np.linalg.inv(hess_total)
    else:
        cov_u = np.full_like(hess_total, np.nan)
        weak = np.abs(eigvec[:, 0])
        flat = tuple(int(i) for i in np.flatnonzero(weak > 0.25 * weak.max()))
    return FitResult(
        params=theta,
        log_likelihood=objective.total_loglik(theta),
        covariance=np.asarray(cov_u * np.outer(jac, jac), dtype=np.float64),
        log_covariance=np.asarray(cov_u, dtype=np.float64),
        n_iter=n_iter,
        flat=flat,
        curvature=curvature,
    )
