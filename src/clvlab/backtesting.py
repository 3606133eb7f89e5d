r"""Backtests: models and simple baselines scored on rolling calibration / holdout splits of one log.

One calibration / holdout split is one draw: a season, a campaign or a few large customers can decide
it. :func:`backtest` repeats the comparison at several *origins* (calibration ends) over the same log,
with a holdout of fixed length after each, and scores every forecaster with the holdout metrics of
:func:`clvlab.evaluate` (computed by :func:`clvlab.evaluation.holdout_metrics`).

Forecasters
-----------
* Each model: a fresh copy (``type(model)(**model.get_params())``) fitted on the origin's calibration
  summary, with a fresh copy of the spend model (Gamma-Gamma by default) for value; scored by
  :func:`clvlab.evaluate` itself.
* ``"simple"``, the spreadsheet formula of :func:`clvlab.describe_customers` (average order value x
  purchase frequency x lifespan) on the calibration log, projected over the holdout as
  :func:`clvlab.compare_simple_clv` does: value per period x :math:`\sum_{t=1}^{h} r^t`, with h the
  holdout in periods and r the calibration retention rate; purchases: orders per period x the same sum.
* ``"last_period"``, the last period repeated: each customer's purchase occasions and spend in the last
  stretch of calibration as long as the holdout, (origin - holdout, origin], forecast for the holdout.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from clvlab._types import FloatArray
from clvlab.data._input import day_to_timestamp, time_unit_days, to_day
from clvlab.data.summary import calibration_holdout_split, read_occasions
from clvlab.describe import PERIOD_DAYS, _simple_horizon_factor, describe_customers
from clvlab.errors import DataError
from clvlab.evaluation import evaluate, holdout_metrics

__all__ = ["BASELINES", "backtest", "backtest_wide"]

#: The baselines :func:`backtest` scores beside the models (see :mod:`clvlab.backtesting`).
BASELINES = ("simple", "last_period")


def _clone(model: Any, name: str) -> Any:
    get_params = getattr(model, "get_params", None)
    if not callable(get_params):
        raise TypeError(
            f"{name} must be a clvlab model instance (its get_params() gives the copy fitted at each "
            f"origin), got {type(model).__name__}"
        )
    return type(model)(**get_params())


def _named(models: Any) -> list[tuple[str, Any]]:
    if models is None:
        from clvlab.models import BetaGeo, ParetoNBD

        return [("BG/NBD", BetaGeo()), ("Pareto/NBD", ParetoNBD())]
    named: list[tuple[str, Any]] = []
    if isinstance(models, Mapping):
        named = [(str(k), v) for k, v in models.items()]
    else:
        seen: dict[str, int] = {}
        for model in models:
            base = type(model).__name__
            seen[base] = seen.get(base, 0) + 1
            named.append((base if seen[base] == 1 else f"{base} ({seen[base]})", model))
    clash = [name for name, _ in named if name in BASELINES]
    if clash:
        raise DataError(f"model name(s) {clash} are the baselines' names; name the models otherwise")
    return named


def _origins(
    calibration_ends: Iterable[Any] | None,
    n_origins: int | None,
    step: float | None,
    first_day: int,
    last_day: int,
    holdout_days: int,
    unit_days: float,
    date_format: str | None,
) -> list[int]:
    if calibration_ends is not None:
        if n_origins is not None or step is not None:
            raise DataError("pass calibration_ends, or n_origins (and step), not both")
        if isinstance(calibration_ends, str):
            raise DataError("calibration_ends must be a list of dates, e.g. ['1997-06-30', '1997-09-30']")
        days = [to_day(end, "calibration_ends", date_format) for end in calibration_ends]
    else:
        if n_origins is None:
            raise DataError("pass calibration_ends=[...] or n_origins= (with step= in time units)")
        if isinstance(n_origins, bool) or not isinstance(n_origins, int) or n_origins < 1:
            raise DataError(f"n_origins must be a positive whole number, got {n_origins!r}")
        step_days = holdout_days if step is None else round(float(step) * unit_days)
        if not step_days >= 1:
            raise DataError(f"step must be at least one day in time units, got {step!r}")
        last = last_day - holdout_days
        days = [last - k * step_days for k in range(n_origins - 1, -1, -1)]
    if not days:
        raise DataError("calibration_ends is empty")
    if len(set(days)) != len(days):
        raise DataError("calibration_ends has repeated dates")
    days = sorted(days)
    for day in days:
        if day <= first_day or day + holdout_days > last_day:
            raise DataError(
                f"origin {day_to_timestamp(day).date()} leaves no room: a calibration end must lie after "
                f"the log's first day ({day_to_timestamp(first_day).date()}) and at least the holdout "
                f"({holdout_days} days) before its last day ({day_to_timestamp(last_day).date()})"
            )
    return days


def _tidy(origin: pd.Timestamp, name: str, metrics: Mapping[str, float]) -> list[dict[str, Any]]:
    return [{"origin": origin, "model": name, "metric": k, "value": float(v)} for k, v in metrics.items()]


def backtest(
    transactions: Any,
    *,
    models: Mapping[str, Any] | Sequence[Any] | None = None,
    spend_model: Any = None,
    calibration_ends: Iterable[Any] | None = None,
    n_origins: int | None = None,
    step: float | None = None,
    holdout: float,
    time_unit: str = "W",
    customer_id: str = "customer_id",
    datetime: str = "date",
    monetary_value: str = "amount",
    baselines: Sequence[str] = BASELINES,
    period: str = "Q",
    observation_end: Any = None,
    drop_after_end: bool = False,
    allow_returns: bool = False,
    date_format: str | None = None,
) -> pd.DataFrame:
    """Score models and simple baselines on rolling calibration / holdout splits of one log.

    Parameters
    ----------
    transactions : pandas.DataFrame or polars.DataFrame
        The transaction log; never modified.
    models : mapping or sequence of clvlab models, optional
        Unfitted (or fitted: only their hyperparameters are used) transaction models; a mapping gives
        their names. Default: ``{"BG/NBD": BetaGeo(), "Pareto/NBD": ParetoNBD()}``. Each is copied
        through ``get_params()`` and fitted afresh at every origin.
    spend_model : clvlab spend model, optional
        Copied and fitted at every origin for the value metrics; default :class:`clvlab.GammaGamma`.
    calibration_ends : sequence of date-like, optional
        The origins. Or ``n_origins``:
    n_origins : int, optional
        The number of origins, the last one ``holdout`` before the log's last day and the others ``step``
        apart before it.
    step : float, optional
        Time between origins in ``time_unit`` (default: ``holdout``, so holdouts do not overlap).
    holdout : float
        Length of every holdout, in ``time_unit`` (rounded to whole days).
    time_unit : str
        The models' time unit (``"D"``, ``"W"``, ``"M"``, ``"Y"``).
    customer_id, datetime, monetary_value : str
        Column names of the log.
    baselines : sequence of str
        Which of :data:`BASELINES` to score (``()``: none).
    period : {"D", "W", "M", "Q", "Y"}
        Period of the simple formula (:func:`clvlab.describe_customers`); the calibration log before each
        origin must hold two complete periods.
    observation_end, drop_after_end, allow_returns, date_format
        As in :func:`clvlab.calibration_holdout_split`: the log's last day (default: its last date)
        and how transactions after it, returns and string dates are treated.

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per origin, forecaster and metric, with columns ``origin`` (the calibration end, a
        Timestamp), ``model`` (the model's name, ``"simple"`` or ``"last_period"``), ``metric`` (the
        names of :func:`clvlab.evaluate`: ``n_customers``, ``actual_purchases``, ..., ``gini``,
        ``top_decile_lift``) and ``value``. :func:`backtest_wide` pivots it. ``attrs``: ``holdout``,
        ``time_unit``, ``period``, ``origins``.

    Notes
    -----
    Every forecaster is judged on the same customers at an origin: those acquired by then (the split of
    :func:`clvlab.calibration_holdout_split`); later customers have nothing to forecast. Model fits may
    warn (e.g. :class:`clvlab.UnidentifiedWarning` on a short calibration): the warnings reach the
    caller. The models' value forecasts are undiscounted, as in :func:`clvlab.evaluate`.

    Examples
    --------
    >>> import clvlab
    >>> log = clvlab.datasets.load_cdnow_transactions()
    >>> bt = clvlab.backtest(log, models={"BG/NBD": clvlab.BetaGeo()}, holdout=26, time_unit="W",
    ...                      calibration_ends=["1997-06-30", "1997-09-30"])
    >>> clvlab.backtest_wide(bt, "gini").round(3)
    origin       1997-06-30  1997-09-30   mean
    model
    BG/NBD            0.577       0.654  0.615
    simple            0.625       0.692  0.659
    last_period       0.616       0.647  0.632
    """
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown or isinstance(baselines, str):
        raise DataError(f"baselines must be a sequence of {list(BASELINES)}, got {baselines!r}")
    if period not in PERIOD_DAYS:
        raise DataError(f"period must be one of {list(PERIOD_DAYS)}, got {period!r}")
    named = _named(models)
    if not named and not baselines:
        raise DataError("nothing to backtest: pass models or baselines")
    for name, model in named:
        _clone(model, name)
    if spend_model is None:
        from clvlab.models import GammaGamma

        spend_model = GammaGamma()
    _clone(spend_model, "spend_model")
    unit_days = time_unit_days(time_unit)
    if not (isinstance(holdout, int | float) and not isinstance(holdout, bool) and math.isfinite(holdout)):
        raise DataError(f"holdout must be a finite length in time units, got {holdout!r}")
    holdout_days = round(float(holdout) * unit_days)
    if holdout_days < 1:
        raise DataError(f"holdout must be at least one day, got {holdout!r} {time_unit}")
    reading: dict[str, Any] = {
        "customer_id": customer_id,
        "datetime": datetime,
        "allow_returns": allow_returns,
        "date_format": date_format,
    }
    full = read_occasions(
        transactions,
        monetary_value=monetary_value,
        observation_end=observation_end,
        drop_after_end=drop_after_end,
        **reading,
    )
    origins = _origins(
        calibration_ends,
        n_origins,
        step,
        int(full.first.min()),
        full.end,
        holdout_days,
        unit_days,
        date_format,
    )
    rows: list[dict[str, Any]] = []
    for day in origins:
        origin = day_to_timestamp(day)
        split = calibration_holdout_split(
            transactions,
            calibration_end=origin,
            observation_end=day_to_timestamp(day + holdout_days),
            monetary_value=monetary_value,
            time_unit=time_unit,
            drop_after_end=True,
            **reading,
        )
        actual = split["frequency_holdout"].to_numpy(dtype=np.float64)
        actual_value = actual * split["monetary_value_holdout"].to_numpy(dtype=np.float64)
        spend = _clone(spend_model, "spend_model").fit(split) if named else None
        for name, model in named:
            fitted = _clone(model, name).fit(split)
            metrics = evaluate(fitted, split, spend_model=spend)["value"]
            rows += _tidy(origin, name, {str(k): float(v) for k, v in metrics.items()})
        if "simple" in baselines:
            purchases, value = simple_forecast(
                transactions, origin, holdout_days, split.index, period, monetary_value, reading
            )
            rows += _tidy(origin, "simple", holdout_metrics(purchases, actual, value, actual_value))
        if "last_period" in baselines:
            purchases, value = last_period_forecast(
                transactions, day, holdout_days, split.index, monetary_value, reading
            )
            rows += _tidy(origin, "last_period", holdout_metrics(purchases, actual, value, actual_value))
    out = pd.DataFrame(rows, columns=["origin", "model", "metric", "value"])
    out.attrs.update(
        holdout=float(holdout),
        holdout_days=holdout_days,
        time_unit=time_unit,
        period=period,
        origins=[day_to_timestamp(d) for d in origins],
    )
    return out


def simple_forecast(
    transactions: Any,
    origin: pd.Timestamp,
    holdout_days: int,
    index: pd.Index,
    period: str,
    monetary_value: str,
    reading: Mapping[str, Any],
) -> tuple[FloatArray, FloatArray]:
    """The simple formula's holdout purchases and value per customer of ``index`` (see the module).

    Value: revenue per period x sum_{t=1}^{h} r^t (as :func:`clvlab.compare_simple_clv`'s
    ``simple_holdout_value``); purchases: orders per period x the same sum.
    """
    desc = describe_customers(
        transactions,
        monetary_value=monetary_value,
        period=period,
        observation_end=origin,
        drop_after_end=True,
        **reading,
    )
    customers = desc.customers.reindex(index)
    factor = _simple_horizon_factor(float(desc.metrics["retention_rate"]), holdout_days / PERIOD_DAYS[period])
    value: FloatArray = (customers["revenue"] / customers["exposure"]).to_numpy(dtype=np.float64) * factor
    purchases: FloatArray = customers["purchase_frequency"].to_numpy(dtype=np.float64) * factor
    return purchases, value


def last_period_forecast(
    transactions: Any,
    origin_day: int,
    holdout_days: int,
    index: pd.Index,
    monetary_value: str,
    reading: Mapping[str, Any],
) -> tuple[FloatArray, FloatArray]:
    """Purchase occasions and spend of each customer of ``index`` in (origin - holdout, origin].

    Occasions are counted as in :func:`clvlab.rfm_summary` (one per customer and day, the first purchase
    included when it falls in the window); spend is the customer's revenue to the origin minus their
    revenue to the window's start.
    """
    start = origin_day - holdout_days  # the window is (start, origin]
    occ = read_occasions(
        transactions,
        monetary_value=monetary_value,
        observation_end=day_to_timestamp(origin_day),
        drop_after_end=True,
        **reading,
    )
    in_window = occ.day > start
    counts = np.bincount(occ.occasion_customer[in_window], minlength=len(occ.ids)).astype(np.float64)
    assert occ.revenue is not None
    revenue = pd.Series(occ.revenue, index=occ.ids)
    before = pd.Series(0.0, index=occ.ids)
    if int(occ.first.min()) <= start:
        earlier = read_occasions(
            transactions,
            monetary_value=monetary_value,
            observation_end=day_to_timestamp(start),
            drop_after_end=True,
            **reading,
        )
        assert earlier.revenue is not None
        before = pd.Series(earlier.revenue, index=earlier.ids).reindex(occ.ids, fill_value=0.0)
    purchases = np.asarray(pd.Series(counts, index=occ.ids).reindex(index), dtype=np.float64)
    value = np.asarray((revenue - before).reindex(index), dtype=np.float64)
    return purchases, value


def backtest_wide(results: pd.DataFrame, metric: str | None = None) -> pd.DataFrame:
    """A wide view of :func:`backtest`'s tidy table.

    Parameters
    ----------
    results : pandas.DataFrame
        The output of :func:`backtest`.
    metric : str, optional
        One metric: forecasters as rows (in the order they were scored), origins as columns, and their
        ``mean`` over the origins. Without it: every metric as a column, rows indexed by
        (``origin``, ``model``).

    Returns
    -------
    pandas.DataFrame
    """
    missing = [c for c in ("origin", "model", "metric", "value") if c not in results.columns]
    if missing:
        raise DataError(f"results lacks column(s) {missing}; pass the output of clvlab.backtest")
    models = list(dict.fromkeys(results["model"]))
    if metric is None:
        wide = results.pivot_table(index=["origin", "model"], columns="metric", values="value", sort=False)
        wide.columns.name = None
        return wide
    rows = results[results["metric"] == metric]
    if rows.empty:
        raise DataError(f"results have no metric {metric!r}; they have {sorted(set(results['metric']))}")
    wide = rows.pivot_table(index="model", columns="origin", values="value", sort=False).reindex(
        [m for m in models if m in set(rows["model"])]
    )
    wide.columns = pd.Index([pd.Timestamp(ts).date() for ts in wide.columns], name="origin")
    wide["mean"] = wide.mean(axis=1)
    wide.attrs["metric"] = metric
    return wide
