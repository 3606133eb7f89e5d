"""Bayesian BG/NBD: clvlab.bayes.BetaGeo vs pymc-marketing's BetaGeoModel, side by side in one process.

Both run NUTS with the same chains, tune, draws, target acceptance (PyMC's default 0.8, which
pymc-marketing uses) and one core: clvlab on nutpie (its default when nutpie is installed, as with the
``bayes`` extra), pymc-marketing on its default sampler (PyMC's NUTS on PyMC 5) and on nutpie, so that one
ratio compares the same sampler on both sides (``--peer-sampler``). Fits alternate; medians of
``--repeats`` rounds. Then both compute the posterior-mean expected
purchases of every customer over all posterior draws (clvlab's blocks of draws run on the machine's
cores, up to 4). Needs ``pip install pymc-marketing`` (a benchmark peer, not a clvlab dependency).

Usage: python -m benchmarks.bench_bayes [--customers 0 100000] [--draws 500] [--tune 500] [--chains 2]
       [--repeats 3] [--peer-sampler both|default|pymc|nutpie]
       (0 means the CDNOW calibration summary; otherwise simulated daily customers)
       python -m benchmarks.bench_bayes --clv-memory 1000000   (posterior CLV memory, no peer)
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._common import RESULTS, machine, max_rss_mib, record


def _data(n: int) -> pd.DataFrame:
    import clvlab

    if n == 0:
        log = clvlab.datasets.load_cdnow_transactions()
        return clvlab.rfm_summary(log, observation_end="1997-09-30", time_unit="W", drop_after_end=True)
    from benchmarks.bench_models import BGNBD_DAYS, simulate_daily

    return simulate_daily(clvlab.BetaGeo, BGNBD_DAYS, n)


def _peer_fit(model_class: Any, data: pd.DataFrame, sampler: str, kw: dict[str, int]) -> Any:
    """Fit pymc-marketing's BG/NBD with NUTS: 0.x takes the data in the constructor, 1.x in ``fit``."""
    sample = {"random_seed": 1, "progressbar": False, "cores": 1, "target_accept": 0.8, **kw}
    if sampler != "default":
        sample["nuts_sampler"] = sampler
    if "data" in inspect.signature(model_class.__init__).parameters:
        peer = model_class(data=data)
        peer.fit(**sample)
    else:
        peer = model_class()
        peer.fit(data, **sample)
    return peer


def _peer_expected(peer: Any, data: pd.DataFrame, t: float) -> Any:
    """Posterior expected purchases of every customer over ``t`` (all draws), in either API."""
    if "data" in inspect.signature(peer.expected_purchases).parameters:
        return peer.expected_purchases(data, future_t=t)
    return peer.expected_purchases(future_t=t)


