"""Predictive intervals (issue 19): bounds of a customer's own future purchases and spend, and coverage.

Coverage is measured on the holdout periods of the bundled CDNOW and online-retail logs as
P(lower <= actual <= upper) over customers. A 90% predictive interval of a count cannot hold exactly 90%:
its bounds are whole numbers, each the smallest count whose CDF reaches 5% or 95%, so it holds at least
90% under the model, and for the many customers whose most likely count is 0 the interval starts at 0 and
holds 95% or more. The expected coverage is therefore a little above 0.90 (about 0.93-0.95 here), and a
misfit model could fall somewhat below. The tests accept 0.85 to 0.99: far from the parameter intervals'
coverage (1-3%), which bound the expectation only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab.draws import model_draws
from clvlab.formulas import bgbb, bgnbd, gamma_gamma, mbgnbd, pareto_nbd
from clvlab.formulas.future import simulate_future_value
from clvlab.predictive import _total_draws

LOW, HIGH = 0.85, 0.99  # accepted coverage of a 90% predictive interval of counts (module docstring)

# Illustrative parameters near the CDNOW fits (inputs of the checks below, not expected values).
PARAMS = {
    bgnbd: (0.243, 4.414, 0.793, 2.426),
    mbgnbd: (0.525, 6.183, 0.891, 1.614),
    pareto_nbd: (0.553, 10.58, 0.606, 11.67),
}


def _coverage(actual: np.ndarray, bounds: pd.DataFrame) -> float:
    lower, upper = bounds.iloc[:, 1].to_numpy(), bounds.iloc[:, 2].to_numpy()
    return float(np.mean((actual >= lower) & (actual <= upper)))


@pytest.mark.parametrize("formulas", list(PARAMS), ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_simulated_future_counts_follow_the_conditional_pmf(formulas):
    # The individual-posterior sampler plus the purchase process (the predictive CLV's engine) reproduce
    # the model's own conditional pmf P(X(T, T+t) = n | x, t_x, T) for customers with and without a long
    # silence: an independent check of both.
    rng = np.random.default_rng(1)
    size, t = 200_000, 39.0
    for x, t_x, T in ((3.0, 20.0, 39.0), (0.0, 0.0, 30.0), (8.0, 38.0, 39.0)):
        lam, p_drop, life = formulas.sample_future_latent(*PARAMS[formulas], rng, np.full(size, x), t_x, T)
        ones = np.ones(size)
        count, _ = simulate_future_value(lam, p_drop, life, ones, np.full(size, np.inf), t, np.ones_like, rng)
        n = np.arange(6.0)
        pmf = formulas.conditional_purchase_pmf(*PARAMS[formulas], t, n, x, t_x, T)
        freq = np.array([np.mean(count == k) for k in n])
        se = np.sqrt(pmf * (1 - pmf) / size)
        assert np.all(np.abs(freq - pmf) < 5 * se + 1e-9), (x, t_x, T, freq, pmf)


def test_simulated_spend_has_the_clv_as_its_mean():
    # Mean of the simulated discounted spend = CLV (expected spend x discounted expected purchases), for a
    # BG/NBD and Gamma-Gamma at the illustrative parameters, continuous discounting at 10% a year.
    bg = clvlab.BetaGeo.from_params(
        dict(zip(("r", "alpha", "a", "b"), PARAMS[bgnbd], strict=True)), time_unit="W"
    )
    gg = clvlab.GammaGamma.from_params({"p": 6.25, "q": 3.74, "gamma": 15.44}, time_unit="W")
    data = pd.DataFrame(
        {"frequency": [4.0], "recency": [30.0], "T": [38.0], "monetary_value": [40.0]},
        index=pd.Index([1], name="customer_id"),
    )
    data.attrs["time_unit"] = "W"
    clv = float(
        clvlab.customer_lifetime_value(bg, gg, data, horizon=52, discount_rate=0.1, discount_period=52).iloc[
            0
        ]
    )
    rng = np.random.default_rng(2)
    size = 400_000
    lam, p_drop, life = bgnbd.sample_future_latent(*PARAMS[bgnbd], rng, np.full(size, 4.0), 30.0, 38.0)
    shape, rate = gamma_gamma.sample_spend_rate(6.25, 3.74, 15.44, rng, np.full(size, 4.0), 40.0)
    delta = np.log1p(0.1) / 52
    _, value = simulate_future_value(lam, p_drop, life, shape, rate, 52.0, lambda u: np.exp(-delta * u), rng)
    assert abs(value.mean() - clv) < 4 * value.std() / np.sqrt(size)


@pytest.mark.parametrize(
    ("cls", "n_draws"),
    [(clvlab.BetaGeo, 200), (clvlab.ModifiedBetaGeo, 200), (clvlab.ParetoNBD, 20)],
    ids=["BetaGeo", "ModifiedBetaGeo", "ParetoNBD"],
)
def test_predictive_intervals_cover_cdnow_holdout_purchases(cdnow_split, cls, n_draws):
    # Pareto/NBD's pmf is a quadrature per count, so it runs on fewer draws (parameter uncertainty is a
    # small part of a single customer's predictive spread).
    model = cls().fit(cdnow_split)
    actual = cdnow_split["frequency_holdout"].to_numpy()
    t = float(cdnow_split["duration_holdout"].iloc[0])
    pred = model.predict_purchases(cdnow_split, t, interval=0.9, interval_kind="predictive", n_draws=n_draws)
    par = model.predict_purchases(cdnow_split, t, interval=0.9, n_draws=200)
    assert pred.attrs == {"interval": 0.9, "interval_kind": "predictive"}
    assert par.attrs == {"interval": 0.9, "interval_kind": "parameter"}
    assert list(pred.columns) == [
        "expected_purchases",
        "expected_purchases_lower",
        "expected_purchases_upper",
    ]
    np.testing.assert_allclose(pred["expected_purchases"], par["expected_purchases"])
    lower, upper = pred["expected_purchases_lower"], pred["expected_purchases_upper"]
    assert np.all(lower == np.round(lower))
    assert np.all(upper == np.round(upper))
    assert np.all(lower <= upper)
    coverage = _coverage(actual, pred)
    assert LOW <= coverage <= HIGH, coverage  # measured 0.947 (BG/NBD), 0.946 (MBG/NBD), 0.95 (Pareto/NBD)
    assert _coverage(actual, par) < 0.05  # measured 0.008 to 0.022: they bound the mean, not the count


def test_predictive_intervals_cover_online_retail_holdout_purchases():
    # On this split the unpenalised fits find no drop-out (a, b -> 0: a singular Hessian, so no asymptotic
    # draws and no intervals of either kind); a small penalty identifies it without a warning.
    log = clvlab.datasets.load_online_retail()
    split = clvlab.calibration_holdout_split(
        log, calibration_end="2011-09-09", observation_end="2011-12-09", time_unit="W"
    )
    model = clvlab.BetaGeo(penalizer=0.001).fit(split)
    t = float(split["duration_holdout"].iloc[0])
    actual = split["frequency_holdout"].to_numpy()
    pred = model.predict_purchases(split, t, interval=0.9, interval_kind="predictive", n_draws=100)
    par = model.predict_purchases(split, t, interval=0.9, n_draws=200)
    assert LOW <= _coverage(actual, pred) <= HIGH  # measured 0.943
    assert _coverage(actual, par) < 0.05  # measured 0.012


def test_predictive_clv_bounds_cover_cdnow_holdout_spend(cdnow_split):
    # Undiscounted value of the 39 holdout weeks against each customer's actual holdout spend.
    bg, gg = clvlab.BetaGeo().fit(cdnow_split), clvlab.GammaGamma().fit(cdnow_split)
    actual = (cdnow_split["frequency_holdout"] * cdnow_split["monetary_value_holdout"]).to_numpy()
    t = float(cdnow_split["duration_holdout"].iloc[0])
    kw = {"horizon": t, "interval": 0.9, "n_draws": 400}
    pred = clvlab.customer_lifetime_value(bg, gg, cdnow_split, interval_kind="predictive", **kw)
    par = clvlab.customer_lifetime_value(bg, gg, cdnow_split, **kw)
    assert pred.attrs == {"interval": 0.9, "interval_kind": "predictive", "value_basis": "revenue"}
    np.testing.assert_allclose(pred["clv"], par["clv"])
    assert LOW <= _coverage(actual, pred) <= HIGH  # measured 0.931 (spend is continuous, counts are not)
    assert _coverage(actual, par) < 0.05  # measured 0.018
    again = clvlab.customer_lifetime_value(bg, gg, cdnow_split, interval_kind="predictive", **kw)
    pd.testing.assert_frame_equal(pred, again)  # seeded


def test_total_purchases_parameter_and_predictive(cdnow_split):
    bg = clvlab.BetaGeo().fit(cdnow_split)
    t = float(cdnow_split["duration_holdout"].iloc[0])
    expected = float(bg.predict_purchases(cdnow_split, t).sum())
    par = clvlab.predict_total_purchases(bg, cdnow_split, t, n_draws=300)
    pred = clvlab.predict_total_purchases(bg, cdnow_split, t, interval_kind="predictive", n_draws=300)
    assert par.expected == pytest.approx(expected)
    assert pred.expected == pytest.approx(expected)
    assert (par.interval_kind, pred.interval_kind, pred.n_customers) == ("parameter", "predictive", 2357)
    assert pred.lower < par.lower < expected < par.upper < pred.upper
    assert float(pred.lower).is_integer()
    assert float(pred.upper).is_integer()
    # Measured: 1,653 expected, parameter 1,550-1,791, predictive 1,486-1,842; the actual 1,882 lies above
    # both (BG/NBD under-forecasts this holdout by 12%; the Pareto/NBD's predictive interval reaches 1,930).
    assert clvlab.predict_total_purchases(bg, cdnow_split, t, interval=None).lower is None


def test_simulated_totals_match_the_pmf_mean_and_variance(cdnow_split):
    # Given fixed parameters the total's draws are sums of independent customers: their mean and variance
    # are the sums of each customer's pmf mean and variance (pmf summed to n = 150; the rest is below 1e-9).
    bg = clvlab.BetaGeo().fit(cdnow_split)
    md = model_draws(bg)
    _, columns = md.transaction_arrays(cdnow_split)
    draws = np.repeat(md.point_params(), 400, axis=0)
    totals = _total_draws(md, draws, 39.0, columns, np.random.default_rng(3))
    n = np.arange(151.0)[:, None]
    pmf = bgnbd.conditional_purchase_pmf(*bg.params_.to_numpy(), 39.0, n, *columns)
    assert np.all(pmf.sum(axis=0) > 1 - 1e-9)
    mean, var = (n * pmf).sum(axis=0), (n**2 * pmf).sum(axis=0) - ((n * pmf).sum(axis=0)) ** 2
    assert abs(totals.mean() - mean.sum()) < 4 * np.sqrt(var.sum() / 400)
    assert 0.8 < totals.var() / var.sum() < 1.2


def test_interval_kind_is_checked(cdnow_split):
    bg = clvlab.BetaGeo().fit(cdnow_split)
    with pytest.raises(clvlab.DataError, match="interval_kind must be"):
        bg.predict_purchases(cdnow_split, 10, interval=0.9, interval_kind="posterior")
    with pytest.raises(clvlab.DataError, match="pass interval="):
        bg.predict_purchases(cdnow_split, 10, interval_kind="predictive")
    gg = clvlab.GammaGamma().fit(cdnow_split)
    with pytest.raises(clvlab.DataError, match="interval_kind must be"):
        clvlab.customer_lifetime_value(bg, gg, cdnow_split, horizon=10, interval=0.9, interval_kind="x")


def test_bgbb_predictive_bounds_are_the_quantiles_of_its_pmf():
    # BG/BB (discrete time): the bounds are the quantiles of the conditional pmf averaged over the same
    # draws, recomputed here directly; the pmf sums to 1 and its mean is FHS 2010 eq. 13.
    donations = clvlab.datasets.load_donations()  # the BG/BB summary of Fader, Hardie & Shang (2010)
    model = clvlab.BetaGeoBetaBinom().fit(donations, weights="weights")
    out = model.predict_purchases(donations, 5, interval=0.8, interval_kind="predictive", n_draws=50, seed=4)
    draws = model.param_draws(50, 4)
    columns = [donations[c].to_numpy(float) for c in ("frequency", "recency", "n_periods")]
    k = np.arange(6.0)[:, None, None]
    pmf = bgbb.conditional_purchase_pmf(*(draws[:, [j]] for j in range(4)), 5.0, k, *columns).mean(axis=1)
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, rtol=1e-12)
    cdf = np.cumsum(pmf, axis=0)
    np.testing.assert_array_equal(out["expected_purchases_lower"], np.argmax(cdf >= 0.1 - 1e-10, axis=0))
    np.testing.assert_array_equal(out["expected_purchases_upper"], np.argmax(cdf >= 0.9 - 1e-10, axis=0))
    theta = model.params_.to_numpy()
    mean = (k[:, 0] * bgbb.conditional_purchase_pmf(*theta, 5.0, k[:, 0], *columns)).sum(axis=0)
    np.testing.assert_allclose(mean, bgbb.conditional_expected_purchases(*theta, 5.0, *columns), rtol=1e-12)
    with pytest.raises(NotImplementedError, match="interval_kind='parameter'"):
        clvlab.predict_total_purchases(model, donations, 5, interval_kind="predictive")


@pytest.mark.parametrize(
    ("cls", "value_args"),
    [
        (clvlab.ParetoNBD, {"horizon": np.inf, "discount_rate": 0.1, "discount_period": 52}),
        (
            clvlab.ModifiedBetaGeo,
            {"horizon": 52, "discount_rate": 0.1, "discount_period": 13, "method": "periodic"},
        ),
    ],
    ids=["ParetoNBD-residual", "ModifiedBetaGeo-periodic"],
)
def test_predictive_clv_bounds_for_other_models_and_discounting(cdnow_summary, cls, value_args):
    model, gg = cls().fit(cdnow_summary), clvlab.GammaGamma().fit(cdnow_summary)
    out = clvlab.customer_lifetime_value(
        model, gg, cdnow_summary, interval=0.9, interval_kind="predictive", n_draws=100, **value_args
    )
    lower, upper = out["clv_lower"].to_numpy(), out["clv_upper"].to_numpy()
    assert np.all(np.isfinite(upper))
    assert np.all((lower >= 0) & (lower <= upper))
    # The customers' own value scatters beyond its mean: the upper bound is above the CLV for (nearly)
    # everyone, and most customers may well buy nothing (lower bound 0).
    assert np.mean(upper > out["clv"].to_numpy()) > 0.95
    assert np.mean(lower == 0) > 0.5


def test_predictive_bounds_of_a_covariate_model(cdnow_split):
    # Per-customer parameters go through ModelDraws.bind: the pmf and the sampler see each customer's own
    # parameters (distinct rows include the covariate), and coverage holds as without covariates.
    data = cdnow_split.copy()
    data["early"] = (np.arange(len(data)) % 3 == 0).astype(float)
    bg = clvlab.BetaGeo(purchase_covariates=["early"]).fit(data)
    gg = clvlab.GammaGamma().fit(data)
    t = float(data["duration_holdout"].iloc[0])
    pred = bg.predict_purchases(data, t, interval=0.9, interval_kind="predictive", n_draws=100)
    assert LOW <= _coverage(data["frequency_holdout"].to_numpy(), pred) <= HIGH
    clv = clvlab.customer_lifetime_value(
        bg, gg, data, horizon=t, interval=0.9, interval_kind="predictive", n_draws=100
    )
    assert np.all(clv["clv_lower"] <= clv["clv_upper"])
    assert np.mean(clv["clv_upper"] > clv["clv"]) > 0.95


@pytest.mark.parametrize("cls", [clvlab.BetaGeo, clvlab.ModifiedBetaGeo, clvlab.ParetoNBD])
def test_factorised_walk_equals_the_plain_pmf(cdnow_split, cls, monkeypatch):
    # The walk evaluates P(alive) once and the pmf's (x, T) factor per distinct (x, T) (1.7x faster for
    # the Pareto/NBD on CDNOW); the bounds are those of the plain conditional pmf, exactly.
    from clvlab import predictive

    model = cls().fit(cdnow_split)
    md = model.model_draws()
    _, columns = md.transaction_arrays(cdnow_split)
    draws = model.param_draws(5, 0)
    fast = predictive.purchase_count_bounds(md, draws, 39.0, columns, 0.8)
    monkeypatch.setattr(predictive, "_factorised_pmf", lambda *args: None)
    plain = predictive.purchase_count_bounds(md, draws, 39.0, columns, 0.8)
    np.testing.assert_array_equal(fast[0], plain[0])
    np.testing.assert_array_equal(fast[1], plain[1])
