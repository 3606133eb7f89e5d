"""Save and load fitted maximum-likelihood models as documented, versioned JSON; never pickle.

A saved model is data, not code: loading a file never unpickles, never evaluates anything and never
imports a name read from the file. The model class is looked up in :data:`MODEL_REGISTRY`, an explicit
allow-list of classes (the five clvlab models, which :mod:`clvlab.models` registers when it is imported),
rebuilt through its constructor, and given back its fitted attributes. Floats are written with Python's
shortest round-trip representation, so a reloaded model gives bit-identical predictions.

Registry
--------
This module imports no model: the model families register with it. :func:`register_model` adds a class
to the allow-list of the JSON format; :func:`register_format` gives a file format its loader
(:mod:`clvlab.bayes` registers ``"netcdf"``, its posterior files, when it is imported). :func:`load` tells
the format from the file's first bytes and, if that format has no loader yet, imports the module
:data:`FORMAT_PROVIDERS` names for it (so loading a Bayesian file works without ``import clvlab.bayes``).

File format (``format_version`` 1)
----------------------------------
One UTF-8 JSON object (written indented, with a trailing newline) with exactly these fields:

``format`` : str
    Always ``"clvlab-model"``; identifies the file.
``format_version`` : int
    Version of this layout: ``1``, or ``2`` for a model with covariates (which adds the ``covariates``
    field). A file with a newer version than this clvlab reads is refused with a request to upgrade.
``clvlab_version`` : str
    ``clvlab.__version__`` of the clvlab that saved the file. Loading with another version warns
    (:class:`ModelVersionWarning`) but proceeds.
``model`` : str
    Class name, one of ``"BetaGeo"``, ``"ParetoNBD"``, ``"ModifiedBetaGeo"``, ``"BetaGeoBetaBinom"``,
    ``"GammaGamma"``.
``hyperparameters`` : object
    ``model.get_params()``: constructor argument name -> JSON scalar (e.g. ``{"penalizer": 0.0}``), or a
    list of column names for a covariate specification. Its keys must be hyperparameters of the class.
``params`` : object
    Parameter name -> estimate, keys exactly the class's ``param_names`` (positive, finite numbers),
    then the covariate coefficients (``"purchase:channel[T.web]"``, finite numbers), in that order.
``covariates`` : object (format version 2 only)
    Process -> the fitted covariate encoding (:meth:`clvlab.covariates.Design.to_dict`: formula, design
    columns, variables, categorical levels, transform state).
``covariance`` : list of lists or null
    Covariance matrix of the estimates (``covariance_``), rows and columns in ``param_names`` order;
    null for a model without one (built with ``from_params``).
``log_covariance`` : list of lists or null
    Covariance of the log-scale estimates (used by ``summary()`` for the confidence intervals), same
    layout; null when absent.
``log_likelihood``, ``aic``, ``bic``, ``n_customers`` : number or null
    ``log_likelihood_``, ``aic_``, ``bic_`` and ``n_customers_`` (the total customer weight of the fit);
    null when absent.
``n_iter`` : int or null
    Optimiser iterations of the fit (``n_iter_``); null when absent.
``time_unit`` : str or null
    ``time_unit_``: the time unit the parameters are in (``"W"``, ``"D"``, ``"period"``, ...); null when
    unknown.
``saved_at`` : str
    ISO 8601 UTC timestamp of the save, e.g. ``"2024-05-01T12:00:00+00:00"``.
``checksum`` : str
    ``"sha256:"`` followed by the hex SHA-256 of the canonical JSON of all the other fields:
    ``json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)``
    encoded as UTF-8. It covers the values, not the layout, so re-indenting the file keeps it valid,
    while a changed value or a truncated file is detected. It guards against corruption and accidental
    edits, not against a deliberate forger (it is not a signature).

Numbers: every float is a JSON number written with the shortest representation that round-trips
exactly. Non-finite floats (possible in a covariance whose Hessian was not positive definite) are
written as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``; the non-standard bare tokens
``NaN`` / ``Infinity`` are never written and are refused on reading.

Examples
--------
>>> import clvlab
>>> from clvlab.persistence import load, save
>>> m = clvlab.BetaGeo.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, time_unit="W")
>>> import pathlib, tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     path = save(m, pathlib.Path(d) / "bgnbd.json")
...     again = load(path)
>>> again.params_.equals(m.params_)
True
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import os
import re
import warnings
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np
import pandas as pd

from clvlab._guards import require_regular_file, write_atomically
from clvlab._version import __version__
from clvlab.covariates import Design
from clvlab.errors import DataError, ModelFileError, ModelVersionWarning, NotFittedError

if TYPE_CHECKING:
    from clvlab.models.base import BaseModel

__all__ = [
    "FORMAT",
    "FORMAT_PROVIDERS",
    "FORMAT_VERSION",
    "MODEL_REGISTRY",
    "ModelVersionWarning",
    "load",
    "register_format",
    "register_model",
    "save",
]

#: Value of the ``format`` field.
FORMAT = "clvlab-model"
#: The newest ``format_version`` this clvlab writes and reads.
FORMAT_VERSION = 2
_MODELS: dict[str, type[BaseModel]] = {}
#: The only classes a file may name: the ``model`` field is looked up here and nowhere else. Read-only;
#: filled by :func:`register_model` (``BetaGeo``, ``ParetoNBD``, ``ModifiedBetaGeo``,
#: ``BetaGeoBetaBinom``, ``GammaGamma``, registered by :mod:`clvlab.models`).
MODEL_REGISTRY: Mapping[str, type[BaseModel]] = MappingProxyType(_MODELS)
#: File format -> the module whose import registers its loader (and, for ``"json"``, its classes).
FORMAT_PROVIDERS: Mapping[str, str] = MappingProxyType({"json": "clvlab.models", "netcdf": "clvlab.bayes"})
_LOADERS: dict[str, Callable[[Path], Any]] = {}
# A netCDF-4 file is HDF5, which starts with these eight bytes; anything else is read as JSON.
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

# A saved model is a few kilobytes; anything far larger is not one, so do not read it all into memory.
_MAX_BYTES = 16 * 1024 * 1024
_FIELDS = (
    "format",
    "format_version",
    "clvlab_version",
    "model",
    "hyperparameters",
    "params",
    "covariance",
    "log_covariance",
    "log_likelihood",
    "aic",
    "bic",
    "n_customers",
    "n_iter",
    "time_unit",
    "saved_at",
    "checksum",
)
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_CHECKSUM_PREFIX = "sha256:"
_Fail = Callable[[str], ModelFileError]


# -- the registry -------------------------------------------------------------------------------------
def register_model(cls: type[BaseModel], name: str | None = None) -> None:
    """Allow JSON model files to name ``cls`` (as ``name``, by default its class name).

    Called by :mod:`clvlab.models` for its classes. Registering the same class again is a no-op; another
    class under a taken name is refused, so an import can never swap the class a file's name resolves to.

    Raises
    ------
    ValueError
        If ``name`` is already registered to another class.
    """
    key = cls.__name__ if name is None else name
    known = _MODELS.get(key)
    if known is not None and known is not cls:
        raise ValueError(
            f"model name {key!r} is already registered to {known.__module__}.{known.__qualname__}"
        )
    _MODELS[key] = cls


def register_format(format_name: str, loader: Callable[[Path], Any]) -> None:
    """Make :func:`load` read files of ``format_name`` (a key of :data:`FORMAT_PROVIDERS`) with ``loader``.

    ``loader(path)`` gets the checked regular file and returns the model; it is called directly by
    :func:`load`, so a warning it raises with ``stacklevel=3`` points at the caller of :func:`load`.

    Raises
    ------
    ValueError
        If ``format_name`` is not a known file format.
    """
    if format_name not in FORMAT_PROVIDERS:
        raise ValueError(f"unknown model file format {format_name!r}; known: {', '.join(FORMAT_PROVIDERS)}")
    _LOADERS[format_name] = loader


def _loader(format_name: str) -> Callable[[Path], Any]:
    """The format's loader, importing the module that registers it on first use."""
    if format_name not in _LOADERS:
        importlib.import_module(FORMAT_PROVIDERS[format_name])  # raises ImportError if its extra is missing
    return _LOADERS[format_name]


