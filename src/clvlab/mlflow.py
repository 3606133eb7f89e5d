"""clvlab models as MLflow models: logged as clvlab's own model files, served as a pyfunc.

:func:`log_model` logs a fitted transaction model (optionally with its Gamma-Gamma spend model) as an
MLflow model of the ``python_function`` flavour through MLflow's ``loader_module`` mechanism: the
artifact is clvlab's own model file (JSON; netCDF for :mod:`clvlab.bayes`) plus a small JSON of
settings, loaded back by :func:`clvlab.persistence.load`. Nothing is pickled, neither the model nor a
wrapper, and loading never runs code from the artifact. The model's input schema (``frequency``,
``recency``, ``T``, and ``monetary_value`` with a spend model) lets ``mlflow.pyfunc.spark_udf`` score a
Spark DataFrame; the fitted parameters, and holdout metrics when given, are logged with it.

MLflow (``pip install "clvlab[mlflow]"``, which installs ``mlflow-skinny``) is imported only when a
function here is called; ``import clvlab`` never imports it.

Examples
--------
>>> import clvlab, clvlab.mlflow  # doctest: +SKIP
>>> info = clvlab.mlflow.log_model(bg, "clv", spend_model=gg, horizon=52, discount_rate=0.1,
...                                discount_period=52, holdout=split)  # doctest: +SKIP
>>> udf = mlflow.pyfunc.spark_udf(spark, info.model_uri, result_type=clvlab.mlflow.result_type(bg, gg, 52))
... # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import re
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from clvlab._version import __version__
from clvlab.draws import model_draws
from clvlab.errors import DataError, DegenerateSegmentsWarning

__all__ = [
    "LoggedModels",
    "covariate_inputs",
    "input_columns",
    "load_model",
    "log_model",
    "output_columns",
    "result_type",
    "save_model",
]

#: Files of the artifact directory.
_MODEL, _SPEND, _SETTINGS = "model", "spend_model", "settings.json"
#: Name of the artifact directory inside the MLflow model (``data/clvlab``).
_DATA_DIR = "clvlab"


class LoggedModels(NamedTuple):
    """What :func:`load_model` returns: the clvlab models and the settings they were logged with."""

    model: Any
    spend_model: Any
    settings: dict[str, Any]


def _encode(value: float) -> float | str:
    return value if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")


def _decode(value: Any) -> Any:
    return (
        {"Infinity": math.inf, "-Infinity": -math.inf}.get(value, value) if isinstance(value, str) else value
    )


def _settings(
    model: Any,
    spend_model: Any,
    horizon: float | None,
    discount_rate: float,
    discount_period: float,
    method: str,
    margin: float | None = None,
) -> dict[str, Any]:
    md = model_draws(model)
    if spend_model is not None:
        model_draws(spend_model, "spend", "spend_model")
        if md.role != "transaction":
            raise DataError("with spend_model=, model must be a transaction model (BG/NBD, Pareto/NBD, ...)")
        if horizon is None:
            raise DataError(
                "a transaction model logged with its spend model needs horizon= to value customers"
            )
    if horizon is not None and not horizon > 0:
        raise DataError(f"horizon must be positive (in the model's time unit), got {horizon!r}")
    if margin is not None:
        if spend_model is None:
            raise DataError("margin= values customers on profit: it needs spend_model= (and horizon=)")
        if isinstance(margin, bool | str) or not (
            isinstance(margin, int | float) and math.isfinite(margin) and 0 < margin <= 1
        ):
            raise DataError(f"margin must be a rate in (0, 1] (0.3 for 30%), got {margin!r}")
    return {
        "role": md.role,
        "model": md.name,
        "spend_model": None if spend_model is None else model_draws(spend_model).name,
        "time_unit": md.time_unit,
        "horizon": None if horizon is None else _encode(float(horizon)),
        "discount_rate": float(discount_rate),
        "discount_period": float(discount_period),
        "method": method,
        "margin": None if margin is None else float(margin),
        "clvlab_version": __version__,
    }


def input_columns(model: Any, spend_model: Any = None) -> list[str]:
    """The columns the pyfunc reads: the models' summary columns, then their covariates' columns."""
    columns = list(model_draws(model).mle.data_columns)
    if spend_model is not None:
        columns += [c for c in model_draws(spend_model).mle.data_columns if c not in columns]
    return columns + [c for c in covariate_inputs(model, spend_model) if c not in columns]


def covariate_inputs(model: Any, spend_model: Any = None) -> dict[str, str]:
    """The customer-attribute columns the models' covariate formulas read, with their MLflow types.

    A column read as a categorical factor (``"channel"``, ``"C(region)"``) is ``"string"``,
    ``"boolean"`` or ``"long"`` like its fitted levels; any other column is ``"double"``. Empty for
    models without covariates.
    """
    out: dict[str, str] = {}
    for m in (model, spend_model):
        for design in (getattr(m, "covariates_", None) or {}).values():
            for var in design.variables:
                pattern = re.compile(rf"(?<![\w.]){re.escape(var)}(?![\w.])")
                levels = [v for f, lv in design.levels.items() if pattern.search(f) for v in lv]
                out.setdefault(var, _level_type(levels) if levels else "double")
    return out


def _level_type(levels: list[Any]) -> str:
    if all(isinstance(v, bool) for v in levels):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in levels):
        return "long"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in levels):
        return "double"
    return "string"


def output_columns(
    model: Any, spend_model: Any = None, horizon: float | None = None, margin: float | None = None
) -> list[str]:
    """The columns the pyfunc returns for these models, horizon and margin (all float64).

    A spend model alone gives ``expected_spend``; a transaction model ``p_alive`` (and
    ``expected_purchases`` with a finite ``horizon``); both give the per-customer columns of the
    targeting table: ``p_alive``, ``expected_purchases`` (finite horizon), ``discounted_purchases``,
    ``expected_spend`` and ``clv``, or with a ``margin`` ``margin``, ``clv_revenue`` and ``clv_profit``.
    """
    if model_draws(model).role == "spend":
        return ["expected_spend"]
    finite = horizon is not None and math.isfinite(horizon)
    out = ["p_alive", *(["expected_purchases"] if finite else [])]
    if spend_model is not None:
        out += ["discounted_purchases", "expected_spend"]
        out += ["clv"] if margin is None else ["margin", "clv_revenue", "clv_profit"]
    return out


def result_type(
    model: Any, spend_model: Any = None, horizon: float | None = None, margin: float | None = None
) -> str:
    """The ``result_type`` to pass to ``mlflow.pyfunc.spark_udf``: a struct of the output columns."""
    return ", ".join(f"{c} double" for c in output_columns(model, spend_model, horizon, margin))


def _signature(model: Any, spend_model: Any, horizon: float | None, margin: float | None = None) -> Any:
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import ColSpec, Schema

    types = covariate_inputs(model, spend_model)
    inputs = Schema([ColSpec(types.get(c, "double"), c) for c in input_columns(model, spend_model)])
    outputs = Schema([ColSpec("double", c) for c in output_columns(model, spend_model, horizon, margin)])
    return ModelSignature(inputs=inputs, outputs=outputs)


def save_model(
    model: Any,
    path: str | Path,
    *,
    spend_model: Any = None,
    horizon: float | None = None,
    discount_rate: float = 0.0,
    discount_period: float = 1.0,
    method: str = "continuous",
    margin: float | None = None,
    pip_requirements: list[str] | None = None,
) -> Path:
    """Save the models as an MLflow model directory at ``path`` (see :func:`log_model`); returns it."""
    import mlflow.pyfunc

    settings = _settings(model, spend_model, horizon, discount_rate, discount_period, method, margin)
    with tempfile.TemporaryDirectory(prefix="clvlab-mlflow-") as tmp, _no_example_nag():
        data = _write_artifacts(Path(tmp) / _DATA_DIR, model, spend_model, settings)
        mlflow.pyfunc.save_model(
            str(path),
            loader_module=__name__,
            data_path=str(data),
            signature=_signature(model, spend_model, horizon, margin),
            pip_requirements=pip_requirements or _requirements(),
        )
    return Path(path)


@contextmanager
def _no_example_nag() -> Iterator[None]:
    """Silence MLflow's request for an input example (the signature states the schema in full).

    Only that message, only around MLflow's own call. (An example would make MLflow 3 run pandas code
    that pandas 3 deprecates.)
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*An input example was not provided", category=UserWarning)
        yield


