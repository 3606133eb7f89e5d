"""Saving and loading models: exact round trips of every model and refusal of every kind of bad file."""

from __future__ import annotations

import hashlib
import inspect
import json
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab import persistence
from clvlab.errors import ClvlabWarning, ModelFileError, NotFittedError
from clvlab.models import BaseModel, BetaGeo, BetaGeoBetaBinom, GammaGamma, ParetoNBD
from clvlab.persistence import ModelVersionWarning, load, save

MODEL_NAMES = ["BetaGeo", "ParetoNBD", "ModifiedBetaGeo", "BetaGeoBetaBinom", "GammaGamma"]
DOCUMENTED_FIELDS = [
    "format",
    "format_version",
    "clvlab_version",
    "model",
    "hyperparameters",
    "params",
    "covariance",
    "log_covariance",
    "log_likelihood",
    "aic",
    "bic",
    "n_customers",
    "n_iter",
    "time_unit",
    "saved_at",
    "checksum",
]
# Fader, Hardie & Lee (2005), CDNOW weekly BG/NBD estimates (tests/references.md [BGNBD-MLE-CDNOW]): any
# valid parameters do for format tests.
BGNBD_PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    return clvlab.datasets.load_donations()


@pytest.fixture(scope="module")
def fitted(cdnow_summary: pd.DataFrame, donations: pd.DataFrame) -> dict[str, Any]:
    """Each model fitted (lazily, once) on real data: CDNOW weekly summary, donations for BG/BB."""

    class Fits(dict):
        def __missing__(self, name: str) -> Any:
            cls = persistence.MODEL_REGISTRY[name]
            if name == "BetaGeoBetaBinom":
                model = cls().fit(donations, weights="weights")
            else:
                model = cls().fit(cdnow_summary)
            self[name] = model
            return model

    return Fits()


def _predictions(model: Any, cdnow_summary: pd.DataFrame, donations: pd.DataFrame) -> dict[str, Any]:
    """Every prediction the model offers, as arrays."""
    if isinstance(model, GammaGamma):
        return {
            "predict_spend": model.predict_spend(cdnow_summary).to_numpy(),
            "expected_spend": model.expected_spend(),
            "simulate": model.simulate([1, 2, 5], seed=7).to_numpy(),
        }
    data = donations if isinstance(model, BetaGeoBetaBinom) else cdnow_summary
    t = 5 if isinstance(model, BetaGeoBetaBinom) else 39.0
    out = {
        "predict_purchases": model.predict_purchases(data, t).to_numpy(),
        "predict_p_alive": model.predict_p_alive(data).to_numpy(),
        "expected_purchases": model.expected_purchases(np.array([1.0, 5.0, 52.0])),
        "purchase_count_pmf": model.purchase_count_pmf(5.0, np.arange(4)),
        "simulate": model.simulate(6, size=20, seed=7).to_numpy(),
    }
    if "interval" in inspect.signature(model.predict_purchases).parameters:
        # Intervals draw from the saved log-scale covariance.
        out["predict_purchases_interval"] = model.predict_purchases(
            data, t, interval=0.9, n_draws=20, seed=3
        ).to_numpy()
    if hasattr(model.formulas, "conditional_purchase_pmf"):
        out["predict_purchase_probability"] = model.predict_purchase_probability(data, t, 2).to_numpy()
    return out


def _assert_same_model(a: Any, b: Any) -> None:
    assert type(a) is type(b)
    assert a.get_params() == b.get_params()
    pd.testing.assert_series_equal(a.params_, b.params_, check_exact=True)
    assert a.time_unit_ == b.time_unit_
    for attr in ("log_likelihood_", "aic_", "bic_", "n_customers_", "n_iter_"):
        assert hasattr(a, attr) == hasattr(b, attr), attr
        if hasattr(a, attr):
            assert getattr(a, attr) == getattr(b, attr), attr
    assert hasattr(a, "covariance_") == hasattr(b, "covariance_")
    if hasattr(a, "covariance_"):
        pd.testing.assert_frame_equal(a.covariance_, b.covariance_, check_exact=True)
        np.testing.assert_array_equal(a._log_covariance, b._log_covariance)


