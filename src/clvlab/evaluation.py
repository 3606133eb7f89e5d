r"""Holdout evaluation and model comparison.

A calibration/holdout split (:func:`clvlab.calibration_holdout_split`) holds, per customer, the
calibration summary plus what the customer did afterwards: ``frequency_holdout`` purchase occasions of
mean value ``monetary_value_holdout`` over ``duration_holdout`` time units. The models predict from the
calibration summary; these functions compare.

Definitions
-----------
* Predicted holdout purchases of customer *i*: the model's conditional expectation
  :math:`E[X(T_i, T_i + \tau_i) \mid x_i, t_{x,i}, T_i]` with :math:`\tau_i` = ``duration_holdout``
  (posterior mean for a :mod:`clvlab.bayes` model).
* Actual holdout value: the customer's total spend in the holdout,
  ``frequency_holdout * monetary_value_holdout`` (the split records the *mean* value per holdout
  occasion, so the product is the total). Predicted holdout value: predicted holdout purchases times the
  Gamma-Gamma expected spend per purchase :math:`E[M \mid x_i, \bar m_i]` (undiscounted, over the same
  horizon).
* Gains curve: customers ranked by predicted value (highest first) against the cumulative share of the
  actual value they hold. Customers with equal predictions form one block, along which the curve is
  linear (the average over every order of the tied customers), so the curve does not depend on row order.
* Gini coefficient (normalised): the area between the gains curve and the diagonal divided by that area
  for the perfect ranking (customers sorted by their actual value); 1 for a perfect ranking, 0 for a
  random one, negative for one worse than random (as in Wang, Liu & Miao 2019, "A Deep Probabilistic
  Model for Customer Lifetime Value Prediction", arXiv:1912.07753).
* Top-decile lift: the share of the actual value held by the top 10% of customers by prediction (read
  off the gains curve) divided by 0.10.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from clvlab._types import FloatArray
from clvlab.draws import HasDraws, SpendPredictor, TransactionPredictor, model_draws
from clvlab.errors import DataError

__all__ = [
    "actual_holdout_value",
    "compare_models",
    "evaluate",
    "gains_curve",
    "gini",
    "holdout_metrics",
    "likelihood_ratio_test",
    "predict_holdout_purchases",
    "predict_holdout_value",
    "top_share_lift",
]

_DESCRIPTIONS = {
    "n_customers": "customers in the calibration/holdout split",
    "actual_purchases": "total holdout purchases (actual)",
    "predicted_purchases": "total holdout purchases (predicted: sum of conditional expectations)",
    "purchases_relative_error": "predicted / actual total holdout purchases - 1",
    "mae": "mean absolute error of holdout purchases per customer",
    "rmse": "root mean squared error of holdout purchases per customer",
    "bias": "mean (predicted - actual) holdout purchases per customer",
    "spearman": "Spearman rank correlation of predicted and actual holdout purchases",
    "actual_value": "total holdout value (actual: frequency_holdout x monetary_value_holdout)",
    "predicted_value": "total holdout value (predicted purchases x expected spend)",
    "value_relative_error": "predicted / actual total holdout value - 1",
    "value_mae": "mean absolute error of holdout value per customer",
    "value_rmse": "root mean squared error of holdout value per customer",
    "value_bias": "mean (predicted - actual) holdout value per customer",
    "value_spearman": "Spearman rank correlation of predicted and actual holdout value",
    "gini": "normalised Gini of the ranking by predicted value (1 perfect, 0 random)",
    "top_decile_lift": "share of holdout value in the top 10% by prediction / 0.10",
}

#: Metrics where a larger value is better (the others: smaller; bias metrics: smaller in absolute value).
_HIGHER_IS_BETTER = frozenset({"log_likelihood", "spearman", "value_spearman", "gini", "top_decile_lift"})
_ABSOLUTE = frozenset({"bias", "value_bias", "purchases_relative_error", "value_relative_error"})


# --------------------------------------------------------------------------------------------------
# Predictions and actuals over the holdout
# --------------------------------------------------------------------------------------------------
def _require(data: Any, columns: Iterable[str]) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"calibration_holdout must be a pandas DataFrame from clvlab.calibration_holdout_split, "
            f"got {type(data).__name__}"
        )
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise DataError(
            f"calibration_holdout lacks column(s) {missing}; build it with clvlab.calibration_holdout_split"
            + (" and monetary_value=..." if "monetary_value_holdout" in missing else "")
        )
    return data


def _check_transaction_model(model: TransactionPredictor, name: str = "transaction_model") -> None:
    model_draws(model, "transaction", name)


def _check_spend_model(model: HasDraws) -> None:
    model_draws(model, "spend", "spend_model")


def predict_holdout_purchases(
    transaction_model: TransactionPredictor, calibration_holdout: pd.DataFrame
) -> pd.Series:
    """Expected purchases of each customer over their own holdout period, given the calibration data.

    Parameters
    ----------
    transaction_model : transaction model
        A fitted maximum-likelihood or :mod:`clvlab.bayes` transaction model.
    calibration_holdout : pandas.DataFrame
        Output of :func:`clvlab.calibration_holdout_split` (the calibration columns and
        ``duration_holdout``).

    Returns
    -------
    pandas.Series
        ``predicted_purchases`` indexed by customer id: ``model.predict_purchases`` with
        ``t = duration_holdout`` (each distinct duration evaluated once).
    """
    _check_transaction_model(transaction_model)
    data = _require(calibration_holdout, ["duration_holdout"])
    duration = data["duration_holdout"].to_numpy(dtype=np.float64)
    out = np.empty(len(data))
    for t in np.unique(duration):
        rows = duration == t
        pred = transaction_model.predict_purchases(data[rows] if not rows.all() else data, float(t))
        out[rows] = np.asarray(pred, dtype=np.float64)
    return pd.Series(out, index=data.index, name="predicted_purchases")


def predict_holdout_value(
    transaction_model: TransactionPredictor, spend_model: SpendPredictor, calibration_holdout: pd.DataFrame
) -> pd.Series:
    """Predicted (undiscounted) holdout value: holdout purchases times expected spend per purchase.

    Returns
    -------
    pandas.Series
        ``predicted_value`` indexed by customer id.
    """
    _check_spend_model(spend_model)
    purchases = predict_holdout_purchases(transaction_model, calibration_holdout)
    spend = np.asarray(spend_model.predict_spend(calibration_holdout), dtype=np.float64)
    return pd.Series(purchases.to_numpy() * spend, index=purchases.index, name="predicted_value")


def actual_holdout_value(calibration_holdout: pd.DataFrame) -> pd.Series:
    """Each customer's total holdout spend, ``frequency_holdout * monetary_value_holdout``.

    :func:`clvlab.calibration_holdout_split` records the mean value per holdout purchase occasion
    (0 without one), so the product is the total.
    """
    data = _require(calibration_holdout, ["frequency_holdout", "monetary_value_holdout"])
    value = data["frequency_holdout"].to_numpy(dtype=np.float64) * data["monetary_value_holdout"].to_numpy(
        dtype=np.float64
    )
    return pd.Series(value, index=data.index, name="actual_value")


# --------------------------------------------------------------------------------------------------
# Ranking metrics
# --------------------------------------------------------------------------------------------------
def paired_values(predicted: Any, actual: Any) -> tuple[FloatArray, FloatArray]:
    """Predicted and actual values per customer as two aligned float arrays (Series aligned by id).

    Raises :class:`DataError` for different customers, lengths, no customers or non-finite values.
    """
    if (
        isinstance(predicted, pd.Series)
        and isinstance(actual, pd.Series)
        and not predicted.index.equals(actual.index)
    ):
        if set(predicted.index) != set(actual.index) or not predicted.index.is_unique:
            raise DataError("predicted and actual values must be indexed by the same customers")
        actual = actual.reindex(predicted.index)
    p = np.asarray(predicted, dtype=np.float64).reshape(-1)
    a = np.asarray(actual, dtype=np.float64).reshape(-1)
    if p.shape != a.shape:
        raise DataError(f"predicted ({p.size}) and actual ({a.size}) values must have the same length")
    if p.size == 0:
        raise DataError("there are no customers to evaluate")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(a))):
        raise DataError("predicted and actual values must be finite")
    return p, a


def gains_curve(predicted: Any, actual: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Cumulative share of the actual value captured by the top customers by prediction.

    Parameters
    ----------
    predicted, actual : array-like or pandas.Series
        Predicted score and actual (non-negative) value per customer; Series are aligned on the index.

    Returns
    -------
    customer_share, model, perfect : numpy.ndarray
        On the grid ``k / N``, ``k = 0 .. N``: the share of the total actual value held by the ``k``
        customers with the highest prediction (tied predictions share their block's value evenly, so the
        curve is linear across the block) and by the ``k`` customers with the highest actual value.
    """
    p, a = paired_values(predicted, actual)
    if np.any(a < 0):
        raise DataError("actual values must be non-negative for a gains curve")
    total = float(a.sum())
    if total <= 0:
        raise DataError("the actual values sum to zero: there is no value to capture")
    n = len(p)
    grid = np.arange(n + 1, dtype=np.float64)
    order = np.argsort(-p, kind="stable")
    sp, sa = p[order], a[order]
    cum = np.concatenate([[0.0], np.cumsum(sa)])
    # Block boundaries of tied predictions: the curve is exact there and linear in between.
    ends = np.flatnonzero(np.append(sp[1:] != sp[:-1], True)) + 1
    knots = np.concatenate([[0], ends])
    model = np.interp(grid, knots, cum[knots]) / total
    perfect = np.concatenate([[0.0], np.cumsum(np.sort(a)[::-1])]) / total
    return grid / n, model, perfect


