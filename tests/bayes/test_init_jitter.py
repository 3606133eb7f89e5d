"""Where the chains start: init_jitter spreads the NUTS starting points around the maximum-likelihood fit."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import clvlab

pytest.importorskip("pymc")
cb = pytest.importorskip("clvlab.bayes")
pytest.importorskip("nutpie")  # the starting points are chosen (and kept) on the nutpie path
from clvlab.bayes import _arviz  # noqa: E402  (after the skip: needs the bayes extra)


@pytest.fixture(scope="module")
def dispersed(cdnow_summary):
    return cb.BetaGeo(draws=300, tune=300, chains=4, random_seed=3, progressbar=False, init_jitter=1.0).fit(
        cdnow_summary
    )


def test_dispersed_chains_start_apart_and_agree(dispersed, cdnow_summary):
    mle = clvlab.BetaGeo().fit(cdnow_summary).params_
    starts = dispersed.initial_points_
    assert list(starts.index) == [0, 1, 2, 3]
    assert list(starts.columns) == ["r", "alpha", "a", "b"]
    # Each start is the MLE times exp(U(-1, 1)) (all four parameters are positive: log scale) ...
    offsets = np.log(starts / mle)
    assert (offsets.abs() <= 1.0 + 1e-9).all().all()
    # ... and the four starts are spread out: in every parameter the chains start at least 0.5 apart on
    # the log scale (four uniform draws on (-1, 1) fall within 0.5 of each other with probability
    # 4 x 0.25^3 - 3 x 0.25^4 ~ 5%, fixed here by the seed), several posterior standard deviations.
    spread = offsets.max() - offsets.min()
    assert (spread > 0.5).all(), spread
    # The chains forget their starts: R-hat near 1 and the posterior means those of a default fit.
    summary = dispersed.summary()
    assert summary["r_hat"].max() < 1.02
    np.testing.assert_allclose(dispersed.params_[["r", "alpha"]], mle[["r", "alpha"]], rtol=0.05)


def test_default_jitter_stays_near_the_mle(cdnow_summary):
    model = cb.BetaGeo(draws=50, tune=100, chains=2, random_seed=1, progressbar=False)
    with warnings.catch_warnings():
        # A run this short may not converge (R-hat); only where it started is checked here.
        warnings.simplefilter("ignore", cb.SamplingWarning)
        model.fit(cdnow_summary)
    mle = clvlab.BetaGeo().fit(cdnow_summary).params_
    offsets = np.log(model.initial_points_ / mle)
    assert len(offsets) == 2
    assert (offsets.abs() <= 0.1 + 1e-9).all().all()


def test_bad_jitter_is_refused(cdnow_summary):
    small = cdnow_summary.head(300)
    with pytest.raises(ValueError, match="init_jitter must be a non-negative"):
        cb.BetaGeo(draws=10, tune=10, progressbar=False, init_jitter=-1.0).fit(small)
    with pytest.raises(ValueError, match="PyMC's sampler jitters"):
        cb.BetaGeo(draws=10, tune=10, progressbar=False, sampler="pymc", init_jitter=0.5).fit(small)


def test_files_without_init_jitter_load(tmp_path, dispersed):
    # A file written before init_jitter existed names neither it nor (older still) the sampler.
    from clvlab.bayes import persistence

    assert clvlab.load(dispersed.save(tmp_path / "new.nc")).init_jitter == 1.0
    idata = _arviz.copy(dispersed.idata_)
    saved = _arviz.from_netcdf(str(tmp_path / "new.nc"), engine="h5netcdf")
    manifest = json.loads(saved["posterior"].attrs["clvlab_manifest"])
    del manifest["checksum"], manifest["hyperparameters"]["init_jitter"]
    manifest["checksum"] = persistence._checksum(manifest, dispersed.param_draws())
    idata["posterior"].attrs["clvlab_manifest"] = json.dumps(manifest)
    _arviz.to_netcdf(idata, str(tmp_path / "old.nc"), engine="h5netcdf")
    old = clvlab.load(tmp_path / "old.nc")
    assert old.init_jitter is None
    np.testing.assert_array_equal(old.param_draws(), dispersed.param_draws())
