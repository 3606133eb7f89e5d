"""From a fitted model to money: discounted customer lifetime value.

Units are explicit everywhere: ``horizon`` is in the data's time unit (``summary.attrs["time_unit"]``),
``discount_rate`` is the rate per ``discount_period`` time units. Weekly data discounted at 10% a year is
``discount_rate=0.10, discount_period=52`` (or 365.25 / 7 for calendar years). The targeting table built
on these values is in :mod:`clvlab.targeting`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from clvlab._guards import real_scalar
from clvlab._types import FloatArray
from clvlab.data.validation import as_pandas
from clvlab.draws import (
    MEMORY_BUDGET,
    HasDraws,
    ModelDraws,
    chunks,
    interval_quantiles,
    mean_over_draws,
    model_draws,
    thread_count,
    thread_map,
)
from clvlab.errors import DataError
from clvlab.formulas._contract import DertFormulas, IfAliveFormulas
from clvlab.formulas._distinct import distinct_rows
from clvlab.formulas.discounting import (
    continuous_discounted_purchases,
    continuous_payback_time,
    discount_delta,
    periodic_discounted_purchases,
    periodic_payback_time,
)
from clvlab.formulas.gamma_gamma import conditional_expected_spend
from clvlab.predictive import bounds_frame, check_interval_kind, simulated_values

#: Values per block of draws (over all threads together) of the per-(x, T) table of discounted
#: purchases behind CLV intervals.
_TABLE_BLOCK_VALUES = 1 << 20


__all__ = [
    "CustomerValue",
    "check_value_args",
    "clv_components",
    "customer_lifetime_value",
    "margin_rates",
    "n_periods",
    "payback_times",
    "time_scale",
]

#: Periodic sums over an infinite horizon stop once the discount factor is below this.
_PERIODIC_TAIL = 1e-17


def check_value_args(
    md: ModelDraws,
    horizon: float,
    discount_rate: float,
    discount_period: float,
    method: str,
) -> None:
    """Refuse (:class:`DataError`) a horizon, rate, period or method that does not value ``md``'s model."""
    if method not in {"continuous", "periodic"}:
        raise ValueError(f"method must be 'continuous' or 'periodic', got {method!r}")
    h = real_scalar(horizon, "horizon")
    rate = real_scalar(discount_rate, "discount_rate")
    period = real_scalar(discount_period, "discount_period")
    if not (h > 0):
        raise DataError(f"horizon must be positive (in the data's time unit), got {horizon!r}")
    if not (np.isfinite(rate) and rate >= 0):
        raise DataError(
            f"discount_rate must be a non-negative rate per discount_period, got {discount_rate!r}"
        )
    if not (np.isfinite(period) and period > 0):
        raise DataError(f"discount_period must be a positive number of time units, got {discount_period!r}")
    if not np.isfinite(h) and rate == 0:
        raise DataError(
            "an infinite horizon needs a positive discount_rate (the undiscounted value is unbounded)"
        )
    if md.discrete and method != "periodic":
        raise DataError("BG/BB is a discrete-time model: use method='periodic' (discounting per opportunity)")
    if method == "periodic" and np.isfinite(h):
        k = h / period
        if abs(k - round(k)) > 1e-9 * max(1.0, k):
            raise DataError(
                f"method='periodic' needs a horizon that is a whole number of discount periods; got "
                f"horizon={horizon} and discount_period={discount_period} ({k:g} periods)"
            )


