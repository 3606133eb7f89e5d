"""Files written on one supported stack load on the other.

``files/bgnbd_pymc5.nc`` was written by ``clvlab.bayes.BetaGeo(draws=100, tune=200, chains=2,
random_seed=3).fit(cdnow calibration summary).save(...)`` on Python 3.11 with PyMC 5.28 / ArviZ 0.23 /
nutpie 0.16.8, and ``files/bgnbd_pymc6.nc`` by the same call on Python 3.13 with PyMC 6.4 / ArviZ 1.3 /
nutpie 0.16.11. Both stacks run this module, so each reads its own file and the other stack's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import clvlab

pytest.importorskip("pymc")
cb = pytest.importorskip("clvlab.bayes")
from clvlab.bayes import _arviz  # noqa: E402  (after the skip: needs the bayes extra)
from clvlab.formulas import bgnbd  # noqa: E402

FILES = Path(__file__).with_name("files")


@pytest.mark.parametrize(
    ("name", "nutpie_version"), [("bgnbd_pymc5.nc", "0.16.8"), ("bgnbd_pymc6.nc", "0.16.11")]
)
def test_a_file_from_either_stack_loads_and_predicts(name, nutpie_version, cdnow_summary):
    model = clvlab.load(FILES / name)
    assert type(model) is cb.BetaGeo
    assert _arviz.is_posterior(model.idata_)
    # The file says which stack drew it (nutpie 0.16.8 came with PyMC 5, 0.16.11 with PyMC 6).
    attrs = model.idata_["posterior"].attrs
    assert (attrs["inference_library"], attrs["inference_library_version"]) == ("nutpie", nutpie_version)
    assert "observed_data" in _arviz.group_names(model.idata_)
    assert model.time_unit_ == "W"
    assert model.n_customers_ == 2357
    draws = model.param_draws()
    assert draws.shape == (200, 4)
    assert np.isfinite(draws).all()
    # The checksum was verified on load; predictions are the formula averaged over the file's draws.
    expected = np.mean(
        bgnbd.conditional_expected_purchases(
            *(draws[:, [j]] for j in range(4)),
            39.0,
            cdnow_summary["frequency"].to_numpy(),
            cdnow_summary["recency"].to_numpy(),
            cdnow_summary["T"].to_numpy(),
        ),
        axis=0,
    )
    np.testing.assert_allclose(model.predict_purchases(cdnow_summary, 39.0).to_numpy(), expected, rtol=1e-12)
    table = model.summary()
    assert list(table.columns) == list(_arviz.SUMMARY_COLUMNS)
    assert table.loc["r", "mean"] == pytest.approx(draws[:, 0].mean(), rel=1e-12)


def test_a_reloaded_file_saves_again_on_this_stack(tmp_path, cdnow_summary):
    for name in ("bgnbd_pymc5.nc", "bgnbd_pymc6.nc"):
        model = clvlab.load(FILES / name)
        again = clvlab.load(model.save(tmp_path / name))
        np.testing.assert_array_equal(again.param_draws(), model.param_draws())
        np.testing.assert_array_equal(
            again.predict_p_alive(cdnow_summary).to_numpy(), model.predict_p_alive(cdnow_summary).to_numpy()
        )
