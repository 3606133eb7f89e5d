"""One local SparkSession for tests/spark, and transaction logs to compare the Spark and pandas paths on.

The session is ``local[2]`` bound to 127.0.0.1, in UTC, with 4 shuffle partitions, Arrow without its
silent fallback and no UI. The tests are skipped, with the reason, only when PySpark or Java is missing.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

JAVA_MISSING = shutil.which("java") is None and not os.environ.get("JAVA_HOME")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark", reason='PySpark is not installed (pip install "clvlab[spark]")')
    if JAVA_MISSING:
        pytest.skip("Java is not installed (PySpark needs a Java 17 runtime: java on PATH or JAVA_HOME)")
    from pyspark.sql import SparkSession

    # Python workers run this interpreter (with clvlab and pyarrow), not whatever python3 is on PATH.
    saved = {k: os.environ.get(k) for k in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("clvlab-tests")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.execution.arrow.pyspark.fallback.enabled", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def generated_log(
    seed: int,
    *,
    n_customers: int = 400,
    returns: bool = False,
    tz: str | None = None,
    huge: int = 0,
    string_ids: bool = False,
) -> pd.DataFrame:
    """A transaction log of 2023-2024 with times of day, same-day orders and (optionally) returns.

    ``tz`` makes the dates timezone-aware (their local day counts); ``huge`` gives one customer that
    many transactions; ``returns`` adds negative amounts, some on a purchase day, some taking back
    everything bought before, some larger than that.
    """
    rng = np.random.default_rng(seed)
    counts = rng.geometric(0.35, size=n_customers)
    if huge:
        counts[0] = huge
    ids = np.repeat(np.arange(n_customers) * 7 + 1000, counts)
    n = len(ids)
    start = np.datetime64("2023-01-01T00:00:00", "s")
    first = rng.integers(0, 300 * 86400, size=n_customers)
    offset = np.repeat(first, counts) + rng.integers(0, 400 * 86400, size=n)
    # Same-day orders: a fifth of the rows copy the previous row's day (another hour).
    same = rng.random(n) < 0.2
    same[0] = False
    offset[same] = (offset[np.flatnonzero(same) - 1] // 86400) * 86400 + rng.integers(0, 86400, same.sum())
    dates = pd.Series(start + offset.astype("timedelta64[s]"))
    amounts = np.round(rng.gamma(2.0, 20.0, size=n) + 0.01, 2)
    if returns:
        back = rng.random(n) < 0.15
        amounts[back] = -np.round(amounts[back] * rng.choice([0.5, 1.0, 3.0], size=back.sum()), 2)
    customer = pd.Series(ids)
    log = pd.DataFrame(
        {
            "customer_id": customer.map(lambda i: f"c{i:06d}") if string_ids else customer,
            "date": dates.dt.tz_localize("UTC").dt.tz_convert(tz) if tz is not None else dates,
            "amount": amounts,
        }
    )
    return log.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def to_pandas(sdf: Any, customer_id: str = "customer_id") -> pd.DataFrame:
    """A Spark summary or table as a pandas frame indexed by customer id, sorted."""
    return sdf.toPandas().set_index(customer_id).sort_index()
