"""From a fitted model to money: discounted customer lifetime value and the targeting table.

Units are explicit everywhere: ``horizon`` is in the data's time unit (``summary.attrs["time_unit"]``),
``discount_rate`` is the rate per ``discount_period`` time units. Weekly data discounted at 10% a year is
``discount_rate=0.10, discount_period=52`` (or 365.25 / 7 for calendar years).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from clvlab.errors import DataError
from clvlab.formulas.discounting import (
    continuous_discounted_purchases,
    discount_delta,
    periodic_discounted_purchases,
)
from clvlab.models.base import TransactionModel, _chunks, _interval_quantiles
from clvlab.models.bgbb import BetaGeoBetaBinom
from clvlab.models.gamma_gamma import GammaGamma, _spend

FloatArray = npt.NDArray[np.float64]

__all__ = ["VALUE_TIERS", "customer_lifetime_value", "predict_customer_value", "segment_summary"]

#: Value tiers of the targeting table: (name, share of customers), from the most valuable down, on the
#: customers ranked by predicted CLV. Platinum: the top 5%; gold: the next 15% (to the top 20%); silver:
#: the next 30% (to the top half); bronze: the bottom half.
VALUE_TIERS: tuple[tuple[str, float], ...] = (
    ("platinum", 0.05),
    ("gold", 0.15),
    ("silver", 0.30),
    ("bronze", 0.50),
)

#: Periodic sums over an infinite horizon stop once the discount factor is below this.
_PERIODIC_TAIL = 1e-17


def _check_value_args(
    transaction_model: Any,
    spend_model: Any,
    horizon: float,
    discount_rate: float,
    discount_period: float,
    method: str,
) -> None:
    if not isinstance(transaction_model, TransactionModel):
        raise TypeError(
            f"transaction_model must be a clvlab transaction model, got {type(transaction_model).__name__}"
        )
    if not isinstance(spend_model, GammaGamma):
        raise TypeError(f"spend_model must be a clvlab.GammaGamma model, got {type(spend_model).__name__}")
    if method not in {"continuous", "periodic"}:
        raise ValueError(f"method must be 'continuous' or 'periodic', got {method!r}")
    h = float(horizon)
    if not (h > 0):
        raise DataError(f"horizon must be positive (in the data's time unit), got {horizon!r}")
    if not (np.isfinite(discount_rate) and discount_rate >= 0):
        raise DataError(
            f"discount_rate must be a non-negative rate per discount_period, got {discount_rate!r}"
        )
    if not (np.isfinite(discount_period) and discount_period > 0):
        raise DataError(f"discount_period must be a positive number of time units, got {discount_period!r}")
    if not np.isfinite(h) and discount_rate == 0:
        raise DataError(
            "an infinite horizon needs a positive discount_rate (the undiscounted value is unbounded)"
        )
    if isinstance(transaction_model, BetaGeoBetaBinom) and method != "periodic":
        raise DataError("BG/BB is a discrete-time model: use method='periodic' (discounting per opportunity)")
    if method == "periodic" and np.isfinite(h):
        k = h / discount_period
        if abs(k - round(k)) > 1e-9 * max(1.0, k):
            raise DataError(
                f"method='periodic' needs a horizon that is a whole number of discount periods; got "
                f"horizon={horizon} and discount_period={discount_period} ({k:g} periods)"
            )


def _discounted_purchases(
    model: TransactionModel,
    params: tuple[Any, ...],
    columns: tuple[FloatArray, ...],
    horizon: float,
    discount_rate: float,
    discount_period: float,
    method: str,
) -> FloatArray:
    """Discounted expected purchases per customer (and draw) over (T, T + horizon]."""
    formulas = model.formulas

    def expected(t: Any) -> FloatArray:
        return np.asarray(formulas.conditional_expected_purchases(*params, t, *columns), dtype=np.float64)

    if method == "periodic":
        if np.isfinite(horizon):
            n_periods = round(horizon / discount_period)
        else:
            n_periods = int(np.ceil(np.log(1 / _PERIODIC_TAIL) / np.log1p(discount_rate)))
        return periodic_discounted_purchases(expected, n_periods, discount_period, discount_rate)
    delta = discount_delta(discount_rate, discount_period)
    dert = getattr(formulas, "dert", None)
    if dert is not None and not np.isfinite(horizon):
        # Closed form (Fader, Hardie & Lee 2005, JMR 42(4), eq. 2) where the model has one.
        return np.asarray(dert(*params, delta, *columns), dtype=np.float64)
    # The time scale of E(t): the smallest gamma scale parameter of the point estimate.
    theta = dict(zip(model.param_names, model._theta, strict=True))
    scale = min(theta[name] for name in ("alpha", "beta") if name in theta)
    return continuous_discounted_purchases(expected, horizon, delta, scale)


def customer_lifetime_value(
    transaction_model: TransactionModel,
    spend_model: GammaGamma,
    data: Any,
    *,
    horizon: float,
    discount_rate: float = 0.0,
    discount_period: float = 1.0,
    method: str = "continuous",
    interval: float | None = None,
    n_draws: int = 200,
    seed: Any = 0,
) -> pd.Series | pd.DataFrame:
    """Discounted expected value of each customer's future purchases.

    CLV = E[M | x, m_x] x D, where D is the discounted expected number of purchases in
    (T, T + horizon] (see :mod:`clvlab.formulas.discounting`).

    Parameters
    ----------
    transaction_model : BetaGeo, ParetoNBD, ModifiedBetaGeo or BetaGeoBetaBinom
        A fitted transaction model, or a fitted :mod:`clvlab.bayes` model.
    spend_model : GammaGamma
        A fitted spend model (a :class:`clvlab.bayes.GammaGamma` with a Bayesian transaction model: CLV
        is then the posterior mean, the bounds are credible bounds over all posterior draws, and
        ``n_draws`` and ``seed`` are not used).
    data : pandas.DataFrame
        Customer summary with ``frequency``, ``recency``, ``T`` (BG/BB: ``n_periods``) and
        ``monetary_value``, in the models' time unit.
    horizon : float
        How far ahead to value purchases, in the data's time unit. ``numpy.inf`` gives the residual
        lifetime value (Fader, Hardie & Lee's DERT times spend), which needs a positive discount rate.
    discount_rate : float
        Discount rate per ``discount_period`` time units. For weekly data and 10% a year use
        ``discount_rate=0.10, discount_period=52``; for daily data and 1% a month,
        ``discount_rate=0.01, discount_period=365.25 / 12``.
    discount_period : float
        Length, in time units, of the period the rate applies to.
    method : {"continuous", "periodic"}
        ``"continuous"`` discounts each purchase at the moment it happens, exp(-delta t) with
        delta = ln(1 + rate) / period: exact integration of the discounted purchase intensity (closed form
        for the Pareto/NBD residual value, composite Gauss-Legendre quadrature otherwise, accurate to
        about 1e-10 relative). ``"periodic"`` is the period-by-period sum used by ``lifetimes``: each
        period's expected purchases discounted by (1 + rate)^k at the end of period k (the horizon must be
        a whole number of periods), so that old numbers can be reproduced. BG/BB needs ``"periodic"``.
    interval : float, optional
        With a level such as 0.9, return a DataFrame with ``clv``, ``clv_lower`` and ``clv_upper``: quantiles
        of CLV over ``n_draws`` joint draws of both models' parameters from their asymptotic sampling
        distributions (parameter uncertainty), seeded by ``seed``. Each draw values every customer again,
        so the cost grows with ``n_draws``: on CDNOW (2,357 customers, 200 draws) about 3 s for a 52-week
        BG/NBD horizon and 45 s for the BG/NBD residual value; raise ``n_draws`` for smoother bounds.

    Returns
    -------
    pandas.Series or pandas.DataFrame
        Indexed by customer id, in the spend's currency.

    Examples
    --------
    >>> import numpy as np, clvlab
    >>> log = clvlab.datasets.load_cdnow_transactions()
    >>> s = clvlab.rfm_summary(log, monetary_value="amount", observation_end="1997-09-30",
    ...                        time_unit="W", drop_after_end=True)
    >>> bg, gg = clvlab.BetaGeo().fit(s), clvlab.GammaGamma().fit(s)
    >>> clv = clvlab.customer_lifetime_value(bg, gg, s, horizon=52, discount_rate=0.10, discount_period=52)
    >>> round(float(clv.loc[1]), 2)
    26.41
    """
    parts = _clv_parts(
        transaction_model,
        spend_model,
        data,
        horizon,
        discount_rate,
        discount_period,
        method,
        interval,
        n_draws,
        seed,
    )
    clv = pd.Series(parts.spend * parts.discounted, index=parts.index, name="clv")
    if parts.bounds is None:
        return clv
    return pd.DataFrame(
        {"clv": clv, "clv_lower": parts.bounds[0], "clv_upper": parts.bounds[1]}, index=parts.index
    )


@dataclass(frozen=True)
class _Parts:
    index: pd.Index
    spend: FloatArray  # expected spend per purchase at the estimates
    discounted: FloatArray  # discounted expected purchases at the estimates
    bounds: tuple[FloatArray, FloatArray] | None  # CLV interval bounds


def _clv_parts(
    transaction_model: Any,
    spend_model: Any,
    data: Any,
    horizon: float,
    discount_rate: float,
    discount_period: float,
    method: str,
    interval: float | None,
    n_draws: int,
    seed: Any,
) -> _Parts:
    if hasattr(transaction_model, "mle_class") or hasattr(spend_model, "mle_class"):
        return _clv_parts_posterior(
            transaction_model, spend_model, data, horizon, discount_rate, discount_period, method, interval
        )
    _check_value_args(transaction_model, spend_model, horizon, discount_rate, discount_period, method)
    index, columns = transaction_model._predict_arrays(data)
    spend_model._check_fitted()
    spend_model._check_time_unit(data)
    _, spend_cols = spend_model._validate(data)
    x_m = (spend_cols["frequency"], spend_cols["monetary_value"])
    args = (float(horizon), float(discount_rate), float(discount_period), method)
    p, q, gamma = spend_model._theta
    spend = _spend(p, q, gamma, *x_m)
    discounted = _discounted_purchases(transaction_model, transaction_model._theta, columns, *args)
    if interval is None:
        return _Parts(index, spend, discounted, None)
    lo_q, hi_q = _interval_quantiles(interval)
    t_draws = transaction_model.param_draws(n_draws, seed)
    # An independent stream for the spend model's draws: the two models were fitted separately.
    s_draws = spend_model.param_draws(n_draws, np.random.default_rng(seed).integers(2**63))
    t_params = tuple(t_draws[:, [j]] for j in range(t_draws.shape[1]))
    s_params = tuple(s_draws[:, [j]] for j in range(s_draws.shape[1]))
    lower = np.empty(len(index))
    upper = np.empty(len(index))
    for sl in _chunks(len(index), n_draws, budget=1 << 21):
        cols = tuple(c[sl] for c in columns)
        vals = _spend(s_params[0], s_params[1], s_params[2], x_m[0][sl], x_m[1][sl]) * _discounted_purchases(
            transaction_model, t_params, cols, *args
        )
        lower[sl], upper[sl] = np.quantile(vals, [lo_q, hi_q], axis=0)
    return _Parts(index, spend, discounted, (lower, upper))


def _clv_parts_posterior(
    transaction_model: Any,
    spend_model: Any,
    data: Any,
    horizon: float,
    discount_rate: float,
    discount_period: float,
    method: str,
    interval: float | None,
) -> _Parts:
    """CLV over the posteriors of two Bayesian models (:mod:`clvlab.bayes`).

    Each posterior draw of the transaction model is paired with one of the spend model (they were
    fitted separately, so their posteriors are independent and any pairing is a joint draw). The point
    value is E[spend] x E[discounted purchases], which equals E[CLV] under that independence; the bounds
    are quantiles of the paired draws' CLV. Chunked over customers, so memory stays bounded.
    """
    if not (hasattr(transaction_model, "mle_class") and hasattr(spend_model, "mle_class")):
        raise TypeError(
            "combine two Bayesian models (clvlab.bayes) or two maximum-likelihood ones, not one of each"
        )
    t_view, s_view = transaction_model._mle_view(), spend_model._mle_view()
    _check_value_args(t_view, s_view, horizon, discount_rate, discount_period, method)
    index, columns = t_view._predict_arrays(data)
    s_view._check_time_unit(data)
    _, spend_cols = s_view._validate(data)
    x_m = (spend_cols["frequency"], spend_cols["monetary_value"])
    args = (float(horizon), float(discount_rate), float(discount_period), method)
    t_draws, s_draws = transaction_model.param_draws(), spend_model.param_draws()
    n_draws = min(len(t_draws), len(s_draws))
    t_params = tuple(t_draws[:n_draws, [j]] for j in range(t_draws.shape[1]))
    s_params = tuple(s_draws[:n_draws, [j]] for j in range(s_draws.shape[1]))
    n = len(index)
    spend, discounted, lower, upper = (np.empty(n) for _ in range(4))
    quantiles = _interval_quantiles(interval) if interval is not None else None
    for sl in _chunks(n, n_draws, budget=1 << 21):
        s_vals = _spend(s_params[0], s_params[1], s_params[2], x_m[0][sl], x_m[1][sl])
        d_vals = _discounted_purchases(t_view, t_params, tuple(c[sl] for c in columns), *args)
        s_vals = np.broadcast_to(s_vals, d_vals.shape)
        spend[sl], discounted[sl] = s_vals.mean(axis=0), d_vals.mean(axis=0)
        if quantiles is not None:
            lower[sl], upper[sl] = np.quantile(s_vals * d_vals, quantiles, axis=0)
    return _Parts(index, spend, discounted, (lower, upper) if quantiles is not None else None)


def _rank(values: FloatArray, index: pd.Index) -> npt.NDArray[np.int64]:
    """Rank 1 for the highest value; ties broken by customer id, so row order never matters."""
    id_order = np.argsort(np.argsort(index.to_numpy(), kind="stable"), kind="stable")
    order = np.lexsort((id_order, -values))
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(1, len(values) + 1)
    return rank


def value_tiers(rank: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
    """Tier names from CLV ranks (1 = most valuable) following :data:`VALUE_TIERS`."""
    n = len(rank)
    cut = np.cumsum([share for _, share in VALUE_TIERS]) * n
    names = np.array([name for name, _ in VALUE_TIERS], dtype=object)
    pos = np.searchsorted(cut, rank - 0.5)
    return names[np.minimum(pos, len(names) - 1)]


def predict_customer_value(
    transaction_model: TransactionModel,
    spend_model: GammaGamma,
    data: Any,
    *,
    horizon: float,
    discount_rate: float = 0.0,
    discount_period: float = 1.0,
    method: str = "continuous",
    interval: float | None = None,
    n_draws: int = 200,
    seed: Any = 0,
) -> pd.DataFrame:
    """The targeting table: one row per customer, ranked and segmented by predicted value.

    Parameters are those of :func:`customer_lifetime_value`.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id, with columns

        - ``p_alive``: probability the customer is still active at the end of observation;
        - ``expected_purchases``: expected purchases within the horizon (finite horizons only);
        - ``discounted_purchases``: discounted expected purchases within the horizon;
        - ``expected_spend``: expected mean value of a purchase (Gamma-Gamma);
        - ``clv``: ``expected_spend * discounted_purchases``; with ``interval``, ``clv_lower`` and
          ``clv_upper``;
        - ``clv_rank``: 1 for the most valuable customer (ties broken by customer id);
        - ``clv_percentile``: percentage of customers whose CLV is at most this customer's (100 = top);
        - ``segment``: the value tier of :data:`VALUE_TIERS` (platinum = top 5% by CLV, gold = next 15%,
          silver = next 30%, bronze = bottom half).

        ``attrs`` record the time unit, horizon, discount rate and period, and method. The frame holds only
        numbers and strings, so ``to_csv`` / ``to_parquet`` round-trip it with the customer id.
    """
    parts = _clv_parts(
        transaction_model,
        spend_model,
        data,
        horizon,
        discount_rate,
        discount_period,
        method,
        interval,
        n_draws,
        seed,
    )
    index = parts.index
    table = pd.DataFrame(index=index)
    table["p_alive"] = transaction_model.predict_p_alive(data).to_numpy()
    if np.isfinite(horizon):
        table["expected_purchases"] = transaction_model.predict_purchases(data, horizon).to_numpy()
    table["discounted_purchases"] = parts.discounted
    table["expected_spend"] = parts.spend
    table["clv"] = parts.spend * parts.discounted
    if parts.bounds is not None:
        table["clv_lower"], table["clv_upper"] = parts.bounds
    values = table["clv"].to_numpy()
    rank = _rank(values, index)
    table["clv_rank"] = rank
    table["clv_percentile"] = table["clv"].rank(method="max", pct=True).to_numpy() * 100.0
    table["segment"] = value_tiers(rank)
    unit = data.attrs.get("time_unit") if isinstance(data, pd.DataFrame) else None
    table.attrs.update(
        time_unit=unit,
        horizon=float(horizon),
        discount_rate=float(discount_rate),
        discount_period=float(discount_period),
        method=method,
    )
    return table


def segment_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Customers, total and mean CLV, value share and mean P(alive) per segment of a targeting table.

    Rows follow :data:`VALUE_TIERS` (most valuable first); segments without customers show zeros.
    """
    order = [name for name, _ in VALUE_TIERS]
    grouped = table.groupby("segment", sort=False)
    out = pd.DataFrame(
        {
            "customers": grouped.size(),
            "clv_total": grouped["clv"].sum(),
            "clv_mean": grouped["clv"].mean(),
            "p_alive_mean": grouped["p_alive"].mean(),
        }
    ).reindex(order, fill_value=0.0)
    out["customers"] = out["customers"].astype(np.int64)
    total = float(out["clv_total"].sum())
    out["value_share"] = out["clv_total"] / total if total > 0 else 0.0
    out.index.name = "segment"
    return out