def _discounted_purchases(
    md: ModelDraws,
    params: tuple[Any, ...],
    columns: tuple[FloatArray, ...],
    horizon: float,
    discount_rate: float,
    discount_period: float,
    method: str,
) -> FloatArray:
    """Discounted expected purchases per customer (and draw) over (T, T + horizon].

    Where the model factors its conditional expectation as P(alive | x, t_x, T) times a factor in
    (x, T) alone (``expected_purchases_if_alive``: BG/NBD, MBG/NBD, Pareto/NBD), P(alive) is evaluated
    once and the discounted sum over horizons once per distinct (x, T): exact, and many times faster on
    large customer bases.
    """
    formulas = md.formulas
    if _closed_form(formulas, horizon, method):
        # Closed form (Fader, Hardie & Lee 2005, JMR 42(4), eq. 2) where the model has one.
        delta = discount_delta(discount_rate, discount_period)
        return np.asarray(formulas.dert(*params, delta, *columns), dtype=np.float64)
    value_args = (horizon, discount_rate, discount_period, method)
    shape = np.broadcast_shapes(*(np.shape(p) for p in params))
    per_age = None
    if not (shape and shape[-1] != 1):  # parameters per draw, not per customer (covariates)
        draws = np.column_stack([np.broadcast_to(p, shape).reshape(-1) for p in params])
        per_age = _per_age_table(md, draws, columns, value_args)
    if per_age is None:

        def expected(t: Any) -> FloatArray:
            return np.asarray(formulas.conditional_expected_purchases(*params, t, *columns), dtype=np.float64)

        return _discount(md, expected, horizon, discount_rate, discount_period, method)
    table, code = per_age
    p_alive = np.asarray(formulas.p_alive(*params, *columns), dtype=np.float64)
    return p_alive * table[:, code].reshape(*shape[:-1], len(code)) if shape else p_alive * table[0, code]


def _closed_form(formulas: Any, horizon: float, method: str) -> bool:
    """Whether the residual value has a closed form here (Pareto/NBD DERT, continuous discounting)."""
    return isinstance(formulas, DertFormulas) and not np.isfinite(horizon) and method == "continuous"


def _discount(
    md: ModelDraws,
    expected: Callable[[Any], FloatArray],
    horizon: float,
    discount_rate: float,
    discount_period: float,
    method: str,
) -> FloatArray:
    """Discounted sum of ``expected(t)`` (expected purchases in (T, T + t]) over the horizon."""
    if method == "periodic":
        k_periods = n_periods(horizon, discount_rate, discount_period)
        return periodic_discounted_purchases(expected, k_periods, discount_period, discount_rate)
    delta = discount_delta(discount_rate, discount_period)
    return continuous_discounted_purchases(expected, horizon, delta, time_scale(md))


def n_periods(horizon: float, discount_rate: float, discount_period: float) -> int:
    """Number of discount periods of a periodic sum: the horizon's, or until the discount factor is spent."""
    if np.isfinite(horizon):
        return round(horizon / discount_period)
    return int(np.ceil(np.log(1 / _PERIODIC_TAIL) / np.log1p(discount_rate)))


def time_scale(md: ModelDraws) -> float:
    """The time scale of E(t): the smallest gamma scale parameter of the point estimate."""
    theta = md.estimate
    return float(min(theta[name] for name in ("alpha", "beta") if name in theta))


