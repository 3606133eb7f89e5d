"""Per-customer parameters from covariates: the links, the likelihood and evaluation over draws.

A covariate model's parameter vector is its baseline parameters (natural scale, positive) followed by one
coefficient per design column of each process. Customer i's parameters are the baselines scaled by
``exp(sign * z_i' g)`` for the parameters a process links to (the model's ``covariate_links``), e.g.
BG/NBD: ``alpha_i = alpha exp(-g_p' z_i)``, ``a_i = a exp(g_d' z_i)``, ``b_i = b exp(g_d' z_i)``. The
formula functions broadcast over these per-customer arrays unchanged, so the same likelihood functions
serve models with and without covariates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from clvlab._types import FloatArray
from clvlab.formulas._distinct import rank_codes
from clvlab.models._fitting import Deduplicated, TotalAndGrad, deduplicate

__all__ = ["Links", "bind", "covariate_total_and_grad", "deduplicate_with_covariates", "row_params"]

#: Up to this many distinct covariate patterns the likelihood is evaluated per pattern, on the formula
#: module's grouped fast path with scalar parameters; beyond, per customer row.
MAX_PATTERNS = 256

#: process -> ((index of a baseline parameter, sign of the coefficient's effect on it), ...)
Links = dict[str, tuple[tuple[int, int], ...]]


def row_params(
    params: Sequence[Any] | FloatArray,
    k_base: int,
    links: Links,
    sizes: Sequence[tuple[str, int]],
    z: Sequence[Any],
) -> list[Any]:
    """Per-customer baseline parameters: baselines scaled by ``exp(sign * z' g)`` per linked parameter.

    ``params`` are the baselines then the coefficients (each a scalar or a ``(draws, 1)`` array); ``z``
    holds one design column (1-D array, or a scalar for one covariate pattern) per coefficient.
    """
    out = list(params[:k_base])
    pos = k_base
    for process, size in sizes:
        eta: Any = 0.0
        for j in range(size):
            eta = eta + params[pos + j] * z[pos - k_base + j]
        pos += size
        for idx, sign in links[process]:
            out[idx] = out[idx] * np.exp(sign * eta)
    return out


def bind(
    fn: Callable[..., Any], k_base: int, links: Links, sizes: Sequence[tuple[str, int]]
) -> Callable[..., Any]:
    """``fn(*base_params, *rest)`` as a function of ``(*params, *rest, *z_columns)``.

    ``params`` are the baselines and coefficients (scalars or ``(draws, 1)`` arrays); the design columns
    come last, after the scalars and data columns of the seam's calling convention
    (:func:`clvlab.draws.over_data_rows`), so that distinct-row grouping includes the covariate pattern.
    """
    n_coef = sum(size for _, size in sizes)

    def bound(*args: Any) -> Any:
        params, rest = args[: k_base + n_coef], args[k_base + n_coef :]
        z, rest = rest[len(rest) - n_coef :], rest[: len(rest) - n_coef]
        return fn(*row_params(params, k_base, links, sizes, z), *rest)

    return bound


def covariate_total_and_grad(
    per_pattern: Callable[[tuple[FloatArray, ...], FloatArray], TotalAndGrad],
    loglik_and_grad: Callable[..., tuple[FloatArray, Sequence[FloatArray]]],
    columns: tuple[FloatArray, ...],
    z: FloatArray,
    weights: FloatArray,
    k_base: int,
    links: Links,
    sizes: Sequence[tuple[str, int]],
) -> TotalAndGrad:
    """Weighted log-likelihood and exact gradient in (baselines, coefficients).

    With customer i's parameter ``theta_ij = base_j exp(s z_i' g)`` the chain rule gives
    ``d ll / d base_j = sum_i w_i (d ll_i / d theta_ij) theta_ij / base_j`` and
    ``d ll / d g = sum_i w_i z_i sum_j s_j (d ll_i / d theta_ij) theta_ij`` over the parameters the
    process links to. Few distinct covariate patterns (``MAX_PATTERNS``): per pattern, on
    ``per_pattern`` (the model's own grouped likelihood with scalar parameters); many: per row.
    """
    coded = _pattern_codes(z)
    offsets: list[tuple[str, int, int]] = []
    pos = 0
    for process, size in sizes:
        offsets.append((process, pos, size))
        pos += size

    def d_eta(gp: Sequence[Any] | FloatArray, pp: Sequence[Any], process: str) -> Any:
        """D ll / d eta for one process's linear predictor eta = z' g."""
        return sum(sign * np.asarray(gp[idx]) * pp[idx] for idx, sign in links[process])

    if coded is not None:
        key, pat = coded
        # The rows of each pattern, and the per-pattern grouped likelihoods (prepared once).
        order = np.argsort(key, kind="stable")
        bounds = np.searchsorted(key[order], np.arange(len(pat) + 1))
        parts = []
        for p in range(len(pat)):
            rows = order[bounds[p] : bounds[p + 1]]
            # The grouped likelihoods expect distinct rows in deduplicate's order.
            sub = deduplicate([c[rows] for c in columns], weights[rows])
            parts.append((pat[p], per_pattern(sub.columns, sub.weights)))

        def by_pattern(theta: FloatArray) -> tuple[float, FloatArray]:
            total = 0.0
            grad = np.zeros(len(theta))
            for zp, fn in parts:
                pp = row_params(theta, k_base, links, sizes, zp)
                ll, gp = fn(np.asarray(pp, dtype=np.float64))
                total += ll
                grad[:k_base] += gp * np.asarray(pp) / theta[:k_base]
                for process, start, size in offsets:
                    grad[k_base + start : k_base + start + size] += zp[start : start + size] * float(
                        d_eta(gp, pp, process)
                    )
            return total, grad

        return by_pattern

    zt = tuple(z[:, j] for j in range(z.shape[1]))

    def by_row(theta: FloatArray) -> tuple[float, FloatArray]:
        pp = row_params(theta, k_base, links, sizes, zt)
        ll, gp = loglik_and_grad(*pp, *columns)
        grad = np.empty(len(theta))
        for j in range(k_base):
            grad[j] = float(weights @ (np.asarray(gp[j]) * pp[j])) / theta[j]
        for process, start, size in offsets:
            grad[k_base + start : k_base + start + size] = z[:, start : start + size].T @ (
                weights * d_eta(gp, pp, process)
            )
        return float(weights @ ll), grad

    return by_row


def _pattern_codes(z: FloatArray) -> tuple[npt.NDArray[np.int64], FloatArray] | None:
    """Each row's covariate pattern (codes 0..k-1) and the ``k`` patterns; ``None`` beyond MAX_PATTERNS.

    The rank codes of the design columns are packed into one int64 key per row (as
    :func:`clvlab.models._fitting.deduplicate` does), so that a million rows are coded by one sort of
    integers rather than a row-wise ``np.unique``.
    """
    n, m = z.shape
    if m == 0:
        return np.zeros(n, dtype=np.int64), np.empty((1, 0))
    coded = [rank_codes(z[:, j]) for j in range(m)]
    if math.prod(len(u) for _, u in coded) > 2**62:
        _, inverse = np.unique(z, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1).astype(np.int64)
        if inverse.max() >= MAX_PATTERNS:
            return None
        first = np.zeros(inverse.max() + 1, dtype=np.int64)
        first[inverse[::-1]] = np.arange(n)[::-1]
        return inverse, z[first]
    key = np.zeros(n, dtype=np.int64)
    for code, u in coded:
        key *= len(u)
        key += code
    ukeys, inverse = np.unique(key, return_inverse=True)
    if len(ukeys) > MAX_PATTERNS:
        return None
    patterns = np.empty((len(ukeys), m))
    rest = ukeys.copy()
    for j in range(m - 1, -1, -1):
        code, u = coded[j]
        patterns[:, j] = u[rest % len(u)]
        rest //= len(u)
    return inverse.reshape(-1).astype(np.int64), patterns


def deduplicate_with_covariates(
    columns: tuple[FloatArray, ...], z: FloatArray, weights: FloatArray
) -> tuple[tuple[FloatArray, ...], FloatArray, FloatArray]:
    """Distinct (data row, covariate pattern) rows with summed weights."""
    n_data = len(columns)
    dedup: Deduplicated = deduplicate([*columns, *(z[:, j] for j in range(z.shape[1]))], weights)
    cols = dedup.columns
    zz = np.column_stack(cols[n_data:]) if z.shape[1] else np.empty((len(dedup.weights), 0))
    return tuple(cols[:n_data]), zz, dedup.weights
