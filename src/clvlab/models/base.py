"""The estimator contract shared by every maximum-likelihood model.

A model module declares its parameter names, the summary columns it reads (in the order its formula
functions take them), its formula module and its starting values; this base does validation,
de-duplication, optimisation, the Hessian, standard errors, AIC/BIC and the summary table
(scikit-learn's estimator conventions: hyperparameters in the constructor, ``fit`` returns ``self``,
learned state ends in ``_``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from scipy import stats

from clvlab._guards import non_negative, real_scalar, whole_count
from clvlab._types import FloatArray
from clvlab.covariates import Design
from clvlab.data.validation import summary_time_unit, validate_summary, weights_array
from clvlab.draws import ModelDraws, over_data_rows
from clvlab.draws import interval_quantiles as _interval_quantiles
from clvlab.errors import ClvlabWarning, DataError, NotFittedError, UnidentifiedWarning
from clvlab.formulas._contract import ConditionalPmfFormulas, FastFitFormulas
from clvlab.models._covariates import Links, covariate_total_and_grad, deduplicate_with_covariates
from clvlab.models._covariates import bind as bind_covariates
from clvlab.models._fitting import (
    Deduplicated,
    TotalAndGrad,
    deduplicate,
    generic_total_and_grad,
    maximise,
    subsample,
)
from clvlab.predictive import bounds_frame, check_interval_kind, purchase_count_bounds

__all__ = ["BaseModel", "LikelihoodProblem", "TransactionModel"]

#: Above twice this many distinct rows, a fit starts from a fit on a subsample of this many.
_WARM_START_ROWS = 25_000
#: Columns of :meth:`TransactionModel.predict_purchases_and_p_alive`.
_BOTH = ("expected_purchases", "p_alive")


#: Log-scale standard error above which a fitted parameter counts as barely identified (its 95% interval
#: spans a factor of exp(2 x 1.96 x 1.5), about 360).
_WEAK_LOG_SE = 1.5


class Hyperparameters:
    """scikit-learn's hyperparameter access, from the names and values :meth:`get_params` returns."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor's hyperparameters."""
        raise NotImplementedError

    def _hyperparameter_names(self) -> set[str]:
        """Names :meth:`set_params` accepts (those of :meth:`get_params`, and optional ones left unset)."""
        return set(self.get_params())

    def set_params(self, **params: Any) -> Self:
        """Set hyperparameters; unknown names raise :class:`ValueError`."""
        valid = self._hyperparameter_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(
                    f"{type(self).__name__} has no hyperparameter {key!r}; valid: {sorted(valid)}"
                )
            setattr(self, key, value)
        return self


@dataclass(frozen=True)
class LikelihoodProblem:
    """A model's weighted log-likelihood on distinct data rows (:meth:`BaseModel.likelihood_problem`)."""

    columns: tuple[FloatArray, ...]  #: data columns of the distinct rows, in ``data_columns`` order
    weights: FloatArray  #: customers each row stands for
    design: FloatArray | None  #: covariate design columns of the rows (rows x coefficients), if any
    total_and_grad: TotalAndGrad  #: theta -> (weighted log-likelihood, gradient)