def customer_lifetime_value(
    transaction_model: HasDraws,
    spend_model: HasDraws,
    data: Any,
    *,
    horizon: float,
    discount_rate: float = 0.0,
    discount_period: float = 1.0,
    method: str = "continuous",
    interval: float | None = None,
    interval_kind: str = "parameter",
    n_draws: int = 200,
    seed: Any = 0,
    margin: Any = None,
) -> pd.Series | pd.DataFrame:
    """Discounted expected value of each customer's future purchases: revenue, or profit with ``margin``.

    CLV = E[M | x, m_x] x D, where D is the discounted expected number of purchases in
    (T, T + horizon] (see :mod:`clvlab.formulas.discounting`); with ``margin`` m, CLV = m x E[M | x, m_x]
    x D, the discounted expected profit.

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
        so the cost grows with ``n_draws``: on CDNOW (2,357 customers, 200 draws) about 2 s for a 52-week
        BG/NBD horizon, 1 s for Pareto/NBD and 40 s for the BG/NBD residual value (its long horizon
        takes the slow, exact integration route); raise ``n_draws`` for smoother bounds. The bounds'
        level and kind are recorded in ``attrs["interval"]`` and ``attrs["interval_kind"]``.
    interval_kind : {"parameter", "predictive"}
        ``"parameter"`` (default): the bounds above, of the *expected* value (how well the parameters are
        known). ``"predictive"``: bounds of the customer's *own* discounted future spend (or profit): per
        joint parameter draw, the customer's purchase rate and drop-out are drawn from their individual
        posterior given (x, t_x, T) (BG/NBD, MBG/NBD: alive at T with probability P(alive), then
        lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b + x (+ 1)); Pareto/NBD: lambda ~ Gamma(r + x,
        alpha + T), mu ~ Gamma(s, beta + T)), their spend rate from the Gamma-Gamma posterior
        nu ~ Gamma(p x + q, gamma + x m_x), and their purchases in the horizon and each purchase's value
        Gamma(p, nu) are simulated and discounted as ``method`` says (Monte Carlo seeded by ``seed``: one
        simulated future per draw, so raise ``n_draws`` for smoother bounds; see
        :mod:`clvlab.predictive`). Far wider than parameter bounds, and usually starting at 0: most
        customers may well buy nothing. Not for BG/BB.
    margin : float or str, optional
        Profit margin on revenue, a rate in (0, 1] (e.g. 0.3), or the name of a column of ``data`` holding
        each customer's margin (each finite, in (0, 1]). With it the value is profit, m x revenue, and the
        result is named ``clv_profit`` (bounds ``clv_profit_lower`` / ``clv_profit_upper``); without it
        ``clv`` (revenue). ``attrs["value_basis"]`` says ``"profit"`` or ``"revenue"``.

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
    36.78
    """
    parts = clv_components(
        transaction_model,
        spend_model,
        data,
        horizon=horizon,
        discount_rate=discount_rate,
        discount_period=discount_period,
        method=method,
        interval=interval,
        interval_kind=interval_kind,
        n_draws=n_draws,
        seed=seed,
        margin=margin,
    )
    basis = "revenue" if parts.margin is None else "profit"
    clv = pd.Series(parts.clv, index=parts.index, name="clv" if parts.margin is None else "clv_profit")
    out: pd.Series | pd.DataFrame = clv
    if parts.lower is not None and parts.upper is not None and interval is not None:
        out = bounds_frame(clv, parts.lower, parts.upper, interval, interval_kind)
    out.attrs["value_basis"] = basis
    return out


def margin_rates(margin: Any, data: Any, n: int) -> FloatArray | None:
    """Each customer's profit margin: ``margin`` as a rate in (0, 1], or a numeric column of ``data``.

    Returns ``None`` for no margin (value is revenue), an array of ``n`` rates otherwise.

    Raises
    ------
    DataError
        For a rate outside (0, 1] or not finite, a column that does not exist, is not numeric or holds a
        value outside (0, 1].
    """
    if margin is None:
        return None
    if isinstance(margin, str):
        frame = as_pandas(data)
        if margin not in frame.columns:
            raise DataError(
                f"margin={margin!r} names no column of the data; available: {list(frame.columns)}"
            )
        column = frame[margin]
        if not (pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)):
            raise DataError(
                f"margin column {margin!r} must hold numbers (rates in (0, 1]), got {column.dtype}"
            )
        rates = column.to_numpy(dtype=np.float64, na_value=np.nan)
        if len(rates) != n:
            raise DataError(f"margin column {margin!r} has {len(rates)} rows for {n} customers")
        bad = ~(np.isfinite(rates) & (rates > 0) & (rates <= 1))
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"margin column {margin!r} must hold rates in (0, 1] (0.3 for 30%): {int(bad.sum())} bad "
                f"value(s), first {float(rates[pos])!r} in row {pos}"
            )
        return rates
    if isinstance(margin, bool):
        raise DataError(f"margin must be a rate in (0, 1] or a column name, got {margin!r}")
    rate = real_scalar(margin, "margin")
    if not (np.isfinite(rate) and 0 < rate <= 1):
        raise DataError(f"margin must be a rate in (0, 1] (0.3 for 30%) or a column name, got {margin!r}")
    return np.full(n, float(rate))


