import numpy as np
import pandas as pd
import pytest

from clvlab import DataError, validate_summary

COLS = ["frequency", "recency", "T"]


def _summary(**overrides):
    data = {"frequency": [0.0, 2.0, 1.0], "recency": [0.0, 5.0, 3.0], "T": [10.0, 10.0, 4.0]}
    data.update(overrides)
    return pd.DataFrame(data, index=pd.Index(["a", "b", "c"], name="customer_id"))


def test_valid_summary_passes_and_is_returned_as_arrays():
    index, cols = validate_summary(_summary(), COLS)
    assert index.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(cols["recency"], [0.0, 5.0, 3.0])


@pytest.mark.parametrize(
    ("summary", "pattern"),
    [
        (_summary(frequency=[0.0, -1.0, 1.0]), r"'frequency' has negative values.*index 'b'"),
        (_summary(frequency=[0.0, 2.5, 1.0]), r"'frequency' must hold whole numbers.*index 'b'"),
        (_summary(recency=[0.0, 11.0, 3.0]), r"recency exceeds T.*index 'b'"),
        (_summary(recency=[1.0, 5.0, 3.0]), r"recency > 0 with frequency 0.*index 'a'"),
        (_summary(T=[10.0, np.nan, 4.0]), r"'T' has NaN or infinite values.*index 'b'"),
        (_summary().drop(columns="T"), r"missing column\(s\) \['T'\]"),
        (_summary().iloc[:0], r"empty"),
        (_summary().set_axis(["a", "a", "c"]), r"duplicated customer ids.*index 'a'"),
        (_summary(frequency=["0", "2", "1"]), r"'frequency' must be numeric"),
    ],
)
def test_invalid_summaries_raise_data_error(summary, pattern):
    with pytest.raises(DataError, match=pattern):
        validate_summary(summary, COLS)


def test_validation_does_not_mutate():
    s = _summary()
    before = s.copy()
    validate_summary(s, COLS)
    pd.testing.assert_frame_equal(s, before)