def _requirements() -> list[str]:
    import mlflow

    return [f"clvlab=={__version__}", f"mlflow-skinny=={mlflow.__version__}"]


def _write_artifacts(directory: Path, model: Any, spend_model: Any, settings: dict[str, Any]) -> Path:
    directory.mkdir(parents=True)
    model.save(directory / _MODEL)
    if spend_model is not None:
        spend_model.save(directory / _SPEND)
    (directory / _SETTINGS).write_text(
        json.dumps(settings, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    return directory


def log_model(
    model: Any,
    name: str = "model",
    *,
    spend_model: Any = None,
    horizon: float | None = None,
    discount_rate: float = 0.0,
    discount_period: float = 1.0,
    method: str = "continuous",
    margin: float | None = None,
    params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, float] | None = None,
    holdout: pd.DataFrame | None = None,
    registered_model_name: str | None = None,
    pip_requirements: list[str] | None = None,
) -> Any:
    """Log a fitted clvlab model (and its spend model) to MLflow as a pyfunc backed by clvlab's files.

    Parameters
    ----------
    model : clvlab model
        A fitted transaction model (``BetaGeo``, ``ParetoNBD``, ...), or a ``GammaGamma`` alone;
        maximum-likelihood or :mod:`clvlab.bayes`.
    name : str
        Name of the logged model (its artifact path in the run).
    spend_model : GammaGamma, optional
        With a transaction model: the pyfunc then returns CLV (see :func:`output_columns`).
    horizon, discount_rate, discount_period, method
        As in :func:`clvlab.predict_customer_value`, in the model's time unit; ``horizon`` is needed with
        a spend model and gives ``expected_purchases`` when finite.
    margin : float, optional
        With a spend model: a profit margin in (0, 1]; the pyfunc then values customers on profit
        (``margin``, ``clv_revenue``, ``clv_profit`` instead of ``clv``), as
        :func:`clvlab.predict_customer_value` with ``margin=``.
    params : mapping, optional
        Further run parameters to log. The models' estimates, time unit and the settings above are
        always logged (``BetaGeo.r``, ``time_unit``, ``horizon``, ...).
    metrics : mapping, optional
        Metrics to log, e.g. the ``value`` column of :func:`clvlab.evaluate` as a dict.
    holdout : pandas.DataFrame, optional
        A :func:`clvlab.calibration_holdout_split` frame: :func:`clvlab.evaluate` runs on it (with the
        spend model when given) and its metrics are logged as ``holdout_<metric>``.
    registered_model_name : str, optional
        Also register the model under this name.
    pip_requirements : list of str, optional
        The model's requirements (default: this clvlab and mlflow-skinny versions).

    Returns
    -------
    mlflow.models.model.ModelInfo
        MLflow's description of the logged model (``model_uri`` for ``mlflow.pyfunc.load_model`` and
        ``spark_udf``, or :func:`load_model`).

    Notes
    -----
    The pyfunc takes a DataFrame with the input schema's columns (``frequency``, ``recency``, ``T``, and
    ``monetary_value`` with a spend model; ``n_periods`` for BG/BB; then the customer attributes the
    covariate formulas read, see :func:`covariate_inputs`) in the model's time unit, which it cannot
    check (a pyfunc input has no metadata), and returns :func:`output_columns` for the same rows.
    Runs in the active MLflow run, or in a new one that it ends.
    """
    import mlflow
    import mlflow.pyfunc

    settings = _settings(model, spend_model, horizon, discount_rate, discount_period, method, margin)
    run_params = _run_params(model, spend_model, settings)
    run_params.update({str(k): v for k, v in (params or {}).items()})
    run_metrics = {str(k): float(v) for k, v in (metrics or {}).items()}
    if holdout is not None:
        from clvlab.evaluation import evaluate

        report = evaluate(model, holdout, spend_model=spend_model)
        run_metrics.update({f"holdout_{k}": float(v) for k, v in report["value"].items()})
    run = nullcontext() if mlflow.active_run() is not None else mlflow.start_run()
    with run, tempfile.TemporaryDirectory(prefix="clvlab-mlflow-") as tmp, _no_example_nag():
        data = _write_artifacts(Path(tmp) / _DATA_DIR, model, spend_model, settings)
        info = mlflow.pyfunc.log_model(
            name=name,
            loader_module=__name__,
            data_path=str(data),
            signature=_signature(model, spend_model, horizon, margin),
            pip_requirements=pip_requirements or _requirements(),
            registered_model_name=registered_model_name,
        )
        mlflow.log_params(run_params)
        if run_metrics:
            mlflow.log_metrics(run_metrics)
    return info


def _run_params(model: Any, spend_model: Any, settings: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in settings.items() if v is not None and k != "clvlab_version"}
    for m in (model, spend_model):
        if m is None:
            continue
        md = model_draws(m)
        out.update({_param_key(f"{type(m).__name__}.{k}"): v for k, v in md.estimate.items()})
    return out


def _param_key(name: str) -> str:
    """A run-parameter name MLflow accepts: ``purchase:channel[T.web]`` -> ``purchase:channel.T.web``.

    MLflow allows alphanumerics, ``_ - . : /`` and spaces; other characters of covariate coefficient
    names (parentheses of ``log(x)``, ``*`` of interactions) become ``_``.
    """
    return re.sub(r"[^\w\-.:/ ]", "_", name.replace("[", ".").replace("]", ""))


def _data_dir(local_path: Path) -> Path:
    """The clvlab artifact directory of a downloaded MLflow model."""
    from mlflow.models import Model

    conf = Model.load(str(local_path)).flavors.get("python_function", {})
    if conf.get("loader_module") != __name__ or "data" not in conf:
        raise DataError(f"{local_path} is not an MLflow model logged by clvlab.mlflow.log_model")
    return local_path / str(conf["data"])


def load_model(model_uri: str) -> LoggedModels:
    """The clvlab models of an MLflow model logged by :func:`log_model`, loaded from their own files.

    Parameters
    ----------
    model_uri : str
        Any MLflow model URI (``runs:/<run id>/<name>``, ``models:/<name>/<version>``, a path).

    Returns
    -------
    LoggedModels
        ``model``, ``spend_model`` (None when not logged) and the ``settings`` (horizon, rates, time
        unit) they were logged with. Use ``mlflow.pyfunc.load_model`` for the pyfunc itself.
    """
    from mlflow.artifacts import download_artifacts

    local = Path(download_artifacts(artifact_uri=model_uri))
    return _read(_data_dir(local))


def _read(directory: Path) -> LoggedModels:
    from clvlab.persistence import load

    settings = {k: _decode(v) for k, v in json.loads((directory / _SETTINGS).read_text("utf-8")).items()}
    model = load(directory / _MODEL)
    spend = load(directory / _SPEND) if (directory / _SPEND).exists() else None
    return LoggedModels(model, spend, settings)


@dataclass(frozen=True)
class _Pyfunc:
    """The object MLflow's ``loader_module`` protocol serves: ``predict(DataFrame) -> DataFrame``."""

    models: LoggedModels

    def predict(self, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Score the rows of ``model_input`` (see :func:`output_columns`), in their order."""
        model, spend, settings = self.models
        columns = input_columns(model, spend)
        frame = pd.DataFrame(model_input)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(f"the input lacks column(s) {missing}; the model reads {columns}")
        attributes = covariate_inputs(model, spend)
        data = pd.DataFrame(
            {
                c: frame[c].to_numpy() if c in attributes else frame[c].to_numpy(dtype=np.float64)
                for c in columns
            },
            index=pd.RangeIndex(len(frame)),
        )
        data.attrs["time_unit"] = settings.get("time_unit")
        horizon = settings.get("horizon")
        if settings["role"] == "spend":
            out = pd.DataFrame({"expected_spend": model.predict_spend(data).to_numpy()})
        elif spend is not None:
            from clvlab.targeting import predict_customer_value

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DegenerateSegmentsWarning)  # about a whole table
                table = predict_customer_value(
                    model,
                    spend,
                    data,
                    horizon=float(horizon if horizon is not None else math.nan),
                    discount_rate=settings["discount_rate"],
                    discount_period=settings["discount_period"],
                    method=settings["method"],
                    margin=settings.get("margin"),
                )
            out = table[output_columns(model, spend, horizon, settings.get("margin"))].reset_index(drop=True)
        else:
            out = pd.DataFrame({"p_alive": model.predict_p_alive(data).to_numpy()})
            if horizon is not None and math.isfinite(horizon):
                out["expected_purchases"] = model.predict_purchases(data, horizon).to_numpy()
        return out


def _load_pyfunc(data_path: str) -> _Pyfunc:
    """MLflow's ``loader_module`` entry point: the pyfunc of the artifact directory ``data_path``."""
    return _Pyfunc(_read(Path(data_path)))