@dataclass(frozen=True)
class CustomerValue:
    """Per-customer value components, as computed by :func:`clv_components`.

    Attributes
    ----------
    index : pandas.Index
        Customer ids.
    expected_spend : numpy.ndarray
        Expected spend per purchase E[M | x, m_x] (posterior mean for a Bayesian spend model).
    discounted_purchases : numpy.ndarray
        Discounted expected purchases over the horizon (posterior mean for a Bayesian model).
    lower, upper : numpy.ndarray or None
        Bounds of the CLV interval (profit with a margin), when one was asked for.
    margin : numpy.ndarray or None
        Each customer's profit margin, when one was given.
    """

    index: pd.Index
    expected_spend: FloatArray
    discounted_purchases: FloatArray
    lower: FloatArray | None = None
    upper: FloatArray | None = None
    margin: FloatArray | None = None

    @property
    def revenue(self) -> FloatArray:
        """``expected_spend * discounted_purchases``: the revenue CLV (posterior mean for Bayesian models)."""
        return np.asarray(self.expected_spend * self.discounted_purchases, dtype=np.float64)

    @property
    def clv(self) -> FloatArray:
        """The CLV: :attr:`revenue`, times :attr:`margin` when given (profit)."""
        if self.margin is None:
            return self.revenue
        return np.asarray(self.margin * self.revenue, dtype=np.float64)


