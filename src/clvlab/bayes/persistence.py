"""Saving and loading Bayesian models: the posterior in netCDF, with the JSON format's manifest.

A file is ArviZ's netCDF (HDF5, via h5netcdf) of the model's InferenceData. Its posterior group's
attribute ``clvlab_manifest`` holds a JSON object with the manifest fields of :mod:`clvlab.persistence`:
``format`` ("clvlab-bayes-model"), ``format_version``, ``clvlab_version``, ``model``, ``hyperparameters``,
``time_unit``, ``n_customers``, ``saved_at`` and ``checksum``, the SHA-256 of the other fields and of the
posterior draws' bytes, so corrupted or edited files are refused. Only arrays and JSON are read; nothing
is unpickled or evaluated. A reloaded model predicts identically.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from clvlab._guards import write_atomically
from clvlab._version import __version__
from clvlab.bayes import _arviz
from clvlab.bayes.base import BayesModel
from clvlab.bayes.contractual import BetaDiscreteWeibull, ShiftedBetaGeometric
from clvlab.bayes.models import BetaGeo, BetaGeoBetaBinom, GammaGamma, ModifiedBetaGeo, ParetoNBD
from clvlab.covariates import Design
from clvlab.errors import ModelFileError, ModelVersionWarning, NotFittedError

__all__ = ["BAYES_FORMAT", "BAYES_FORMAT_VERSION", "BAYES_REGISTRY", "load_netcdf", "save_netcdf"]

BAYES_FORMAT = "clvlab-bayes-model"
BAYES_FORMAT_VERSION = 2
#: The only classes a file can name.
BAYES_REGISTRY: Mapping[str, type[BayesModel]] = {
    "bayes.BetaGeo": BetaGeo,
    "bayes.ParetoNBD": ParetoNBD,
    "bayes.ModifiedBetaGeo": ModifiedBetaGeo,
    "bayes.BetaGeoBetaBinom": BetaGeoBetaBinom,
    "bayes.GammaGamma": GammaGamma,
    "bayes.ShiftedBetaGeometric": ShiftedBetaGeometric,
    "bayes.BetaDiscreteWeibull": BetaDiscreteWeibull,
}
_ENGINE = "h5netcdf"


def _checksum(manifest: Mapping[str, Any], draws: np.ndarray) -> str:
    digest = hashlib.sha256(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode())
    digest.update(np.ascontiguousarray(draws, dtype=np.float64).tobytes())
    return "sha256:" + digest.hexdigest()


def save_netcdf(model: BayesModel, path: str | os.PathLike[str]) -> Path:
    """Write a fitted Bayesian model's posterior and manifest to ``path`` (netCDF); return the path."""
    if not hasattr(model, "idata_"):
        raise NotFittedError(f"this {type(model).__name__} is not fitted: there is nothing to save")
    name = f"bayes.{type(model).__name__}"
    if BAYES_REGISTRY.get(name) is not type(model):
        raise TypeError(f"{type(model).__name__} is not a registered clvlab Bayesian model")
    manifest = {
        "format": BAYES_FORMAT,
        "format_version": 1,  # 2 with covariates (below)
        "clvlab_version": __version__,
        "model": name,
        "hyperparameters": model.get_params(),
        "time_unit": model.time_unit_,
        "n_customers": model.n_customers_,
        "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    designs = getattr(model, "covariates_", None) or {}
    if designs:
        manifest["format_version"] = 2
        manifest["covariates"] = {p: d.to_dict() for p, d in designs.items()}
    manifest["checksum"] = _checksum(manifest, model.param_draws())
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    idata = _arviz.copy(model.idata_)
    idata["posterior"].attrs["clvlab_manifest"] = json.dumps(manifest)
    if target.is_dir():
        raise IsADirectoryError(f"cannot save the model to {str(target)!r}: it is a directory")
    # A unique temporary file per save, renamed into place: concurrent saves to one path never share a
    # file for HDF5 to collide on, and a failed save leaves the previous file intact.
    write_atomically(target, lambda tmp: _arviz.to_netcdf(idata, str(tmp), engine=_ENGINE))
    return target


def load_netcdf(path: str | os.PathLike[str]) -> BayesModel:
    """Load a Bayesian model written by :func:`save_netcdf` (registered with :func:`clvlab.load`)."""
    where = str(path)
    try:
        idata = _arviz.from_netcdf(where, engine=_ENGINE)
        manifest = json.loads(idata["posterior"].attrs["clvlab_manifest"])
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{where}: not a readable clvlab Bayesian model file ({exc})") from None
    cls, hyper = _check_manifest(manifest, where)
    try:
        model = cls(**hyper)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{where}: invalid hyperparameters for {cls.__name__} ({exc})") from None
    model.idata_ = idata
    covariates = manifest.get("covariates")
    if covariates is not None:
        if manifest["format_version"] < 2 or not isinstance(covariates, dict):
            raise ModelFileError(f"{where}: invalid covariates field in the manifest")
        try:
            model.covariates_ = {
                p: Design.from_dict(covariates[p]) for p in cls.mle_class.covariate_links if p in covariates
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{where}: invalid covariates in the manifest ({exc})") from None
    try:
        model._set_draws_from_idata()
    except KeyError as exc:
        raise ModelFileError(f"{where}: the posterior lacks parameter {exc}") from None
    except (ValueError, TypeError, IndexError) as exc:
        raise ModelFileError(f"{where}: the posterior's draws do not fit {cls.__name__} ({exc})") from None
    claimed = manifest.pop("checksum", None)
    if claimed != _checksum(manifest, model.param_draws()):
        raise ModelFileError(f"{where}: checksum mismatch: the file is corrupted or was modified")
    model.time_unit_ = manifest.get("time_unit")
    model.n_customers_ = float(manifest["n_customers"] or 0.0)
    if manifest.get("clvlab_version") != __version__:
        warnings.warn(
            f"{where} was saved by clvlab {manifest.get('clvlab_version')}, this is clvlab {__version__}",
            ModelVersionWarning,
            stacklevel=3,
        )
    return model


#: The manifest's fields and the JSON types each may hold (``None`` for null).
_MANIFEST_TYPES: Mapping[str, tuple[type | None, ...]] = {
    "format": (str,),
    "format_version": (int,),
    "clvlab_version": (str,),
    "model": (str,),
    "hyperparameters": (dict,),
    "time_unit": (str, None),
    "n_customers": (int, float, None),
    "saved_at": (str,),
    "checksum": (str,),
}


def _json_type_ok(value: Any, allowed: tuple[type | None, ...]) -> bool:
    if value is None:
        return None in allowed
    if isinstance(value, bool):  # JSON true/false is never a number here
        return bool in allowed
    return any(t is not None and isinstance(value, t) for t in allowed)


def _check_manifest(manifest: Any, where: str) -> tuple[type[BayesModel], dict[str, Any]]:
    """Check the manifest's shape and types; return the model class and its constructor arguments.

    Raises
    ------
    ModelFileError
        If the manifest is not a JSON object with exactly the documented fields of the documented types,
        names another format, a newer format version or an unknown model, or its hyperparameters do not
        match the model's (``priors`` must be null or an object of name -> [distribution, {parameters}]).
    """
    if not isinstance(manifest, dict):
        kind = "list" if isinstance(manifest, list) else type(manifest).__name__
        raise ModelFileError(
            f"{where}: not a clvlab Bayesian model file (its manifest is a {kind}, not an object)"
        )
    if manifest.get("format") != BAYES_FORMAT:
        raise ModelFileError(f"{where}: not a clvlab Bayesian model file")
    missing = [k for k in _MANIFEST_TYPES if k not in manifest]
    if missing:
        raise ModelFileError(f"{where}: incomplete manifest: missing field(s) {', '.join(missing)}")
    for key, allowed in _MANIFEST_TYPES.items():
        if not _json_type_ok(manifest[key], allowed):
            names = " or ".join("null" if t is None else t.__name__ for t in allowed)
            raise ModelFileError(
                f"{where}: invalid manifest field {key}={manifest[key]!r} (expected {names})"
            )
    version = manifest["format_version"]
    if version < 1 or version > BAYES_FORMAT_VERSION:
        raise ModelFileError(
            f"{where}: format version {version} is not one this clvlab reads (1 to {BAYES_FORMAT_VERSION}); "
            "a newer file needs a newer clvlab"
        )
    cls = BAYES_REGISTRY.get(manifest["model"])
    if cls is None:
        raise ModelFileError(
            f"{where}: unknown model {manifest['model']!r}; known: {', '.join(BAYES_REGISTRY)}"
        )
    hyper = dict(manifest["hyperparameters"])
    if "sampler" not in hyper:
        hyper["sampler"] = "pymc"  # files of clvlab 0.1.0 before the nutpie path was added
    hyper.setdefault("init_jitter", None)  # files from before init_jitter: each sampler's default
    if not (set(cls().get_params()) <= set(hyper) <= cls()._hyperparameter_names()):
        raise ModelFileError(f"{where}: hyperparameters do not match {cls.__name__}")
    for key, value in hyper.items():
        if isinstance(value, list) and key.endswith("_covariates") and all(isinstance(v, str) for v in value):
            continue
        if isinstance(value, dict | list) and key != "priors":
            raise ModelFileError(f"{where}: invalid hyperparameter {key}={value!r}")
    priors = hyper.get("priors")
    if priors is not None:
        if not isinstance(priors, dict) or not all(
            isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], dict)
            for v in priors.values()
        ):
            raise ModelFileError(
                f"{where}: invalid priors {priors!r} (expected an object of name -> "
                "[distribution, {parameters}])"
            )
        hyper["priors"] = {k: (v[0], dict(v[1])) for k, v in priors.items()}
    return cls, hyper