# -- saving -------------------------------------------------------------------------------------------
def save(model: BaseModel, path: str | os.PathLike[str]) -> Path:
    """Save a fitted model as a documented JSON file (see the module docstring for the format).

    The file is written atomically: to a temporary file in the same directory, then renamed over
    ``path``, so a crash never leaves a half-written model behind. Parent directories are created.

    Parameters
    ----------
    model : BetaGeo, ParetoNBD, ModifiedBetaGeo, BetaGeoBetaBinom or GammaGamma
        A fitted model, or one built with ``from_params``.
    path : str or os.PathLike
        Destination file; ``.json`` is the customary suffix.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    NotFittedError
        If the model has not been fitted.
    TypeError
        If ``model`` is not one of the clvlab model classes listed above.
    ValueError
        If a hyperparameter is not a JSON scalar (number, string, bool or None) or is a non-finite float.
    IsADirectoryError
        If ``path`` is an existing directory.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import clvlab
    >>> from clvlab.persistence import save
    >>> m = clvlab.GammaGamma.from_params({"p": 6.25, "q": 3.74, "gamma": 15.45})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save(m, pathlib.Path(d) / "models" / "spend.json").name
    'spend.json'
    """
    document = _to_document(model)
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"cannot save the model to {str(target)!r}: it is a directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(target, text.encode("utf-8"))
    return target


