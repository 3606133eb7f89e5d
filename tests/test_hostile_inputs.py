"""Hostile inputs (issue 15, item 9): each class ends in a clear clvlab error, never a traceback or a hang.

Classes: mixed-type customer ids, non-numbers for numeric arguments, files that are not regular files
(a named pipe, a directory, a device), model files whose covariance is not positive definite, netCDF files
with an edited manifest, bad paths on the command line, and concurrent saves to one path.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab import persistence
from clvlab.cli import main

_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
_GG = {"p": 6.25, "q": 3.74, "gamma": 15.45}


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    log = clvlab.datasets.load_cdnow_transactions()
    return clvlab.rfm_summary(log, monetary_value="amount", time_unit="W")


@pytest.fixture(scope="module")
def fitted_bg(summary) -> clvlab.BetaGeo:
    return clvlab.BetaGeo().fit(summary)


@pytest.fixture(scope="module")
def bayes_map(summary):
    bayes = pytest.importorskip("clvlab.bayes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bayes.BetaGeo(method="map").fit(summary)


def _log(ids: list[object]) -> pd.DataFrame:
    dates = pd.date_range("2020-01-01", periods=len(ids), freq="7D")
    return pd.DataFrame({"customer_id": pd.Series(ids, dtype=object), "date": dates, "amount": 10.0})


# -- mixed-type customer ids ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ids", "kinds"),
    [
        ([1, "1", 2, 2], ("number", "str")),
        (["a", "b", 3, "a"], ("str", "number")),
        ([1.5, 2.0, "x", 1.5], ("number", "str")),
        ([True, 2, 3, 3], ("bool", "number")),
        (["a", b"a", "a", "c"], ("str", "bytes")),
        ([np.int64(7), "7", 7, 8], ("number", "str")),
    ],
)
def test_mixed_type_ids_are_a_data_error(ids, kinds):
    log = _log(ids)
    before = log.copy()
    with pytest.raises(clvlab.DataError) as info:
        clvlab.rfm_summary(log, monetary_value="amount")
    message = str(info.value)
    assert "'customer_id'" in message
    assert "astype(str)" in message
    assert all(kind in message for kind in kinds)
    pd.testing.assert_frame_equal(log, before)


@pytest.mark.parametrize(
    "ids", [[1, 2, 2, 3], ["1", "2", "2", "3"], [1, 2.5, 2.5, 3], [(1, 2), (1, 2), (3, 4), (5, 6)]]
)
def test_one_type_of_ids_still_works(ids):
    assert len(clvlab.rfm_summary(_log(ids))) == 3


def test_mixed_ids_through_the_holdout_split():
    log = _log([1, "1", 2, 2, 3, 3])
    with pytest.raises(clvlab.DataError, match="customer_id"):
        clvlab.calibration_holdout_split(log, calibration_end="2020-01-20")


# -- numeric arguments ------------------------------------------------------------------------------------
_NOT_NUMBERS = ["52", "abc", None, True, b"1", ["1", "2"], np.datetime64("2020-01-01"), 1 + 2j, {"t": 1}]


@pytest.mark.parametrize("bad", _NOT_NUMBERS, ids=repr)
def test_model_arguments_refuse_non_numbers(bad, summary):
    model = clvlab.BetaGeo.from_params(_BG, time_unit="W")
    calls = {
        "t": lambda: model.predict_purchases(summary, bad),
        "n": lambda: model.predict_purchase_probability(summary, 10, bad),
        "t ": lambda: model.expected_purchases(bad),
    }
    for name, call in calls.items():
        with pytest.raises(TypeError, match=rf"\b{name.strip()} must"):
            call()


@pytest.mark.parametrize("bad", ["0.9", True, "ninety", b"1"], ids=repr)
def test_interval_and_n_draws_refuse_non_numbers(bad, fitted_bg, summary):
    with pytest.raises(TypeError, match="interval must"):
        fitted_bg.predict_purchases(summary.head(5), 10, interval=bad)
    with pytest.raises(TypeError, match="n_draws must"):
        fitted_bg.param_draws(bad)


@pytest.mark.parametrize("name", ["horizon", "discount_rate", "discount_period"])
@pytest.mark.parametrize("bad", ["52", "0.1", None, False, [1, 2]], ids=repr)
def test_value_arguments_refuse_non_numbers(name, bad, summary):
    bg = clvlab.BetaGeo.from_params(_BG, time_unit="W")
    gg = clvlab.GammaGamma.from_params(_GG, time_unit="W")
    data = summary[summary["frequency"] > 0].head(20)
    before = data.copy()
    kwargs = {"horizon": 52, "discount_rate": 0.1, "discount_period": 52, name: bad}
    for fn in (clvlab.customer_lifetime_value, clvlab.predict_customer_value):
        with pytest.raises(TypeError, match=rf"{name} must"):
            fn(bg, gg, data, **kwargs)
    pd.testing.assert_frame_equal(data, before)


def test_numbers_of_every_kind_are_still_accepted(summary):
    model = clvlab.BetaGeo.from_params(_BG, time_unit="W")
    data = summary.head(5)
    expected = model.predict_purchases(data, 52.0)
    for t in (52, np.int32(52), np.float32(52), np.array(52.0), [52.0] * 1):
        pd.testing.assert_series_equal(model.predict_purchases(data, t), expected)


# -- files that are not regular files ----------------------------------------------------------------------
@pytest.fixture
def fifo(tmp_path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    path = tmp_path / "model.json"
    os.mkfifo(path)
    return path


def test_loading_a_named_pipe_is_refused_without_opening_it(fifo):
    # No writer ever opens the pipe: an open() would block forever, so this returning at all is the test.
    with pytest.raises(clvlab.ModelFileError, match="named pipe"):
        clvlab.load(fifo)


@pytest.mark.parametrize("kind", ["directory", "device", "missing"])
def test_loading_other_non_regular_paths(kind, tmp_path):
    if kind == "directory":
        path, error = tmp_path, clvlab.ModelFileError
    elif kind == "device":
        path, error = Path(os.devnull), clvlab.ModelFileError
        if not path.exists():
            pytest.skip("no null device")
    else:
        path, error = tmp_path / "nothing.json", FileNotFoundError
    with pytest.raises(error):
        clvlab.load(path)


def test_a_symlink_to_a_model_file_still_loads(tmp_path):
    target = clvlab.BetaGeo.from_params(_BG, time_unit="W").save(tmp_path / "bg.json")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert clvlab.load(link).params_.equals(clvlab.load(target).params_)


@pytest.mark.parametrize("option", ["--transactions", "--model-file"])
def test_cli_refuses_a_named_pipe(option, fifo, tmp_path, capsys):
    if option == "--transactions":
        argv = ["fit", "--transactions", str(fifo), "--models-dir", str(tmp_path / "m")]
    else:
        argv = ["predict", "--model-file", str(fifo), "--transactions", str(fifo)]
        argv += ["--output", str(tmp_path / "out.csv")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("clvlab: error:")
    assert "\n" not in err


# -- model files whose covariance is not positive definite ------------------------------------------------
def _rewrite(path: Path, edit) -> None:
    doc = json.loads(path.read_text())
    edit(doc)
    doc["checksum"] = persistence._checksum(doc)  # a consistent file: only the matrix is wrong
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("field", ["log_covariance", "covariance"])
@pytest.mark.parametrize(
    "make",
    [
        lambda k: (-np.eye(k)).tolist(),  # negative variances
        lambda k: np.ones((k, k)).tolist(),  # singular (rank one)
        lambda k: (np.eye(k) - 2 * np.eye(k)[::-1]).tolist(),  # indefinite
        lambda k: np.zeros((k, k)).tolist(),
    ],
    ids=["negative", "singular", "indefinite", "zero"],
)
def test_covariance_not_positive_definite_is_refused_at_load(field, make, fitted_bg, tmp_path):
    path = fitted_bg.save(tmp_path / "bg.json")
    _rewrite(path, lambda doc: doc.__setitem__(field, make(4)))
    with pytest.raises(clvlab.ModelFileError, match=f"invalid {field}.*positive definite"):
        clvlab.load(path)


def test_a_non_finite_covariance_still_loads_and_says_no_intervals(fitted_bg, tmp_path, summary):
    path = fitted_bg.save(tmp_path / "bg.json")
    _rewrite(path, lambda doc: doc.__setitem__("log_covariance", [["NaN"] * 4] * 4))
    model = clvlab.load(path)
    with pytest.raises(ValueError, match="no parameter covariance"):
        model.predict_purchases(summary.head(3), 10, interval=0.9)


def test_interval_draws_with_a_bad_covariance_in_memory(fitted_bg, summary):
    model = clvlab.BetaGeo.from_params(_BG, time_unit="W")
    model._log_covariance = -np.eye(4)
    with pytest.raises(ValueError, match="not positive definite"):
        model.predict_purchases(summary.head(3), 10, interval=0.9)


# -- netCDF files with an edited manifest -----------------------------------------------------------------
def _write_manifest(model, path: Path, manifest_text: object) -> None:
    from clvlab.bayes import _arviz

    idata = _arviz.copy(model.idata_)
    idata["posterior"].attrs["clvlab_manifest"] = manifest_text
    _arviz.to_netcdf(idata, str(path), engine="h5netcdf")


def _edited(model, tmp_path, edit) -> Path:
    good = model.save(tmp_path / "good.nc")
    from clvlab.bayes import _arviz

    manifest = json.loads(
        _arviz.from_netcdf(str(good), engine="h5netcdf")["posterior"].attrs["clvlab_manifest"]
    )
    text = edit(manifest)
    path = tmp_path / "edited.nc"
    _write_manifest(model, path, text if isinstance(text, str) else json.dumps(manifest))
    return path


def _drop(key):
    def edit(m):
        del m[key]

    return edit


def _set(key, value):
    def edit(m):
        m[key] = value

    return edit


def _set_hyper(key, value):
    def edit(m):
        m["hyperparameters"][key] = value

    return edit


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: json.dumps([m]),  # a list
        lambda m: json.dumps("clvlab-bayes-model"),  # a string
        lambda m: json.dumps(42),
        lambda m: "null",
        lambda m: "{not json",
        _drop("model"),
        _drop("hyperparameters"),
        _drop("checksum"),
        _drop("time_unit"),
        _set("format_version", "1"),
        _set("format_version", True),
        _set("format_version", 99),
        _set("model", ["bayes.BetaGeo"]),
        _set("model", "os.system"),
        _set("hyperparameters", ["method", "map"]),
        _set("hyperparameters", "map"),
        _set("time_unit", 7),
        _set("n_customers", "many"),
        _set("checksum", 0),
        _set("clvlab_version", None),
        _set_hyper("priors", "flat"),
        _set_hyper("priors", {"r": "gamma"}),
        _set_hyper("priors", {"r": ["Gamma", 3]}),
        _set_hyper("draws", {"n": 1}),
        _set_hyper("extra", 1),
    ],
)
def test_edited_manifest_is_a_model_file_error(edit, bayes_map, tmp_path):
    path = _edited(bayes_map, tmp_path, edit)
    with pytest.raises(clvlab.ModelFileError):
        clvlab.load(path)


def test_manifest_that_is_not_text_is_a_model_file_error(bayes_map, tmp_path):
    path = tmp_path / "array.nc"
    _write_manifest(bayes_map, path, np.arange(3))
    with pytest.raises(clvlab.ModelFileError):
        clvlab.load(path)


# -- bad paths on the command line -------------------------------------------------------------------------
def test_cli_directory_as_transactions(tmp_path, capsys):
    folder = tmp_path / "logs"
    folder.mkdir()
    for argv in (
        ["fit", "--transactions", str(folder), "--models-dir", str(tmp_path / "m")],
        ["run", "--transactions", str(folder), "--out-dir", str(tmp_path / "o"), "--no-plots"],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("clvlab: error:")
        assert "not a regular file" in err
        assert "\n" not in err


@pytest.fixture
def small_csv(tmp_path) -> Path:
    path = tmp_path / "log.csv"
    clvlab.datasets.load_cdnow_transactions().head(500).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["fit", "--transactions", "{csv}", "--models-dir", "{file}/models"],
        ["fit", "--transactions", "{csv}", "--models-dir", "{file}/a/b"],
        ["fit", "--transactions", "{csv}", "--summary-output", "{file}/s.csv", "--models-dir", "{tmp}/m"],
        ["run", "--transactions", "{csv}", "--out-dir", "{file}/out", "--no-plots"],
    ],
)
def test_cli_output_under_a_regular_file(argv, small_csv, tmp_path, capsys):
    blocker = tmp_path / "plain.txt"
    blocker.write_text("not a folder")
    args = [a.format(csv=small_csv, file=blocker, tmp=tmp_path) for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("clvlab: error:")
    assert "is a file, not a folder" in err
    assert "\n" not in err
    assert blocker.read_text() == "not a folder"


# -- concurrent saves to one path -------------------------------------------------------------------------
def test_concurrent_bayesian_saves_to_one_path_are_atomic(bayes_map, tmp_path):
    path = tmp_path / "bg.nc"
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def save() -> None:
        try:
            barrier.wait()
            bayes_map.save(path)
        except BaseException as exc:  # pragma: no cover - the failure being tested
            errors.append(exc)

    threads = [threading.Thread(target=save) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    loaded = clvlab.load(path)
    np.testing.assert_array_equal(loaded.param_draws(), bayes_map.param_draws())
    assert [p.name for p in tmp_path.iterdir()] == ["bg.nc"]  # no temporary file left behind


def test_concurrent_json_saves_to_one_path_are_atomic(fitted_bg, tmp_path):
    path = tmp_path / "bg.json"
    barrier = threading.Barrier(8)

    def save() -> None:
        barrier.wait()
        fitted_bg.save(path)

    threads = [threading.Thread(target=save) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clvlab.load(path).params_.equals(fitted_bg.params_)
    assert [p.name for p in tmp_path.iterdir()] == ["bg.json"]


@pytest.mark.parametrize("which", ["json", "netcdf"])
def test_a_failed_save_keeps_the_previous_file(which, fitted_bg, bayes_map, tmp_path, monkeypatch):
    model = fitted_bg if which == "json" else bayes_map
    path = model.save(tmp_path / ("bg.json" if which == "json" else "bg.nc"))
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="simulated"):
        model.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
