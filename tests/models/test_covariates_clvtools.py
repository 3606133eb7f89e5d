"""Static covariates against R's CLVTools on its apparel data (issue 17, "Evidence").

CLVTools 0.12.1 (GPL-3; repository bachmannpatrick/CLVTools, commit 1b06356b0ec0, 2025-11-06) prints
Pareto/NBD fits with the time-invariant covariates Gender and Channel on both processes in its vignette
"Advanced and Very Advanced Modeling Techniques in CLVTools" (``vignettes/CLVTools_advanced_techniques.pdf``,
dated 2025-09-21, added in commit 3cb8a08573bd): sections 1 (data set-up), 2 (regularisation), 4
(equality constraint, likelihood-ratio test) and 6 (a plain Pareto/NBD with its Hessian). Every number
below that is not counted from the data is from that PDF; see tests/references.md [CLVTOOLS-PNBD-STATIC].
CLVTools prints no BG/NBD (or Gamma-Gamma) fit with covariates in its README or vignettes, so there is
none to reproduce here.

The data are CLVTools' ``apparelTrans`` (3,187 transactions of 600 customers, all of whom first bought on
2005-01-02) and ``apparelStaticCov`` (Id, Gender 0/1, Channel 0/1). CLVTools is GPL-3 and clvlab is MIT,
and the team's reference list says to read and cite CLVTools' data but not to ship it, so the data are
not in this repository: these tests read two CSV exports of the ``.rda`` files from the team's shared
data folder (``../shared/data/clvtools/`` beside the checkout, or the folder named by the environment
variable ``CLVLAB_CLVTOOLS_DATA``) and are skipped without them:

* ``apparel_transactions.csv``: columns ``Id,Date,Price`` (``data/apparelTrans.rda``);
* ``apparel_static_covariates.csv``: columns ``Id,Gender,Channel`` (``data/apparelStaticCov.rda``).

How CLVTools builds its summary, and how it is matched here:

* ``clvdata(estimation.split = 104, time.unit = "week")``: the estimation period ends 104 weeks after the
  first transaction in the log (lubridate period arithmetic: 2005-01-02 + 728 days = 2006-12-31, which
  the vignette prints as "Estimation end 2006-12-31"), and transactions *on* that day belong to it
  (``Date <= timepoint.estimation.end``, ``R/class_clv_data.R``). clvlab: ``observation_end="2006-12-31"``
  with ``drop_after_end=True``, whose end day is also inclusive.
* Transactions of one customer on one day are aggregated into one (``clv.data.aggregate.transactions``);
  clvlab merges same-day purchases into one occasion too.
* ``pnbd_cbs`` (``R/class_clv_pnbd.R``): x = transactions in the estimation period - 1, t.x = time from
  the customer's first to last transaction, T.cal = time from the first transaction to the estimation
  end, in weeks as ``lubridate::time_length(interval, "weeks")``, i.e. days / 7. clvlab's ``frequency``,
  ``recency`` and ``T`` with ``time_unit="W"`` are the same (weeks of 7 days, fractional).
* Prices play no part in the Pareto/NBD (four transactions have price 0; CLVTools counts them as
  transactions, and so does clvlab), so no monetary column is summarised.

Parametrisation: CLVTools' static-covariate Pareto/NBD has ``alpha_i = alpha exp(-gamma_trans' z)`` and
``beta_i = beta exp(-gamma_life' z)`` (``src/pnbd.cpp``, lines 528 and 535), the same as clvlab's
``purchase:`` and ``dropout:`` coefficients (in both, a positive coefficient raises the mean rate,
r / alpha_i of purchasing or s / beta_i of dropping out); no sign is flipped below. CLVTools'
log-likelihood keeps all constants, as clvlab's does, so the two are compared directly.

What was found: clvlab's log-likelihood agrees with CLVTools' printed values to their last digit at
clvlab's maximum and at CLVTools' printed estimates (full, constrained and regularised models), and its
second derivatives agree with CLVTools' printed Hessian within what the rounding of the printed estimates
allows. The printed *estimates* differ from clvlab's in the 3rd to 4th
significant digit because CLVTools' L-BFGS-B stops about 2e-5 log-likelihood units short of the maximum
of a very flat likelihood: the printed LL, AIC and BIC together put CLVTools' own LL between -5821.062725
and -5821.062706, clvlab's likelihood at CLVTools' printed estimates is -5821.062709, and clvlab's
maximum is -5821.062686. The comparison to the printed precision is kept as strict xfails
that state each difference.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab.formulas import pareto_nbd

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("CLVLAB_CLVTOOLS_DATA", ROOT.parent / "shared" / "data" / "clvtools"))
TRANSACTIONS = DATA / "apparel_transactions.csv"
COVARIATES = DATA / "apparel_static_covariates.csv"

pytestmark = pytest.mark.skipif(
    not (TRANSACTIONS.is_file() and COVARIATES.is_file()),
    reason=f"CLVTools' apparel data (GPL-3, not shipped with clvlab) not found in {DATA}",
)

# vignette section 1: clvdata(apparelTrans, time.unit = "week", estimation.split = 104); printed by every
# summary() as "Estimation start 2005-01-02 / Estimation end 2006-12-31 / Estimation length 104.0000 Weeks".
ESTIMATION_END = "2006-12-31"
COVARIATES_BOTH = ["Gender", "Channel"]

# tests/references.md [CLVTOOLS-PNBD-STATIC]: vignette section 4, summary(est.pnbd.full), a Pareto/NBD
# with Gender and Channel on both processes (latentAttrition(~ . | ., family = pnbd)). CLVTools' names
# (life.* = dropout, trans.* = purchase) are mapped to clvlab's. Estimate, Std. Error, 4 decimals.
PUBLISHED = {
    "r": (1.8378, 0.3455),
    "alpha": (92.9123, 16.9670),
    "s": (0.5920, 0.2609),
    "beta": (49.6227, 36.2509),
    "purchase:Gender": (0.2859, 0.1041),  # trans.Gender
    "purchase:Channel": (0.6241, 0.1050),  # trans.Channel
    "dropout:Gender": (-0.6430, 0.2955),  # life.Gender
    "dropout:Channel": (0.7907, 0.3059),  # life.Channel
}
PUBLISHED_LL = -5821.0627  # "Optimization info: LL -5821.0627"
PUBLISHED_AIC = 11658.1254  # "AIC 11658.1254"
PUBLISHED_BIC = 11693.3009  # "BIC 11693.3009" (n = 600 customers)
HALF_4DP = 5e-5  # half a unit of the 4th decimal

# tests/references.md [CLVTOOLS-PNBD-STATIC-CONSTR]: vignette section 4, summary(est.pnbd.constr) with
# names.cov.constr = "Gender" (one Gender coefficient shared by both processes), and the lrtest() table.
CONSTRAINED = {
    "r": 1.7939,
    "alpha": 94.7223,
    "s": 0.4287,
    "beta": 59.0743,
    "life.Channel": 1.0228,
    "trans.Channel": 0.6384,
    "constr.Gender": 0.3283,
}
CONSTRAINED_LL = -5826.5342  # "LL -5826.5342"
LRTEST_CHISQ = 10.943  # lrtest(est.pnbd.constr, est.pnbd.full): "Chisq 10.943", Df 1

# tests/references.md [CLVTOOLS-PNBD-STATIC-REG]: vignette section 2, summary(est.pnbd.regularization),
# reg.lambdas = c(trans = 0.1, life = 0.2). CLVTools minimises -LL / n + lambda_trans * |g_trans|^2 +
# lambda_life * |g_life|^2 (R/interlayer_regularization.R) and prints minus that objective as "LL".
REGULARIZED = {
    "r": 1.73887,
    "alpha": 69.85288,
    "s": 0.53350,
    "beta": 39.68346,
    "trans.Gender": 0.17178,
    "trans.Channel": 0.23676,
    "life.Gender": -0.04437,
    "life.Channel": 0.02465,
}
REGULARIZED_LL = -9.7313  # "LL -9.7313"
LAMBDA_TRANS, LAMBDA_LIFE = 0.1, 0.2

# tests/references.md [CLVTOOLS-PNBD-APPAREL]: vignette section 6, the Pareto/NBD without covariates on
# the same data object (est.pnbd.noH), its parameters (7 decimals), the Hessian of the negative
# log-likelihood in (log r, log alpha, log s, log beta) that hessian() derives at them (5 decimals), and
# the standard errors after adding that Hessian (7 decimals).
PLAIN = {"r": 1.4489768, "alpha": 48.6360845, "s": 0.5612598, "beta": 46.8843633}
PLAIN_SE = {"r": 0.2434282, "alpha": 7.4891816, "s": 0.2710479, "beta": 35.6114114}
PLAIN_HESSIAN = np.array(
    [
        [433.22658, -388.22026, -117.48760, 86.38645],
        [-388.22026, 402.65104, 78.92603, -57.69810],
        [-117.48760, 78.92603, 117.95191, -78.20295],
        [86.38645, -57.69810, -78.20295, 53.99615],
    ]
)


@pytest.fixture(scope="module")
def apparel() -> pd.DataFrame:
    """CLVTools' estimation-period summary (x, t.x, T.cal in weeks) with Gender and Channel joined."""
    log = pd.read_csv(TRANSACTIONS)
    customers = pd.read_csv(COVARIATES).set_index("Id")
    return clvlab.rfm_summary(
        log,
        customer_id="Id",
        datetime="Date",
        observation_end=ESTIMATION_END,
        time_unit="W",
        drop_after_end=True,
        customers=customers,
    )


