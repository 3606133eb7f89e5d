"""Run every benchmark and write the results table: ``python -m benchmarks``.

Each benchmark runs clvlab and its peer side by side in this one process (lifetimes for the data layer,
the maximum-likelihood fits and scoring; pymc-marketing for the Bayesian fit and posterior predictions),
prints both timings and records a row. The rows, with the machine description, replace the table between
the ``results`` markers in ``benchmarks/README.md``. Sizes are options (``--small`` for a quick check).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import _common, bench_models, bench_rfm

README = Path(__file__).with_name("README.md")
START, END = "<!-- results:start -->", "<!-- results:end -->"


def write_results(path: Path = README) -> None:
    """Replace the generated results section of ``path`` with this run's rows."""
    text = path.read_text(encoding="utf-8")
    body = (
        f"{START}\nMeasured {dt.date.today().isoformat()} by `python -m benchmarks` on "
        f"{_common.machine()}.\n\n"
        f"{_common.results_table(_common.RESULTS)}\n{END}"
    )
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + body + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Results (generated)\n\n" + body + "\n"
    path.write_text(text, encoding="utf-8")


def _in_fresh_process(args: list[str]) -> None:
    """Run ``benchmarks.bench_bayes`` with ``args`` in a new process (own peak memory) and keep its rows."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        cmd = [sys.executable, "-m", "benchmarks.bench_bayes", *args, "--results-json", str(out)]
        subprocess.run(cmd, check=True, cwd=Path(__file__).parent.parent)
        _common.RESULTS.extend(json.loads(out.read_text(encoding="utf-8")))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="small sizes, a quick check (about a minute)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-bayes", action="store_true", help="skip the pymc-marketing comparison")
    parser.add_argument("--no-write", action="store_true", help="print only; leave benchmarks/README.md")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["rfm", "bgnbd", "pareto", "score", "memory"],
        help="leave these benchmarks out (lifetimes' Pareto/NBD fit alone can take minutes)",
    )
    args = parser.parse_args(argv)
    reps = ["--repeats", str(args.repeats)]
    only = [b for b in ("bgnbd", "pareto", "score", "memory") if b not in args.skip]
    if args.small:
        if "rfm" not in args.skip:
            bench_rfm.main(["--transactions", "200000", "--customers", "40000", *reps])
        sizes = ["--bgnbd-customers", "20000", "--pareto-customers", "5000", "--score-customers", "20000"]
        if only:
            bench_models.main([*sizes, "--memory-sizes", "20000", "200000", *reps, "--only", *only])
    else:
        if "rfm" not in args.skip:
            bench_rfm.main(reps)
        if only:
            bench_models.main([*reps, "--only", *only])
    if not args.no_bayes:
        if importlib.util.find_spec("pymc_marketing") is None:
            print("pymc-marketing is not installed: skipping the Bayesian comparison")
        else:
            from benchmarks import bench_bayes

            if args.small:
                bench_bayes.main(["--customers", "0", "--draws", "200", "--tune", "200"])
            else:
                bench_bayes.main(["--customers", "0", "--repeats", "5"])  # seconds each: take a median
                bench_bayes.main(["--customers", "100000"])
                _in_fresh_process(["--clv-memory", "1000000"])
    print()
    print(_common.results_table(_common.RESULTS))
    if not args.no_write:
        write_results()
        print(f"\nwrote {README}")


if __name__ == "__main__":
    main()
