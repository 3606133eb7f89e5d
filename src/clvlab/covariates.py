"""Covariates: customer attributes as design matrices, fitted once and re-applied exactly when scoring.

A model's ``purchase_covariates=``, ``dropout_covariates=`` or ``spend_covariates=`` is a right-hand-side
formula (``"~ channel + log(first_spend)"``, Wilkinson notation as implemented by ``formulaic``) or a list
of column names. :meth:`Design.fit` builds the design matrix from the frame passed to ``fit``:
categorical columns are treatment-coded against their first level, the intercept is dropped (the model's
baseline parameters play its role) and the encoding (formula, columns, levels, stateful transforms) is
kept, so that :meth:`Design.matrix` gives scoring data exactly the same columns. An unseen level, a missing
column or a missing value is a :class:`~clvlab.errors.DataError` naming it; a constant or collinear
covariate gives a :class:`~clvlab.errors.CovariateWarning` at fit time.

``formulaic`` is imported only when a covariate model is built.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from clvlab._types import FloatArray
from clvlab.errors import CovariateWarning, DataError

__all__ = ["Design", "covariate_formula"]

_INTERCEPT = "Intercept"


def covariate_formula(spec: str | Sequence[str], argument: str) -> str:
    """The right-hand-side formula of a covariate specification (a formula or a list of column names)."""
    if isinstance(spec, str):
        text = spec.strip()
        if "~" in text:
            lhs, _, text = text.partition("~")
            if lhs.strip():
                raise DataError(
                    f"{argument} takes a right-hand-side formula such as '~ channel + age', got {spec!r}"
                )
        text = text.strip()
        if not text:
            raise DataError(
                f"{argument} is an empty formula; pass e.g. '~ channel' or a list of column names"
            )
        return "~ " + text
    names = list(spec)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise DataError(
            f"{argument} must be a formula string or a non-empty list of column names, got {spec!r}"
        )
    if len(set(names)) != len(names):
        raise DataError(f"{argument} names a column twice: {names}")
    return "~ " + " + ".join(f"`{n}`" for n in names)


def _frame(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    raise DataError(f"covariates are read from a pandas DataFrame, got {type(data).__name__}")


def _jsonable(value: Any) -> Any:
    """State of formulaic's encoders and transforms as plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise DataError(
        f"covariate transform state of type {type(value).__name__} cannot be saved; use plain columns, "
        "C(...), log(...), center(...) or scale(...)"
    )