def gini(predicted: Any, actual: Any) -> float:
    """Normalised Gini coefficient of the ranking by ``predicted`` of the ``actual`` values.

    ``(2 A - 1) / (2 A* - 1)`` with ``A`` the area under the gains curve (:func:`gains_curve`) and
    ``A*`` that of the perfect ranking; 1 for a perfect ranking, 0 for a random one. ``nan`` when every
    customer has the same actual value (no ranking can do better than another).
    """
    share, model, perfect = gains_curve(predicted, actual)
    area, best = _area(model, share), _area(perfect, share)
    if best - 0.5 <= 1e-15:
        return float("nan")
    return (area - 0.5) / (best - 0.5)


def _area(y: FloatArray, x: FloatArray) -> float:
    """Trapezoidal area under a piecewise-linear curve (exact for the gains curves)."""
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0)


def top_share_lift(predicted: Any, actual: Any, share: float = 0.1) -> float:
    """Lift of the top ``share`` of customers by prediction: their share of the actual value / ``share``."""
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    grid, model, _ = gains_curve(predicted, actual)
    return float(np.interp(share, grid, model)) / share


def _spearman(p: FloatArray, a: FloatArray) -> float:
    """Spearman's rho (Pearson correlation of mid-ranks); ``nan`` if either side is constant."""
    rp, ra = stats.rankdata(p), stats.rankdata(a)
    if np.ptp(rp) == 0 or np.ptp(ra) == 0:
        return float("nan")
    return float(np.corrcoef(rp, ra)[0, 1])