@pytest.fixture(scope="module")
def fitted(apparel) -> clvlab.ParetoNBD:
    return clvlab.ParetoNBD(purchase_covariates=COVARIATES_BOTH, dropout_covariates=COVARIATES_BOTH).fit(
        apparel
    )


def _loglik(data, r, alpha, s, beta, g_purchase=(0.0, 0.0), g_dropout=(0.0, 0.0)):
    """Total Pareto/NBD log-likelihood with CLVTools' (= clvlab's) static-covariate parametrisation."""
    z = data[COVARIATES_BOTH].to_numpy(dtype=float)
    alpha_i = alpha * np.exp(-z @ np.asarray(g_purchase, dtype=float))
    beta_i = beta * np.exp(-z @ np.asarray(g_dropout, dtype=float))
    x, t_x, T = (data[c].to_numpy() for c in ("frequency", "recency", "T"))
    return float(pareto_nbd.loglik(r, alpha_i, s, beta_i, x, t_x, T).sum())


def _gradient_log_scale(data, log_params):
    """Exact gradient of the plain Pareto/NBD log-likelihood in (log r, log alpha, log s, log beta)."""
    p = np.exp(log_params)
    x, t_x, T = (data[c].to_numpy() for c in ("frequency", "recency", "T"))
    _, grads = pareto_nbd.loglik_and_grad(*p, x, t_x, T)
    return np.array([float(np.sum(g)) for g in grads]) * p


