"""clvlab.spark at scale against the pandas path (issue 18).

Run ``python -m benchmarks.bench_spark`` (default: 100,000,000 transactions of about 10,000,000
customers) or ``python -m benchmarks.bench_spark --rows 1000000 10000000``.

A transaction log of N rows (about N / 10 customers over two years, with drop-out and same-day orders)
is generated in chunks with NumPy and written as Parquet files, so the generator's memory does not grow
with N. Then, on Spark ``local[2]``:

1. **summary**: :func:`clvlab.spark.rfm_summary` (its validation query, then the summary persisted and
   counted);
2. **fit**: :func:`clvlab.spark.fit` of BG/NBD and Gamma-Gamma on the distinct rows;
3. **scoring**: :func:`clvlab.spark.predict_customer_value` of every customer (global ranks, tiers and
   segments) written as Parquet.

The pandas path (the Parquet log read, counted in its summary time, :func:`clvlab.rfm_summary`, the
fits, the targeting table written to Parquet) runs on the sizes up to ``--pandas-max-rows``. Every
(size, engine) runs in a fresh process, so each peak memory is its own: the Python driver's peak RSS,
the JVM's (in local mode it hosts the driver and the executors, heap capped by ``--driver-memory``) and
the Python workers' (the executors' pandas scoring, summed over the workers alive at once), sampled
every 0.2 s. Throughput is transactions per second per core (2 cores for ``local[2]``, 1 for pandas).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import machine, max_rss_mib, record

#: Customers generated per chunk (one Parquet file each): about 10 rows per customer, ~200 MB of arrays.
CHUNK_CUSTOMERS = 1_000_000
START = np.datetime64("2023-01-01")
DAYS = 730
CORES = 2
#: Customers the Gamma-Gamma fit samples on Spark: its distinct (x, m) rows are about one per repeat
#: customer, so the whole set would grow the driver with the customers (the transaction model's distinct
#: (x, t_x, T) rows are bounded by the log's days).
SPEND_SAMPLE = 1_000_000


# -- the log ----------------------------------------------------------------------------------------------
def _chunk(rng: np.random.Generator, first_id: int, n: int) -> Any:
    """One chunk of the log as an Arrow table: ``n`` customers from id ``first_id``.

    Each customer arrives on a uniform day, buys at a Gamma-distributed daily rate until an exponential
    drop-out time (so drop-out is visible to the models), at least once, with Gamma spends around a
    customer's own mean; about 10 transactions per customer.
    """
    import pyarrow as pa

    arrival = rng.integers(0, DAYS - 30, n)
    rate = rng.gamma(2.0, 0.017, n)  # mean 0.034 purchases a day
    life = rng.exponential(500.0, n)
    span = np.minimum(DAYS - arrival, np.maximum(life, 1.0))
    counts = 1 + rng.poisson(rate * span)
    ids = np.repeat(np.arange(first_id, first_id + n, dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    offset = (rng.random(len(ids)) * np.repeat(span, counts)).astype(np.int64)
    offset[first] = 0  # the first purchase on the arrival day
    day = np.repeat(arrival, counts) + offset
    spend = np.repeat(rng.gamma(4.0, 10.0, n), counts)
    amount = np.round(rng.gamma(5.0, spend / 5.0) + 0.5, 2)
    dates = (START + day.astype("timedelta64[D]")).astype("datetime64[D]")
    return pa.table({"customer_id": ids, "date": pa.array(dates, type=pa.date32()), "amount": amount})


def generate_log(path: Path, rows: int, seed: int = 0) -> int:
    """Write a log of about ``rows`` transactions to the folder ``path`` (Parquet); return its rows."""
    import pyarrow.parquet as pq

    marker = path / f"_rows_{rows}_seed_{seed}"
    if marker.exists():
        return int(marker.read_text())
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    customers = max(rows // 10, 1)
    written = 0
    for i, first_id in enumerate(range(0, customers, CHUNK_CUSTOMERS)):
        table = _chunk(rng, first_id, min(CHUNK_CUSTOMERS, customers - first_id))
        pq.write_table(table, path / f"part-{i:05d}.parquet")
        written += table.num_rows
    marker.write_text(str(written))
    return written


# -- memory ---------------------------------------------------------------------------------------------
def _status(pid: int, key: str) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key):
                    return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def _descendants(root: int) -> list[tuple[int, str]]:
    """(pid, command name) of every process below ``root`` (Linux /proc)."""
    parents: dict[int, list[tuple[int, str]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append((int(entry), name))
    out, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child[0])
    return out


class MemorySampler:
    """Peak RSS (MiB) of the JVM and of the Python workers (summed) below this process, sampled."""

    def __init__(self, every: float = 0.2) -> None:
        self.every = every
        self.jvm = 0.0
        self.workers = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            jvm = workers = 0.0
            for pid, name in _descendants(me):
                rss = _status(pid, "VmRSS:")
                if name == "java":
                    jvm += rss
                elif name.startswith("python"):
                    workers += rss
            self.jvm, self.workers = max(self.jvm, jvm), max(self.workers, workers)
            self._stop.wait(self.every)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _timed(stages: dict[str, float], name: str, fn: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    result = fn()
    stages[name] = time.perf_counter() - t0
    print(f"  {name}: {stages[name]:.1f} s", flush=True)
    return result


# -- one run (in a fresh process) -----------------------------------------------------------------------
VALUE = {"horizon": 365.0, "discount_rate": 0.10, "discount_period": 365.0}


def run_spark(
    log_dir: Path, out_dir: Path, driver_memory: str, transaction_sample: int | None = None
) -> dict[str, Any]:
    """Summary, distinct-row fit and scoring of the log in Spark local[2]; stage times and peaks."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark import StorageLevel
    from pyspark.sql import SparkSession

    import clvlab
    from clvlab import spark as cs

    stages: dict[str, float] = {}
    with MemorySampler() as mem:
        spark = (
            SparkSession.builder.master(f"local[{CORES}]")
            .appName("clvlab bench_spark")
            .config("spark.driver.memory", driver_memory)
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.local.dir", str(out_dir / "spark-tmp"))
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        log = spark.read.parquet(str(log_dir))

        def summarise() -> Any:
            summary = cs.rfm_summary(log, monetary_value="amount", time_unit="D")
            summary = summary.persist(StorageLevel.MEMORY_AND_DISK)
            return summary, summary.count()

        summary, customers = _timed(stages, "summary", summarise)
        bg, gg = _timed(
            stages,
            "fit",
            lambda: (
                cs.fit(clvlab.BetaGeo(), summary, sample=transaction_sample),
                cs.fit(clvlab.GammaGamma(), summary, sample=SPEND_SAMPLE),
            ),
        )
        # The BG/NBD fit's distinct (x, t_x, T) rows (counted outside the timed stages).
        distinct = summary.select(*bg.data_columns).distinct().count()
        table = cs.predict_customer_value(bg, gg, summary, **VALUE)
        _timed(stages, "scoring", lambda: table.write.mode("overwrite").parquet(str(out_dir / "table")))
        spark.stop()
    return {
        "engine": "spark",
        "customers": customers,
        "stages": stages,
        "driver_mib": max_rss_mib(),
        "jvm_mib": mem.jvm,
        "workers_mib": mem.workers,
        "params": bg.params_.round(6).tolist(),
        "distinct_rows": distinct,
    }


def run_pandas(log_dir: Path, out_dir: Path) -> dict[str, Any]:
    """The same job in pandas, in this process: read, summary, fit, targeting table to Parquet."""
    import pandas as pd

    import clvlab

    stages: dict[str, float] = {}

    def summarise() -> Any:
        log = pd.read_parquet(log_dir)
        log["date"] = pd.to_datetime(log["date"])
        return clvlab.rfm_summary(log, monetary_value="amount", time_unit="D")

    summary = _timed(stages, "summary", summarise)
    bg, gg = _timed(stages, "fit", lambda: (clvlab.BetaGeo().fit(summary), clvlab.GammaGamma().fit(summary)))

    def score() -> None:
        table = clvlab.predict_customer_value(bg, gg, summary, **VALUE)
        table.to_parquet(out_dir / "table.parquet")

    _timed(stages, "scoring", score)
    return {
        "engine": "pandas",
        "customers": len(summary),
        "stages": stages,
        "driver_mib": max_rss_mib(),
        "jvm_mib": 0.0,
        "workers_mib": 0.0,
        "params": bg.params_.round(6).tolist(),
    }


# -- the comparison -------------------------------------------------------------------------------------
def _fresh(engine: str, rows: int, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
        result = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "benchmarks.bench_spark", "--one", engine, "--rows", str(rows)]
        cmd += ["--work-dir", str(args.work_dir), "--driver-memory", args.driver_memory]
        cmd += ["--result", str(result), "--out", tmp]
        if args.transaction_sample is not None:
            cmd += ["--transaction-sample", str(args.transaction_sample)]
        subprocess.run(cmd, check=True, cwd=Path(__file__).parent.parent)
        out: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
        return out


def _throughput(rows: int, seconds: float, cores: int) -> str:
    return f"{rows / seconds / cores / 1e3:,.0f}k"


def report(rows: int, spark: dict[str, Any], pandas: dict[str, Any] | None) -> None:
    st = spark["stages"]
    total = sum(st.values())
    print(
        f"\n{rows:,} transactions, {spark['customers']:,} customers, "
        f"{spark['distinct_rows']:,} distinct (x, t_x, T) rows for the BG/NBD fit (brought to the driver up "
        "to clvlab.spark.fit's max_driver_rows, 1,000,000; beyond, its likelihood is summed on the executors)"
    )
    head = f"| stage | Spark local[{CORES}] | rows/s/core |"
    if pandas is not None:
        head += " pandas | rows/s/core | Spark / pandas time |"
    print(head)
    pt = pandas["stages"] if pandas is not None else {}
    p_total = sum(pt.values()) if pandas is not None else 0.0
    for stage in ("summary", "fit", "scoring", "total"):
        s = total if stage == "total" else st[stage]
        line = f"| {stage} | {s:.1f} s | {_throughput(rows, s, CORES)} |"
        if pandas is not None:
            p = p_total if stage == "total" else pt[stage]
            line += f" {p:.1f} s | {_throughput(rows, p, 1)} | {s / p:.2f}x |"
        print(line)
    print(
        f"peak memory: Spark driver (Python) {spark['driver_mib']:.0f} MiB, JVM (driver + executors) "
        f"{spark['jvm_mib']:.0f} MiB, Python workers {spark['workers_mib']:.0f} MiB"
        + (f"; pandas {pandas['driver_mib']:.0f} MiB" if pandas is not None else "")
    )
    if pandas is not None:
        print(f"BG/NBD estimates equal: {np.allclose(spark['params'], pandas['params'], rtol=1e-5)}")
    record(
        "Spark summary + distinct-row fit + scoring to Parquet (local[2])",
        f"{rows:,} rows / {spark['customers']:,} customers",
        f"{total:.0f} s, {_throughput(rows, total, CORES)} rows/s/core; driver "
        f"{spark['driver_mib']:.0f} MiB, JVM {spark['jvm_mib']:.0f} MiB, workers "
        f"{spark['workers_mib']:.0f} MiB",
        "" if pandas is None else f"pandas {p_total:.0f} s, {pandas['driver_mib']:.0f} MiB",
        "" if pandas is None else f"{total / p_total:.2f}x pandas time",
        "driver memory flat in customers",
        f"python -m benchmarks.bench_spark --rows {rows}",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000_000], help="transactions per log")
    parser.add_argument("--pandas-max-rows", type=int, default=10_000_000, help="largest log run in pandas")
    parser.add_argument("--driver-memory", default="8g", help="JVM heap of local[2] (driver and executors)")
    parser.add_argument(
        "--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "clvlab-bench-spark", help="logs"
    )
    parser.add_argument(
        "--transaction-sample",
        type=int,
        help="fit BG/NBD on Spark on a sample of this many customers (default: all distinct rows, "
        "which at day resolution are about 2/3 of the customers up to 1,000,000 customers)",
    )
    parser.add_argument("--one", choices=["spark", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:  # one (size, engine) in this fresh process
        log_dir = args.work_dir / f"log-{args.rows[0]}"
        if args.one == "spark":
            result = run_spark(log_dir, args.out, args.driver_memory, args.transaction_sample)
        else:
            result = run_pandas(log_dir, args.out)
        args.result.write_text(json.dumps(result), encoding="utf-8")
        return
    print(machine())
    args.work_dir.mkdir(parents=True, exist_ok=True)
    driver: dict[int, float] = {}
    for rows in args.rows:
        t0 = time.perf_counter()
        n = generate_log(args.work_dir / f"log-{rows}", rows)
        print(
            f"log of {n:,} transactions in {args.work_dir / f'log-{rows}'} ({time.perf_counter() - t0:.0f} s)"
        )
        print("Spark:", flush=True)
        spark = _fresh("spark", rows, args)
        pandas = None
        if rows <= args.pandas_max_rows:
            print("pandas:", flush=True)
            pandas = _fresh("pandas", rows, args)
        report(rows, spark, pandas)
        driver[rows] = spark["driver_mib"]
    if len(driver) > 1:
        sizes = sorted(driver)
        growth = driver[sizes[-1]] / driver[sizes[0]]
        print(
            "\nSpark driver peak RSS: "
            + ", ".join(f"{driver[r]:.0f} MiB at {r:,} rows" for r in sizes)
            + f" ({growth:.2f}x for {sizes[-1] / sizes[0]:.0f}x the rows)"
        )


if __name__ == "__main__":
    main()
