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

from clvlab.bayes import _arviz
from clvlab.bayes.base import BayesModel
from clvlab.bayes.models import BetaGeo, GammaGamma, ParetoNBD
from clvlab.errors import ModelFileError, NotFittedError
from clvlab.persistence import ModelVersionWarning

__all__ = ["BAYES_FORMAT", "BAYES_FORMAT_VERSION", "BAYES_REGISTRY", "load_netcdf", "save_netcdf"]

BAYES_FORMAT = "clvlab-bayes-model"
BAYES_FORMAT_VERSION = 1
#: The only classes a file can name.
BAYES_REGISTRY: Mapping[str, type[BayesModel]] = {
    "bayes.BetaGeo": BetaGeo,
    "bayes.ParetoNBD": ParetoNBD,
    "bayes.GammaGamma": GammaGamma,
}
_ENGINE = "h5netcdf"


def _checksum(manifest: Mapping[str, Any], draws: np.ndarray) -> str:
    digest = hashlib.sha256(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode())
    digest.update(np.ascontiguousarray(draws, dtype=np.float64).tobytes())
    return "sha256:" + digest.hexdigest()


def save_netcdf(model: BayesModel, path: str | os.PathLike[str]) -> Path:
    """Write a fitted Bayesian model's posterior and manifest to ``path`` (netCDF); return the path."""
    from clvlab import __version__

    if not hasattr(model, "idata_"):
        raise NotFittedError(f"this {type(model).__name__} is not fitted: there is nothing to save")
    name = f"bayes.{type(model).__name__}"
    if BAYES_REGISTRY.get(name) is not type(model):
        raise TypeError(f"{type(model).__name__} is not a registered clvlab Bayesian model")
    manifest = {
        "format": BAYES_FORMAT,
        "format_version": BAYES_FORMAT_VERSION,
        "clvlab_version": __version__,
        "model": name,
        "hyperparameters": model.get_params(),
        "time_unit": model.time_unit_,
        "n_customers": model.n_customers_,
        "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    manifest["checksum"] = _checksum(manifest, model.param_draws())
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    idata = _arviz.copy(model.idata_)
    idata["posterior"].attrs["clvlab_manifest"] = json.dumps(manifest)
    tmp = target.with_name(f".{target.name}.tmp")
    _arviz.to_netcdf(idata, str(tmp), engine=_ENGINE)
    os.replace(tmp, target)
    return target


def load_netcdf(path: str | os.PathLike[str]) -> BayesModel:
    """Load a Bayesian model written by :func:`save_netcdf` (through :func:`clvlab.load`)."""
    from clvlab import __version__

    where = str(path)
    try:
        idata = _arviz.from_netcdf(where, engine=_ENGINE)
        manifest = json.loads(idata["posterior"].attrs["clvlab_manifest"])
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{where}: not a readable clvlab Bayesian model file ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BAYES_FORMAT:
        raise ModelFileError(f"{where}: not a clvlab Bayesian model file")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > BAYES_FORMAT_VERSION:
        raise ModelFileError(
            f"{where}: saved by a newer clvlab (format version {version}, this clvlab reads up to "
            f"{BAYES_FORMAT_VERSION}); upgrade clvlab"
        )
    cls = BAYES_REGISTRY.get(str(manifest.get("model")))
    if cls is None:
        raise ModelFileError(f"{where}: unknown model {manifest.get('model')!r}")
    hyper = manifest.get("hyperparameters")
    if isinstance(hyper, dict) and "sampler" not in hyper:
        hyper = {**hyper, "sampler": "pymc"}  # files of clvlab 0.1.0 before the nutpie path was added
    if not isinstance(hyper, dict) or set(hyper) != set(cls().get_params()):
        raise ModelFileError(f"{where}: hyperparameters do not match {cls.__name__}")
    if hyper.get("priors") is not None:
        hyper["priors"] = {k: (v[0], dict(v[1])) for k, v in hyper["priors"].items()}
    model = cls(**hyper)
    model.idata_ = idata
    try:
        model._set_draws_from_idata()
    except KeyError as exc:
        raise ModelFileError(f"{where}: the posterior lacks parameter {exc}") from None
    claimed = manifest.pop("checksum", None)
    if claimed != _checksum(manifest, model.param_draws()):
        raise ModelFileError(f"{where}: checksum mismatch: the file is corrupted or was modified")
    model.time_unit_ = manifest.get("time_unit")
    model.n_customers_ = float(manifest.get("n_customers") or 0.0)
    if manifest.get("clvlab_version") != __version__:
        warnings.warn(
            f"{where} was saved by clvlab {manifest.get('clvlab_version')}, this is clvlab {__version__}",
            ModelVersionWarning,
            stacklevel=3,
        )
    return model