def test_summary_is_clvtools_estimation_period(apparel):
    # tests/references.md [CLVTOOLS-APPAREL-DATA]: 600 customers (man/apparelTrans.Rd), all first buying
    # on 2005-01-02, so T.cal = 104 weeks for everyone; 1,866 purchase days up to 2006-12-31 (derived from
    # the log: 1,868 transactions, two of them on a day the customer already bought), hence 1,266 repeat
    # transactions; 213 customers without one.
    assert (pd.Timestamp("2005-01-02") + pd.Timedelta(weeks=104)) == pd.Timestamp(ESTIMATION_END)
    assert len(apparel) == 600
    assert np.all(apparel["T"] == 104.0)
    assert apparel["frequency"].sum() == 1266
    assert (apparel["frequency"] == 0).sum() == 213
    assert apparel["recency"].max() == 104.0
    assert apparel[COVARIATES_BOTH].sum().to_dict() == {"Gender": 296, "Channel": 228}


def test_log_likelihood_and_aic_to_printed_precision(fitted):
    # tests/references.md [CLVTOOLS-PNBD-STATIC]: LL -5821.0627, AIC 11658.1254 (8 parameters).
    assert list(fitted.params_.index) == list(PUBLISHED)
    assert fitted.log_likelihood_ == pytest.approx(PUBLISHED_LL, abs=HALF_4DP)
    assert fitted.aic_ == pytest.approx(PUBLISHED_AIC, abs=HALF_4DP)