def bench_fit(
    n: int, draws: int, tune: int, chains: int, repeats: int = 1, peer_sampler: str = "both"
) -> None:
    """clvlab's NUTS fit against pymc-marketing's, with the peer on ``peer_sampler``.

    ``"both"`` runs the peer twice per round: on its default sampler (PyMC's own NUTS on PyMC 5, nutpie
    on PyMC 6) and on nutpie, clvlab's sampler, so one of the two ratios compares the same sampler on
    both sides. Rounds alternate the fits; medians of ``repeats`` rounds are reported.
    """
    import pymc_marketing
    from pymc_marketing.clv import BetaGeoModel

    import clvlab.bayes as cb
    from clvlab.bayes import _arviz

    peer_version = pymc_marketing.__version__
    samplers = ["default", "nutpie"] if peer_sampler == "both" else [peer_sampler]

    data = _data(n)
    size = "CDNOW, 2,357 customers" if n == 0 else f"{n:,} simulated customers"
    setting = f"{chains} chains x ({tune} tune + {draws} draws)"
    print(f"BG/NBD NUTS, {size}, {setting}, target_accept 0.8, one core, {repeats} round(s)")
    kw = {"draws": draws, "tune": tune, "chains": chains}
    peer_data = data.reset_index().rename(columns={data.index.name or "index": "customer_id"})
    peer_data = peer_data[["customer_id", "frequency", "recency", "T"]]
    times_ours: list[float] = []
    times_peer: dict[str, list[float]] = {name: [] for name in samplers}
    peers: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Alternate the fits; the median of each is reported (the same seed gives the same posterior
        # each time, so only the time varies).
        for _ in range(repeats):
            t0 = time.perf_counter()
            ours = cb.BetaGeo(random_seed=1, progressbar=False, target_accept=0.8, **kw).fit(data)
            times_ours.append(time.perf_counter() - t0)
            for name in samplers:
                t0 = time.perf_counter()
                peers[name] = _peer_fit(BetaGeoModel, peer_data, name, kw)
                times_peer[name].append(time.perf_counter() - t0)
        t_ours = statistics.median(times_ours)
        s_ours = ours.summary()
        ess_ours, rhat_ours = s_ours["ess_bulk"].min(), s_ours["r_hat"].max()
        print(f"  clvlab on nutpie: runs {', '.join(f'{t:.1f}' for t in times_ours)} s")
        print(
            f"  clvlab          fit {t_ours:7.1f} s   min bulk ESS {ess_ours:.0f}, max R-hat {rhat_ours:.3f}"
        )
        command = f"python -m benchmarks.bench_bayes --customers {n} --draws {draws} --tune {tune}"
        command += f" --chains {chains} --repeats {repeats} --peer-sampler {peer_sampler}"
        median = " (median)" if repeats > 1 else ""
        for name in samplers:
            peer = peers[name]
            t_peer = statistics.median(times_peer[name])
            s_peer = _arviz.summary_table(peer.idata, ["r", "alpha", "a", "b"])
            ess_peer, rhat_peer = s_peer["ess_bulk"].min(), s_peer["r_hat"].max()
            # The sampler the peer ran (PyMC 6 runs nutpie by default when it is installed, PyMC 5 its own).
            used = str(peer.idata["posterior"].attrs.get("inference_library", "pymc"))
            peer_name = f"pymc-marketing {peer_version} on {used}" + (
                " (its default)" if name == "default" else ""
            )
            same = " (same sampler)" if used == "nutpie" else ""
            print(f"  {peer_name}: runs {', '.join(f'{t:.1f}' for t in times_peer[name])} s")
            print(
                f"  {peer_name}  fit {t_peer:7.1f} s   min bulk ESS {ess_peer:.0f}, max R-hat {rhat_peer:.3f}"
            )
            print(
                f"  fit ratio vs {peer_name}{same}: {t_peer / t_ours:.1f}x; min ESS per second "
                f"{ess_ours / t_ours:.1f} vs {ess_peer / t_peer:.1f} "
                f"({ess_ours / t_ours / (ess_peer / t_peer):.1f}x)"
            )
            record(
                f"Bayesian BG/NBD NUTS fit, clvlab on nutpie (peer: {peer_name}){same}",
                f"{size}; {setting}",
                f"{t_ours:.1f} s{median} (min ESS {ess_ours:.0f}, R-hat {rhat_ours:.3f})",
                f"{t_peer:.1f} s{median} (min ESS {ess_peer:.0f}, R-hat {rhat_peer:.3f})",
                f"**{t_peer / t_ours:.1f}x** ({ess_ours / t_ours / (ess_peer / t_peer):.1f}x ESS/s)",
                ">= 3x (CDNOW), >= 10x (100k)",
                command,
            )
        # Posterior predictions do not depend on the sampler: the last peer fit's draws.
        peer = peers[samplers[-1]]
        t0 = time.perf_counter()
        e_ours = ours.predict_purchases(data, 39.0)
        tp_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        e_peer = _peer_expected(peer, peer_data, 39).mean(("chain", "draw")).to_numpy()
        tp_peer = time.perf_counter() - t0
    diff = np.mean(np.abs(e_ours.to_numpy() - e_peer) / e_peer)
    print(
        f"  posterior expected purchases (39), {chains * draws:,} draws: clvlab {tp_ours:.2f} s, "
        f"pymc-marketing {tp_peer:.2f} s, speed-up {tp_peer / tp_ours:.1f}x; mean relative difference "
        f"{diff:.3%}"
    )
    record(
        f"Posterior-mean expected purchases (peer: pymc-marketing {peer_version})",
        f"{len(data):,} customers x {chains * draws:,} draws",
        f"{tp_ours:.2f} s",
        f"{tp_peer:.2f} s",
        f"**{tp_peer / tp_ours:.1f}x**",
        ">= 10x (100k)",
        command,
    )


def bench_clv_memory(n: int, n_draws: int = 1000) -> None:
    """Posterior CLV (BG/NBD x Gamma-Gamma, 1,000 draws each) for ``n`` customers: time and peak RSS.

    Run it in a fresh process (``python -m benchmarks`` does): the peak resident memory of a process
    that has already run other benchmarks says nothing about this one.

    The posteriors are ADVI fits on a 50,000-customer subsample (their shape is all that matters here);
    CLV is then computed for every customer over every draw, with 90% credible bounds.
    """
    import clvlab
    import clvlab.bayes as cb
    from benchmarks.bench_models import BGNBD_DAYS, simulate_daily

    data = simulate_daily(clvlab.BetaGeo, BGNBD_DAYS, n)
    rng = np.random.default_rng(1)
    # Gamma-Gamma spend: nu ~ Gamma(q, gamma), mean of x purchases ~ Gamma(p x, nu x) (Fader et al. 2005).
    p, q, gamma = 6.25, 3.74, 15.44
    x = data["frequency"].to_numpy()
    nu = rng.gamma(q, 1.0 / gamma, n)
    spend = rng.gamma(np.maximum(p * x, 1e-9), 1.0 / (nu * np.maximum(x, 1.0)))
    data["monetary_value"] = np.where(x > 0, spend, 0.0)
    sub = data.sample(50_000, random_state=0)
    sub.attrs = dict(data.attrs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg = cb.BetaGeo(method="advi", draws=n_draws, progressbar=False).fit(sub)
        gg = cb.GammaGamma(method="advi", draws=n_draws, progressbar=False).fit(sub)
    base = max_rss_mib()
    print(f"posterior CLV, {n:,} customers x {n_draws:,} draws (365 days at 10% a year, 90% bounds)")
    print(f"  process peak RSS before: {base:.0f} MiB")
    t0 = time.perf_counter()
    clv = clvlab.customer_lifetime_value(
        bg, gg, data, horizon=365.0, discount_rate=0.10, discount_period=365.0, interval=0.9
    )
    elapsed = time.perf_counter() - t0
    peak = max_rss_mib()
    assert np.isfinite(clv.to_numpy()).all()
    print(f"  {elapsed:.1f} s; process peak RSS {peak:.0f} MiB ({peak / 1024:.2f} GiB)")
    record(
        "Posterior CLV with 90% bounds, BG/NBD x Gamma-Gamma (no peer run)",
        f"{n:,} customers x {n_draws:,} draws",
        f"{elapsed:.1f} s, peak RSS {peak / 1024:.2f} GiB",
        "",
        "",
        "< 4 GB",
        f"python -m benchmarks.bench_bayes --clv-memory {n}",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, nargs="*", default=[0, 100_000])
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1, help="alternating runs of each fit (median)")
    parser.add_argument(
        "--peer-sampler",
        choices=("both", "default", "pymc", "nutpie"),
        default="both",
        help="NUTS implementation of the peer: its default (PyMC's choice), PyMC's own, nutpie (clvlab's), "
        "or both its default and nutpie (the default: one ratio on the same sampler)",
    )
    parser.add_argument("--clv-memory", type=int, help="customers for the posterior CLV memory run")
    parser.add_argument("--results-json", help="also write the recorded rows to this JSON file")
    args = parser.parse_args(argv)
    print(machine())
    if args.clv_memory:
        bench_clv_memory(args.clv_memory)
    else:
        for n in args.customers:
            bench_fit(n, args.draws, args.tune, args.chains, args.repeats, args.peer_sampler)
    if args.results_json:
        Path(args.results_json).write_text(json.dumps(RESULTS), encoding="utf-8")


if __name__ == "__main__":
    main()