def _to_document(model: BaseModel) -> dict[str, Any]:

    name = type(model).__name__
    if MODEL_REGISTRY.get(name) is not type(model):
        raise TypeError(f"cannot save a {name}: only the clvlab models {sorted(MODEL_REGISTRY)} can be saved")
    if not hasattr(model, "params_"):
        raise NotFittedError(f"this {name} is not fitted yet; call fit(data) before saving it")
    names = [str(n) for n in model.params_.index]
    params = model.params_
    covariates = getattr(model, "covariates_", None) or {}
    fields: dict[str, Any] = {
        "format": FORMAT,
        "format_version": 2 if covariates else 1,
        "clvlab_version": __version__,
        "model": name,
        "hyperparameters": {k: _hyperparameter(name, k, v) for k, v in model.get_params().items()},
        "params": {k: _encode_float(params[k]) for k in names},
        "covariance": _encode_matrix(_attr(model, "covariance_"), len(names)),
        "log_covariance": _encode_matrix(_attr(model, "_log_covariance"), len(names)),
        "log_likelihood": _encode_optional_float(_attr(model, "log_likelihood_")),
        "aic": _encode_optional_float(_attr(model, "aic_")),
        "bic": _encode_optional_float(_attr(model, "bic_")),
        "n_customers": _encode_optional_float(_attr(model, "n_customers_")),
        "n_iter": None if _attr(model, "n_iter_") is None else int(model.n_iter_),
        "time_unit": _encode_time_unit(_attr(model, "time_unit_")),
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if covariates:
        fields["covariates"] = {p: d.to_dict() for p, d in covariates.items()}
    fields["checksum"] = _checksum(fields)
    return fields


def _attr(model: BaseModel, name: str) -> Any:
    return getattr(model, name, None)


def _hyperparameter(model_name: str, key: str, value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if (
        key.endswith("_covariates")
        and isinstance(value, list | tuple)
        and all(isinstance(v, str) for v in value)
    ):
        return list(value)
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise ValueError(
        f"cannot save {model_name}: hyperparameter {key}={value!r} is not a finite number, string, "
        "bool or None"
    )


def _encode_float(value: Any) -> float | str:
    x = float(value)
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def _encode_optional_float(value: Any) -> float | str | None:
    return None if value is None else _encode_float(value)


def _encode_matrix(value: Any, k: int) -> list[list[float | str]] | None:
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (k, k):
        raise ValueError(f"cannot save: a covariance matrix has shape {arr.shape}, expected {(k, k)}")
    return [[_encode_float(v) for v in row] for row in arr.tolist()]


def _encode_time_unit(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"cannot save: time_unit_ must be a string or None, got {value!r}")


def _checksum(fields: Mapping[str, Any]) -> str:
    body = {k: v for k, v in fields.items() if k != "checksum"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return _CHECKSUM_PREFIX + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _write_atomically(target: Path, data: bytes) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            fh.write(data)

    write_atomically(target, write)


# -- loading ------------------------------------------------------------------------------------------
def load(path: str | os.PathLike[str]) -> BaseModel:
    """Load a model saved by :func:`save`.

    The file is parsed as JSON only (never unpickled or evaluated), its checksum verified, and the model
    class looked up in :data:`MODEL_REGISTRY`; the model is rebuilt through its constructor with the saved
    hyperparameters and given back ``params_`` and whichever of ``covariance_``, ``_log_covariance``,
    ``log_likelihood_``, ``aic_``, ``bic_``, ``n_customers_``, ``n_iter_`` were saved, and ``time_unit_``.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.

    Returns
    -------
    BetaGeo, ParetoNBD, ModifiedBetaGeo, BetaGeoBetaBinom or GammaGamma
        The model, giving bit-identical predictions to the one saved.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ModelFileError
        If the path is a directory, a named pipe (FIFO), a device or anything else that is not a
        regular file (refused before it is opened, so loading never blocks), or the file is binary (e.g.
        a pickle), not JSON, truncated, not a clvlab model, of a newer format version, corrupted or
        modified (checksum mismatch), of an unknown model, or holds parameters that do not fit the model
        (wrong names, non-positive or non-finite values).

    Warns
    -----
    ModelVersionWarning
        If the file was saved by another clvlab version; both versions are named.
    """
    # Checked before any open: a named pipe would block the read forever, a device never end.
    source = require_regular_file(path, "clvlab model file", ModelFileError)
    with source.open("rb") as fh:
        magic = fh.read(len(_HDF5_MAGIC))
    # netCDF-4 / HDF5: a Bayesian model's posterior (clvlab.bayes); anything else must be our JSON.
    model: BaseModel = _loader("netcdf" if magic == _HDF5_MAGIC else "json")(source)
    return model


def _load_json(source: Path) -> BaseModel:
    """Read a JSON model file (the body of :func:`load`)."""
    importlib.import_module(FORMAT_PROVIDERS["json"])  # its classes are registered (a no-op once imported)
    doc = _read_document(source)
    where = str(source)

    def fail(message: str) -> ModelFileError:
        return ModelFileError(f"{where}: {message}")

    if not isinstance(doc, dict):
        raise fail(f"not a clvlab model file (the JSON holds a {_json_type(doc)}, not an object)")
    if doc.get("format") != FORMAT:
        raise fail(f'not a clvlab model file (no field "format": {json.dumps(FORMAT)})')
    version = doc.get("format_version")
    if not _is_int(version) or version < 1:
        raise fail(f"invalid format_version {version!r} (expected a positive integer)")
    if version > FORMAT_VERSION:
        saved_by = doc.get("clvlab_version")
        by = f"clvlab {saved_by}" if isinstance(saved_by, str) else "a newer clvlab"
        raise fail(
            f"saved by a newer clvlab ({by}, format version {version}); this clvlab {__version__} reads "
            f"format version {FORMAT_VERSION} at most: upgrade clvlab to load it"
        )
    missing = [k for k in _FIELDS if k not in doc]
    if missing:
        raise fail(f"not a complete clvlab model file: missing field(s) {', '.join(missing)}")
    if not isinstance(doc["checksum"], str) or doc["checksum"] != _checksum(doc):
        raise fail("checksum mismatch: the file is corrupted or was modified after saving")

    name = doc["model"]
    if not isinstance(name, str) or name not in MODEL_REGISTRY:
        raise fail(f"unknown model {name!r}; this clvlab knows {', '.join(MODEL_REGISTRY)}")
    cls = MODEL_REGISTRY[name]
    saved_version = doc["clvlab_version"]
    if not isinstance(saved_version, str):
        raise fail(f"invalid clvlab_version {saved_version!r} (expected a string)")

    if version < 2 and "covariates" in doc:
        raise fail("a format version 1 file cannot hold covariates")
    model = cls(**_hyperparameters(doc["hyperparameters"], cls, fail))
    designs = _covariates(doc.get("covariates"), cls, fail)
    names = list(cls.param_names) + [f"{p}:{c}" for p, d in designs.items() for c in d.columns]
    params = _params(doc["params"], cls, fail, names)
    model.params_ = pd.Series(params, index=names, name="estimate")
    if designs:
        model.covariates_ = designs
    covariance = _matrix(doc["covariance"], len(names), "covariance", fail)
    if covariance is not None:
        model.covariance_ = pd.DataFrame(covariance, index=names, columns=names)
    log_covariance = _matrix(doc["log_covariance"], len(names), "log_covariance", fail)
    for field, matrix in (("covariance", covariance), ("log_covariance", log_covariance)):
        _require_positive_definite(matrix, field, fail)
    if log_covariance is not None:
        model._log_covariance = log_covariance
    for field, attr in (
        ("log_likelihood", "log_likelihood_"),
        ("aic", "aic_"),
        ("bic", "bic_"),
        ("n_customers", "n_customers_"),
    ):
        if doc[field] is not None:
            setattr(model, attr, _decode_float(doc[field], field, fail))
    n_iter = doc["n_iter"]
    if n_iter is not None:
        if not _is_int(n_iter) or n_iter < 0:
            raise fail(f"invalid n_iter {n_iter!r} (expected a non-negative integer or null)")
        model.n_iter_ = n_iter
    time_unit = doc["time_unit"]
    if time_unit is not None and not isinstance(time_unit, str):
        raise fail(f"invalid time_unit {time_unit!r} (expected a string or null)")
    model.time_unit_ = time_unit

    if saved_version != __version__:
        warnings.warn(
            f"{where} was saved by clvlab {saved_version} and is loaded by clvlab {__version__}; "
            "predictions may differ if the model's formulas changed between the two",
            ModelVersionWarning,
            stacklevel=3,  # the caller of load()
        )
    return model


register_format("json", _load_json)


def _read_document(source: Path) -> Any:
    where = str(source)
    with source.open("rb") as fh:
        raw = fh.read(_MAX_BYTES + 1)
    if len(raw) > _MAX_BYTES:
        raise ModelFileError(f"{where}: not a clvlab model file (larger than {_MAX_BYTES // 2**20} MiB)")
    if not raw.strip():
        raise ModelFileError(f"{where}: not a clvlab model file (the file is empty)")
    binary = b"\x00" in raw
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        binary = True
    if binary:
        raise ModelFileError(f"{where}: not a clvlab model file (binary data; clvlab never loads pickles)")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as err:
        if _looks_truncated(text, err):
            raise ModelFileError(
                f"{where}: truncated JSON (the file ends early, at line {err.lineno}); the file is "
                "incomplete or corrupted"
            ) from None
        raise ModelFileError(
            f"{where}: not a clvlab model file (not valid JSON: {err.msg} at line {err.lineno} column "
            f"{err.colno})"
        ) from None
    except (ValueError, RecursionError) as err:  # bare NaN/Infinity, absurd nesting or integer length
        raise ModelFileError(f"{where}: not a clvlab model file (unsupported JSON: {err})") from None


def _refuse_constant(token: str) -> Any:
    raise ValueError(f"bare {token} is not standard JSON; clvlab writes non-finite numbers as strings")


def _looks_truncated(text: str, err: json.JSONDecodeError) -> bool:
    """Whether the JSON error is the parser running out of input rather than meeting bad input."""
    body = text.rstrip()
    if not body.lstrip().startswith(("{", "[")):
        return False
    if err.pos >= len(body) or err.msg.startswith("Unterminated string"):
        return True
    # The input stops inside a literal or a number ("nu", "-", "0.", "1e-").
    rest = body[err.pos :]
    return any(word.startswith(rest) for word in ("true", "false", "null")) or bool(
        re.fullmatch(r"-?[0-9]*(\.[0-9]*)?([eE][-+]?[0-9]*)?", rest)
    )


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _decode_float(value: Any, field: str, fail: _Fail) -> float:
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, float) or _is_int(value):
        try:
            return float(value)
        except OverflowError:
            pass
    raise fail(f"invalid number {value!r} in {field}")


def _hyperparameters(value: Any, cls: type[BaseModel], fail: _Fail) -> dict[str, Any]:
    required = set(cls().get_params())
    allowed = cls()._hyperparameter_names()
    if not isinstance(value, dict):
        raise fail(f"invalid hyperparameters {value!r} (expected an object)")
    if not (required <= set(value) <= allowed):
        raise fail(
            f"hyperparameters {sorted(value)} do not match {cls.__name__}'s {sorted(required)} "
            f"(optional: {sorted(allowed - required)})"
        )
    for key, v in value.items():
        listed = isinstance(v, list) and key.endswith("_covariates") and all(isinstance(c, str) for c in v)
        if isinstance(v, dict) or (isinstance(v, list) and not listed):
            raise fail(f"invalid hyperparameter {key}={v!r} (expected a number, string, bool or null)")
    return dict(value)


def _covariates(value: Any, cls: type[BaseModel], fail: _Fail) -> dict[str, Design]:
    """The fitted covariate encodings of a format-2 file (none when the field is absent)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not value:
        raise fail(f"invalid covariates {value!r} (expected an object of process -> encoding)")
    designs: dict[str, Design] = {}
    for process in cls.covariate_links:  # in the model's order, as the coefficients are
        if process in value:
            try:
                designs[process] = Design.from_dict(value[process])
            except (KeyError, TypeError, ValueError, DataError) as exc:
                raise fail(f"invalid covariates.{process}: {exc}") from None
    if set(value) != set(designs):
        raise fail(
            f"covariates {sorted(value)} are not processes of {cls.__name__}: {list(cls.covariate_links)}"
        )
    return designs


def _params(
    value: Any, cls: type[BaseModel], fail: _Fail, names: list[str]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    if not isinstance(value, dict):
        raise fail(f"invalid params {value!r} (expected an object of parameter name -> value)")
    if set(value) != set(names):
        raise fail(f"params {sorted(value)} do not match {cls.__name__}'s parameters {names}")
    arr = np.array([_decode_float(value[k], f"params.{k}", fail) for k in names], dtype=np.float64)
    positive = np.arange(len(names)) < len(cls.param_names)
    bad = ~np.isfinite(arr) | ((arr <= 0) & positive)
    if bad.any():
        k = names[int(np.flatnonzero(bad)[0])]
        raise fail(f"parameter {k}={value[k]!r} must be positive and finite")
    return arr


def _matrix(value: Any, k: int, field: str, fail: _Fail) -> np.ndarray[Any, np.dtype[np.float64]] | None:
    if value is None:
        return None
    if not (
        isinstance(value, list)
        and len(value) == k
        and all(isinstance(row, list) and len(row) == k for row in value)
    ):
        raise fail(f"invalid {field}: expected a {k} x {k} matrix (list of {k} lists of {k} numbers) or null")
    return np.array(
        [[_decode_float(v, field, fail) for v in row] for row in value], dtype=np.float64
    ).reshape(k, k)


def _require_positive_definite(
    matrix: np.ndarray[Any, np.dtype[np.float64]] | None, field: str, fail: _Fail
) -> None:
    """Refuse a finite covariance that is not positive definite (no valid normal draws, ``LinAlgError``).

    A matrix with non-finite entries (a fit whose Hessian was singular) is kept: it means "no intervals"
    and the model says so when asked for one.
    """
    if matrix is None or not np.isfinite(matrix).all():
        return
    try:  # reads the lower triangle, as the interval draws do
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        raise fail(
            f"invalid {field}: the matrix is not positive definite, so it is not a covariance of a fitted "
            "model (the file was edited or corrupted)"
        ) from None