class BaseModel(Hyperparameters):
    """Shared maximum-likelihood estimator.

    Parameters
    ----------
    penalizer : float
        Strength of an L2 penalty ``penalizer * sum(theta**2)`` on the natural-scale parameters, added to
        the mean negative log-likelihood per customer. 0 (the default) gives the plain maximum-likelihood
        estimate; a small value (0.001 to 0.1) stabilises fits on small or degenerate data.
    """

    #: Parameter names, in the order the formula functions take them.
    param_names: ClassVar[tuple[str, ...]]
    #: Summary columns, in the order the formula functions take them.
    data_columns: ClassVar[tuple[str, ...]]
    #: Parameters of the drop-out process (none for a spend model); named when the data do not identify them.
    dropout_params: ClassVar[tuple[str, ...]] = ()
    #: "transaction" (purchases and drop-out) or "spend" (value per purchase), for consumers.
    role: ClassVar[str] = "spend"
    #: Whether the model counts discrete purchase opportunities (BG/BB) rather than continuous time.
    discrete: ClassVar[bool] = False
    #: Covariate processes and the parameters each scales: process -> ((parameter, sign), ...); customer
    #: i's parameter is the baseline times exp(sign * z_i' g) (see :mod:`clvlab.models._covariates`).
    covariate_links: ClassVar[dict[str, tuple[tuple[str, int], ...]]] = {}
    #: The formula module holding ``loglik_and_grad`` and the predictions.
    formulas: ClassVar[ModuleType]
    #: Columns holding whole numbers.
    _integer_columns: ClassVar[tuple[str, ...]] = ("frequency",)
    #: Names of the recency and age columns for the recency <= age check.
    _recency_age: ClassVar[tuple[str | None, str | None]] = ("recency", "T")

    def __init__(
        self, penalizer: float = 0.0, *, covariate_penalizer: float = 0.0, **covariates: Any
    ) -> None:
        self.penalizer = penalizer
        self.covariate_penalizer = covariate_penalizer
        unknown = set(covariates) - {f"{p}_covariates" for p in self.covariate_links}
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected argument(s) {sorted(unknown)}")
        for process in self.covariate_links:
            setattr(self, f"{process}_covariates", covariates.get(f"{process}_covariates"))

    # -- scikit-learn style hyperparameter access ---------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor's hyperparameters (covariate arguments only when set)."""
        out: dict[str, Any] = {"penalizer": self.penalizer}
        out |= {f"{p}_covariates": v for p, v in self.covariate_specs().items()}
        if self.covariate_penalizer:
            out["covariate_penalizer"] = self.covariate_penalizer
        return out

    def _hyperparameter_names(self) -> set[str]:
        return {"penalizer", "covariate_penalizer", *(f"{p}_covariates" for p in self.covariate_links)}

    def covariate_specs(self) -> dict[str, Any]:
        """The covariate specification of each process that has one, in ``covariate_links`` order."""
        specs = {p: getattr(self, f"{p}_covariates", None) for p in self.covariate_links}
        return {p: v for p, v in specs.items() if v is not None}

    @property
    def has_covariates(self) -> bool:
        """Whether the fitted model has per-customer parameters from covariates."""
        return bool(getattr(self, "covariates_", None))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- data ----------------------------------------------------------------------------------------
    def _validate(self, data: Any) -> tuple[pd.Index, dict[str, FloatArray]]:
        recency, age = self._recency_age
        return validate_summary(
            data, self.data_columns, integer=self._integer_columns, recency=recency, age=age
        )

    def validated_columns(self, data: Any) -> tuple[pd.Index, tuple[FloatArray, ...]]:
        """The customer index and the validated :attr:`data_columns` of ``data``, for predicting.

        Checks that the model is fitted and that ``data`` are in the time unit it was fitted in, then
        validates the summary (:func:`clvlab.data.validation.validate_summary`). The columns come in the
        order the formula functions take them. Every consumer of a model reads its data through this.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        DataError
            For a missing column, invalid values or another time unit.
        """
        self._check_fitted()
        self._check_time_unit(data)
        index, cols = self._validate(data)
        columns = tuple(cols[c] for c in self.data_columns)
        return index, columns + self.covariate_columns(data)

    def covariate_columns(self, data: Any) -> tuple[FloatArray, ...]:
        """The design columns of ``data`` for the fitted covariates, in coefficient order (none without).

        ``data`` holds the covariate columns the model was fitted with (a summary, or a frame of customer
        profiles); the encoding is the fitted one (:class:`clvlab.covariates.Design`).
        """
        if not self.has_covariates:
            return ()
        z = np.column_stack([d.matrix(data) for d in self.covariates_.values()])
        return tuple(np.ascontiguousarray(z[:, j]) for j in range(z.shape[1]))

    def log_likelihood(self, data: Any) -> tuple[float, int]:
        """Log-likelihood of ``data`` at the estimate, and the number of rows it covers.

        The rows are those the model's likelihood is defined on (Gamma-Gamma: customers with repeat
        purchases), so that nested models fitted to ``data`` compare on the same rows
        (:func:`clvlab.likelihood_ratio_test`).
        """
        _, columns = self.validated_columns(data)
        rows = self._fit_rows(columns[: len(self.data_columns)])
        fn = self.bind(self.formulas.loglik)
        ll = np.asarray(fn(*self._theta, *(c[rows] for c in columns)), dtype=np.float64)
        return float(ll.sum()), int(rows.sum())

    def bind(self, fn: Any) -> Any:
        """A formula function ``fn(*params, *scalars, *data_columns)`` of the model's parameter vector.

        For a model without covariates, ``fn`` itself. With covariates, a function of
        ``(*baselines, *coefficients, *scalars, *data_columns, *design_columns)`` (the columns of
        :meth:`validated_columns`) that computes each customer's parameters and calls ``fn`` with them.
        """
        if not self.has_covariates:
            return fn
        return bind_covariates(fn, len(self.param_names), *self._covariate_layout())

    def _covariate_layout(self) -> tuple[Links, list[tuple[str, int]]]:
        names = list(self.param_names)
        links = {
            p: tuple((names.index(name), sign) for name, sign in self.covariate_links[p])
            for p in self.covariates_
        }
        return links, [(p, len(d.columns)) for p, d in self.covariates_.items()]

    def require_no_covariates(self, what: str) -> None:
        """Refuse (:class:`DataError`) a population quantity ``what`` of a model with covariates."""
        if self.has_covariates:
            raise DataError(
                f"{type(self).__name__} has covariates, so {what} depends on the customer's attributes; "
                "use clvlab.acquisition_value(model, profiles, ...) for a new customer of given attributes"
            )

    def _check_time_unit(self, data: Any) -> None:
        """Refuse data in another time unit than the fit's; warn when a time-based model cannot tell.

        The data's unit is ``attrs["time_unit"]`` or a ``time_unit`` column (:func:`summary_time_unit`).
        """
        unit = summary_time_unit(data)
        fitted = getattr(self, "time_unit_", None)
        if unit is not None and fitted is not None and unit != fitted:
            raise DataError(
                f"the data are in time unit {unit!r} but {type(self).__name__} was fitted in {fitted!r}; "
                "rebuild the summary with the fitted time unit"
            )
        if unit is None and fitted is not None and isinstance(self, TransactionModel):
            warnings.warn(
                f"the data record no time unit (no attrs['time_unit'], no time_unit column), so their "
                f"recency and T are taken to be in {fitted!r}, the unit {type(self).__name__} was fitted "
                f"in; set data.attrs['time_unit'] = {fitted!r} (rfm_summary does) to have it checked",
                ClvlabWarning,
                stacklevel=4,
            )

    def _fit_arrays(self, data: Any, weights: Any) -> tuple[tuple[FloatArray, ...], FloatArray]:
        """Validated, filtered data columns and weights for fitting."""
        _, cols = self._validate(data)
        w = weights_array(data, weights, len(next(iter(cols.values()))))
        return tuple(cols[c] for c in self.data_columns), w

    def _initial_params(self, columns: tuple[FloatArray, ...], weights: FloatArray) -> FloatArray:
        raise NotImplementedError

    def _total_and_grad(self, columns: tuple[FloatArray, ...], weights: FloatArray) -> TotalAndGrad:
        """The weighted log-likelihood and gradient the optimiser maximises.

        Uses the formula module's own grouped evaluation (``prepare_fit`` / ``fit_loglik_and_grad``)
        where it has one, the per-customer ``loglik_and_grad`` otherwise.
        """
        formulas = self.formulas
        if not isinstance(formulas, FastFitFormulas):
            return generic_total_and_grad(formulas.loglik_and_grad, Deduplicated(columns, weights))
        prepared = formulas.prepare_fit(*columns, weights)
        fast = formulas.fit_loglik_and_grad
        return lambda theta: fast(*theta, prepared)

    # -- fitting -------------------------------------------------------------------------------------
    def fit(self, data: Any, *, weights: Any = None) -> Self:
        """Fit the model by maximum likelihood.

        Parameters
        ----------
        data : pandas.DataFrame or polars.DataFrame
            Customer summary with the model's :attr:`data_columns` (see :func:`clvlab.rfm_summary`).
        weights : array-like or str, optional
            Number of customers each row stands for (e.g. an aggregated summary), or the name of a
            column holding it.

        Returns
        -------
        self
        """
        if self.covariate_specs():
            return self._fit_with_covariates(data, weights)
        columns, w = self._fit_arrays(data, weights)
        self._fit_deduplicated(deduplicate(columns, w), data)
        return self

    def _fit_rows(self, columns: tuple[FloatArray, ...]) -> Any:
        """Rows the likelihood uses (all; Gamma-Gamma: customers with repeat purchases)."""
        return np.ones(len(columns[0]), dtype=bool)

    def _fit_with_covariates(self, data: Any, weights: Any) -> Self:
        """Maximum likelihood in the baselines and the covariate coefficients (exact gradients)."""
        specs = self.covariate_specs()
        if not self.covariate_links:
            raise DataError(f"{type(self).__name__} takes no covariates")
        if not isinstance(data, pd.DataFrame):
            raise DataError(
                "a model with covariates is fitted on a pandas DataFrame holding the covariate columns"
            )
        coef_penalizer = float(real_scalar(self.covariate_penalizer, "covariate_penalizer"))
        if not (np.isfinite(coef_penalizer) and coef_penalizer >= 0):
            raise ValueError(
                f"covariate_penalizer must be a non-negative number, got {self.covariate_penalizer!r}"
            )
        self._fit_arrays(data, weights)  # the model's own checks of the data and weights
        _, cols = self._validate(data)
        columns = tuple(cols[c] for c in self.data_columns)
        w = weights_array(data, weights, len(columns[0]))
        designs: dict[str, Design] = {}
        blocks = []
        for process in self.covariate_links:
            if process in specs:
                designs[process], z_p = Design.fit(specs[process], data, process)
                blocks.append(z_p)
        z = np.column_stack(blocks)
        rows = self._fit_rows(columns) & (w > 0)
        cols_d, z_d, w_d = deduplicate_with_covariates(tuple(c[rows] for c in columns), z[rows], w[rows])
        self.covariates_ = designs
        k = len(self.param_names)
        n_coef = z_d.shape[1]
        warm = len(w_d) > 2 * _WARM_START_ROWS
        # Start: baselines from the model without covariates, coefficients from zero; on large data
        # both on a subsample of the distinct rows, then Newton steps on all of them (as without
        # covariates).
        sub = Deduplicated((*cols_d, *z_d.T), w_d)
        if warm:
            sub = subsample(sub, _WARM_START_ROWS)
        sub_cols, sub_z = sub.columns[: len(cols_d)], np.column_stack(sub.columns[len(cols_d) :])
        base = self._fit_deduplicated(deduplicate(sub_cols, sub.weights), data, store=False).params
        start = np.concatenate([base, np.zeros(n_coef)])
        names = list(self.param_names) + [f"{p}:{c}" for p, d in designs.items() for c in d.columns]
        curvature = None
        if warm:
            first = maximise(
                self._covariate_likelihood(sub_cols, sub_z, sub.weights),
                float(sub.weights.sum()),
                start,
                float(self.penalizer),
                model_name=type(self).__name__,
                param_names=names,
                n_positive=k,
                coef_penalizer=coef_penalizer,
            )
            start, curvature = first.params, first.curvature
        total_and_grad = self._covariate_likelihood(cols_d, z_d, w_d)
        result = maximise(
            total_and_grad,
            float(w_d.sum()),
            start,
            float(self.penalizer),
            model_name=type(self).__name__,
            param_names=names,
            n_positive=k,
            coef_penalizer=coef_penalizer,
            warm=warm,
            hessian=curvature,
        )
        self._store_fit(result, names, float(w_d.sum()), data)
        return self

    def _covariate_likelihood(
        self, columns: tuple[FloatArray, ...], z: FloatArray, weights: FloatArray
    ) -> Any:
        """Weighted log-likelihood and gradient in (baselines, coefficients) on distinct rows.

        The fitted encodings (``covariates_``) fix the coefficient layout; ``z`` holds the design columns
        in that order. Shared by the maximum-likelihood fit and the Bayesian twins (:mod:`clvlab.bayes`).
        """
        links, sizes = self._covariate_layout()
        return covariate_total_and_grad(
            self._total_and_grad,
            self.formulas.loglik_and_grad,
            columns,
            z,
            weights,
            len(self.param_names),
            links,
            sizes,
        )

    def _likelihood_rows(
        self, data: Any, weights: Any
    ) -> tuple[tuple[FloatArray, ...], FloatArray, FloatArray]:
        """A fitted covariate model's distinct (data, design) rows of ``data`` and their weights."""
        _, columns = self.validated_columns(data)
        n_data = len(self.data_columns)
        w = weights_array(data, weights, len(columns[0]))
        rows = self._fit_rows(columns[:n_data]) & (w > 0)
        z = np.column_stack([c[rows] for c in columns[n_data:]])
        return deduplicate_with_covariates(tuple(c[rows] for c in columns[:n_data]), z, w[rows])

    def likelihood_problem(self, data: Any, weights: Any = None) -> LikelihoodProblem:
        """The weighted log-likelihood of ``data`` as the fit evaluates it, for other estimators.

        The distinct rows the fit uses (validated, filtered, de-duplicated; with covariates, the
        fitted design columns too) and ``total_and_grad(theta) -> (log-likelihood, gradient)`` at
        natural-scale parameters (baselines, then coefficients). The Bayesian twins
        (:mod:`clvlab.bayes`) put their priors on this very function. A model with covariates must be
        fitted first (its encoding fixes the design columns).
        """
        if self.covariate_specs():
            self._check_fitted()
            if not self.has_covariates:
                raise NotFittedError(f"this {type(self).__name__} has covariates: fit it before")
            columns, z, w = self._likelihood_rows(data, weights)
            return LikelihoodProblem(columns, w, z, self._covariate_likelihood(columns, z, w))
        cols, w = self._fit_arrays(data, weights)
        dedup = deduplicate(cols, w)
        return LikelihoodProblem(
            dedup.columns, dedup.weights, None, self._total_and_grad(dedup.columns, dedup.weights)
        )

    def _fit_deduplicated(self, dedup: Deduplicated, data: Any, *, store: bool = True) -> Any:
        """Fit on validated, de-duplicated weighted rows (``data`` only supplies the time unit).

        The Bayesian twins call this with the rows their likelihood Op uses, so the data are validated
        and de-duplicated once.
        """
        penalizer = float(self.penalizer)
        if not np.isfinite(penalizer) or penalizer < 0:
            raise ValueError(f"penalizer must be a non-negative number, got {self.penalizer!r}")
        if dedup.weights.sum() <= 0:
            raise DataError("there are no customers to fit (all weights are zero)")
        start = self._initial_params(dedup.columns, dedup.weights)
        warm = len(dedup.weights) > 2 * _WARM_START_ROWS
        curvature = None
        if warm:
            # Large data: a fit on a subsample lands close to the optimum, where Newton steps on the
            # full data converge in a handful of likelihood evaluations.
            sub = subsample(dedup, _WARM_START_ROWS)
            first = maximise(
                self._total_and_grad(sub.columns, sub.weights),
                float(sub.weights.sum()),
                start,
                penalizer,
                model_name=type(self).__name__,
                param_names=self.param_names,
            )
            start, curvature = first.params, first.curvature
        result = maximise(
            self._total_and_grad(dedup.columns, dedup.weights),
            float(dedup.weights.sum()),
            start,
            penalizer,
            model_name=type(self).__name__,
            param_names=self.param_names,
            warm=warm,
            hessian=curvature if warm else None,
        )
        if not store:
            return result
        if hasattr(self, "covariates_"):
            del self.covariates_
        self._store_fit(result, list(self.param_names), float(dedup.weights.sum()), data)
        return self

    def _fit_elsewhere(
        self, sample: Deduplicated, total_and_grad: TotalAndGrad, total_weight: float, data: Any
    ) -> Self:
        """Fit with the whole data's likelihood evaluated elsewhere (e.g. on Spark executors).

        ``sample`` (validated, de-duplicated rows of a random sample of customers) gives the starting
        values and a warm-start fit; Newton steps from there, and the curvature at the optimum, use
        ``total_and_grad``: the weighted log-likelihood of all ``total_weight`` customers and its exact
        gradient. The optimum is the one :meth:`fit` finds on all the rows (the sums are taken in another
        order, so equal to rounding). ``data`` only supplies the time unit.
        """
        penalizer = float(self.penalizer)
        if not np.isfinite(penalizer) or penalizer < 0:
            raise ValueError(f"penalizer must be a non-negative number, got {self.penalizer!r}")
        if self.covariate_specs():
            raise DataError("a fit with the likelihood evaluated elsewhere takes a model without covariates")
        if sample.weights.sum() <= 0 or total_weight <= 0:
            raise DataError("there are no customers to fit (all weights are zero)")
        first = maximise(
            self._total_and_grad(sample.columns, sample.weights),
            float(sample.weights.sum()),
            self._initial_params(sample.columns, sample.weights),
            penalizer,
            model_name=type(self).__name__,
            param_names=self.param_names,
        )
        result = maximise(
            total_and_grad,
            float(total_weight),
            first.params,
            penalizer,
            model_name=type(self).__name__,
            param_names=self.param_names,
            warm=True,
            hessian=first.curvature,
        )
        if hasattr(self, "covariates_"):
            del self.covariates_
        self._store_fit(result, list(self.param_names), float(total_weight), data)
        return self

    def _store_fit(self, result: Any, names: list[str], total_weight: float, data: Any) -> None:
        """Learned state from an optimum; warnings when the data do not identify some parameters."""
        self.params_ = pd.Series(result.params, index=names, name="estimate")
        self.covariance_ = pd.DataFrame(result.covariance, index=names, columns=names)
        self._log_covariance = result.log_covariance
        self.log_likelihood_ = result.log_likelihood
        self.n_customers_ = total_weight
        k = len(names)
        self.aic_ = 2 * k - 2 * self.log_likelihood_
        self.bic_ = k * np.log(self.n_customers_) - 2 * self.log_likelihood_
        self.n_iter_ = result.n_iter
        self.time_unit_ = data.attrs.get("time_unit") if isinstance(data, pd.DataFrame) else None
        if not np.all(np.isfinite(result.covariance)):
            flat = ", ".join(f"{names[i]}={result.params[i]:.4g}" for i in result.flat) or "some parameters"
            warnings.warn(
                f"{type(self).__name__}: the likelihood is flat along {flat}: these data do not identify "
                "them (often a boundary, e.g. almost no visible dropout), so standard errors and intervals "
                "are unavailable. Predictions are those of the limiting model and remain usable; a longer "
                "observation period, or a model the data identify, gives standard errors."
                + self._dropout_note([names[i] for i in result.flat]),
                UnidentifiedWarning,
                stacklevel=4,  # the caller of fit()
            )
        else:
            self._warn_weakly_identified()

    def _dropout_note(self, names: list[str]) -> str:
        """What an unidentified drop-out process means for P(alive) and the segments ('' otherwise)."""
        if not set(names) & set(self.dropout_params):
            return ""
        others = [m for m in ("ParetoNBD", "ModifiedBetaGeo", "BetaGeo") if m != type(self).__name__][:2]
        return (
            " The drop-out process is not identified (the data show little or no drop-out): P(alive) is"
            " close to 1 for almost every customer, so 'at risk' and 'likely lost' segments come out"
            " (nearly) empty. Check the forecasts on a holdout and compare a model that separates drop-out"
            f" differently ({', '.join(others)})."
        )

    def _warn_weakly_identified(self) -> None:
        """Warn when a parameter's 95% interval spans more than a factor of ~360 (log-scale SE > 1.5).

        Identified fits stay far below that (CDNOW: every log-scale standard error <= 0.53 for the four
        models), unidentified ones far above it (online retail, BG/NBD: 3.0 and 3.3 for a and b).
        """
        se_log = np.sqrt(np.diag(self._log_covariance))[: len(self.param_names)]
        wide = [i for i, se in enumerate(se_log) if se > _WEAK_LOG_SE]
        if not wide:
            return
        names = list(self.param_names)
        z = float(stats.norm.ppf(0.975))
        est = self.params_.to_numpy()
        parts = ", ".join(
            f"{names[i]} = {est[i]:.4g} (95% interval {est[i] * np.exp(-z * se_log[i]):.3g} to "
            f"{est[i] * np.exp(z * se_log[i]):.3g})"
            for i in wide
        )
        warnings.warn(
            f"{type(self).__name__}: these data barely identify {parts}; predictions that depend on "
            f"{'them' if len(wide) > 1 else 'it'} are uncertain."
            + self._dropout_note([names[i] for i in wide]),
            UnidentifiedWarning,
            stacklevel=5,  # the caller of fit()
        )

    @classmethod
    def from_params(cls, params: Any, *, time_unit: str | None = None, **hyperparameters: Any) -> Self:
        """Build a model with known parameters (e.g. published ones) for prediction or simulation.

        Parameters
        ----------
        params : mapping or pandas.Series
            A positive value for each name in :attr:`param_names`.
        time_unit : str, optional
            Time unit of the parameters (``"D"``, ``"W"``, ...), checked against data at prediction.

        Examples
        --------
        >>> import clvlab
        >>> params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
        >>> m = clvlab.BetaGeo.from_params(params, time_unit="W")
        >>> round(float(m.expected_purchases(52)), 3)
        1.446
        """
        values = dict(params)
        if set(values) != set(cls.param_names):
            raise ValueError(f"{cls.__name__} needs parameters {list(cls.param_names)}, got {sorted(values)}")
        arr = np.array([float(values[k]) for k in cls.param_names])
        if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            raise ValueError(f"{cls.__name__} parameters must be positive and finite, got {values}")
        model = cls(**hyperparameters)
        model.params_ = pd.Series(arr, index=list(cls.param_names), name="estimate")
        model.time_unit_ = time_unit
        return model

    def save(self, path: Any) -> Any:
        """Save the model as a versioned JSON file (see :mod:`clvlab.persistence`); returns the path.

        Reload it with :func:`clvlab.load`. The file holds data only, never code.
        """
        from clvlab.persistence import save

        return save(self, path)

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(data) before predicting"
            )

    def model_draws(self) -> ModelDraws:
        """The model as parameter draws (:mod:`clvlab.draws`): the estimate, asymptotic draws for bounds."""
        self._check_fitted()
        return ModelDraws(model=self, mle=self, bayesian=False)

    @property
    def _theta(self) -> tuple[float, ...]:
        self._check_fitted()
        return tuple(float(v) for v in self.params_.to_numpy())

    def param_draws(self, n_draws: int = 1000, seed: Any = 0) -> FloatArray:
        """Draws of the parameters from their asymptotic sampling distribution.

        Normal on the log scale (where the model was fitted) with the inverse Hessian as covariance,
        mapped back to the natural scale (covariate coefficients: normal as they are). Returns an array
        of shape (n_draws, n_params), columns in the order of ``params_`` (:attr:`param_names`, then
        any covariate coefficients).
        """
        self._check_fitted()
        cov = getattr(self, "_log_covariance", None)
        if cov is None or not np.all(np.isfinite(cov)):
            raise ValueError(
                f"this {type(self).__name__} has no parameter covariance (built from parameters, or a "
                "singular Hessian), so intervals are unavailable"
            )
        if not (real_scalar(n_draws, "n_draws") >= 2):
            raise ValueError(f"n_draws must be at least 2, got {n_draws!r}")
        rng = np.random.default_rng(seed)
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise ValueError(
                f"this {type(self).__name__}'s parameter covariance is not positive definite, so intervals "
                "are unavailable; refit the model"
            ) from None
        est = self.params_.to_numpy()
        k = len(self.param_names)
        z = rng.standard_normal((int(n_draws), len(est)))
        u = np.concatenate([np.log(est[:k]), est[k:]])[None, :] + z @ chol.T
        return np.asarray(np.concatenate([np.exp(u[:, :k]), u[:, k:]], axis=1), dtype=np.float64)

    def _with_interval(
        self,
        fn: Any,
        name: str,
        index: pd.Index,
        scalars: tuple[Any, ...],
        columns: tuple[FloatArray, ...],
        interval: float | None,
        n_draws: int,
        seed: Any,
    ) -> pd.Series | pd.DataFrame:
        """Evaluate ``fn(*params, *scalars, *columns)`` at the estimate and, with ``interval``, over draws.

        The bounds are quantiles over asymptotic draws (:func:`clvlab.draws.over_data_rows`: distinct data
        rows once, in bounded memory).
        """
        fn = self.bind(fn)
        point = np.asarray(fn(*self._theta, *scalars, *columns), dtype=np.float64)
        series = pd.Series(np.broadcast_to(point, (len(index),)).copy(), index=index, name=name)
        if interval is None:
            return series
        _interval_quantiles(interval)  # a bad level is reported before any drawing
        draws = self.param_draws(n_draws, seed)
        _, lower, upper = over_data_rows(fn, draws, columns, scalars, len(index), interval=interval)
        return bounds_frame(series, lower, upper, interval, "parameter")

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """Parameter table: estimate, standard error and a (1 - alpha) confidence interval.

        The interval is computed on the log scale, where the estimates are closer to normal, and mapped
        back (so it stays positive). The log-likelihood, AIC, BIC and number of customers follow as extra
        rows (estimate column only) and in ``df.attrs``.
        """
        self._check_fitted()
        if not hasattr(self, "log_likelihood_"):
            raise NotFittedError(
                f"this {type(self).__name__} was built from parameters, not fitted: no summary"
            )
        est = self.params_.to_numpy()
        se = np.sqrt(np.diag(self.covariance_.to_numpy()))
        se_log = np.sqrt(np.diag(self._log_covariance))
        z = stats.norm.ppf(1 - alpha / 2)
        pct = f"{100 * (1 - alpha):g}%"
        positive = np.arange(len(est)) < len(self.param_names)
        table = pd.DataFrame(
            {
                "estimate": est,
                "std_error": se,
                f"lower {pct}": np.where(positive, est * np.exp(-z * se_log), est - z * se),
                f"upper {pct}": np.where(positive, est * np.exp(z * se_log), est + z * se),
            },
            index=pd.Index(self.params_.index, name="parameter"),
        )
        extras = pd.DataFrame(
            {"estimate": [self.log_likelihood_, self.aic_, self.bic_, self.n_customers_]},
            index=pd.Index(["log_likelihood", "aic", "bic", "n_customers"], name="parameter"),
        )
        out = pd.concat([table, extras])
        out.attrs.update(
            log_likelihood=self.log_likelihood_, aic=self.aic_, bic=self.bic_, n_customers=self.n_customers_
        )
        return out


