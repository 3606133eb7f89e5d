"""rfm_summary vs lifetimes' summary_data_from_transaction_data, side by side in one process.

Usage: python -m benchmarks.bench_rfm [--transactions 10_000_000] [--customers 2_000_000] [--repeats 3]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from benchmarks._common import machine, median_time, peak_memory, record


def make_log(n_transactions: int, n_customers: int, seed: int = 0) -> pd.DataFrame:
    """Random log: customers drawn uniformly, two years of daily dates, positive amounts."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2022-01-01", "D")
    days = rng.integers(0, 730, n_transactions)
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, n_customers, n_transactions),
            "date": (start + days).astype("datetime64[ns]"),
            "amount": np.round(rng.gamma(2.0, 20.0, n_transactions), 2),
        }
    )


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peer-repeats", type=int, default=1, help="lifetimes runs (slow)")
    args = parser.parse_args(argv)

    from lifetimes.utils import summary_data_from_transaction_data

    import clvlab

    log = make_log(args.transactions, args.customers)
    input_bytes = float(log.memory_usage(deep=True).sum())

    def ours() -> pd.DataFrame:
        return clvlab.rfm_summary(log, monetary_value="amount")

    def peer() -> pd.DataFrame:
        return summary_data_from_transaction_data(
            log, "customer_id", "date", monetary_value_col="amount", freq="D"
        )

    t_ours, all_ours, s_ours = median_time(ours, args.repeats)
    t_peer, all_peer, s_peer = median_time(peer, args.peer_repeats)
    # Same answer, or the timing means nothing.
    np.testing.assert_array_equal(s_ours["frequency"].to_numpy(), s_peer["frequency"].to_numpy())
    np.testing.assert_array_equal(s_ours["T"].to_numpy(), s_peer["T"].to_numpy())
    peak = peak_memory(ours)
    print(machine())
    print(f"rfm_summary on {args.transactions:,} transactions, {len(s_ours):,} customers")
    print(f"  clvlab    median {t_ours:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in all_ours)})")
    print(f"  lifetimes median {t_peer:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in all_peer)})")
    print(f"  speed-up  {t_peer / t_ours:.1f}x")
    print(
        f"  clvlab peak memory {peak / 2**20:.0f} MiB = {peak / input_bytes:.2f}x the input frame "
        f"({input_bytes / 2**20:.0f} MiB)"
    )
    command = f"python -m benchmarks.bench_rfm --transactions {args.transactions}"
    command += f" --customers {args.customers} --repeats {args.repeats}"
    size = f"{args.transactions:,} transactions, {len(s_ours):,} customers"
    record(
        "`rfm_summary` with amounts (peer: lifetimes)",
        size,
        f"{t_ours:.2f} s",
        f"{t_peer:.2f} s",
        f"**{t_peer / t_ours:.1f}x**",
        ">= 5x",
        command,
    )
    record(
        "`rfm_summary` peak memory (tracemalloc)",
        size,
        f"{peak / 2**20:.0f} MiB",
        "",
        f"**{peak / input_bytes:.2f}x** the input frame ({input_bytes / 2**20:.0f} MiB)",
        "<= 3x",
        command,
    )
    return {
        "clvlab_s": t_ours,
        "lifetimes_s": t_peer,
        "ratio": t_peer / t_ours,
        "memory_ratio": peak / input_bytes,
    }


if __name__ == "__main__":
    main()
