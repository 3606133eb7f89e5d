"""Covariates on the command line: ``--customers`` and ``--purchase/dropout/spend-covariates``.

``clvlab run`` / ``fit`` join a customer-attributes file onto the summary and fit covariate models;
``predict`` scores with them given the same attributes. The attributes here are real: each CDNOW
customer's acquisition month (the January, February or March 1997 cohort) and first purchase's value.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab import cli
from clvlab.cli import main


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    clvlab.datasets.load_cdnow_transactions().to_csv(path, index=False)
    return path


def _attributes() -> pd.DataFrame:
    """One row per CDNOW customer: acquisition cohort (month) and the value of the first purchase."""
    log = clvlab.datasets.load_cdnow_transactions()
    first = log.sort_values(["customer_id", "date"]).groupby("customer_id").first()
    return pd.DataFrame(
        {
            "customer_id": first.index,
            "cohort": pd.to_datetime(first["date"]).dt.strftime("%Y-%m").to_numpy(),
            "first_spend": first["amount"].to_numpy() + 1.0,  # > 0 for log()
        }
    )


@pytest.fixture(scope="module")
def customers_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("customers") / "customers.csv"
    _attributes().to_csv(path, index=False)
    return path


def _summary(**kw) -> pd.DataFrame:
    return clvlab.rfm_summary(
        clvlab.datasets.load_cdnow_transactions(),
        monetary_value="amount",
        time_unit="W",
        customers=_attributes(),
        **kw,
    )


def _one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("clvlab"), err
    assert "\n" not in err, err
    assert "Traceback" not in err, err
    assert "  fitting " not in captured.out, captured.out  # every option error comes before any fit
    return err


def test_run_with_covariates_on_cdnow(tmp_path, customers_csv, capsys):
    out = tmp_path / "out"
    args = ["run", "--out-dir", str(out), "--customers", str(customers_csv)]
    args += ["--purchase-covariates", "~ cohort", "--dropout-covariates", "cohort"]
    args += ["--spend-covariates", "~ log(first_spend)"]
    assert main(args) == 0
    stdout = capsys.readouterr().out
    # The coefficient tables are printed with the models' summaries, with the formulas.
    assert "BetaGeo (time unit 'W'; purchase covariates ~ cohort; dropout covariates" in stdout
    assert "GammaGamma (time unit 'W'; spend covariates ~ log(first_spend))" in stdout
    for row in (
        "purchase:cohort[T.1997-02]",
        "purchase:cohort[T.1997-03]",
        "dropout:cohort[T.1997-03]",
        "spend:log(first_spend)",
    ):
        assert row in stdout
    # The bundled data's holdout check runs with the covariate models too.
    assert "holdout check" in stdout
    assert "1882.000" in stdout
    # The targeting table is written as without covariates, and is the library's.
    table = pd.read_csv(out / "targeting.csv", index_col="customer_id")
    assert len(table) == 2357
    pd.testing.assert_frame_equal(pd.read_parquet(out / "targeting.parquet"), table, check_exact=False)
    summary = _summary()
    bg = clvlab.BetaGeo(purchase_covariates="~ cohort", dropout_covariates=["cohort"]).fit(summary)
    gg = clvlab.GammaGamma(spend_covariates="~ log(first_spend)").fit(summary)
    api = clvlab.predict_customer_value(bg, gg, summary, horizon=52, discount_rate=0.1, discount_period=52)
    np.testing.assert_allclose(table["clv"], api["clv"], rtol=1e-9)  # through CSV's 17 digits
    saved = clvlab.load(out / "models" / "bgnbd.json")
    assert list(saved.covariates_) == ["purchase", "dropout"]
    np.testing.assert_allclose(saved.params_, bg.params_, rtol=1e-12)
    assert clvlab.load(out / "models" / "gamma_gamma.json").has_covariates


@pytest.mark.parametrize("kind", ["pareto-nbd", "mbgnbd"])
def test_fit_save_predict_round_trip_equals_the_library(kind, tmp_path, cdnow_csv, customers_csv, capsys):
    models = tmp_path / "models"
    fit = ["fit", "--transactions", str(cdnow_csv), "--model-kind", kind, "--models-dir", str(models)]
    fit += ["--customers", str(customers_csv), "--purchase-covariates", "cohort,first_spend"]
    fit += ["--dropout-covariates", "~ cohort", "--spend-covariates", "cohort"]
    fit += ["--summary-output", str(tmp_path / "summary.parquet")]
    assert main(fit) == 0
    assert "purchase:first_spend" in capsys.readouterr().out
    file = cli._MODEL_FILES[kind]
    model_args = ["--model-file", str(models / file), "--spend-model-file", str(models / "gamma_gamma.json")]
    # The customers to score, with their attributes as a Parquet file indexed by the id.
    attributes = tmp_path / "attributes.parquet"
    _attributes().set_index("customer_id").to_parquet(attributes)
    scores = tmp_path / "scores.parquet"
    predict = ["predict", *model_args, "--transactions", str(cdnow_csv), "--customers", str(attributes)]
    # (No --interval: the library's CLV intervals of covariate models take several CPU seconds here.)
    assert main([*predict, "--output", str(scores)]) == 0
    got = pd.read_parquet(scores)

    # The same models fitted in the library, and the same scoring, agree to 1e-12.
    summary = _summary()
    cls = getattr(clvlab, cli._MODELS[kind])
    transaction = cls(purchase_covariates=["cohort", "first_spend"], dropout_covariates="~ cohort")
    transaction.fit(summary)
    spend = clvlab.GammaGamma(spend_covariates=["cohort"]).fit(summary)
    api = clvlab.predict_customer_value(
        transaction, spend, summary, horizon=52, discount_rate=0.1, discount_period=52
    )
    assert list(got.columns) == list(api.columns)
    pd.testing.assert_index_equal(got.index, api.index)
    numeric = api.select_dtypes("number").columns
    np.testing.assert_allclose(got[numeric], api[numeric], rtol=1e-12, atol=0)
    assert got["action_segment"].tolist() == api["action_segment"].tolist()
    loaded = clvlab.load(models / file)
    np.testing.assert_allclose(loaded.params_, transaction.params_, rtol=1e-12)

    # The summary written by fit holds the attributes, so predict --summary needs no --customers.
    from_summary = tmp_path / "from_summary.csv"
    summary_args = ["--summary", str(tmp_path / "summary.parquet"), "--output", str(from_summary)]
    assert main(["predict", *model_args, *summary_args]) == 0
    np.testing.assert_allclose(
        pd.read_csv(from_summary, index_col="customer_id")["clv"], api["clv"], rtol=1e-12
    )


def test_customer_ids_read_as_strings_match_numeric_ids(tmp_path, cdnow_csv, capsys):
    # A Parquet file may hold the ids as strings where the log's CSV gives numbers: they are matched.
    attributes = _attributes().astype({"customer_id": str})
    path = tmp_path / "customers.parquet"
    attributes.to_parquet(path, index=False)
    args = ["fit", "--transactions", str(cdnow_csv), "--models-dir", str(tmp_path)]
    assert main([*args, "--customers", str(path), "--purchase-covariates", "cohort"]) == 0
    assert clvlab.load(tmp_path / "bgnbd.json").has_covariates


def test_string_ids_of_the_log_match_numeric_ids_of_the_customers(tmp_path, customers_csv, capsys):
    # ... and the other way round: a Parquet log with string ids, a CSV of attributes read as numbers.
    log = tmp_path / "log.parquet"
    clvlab.datasets.load_cdnow_transactions().astype({"customer_id": str}).to_parquet(log)
    args = [
        "fit",
        "--transactions",
        str(log),
        "--models-dir",
        str(tmp_path),
        "--customers",
        str(customers_csv),
    ]
    assert main([*args, "--purchase-covariates", "cohort"]) == 0
    assert clvlab.load(tmp_path / "bgnbd.json").has_covariates


def test_help_documents_the_covariate_options(capsys):
    for command in ("run", "fit"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        for option in ("--customers", "--purchase-covariates", "--dropout-covariates", "--spend-covariates"):
            assert option in out
        assert "--customers customers.csv" in out  # an example
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    out = capsys.readouterr().out
    assert "--customers customers.csv" in out
    assert "--purchase-covariates" not in out  # predict reads the covariates from the model files


# -- errors: one line, saying what to pass, before anything is fitted ----------------------------------


@pytest.mark.parametrize("command", ["run", "fit"])
def test_covariates_need_customers(command, tmp_path, capsys):
    args = [command, "--models-dir", str(tmp_path / "m"), "--purchase-covariates", "~ cohort"]
    assert main(args) == 2
    err = _one_line_error(capsys)
    assert "--purchase-covariates need --customers FILE" in err
    assert "'customer_id'" in err
    assert not (tmp_path / "m").exists()
    assert main([command, "--spend-covariates", "cohort", "--dropout-covariates", "cohort"]) == 2
    assert "--dropout-covariates and --spend-covariates need --customers FILE" in _one_line_error(capsys)


def test_customers_without_covariates_is_refused(customers_csv, tmp_path, capsys):
    assert main(["fit", "--models-dir", str(tmp_path), "--customers", str(customers_csv)]) == 2
    assert "--customers FILE is read for covariates only: add --purchase-covariates" in _one_line_error(
        capsys
    )


def test_a_model_kind_without_covariates_refuses_them(customers_csv, tmp_path, monkeypatch, capsys):
    cov = ["--customers", str(customers_csv), "--purchase-covariates", "cohort"]
    # BG/BB is not a kind of the command line: argparse refuses it in one line ...
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--model-kind", "bgbb", *cov])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "invalid choice: 'bgbb'" in err
    assert "\n" not in err

    # ... and a kind whose model takes no covariates (every model takes them now: a stand-in that does
    # not) refuses them by name.
    class NoCovariates(clvlab.BetaGeo):
        covariate_links: ClassVar[dict[str, tuple[tuple[str, int], ...]]] = {}

    monkeypatch.setattr(clvlab, "NoCovariates", NoCovariates, raising=False)
    monkeypatch.setitem(cli._MODELS, "bgbb", "NoCovariates")
    assert main(["fit", "--model-kind", "bgbb", "--models-dir", str(tmp_path), *cov]) == 2
    err = _one_line_error(capsys)
    assert "--purchase-covariates: --model-kind bgbb (NoCovariates) takes no purchase covariates" in err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--purchase-covariates", "~ nope", "--purchase-covariates: Unable to evaluate factor `nope`"),
        ("--dropout-covariates", "cohort,nope", "--dropout-covariates: Unable to evaluate factor `nope`"),
        ("--spend-covariates", "~ log(nope)", "--spend-covariates: Unable to evaluate factor `log(nope)`"),
        ("--purchase-covariates", "cohort,,first_spend", "expected a formula such as '~ channel + region'"),
        ("--purchase-covariates", "cohort,cohort", "--purchase-covariates names a column twice"),
        ("--purchase-covariates", "frequency ~ cohort", "takes a right-hand-side formula"),
        ("--purchase-covariates", "~", "--purchase-covariates is an empty formula"),
    ],
)
def test_bad_covariates_end_with_one_line(option, value, message, customers_csv, tmp_path, capsys):
    args = ["fit", "--models-dir", str(tmp_path / "m"), "--customers", str(customers_csv), option, value]
    assert main(args) == 2
    err = _one_line_error(capsys)
    assert message in err
    if "Unable to evaluate" in message:
        assert "the columns of --customers" in err
        assert "['cohort', 'first_spend']" in err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.rename(columns={"customer_id": "id"}), "no customer id column 'customer_id'"),
        (lambda a: pd.concat([a, a.iloc[:1]]), "customers holds 1 duplicated customer id(s), e.g. 1"),
        (lambda a: a.iloc[1:], "1 customer(s) of the summary have no row in customers, e.g. customer id 1"),
        (lambda a: a.rename(columns={"cohort": "frequency"}), "column(s) ['frequency'] that the summary"),
    ],
)
def test_bad_customers_file_ends_with_one_line(change, message, tmp_path, capsys):
    path = tmp_path / "customers.csv"
    change(_attributes()).to_csv(path, index=False)
    args = ["fit", "--models-dir", str(tmp_path / "m"), "--customers", str(path)]
    assert main([*args, "--purchase-covariates", "first_spend"]) == 2
    err = _one_line_error(capsys)
    assert f"--customers {path}: " in err
    assert message in err
    assert main([*args[:-1], str(tmp_path / "none.csv"), "--purchase-covariates", "first_spend"]) == 2
    assert "customers file not found" in _one_line_error(capsys)


@pytest.fixture(scope="module")
def covariate_models(tmp_path_factory, cdnow_csv, customers_csv):
    folder = tmp_path_factory.mktemp("covariate-models")
    args = ["fit", "--transactions", str(cdnow_csv), "--models-dir", str(folder)]
    args += ["--customers", str(customers_csv), "--purchase-covariates", "~ cohort"]
    args += ["--summary-output", str(folder / "summary.csv")]
    assert main(args) == 0
    plain = folder / "plain"
    assert main(["fit", "--transactions", str(cdnow_csv), "--models-dir", str(plain)]) == 0
    return folder


def test_predict_with_a_covariate_model_needs_customers(covariate_models, cdnow_csv, tmp_path, capsys):
    model_file = str(covariate_models / "bgnbd.json")
    models = ["--model-file", model_file, "--spend-model-file", str(covariate_models / "gamma_gamma.json")]
    out = tmp_path / "scores.csv"
    assert main(["predict", *models, "--transactions", str(cdnow_csv), "--output", str(out)]) == 2
    err = _one_line_error(capsys)
    assert (
        f"{model_file} was fitted with covariates (purchase covariates ~ cohort): pass --customers FILE"
        in err
    )
    assert "it needs column(s) ['cohort']" in err
    # A summary without the attributes: the same, naming the columns it lacks.
    bare = tmp_path / "bare.csv"
    pd.read_csv(covariate_models / "summary.csv").drop(columns=["cohort", "first_spend"]).to_csv(bare)
    assert main(["predict", *models, "--summary", str(bare), "--output", str(out)]) == 2
    assert f"--summary {bare} has no column(s) ['cohort']" in _one_line_error(capsys)
    # An attributes file without the model's column.
    partial = tmp_path / "partial.csv"
    _attributes().drop(columns="cohort").to_csv(partial, index=False)
    scoring = ["predict", *models, "--transactions", str(cdnow_csv), "--output", str(out)]
    assert main([*scoring, "--customers", str(partial)]) == 2
    assert f"--customers {partial} lacks the covariate column(s) ['cohort'] that {model_file}" in (
        _one_line_error(capsys)
    )
    # A level the model was not fitted with: the library's DataError, in one line.
    unseen = tmp_path / "unseen.csv"
    _attributes().assign(cohort="1997-04").to_csv(unseen, index=False)
    assert main([*scoring, "--customers", str(unseen)]) == 2
    assert "purchase_covariates: the data hold level(s) {'1997-04'}" in _one_line_error(capsys)
    assert not out.exists()


def test_predict_without_covariates_ignores_customers(covariate_models, cdnow_csv, tmp_path, capsys):
    plain = covariate_models / "plain"
    models = [
        "--model-file",
        str(plain / "bgnbd.json"),
        "--spend-model-file",
        str(plain / "gamma_gamma.json"),
    ]
    out = tmp_path / "scores.csv"
    args = ["predict", *models, "--transactions", str(cdnow_csv), "--output", str(out)]
    assert main([*args, "--customers", str(tmp_path / "unread.csv")]) == 2  # a missing file is still an error
    assert "customers file not found" in _one_line_error(capsys)
    unread = tmp_path / "unread.csv"
    pd.DataFrame({"customer_id": [1]}).to_csv(unread, index=False)  # would not join: it is not read
    assert main([*args, "--customers", str(unread)]) == 0
    assert f"note: the models have no covariates; --customers {unread} is not read" in capsys.readouterr().out
    assert len(pd.read_csv(out)) == 2357