def _errors(predicted: FloatArray, actual: FloatArray, prefix: str) -> dict[str, float]:
    err = predicted - actual
    total_actual = float(actual.sum())
    name = "purchases" if prefix == "" else "value"
    return {
        f"actual_{name}": total_actual,
        f"predicted_{name}": float(predicted.sum()),
        f"{name}_relative_error": float(predicted.sum()) / total_actual - 1 if total_actual > 0 else np.nan,
        f"{prefix}mae": float(np.mean(np.abs(err))),
        f"{prefix}rmse": float(np.sqrt(np.mean(err**2))),
        f"{prefix}bias": float(np.mean(err)),
        f"{prefix}spearman": _spearman(predicted, actual),
    }


def holdout_metrics(
    predicted_purchases: Any,
    actual_purchases: Any,
    predicted_value: Any = None,
    actual_value: Any = None,
) -> dict[str, float]:
    """The aggregate holdout metrics of :func:`evaluate`, from any per-customer forecast.

    :func:`evaluate` computes them for a model's conditional expectations; baselines that are not models
    (the simple CLV formula, last period repeated; :func:`clvlab.backtest`) are scored by the very same
    code.

    Parameters
    ----------
    predicted_purchases, actual_purchases : array-like
        Holdout purchases per customer, in the same customer order.
    predicted_value, actual_value : array-like, optional
        Holdout value per customer; both or neither.

    Returns
    -------
    dict
        ``n_customers``, ``actual_purchases``, ``predicted_purchases``, ``purchases_relative_error``,
        ``mae``, ``rmse``, ``bias``, ``spearman``; with the values also ``actual_value``,
        ``predicted_value``, ``value_relative_error``, ``value_mae``, ``value_rmse``, ``value_bias``,
        ``value_spearman``, ``gini`` and ``top_decile_lift`` (definitions in :mod:`clvlab.evaluation`).
    """
    pred, actual = paired_values(predicted_purchases, actual_purchases)
    metrics: dict[str, float] = {"n_customers": float(len(pred))}
    metrics |= _errors(pred, actual, "")
    if (predicted_value is None) != (actual_value is None):
        raise ValueError("pass both predicted_value and actual_value, or neither")
    if predicted_value is not None:
        value_pred, value_actual = paired_values(predicted_value, actual_value)
        if len(value_pred) != len(pred):
            raise DataError("the value and purchase forecasts must cover the same customers")
        metrics |= _errors(value_pred, value_actual, "value_")
        metrics["gini"] = gini(value_pred, value_actual)
        metrics["top_decile_lift"] = top_share_lift(value_pred, value_actual, 0.1)
    return metrics


