"""Reference data for the formula tests, read from the files bundled in the package.

The summaries are computed here with plain pandas, independently of clvlab's data layer, so the formula
tests do not depend on it.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np
import pandas as pd

_BUNDLED = resources.files("clvlab.data._bundled")


@functools.cache
def cdnow_daily_calibration() -> pd.DataFrame:
    """CDNOW calibration purchases (to 1997-09-30), one row per customer and day, amounts summed."""
    with _BUNDLED.joinpath("cdnow_sample_transactions.txt.gz").open("rb") as fh:
        df = pd.read_csv(
            fh,
            compression="gzip",
            sep=r"\s+",
            header=None,
            names=["master", "customer_id", "date", "quantity", "amount"],
            dtype={"master": str},
        )
    df["date"] = pd.to_datetime(df["date"].astype(str), format="%Y%m%d")
    daily = df.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
    return daily[daily["date"] <= "1997-09-30"].sort_values(["customer_id", "date"])


@functools.cache
def cdnow_summary_weeks() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CDNOW calibration summary in weeks: x, t_x, T for the 2,357 customers in id order."""
    cal = cdnow_daily_calibration()
    g = cal.groupby("customer_id")
    first, last, n = g["date"].min(), g["date"].max(), g["date"].size()
    end = pd.Timestamp("1997-09-30")
    x = (n - 1).to_numpy(float)
    t_x = ((last - first).dt.days / 7.0).to_numpy()
    T = ((end - first).dt.days / 7.0).to_numpy()
    return x, t_x, T


@functools.cache
def cdnow_spend() -> tuple[np.ndarray, np.ndarray]:
    """CDNOW calibration x and mbar (mean of the repeat purchase days' amounts, 0 when x = 0), id order."""
    cal = cdnow_daily_calibration()
    is_repeat = cal.groupby("customer_id").cumcount() > 0
    x = cal.groupby("customer_id").size() - 1
    mbar = cal[is_repeat].groupby("customer_id")["amount"].mean().reindex(x.index, fill_value=0.0)
    return x.to_numpy(float), mbar.to_numpy(float)


@functools.cache
def donations() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The BG/BB donations summary: frequency, recency, periods and weights."""
    with _BUNDLED.joinpath("donations_bgbb.csv").open("rb") as fh:
        d = pd.read_csv(fh)
    x, t_x, n, w = (d[c].to_numpy(float) for c in ["frequency", "recency", "periods", "weights"])
    return x, t_x, n, w
