"""Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari & Gelman 2018) of the NUTS fits.

For each replicate the true parameters are drawn from the prior, customers are simulated from the model
at those parameters, and the posterior is sampled with the same prior. If the likelihood, its weights and
the sampler are right, a central credible interval of level q covers the true value with probability q,
and the rank of the true value among the posterior draws is uniform. A likelihood scaled wrongly (e.g.
weights applied twice) or a gradient bug shows up as intervals that are too narrow or too wide.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

import clvlab

pm = pytest.importorskip("pymc")
cb = pytest.importorskip("clvlab.bayes")

# A proper, moderately informative prior around CDNOW-like values (weeks), so that every simulated data
# set looks like a customer base; SBC holds for any prior, provided simulation and fit use the same one.
PRIORS = {
    "r": ("Gamma", {"alpha": 8.0, "beta": 16.0}),  # mean 0.5, sd 0.18
    "alpha": ("Gamma", {"alpha": 8.0, "beta": 0.8}),  # mean 10, sd 3.5
    "a": ("Gamma", {"alpha": 8.0, "beta": 8.0}),  # mean 1, sd 0.35
    "b": ("Gamma", {"alpha": 8.0, "beta": 3.2}),  # mean 2.5, sd 0.88
}
REPLICATES = 24
CUSTOMERS = 400
DRAWS = 200


def _prior_draw(rng: np.random.Generator) -> dict[str, float]:
    # numpy's gamma takes shape and scale; PyMC's Gamma(alpha, beta) has rate beta.
    return {k: float(rng.gamma(kw["alpha"], 1.0 / kw["beta"])) for k, (_, kw) in PRIORS.items()}


@pytest.fixture(scope="module")
def sbc_ranks():
    rng = np.random.default_rng(2024)
    ranks = []
    for rep in range(REPLICATES):
        truth = _prior_draw(rng)
        model = clvlab.BetaGeo.from_params(truth, time_unit="W")
        data = model.simulate(rng.uniform(26.0, 52.0, CUSTOMERS), seed=rng)
        if data["frequency"].sum() == 0:  # pragma: no cover - no repeat purchase: nothing to fit
            continue
        with warnings.catch_warnings():
            # A rare divergence in a short chain does not invalidate the calibration check itself.
            warnings.simplefilter("ignore", cb.SamplingWarning)
            fit = cb.BetaGeo(
                draws=DRAWS, tune=300, chains=1, random_seed=rep, priors=PRIORS, progressbar=False
            ).fit(data)
        draws = fit.param_draws()
        ranks.append([(draws[:, j] < truth[name]).mean() for j, name in enumerate(fit.param_names)])
    return np.array(ranks)


@pytest.mark.slow
@pytest.mark.parametrize("level", [0.5, 0.9])
def test_credible_intervals_cover_the_true_parameters_at_their_level(sbc_ranks, level):
    # The true value lies inside the central interval of level q iff its posterior quantile is in
    # [(1-q)/2, (1+q)/2]. Over replicates x 4 parameters the count of covers is about Binomial(n, q);
    # accept the central 99.9% range of that binomial (independence across parameters is approximate).
    lo, hi = (1 - level) / 2, (1 + level) / 2
    covered = int(((sbc_ranks >= lo) & (sbc_ranks <= hi)).sum())
    n = sbc_ranks.size
    low, high = stats.binom.ppf([0.0005, 0.9995], n, level)
    assert low <= covered <= high, (covered, n, level)


@pytest.mark.slow
def test_posterior_quantiles_of_the_truth_are_uniform(sbc_ranks):
    # SBC's rank statistic: the posterior quantile of the true value is Uniform(0, 1) for each parameter.
    assert sbc_ranks.shape[0] >= 20
    for j in range(sbc_ranks.shape[1]):
        assert stats.kstest(sbc_ranks[:, j], "uniform").pvalue > 0.001, j
