from importlib import resources

import numpy as np
import pandas as pd

from clvlab import datasets


def test_cdnow_transactions_shape_and_dtypes():
    log = datasets.load_cdnow_transactions()
    # tests/references.md [DATA-CDNOW-LOG]: 6,919 rows, 2,357 customers, first purchases in Q1 1997,
    # log ends 1998-06-30.
    assert log.shape == (6919, 4)
    assert list(log.columns) == ["customer_id", "date", "quantity", "amount"]
    assert log["customer_id"].nunique() == 2357
    assert pd.api.types.is_datetime64_dtype(log["date"])
    assert log["customer_id"].dtype == np.int64
    assert log["quantity"].dtype == np.int64
    assert log["amount"].dtype == np.float64
    assert log["date"].min() == pd.Timestamp("1997-01-01")
    assert log["date"].max() == pd.Timestamp("1998-06-30")
    assert log.groupby("customer_id")["date"].min().max() < pd.Timestamp("1997-04-01")


def test_loaders_return_fresh_frames():
    a = datasets.load_cdnow_transactions()
    a.loc[0, "amount"] = -1.0
    assert datasets.load_cdnow_transactions().loc[0, "amount"] == 29.33


def test_donations_summary():
    d = datasets.load_donations()
    # tests/references.md [DATA-DONATIONS]: 22 patterns, 11,104 donors, 6 annual opportunities.
    assert d.shape == (22, 4)
    assert list(d.columns) == ["frequency", "recency", "n_periods", "weights"]
    assert d["weights"].sum() == 11104
    assert (d["n_periods"] == 6).all()
    assert d.attrs["time_unit"] == "period"


def test_online_retail_invoices():
    o = datasets.load_online_retail()
    # tests/references.md [DATA-ONLINE-RETAIL]: 18,532 invoices, 4,338 customers, 2010-12-01 ..
    # 2011-12-09, max 168,469.60.
    assert o.shape == (18532, 4)
    assert o["customer_id"].nunique() == 4338
    assert o["invoice_no"].is_unique
    assert o["date"].min() == pd.Timestamp("2010-12-01")
    assert o["date"].max() == pd.Timestamp("2011-12-09")
    assert o["amount"].max() == 168469.6
    assert (o["amount"] > 0).all()


def test_provenance_ships_with_the_data():
    text = resources.files("clvlab.data._bundled").joinpath("PROVENANCE.md").read_text()
    assert "CC BY 4.0" in text
    assert "Chen, D. (2015)" in text
    assert "Fader & Hardie" in text
