"""Maximum-likelihood fits and scoring vs lifetimes, side by side in one process.

Usage:
    python -m benchmarks.bench_models [--bgnbd-customers 1_000_000] [--pareto-customers 100_000]
                                      [--score-customers 1_000_000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

from benchmarks._common import machine, median_time, peak_memory, record

# CDNOW-like parameters expressed per day (FHL 2005's weekly alpha times 7; the weekly values are
# tests/references.md [BGNBD-MLE-CDNOW] and [PNBD-MLE-CDNOW], whose beta is times 7 too).
BGNBD_DAYS = {"r": 0.2426, "alpha": 4.4135 * 7, "a": 0.7929, "b": 2.4258}
PARETO_DAYS = {"r": 0.5533, "alpha": 10.5776 * 7, "s": 0.6062, "beta": 11.6679 * 7}


def simulate_daily(model_cls, params, n, seed=0) -> pd.DataFrame:
    """Customers with ages of 30..730 whole days; recency rounded down to whole days, like real logs."""
    import clvlab  # noqa: F401

    rng = np.random.default_rng(seed)
    T = rng.integers(30, 731, n).astype(float)
    sim = model_cls.from_params(params, time_unit="D").simulate(T, seed=seed)
    sim["recency"] = np.floor(sim["recency"])
    sim.attrs["time_unit"] = "D"
    return sim


def bench_bgnbd_fit(n: int, repeats: int) -> dict[str, float]:
    from lifetimes import BetaGeoFitter

    import clvlab

    data = simulate_daily(clvlab.BetaGeo, BGNBD_DAYS, n)
    t_ours, runs, model = median_time(lambda: clvlab.BetaGeo().fit(data), repeats)

    def peer():
        return BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])

    t_peer, _peer_runs, fitter = median_time(peer, 1)
    theirs = fitter.params_[["r", "alpha", "a", "b"]].to_numpy()
    ll_peer = clvlab.BetaGeo.formulas.loglik(
        *theirs, *(data[c].to_numpy() for c in ["frequency", "recency", "T"])
    ).sum()
    print(f"BG/NBD fit, {n:,} customers (daily recency)")
    runs_text = ", ".join(f"{t:.2f}" for t in runs)
    print(f"  clvlab    median {t_ours:.2f} s (runs {runs_text}), LL {model.log_likelihood_:.2f}")
    print(f"  lifetimes {t_peer:.2f} s, LL {ll_peer:.2f}")
    print(f"  speed-up  {t_peer / t_ours:.1f}x")
    record(
        "BG/NBD fit, daily recency (peer: lifetimes)",
        f"{n:,} customers",
        f"{t_ours:.2f} s",
        f"{t_peer:.2f} s",
        f"**{t_peer / t_ours:.1f}x**",
        ">= 25x",
        f"python -m benchmarks.bench_models --only bgnbd --bgnbd-customers {n} --repeats {repeats}",
    )
    return {"ours": t_ours, "peer": t_peer}


def bench_pareto_fit(n: int, repeats: int) -> dict[str, float]:
    from lifetimes import ParetoNBDFitter

    import clvlab

    data = simulate_daily(clvlab.ParetoNBD, PARETO_DAYS, n)
    t_ours, runs, model = median_time(lambda: clvlab.ParetoNBD().fit(data), repeats)

    def peer():
        return ParetoNBDFitter().fit(data["frequency"], data["recency"], data["T"])

    t_peer, _, fitter = median_time(peer, 1)
    theirs = fitter.params_[["r", "alpha", "s", "beta"]].to_numpy()
    cols = [data[c].to_numpy() for c in ["frequency", "recency", "T"]]
    ll_peer = clvlab.ParetoNBD.formulas.loglik(*theirs, *cols).sum()
    print(f"Pareto/NBD fit, {n:,} customers (daily recency)")
    runs_text = ", ".join(f"{t:.2f}" for t in runs)
    print(f"  clvlab    median {t_ours:.2f} s (runs {runs_text}), LL {model.log_likelihood_:.2f}")
    print(f"  lifetimes {t_peer:.2f} s, LL {ll_peer:.2f} (at its estimate, evaluated exactly)")
    at_least = model.log_likelihood_ >= ll_peer - 1e-6
    print(f"  speed-up  {t_peer / t_ours:.1f}x; likelihood at least as high: {at_least}")
    record(
        "Pareto/NBD fit, daily recency (peer: lifetimes)",
        f"{n:,} customers",
        f"{t_ours:.2f} s (LL {model.log_likelihood_:.2f})",
        f"{t_peer:.2f} s (LL {ll_peer:.2f})",
        f"**{t_peer / t_ours:.1f}x**",
        ">= 20x",
        f"python -m benchmarks.bench_models --only pareto --pareto-customers {n} --repeats {repeats}",
    )
    return {"ours": t_ours, "peer": t_peer, "ll_ours": model.log_likelihood_, "ll_peer": float(ll_peer)}


def bench_scoring(n: int, repeats: int) -> dict[str, float]:
    from lifetimes import BetaGeoFitter

    import clvlab

    data = simulate_daily(clvlab.BetaGeo, BGNBD_DAYS, n)
    model = clvlab.BetaGeo.from_params(BGNBD_DAYS, time_unit="D")
    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series(BGNBD_DAYS)

    def ours():
        return model.predict_purchases(data, 90.0), model.predict_p_alive(data)

    def peer():
        f, r, T = data["frequency"], data["recency"], data["T"]
        return (
            fitter.conditional_expected_number_of_purchases_up_to_time(90.0, f, r, T),
            fitter.conditional_probability_alive(f, r, T),
        )

    t_ours, runs, (e_ours, _p_ours) = median_time(ours, repeats)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_peer, peer_runs, (e_peer, _p_peer) = median_time(peer, repeats)
    finite = np.isfinite(np.asarray(e_peer, dtype=float))
    np.testing.assert_allclose(e_ours.to_numpy()[finite], np.asarray(e_peer, dtype=float)[finite], rtol=1e-6)
    print(f"BG/NBD scoring (expected purchases in 90 days + P(alive)), {n:,} customers")
    print(f"  clvlab    median {t_ours:.3f} s (runs {', '.join(f'{t:.3f}' for t in runs)})")
    print(f"  lifetimes median {t_peer:.3f} s (runs {', '.join(f'{t:.3f}' for t in peer_runs)})")
    print(f"  speed-up  {t_peer / t_ours:.1f}x")
    record(
        "BG/NBD scoring: E[X(T, T+90)] + P(alive) (peer: lifetimes)",
        f"{n:,} customers",
        f"{t_ours:.3f} s",
        f"{t_peer:.3f} s",
        f"**{t_peer / t_ours:.1f}x**",
        ">= 3x",
        f"python -m benchmarks.bench_models --only score --score-customers {n} --repeats {repeats}",
    )
    return {"ours": t_ours, "peer": t_peer}


def bench_scoring_memory(sizes: list[int]) -> None:
    import clvlab

    model = clvlab.BetaGeo.from_params(BGNBD_DAYS, time_unit="D")
    print("BG/NBD scoring peak memory (tracemalloc) by number of customers")
    per_customer = []
    for n in sizes:
        data = simulate_daily(clvlab.BetaGeo, BGNBD_DAYS, n)
        peak = peak_memory(
            lambda data=data: (model.predict_purchases(data, 90.0), model.predict_p_alive(data))
        )
        print(f"  {n:>11,} customers: {peak / 2**20:8.1f} MiB = {peak / n:.0f} bytes per customer")
        per_customer.append(f"{peak / 2**20:.1f} MiB ({peak / n:.0f} B/customer)")
    record(
        "BG/NBD scoring peak memory (tracemalloc)",
        " / ".join(f"{n:,}" for n in sizes) + " customers",
        " / ".join(per_customer),
        "",
        "linear in customers",
        "linear",
        "python -m benchmarks.bench_models --only memory --memory-sizes " + " ".join(map(str, sizes)),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bgnbd-customers", type=int, default=1_000_000)
    parser.add_argument("--pareto-customers", type=int, default=100_000)
    parser.add_argument("--score-customers", type=int, default=1_000_000)
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=["bgnbd", "pareto", "score", "memory"], nargs="*")
    args = parser.parse_args(argv)
    print(machine())
    only = set(args.only or ["bgnbd", "pareto", "score", "memory"])
    if "bgnbd" in only:
        bench_bgnbd_fit(args.bgnbd_customers, args.repeats)
    if "pareto" in only:
        bench_pareto_fit(args.pareto_customers, args.repeats)
    if "score" in only:
        bench_scoring(args.score_customers, args.repeats)
    if "memory" in only:
        bench_scoring_memory(args.memory_sizes)


if __name__ == "__main__":
    main()