class TransactionModel(BaseModel):
    """Base of the continuous-time transaction models (BG/NBD, Pareto/NBD, MBG/NBD)."""

    data_columns = ("frequency", "recency", "T")
    role = "transaction"

    def _fit_arrays(self, data: Any, weights: Any) -> tuple[tuple[FloatArray, ...], FloatArray]:
        columns, w = super()._fit_arrays(data, weights)
        if not np.any((columns[0] > 0) & (w > 0)):
            raise DataError(
                "no customer has a repeat purchase (frequency is 0 throughout), so purchase rates cannot "
                "be estimated; check the summary, or observe the customers for longer"
            )
        return columns, w

    def predict_purchases(
        self,
        data: Any,
        t: float,
        *,
        interval: float | None = None,
        interval_kind: str = "parameter",
        n_draws: int = 1000,
        seed: Any = 0,
    ) -> pd.Series | pd.DataFrame:
        """Expected number of purchases in (T, T + t] given each customer's history, E[X(T, T+t) | x, t_x, T].

        Parameters
        ----------
        data : pandas.DataFrame
            Customer summary (``frequency``, ``recency``, ``T``).
        t : float
            Horizon in the data's time unit.
        interval : float, optional
            With a level such as 0.9, also return ``expected_purchases_lower`` and ``_upper``, of the kind
            ``interval_kind`` says (recorded in ``attrs["interval_kind"]``, the level in
            ``attrs["interval"]``).
        interval_kind : {"parameter", "predictive"}
            ``"parameter"`` (default): quantiles of the *expected* purchases over ``n_draws`` draws of the
            parameters from their asymptotic sampling distribution, seeded by ``seed`` (how well the
            expectation is known; a customer's actual count scatters far more widely). ``"predictive"``:
            quantiles of the customer's *own* number of purchases in (T, T + t], from the conditional pmf
            P(X(T, T+t) = n | x, t_x, T) averaged over the same parameter draws (exact, no simulation; see
            :mod:`clvlab.predictive`). The bounds are whole numbers and, counts being discrete, the
            interval holds at least the level's probability.
            Cost grows with ``n_draws`` and the counts walked: on CDNOW (2,357 customers, 39 weeks) about
            2-5 ms per draw for the BG/NBD and 0.06 s per draw for the Pareto/NBD, whose pmf is a quadrature
            per count (``n_draws=100`` is plenty: a customer's own randomness dominates the spread).

        Returns
        -------
        pandas.Series or pandas.DataFrame
            Indexed by customer id.
        """
        kind = check_interval_kind(interval_kind, interval)
        index, cols = self.validated_columns(data)
        t = non_negative(t, "t")
        if kind == "predictive" and interval is not None:
            expected = self.bind(self.formulas.conditional_expected_purchases)
            point = np.asarray(expected(*self._theta, t, *cols), dtype=np.float64)
            series = pd.Series(
                np.broadcast_to(point, (len(index),)).copy(), index=index, name="expected_purchases"
            )
            _interval_quantiles(interval)  # a bad level is reported before any drawing
            draws = self.param_draws(n_draws, seed)
            lower, upper = purchase_count_bounds(self.model_draws(), draws, float(t), cols, interval)
            return bounds_frame(series, lower, upper, interval, kind)
        return self._with_interval(
            self.formulas.conditional_expected_purchases,
            "expected_purchases",
            index,
            (t,),
            cols,
            interval,
            n_draws,
            seed,
        )

    def predict_p_alive(
        self, data: Any, *, interval: float | None = None, n_draws: int = 1000, seed: Any = 0
    ) -> pd.Series | pd.DataFrame:
        """Probability that each customer is still active at the end of observation, P(alive | x, t_x, T).

        ``interval``, ``n_draws`` and ``seed`` add parameter-uncertainty bounds as in
        :meth:`predict_purchases`.
        """
        index, cols = self.validated_columns(data)
        return self._with_interval(self.formulas.p_alive, "p_alive", index, (), cols, interval, n_draws, seed)

    def predict_purchases_and_p_alive(self, data: Any, t: float) -> pd.DataFrame:
        """:meth:`predict_purchases` and :meth:`predict_p_alive` in one pass, for scoring a customer base.

        The same values as the two methods (without intervals); the data are validated once and P(alive),
        a factor of the expected purchases, is computed once, so both cost about as much as the first.

        Returns
        -------
        pandas.DataFrame
            ``expected_purchases`` and ``p_alive``, indexed by customer id.
        """
        index, cols = self.validated_columns(data)
        both = self.bind(self.formulas.conditional_expected_purchases_and_p_alive)(
            *self._theta, non_negative(t, "t"), *cols
        )
        n = len(index)
        values = {
            k: np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))
            for k, v in zip(_BOTH, both, strict=True)
        }
        return pd.DataFrame(values, index=index)

    def predict_purchase_probability(
        self,
        data: Any,
        t: float,
        n: int,
        *,
        interval: float | None = None,
        n_draws: int = 1000,
        seed: Any = 0,
    ) -> pd.Series | pd.DataFrame:
        """Probability of exactly ``n`` purchases in (T, T + t] given each customer's history.

        ``interval``, ``n_draws`` and ``seed`` add parameter-uncertainty bounds as in
        :meth:`predict_purchases`.
        """
        if not isinstance(self.formulas, ConditionalPmfFormulas):
            raise NotImplementedError(f"{type(self).__name__} has no conditional P(X(T, T+t) = n)")
        fn = self.formulas.conditional_purchase_pmf
        index, cols = self.validated_columns(data)
        scalars = (non_negative(t, "t"), whole_count(n, "n"))
        return self._with_interval(fn, "purchase_probability", index, scalars, cols, interval, n_draws, seed)

    def expected_purchases(self, t: Any) -> FloatArray:
        """Expected purchases E[X(t)] of a new customer in (0, t], vectorised over ``t``."""
        self.require_no_covariates("E[X(t)] of a new customer")
        return np.asarray(self.formulas.expected_purchases(*self._theta, non_negative(t, "t")))

    def purchase_count_pmf(self, t: Any, n: Any) -> FloatArray:
        """P(X(t) = n) for a new customer, vectorised over ``t`` and ``n``."""
        self.require_no_covariates("P(X(t) = n) of a new customer")
        return np.asarray(
            self.formulas.purchase_count_pmf(*self._theta, non_negative(t, "t"), whole_count(n, "n"))
        )

    def simulate(self, T: Any, *, size: int | None = None, seed: Any = None) -> pd.DataFrame:
        """Draw customers from the fitted model and return their summary.

        Parameters
        ----------
        T : float or array-like
            Observation length of each simulated customer (in the fitted time unit).
        size : int, optional
            Number of customers when ``T`` is a scalar.
        seed : int or numpy.random.Generator, optional
            Seed for reproducible draws.

        Returns
        -------
        pandas.DataFrame
            ``frequency``, ``recency`` and ``T`` for each simulated customer.
        """
        self.require_no_covariates("simulating customers")
        T_arr = np.asarray(T, dtype=np.float64)
        if size is not None:
            T_arr = np.broadcast_to(T_arr, (size,)).copy()
        T_arr = np.atleast_1d(non_negative(T_arr, "T"))
        rng = np.random.default_rng(seed)
        x, t_x = self.formulas.simulate(*self._theta, T_arr, rng)
        df = pd.DataFrame({"frequency": np.asarray(x, dtype=np.float64), "recency": t_x, "T": T_arr})
        df.index.name = "customer_id"
        if getattr(self, "time_unit_", None) is not None:
            df.attrs["time_unit"] = self.time_unit_
        return df
