"""Subscriptions (issue 20): scoring 10,000,000 subscribers, and the Bayesian sBG vs pymc-marketing.

``--scoring N``: N monthly subscribers simulated from an sBG (cohorts started over 36 months), fitted,
then the subscriber targeting table (:func:`clvlab.predict_subscriber_value`: DERL value with 90%
bounds over 200 parameter draws, churn risk, tiers, segments) and P(active in 12 months); time and
the process's peak RSS (``VmHWM``). Run it in a fresh process.

``--bayes N``: one cohort of N subscribers observed for 12 periods; clvlab's Bayesian sBG
(:class:`clvlab.bayes.ShiftedBetaGeometric`, NUTS) against pymc-marketing's ``ShiftedBetaGeoModel``
(NUTS with its default sampler, PyMC's, and with nutpie), both with HalfNormal(10) priors on the beta
parameters and the same draws, tuning and chains; prints times, minimum bulk ESS and the ratios.
pymc-marketing's data convention: ``recency`` is the period of churn, and ``recency = T`` a subscriber
still active after ``T - 1`` periods (its censored term is S(T - 1)), so clvlab's ``duration = n,
churned = False`` after 12 periods is ``recency = T = 13`` there: the same likelihood.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from benchmarks._common import machine, max_rss_mib, record

GAMMA, DELTA = 0.7, 6.0  # monthly churn: mean 10% in the first month, falling with tenure


def simulate_monthly(n: int, seed: int = 0) -> pd.DataFrame:
    from clvlab.formulas import sbg

    rng = np.random.default_rng(seed)
    observed = rng.integers(1, 37, n)  # started 1..36 months before the end of observation
    duration, churned = sbg.simulate(GAMMA, DELTA, observed, rng)
    frame = pd.DataFrame(
        {"duration": duration.astype(np.int64), "churned": churned.astype(bool)},
        index=pd.RangeIndex(n, name="customer_id"),
    )
    frame.attrs["time_unit"] = "M"
    return frame


def bench_scoring(n: int) -> None:
    import clvlab

    data = simulate_monthly(n)
    base = max_rss_mib()
    t0 = time.perf_counter()
    model = clvlab.ShiftedBetaGeometric().fit(data)
    t_fit = time.perf_counter() - t0
    rate = 1.1 ** (1 / 12) - 1
    t0 = time.perf_counter()
    table = clvlab.predict_subscriber_value(
        model, data, margin_per_period=20.0, discount_rate=rate, interval=0.9, n_draws=200
    )
    t_table = time.perf_counter() - t0
    t0 = time.perf_counter()
    p12 = model.predict_p_active(data, 12)
    t_p = time.perf_counter() - t0
    peak = max_rss_mib()
    assert np.isfinite(table["subscriber_value"].to_numpy()).all()
    assert np.isfinite(p12.to_numpy()).all()
    print(f"sBG scoring, {n:,} monthly subscribers ({data.duplicated().sum():,} repeated rows)")
    print(f"  fit {t_fit:.2f} s ({model.params_.round(3).tolist()})")
    print(f"  targeting table with 90% value bounds (200 draws): {t_table:.2f} s")
    print(f"  P(active in 12 months): {t_p:.2f} s")
    print(f"  peak RSS {peak:.0f} MiB (after simulating the data: {base:.0f} MiB)")
    record(
        "sBG subscriber targeting table (DERL value, 90% bounds, churn risk, tiers) + P(active in 12)",
        f"{n:,} subscribers",
        f"fit {t_fit:.1f} s, table {t_table:.1f} s, P(active) {t_p:.1f} s; peak RSS {peak / 1024:.2f} GiB "
        f"(data {base / 1024:.2f} GiB)",
        "",
        "",
        "vectorised, bounded memory",
        f"python -m benchmarks.bench_subscriptions --scoring {n}",
    )


def bench_bayes(n: int, draws: int, tune: int, chains: int) -> None:
    import pymc_marketing
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import ShiftedBetaGeoModel

    import clvlab.bayes as cb
    from clvlab.formulas import sbg

    rng = np.random.default_rng(3)
    duration, churned = sbg.simulate(GAMMA, DELTA, np.full(n, 12.0), rng)
    data = pd.DataFrame({"duration": duration.astype(np.int64), "churned": churned.astype(bool)})
    data.attrs["time_unit"] = "M"
    peer_data = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "recency": np.where(churned == 1, duration, 13).astype(np.int64),
            "T": 13,
            "cohort": "2025-01",
        }
    )
    print(
        f"Bayesian sBG, one cohort of {n:,} subscribers over 12 periods; {chains} chains x ({tune} + {draws})"
    )
    t0 = time.perf_counter()
    ours = cb.ShiftedBetaGeometric(draws=draws, tune=tune, chains=chains, random_seed=1, progressbar=False)
    ours.fit(data)
    t_ours = time.perf_counter() - t0
    s = ours.summary()
    ess_ours, rhat_ours = float(s["ess_bulk"].min()), float(s["r_hat"].max())
    print(f"  clvlab                   {t_ours:7.1f} s  min bulk ESS {ess_ours:.0f}, R-hat {rhat_ours:.3f}")
    print(f"    posterior means {s['mean'].round(3).tolist()}")
    config = {
        "alpha": Prior("HalfNormal", sigma=10, dims="cohort"),
        "beta": Prior("HalfNormal", sigma=10, dims="cohort"),
    }
    for sampler in ("pymc", "nutpie"):
        peer = ShiftedBetaGeoModel(model_config=config)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            peer.fit(
                peer_data,
                draws=draws,
                tune=tune,
                chains=chains,
                cores=1,
                random_seed=1,
                progressbar=False,
                nuts_sampler=sampler,
            )
        t_peer = time.perf_counter() - t0
        import arviz as az

        ps = az.summary(peer.idata, var_names=["alpha", "beta"])
        ess_peer, rhat_peer = float(ps["ess_bulk"].min()), float(ps["r_hat"].max())
        name = f"pymc-marketing {pymc_marketing.__version__} ({sampler})"
        print(f"  {name:<24} {t_peer:7.1f} s  min bulk ESS {ess_peer:.0f}, R-hat {rhat_peer:.3f}")
        print(f"    posterior means {ps['mean'].round(3).tolist()}")
        ratio, ess_ratio = t_peer / t_ours, (ess_ours / t_ours) / (ess_peer / t_peer)
        print(f"  ratio: {ratio:.1f}x in time, {ess_ratio:.1f}x in ESS per second (target >= 5x)")
        record(
            f"Bayesian sBG NUTS fit (peer: pymc-marketing ShiftedBetaGeoModel, {sampler})",
            f"{n:,} subscribers, 1 cohort x 12 periods; {chains} chains x ({tune} tune + {draws} draws)",
            f"{t_ours:.1f} s (min ESS {ess_ours:.0f}, R-hat {rhat_ours:.3f})",
            f"{t_peer:.1f} s (min ESS {ess_peer:.0f}, R-hat {rhat_peer:.3f})",
            f"**{ratio:.1f}x** ({ess_ratio:.1f}x ESS/s)",
            ">= 5x at equal or higher min ESS",
            f"python -m benchmarks.bench_subscriptions --bayes {n}",
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scoring", type=int, help="subscribers to score (e.g. 10000000)")
    parser.add_argument("--bayes", type=int, help="subscribers of the Bayesian comparison (e.g. 10000)")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=2)
    args = parser.parse_args(argv)
    print(machine())
    if args.scoring:
        bench_scoring(args.scoring)
    if args.bayes:
        bench_bayes(args.bayes, args.draws, args.tune, args.chains)


if __name__ == "__main__":
    main()