@dataclass(frozen=True)
class Design:
    """A fitted covariate encoding for one process of a model.

    Attributes
    ----------
    process : str
        ``"purchase"``, ``"dropout"`` or ``"spend"``.
    formula : str
        The right-hand-side formula.
    columns : tuple of str
        Names of the design columns (coefficients), intercept excluded.
    variables : tuple of str
        The data columns the formula reads.
    levels : dict
        Categorical factor -> its levels, the first being the reference level.
    transforms : dict
        State of stateful transforms (e.g. ``center``'s mean), as fitted.
    """

    process: str
    formula: str
    columns: tuple[str, ...]
    variables: tuple[str, ...]
    levels: dict[str, list[Any]] = field(default_factory=dict)
    transforms: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(cls, spec: str | Sequence[str], data: Any, process: str) -> tuple[Design, FloatArray]:
        """Build the design matrix of ``data`` and the encoding that reproduces it on other data."""
        import formulaic

        argument = f"{process}_covariates"
        formula = covariate_formula(spec, argument)
        frame = _frame(data)
        mm = _materialise(lambda: formulaic.model_matrix(formula, frame, na_action="raise"), frame, argument)
        spec_ = mm.model_spec
        names = [str(c) for c in mm.columns]
        keep = [i for i, c in enumerate(names) if c != _INTERCEPT]
        if len(keep) == len(names):
            raise DataError(f"{argument}: the formula must keep the intercept (do not write '- 1' or '+ 0')")
        if not keep:
            raise DataError(f"{argument}: {spec!r} gives no covariate columns")
        levels: dict[str, list[Any]] = {}
        for factor, (kind, state) in spec_.encoder_state.items():
            if getattr(kind, "value", kind) == "categorical":
                levels[str(factor)] = _jsonable(list(state["categories"]))
        design = cls(
            process=process,
            formula=formula,
            columns=tuple(names[i] for i in keep),
            variables=tuple(sorted(str(v) for v in spec_.required_variables)),
            levels=levels,
            transforms=_jsonable(dict(spec_.transform_state)),
        )
        z = np.asarray(mm.to_numpy(dtype=np.float64) if hasattr(mm, "to_numpy") else mm, dtype=np.float64)
        z = np.ascontiguousarray(z[:, keep])
        design._warn_unidentified(z)
        return design, z

    def _warn_unidentified(self, z: FloatArray) -> None:
        constant = [c for c, col in zip(self.columns, z.T, strict=True) if np.ptp(col) == 0]
        if constant:
            warnings.warn(
                f"{self.process} covariate column(s) {constant} are constant in the fitting data, so their "
                "coefficients are not identified; drop them",
                CovariateWarning,
                stacklevel=4,
            )
            return
        full = np.column_stack([np.ones(len(z)), z])
        if np.linalg.matrix_rank(full) < full.shape[1]:
            warnings.warn(
                f"{self.process} covariate columns {list(self.columns)} are collinear (with each other or "
                "the intercept) in the fitting data, so some coefficients are not identified; drop one",
                CovariateWarning,
                stacklevel=4,
            )

    def matrix(self, data: Any) -> FloatArray:
        """The design matrix of ``data``, with exactly the fitted columns (intercept excluded)."""
        import formulaic
        from formulaic.parser.types import Factor

        frame = _frame(data)
        argument = f"{self.process}_covariates"
        missing = [v for v in self.variables if v not in frame.columns]
        if missing:
            raise DataError(
                f"{argument}: the data lack covariate column(s) {missing} the model was fitted with "
                f"({self.formula}); join the customer attributes (e.g. rfm_summary(..., customers=...))"
            )
        encoder_state = {
            name: (Factor.Kind.CATEGORICAL, {"categories": list(levels)})
            for name, levels in self.levels.items()
        }
        spec = formulaic.ModelSpec(
            formula=self.formula,
            na_action="raise",
            encoder_state=encoder_state,
            transform_state=dict(self.transforms),
        )
        mm = _materialise(lambda: spec.get_model_matrix(frame), frame, argument)
        names = [str(c) for c in mm.columns]
        if tuple(c for c in names if c != _INTERCEPT) != self.columns:
            raise DataError(
                f"{argument}: the data give covariate columns {names}, the model has {list(self.columns)}"
            )
        keep = [i for i, c in enumerate(names) if c != _INTERCEPT]
        z = np.asarray(mm.to_numpy(dtype=np.float64) if hasattr(mm, "to_numpy") else mm, dtype=np.float64)
        return np.ascontiguousarray(z[:, keep])

    def to_dict(self) -> dict[str, Any]:
        """The encoding as JSON values (model files)."""
        return {
            "process": self.process,
            "formula": self.formula,
            "columns": list(self.columns),
            "variables": list(self.variables),
            "levels": self.levels,
            "transforms": self.transforms,
        }

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> Design:
        """Inverse of :meth:`to_dict`."""
        return cls(
            process=str(payload["process"]),
            formula=str(payload["formula"]),
            columns=tuple(str(c) for c in payload["columns"]),
            variables=tuple(str(v) for v in payload["variables"]),
            levels={str(k): list(v) for k, v in dict(payload.get("levels", {})).items()},
            transforms=dict(payload.get("transforms", {})),
        )


def _materialise(build: Any, frame: pd.DataFrame, argument: str) -> Any:
    """Run a formulaic build, turning its errors and mismatch warnings into clvlab's DataError."""
    from formulaic.errors import FormulaicError
    from formulaic.transforms.contrasts import DataMismatchWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", DataMismatchWarning)
        try:
            return build()
        except DataMismatchWarning as exc:
            unseen = re.search(r"\{.*\}", str(exc))
            raise DataError(
                f"{argument}: the data hold level(s) {unseen.group(0) if unseen else ''} the model was not "
                "fitted with; map them to a fitted level or refit with them"
            ) from None
        except (FormulaicError, ValueError, TypeError, NameError) as exc:
            text = str(exc).split("\n")[0]
            if "null" in text.lower():
                raise DataError(
                    f"{argument}: covariates must not be missing (nor give missing values, e.g. log(0)): "
                    + text
                ) from None
            raise DataError(f"{argument}: {text}") from None