# -- round trips -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_fitted_model_round_trips_bit_identically(name, fitted, cdnow_summary, donations, tmp_path):
    model = fitted[name]
    path = save(model, tmp_path / f"{name}.json")
    again = load(path)
    _assert_same_model(model, again)
    pd.testing.assert_frame_equal(model.summary(), again.summary(), check_exact=True)
    pd.testing.assert_frame_equal(model.summary(alpha=0.1), again.summary(alpha=0.1), check_exact=True)
    assert model.summary().attrs == again.summary().attrs
    expected = _predictions(model, cdnow_summary, donations)
    got = _predictions(again, cdnow_summary, donations)
    assert expected.keys() == got.keys()
    for key, value in expected.items():
        np.testing.assert_array_equal(got[key], value, err_msg=key, strict=True)


def test_from_params_model_round_trips(cdnow_summary, tmp_path):
    model = BetaGeo.from_params(BGNBD_PARAMS, time_unit="W", penalizer=0.01)
    again = load(save(model, tmp_path / "bgnbd.json"))
    _assert_same_model(model, again)
    assert again.get_params() == {"penalizer": 0.01}
    assert not hasattr(again, "covariance_")
    assert not hasattr(again, "log_likelihood_")
    with pytest.raises(NotFittedError, match="built from parameters"):
        again.summary()
    np.testing.assert_array_equal(
        again.predict_purchases(cdnow_summary, 52).to_numpy(),
        model.predict_purchases(cdnow_summary, 52).to_numpy(),
    )
    doc = json.loads((tmp_path / "bgnbd.json").read_text())
    assert doc["covariance"] is None
    assert doc["log_covariance"] is None
    assert doc["log_likelihood"] is None
    assert doc["n_iter"] is None
    assert doc["time_unit"] == "W"


def test_model_without_time_unit_round_trips(tmp_path):
    model = GammaGamma.from_params({"p": 6.25, "q": 3.74, "gamma": 15.45})
    again = load(save(model, tmp_path / "gg.json"))
    assert again.time_unit_ is None
    assert again.expected_spend() == model.expected_spend()


def test_non_finite_floats_are_strings_and_round_trip(tmp_path):
    model = BetaGeo.from_params(BGNBD_PARAMS)
    cov = np.full((4, 4), np.nan)
    cov[0, 0], cov[1, 1] = np.inf, -np.inf
    model.covariance_ = pd.DataFrame(cov, index=list(BGNBD_PARAMS), columns=list(BGNBD_PARAMS))
    model._log_covariance = cov.copy()
    model.log_likelihood_ = -np.inf
    path = save(model, tmp_path / "m.json")

    def refuse(token):
        raise AssertionError(f"bare {token} written")

    doc = json.loads(path.read_text(), parse_constant=refuse)
    assert doc["covariance"][0][:2] == ["Infinity", "NaN"]
    assert doc["covariance"][1][1] == "-Infinity"
    assert doc["log_likelihood"] == "-Infinity"
    again = load(path)
    np.testing.assert_array_equal(again.covariance_.to_numpy(), cov)
    np.testing.assert_array_equal(again._log_covariance, cov)
    assert again.log_likelihood_ == -np.inf


@pytest.mark.skipif(
    not hasattr(BaseModel, "save") or not hasattr(clvlab, "load"),
    reason="model.save / clvlab.load are not wired yet (base method and export)",
)
def test_model_save_method_and_clvlab_load(tmp_path):
    model = BetaGeo.from_params(BGNBD_PARAMS, time_unit="W")
    path = model.save(tmp_path / "m.json")
    assert path == tmp_path / "m.json"
    _assert_same_model(model, clvlab.load(path))