def test_likelihood_at_clvtools_estimates_reproduces_its_printed_fit(apparel, fitted):
    # tests/references.md [CLVTOOLS-PNBD-STATIC]: clvlab's likelihood evaluated at CLVTools' printed
    # estimates gives CLVTools' printed LL, AIC and BIC (all three to half a unit of the 4th decimal), so
    # the data, the parametrisation and the likelihood agree; clvlab's own maximum is higher by 2.3e-5.
    p = {k: v[0] for k, v in PUBLISHED.items()}
    ll = _loglik(
        apparel,
        p["r"],
        p["alpha"],
        p["s"],
        p["beta"],
        (p["purchase:Gender"], p["purchase:Channel"]),
        (p["dropout:Gender"], p["dropout:Channel"]),
    )
    assert ll == pytest.approx(PUBLISHED_LL, abs=HALF_4DP)
    assert -2 * ll + 2 * 8 == pytest.approx(PUBLISHED_AIC, abs=HALF_4DP)
    assert -2 * ll + 8 * math.log(600) == pytest.approx(PUBLISHED_BIC, abs=HALF_4DP)
    assert fitted.log_likelihood_ >= ll
    assert fitted.log_likelihood_ - ll < 1e-4
    # The model's own log-likelihood is this function at its estimates (the parametrisation is the same).
    e = fitted.params_
    mine = _loglik(
        apparel,
        e["r"],
        e["alpha"],
        e["s"],
        e["beta"],
        (e["purchase:Gender"], e["purchase:Channel"]),
        (e["dropout:Gender"], e["dropout:Channel"]),
    )
    assert mine == pytest.approx(fitted.log_likelihood_, abs=1e-8)


def test_estimates_and_errors_agree_far_inside_their_uncertainty(fitted):
    # tests/references.md [CLVTOOLS-PNBD-STATIC]: every clvlab estimate is within 0.01 of its standard error
    # of CLVTools' (measured: at most 0.0038 SE, for dropout:Gender), and every standard error within 0.5%
    # of CLVTools' (measured: at most 0.30%, for beta, whose SE is the largest); both differences come
    # from the point at which CLVTools stopped (see the module docstring), not from the model.
    table = fitted.summary()
    for name, (estimate, se) in PUBLISHED.items():
        assert abs(table.loc[name, "estimate"] - estimate) < 0.01 * se, name
        assert table.loc[name, "std_error"] == pytest.approx(se, rel=5e-3), name


