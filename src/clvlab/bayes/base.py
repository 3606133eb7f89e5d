"""The Bayesian estimator contract: priors, sampling, posterior predictions over draws.

A Bayesian model wraps its maximum-likelihood twin (:attr:`BayesModel.mle_class`): the same data
validation, the same de-duplicated weighted rows and the very same likelihood function (through
:func:`clvlab.bayes._op.loglik`); PyMC adds the priors and samples. Predictions evaluate the shared
formula functions over the posterior draws, chunked over customers so memory stays bounded.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from clvlab._guards import non_negative, whole_count
from clvlab._types import FloatArray
from clvlab.bayes import _arviz
from clvlab.bayes._coordinates import SurvivalCoordinates
from clvlab.bayes._nutpie import nutpie_available, sample_nutpie
from clvlab.bayes._op import TotalAndGrad, loglik, python_op_compiles
from clvlab.draws import ModelDraws, mean_over_draws, over_data_rows
from clvlab.errors import ClvlabWarning, DataError, NotFittedError, UnidentifiedWarning
from clvlab.models._fitting import Deduplicated
from clvlab.models.base import BaseModel, Hyperparameters
from clvlab.predictive import bounds_frame, check_interval_kind, purchase_count_bounds

__all__ = ["BayesModel", "SamplingWarning"]

_METHODS = ("nuts", "map", "advi")
_SAMPLERS = ("auto", "nutpie", "pymc")


def _find_map(start: dict[str, float], seed: int, names: tuple[str, ...]) -> dict[str, float]:
    """The posterior mode by ``pymc.find_MAP`` from ``start`` (in the model context), on either PyMC.

    PyMC 6 renamed ``start``/``seed`` to ``initvals``/``random_seed``, returns a DataTree when asked (a
    dict is deprecated) and will jitter the start by default; the start here is the maximum-likelihood
    estimate, kept as it is.
    """
    if "initvals" in inspect.signature(pm.find_MAP).parameters:
        result = pm.find_MAP(
            initvals=start, progressbar=False, random_seed=seed, return_inferencedata=True, jitter=False
        )
        post = _arviz.posterior_dataset(result)
        return {n: float(np.asarray(post[n]).reshape(-1)[0]) for n in names}
    point = pm.find_MAP(start=start, progressbar=False, seed=seed)
    return {n: float(point[n]) for n in names}


class SamplingWarning(ClvlabWarning):
    """The sampler reported divergences or R-hat above 1.01: the posterior may be unreliable."""


class BayesModel(Hyperparameters):
    """Shared Bayesian estimator.

    Parameters
    ----------
    method : {"nuts", "map", "advi"}
        NUTS by default (see ``sampler``); ``"map"`` gives the posterior mode only (one draw),
        ``"advi"`` a mean-field variational approximation (``draws`` draws from it).
    draws, tune, chains : int
        Posterior draws per chain, tuning steps per chain and number of chains (NUTS).
    random_seed : int
        Seed of the sampler; the same seed gives the same posterior.
    target_accept : float
        NUTS target acceptance rate; raise it (e.g. 0.95) if divergences are reported.
    priors : dict, optional
        Overrides of the default priors: ``{"r": ("Gamma", {"alpha": 2.0, "beta": 4.0})}`` maps a
        parameter to a PyMC distribution name and its keyword arguments (see :meth:`default_priors`).
    progressbar : bool
        Show the sampler's progress bar.
    sampler : {"auto", "nutpie", "pymc"}
        Which NUTS implementation runs ``method="nuts"``: nutpie (installed with the ``bayes`` extra; its
        sampler loop runs in Rust with a low-rank modified mass matrix) or PyMC's own NUTS (dense mass
        matrix, ``init="jitter+adapt_full"``). ``"auto"`` takes nutpie when it is installed. Both sample
        the same PyMC model, started at the maximum-likelihood estimate.
    init_jitter : float, optional
        How far the chains start from the maximum-likelihood estimate: each chain's starting point adds
        independent Uniform(-init_jitter, init_jitter) draws to it on the sampler's unconstrained scale
        (the log of a positive parameter), so 1.0 starts chains up to a factor e apart. ``None`` keeps
        each sampler's default: 0.1 for nutpie, PyMC's own jitter of 1.0 for ``sampler="pymc"`` (which
        takes no other value). Over-dispersed starting points make R-hat a real test that the chains
        forget where they started (Gelman & Rubin 1992; Vehtari et al. 2021). With nutpie the starting
        points are kept in ``initial_points_`` (one row per chain).
    purchase_covariates, dropout_covariates, spend_covariates : str or list of str, optional
        Covariates as in the maximum-likelihood twin (:mod:`clvlab.covariates`), on the same likelihood.
        Each coefficient's default prior is Normal(0, sigma) with sigma = 1 / (the standard deviation of
        its design column in the data), capped at 10: a one-standard-deviation change of a covariate
        moves the log of the parameter it scales by about N(0, 1) a priori, in any unit. Override one
        with ``priors={"purchase:channel[T.web]": ("Normal", {"mu": 0.0, "sigma": 0.5})}``.
    """

    mle_class: ClassVar[type[BaseModel]]

    def __init__(
        self,
        *,
        method: str = "nuts",
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 2,
        random_seed: int = 0,
        target_accept: float = 0.9,
        priors: dict[str, tuple[str, dict[str, float]]] | None = None,
        progressbar: bool = True,
        sampler: str = "auto",
        init_jitter: float | None = None,
        **covariates: Any,
    ) -> None:
        self.method = method
        self.draws = draws
        self.tune = tune
        self.chains = chains
        self.random_seed = random_seed
        self.target_accept = target_accept
        self.priors = priors
        self.progressbar = progressbar
        self.sampler = sampler
        self.init_jitter = init_jitter
        links = self.mle_class.covariate_links
        unknown = set(covariates) - {f"{p}_covariates" for p in links}
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected argument(s) {sorted(unknown)}")
        for process in links:
            setattr(self, f"{process}_covariates", covariates.get(f"{process}_covariates"))

    @property
    def param_names(self) -> tuple[str, ...]:
        """The model's baseline parameters, as in the maximum-likelihood twin."""
        return self.mle_class.param_names

    @property
    def _all_names(self) -> tuple[str, ...]:
        """Baselines, then the fitted covariate coefficients (``"purchase:channel[T.web]"``)."""
        designs = getattr(self, "covariates_", None) or {}
        return self.param_names + tuple(f"{p}:{c}" for p, d in designs.items() for c in d.columns)

    def covariate_specs(self) -> dict[str, Any]:
        """The covariate specification of each process that has one (as the maximum-likelihood twin's)."""
        specs = {p: getattr(self, f"{p}_covariates", None) for p in self.mle_class.covariate_links}
        return {p: v for p, v in specs.items() if v is not None}

    def _hyperparameter_names(self) -> set[str]:
        return set(self.get_params()) | {f"{p}_covariates" for p in self.mle_class.covariate_links}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor's hyperparameters."""
        keys = (
            "method",
            "draws",
            "tune",
            "chains",
            "random_seed",
            "target_accept",
            "priors",
            "progressbar",
            "sampler",
            "init_jitter",
        )
        return {k: getattr(self, k, None) for k in keys} | {
            f"{p}_covariates": v for p, v in self.covariate_specs().items()
        }

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items() if v != type(self)().get_params().get(k)}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # -- priors ------------------------------------------------------------------------------------
    def default_priors(
        self, columns: tuple[FloatArray, ...], weights: FloatArray
    ) -> dict[str, tuple[str, dict[str, float]]]:
        """Weakly informative priors: half-normal, wide on the scale of the data.

        Shape parameters get HalfNormal(sigma=10); scale parameters (alpha, beta, gamma) HalfNormal with
        sigma ten times a data-driven scale (mean T over mean frequency + 1, or mean spend), so the prior
        says the same thing in days, weeks or years, or in any currency.
        """
        raise NotImplementedError

    def _build_priors(
        self, columns: tuple[FloatArray, ...], weights: FloatArray, z: FloatArray | None = None
    ) -> list[Any]:
        priors = dict(self.default_priors(columns, weights))
        names = self._all_names
        if z is not None:
            mean = weights @ z / weights.sum()
            sd = np.sqrt(np.maximum(weights @ (z - mean) ** 2 / weights.sum(), 0.0))
            for name, sd_j in zip(names[len(self.param_names) :], sd, strict=True):
                priors[name] = ("Normal", {"mu": 0.0, "sigma": float(min(1.0 / max(sd_j, 1e-12), 10.0))})
        for name, spec in (self.priors or {}).items():
            if name not in names:
                raise ValueError(f"priors: {type(self).__name__} has no parameter {name!r}; {names}")
            priors[name] = spec
        rvs = []
        for name in names:
            dist_name, kwargs = priors[name]
            dist = getattr(pm, dist_name, None)
            if dist is None or not isinstance(dist, type) or not issubclass(dist, pm.Distribution):
                raise ValueError(f"priors: {dist_name!r} is not a PyMC distribution")
            rvs.append(dist(name, **kwargs))
        return rvs

    # -- fitting -------------------------------------------------------------------------------------
    def fit(self, data: Any, *, weights: Any = None) -> Self:
        """Sample the posterior given a customer summary (see the maximum-likelihood twin's ``fit``)."""
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {self.method!r}")
        sampler = self._nuts_sampler()
        specs = self.covariate_specs()
        mle = self.mle_class(**{f"{p}_covariates": v for p, v in specs.items()})
        # Chains start at the maximum-likelihood estimate (same likelihood, same rows, a fraction of a
        # second), so tuning does not begin in the far tails of the wide priors.
        with warnings.catch_warnings():
            # An estimate on a boundary the data do not identify is still a usable starting point: the
            # priors make the posterior proper, and its mode is taken instead just below.
            warnings.simplefilter("ignore", UnidentifiedWarning)
            mle.fit(data, weights=weights)
        problem = mle.likelihood_problem(data, weights)
        dedup = Deduplicated(problem.columns, problem.weights)
        total_and_grad = problem.total_and_grad
        z = problem.design
        if z is not None:
            self.covariates_ = mle.covariates_
        elif hasattr(self, "covariates_"):
            del self.covariates_
        start = {str(k): float(v) for k, v in mle.params_.items()}
        with pm.Model() as model, python_op_compiles():
            theta = pt.stack(self._build_priors(dedup.columns, dedup.weights, z))
            pm.Potential("loglik", loglik(total_and_grad, theta))
            if not np.isfinite(mle.covariance_.to_numpy()).all():
                start = _find_map(start, int(self.random_seed), self._all_names)
            coordinates = self._sampling_coordinates(model, dedup.columns, dedup.weights)
            idata = self._sample(model, start, sampler, coordinates, total_and_grad)
        observed = xr.Dataset(
            {c: ("pattern", col) for c, col in zip(mle.data_columns, dedup.columns, strict=True)}
            | {"weights": ("pattern", dedup.weights)}
            | (
                {
                    f"design:{n}": ("pattern", col)
                    for n, col in zip(self._all_names[len(self.param_names) :], z.T, strict=True)
                }
                if z is not None
                else {}
            )
        )
        self.idata_ = _arviz.add_group(idata, "observed_data", observed)
        self._set_draws_from_idata()
        self.n_customers_ = float(mle.n_customers_)
        self.time_unit_ = data.attrs.get("time_unit") if isinstance(data, pd.DataFrame) else None
        self._check_diagnostics()
        return self

    def _nuts_sampler(self) -> str:
        """The NUTS implementation ``sampler`` resolves to ("nutpie" or "pymc")."""
        if self.sampler not in _SAMPLERS:
            raise ValueError(f"sampler must be one of {_SAMPLERS}, got {self.sampler!r}")
        if self.sampler == "auto":
            return "nutpie" if nutpie_available() else "pymc"
        if self.sampler == "nutpie" and not nutpie_available():
            raise ImportError('sampler="nutpie" needs nutpie: pip install "clvlab[bayes]" (or nutpie)')
        return self.sampler

    def _sample(
        self,
        model: pm.Model,
        start: dict[str, float],
        sampler: str,
        coordinates: SurvivalCoordinates | None = None,
        loglik: TotalAndGrad | None = None,
    ) -> _arviz.Posterior:
        seed = int(self.random_seed)
        if self.method == "map":
            with model:
                point = _find_map(start, seed, self._all_names)
            posterior = {n: np.full((1, 1), float(point[n])) for n in self._all_names}
            return _arviz.posterior_from_arrays(posterior)
        if self.method == "advi":
            with model:
                approx = pm.fit(n=10_000, method="advi", random_seed=seed, progressbar=self.progressbar)
                return approx.sample(int(self.draws), random_seed=seed)
        jitter = self.init_jitter
        if jitter is not None and not (np.isfinite(jitter) and jitter >= 0):
            raise ValueError(f"init_jitter must be a non-negative number or None, got {jitter!r}")
        if sampler == "nutpie":
            starts: list[dict[str, float]] = []
            idata = sample_nutpie(
                model,
                start,
                coordinates=coordinates,
                loglik=loglik,
                draws=int(self.draws),
                tune=int(self.tune),
                chains=int(self.chains),
                random_seed=seed,
                target_accept=float(self.target_accept),
                progressbar=self.progressbar,
                jitter=0.1 if jitter is None else float(jitter),
                initial_points=starts,
            )
            self.initial_points_ = pd.DataFrame(starts, index=pd.RangeIndex(len(starts), name="chain"))
            return idata
        if jitter is not None and jitter != 1.0:
            raise ValueError(
                f"init_jitter={jitter!r}: PyMC's sampler jitters its starting points by Uniform(-1, 1) "
                'only; pass init_jitter=None (or 1.0), or sampler="nutpie"'
            )
        with model, warnings.catch_warnings():
            # PyMC calls its dense mass-matrix adaptation experimental; it is the standard choice in Stan
            # and nutpie, and measurably better here (see below), so its notice is not passed on.
            warnings.filterwarnings("ignore", message="QuadPotentialFullAdapt is an experimental feature")
            return pm.sample(
                draws=int(self.draws),
                tune=int(self.tune),
                chains=int(self.chains),
                cores=1,  # the likelihood Op lives in this process
                random_seed=seed,
                target_accept=float(self.target_accept),
                # A dense mass matrix absorbs the strong linear correlations of these posteriors on the
                # log scale (Gamma-Gamma's p-gamma ridge): on CDNOW it doubles the effective sample size
                # per second and brings R-hat to 1.00 where the diagonal one stalled at 1.012.
                init="jitter+adapt_full",
                initvals=start,
                progressbar=self.progressbar,
                compute_convergence_checks=False,
            )

    def _sampling_coordinates(
        self, model: pm.Model, columns: tuple[FloatArray, ...], weights: FloatArray
    ) -> SurvivalCoordinates | None:
        """Coordinates nutpie moves in, if not PyMC's unconstrained ones (see :mod:`._coordinates`)."""
        return None

    def _set_draws_from_idata(self) -> None:
        post = _arviz.posterior_dataset(self.idata_)
        names = list(self._all_names)
        self._draws = np.stack([post[n].to_numpy() for n in names], axis=-1)  # (chain, draw, k)
        self.params_ = pd.Series(
            self._draws.reshape(-1, len(names)).mean(axis=0), index=names, name="posterior mean"
        )

    def _check_diagnostics(self) -> None:
        if self.method != "nuts":
            return
        names = list(self._all_names)
        divergent = 0
        if "sample_stats" in _arviz.group_names(self.idata_):
            stats = _arviz.posterior_dataset(self.idata_, "sample_stats")
            divergent = int(stats["diverging"].sum()) if "diverging" in stats else 0
        worst = max(_arviz.rhat(self.idata_, names).values()) if self.chains > 1 else 1.0
        if divergent or worst > 1.01:
            warnings.warn(
                f"{type(self).__name__}: {divergent} divergent transitions, largest R-hat {worst:.3f}; the "
                "posterior may be unreliable. Try target_accept=0.95, more tune and draws, or more chains.",
                SamplingWarning,
                stacklevel=3,
            )

    def save(self, path: Any) -> Any:
        """Save the posterior and a manifest as netCDF (:mod:`clvlab.bayes.persistence`); returns the path.

        Reload with :func:`clvlab.load`. The file holds arrays and JSON only, never code.
        """
        from clvlab.bayes.persistence import save_netcdf

        return save_netcdf(self, path)

    # -- fitted state --------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "idata_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(data) first")

    def summary(self) -> pd.DataFrame:
        """ArviZ summary of the parameters: mean, sd, HDI, MCSE, ESS and R-hat."""
        self._check_fitted()
        return _arviz.summary_table(self.idata_, list(self._all_names))

    def model_draws(self) -> ModelDraws:
        """The model as parameter draws (:mod:`clvlab.draws`): all posterior draws, for points and bounds."""
        return ModelDraws(model=self, mle=self._mle_view(), bayesian=True, posterior=self.param_draws())

    def _mle_view(self) -> BaseModel:
        """The maximum-likelihood twin at the posterior means, for validation and time units."""
        self._check_fitted()
        designs = getattr(self, "covariates_", None)
        if not designs:
            return self.mle_class.from_params(self.params_.to_dict(), time_unit=self.time_unit_)
        view = self.mle_class(**{f"{p}_covariates": v for p, v in self.covariate_specs().items()})
        view.params_ = self.params_.copy()
        view.covariates_ = designs
        view.time_unit_ = self.time_unit_
        return view

    def param_draws(self) -> FloatArray:
        """Posterior draws of the parameters, shape (chains x draws, n_params)."""
        self._check_fitted()
        return self._draws.reshape(-1, self._draws.shape[-1])

    def _posterior(
        self,
        fn: Any,
        name: str,
        index: pd.Index,
        scalars: tuple[Any, ...],
        columns: tuple[FloatArray, ...],
        interval: float | None,
        return_draws: bool,
    ) -> pd.Series | pd.DataFrame | xr.DataArray:
        """Posterior mean (with credible bounds, or all draws) of ``fn(*params, *scalars, *columns)``.

        The formulas are evaluated once per distinct data row (customers sharing frequency, recency and
        age share every prediction) and gathered back to the customers.
        """
        draws = self.param_draws()
        if interval is None and not return_draws:
            # mean_over_draws groups the distinct rows itself.
            return pd.Series(mean_over_draws(fn, draws, columns, scalars), index=index, name=name)
        values = over_data_rows(
            fn, draws, columns, scalars, len(index), interval=interval, keep_draws=return_draws
        )
        if return_draws:
            chains, per_chain = self._draws.shape[:2]
            return xr.DataArray(
                values[0].reshape(chains, per_chain, len(index)),
                dims=("chain", "draw", "customer_id"),
                coords={"customer_id": index.to_numpy()},
                name=name,
            )
        series = pd.Series(values[0], index=index, name=name)
        level = float(interval) if interval is not None else float("nan")  # not None here
        return bounds_frame(series, values[1], values[2], level, "parameter")


