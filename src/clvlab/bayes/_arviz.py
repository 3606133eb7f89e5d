"""One place for the posterior container of both supported stacks: ArviZ 0.x and ArviZ 1.x.

PyMC 5 with ArviZ 0.x (Python 3.11) returns an ``arviz.InferenceData``; PyMC 6 with ArviZ 1.x (Python 3.12
and newer) returns an ``xarray.DataTree``. Both index groups by name (``idata["posterior"]`` is a Dataset-
like node whose variables are ``(chain, draw)`` arrays) and both read and write the same netCDF layout
(one HDF5 group per ArviZ group), so a file written on one stack loads on the other. What differs, and is
kept here so that no other module asks which stack it runs on: adding a group, listing groups, copying,
writing and reading netCDF, building a container from arrays, and ArviZ's summary table (whose columns
and rounding changed in 1.0). Everything else in :mod:`clvlab.bayes` goes through these functions.
"""

from __future__ import annotations

import warnings
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

__all__ = [
    "ARVIZ_MAJOR",
    "Posterior",
    "add_group",
    "from_netcdf",
    "group_names",
    "is_posterior",
    "posterior_dataset",
    "posterior_from_arrays",
    "rhat",
    "summary_table",
    "to_netcdf",
]

#: The ArviZ major version installed (0 or 1).
ARVIZ_MAJOR = int(str(az.__version__).split(".")[0])

#: ``arviz.InferenceData`` (ArviZ 0.x) or ``xarray.DataTree`` (ArviZ 1.x).
Posterior = Any

#: Columns of :func:`summary_table` on every stack (ArviZ 0.x's names and order).
SUMMARY_COLUMNS = ("mean", "sd", "hdi_3%", "hdi_97%", "mcse_mean", "mcse_sd", "ess_bulk", "ess_tail", "r_hat")


def is_posterior(obj: Any) -> bool:
    """Whether ``obj`` is the installed stack's posterior container."""
    if ARVIZ_MAJOR >= 1:
        return isinstance(obj, xr.DataTree)
    return isinstance(obj, az.InferenceData)


def group_names(idata: Posterior) -> list[str]:
    """The names of the container's groups (``posterior``, ``sample_stats``, ...)."""
    if ARVIZ_MAJOR >= 1:
        return [str(name) for name in idata.children]
    return [str(name) for name in idata.groups()]


def posterior_dataset(idata: Posterior, group: str = "posterior") -> xr.Dataset:
    """One group as an ``xarray.Dataset`` (a copy-free view on ArviZ 0.x)."""
    node = idata[group]
    dataset: xr.Dataset = node.to_dataset() if ARVIZ_MAJOR >= 1 else node
    return dataset


def add_group(idata: Posterior, name: str, dataset: xr.Dataset) -> Posterior:
    """Add (or replace) group ``name``; returns the container (changed in place)."""
    if ARVIZ_MAJOR >= 1:
        idata[name] = xr.DataTree(dataset=dataset)
        return idata
    if name in idata.groups():
        delattr(idata, name)
    idata.add_groups({name: dataset})
    return idata


def posterior_from_arrays(posterior: dict[str, np.ndarray]) -> Posterior:
    """A container whose posterior group holds ``(chain, draw)`` arrays."""
    if ARVIZ_MAJOR >= 1:
        return az.from_dict({"posterior": posterior})
    return az.from_dict(posterior=posterior)


def to_netcdf(idata: Posterior, path: str, engine: str) -> None:
    """Write the container to ``path`` (one HDF5 group per ArviZ group, on both stacks)."""
    idata.to_netcdf(path, engine=engine)


def from_netcdf(path: str, engine: str) -> Posterior:
    """Read a netCDF file written by either stack into this stack's container, fully loaded."""
    with warnings.catch_warnings():
        # ArviZ 1.x warns that files from ArviZ 0.x lack its "sample_dims" attribute; they are read
        # correctly all the same (chain and draw are the sample dimensions of both).
        warnings.simplefilter("ignore", UserWarning)
        idata = az.from_netcdf(path, engine=engine)
    if ARVIZ_MAJOR >= 1:
        # xarray opens the file lazily; load it so the file handle is released (an atomic save may
        # replace the file while this model is still in use).
        idata = idata.load()
    return idata


def copy(idata: Posterior) -> Posterior:
    """A deep copy of the container (attributes included)."""
    return idata.copy(deep=True) if ARVIZ_MAJOR >= 1 else idata.copy()


def rhat(idata: Posterior, names: list[str]) -> dict[str, float]:
    """Rank-normalised split R-hat of each parameter (Vehtari et al. 2021), as ArviZ computes it."""
    values = az.rhat(idata, var_names=names)
    return {n: float(np.asarray(values[n])) for n in names}


def summary_table(idata: Posterior, names: list[str]) -> pd.DataFrame:
    """ArviZ's summary of ``names``: mean, sd, 94% HDI, MCSE, ESS and R-hat, unrounded.

    The same columns on both stacks (ArviZ 0.x's names: ``hdi_3%``, ``hdi_97%``, ...): ArviZ 1.x calls
    the interval ``hdi94_lb``/``hdi94_ub`` and rounds to strings by default.
    """
    summary: Any = az.summary  # typed after whichever ArviZ the type checker sees
    with warnings.catch_warnings():
        # A posterior mode (method="map") is one draw: its sd, MCSE and ESS are undefined (NaN in the
        # table), which numpy announces as "Degrees of freedom <= 0"; the NaN says it.
        warnings.filterwarnings("ignore", message="Degrees of freedom <= 0", category=RuntimeWarning)
        warnings.filterwarnings("ignore", message="invalid value encountered", category=RuntimeWarning)
        if ARVIZ_MAJOR >= 1:
            raw = summary(idata, var_names=names, ci_kind="hdi", ci_prob=0.94, round_to="none")
            raw = raw.rename(columns={"hdi94_lb": "hdi_3%", "hdi94_ub": "hdi_97%"})
        else:
            raw = summary(idata, var_names=names, hdi_prob=0.94, round_to="none")
    table = pd.DataFrame(raw).loc[names, list(SUMMARY_COLUMNS)].astype(np.float64)
    table.index.name = None
    return table