# -- the file ----------------------------------------------------------------------------------------
def test_file_is_readable_json_with_the_documented_fields(fitted, tmp_path):
    model = fitted["BetaGeo"]
    path = save(model, tmp_path / "bgnbd.json")
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text)
    assert list(doc) == DOCUMENTED_FIELDS
    for field in DOCUMENTED_FIELDS:
        assert f"``{field}``" in persistence.__doc__, f"{field} is not documented"
    assert doc["format"] == "clvlab-model"
    assert doc["format_version"] == 1
    assert doc["clvlab_version"] == clvlab.__version__
    assert doc["model"] == "BetaGeo"
    assert doc["hyperparameters"] == {"penalizer": 0.0}
    assert list(doc["params"]) == ["r", "alpha", "a", "b"]
    assert doc["params"] == model.params_.to_dict()
    assert doc["covariance"] == model.covariance_.to_numpy().tolist()
    assert doc["log_likelihood"] == model.log_likelihood_
    assert doc["n_iter"] == model.n_iter_
    assert doc["time_unit"] == "W"
    saved_at = datetime.fromisoformat(doc["saved_at"])
    assert saved_at.utcoffset() == UTC.utcoffset(None)
    assert abs((datetime.now(UTC) - saved_at).total_seconds()) < 600
    # The checksum follows the documented recipe.
    body = {k: v for k, v in doc.items() if k != "checksum"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    assert doc["checksum"] == "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    # It covers values, not layout: a re-formatted file still loads.
    path.write_text(json.dumps(doc, sort_keys=True), encoding="utf-8")
    _assert_same_model(model, load(path))


def test_save_creates_parents_accepts_str_and_overwrites_atomically(tmp_path):
    model = BetaGeo.from_params(BGNBD_PARAMS)
    target = tmp_path / "a" / "b" / "model.json"
    returned = save(model, str(target))
    assert isinstance(returned, Path)
    assert returned == target
    other = BetaGeo.from_params({**BGNBD_PARAMS, "r": 0.5})
    save(other, target)
    assert load(target).params_["r"] == 0.5
    assert [p.name for p in target.parent.iterdir()] == ["model.json"]  # no temporary file left


def test_save_refuses_unfitted_model_and_writes_nothing(tmp_path):
    with pytest.raises(NotFittedError, match="not fitted"):
        save(ParetoNBD(), tmp_path / "m.json")
    assert not list(tmp_path.iterdir())


def test_save_refuses_non_clvlab_classes(tmp_path):
    class MyModel(BetaGeo):
        pass

    with pytest.raises(TypeError, match="only the clvlab models"):
        save(MyModel.from_params(BGNBD_PARAMS), tmp_path / "m.json")


def test_save_to_a_directory_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        save(BetaGeo.from_params(BGNBD_PARAMS), tmp_path)


def test_load_directory_and_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="is a directory"):
        load(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"no clvlab model file at this path: .*nope\.json") as info:
        load(tmp_path / "nope.json")
    assert info.value.filename == str(tmp_path / "nope.json")


# -- bad files ----------------------------------------------------------------------------------------
@pytest.fixture
def valid_doc(tmp_path) -> dict[str, Any]:
    model = BetaGeo.from_params(BGNBD_PARAMS, time_unit="W")
    return json.loads(save(model, tmp_path / "valid.json").read_text())


def _write(tmp_path: Path, doc: dict[str, Any], *, rechecksum: bool) -> Path:
    if rechecksum:
        doc["checksum"] = persistence._checksum(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def test_truncated_file_at_every_length_is_refused(fitted, tmp_path):
    text = save(fitted["BetaGeo"], tmp_path / "m.json").read_text()
    for n in range(1, len(text.rstrip())):
        path = tmp_path / f"cut{n}.json"  # a new file each time: rewriting one file makes ext4 sync
        path.write_text(text[:n], encoding="utf-8")
        with pytest.raises(ModelFileError, match="truncated JSON") as info:
            load(path)
        assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("hello, world\n", "not valid JSON"),
        ("name,frequency\n1,2\n", "not valid JSON"),
        ("[1, 2, 3]", r"not a clvlab model file \(the JSON holds a list, not an object\)"),
        ('"clvlab-model"', "holds a string"),
        ('{"format": "something-else"}', 'no field "format": "clvlab-model"'),
        ('{"format": "clvlab-model", "format_version": NaN}', "bare NaN is not standard JSON"),
        ('{"format": "clvlab-model", "format_version": "1"}', "invalid format_version '1'"),
        ('{"format": "clvlab-model", "format_version": 1}', "missing field"),
    ],
)
def test_non_model_text_is_refused(tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelFileError, match=message) as info:
        load(path)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


_UNPICKLED: list[str] = []


def _record_unpickling() -> str:
    _UNPICKLED.append("unpickled")
    return "payload"


class _Payload:
    """Unpickling this object runs ``_record_unpickling``: any unpickle would leave a trace."""

    def __reduce__(self):
        return (_record_unpickling, ())