class BayesTransactionModel(BayesModel):
    """Bayesian transaction models: the predictions of :class:`clvlab.models.base.TransactionModel`."""

    def _arrays(self, data: Any) -> tuple[pd.Index, tuple[FloatArray, ...]]:
        return self._mle_view().validated_columns(data)

    def _bind(self, fn: Any) -> Any:
        """``fn`` of the posterior draws' columns (per-customer parameters with covariates)."""
        return self._mle_view().bind(fn)

    def predict_purchases(
        self,
        data: Any,
        t: float,
        *,
        interval: float | None = None,
        interval_kind: str = "parameter",
        return_draws: bool = False,
    ) -> pd.Series | pd.DataFrame | xr.DataArray:
        """Posterior mean of E[X(T, T+t) | x, t_x, T].

        ``interval`` adds equal-tailed bounds (level and kind in ``attrs``): with ``interval_kind=
        "parameter"`` (default) credible bounds of the *expected* purchases over the posterior draws; with
        ``"predictive"`` bounds of the customer's *own* number of purchases, from the conditional pmf
        averaged over all posterior draws (the posterior predictive distribution; exact, see
        :mod:`clvlab.predictive`). ``return_draws`` returns every draw of the expectation as a DataArray
        with dims (chain, draw, customer_id).
        """
        kind = check_interval_kind(interval_kind, interval)
        index, cols = self._arrays(data)
        fn = self._bind(self.mle_class.formulas.conditional_expected_purchases)
        if kind == "predictive" and interval is not None:
            if return_draws:
                raise DataError("return_draws returns draws of the expectation: leave out interval_kind")
            t_ = float(non_negative(t, "t"))
            draws = self.param_draws()
            series = pd.Series(
                mean_over_draws(fn, draws, cols, (t_,)), index=index, name="expected_purchases"
            )
            lower, upper = purchase_count_bounds(self.model_draws(), draws, t_, cols, interval)
            return bounds_frame(series, lower, upper, interval, kind)
        return self._posterior(
            fn, "expected_purchases", index, (non_negative(t, "t"),), cols, interval, return_draws
        )

    def predict_p_alive(
        self, data: Any, *, interval: float | None = None, return_draws: bool = False
    ) -> pd.Series | pd.DataFrame | xr.DataArray:
        """Posterior mean of P(alive | x, t_x, T), with optional credible bounds or all draws."""
        index, cols = self._arrays(data)
        return self._posterior(
            self._bind(self.mle_class.formulas.p_alive), "p_alive", index, (), cols, interval, return_draws
        )

    def predict_purchase_probability(
        self, data: Any, t: float, n: int, *, interval: float | None = None, return_draws: bool = False
    ) -> pd.Series | pd.DataFrame | xr.DataArray:
        """Posterior mean of P(X(T, T+t) = n | x, t_x, T), with optional credible bounds or all draws."""
        index, cols = self._arrays(data)
        fn = self._bind(self.mle_class.formulas.conditional_purchase_pmf)
        scalars = (non_negative(t, "t"), whole_count(n, "n"))
        return self._posterior(fn, "purchase_probability", index, scalars, cols, interval, return_draws)

    def expected_purchases(self, t: Any) -> FloatArray:
        """Posterior mean of E[X(t)] for a new customer, vectorised over ``t``."""
        self._mle_view().require_no_covariates("E[X(t)] of a new customer")
        draws = self.param_draws()
        t_arr = np.atleast_1d(np.asarray(non_negative(t, "t"), dtype=np.float64))
        vals = self.mle_class.formulas.expected_purchases(
            *(draws[:, [j]] for j in range(draws.shape[1])), t_arr
        )
        out = np.asarray(vals, dtype=np.float64).mean(axis=0)
        return out if np.ndim(t) else np.asarray(out[0])