# --------------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------------
def evaluate(
    transaction_model: TransactionPredictor,
    calibration_holdout: pd.DataFrame,
    *,
    spend_model: SpendPredictor | None = None,
    per_customer: bool = False,
) -> pd.DataFrame:
    """Holdout metrics of a fitted model: how well it predicts what customers did after calibration.

    Parameters
    ----------
    transaction_model : transaction model
        Fitted on the calibration part of ``calibration_holdout`` (maximum likelihood or
        :mod:`clvlab.bayes`; Bayesian predictions are posterior means).
    calibration_holdout : pandas.DataFrame
        Output of :func:`clvlab.calibration_holdout_split`, in the model's time unit.
    spend_model : GammaGamma, optional
        With a fitted spend model, value metrics follow: the split must have been made with
        ``monetary_value=...``.
    per_customer : bool
        Return one row per customer instead of the aggregate metrics.

    Returns
    -------
    pandas.DataFrame
        Aggregate (default): indexed by ``metric`` with columns ``value`` and ``description``:
        ``n_customers``, ``actual_purchases``, ``predicted_purchases``, ``purchases_relative_error``,
        ``mae``, ``rmse``, ``bias`` (mean predicted minus actual), ``spearman``; with ``spend_model`` also
        ``actual_value``, ``predicted_value``, ``value_relative_error``, ``value_mae``, ``value_rmse``,
        ``value_bias``, ``value_spearman``, ``gini`` and ``top_decile_lift`` (see :mod:`clvlab.evaluation`
        for the definitions).

        ``per_customer=True``: indexed by customer id with ``actual_purchases``, ``predicted_purchases``
        and ``error``; with ``spend_model`` also ``actual_value``, ``expected_spend``,
        ``predicted_value`` and ``value_error``.

    Notes
    -----
    The predicted purchases are the conditional expectations E[X(T, T + duration_holdout) | x, t_x, T]
    (e.g. Fader, Hardie & Lee 2005, eq. 10 for the BG/NBD), whose sum is compared with the actual holdout
    purchases (FHL 2005, section 4: 1,882 actual against about 1,654 expected on CDNOW).

    Examples
    --------
    >>> import clvlab
    >>> log = clvlab.datasets.load_cdnow_transactions()
    >>> split = clvlab.calibration_holdout_split(log, calibration_end="1997-09-30",
    ...                                          observation_end="1998-06-30", time_unit="W")
    >>> bg = clvlab.BetaGeo.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, time_unit="W")
    >>> ev = clvlab.evaluate(bg, split)
    >>> ev.loc[["actual_purchases", "predicted_purchases"], "value"].round(1).tolist()
    [1882.0, 1653.9]
    """
    data = _require(calibration_holdout, ["frequency_holdout", "duration_holdout"])
    predicted = predict_holdout_purchases(transaction_model, data)
    actual = data["frequency_holdout"].to_numpy(dtype=np.float64)
    pred = predicted.to_numpy()
    spend = value_pred = value_actual = None
    if spend_model is not None:
        _check_spend_model(spend_model)
        value_actual = actual_holdout_value(data).to_numpy()
        spend = np.asarray(spend_model.predict_spend(data), dtype=np.float64)
        value_pred = pred * spend
    if per_customer:
        frame = pd.DataFrame(
            {"actual_purchases": actual, "predicted_purchases": pred, "error": pred - actual},
            index=data.index,
        )
        if value_pred is not None and value_actual is not None:
            frame["actual_value"] = value_actual
            frame["expected_spend"] = spend
            frame["predicted_value"] = value_pred
            frame["value_error"] = value_pred - value_actual
        frame.attrs["time_unit"] = data.attrs.get("time_unit")
        return frame
    metrics = holdout_metrics(pred, actual, value_pred, value_actual)
    out = pd.DataFrame(
        {"value": list(metrics.values()), "description": [_DESCRIPTIONS[k] for k in metrics]},
        index=pd.Index(list(metrics), name="metric"),
    )
    out.attrs.update(
        model=type(transaction_model).__name__,
        time_unit=data.attrs.get("time_unit"),
        duration_holdout=float(data["duration_holdout"].max()),
    )
    return out