@pytest.mark.parametrize(
    ("protocol", "message"),
    [
        (pickle.DEFAULT_PROTOCOL, r"not a clvlab model file \(binary data; clvlab never loads pickles\)"),
        (2, r"binary data; clvlab never loads pickles"),
        (0, "not valid JSON"),  # protocol 0 is ASCII: refused as text that is not JSON
    ],
)
def test_pickle_renamed_json_is_refused_without_unpickling(tmp_path, monkeypatch, protocol, message):
    path = tmp_path / "model.json"
    path.write_bytes(pickle.dumps({"format": "clvlab-model", "model": _Payload()}, protocol=protocol))

    def forbidden(*args, **kwargs):
        raise AssertionError("clvlab tried to unpickle")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(pickle, "_loads", forbidden)
    monkeypatch.setattr(pickle, "_Unpickler", forbidden)
    _UNPICKLED.clear()
    with pytest.raises(ModelFileError, match=message):
        load(path)
    assert _UNPICKLED == []


def test_newer_format_version_asks_to_upgrade(tmp_path, valid_doc):
    # Version 2 (covariates, issue 17) is read; a version beyond this clvlab's is refused.
    valid_doc["format_version"] = 3
    valid_doc["clvlab_version"] = "9.0.0"
    with pytest.raises(
        ModelFileError, match=r"saved by a newer clvlab \(clvlab 9.0.0, format version 3\).*upgrade"
    ):
        load(_write(tmp_path, valid_doc, rechecksum=False))


def test_tampered_value_with_old_checksum_is_detected(tmp_path, valid_doc):
    valid_doc["params"]["r"] = 0.25
    with pytest.raises(ModelFileError, match="checksum mismatch: the file is corrupted or was modified"):
        load(_write(tmp_path, valid_doc, rechecksum=False))


def test_missing_or_malformed_checksum_is_detected(tmp_path, valid_doc):
    valid_doc["checksum"] = None
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load(_write(tmp_path, valid_doc, rechecksum=False))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(model="GammaGama"), "unknown model 'GammaGama'; this clvlab knows BetaGeo"),
        (lambda d: d.update(model="os.system"), "unknown model 'os.system'"),
        (lambda d: d.update(model=["BetaGeo"]), "unknown model"),
        (lambda d: d["params"].pop("b"), r"params \['a', 'alpha', 'r'\] do not match BetaGeo's parameters"),
        (lambda d: d["params"].update(s=1.0), "do not match BetaGeo's parameters"),
        (lambda d: d["params"].update(r=0.0), "parameter r=0.0 must be positive and finite"),
        (lambda d: d["params"].update(alpha=-4.0), "parameter alpha=-4.0 must be positive and finite"),
        (lambda d: d["params"].update(a="NaN"), "parameter a='NaN' must be positive and finite"),
        (lambda d: d["params"].update(b="Infinity"), "must be positive and finite"),
        (lambda d: d["params"].update(b="1.0"), r"invalid number '1.0' in params.b"),
        (lambda d: d["params"].update(b=True), "invalid number True in params.b"),
        (lambda d: d.update(params=[1, 2, 3, 4]), "invalid params"),
        (
            lambda d: d.update(hyperparameters={}),
            r"hyperparameters \[\] do not match BetaGeo's \['penalizer'\]",
        ),
        (lambda d: d.update(hyperparameters={"penalizer": 0, "x": 1}), "do not match"),
        (lambda d: d.update(hyperparameters={"penalizer": [0]}), "invalid hyperparameter penalizer"),
        (lambda d: d.update(covariance=[[1.0]]), "invalid covariance: expected a 4 x 4 matrix"),
        (lambda d: d.update(log_covariance=[[1.0, 2.0]] * 4), "invalid log_covariance"),
        (lambda d: d.update(n_iter=-1), "invalid n_iter -1"),
        (lambda d: d.update(time_unit=7), "invalid time_unit 7"),
        (lambda d: d.update(aic="lots"), "invalid number 'lots' in aic"),
        (lambda d: d.update(clvlab_version=1), "invalid clvlab_version 1"),
    ],
)
def test_checksummed_but_invalid_contents_are_refused(tmp_path, valid_doc, edit, message):
    edit(valid_doc)
    with pytest.raises(ModelFileError, match=message) as info:
        load(_write(tmp_path, valid_doc, rechecksum=True))
    assert "\n" not in str(info.value)


def test_other_clvlab_version_warns_naming_both(tmp_path, valid_doc):
    valid_doc["clvlab_version"] = "0.0.1"
    path = _write(tmp_path, valid_doc, rechecksum=True)
    with pytest.warns(
        ModelVersionWarning, match=rf"saved by clvlab 0\.0\.1 and is loaded by clvlab {clvlab.__version__}"
    ):
        model = load(path)
    assert issubclass(ModelVersionWarning, ClvlabWarning)
    assert model.params_.to_dict() == BGNBD_PARAMS