def clv_components(
    transaction_model: HasDraws,
    spend_model: HasDraws,
    data: Any,
    *,
    horizon: float,
    discount_rate: float = 0.0,
    discount_period: float = 1.0,
    method: str = "continuous",
    interval: float | None = None,
    interval_kind: str = "parameter",
    n_draws: int = 200,
    seed: Any = 0,
    margin: Any = None,
) -> CustomerValue:
    """The one CLV computation: spend, discounted purchases and CLV bounds per customer.

    :func:`customer_lifetime_value` (the CLV column) and :func:`clvlab.predict_customer_value` (the
    targeting table) are both built on this; the arguments are theirs. Both models are read through the
    draws seam (:func:`clvlab.draws.model_draws`), so maximum-likelihood and Bayesian models take the
    same path:

    - point values: the spend and the discounted purchases averaged over the models' point draws (the
      estimate for a maximum-likelihood model, every posterior draw for a Bayesian one; with independent
      posteriors, E[spend] x E[discounted purchases] is E[CLV]);
    - bounds: quantiles of CLV over joint draws of both models' parameters: ``n_draws`` asymptotic draws
      each (independent streams from ``seed``: the models were fitted separately), or the posterior
      draws paired one to one (truncated to the shorter posterior); with ``interval_kind="predictive"``,
      quantiles of each customer's simulated discounted future spend over the same paired draws
      (:func:`clvlab.predictive.simulated_values`);
    - ``margin`` (:func:`margin_rates`) scales CLV and its bounds customer by customer (a positive factor
      scales quantiles alike).

    Raises
    ------
    TypeError
        For models that are not a fitted transaction and spend model, or that mix a maximum-likelihood
        with a Bayesian model.
    DataError
        For invalid horizons, rates, methods for the model, or data.
    """
    t_md = model_draws(transaction_model, "transaction", "transaction_model")
    s_md = model_draws(spend_model, "spend", "spend_model")
    if t_md.bayesian != s_md.bayesian:
        raise TypeError(
            "combine two Bayesian models (clvlab.bayes) or two maximum-likelihood ones, not one of each"
        )
    check_value_args(t_md, horizon, discount_rate, discount_period, method)
    kind = check_interval_kind(interval_kind, interval)
    if interval is not None:
        quantiles = interval_quantiles(interval)  # a bad level is reported before any work
    index, columns = t_md.transaction_arrays(data)
    _, x_m = s_md.spend_arrays(data)
    if len(x_m[0]) != len(index):
        raise DataError("the transaction and spend models read a different number of customers from data")
    rates = margin_rates(margin, data, len(index))
    value_args = (float(horizon), float(discount_rate), float(discount_period), method)
    discounted = _discounted_over(t_md, value_args)
    spend_fn = s_md.bind(conditional_expected_spend)

    t_point, s_point = t_md.point_params(), s_md.point_params()
    if interval is None:
        spend = mean_over_draws(spend_fn, s_point, x_m)
        return CustomerValue(index, spend, mean_over_draws(discounted, t_point, columns), margin=rates)
    if t_md.bayesian:
        n = min(len(t_point), len(s_point))
        t_draws, s_draws = t_point[:n], s_point[:n]
    else:
        t_draws = t_md.draws(n_draws, seed)
        # An independent stream for the spend model's draws: the two models were fitted separately.
        s_draws = s_md.draws(n_draws, np.random.default_rng(seed).integers(2**63))
    if kind == "predictive":
        rng = np.random.default_rng(np.random.default_rng(seed).integers(2**63, size=3))
        lower, upper = simulated_values(
            t_md, s_md, t_draws, s_draws, columns, x_m, *value_args, float(interval), rng
        )
    else:
        _, _, lower, upper = _clv_over_draws(
            t_md, s_md, t_draws, s_draws, columns, x_m, value_args, quantiles
        )
    # The point values depend neither on the interval nor on its kind: each model's own point draws (all
    # of a posterior, not only the pairs the bounds use), as without an interval.
    spend = mean_over_draws(spend_fn, s_point, x_m)
    d_point = mean_over_draws(discounted, t_point, columns)
    if rates is not None:
        lower, upper = rates * lower, rates * upper
    return CustomerValue(index, spend, d_point, lower, upper, rates)


def _discounted_over(
    md: ModelDraws, value_args: tuple[float, float, float, str]
) -> Callable[..., FloatArray]:
    """Discounted expected purchases as a function of ``(*draw_params, *columns)`` (``ModelDraws.bind``)."""
    return md.bind(_discounted_unbound(md, value_args))


def payback_times(
    transaction_model: HasDraws,
    data: Any,
    target: FloatArray,
    total: FloatArray,
    *,
    horizon: float,
    discount_rate: float = 0.0,
    discount_period: float = 1.0,
    method: str = "continuous",
) -> FloatArray:
    """First time at which each customer's discounted expected purchases reach ``target``.

    ``target`` is, per customer, the number of discounted purchases that pays back a cost (acquisition
    cost divided by expected spend); ``total`` their discounted purchases over the whole horizon (the
    CLV's, from :func:`clv_components`), so that customers who never pay back are not searched: they get
    ``inf``. The curve is E(t) at the point draws (the estimate, or the posterior mean curve), discounted
    as in :func:`customer_lifetime_value` (:func:`clvlab.formulas.discounting.continuous_payback_time`,
    :func:`~clvlab.formulas.discounting.periodic_payback_time`), in slices of customers so that draws x
    customers stays within :data:`clvlab.draws.MEMORY_BUDGET`.
    """
    md = model_draws(transaction_model, "transaction", "transaction_model")
    check_value_args(md, horizon, discount_rate, discount_period, method)
    _, columns = md.transaction_arrays(data)
    draws = md.point_params()
    params = tuple(draws[:, [j]] for j in range(draws.shape[1]))
    f = md.bind(md.formulas.conditional_expected_purchases)
    out = np.empty(len(target))
    for sl in chunks(len(columns[0]), len(draws), budget=MEMORY_BUDGET):
        cols = tuple(c[sl] for c in columns)

        def curve(t: Any, cols: tuple[FloatArray, ...] = cols) -> FloatArray:
            return np.asarray(np.mean(f(*params, t, *cols), axis=0), dtype=np.float64)

        if method == "periodic":
            k_periods = n_periods(horizon, discount_rate, discount_period)
            out[sl] = periodic_payback_time(
                curve, target[sl], k_periods, discount_period, discount_rate, total[sl]
            )
        else:
            delta = discount_delta(discount_rate, discount_period)
            out[sl] = continuous_payback_time(curve, target[sl], horizon, delta, time_scale(md), total[sl])
    return out