def _log_likelihood(model: object, data: pd.DataFrame) -> tuple[float, int]:
    """Log-likelihood of the calibration columns at the model's parameters, and the number of rows.

    At the estimate, or a Bayesian model's posterior means; over the rows the model's likelihood covers.
    """
    return model_draws(model).mle.log_likelihood(data)


def _names(
    models: Mapping[str, TransactionPredictor] | Iterable[TransactionPredictor],
) -> list[tuple[str, TransactionPredictor]]:
    if isinstance(models, Mapping):
        return [(str(k), v) for k, v in models.items()]
    out: list[tuple[str, TransactionPredictor]] = []
    seen: dict[str, int] = {}
    for model in models:
        base = model_draws(model).name
        seen[base] = seen.get(base, 0) + 1
        out.append((base if seen[base] == 1 else f"{base} ({seen[base]})", model))
    return out


def compare_models(
    models: Mapping[str, TransactionPredictor] | Iterable[TransactionPredictor],
    calibration_holdout: pd.DataFrame,
    *,
    spend_model: SpendPredictor | None = None,
    sort_by: str = "rmse",
    ascending: bool | None = None,
) -> pd.DataFrame:
    """One table comparing candidate transaction models on fit and holdout accuracy.

    Parameters
    ----------
    models : sequence or mapping of transaction models
        Fitted candidates (maximum likelihood or :mod:`clvlab.bayes`). A mapping supplies the row names;
        otherwise the class names are used (numbered when repeated).
    calibration_holdout : pandas.DataFrame
        Output of :func:`clvlab.calibration_holdout_split`; its calibration columns are the data the
        log-likelihood is computed on, the holdout columns those the metrics compare with.
    spend_model : GammaGamma, optional
        Adds the value metrics of :func:`evaluate` (the same spend model for every candidate).
    sort_by : str
        Column to sort by (``"rmse"`` by default; any column of the result).
    ascending : bool, optional
        Sort direction; by default the best model comes first: ascending for errors and information
        criteria, descending for ``log_likelihood``, ``spearman``, ``gini`` and ``top_decile_lift``,
        ascending in absolute value for ``bias`` and the relative errors.

    Returns
    -------
    pandas.DataFrame
        Indexed by model name, with ``n_params``, ``log_likelihood``, ``aic`` (2k - 2 LL), ``bic``
        (k ln N - 2 LL, N customers) and the holdout metrics of :func:`evaluate` as columns. Where a
        maximum-likelihood candidate nests another (the same model, its covariate coefficients a superset
        of the other's, e.g. with against without covariates), ``lr_against``, ``lr_statistic``, ``lr_df``
        and ``lr_p_value`` give the likelihood-ratio test (:func:`likelihood_ratio_test`) against the
        largest model it nests; empty otherwise.

    Notes
    -----
    The log-likelihood is recomputed for every model on the calibration columns of
    ``calibration_holdout`` at its parameters (the estimate; the posterior mean for a Bayesian model),
    so all candidates are scored on the same data. Information criteria compare models fitted to the
    same customers only.
    """
    named = _names(models)
    if not named:
        raise ValueError("compare_models needs at least one model")
    rows = {}
    for name, model in named:
        _check_transaction_model(model, name)
        ll, n = _log_likelihood(model, calibration_holdout)
        k = len(model_draws(model).param_names)
        row: dict[str, float] = {
            "n_params": float(k),
            "log_likelihood": ll,
            "aic": 2 * k - 2 * ll,
            "bic": k * np.log(n) - 2 * ll,
        }
        metrics = evaluate(model, calibration_holdout, spend_model=spend_model)["value"]
        row |= {str(key): float(val) for key, val in metrics.items()}
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    _add_likelihood_ratio_tests(table, dict(named), calibration_holdout)
    table["n_params"] = table["n_params"].astype(np.int64)
    table["n_customers"] = table["n_customers"].astype(np.int64)
    if sort_by not in table.columns:
        raise ValueError(f"sort_by must be one of {list(table.columns)}, got {sort_by!r}")
    if ascending is None:
        ascending = sort_by not in _HIGHER_IS_BETTER
    key = (lambda s: s.abs()) if sort_by in _ABSOLUTE else None
    return table.sort_values(sort_by, ascending=ascending, key=key, kind="stable")


