"""Data sets shipped with clvlab, with their provenance.

The files live in ``clvlab/data/_bundled``; ``PROVENANCE.md`` there records where each comes from and
under which licence. Every loader returns a new DataFrame, so callers may modify it freely.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_cdnow_transactions", "load_donations", "load_online_retail"]

_PACKAGE = "clvlab.data._bundled"


def _open(name: str):  # type: ignore[no-untyped-def]  # importlib's Traversable has no public type alias
    return resources.files(_PACKAGE).joinpath(name).open("rb")


def load_cdnow_transactions() -> pd.DataFrame:
    """Load the CDNOW 1/10 sample transaction log (6,919 rows, 2,357 customers).

    All customers made their first purchase in the first quarter of 1997; the log runs to 1998-06-30.
    The usual split is a 39-week calibration period ending 1997-09-30 and a 39-week holdout ending
    1998-06-30.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (int, the sample id 1..2357), ``date`` (datetime64), ``quantity``
        (number of CDs, int) and ``amount`` (dollar value, float). One row per order; a customer may have
        several orders on one day.

    Notes
    -----
    Source: Fader & Hardie's CDNOW data set (brucehardie.com), as redistributed in the MIT-licensed
    ``lifetimes`` package. Used in Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way",
    Marketing Science 24(2).
    """
    with _open("cdnow_sample_transactions.txt.gz") as fh:
        raw = pd.read_csv(
            fh,
            compression="gzip",
            sep=r"\s+",
            header=None,
            names=["master_id", "customer_id", "date", "quantity", "amount"],
            dtype={"master_id": "str", "customer_id": "int64", "date": "str", "quantity": "int64"},
        )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw[["customer_id", "date", "quantity", "amount"]].astype({"amount": "float64"})


def load_donations() -> pd.DataFrame:
    """Load the BG/BB donations summary (22 patterns standing for 11,104 donors, 6 opportunities).

    Returns
    -------
    pandas.DataFrame
        Columns ``frequency`` (number of years with a donation after the first, out of ``n_periods``),
        ``recency`` (the last year with a donation, 0 if none), ``n_periods`` (transaction opportunities,
        6) and ``weights`` (number of donors with that pattern). ``attrs["time_unit"]`` is ``"period"``.

    Notes
    -----
    Source: Fader, Hardie & Shang (2010), "Customer-Base Analysis in a Discrete-Time Noncontractual
    Setting", Marketing Science 29(6), as redistributed in the ``lifetimes`` package.
    """
    with _open("donations_bgbb.csv") as fh:
        df = pd.read_csv(fh, dtype="int64")
    df = df.rename(columns={"periods": "n_periods"})
    df.attrs["time_unit"] = "period"
    return df


def load_online_retail() -> pd.DataFrame:
    """Load the UCI Online Retail invoice log (18,532 invoices, 4,338 customers, 2010-12-01 .. 2011-12-09).

    A UK gift-ware e-shop; cancellations and rows without a customer were removed upstream and the order
    lines aggregated to one row per invoice. The invoices those cancellations reversed were kept: the
    three largest here are orders cancelled within minutes in the raw UCI file, so they are revenue that
    never happened (drop them, as ``notebooks/online_retail.ipynb`` does): 581483 (168,469.60, 80,995
    paper birds, cancelled by C581484), 541431 (77,183.60, 74,215 storage jars, by C541433) and 556444
    (38,970.00, by C556445). Without them spend is still skewed: median invoice 303.03, 99th percentile
    3,813.81, largest 31,698.16.

    Returns
    -------
    pandas.DataFrame
        Columns ``invoice_no`` (str), ``date`` (datetime64, the invoice day), ``customer_id`` (int) and
        ``amount`` (invoice total in pounds sterling, float).

    Notes
    -----
    Chen, D. (2015). Online Retail [Dataset]. UCI Machine Learning Repository.
    https://doi.org/10.24432/C5BW33. Licensed under CC BY 4.0
    (https://creativecommons.org/licenses/by/4.0/); aggregated to invoices by a public
    customer-segmentation project and compressed for clvlab, otherwise unchanged.
    """
    with _open("online_retail_invoices.csv.gz") as fh:
        raw = pd.read_csv(
            fh,
            compression="gzip",
            dtype={"InvoiceNo": "str", "InvoiceDate": "str", "CustomerID": "int64", "TotalPrice": "float64"},
        )
    return pd.DataFrame(
        {
            "invoice_no": raw["InvoiceNo"],
            "date": pd.to_datetime(raw["InvoiceDate"], format="%Y-%m-%d"),
            "customer_id": raw["CustomerID"],
            "amount": raw["TotalPrice"],
        }
    )
