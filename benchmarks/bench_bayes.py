"""Bayesian BG/NBD: clvlab.bayes.BetaGeo vs pymc-marketing's BetaGeoModel, side by side in one process.

Both use PyMC's NUTS with the same chains, tune and draws. Needs ``pip install pymc-marketing``
(not a clvlab dependency).

Usage: python -m benchmarks.bench_bayes [--customers 0] [--draws 500] [--tune 500] [--chains 2]
       (--customers 0 means the CDNOW calibration summary; otherwise simulated daily customers)
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from benchmarks._common import machine


def _data(n: int) -> pd.DataFrame:
    import clvlab

    if n == 0:
        log = clvlab.datasets.load_cdnow_transactions()
        return clvlab.rfm_summary(log, observation_end="1997-09-30", time_unit="W", drop_after_end=True)
    from benchmarks.bench_models import BGNBD_DAYS, simulate_daily

    return simulate_daily(clvlab.BetaGeo, BGNBD_DAYS, n)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=0)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    args = parser.parse_args(argv)
    import arviz as az
    from pymc_marketing.clv import BetaGeoModel

    import clvlab.bayes as cb

    data = _data(args.customers)
    print(machine())
    print(
        f"BG/NBD NUTS, {len(data):,} customers, "
        f"{args.chains} chains x ({args.tune} tune + {args.draws} draws)"
    )
    kw = {"draws": args.draws, "tune": args.tune, "chains": args.chains}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        ours = cb.BetaGeo(random_seed=1, progressbar=False, **kw).fit(data)
        t_ours = time.perf_counter() - t0
        peer_data = data.reset_index().rename(columns={data.index.name or "index": "customer_id"})
        peer_data = peer_data[["customer_id", "frequency", "recency", "T"]]
        t0 = time.perf_counter()
        peer = BetaGeoModel(data=peer_data)
        peer.fit(random_seed=1, progressbar=False, cores=1, **kw)
        t_peer = time.perf_counter() - t0
        summary_peer = az.summary(peer.idata, var_names=["r", "alpha", "a", "b"])
        t0 = time.perf_counter()
        e_ours = ours.predict_purchases(data, 39.0)
        tp_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        e_peer = peer.expected_purchases(future_t=39).mean(("chain", "draw")).to_numpy()
        tp_peer = time.perf_counter() - t0
    s = ours.summary()
    print(
        f"  clvlab          fit {t_ours:7.1f} s   min ESS {s['ess_bulk'].min():.0f}, "
        f"max R-hat {s['r_hat'].max():.3f}"
    )
    print(
        f"  pymc-marketing  fit {t_peer:7.1f} s   min ESS {summary_peer['ess_bulk'].min():.0f}, "
        f"max R-hat {summary_peer['r_hat'].max():.3f}"
    )
    print(f"  fit speed-up {t_peer / t_ours:.1f}x")
    print(
        f"  posterior expected purchases (39): clvlab {tp_ours:.2f} s, pymc-marketing {tp_peer:.2f} s, "
        f"speed-up {tp_peer / tp_ours:.1f}x; mean relative difference "
        f"{np.mean(np.abs(e_ours.to_numpy() - e_peer) / e_peer):.3%}"
    )


if __name__ == "__main__":
    main()