@pytest.mark.xfail(
    strict=True,
    reason=(
        "CLVTools' printed estimates are not its likelihood's maximum to 4 decimals: its L-BFGS-B stopped "
        "2.3e-5 LL units short (LL at its estimates -5821.062709, clvlab's maximum -5821.062686). clvlab vs "
        "CLVTools: r 1.83897 vs 1.8378, alpha 92.9630 vs 92.9123, s 0.59130 vs 0.5920, beta 49.5131 vs "
        "49.6227, purchase:Gender 0.28614 vs 0.2859, purchase:Channel 0.62393 vs 0.6241, dropout:Gender "
        "-0.64187 vs -0.6430, dropout:Channel 0.78976 vs 0.7907; SE r 0.34577 vs 0.3455, alpha 16.9792 vs "
        "16.9670, s 0.26026 vs 0.2609, beta 36.1432 vs 36.2509, purchase:Channel 0.104942 vs 0.1050, "
        "dropout:Channel 0.30578 vs 0.3059 (purchase:Gender 0.10414 and dropout:Gender 0.29550 agree); "
        "BIC 11693.30081 vs 11693.3009 (LL and AIC agree)"
    ),
)
def test_estimates_errors_and_bic_to_printed_precision(fitted):
    # tests/references.md [CLVTOOLS-PNBD-STATIC]: the printed table to half a unit of its 4th decimal.
    table = fitted.summary()
    got = {k: (table.loc[k, "estimate"], table.loc[k, "std_error"]) for k in PUBLISHED}
    assert got == {k: pytest.approx(v, abs=HALF_4DP) for k, v in PUBLISHED.items()}
    assert fitted.bic_ == pytest.approx(PUBLISHED_BIC, abs=HALF_4DP)


def test_equality_constrained_model_and_likelihood_ratio(apparel, fitted):
    # tests/references.md [CLVTOOLS-PNBD-STATIC-CONSTR]: clvlab has no equality constraints across
    # processes, so only its likelihood is checked: at CLVTools' printed constrained estimates (one Gender
    # coefficient in both processes) it gives the printed LL -5826.5342, and against clvlab's unconstrained
    # maximum the printed likelihood-ratio statistic 10.943 (Df 1).
    c = CONSTRAINED
    g = c["constr.Gender"]
    ll = _loglik(
        apparel, c["r"], c["alpha"], c["s"], c["beta"], (g, c["trans.Channel"]), (g, c["life.Channel"])
    )
    assert ll == pytest.approx(CONSTRAINED_LL, abs=HALF_4DP)
    assert 2 * (fitted.log_likelihood_ - ll) == pytest.approx(LRTEST_CHISQ, abs=5e-4)


def test_regularized_objective_at_clvtools_estimates(apparel):
    # tests/references.md [CLVTOOLS-PNBD-STATIC-REG]: CLVTools' penalised objective is the form of clvlab's
    # covariate_penalizer (mean negative log-likelihood per customer + lambda * sum of squared
    # coefficients), but with one lambda per process (0.1 purchase, 0.2 drop-out), which clvlab's single
    # covariate_penalizer cannot express; so the objective is checked at CLVTools' printed estimates, where
    # it gives the printed "LL" -9.7313.
    c = REGULARIZED
    g_trans = np.array([c["trans.Gender"], c["trans.Channel"]])
    g_life = np.array([c["life.Gender"], c["life.Channel"]])
    ll = _loglik(apparel, c["r"], c["alpha"], c["s"], c["beta"], g_trans, g_life)
    objective = ll / len(apparel) - LAMBDA_TRANS * g_trans @ g_trans - LAMBDA_LIFE * g_life @ g_life
    assert objective == pytest.approx(REGULARIZED_LL, abs=HALF_4DP)


def _plain_hessian_and_errors(data):
    """Hessian of clvlab's negative log-likelihood in log parameters at CLVTools' printed plain estimates
    (central differences, step 1e-5, of clvlab's exact gradient; the result moves by less than 3e-7 for
    steps from 1e-6 to 1e-4), and the delta-method standard errors of the natural parameters from it."""
    w = np.log([PLAIN[k] for k in ("r", "alpha", "s", "beta")])
    h = 1e-5
    rows = [
        -(_gradient_log_scale(data, w + h * e) - _gradient_log_scale(data, w - h * e)) / (2 * h)
        for e in np.eye(4)
    ]
    hessian = np.array(rows)
    hessian = (hessian + hessian.T) / 2
    se = np.exp(w) * np.sqrt(np.diag(np.linalg.inv(hessian)))
    return hessian, se