def _clv_over_draws(
    md: ModelDraws,
    s_md: ModelDraws,
    t_draws: FloatArray,
    s_draws: FloatArray,
    columns: tuple[FloatArray, ...],
    x_m: tuple[FloatArray, ...],
    value_args: tuple[float, float, float, str],
    quantiles: tuple[float, float],
    *,
    bound: bool = True,
) -> list[FloatArray]:
    """Mean spend, mean discounted purchases and CLV quantiles per customer over paired parameter draws.

    A transaction model with covariates and few covariate patterns is valued pattern by pattern: each
    pattern's customers share their parameters, so each gets the shared per-(x, T) table below
    (``bound=False`` marks such a call: ``t_draws`` are then the pattern's own baseline draws and
    ``columns`` its data columns).

    Customers sharing (x, t_x, T, m_x) share every value and are evaluated once. Where the model factors
    its expectation as P(alive) times a factor in (x, T) (:func:`_discounted_purchases`), the discounted
    factor is computed for all draws once per distinct (x, T), in blocks of draws; each chunk of
    customers then only multiplies P(alive), that factor and the spend, and takes quantiles. Memory stays
    bounded by the chunk size (about 2^21 values) and the (draws x distinct (x, T)) table, whose blocks
    of draws run on :func:`~clvlab.draws.thread_map`.
    """
    n_draws = len(t_draws)
    if bound and md.has_covariates:
        by_pattern = _clv_by_pattern(md, s_md, t_draws, s_draws, columns, x_m, value_args, quantiles)
        if by_pattern is not None:
            return by_pattern
    rows = distinct_rows(*columns, *x_m, repeats=n_draws)
    if rows is not None:
        columns, x_m = tuple(c[rows[0]] for c in columns), tuple(c[rows[0]] for c in x_m)
    n = len(columns[0])
    t_params = tuple(t_draws[:, [j]] for j in range(t_draws.shape[1]))
    s_params = tuple(s_draws[:, [j]] for j in range(s_draws.shape[1]))
    # Per-customer parameters (covariates) have no shared per-(x, T) table.
    per_age = None if bound and md.has_covariates else _per_age_table(md, t_draws, columns, value_args)
    discounted = _discounted_over(md, value_args) if bound else _discounted_unbound(md, value_args)
    spend_fn = s_md.bind(conditional_expected_spend)
    out = [np.empty(n) for _ in range(4)]  # spend, discounted, lower, upper
    for sl in chunks(n, n_draws, budget=MEMORY_BUDGET):
        cols = tuple(c[sl] for c in columns)
        spend = spend_fn(*s_params, *(c[sl] for c in x_m))
        s_vals = np.broadcast_to(spend, (n_draws, len(cols[0])))
        if per_age is None:
            d_vals = np.broadcast_to(discounted(*t_params, *cols), (n_draws, len(cols[0])))
        else:
            table, code = per_age
            p_alive = np.asarray(md.formulas.p_alive(*t_params, *cols), dtype=np.float64)  # unbound here
            d_vals = p_alive * table[:, code[sl]]
        out[0][sl], out[1][sl] = s_vals.mean(axis=0), d_vals.mean(axis=0)
        out[2][sl], out[3][sl] = np.quantile(s_vals * d_vals, quantiles, axis=0)
    return [v[rows[1]] for v in out] if rows is not None else out


