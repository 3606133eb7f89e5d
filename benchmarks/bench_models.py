"""Maximum-likelihood fits and scoring vs lifetimes, side by side in one process.

Usage:
    python -m benchmarks.bench_models [--bgnbd-customers 1_000_000] [--pareto-customers 100_000]
                                      [--score-customers 1_000_000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

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


def alternating_medians(
    fns: dict[str, Callable[[], Any]], repeats: int
) -> dict[str, tuple[float, list[float]]]:
    """Run each function once per round, ``repeats`` rounds, so that load on the machine hits all alike.

    Returns each function's median wall time and all its times.
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: (statistics.median(ts), ts) for name, ts in times.items()}


def bench_scoring(n: int, repeats: int, horizon: float = 90.0) -> dict[str, float]:
    """BG/NBD and Pareto/NBD scoring (E[X(T, T+t)] + P(alive)) and lifetimes' BG/NBD, in one process.

    Each library is checked against the other first (lifetimes' finite values, 1e-6 relative); the
    timings then alternate the three in rounds.
    """
    from lifetimes import BetaGeoFitter, ParetoNBDFitter

    import clvlab

    data = simulate_daily(clvlab.BetaGeo, BGNBD_DAYS, n)
    pareto_data = simulate_daily(clvlab.ParetoNBD, PARETO_DAYS, n)
    model = clvlab.BetaGeo.from_params(BGNBD_DAYS, time_unit="D")
    pareto = clvlab.ParetoNBD.from_params(PARETO_DAYS, time_unit="D")
    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series(BGNBD_DAYS)

    def ours():
        return model.predict_purchases(data, horizon), model.predict_p_alive(data)

    def ours_pareto():
        return pareto.predict_purchases(pareto_data, horizon), pareto.predict_p_alive(pareto_data)

    def peer():
        f, r, T = data["frequency"], data["recency"], data["T"]
        return (
            fitter.conditional_expected_number_of_purchases_up_to_time(horizon, f, r, T),
            fitter.conditional_probability_alive(f, r, T),
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e_peer, p_peer = peer()
        e_ours, p_ours = ours()
        for mine, theirs in ((e_ours, e_peer), (p_ours, p_peer)):
            theirs = np.asarray(theirs, dtype=float)
            finite = np.isfinite(theirs)
            np.testing.assert_allclose(mine.to_numpy()[finite], theirs[finite], rtol=1e-6)
        # Pareto/NBD against lifetimes on the first 20,000 customers (lifetimes' hyp2f1 overflows for some)
        head = pareto_data.iloc[:20_000]
        pfit = ParetoNBDFitter()
        pfit.params_ = pd.Series(PARETO_DAYS)
        f, r, T = head["frequency"], head["recency"], head["T"]
        e_pn, p_pn = pareto.predict_purchases(head, horizon), pareto.predict_p_alive(head)
        for mine, theirs in (
            (e_pn, pfit.conditional_expected_number_of_purchases_up_to_time(horizon, f, r, T)),
            (p_pn, pfit.conditional_probability_alive(f, r, T)),
        ):
            theirs = np.asarray(theirs, dtype=float)
            finite = np.isfinite(theirs)
            np.testing.assert_allclose(mine.to_numpy()[finite], theirs[finite], rtol=1e-6)
        # one pass: both columns from predict_purchases_and_p_alive (the same values, checked)
        for m, d, (e, p) in ((model, data, (e_ours, p_ours)), (pareto, head, (e_pn, p_pn))):
            both = m.predict_purchases_and_p_alive(d, horizon)
            np.testing.assert_array_equal(both["expected_purchases"], e)
            np.testing.assert_array_equal(both["p_alive"], p)
        fns = {
            "bgnbd": ours,
            "pareto": ours_pareto,
            "lifetimes": peer,
            "bgnbd_one_pass": lambda: model.predict_purchases_and_p_alive(data, horizon),
            "pareto_one_pass": lambda: pareto.predict_purchases_and_p_alive(pareto_data, horizon),
        }
        timed = alternating_medians(fns, repeats)
    (t_ours, runs), (t_pareto, pareto_runs), (t_peer, peer_runs), (t_bg1, bg1_runs), (t_pn1, pn1_runs) = (
        timed[k] for k in fns
    )

    def runs_text(ts: list[float]) -> str:
        return ", ".join(f"{t:.3f}" for t in ts)

    print(
        f"Scoring (expected purchases in {horizon:g} days + P(alive)), {n:,} customers, "
        f"{repeats} alternating rounds"
    )
    print(f"  clvlab BG/NBD     median {t_ours:.3f} s (runs {runs_text(runs)})")
    print(f"  clvlab Pareto/NBD median {t_pareto:.3f} s (runs {runs_text(pareto_runs)})")
    print(f"  lifetimes BG/NBD  median {t_peer:.3f} s (runs {runs_text(peer_runs)})")
    print(f"  lifetimes / clvlab BG/NBD:         {t_peer / t_ours:.1f}x (target >= 3x)")
    print(f"  clvlab Pareto/NBD / clvlab BG/NBD: {t_pareto / t_ours:.2f}x (target <= 1.5x)")
    print("  one pass, predict_purchases_and_p_alive (same values):")
    print(
        f"  clvlab BG/NBD     median {t_bg1:.3f} s (runs {runs_text(bg1_runs)}), "
        f"lifetimes / it {t_peer / t_bg1:.1f}x"
    )
    print(
        f"  clvlab Pareto/NBD median {t_pn1:.3f} s (runs {runs_text(pn1_runs)}), "
        f"/ BG/NBD {t_pn1 / t_bg1:.2f}x"
    )
    command = f"python -m benchmarks.bench_models --only score --score-customers {n} --repeats {repeats}"
    record(
        f"BG/NBD scoring: E[X(T, T+{horizon:g})] + P(alive) (peer: lifetimes)",
        f"{n:,} customers",
        f"{t_ours:.3f} s",
        f"{t_peer:.3f} s",
        f"**{t_peer / t_ours:.1f}x**",
        ">= 3x",
        command,
    )
    record(
        f"Pareto/NBD scoring: E[X(T, T+{horizon:g})] + P(alive) (against clvlab's BG/NBD, same run)",
        f"{n:,} customers",
        f"{t_pareto:.3f} s",
        f"{t_ours:.3f} s (BG/NBD)",
        f"**{t_pareto / t_ours:.2f}x** the BG/NBD time",
        "<= 1.5x",
        command,
    )
    record(
        f"Scoring in one pass, `predict_purchases_and_p_alive({horizon:g})`: BG/NBD / Pareto/NBD "
        "(peer: lifetimes' two BG/NBD calls)",
        f"{n:,} customers",
        f"{t_bg1:.3f} s / {t_pn1:.3f} s",
        f"{t_peer:.3f} s",
        f"**{t_peer / t_bg1:.1f}x** (BG/NBD); Pareto/NBD {t_pn1 / t_bg1:.2f}x the BG/NBD time",
        ">= 3x; <= 1.5x",
        command,
    )
    return {
        "ours": t_ours,
        "peer": t_peer,
        "pareto": t_pareto,
        "ours_one_pass": t_bg1,
        "pareto_one_pass": t_pn1,
    }


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