def test_plain_model_hessian_and_errors_at_clvtools_estimates(apparel):
    # tests/references.md [CLVTOOLS-PNBD-APPAREL]: at CLVTools' printed estimates, the Hessian of clvlab's
    # likelihood equals CLVTools' printed one within 1e-5 (measured: at most 6.5e-6, entries of 54 to 433;
    # rounding the estimates to their printed 7 decimals alone moves it by up to 1.8e-5) and the standard
    # errors from it equal the printed ones within 5e-7 relative (measured: at most 1.9e-7).
    hessian, se = _plain_hessian_and_errors(apparel)
    np.testing.assert_allclose(hessian, PLAIN_HESSIAN, rtol=0, atol=1e-5)
    np.testing.assert_allclose(se, [PLAIN_SE[k] for k in ("r", "alpha", "s", "beta")], rtol=5e-7)


@pytest.mark.xfail(
    strict=True,
    reason=(
        "at CLVTools' printed plain estimates, clvlab's Hessian differs from the printed one by more than "
        "the half unit 5e-6 of its 5th decimal in two entries (log.r/log.r 433.2265865 vs 433.22658, "
        "log.r/log.alpha -388.2202664 vs -388.22026; at most 6.5e-6), and two standard errors differ in "
        "the 7th decimal (alpha 7.4891817 vs 7.4891816, beta 35.6114082 vs 35.6114114). Not clvlab's "
        "differentiation (the values move by < 3e-7 for steps 1e-6 to 1e-4): moving the estimates within "
        "their printed rounding (+-5e-8) moves the Hessian by up to 1.8e-5, and CLVTools differentiates "
        "numerically (numDeriv), so the printed 5th decimal cannot be reproduced from printed estimates"
    ),
)
def test_plain_model_hessian_and_errors_to_printed_precision(apparel):
    # tests/references.md [CLVTOOLS-PNBD-APPAREL]: half a unit of the printed 5th (Hessian) and 7th (SE)
    # decimals.
    hessian, se = _plain_hessian_and_errors(apparel)
    np.testing.assert_allclose(hessian, PLAIN_HESSIAN, rtol=0, atol=5e-6)
    np.testing.assert_allclose(se, [PLAIN_SE[k] for k in ("r", "alpha", "s", "beta")], rtol=0, atol=5e-8)


def test_plain_model_fit_agrees_with_clvtools(apparel):
    # tests/references.md [CLVTOOLS-PNBD-APPAREL]: clvlab's fit without covariates on the same summary is
    # at least as likely as CLVTools' printed estimates (higher by 6e-8: both are at the maximum of a flat
    # ridge) and each estimate is within 0.001 of its standard error of CLVTools'.
    model = clvlab.ParetoNBD().fit(apparel[["frequency", "recency", "T"]])
    at_clvtools = _loglik(apparel, *PLAIN.values())
    assert model.log_likelihood_ >= at_clvtools - 1e-9
    assert model.log_likelihood_ - at_clvtools < 1e-6
    table = model.summary()
    for name, value in PLAIN.items():
        assert abs(table.loc[name, "estimate"] - value) < 1e-3 * PLAIN_SE[name], name


@pytest.mark.xfail(
    strict=True,
    reason=(
        "CLVTools prints the plain fit to 7 decimals, beyond what its optimiser resolves on this flat "
        "likelihood: clvlab r 1.4489391 vs 1.4489768, alpha 48.634881 vs 48.6360845, s 0.5612510 vs "
        "0.5612598, beta 46.882109 vs 46.8843633 (LL -5848.0978269 vs -5848.0978270 at CLVTools' values)"
    ),
)
def test_plain_model_estimates_to_printed_precision(apparel):
    # tests/references.md [CLVTOOLS-PNBD-APPAREL]: half a unit of the 7th decimal.
    model = clvlab.ParetoNBD().fit(apparel[["frequency", "recency", "T"]])
    assert model.params_.to_dict() == {k: pytest.approx(v, abs=5e-8) for k, v in PLAIN.items()}
