"""The optimiser's machinery: de-duplication, warm starts, convergence errors."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab import draws as draws_module
from clvlab.models import base
from clvlab.models._fitting import _deduplicate_pandas, deduplicate


@pytest.mark.parametrize("kind", ["whole days", "fractional weeks", "continuous"])
@pytest.mark.parametrize("weighted", [False, True])
def test_deduplicate_matches_a_group_by(kind, weighted):
    rng = np.random.default_rng(3)
    n = 20_000
    T = rng.integers(0, 300, n).astype(float)
    if kind == "fractional weeks":
        T = T / 7.0
    elif kind == "continuous":
        T = np.round(rng.uniform(0, 40, n), 2)
    x = rng.poisson(1.5, n).astype(float)
    t_x = np.where(x > 0, np.floor(rng.random(n) * T), 0.0)
    w = rng.integers(0, 4, n).astype(float) if weighted else np.ones(n)
    ours = deduplicate([x, t_x, T], w)
    ref = _deduplicate_pandas([x[w > 0], t_x[w > 0], T[w > 0]], w[w > 0])
    for a, b in zip((*ours.columns, ours.weights), (*ref.columns, ref.weights), strict=True):
        np.testing.assert_array_equal(a, b)


def test_warm_started_fit_equals_a_cold_fit(monkeypatch):
    model = clvlab.BetaGeo.from_params({"r": 0.5, "alpha": 20.0, "a": 0.8, "b": 2.5}, time_unit="D")
    rng = np.random.default_rng(4)
    data = model.simulate(rng.integers(30, 700, 200_000).astype(float), seed=4)
    data["recency"] = np.floor(data["recency"])
    warm = clvlab.BetaGeo().fit(data)
    assert (
        len(
            deduplicate(
                [data[c].to_numpy() for c in ["frequency", "recency", "T"]], np.ones(len(data))
            ).weights
        )
        > 2 * base._WARM_START_ROWS
    )
    monkeypatch.setattr(base, "_WARM_START_ROWS", 10**9)
    cold = clvlab.BetaGeo().fit(data)
    np.testing.assert_allclose(warm.params_, cold.params_, rtol=1e-7)
    np.testing.assert_allclose(warm.covariance_, cold.covariance_, rtol=1e-4)
    assert warm.log_likelihood_ == pytest.approx(cold.log_likelihood_, rel=1e-12)


def test_no_repeat_purchases_is_a_data_error():
    data = pd.DataFrame({"frequency": 0.0, "recency": 0.0, "T": np.linspace(1, 50, 200)})
    for model in (clvlab.BetaGeo(), clvlab.ParetoNBD(), clvlab.ModifiedBetaGeo()):
        with pytest.raises(clvlab.DataError, match="no customer has a repeat purchase"):
            model.fit(data)


def test_boundary_optimum_names_the_unidentified_parameters():
    # The donors of the first eight patterns (at most two donations) put the BG/BB optimum at the
    # boundary (beta, gamma, delta -> infinity): the fit says which parameters the data do not identify.
    donations = clvlab.datasets.load_donations()
    rows = donations.loc[donations.index.repeat(donations["weights"])].drop(columns="weights")
    rows = rows.reset_index(drop=True)
    with pytest.warns(clvlab.UnidentifiedWarning, match=r"flat along .*delta=") as record:
        model = clvlab.BetaGeoBetaBinom().fit(rows.iloc[: len(rows) // 2])
    # Which of the diverging parameters the optimiser's last step leaves flat depends on floating-point
    # detail (alpha or gamma beside beta and delta); the warning names those, and each has run off to
    # the boundary.
    message = str(record[0].message)
    named = re.findall(r"(\w+)=", message.split("flat along")[1].split(":")[0])
    assert len(named) >= 2
    assert set(named) <= set(model.param_names)
    assert all(model.params_[name] > 1e3 for name in named), (named, model.params_)
    assert np.isfinite(model.predict_purchases(rows.iloc[:5], 3)).all()


def test_no_maximum_raises_convergence_error():
    from clvlab.models._fitting import maximise

    def unbounded(theta):  # the log-likelihood grows without limit in every parameter
        return float(theta.sum()), np.ones_like(theta)

    with pytest.raises(clvlab.ConvergenceError, match=r"did not converge.*penalizer"):
        maximise(unbounded, 1.0, np.ones(2), 0.0, model_name="Toy", param_names=("a", "b"))


def test_mean_over_draws_is_exact_and_deterministic_on_any_number_of_threads(monkeypatch):
    # Posterior means evaluate blocks of draws on threads; whatever the thread count the result is the
    # plain mean over draws (to rounding), and repeated calls give identical numbers.
    from clvlab.formulas import bgnbd

    rng = np.random.default_rng(5)
    n = 30_000
    x = rng.integers(0, 8, n).astype(float)
    big_t = rng.integers(30, 400, n).astype(float)
    t_x = np.floor(big_t * rng.uniform(0, 1, n)) * (x > 0)
    draws = np.column_stack([v * np.exp(rng.normal(0, 0.05, 300)) for v in (0.24, 30.9, 0.79, 2.43)])
    direct = np.mean([bgnbd.conditional_expected_purchases(*d, 39.0, x, t_x, big_t) for d in draws], axis=0)
    results = {}
    for threads in (1, 2, 3):
        monkeypatch.setattr(draws_module, "MAX_THREADS", threads)
        monkeypatch.setattr(draws_module.os, "sched_getaffinity", lambda _pid: set(range(4)), raising=False)
        assert draws_module.thread_count() == threads
        results[threads] = draws_module.mean_over_draws(
            bgnbd.conditional_expected_purchases, draws, (x, t_x, big_t), (39.0,)
        )
        np.testing.assert_allclose(results[threads], direct, rtol=1e-12)
    again = draws_module.mean_over_draws(
        bgnbd.conditional_expected_purchases, draws, (x, t_x, big_t), (39.0,)
    )
    np.testing.assert_array_equal(again, results[3])