#: Up to this many covariate patterns, CLV bounds are computed pattern by pattern.
_MAX_PATTERNS = 256


def _clv_by_pattern(
    md: ModelDraws,
    s_md: ModelDraws,
    t_draws: FloatArray,
    s_draws: FloatArray,
    columns: tuple[FloatArray, ...],
    x_m: tuple[FloatArray, ...],
    value_args: tuple[float, float, float, str],
    quantiles: tuple[float, float],
) -> list[FloatArray] | None:
    """:func:`_clv_over_draws` one covariate pattern at a time (``None`` for too many patterns)."""
    n_data = len(md.mle.data_columns)
    z = np.column_stack(columns[n_data:])
    patterns, code = np.unique(z, axis=0, return_inverse=True)
    code = code.reshape(-1)
    if len(patterns) > _MAX_PATTERNS:
        return None
    baselines = md.bind(lambda *params: params)
    t_params = tuple(t_draws[:, [j]] for j in range(t_draws.shape[1]))
    n = len(code)
    out = [np.empty(n) for _ in range(4)]
    for p, zp in enumerate(patterns):
        rows = code == p
        base = baselines(*t_params, *zp)
        draws = np.column_stack(
            [np.broadcast_to(np.asarray(b, dtype=np.float64), (len(t_draws), 1)) for b in base]
        )
        part = _clv_over_draws(
            md,
            s_md,
            draws,
            s_draws,
            tuple(c[rows] for c in columns[:n_data]),
            tuple(c[rows] for c in x_m),
            value_args,
            quantiles,
            bound=False,
        )
        for i in range(4):
            out[i][rows] = part[i]
    return out


def _discounted_unbound(
    md: ModelDraws, value_args: tuple[float, float, float, str]
) -> Callable[..., FloatArray]:
    """Discounted expected purchases of baseline parameters and data columns (no covariates applied)."""
    k = len(md.mle.param_names)

    def discounted(*args: Any) -> FloatArray:
        return _discounted_purchases(md, args[:k], args[k:], *value_args)

    return discounted


def _per_age_table(
    md: ModelDraws,
    draws: FloatArray,
    columns: tuple[FloatArray, ...],
    value_args: tuple[float, float, float, str],
) -> tuple[FloatArray, npt.NDArray[np.intp]] | None:
    """Discounted expected purchases if alive, (draws x distinct (x, T)), and each row's (x, T) code.

    ``None`` where the model has no such factor or the closed form (Pareto/NBD DERT) applies.
    """
    formulas = md.formulas
    horizon, discount_rate, discount_period, method = value_args
    if not isinstance(formulas, IfAliveFormulas) or _closed_form(formulas, horizon, method):
        return None
    if_alive = formulas.expected_purchases_if_alive
    x, _, big_t = columns
    rows = distinct_rows(x, big_t, repeats=len(draws))
    if rows is None:
        rows = (np.arange(len(x)), np.arange(len(x)))
    x_d, t_d = x[rows[0]], big_t[rows[0]]
    table = np.empty((len(draws), len(x_d)))
    block = max(1, _TABLE_BLOCK_VALUES // (max(len(x_d), 1) * thread_count()))

    def fill(start: int) -> None:  # each block writes its own rows of the table
        part = draws[start : start + block]
        params = tuple(part[:, [j]] for j in range(part.shape[1]))

        def alive(t: Any) -> FloatArray:
            return np.asarray(if_alive(*params, t, x_d, t_d), dtype=np.float64)

        table[start : start + block] = _discount(md, alive, horizon, discount_rate, discount_period, method)

    for _ in thread_map(fill, range(0, len(draws), block)):
        pass
    return table, rows[1]
