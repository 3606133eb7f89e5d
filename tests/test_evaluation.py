"""Holdout evaluation and model comparison, checked against published CDNOW numbers and hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import hyp2f1

import clvlab
from clvlab.evaluation import gains_curve, gini, top_share_lift
from tests.conftest import CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END

# Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing Science 24(2): published
# BG/NBD estimates for CDNOW in weeks (tests/references.md [BGNBD-MLE-CDNOW]).
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def conditional_expectation(params, t, x, t_x, T):
    """FHL 2005 eq. (10), the closed form with Gauss's hypergeometric function, written out here."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, t / (alpha + T + t)
    )
    odds_dead = np.where(x > 0, a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    return (a + b + x - 1) / (a - 1) * bracket / (1 + odds_dead)


@pytest.fixture(scope="module")
def published():
    return clvlab.BetaGeo.from_params(PUBLISHED_BGNBD, time_unit="W")


@pytest.fixture(scope="module")
def spend(cdnow_summary):
    return clvlab.GammaGamma().fit(cdnow_summary)


@pytest.fixture(scope="module")
def hand_predictions(cdnow_split):
    s = cdnow_split
    return conditional_expectation(
        PUBLISHED_BGNBD,
        s["duration_holdout"].to_numpy(),
        s["frequency"].to_numpy(),
        s["recency"].to_numpy(),
        s["T"].to_numpy(),
    )


def test_evaluate_reproduces_the_published_holdout_totals(published, cdnow_split, hand_predictions):
    ev = clvlab.evaluate(published, cdnow_split)
    assert list(ev.columns) == ["value", "description"]
    assert ev.index.name == "metric"
    # tests/references.md [CDNOW-HOLDOUT-COUNTS]: 1,882 repeat transactions in the holdout (weeks 40-78).
    assert ev.loc["actual_purchases", "value"] == 1882
    # tests/references.md [BGNBD-HOLDOUT-SUM]: BG/NBD sum of conditional expectations over the holdout,
    # 1653.9 (recomputed from the published parameters).
    assert ev.loc["predicted_purchases", "value"] == pytest.approx(1653.9, abs=0.05)
    assert ev.loc["n_customers", "value"] == 2357
    # Per-customer errors against FHL eq. (10) evaluated independently above.
    actual = cdnow_split["frequency_holdout"].to_numpy()
    err = hand_predictions - actual
    assert ev.loc["predicted_purchases", "value"] == pytest.approx(hand_predictions.sum(), rel=1e-10)
    assert ev.loc["mae", "value"] == pytest.approx(np.abs(err).mean(), rel=1e-9)
    assert ev.loc["rmse", "value"] == pytest.approx(np.sqrt((err**2).mean()), rel=1e-9)
    assert ev.loc["bias", "value"] == pytest.approx(err.mean(), rel=1e-9)
    assert ev.loc["purchases_relative_error", "value"] == pytest.approx(hand_predictions.sum() / 1882 - 1)
    rho = stats.spearmanr(hand_predictions, actual).statistic
    assert ev.loc["spearman", "value"] == pytest.approx(rho, rel=1e-9)
    assert "gini" not in ev.index  # value metrics need a spend model


def test_evaluate_with_spend_model(published, spend, cdnow_split, cdnow_log, hand_predictions):
    ev = clvlab.evaluate(published, cdnow_split, spend_model=spend)
    # Actual holdout value = frequency_holdout x monetary_value_holdout = total holdout spend: the sum of
    # the raw log's amounts after the calibration end, recomputed here from the log itself.
    dates = cdnow_log["date"]
    in_holdout = (dates > CDNOW_CALIBRATION_END) & (dates <= CDNOW_OBSERVATION_END)
    in_cohort = cdnow_log["customer_id"].isin(cdnow_split.index)
    assert ev.loc["actual_value", "value"] == pytest.approx(
        cdnow_log.loc[in_holdout & in_cohort, "amount"].sum(), rel=1e-12
    )
    # Predicted value: FHL eq. (10) x the Gamma-Gamma posterior mean spend p (gamma + x m) / (p x + q - 1)
    # (Fader & Hardie 2013; the population mean p gamma / (q - 1) when x = 0).
    p, q, g = spend.params_[["p", "q", "gamma"]]
    x, m = cdnow_split["frequency"].to_numpy(), cdnow_split["monetary_value"].to_numpy()
    spend_hand = np.where(x > 0, p * (g + x * m) / (p * x + q - 1), p * g / (q - 1))
    value_hand = hand_predictions * spend_hand
    assert ev.loc["predicted_value", "value"] == pytest.approx(value_hand.sum(), rel=1e-9)
    actual_value = (cdnow_split["frequency_holdout"] * cdnow_split["monetary_value_holdout"]).to_numpy()
    assert ev.loc["value_rmse", "value"] == pytest.approx(
        np.sqrt(((value_hand - actual_value) ** 2).mean()), rel=1e-9
    )
    assert ev.loc["gini", "value"] == pytest.approx(rank_gini(value_hand, actual_value), rel=1e-9)
    assert 0.5 < ev.loc["gini", "value"] < 0.8
    assert ev.loc["top_decile_lift", "value"] > 3

    per = clvlab.evaluate(published, cdnow_split, spend_model=spend, per_customer=True)
    assert per.index.equals(cdnow_split.index)
    np.testing.assert_allclose(per["predicted_purchases"], hand_predictions, rtol=1e-10)
    np.testing.assert_allclose(per["predicted_value"], value_hand, rtol=1e-9)
    np.testing.assert_array_equal(per["actual_value"], actual_value)
    np.testing.assert_allclose(per["error"], hand_predictions - cdnow_split["frequency_holdout"], rtol=1e-9)


def rank_gini(predicted, actual):
    """Normalised Gini from mid-ranks, independent of the gains-curve code.

    For customers sorted by prediction (descending) the area under the gains curve is
    sum_i y_i (r_i - 1/2) / (N Y), with r_i the ascending rank of customer i's prediction; tied
    predictions take their mid-rank, which averages over every order of the tied customers.
    """
    n, total = len(actual), actual.sum()

    def area(score):
        return np.sum(actual * (stats.rankdata(score) - 0.5)) / (n * total)

    return (area(predicted) - 0.5) / (area(actual) - 0.5)


def test_gains_curve_by_hand():
    predicted = np.array([3.0, 2.0, 1.0, 0.0])
    actual = np.array([10.0, 0.0, 60.0, 30.0])
    share, model, perfect = gains_curve(predicted, actual)
    np.testing.assert_allclose(share, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(model, [0, 0.1, 0.1, 0.7, 1.0])
    np.testing.assert_allclose(perfect, [0, 0.6, 0.9, 1.0, 1.0])
    # Areas by the trapezoid rule: model 0.3875, perfect 0.6875; Gini (0.3875 - .5) / (0.6875 - .5).
    assert gini(predicted, actual) == pytest.approx((0.3875 - 0.5) / (0.6875 - 0.5))
    assert gini(predicted, actual) == pytest.approx(rank_gini(predicted, actual))
    assert gini(actual, actual) == pytest.approx(1.0)
    assert top_share_lift(predicted, actual, 0.25) == pytest.approx(0.1 / 0.25)


def test_ties_share_their_block_evenly_and_row_order_does_not_matter():
    # Two customers tie at the top with values 2 and 0: the top one of them holds 1 of 3 on average.
    predicted = np.array([1.0, 1.0, 0.0])
    actual = np.array([2.0, 0.0, 1.0])
    _, model, _ = gains_curve(predicted, actual)
    np.testing.assert_allclose(model, [0, 1 / 3, 2 / 3, 1])
    assert gini(predicted, actual) == pytest.approx(rank_gini(predicted, actual))
    rng = np.random.default_rng(0)
    p = rng.integers(0, 5, 200).astype(float)  # many ties
    a = rng.gamma(1.0, 1.0, 200) * (p + 1)
    perm = rng.permutation(200)
    assert gini(p, a) == pytest.approx(gini(p[perm], a[perm]), abs=1e-14)
    assert gini(p, a) == pytest.approx(rank_gini(p, a), rel=1e-12)
    assert top_share_lift(p, a) == pytest.approx(top_share_lift(p[perm], a[perm]), abs=1e-14)


def test_compare_models(cdnow_summary, cdnow_split, published, spend):
    bg = clvlab.BetaGeo().fit(cdnow_summary)
    mbg = clvlab.ModifiedBetaGeo().fit(cdnow_summary)
    table = clvlab.compare_models([bg, mbg, published], cdnow_split, spend_model=spend)
    assert set(table.index) == {"BetaGeo", "ModifiedBetaGeo", "BetaGeo (2)"}
    # tests/references.md [BGNBD-LL-CDNOW]: BG/NBD log-likelihood -9582.43 at the MLE;
    # [MBGNBD-LL-CDNOW]: MBG/NBD -9582.13 (lifetimes tests).
    assert table.loc["BetaGeo", "log_likelihood"] == pytest.approx(-9582.43, abs=0.01)
    assert table.loc["ModifiedBetaGeo", "log_likelihood"] == pytest.approx(-9582.13, abs=0.01)
    ll = table.loc["BetaGeo", "log_likelihood"]
    assert table.loc["BetaGeo", "n_params"] == 4
    assert table.loc["BetaGeo", "aic"] == pytest.approx(8 - 2 * ll)
    assert table.loc["BetaGeo", "bic"] == pytest.approx(4 * np.log(2357) - 2 * ll)
    # The fitted model's own log-likelihood (same data) agrees with the recomputed one.
    assert ll == pytest.approx(bg.log_likelihood_, rel=1e-12)
    # Holdout metrics are those of evaluate(); default sort: ascending RMSE.
    ev = clvlab.evaluate(published, cdnow_split, spend_model=spend)["value"]
    for metric in ("predicted_purchases", "rmse", "gini", "top_decile_lift"):
        assert table.loc["BetaGeo (2)", metric] == pytest.approx(ev[metric], rel=1e-12)
    assert table["rmse"].is_monotonic_increasing
    by_ll = clvlab.compare_models({"bg": bg, "mbg": mbg}, cdnow_split, sort_by="log_likelihood")
    assert list(by_ll.index) == ["mbg", "bg"]  # the higher log-likelihood first
    by_bias = clvlab.compare_models({"bg": bg, "mbg": mbg}, cdnow_split, sort_by="bias")
    assert by_bias["bias"].abs().is_monotonic_increasing
    with pytest.raises(ValueError, match="sort_by"):
        clvlab.compare_models([bg], cdnow_split, sort_by="nope")
    with pytest.raises(TypeError, match="transaction model"):
        clvlab.compare_models([spend], cdnow_split)


def test_evaluate_errors(published, cdnow_summary, cdnow_split, spend):
    with pytest.raises(clvlab.DataError, match="duration_holdout"):
        clvlab.evaluate(published, cdnow_summary)
    no_money = cdnow_split.drop(columns=["monetary_value_holdout"])
    with pytest.raises(clvlab.DataError, match="monetary_value_holdout"):
        clvlab.evaluate(published, no_money, spend_model=spend)
    with pytest.raises(TypeError, match="GammaGamma"):
        clvlab.evaluate(published, cdnow_split, spend_model=published)
    days = cdnow_split.copy()
    days.attrs["time_unit"] = "D"
    with pytest.raises(clvlab.DataError, match="time unit"):
        clvlab.evaluate(published, days)


def test_evaluate_does_not_modify_its_input(published, cdnow_split, spend):
    before = cdnow_split.copy()
    clvlab.evaluate(published, cdnow_split, spend_model=spend)
    pd.testing.assert_frame_equal(cdnow_split, before)


def test_holdout_durations_may_differ_by_customer(published, cdnow_split):
    split = cdnow_split.iloc[:6].copy()
    split["duration_holdout"] = [39.0, 39.0, 20.0, 20.0, 10.0, 39.0]
    ev = clvlab.evaluate(published, split, per_customer=True)
    expected = conditional_expectation(
        PUBLISHED_BGNBD,
        split["duration_holdout"].to_numpy(),
        split["frequency"].to_numpy(),
        split["recency"].to_numpy(),
        split["T"].to_numpy(),
    )
    np.testing.assert_allclose(ev["predicted_purchases"], expected, rtol=1e-10)
