"""The ``clvlab`` command line: a thin argparse layer over the public API."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from clvlab.errors import DataError

__all__ = ["main"]

_RUN_EXAMPLE = """example:
  clvlab run                                      # the bundled CDNOW log
  clvlab run --transactions log.csv --customer-id cust --datetime day --amount value --time-unit W
"""


def _read_transactions(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"no such file: {path}")
    if path.suffix.lower() in {".parquet", ".pq"}:
        return pd.read_parquet(path)
    if path.suffix.lower() in {".csv", ".txt"} or path.name.lower().endswith(".csv.gz"):
        return pd.read_csv(path)
    raise DataError(f"{path}: transactions must be a .csv or .parquet file")


def _cmd_run(args: argparse.Namespace) -> int:
    import clvlab

    if args.transactions is None:
        log = clvlab.datasets.load_cdnow_transactions()
        source = "bundled CDNOW 1/10 sample (2,357 customers)"
    else:
        log = _read_transactions(Path(args.transactions))
        source = str(args.transactions)
    summary = clvlab.rfm_summary(
        log,
        customer_id=args.customer_id,
        datetime=args.datetime,
        monetary_value=args.amount,
        observation_end=args.observation_end,
        time_unit=args.time_unit,
    )
    print(f"clvlab {clvlab.__version__}: RFM summary of {source}, time unit {args.time_unit!r}")
    print(f"{len(summary):,} customers; {int(summary['frequency'].sum()):,} repeat purchase occasions; "
          f"{int((summary['frequency'] == 0).sum()):,} without a repeat purchase")
    print(summary.describe().T.round(3).to_string())
    print()
    print(summary.head(10).round(3).to_string())
    if args.out is not None:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        summary.to_csv(out / "rfm_summary.csv")
        print(f"\nwrote {out / 'rfm_summary.csv'}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clvlab", description="Probabilistic customer lifetime value.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="the main job: summarise a transaction log (default: the bundled CDNOW data)",
        epilog=_RUN_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--transactions", help="CSV or Parquet transaction log (default: bundled CDNOW)")
    run.add_argument("--customer-id", default="customer_id", help="customer id column (default: %(default)s)")
    run.add_argument("--datetime", default="date", help="date column (default: %(default)s)")
    run.add_argument("--amount", default="amount", help="amount column (default: %(default)s)")
    run.add_argument("--observation-end", help="end of observation (default: last date in the log)")
    run.add_argument("--time-unit", default="W", choices=["D", "W", "M", "Y"], help="time unit (default: W)")
    run.add_argument("--out", help="directory to write results into")
    run.set_defaults(func=_cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except DataError as exc:
        print(f"clvlab: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