def _nests(full: object, restricted: object) -> bool:
    """Whether maximum-likelihood model ``restricted`` is ``full`` with some coefficients fixed at 0."""
    fm, rm = model_draws(full), model_draws(restricted)
    if fm.bayesian or rm.bayesian or type(fm.mle) is not type(rm.mle):
        return False
    f_names, r_names = set(fm.param_names), set(rm.param_names)
    return r_names < f_names


def likelihood_ratio_test(
    restricted: TransactionPredictor | SpendPredictor,
    full: TransactionPredictor | SpendPredictor,
    data: pd.DataFrame,
) -> dict[str, float]:
    """Likelihood-ratio test of a maximum-likelihood model against one that nests it.

    ``full`` must be the same model as ``restricted`` with more covariate coefficients (e.g. with against
    without covariates), both fitted to ``data`` (a summary, or the calibration columns of a
    calibration/holdout split). The statistic 2 (LL_full - LL_restricted), with the log-likelihoods
    recomputed on ``data``, is asymptotically chi-squared with as many degrees of freedom as the extra
    coefficients under the hypothesis that they are all zero (Wilks 1938).

    Returns
    -------
    dict
        ``statistic``, ``df`` and ``p_value``.

    Raises
    ------
    ValueError
        When ``restricted`` is not nested in ``full`` (another model, a Bayesian model, or covariates
        that are not a subset).
    """
    if not _nests(full, restricted):
        raise ValueError(
            "likelihood_ratio_test needs two maximum-likelihood fits of the same model, the restricted "
            "one's parameters a subset of the full one's (e.g. without and with covariates)"
        )
    ll_full, _ = _log_likelihood(full, data)
    ll_restricted, _ = _log_likelihood(restricted, data)
    df = len(model_draws(full).param_names) - len(model_draws(restricted).param_names)
    statistic = max(2.0 * (ll_full - ll_restricted), 0.0)
    return {"statistic": statistic, "df": float(df), "p_value": float(stats.chi2.sf(statistic, df))}


def _add_likelihood_ratio_tests(
    table: pd.DataFrame, models: Mapping[str, TransactionPredictor], data: pd.DataFrame
) -> None:
    """Fill the likelihood-ratio columns of :func:`compare_models` for nested pairs."""
    against: list[object] = []
    columns: dict[str, list[float]] = {"lr_statistic": [], "lr_df": [], "lr_p_value": []}
    for name in table.index:
        nested = [
            (len(model_draws(other).param_names), other_name)
            for other_name, other in models.items()
            if other_name != name and _nests(models[name], other)
        ]
        if not nested:
            against.append(None)
            for values in columns.values():
                values.append(np.nan)
            continue
        _, reference = max(nested)
        test = likelihood_ratio_test(models[reference], models[name], data)
        against.append(reference)
        columns["lr_statistic"].append(test["statistic"])
        columns["lr_df"].append(test["df"])
        columns["lr_p_value"].append(test["p_value"])
    table["lr_against"] = pd.Series(against, index=table.index, dtype=object)
    for key, values in columns.items():
        table[key] = values
