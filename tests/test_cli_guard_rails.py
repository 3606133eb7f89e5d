"""Command-line guard rails: time units between files, predict's input, option names, fail-fast checks.

Each test runs ``clvlab.cli.main`` as a user would and checks the exit code, the one-line message on
stderr and that nothing was fitted or written when an option is wrong.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvlab
from clvlab.cli import main


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    clvlab.datasets.load_cdnow_transactions().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def weekly_models(tmp_path_factory, cdnow_csv):
    """BG/NBD and Gamma-Gamma fitted in weeks, and the weekly summary they were fitted on (CSV)."""
    folder = tmp_path_factory.mktemp("weekly")
    args = ["fit", "--transactions", str(cdnow_csv), "--models-dir", str(folder)]
    assert main([*args, "--summary-output", str(folder / "summary.csv")]) == 0
    return folder


def _models(folder):
    return [
        "--model-file",
        str(folder / "bgnbd.json"),
        "--spend-model-file",
        str(folder / "gamma_gamma.json"),
    ]


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("clvlab"), err
    assert "\n" not in err, err
    assert "Errno" not in err, err
    assert "Traceback" not in err, err
    return err


# -- item 3: the time unit travels with the summary ------------------------------------------------


def test_weekly_summary_written_by_fit_scores_like_the_api(weekly_models, tmp_path, capsys):
    summary_csv = weekly_models / "summary.csv"
    assert pd.read_csv(summary_csv)["time_unit"].eq("W").all()  # the unit is in the CSV
    out = tmp_path / "scores.csv"
    assert (
        main(["predict", *_models(weekly_models), "--summary", str(summary_csv), "--output", str(out)]) == 0
    )
    assert "CLV over 52 W at 10% per 52 W" in capsys.readouterr().out
    scores = pd.read_csv(out, index_col="customer_id")
    # The reproduction: the right mean CLV of the weekly models on CDNOW is 29.22.
    assert scores["clv"].mean() == pytest.approx(29.22, abs=0.01)
    summary = clvlab.rfm_summary(
        clvlab.datasets.load_cdnow_transactions(), monetary_value="amount", time_unit="W"
    )
    api = clvlab.predict_customer_value(
        clvlab.load(weekly_models / "bgnbd.json"),
        clvlab.load(weekly_models / "gamma_gamma.json"),
        summary,
        horizon=52,
        discount_rate=0.1,
        discount_period=52,
    )
    np.testing.assert_allclose(scores["clv"], api["clv"], rtol=1e-9)


@pytest.mark.parametrize("fmt", ["parquet", "csv-column"])
def test_daily_summary_is_refused_by_a_weekly_model(fmt, weekly_models, tmp_path, capsys):
    # Before: the CLI overwrote the file's unit with the model's and wrote a mean CLV of 4.77, not 29.22.
    daily = clvlab.rfm_summary(
        clvlab.datasets.load_cdnow_transactions(), monetary_value="amount", time_unit="D"
    )
    if fmt == "parquet":
        path = tmp_path / "daily.parquet"
        daily.to_parquet(path)  # pandas keeps attrs["time_unit"] in the Parquet metadata
    else:
        path = tmp_path / "daily.csv"
        daily.assign(time_unit="D").to_csv(path)
    out = tmp_path / "scores.csv"
    assert main(["predict", *_models(weekly_models), "--summary", str(path), "--output", str(out)]) == 2
    err = _one_line_error(capsys)
    assert "'D'" in err
    assert "'W'" in err
    assert not out.exists()
    # Stating a unit that contradicts the file is refused too.
    args = ["predict", *_models(weekly_models), "--summary", str(path), "--output", str(out)]
    assert main([*args, "--time-unit", "W"]) == 2
    err = _one_line_error(capsys)
    assert "--time-unit 'W'" in err
    assert "'D'" in err


def test_summary_without_a_unit_needs_time_unit(weekly_models, tmp_path, capsys):
    plain = tmp_path / "plain.csv"
    pd.read_csv(weekly_models / "summary.csv").drop(columns="time_unit").to_csv(plain, index=False)
    out = tmp_path / "scores.csv"
    args = ["predict", *_models(weekly_models), "--summary", str(plain), "--output", str(out)]
    assert main(args) == 2
    err = _one_line_error(capsys)
    assert "records no time unit" in err
    assert "--time-unit" in err
    assert not out.exists()
    # A stated unit that is not the model's is an error naming both ...
    assert main([*args, "--time-unit", "D"]) == 2
    err = _one_line_error(capsys)
    assert "'D'" in err
    assert "'W'" in err
    # ... and the model's unit scores it.
    assert main([*args, "--time-unit", "W"]) == 0
    assert pd.read_csv(out)["clv"].mean() == pytest.approx(29.22, abs=0.01)


def test_summary_file_with_several_units_is_refused(weekly_models, tmp_path, capsys):
    mixed = tmp_path / "mixed.csv"
    table = pd.read_csv(weekly_models / "summary.csv")
    table.loc[0, "time_unit"] = "D"
    table.to_csv(mixed, index=False)
    args = ["predict", *_models(weekly_models), "--summary", str(mixed), "--output", str(tmp_path / "o.csv")]
    assert main(args) == 2
    assert "several units" in _one_line_error(capsys)


# -- item 5: predict never scores the bundled data by default ---------------------------------------


def test_predict_without_customers_is_an_error(weekly_models, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    assert main(["predict", *_models(weekly_models), "--output", str(out)]) == 2
    err = _one_line_error(capsys)
    assert "--transactions" in err
    assert "--summary" in err
    assert not out.exists()
    args = ["predict", *_models(weekly_models), "--output", str(out)]
    assert main([*args, "--transactions", "a.csv", "--summary", "b.csv"]) == 2
    assert "not both" in _one_line_error(capsys)


# -- item 8: option names, defaults that follow the unit, fail-fast checks, one-line errors ---------


def test_deprecated_spellings_still_work_with_a_notice(cdnow_csv, tmp_path, capsys):
    models = tmp_path / "m"
    args = ["fit", "--transactions", str(cdnow_csv), "--model", "bgnbd", "--out", str(models)]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "--model is deprecated" in err
    assert "use --model-kind" in err
    assert "--out is deprecated" in err
    assert "use --models-dir" in err
    assert (models / "bgnbd.json").exists()
    out = tmp_path / "scores.csv"
    old = ["--model", str(models / "bgnbd.json"), "--spend-model", str(models / "gamma_gamma.json")]
    assert main(["predict", *old, "--transactions", str(cdnow_csv), "--output", str(out)]) == 0
    err = capsys.readouterr().err
    assert "use --model-file" in err
    assert "use --spend-model-file" in err
    assert len(pd.read_csv(out)) == 2357
    # run --out (the output folder) is now --out-dir; an invalid kind is still refused by its choices.
    run = ["run", "--out", str(tmp_path / "o"), "--no-plots", "--calibration-end", "none"]
    assert main(run) == 0
    assert "use --out-dir" in capsys.readouterr().err
    assert (tmp_path / "o" / "targeting.csv").exists()
    assert (tmp_path / "o" / "models" / "bgnbd.json").exists()
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--model", "nope"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "invalid choice" in err
    assert "\n" not in err


@pytest.mark.parametrize(
    ("unit", "year"), [("D", 365), ("W", 52), ("M", 12), ("Y", 1)], ids=["days", "weeks", "months", "years"]
)
def test_horizon_and_discount_period_follow_the_time_unit(unit, year, cdnow_csv, tmp_path, capsys):
    args = ["run", "--transactions", str(cdnow_csv), "--time-unit", unit, "--out-dir", str(tmp_path)]
    assert main([*args, "--no-plots"]) == 0
    assert f"CLV over {year:g} {unit} at 10% per {year:g} {unit}" in capsys.readouterr().out


def test_predict_defaults_follow_the_models_unit(cdnow_csv, tmp_path, capsys):
    models = tmp_path / "m"
    fit = ["fit", "--transactions", str(cdnow_csv), "--time-unit", "D", "--models-dir", str(models)]
    assert main(fit) == 0
    out = tmp_path / "s.csv"
    predict = ["predict", *_models(models), "--transactions", str(cdnow_csv), "--output", str(out)]
    assert main(predict) == 0
    assert "CLV over 365 D at 10% per 365 D" in capsys.readouterr().out
    # A unit stated for a log that is not the model's is refused.
    assert main([*predict, "--time-unit", "W"]) == 2
    err = _one_line_error(capsys)
    assert "'W'" in err
    assert "'D'" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--discount-rate", "10"], "did you mean 0.1?"),
        (["--discount-rate", "-0.1"], "--discount-rate must be a non-negative"),
        (["--discount-rate", "nan"], "--discount-rate: expected a number"),
        (["--horizon", "0"], "--horizon must be positive"),
        (["--horizon", "inf", "--discount-rate", "0"], "needs a positive --discount-rate"),
        (["--discount-period", "-1"], "--discount-period must be a positive"),
        (["--interval", "90"], "--interval must lie strictly between 0 and 1"),
        (["--high-value-share", "20"], "--high-value-share must lie in [0, 1]"),
        (["--active-threshold", "2"], "--active-threshold must lie in [0, 1]"),
        (["--acquisition-cost", "missing.csv"], "acquisition cost file not found"),
        (["--channel-cost", "search"], "expected CHANNEL=COST"),
        (["--sep", ";;"], "one character"),
        (["--sep", ",", "--decimal", ","], "must differ"),
        (["--top", "-1"], "--top must be"),
        (["--calibration-end", "not a date"], "not a date"),
    ],
)
def test_bad_options_fail_before_fitting(extra, message, cdnow_csv, tmp_path, capsys):
    args = ["run", "--transactions", str(cdnow_csv), "--out-dir", str(tmp_path / "o"), "--no-plots"]
    assert main([*args, *extra]) == 2
    captured = capsys.readouterr()
    assert "fitting" not in captured.out  # nothing was fitted
    err = captured.err.strip()
    assert message in err
    assert "\n" not in err
    assert not (tmp_path / "o").exists()


def test_predict_checks_options_before_reading_models(weekly_models, cdnow_csv, tmp_path, capsys):
    base = ["predict", *_models(weekly_models), "--transactions", str(cdnow_csv)]
    assert main([*base, "--output", str(tmp_path / "scores.txt")]) == 2
    assert "must end in .csv or .parquet" in _one_line_error(capsys)
    assert main([*base, "--output", str(tmp_path / "s.csv"), "--discount-rate", "5"]) == 2
    assert "did you mean 0.05?" in _one_line_error(capsys)
    assert main(["predict", "--transactions", str(cdnow_csv), "--output", str(tmp_path / "s.csv")]) == 2
    assert "--model-file" in _one_line_error(capsys)
    assert not (tmp_path / "s.csv").exists()


def test_file_errors_are_one_line_without_errno(weekly_models, cdnow_csv, tmp_path, capsys):
    run = ["run", "--no-plots", "--calibration-end", "none"]
    # A folder given as the log.
    assert main([*run, "--transactions", str(tmp_path), "--out-dir", str(tmp_path / "o")]) == 2
    assert "is not a regular file" in _one_line_error(capsys)
    # An output folder under a regular file.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    args = [*run, "--transactions", str(cdnow_csv), "--out-dir", str(blocker / "out")]
    assert main(args) == 2
    assert "is a file, not a folder" in _one_line_error(capsys)
    out = ["--output", str(blocker / "s.csv")]
    assert main(["predict", *_models(weekly_models), "--transactions", str(cdnow_csv), *out]) == 2
    assert "is a file, not a folder" in _one_line_error(capsys)
    # A model file that does not exist.
    missing = ["--model-file", str(tmp_path / "none.json"), "--spend-model-file", str(tmp_path / "none.json")]
    assert (
        main(["predict", *missing, "--transactions", str(cdnow_csv), "--output", str(tmp_path / "s.csv")])
        == 2
    )
    assert "none.json" in _one_line_error(capsys)
    # A usage error is one line too.
    with pytest.raises(SystemExit) as exc:
        main(["run", "--horizon", "soon"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "invalid float value: 'soon'" in err
    assert "\n" not in err


def test_sep_and_decimal_comma(cdnow_csv, weekly_models, tmp_path):
    european = tmp_path / "log.csv"
    pd.read_csv(cdnow_csv).to_csv(european, sep=";", decimal=",", index=False)
    assert "," in european.read_text().splitlines()[1]  # amounts are written 1,5
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    models = _models(weekly_models)
    assert main(["predict", *models, "--transactions", str(cdnow_csv), "--output", str(a)]) == 0
    extra = ["--sep", ";", "--decimal", ","]
    assert main(["predict", *models, "--transactions", str(european), *extra, "--output", str(b)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(a), pd.read_csv(b))
    # Read with the default separator, the file has no customer_id column: a clear error, not a wrong number.
    assert main(["predict", *models, "--transactions", str(european), "--output", str(b)]) == 2


# -- item 10: running the main job leaves the committed models/ alone --------------------------------


def test_run_saves_models_under_its_output_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--no-plots", "--calibration-end", "none"]) == 0
    assert "clvlab-output/models/bgnbd.json" in capsys.readouterr().out
    assert not (tmp_path / "models").exists()
    assert sorted(p.name for p in (tmp_path / "clvlab-output" / "models").iterdir()) == [
        "bgnbd.json",
        "gamma_gamma.json",
    ]


# -- --date-format: day-first string dates through the command line --------------------------------


def test_date_format_reads_day_first_dates(cdnow_csv, tmp_path, capsys):
    iso = pd.read_csv(cdnow_csv)
    dayfirst = tmp_path / "dayfirst.csv"
    iso.assign(date=pd.to_datetime(iso["date"]).dt.strftime("%d/%m/%Y")).to_csv(dayfirst, index=False)
    run = ["run", "--no-plots", "--calibration-end", "30/09/1997"]
    # Without the format the ambiguous dates are refused (naming date_format), before anything is fitted.
    assert main([*run, "--transactions", str(dayfirst), "--out-dir", str(tmp_path / "x")]) == 2
    captured = capsys.readouterr()
    assert "fitting" not in captured.out
    assert "date_format" in captured.err
    assert "\n" not in captured.err.strip()
    # With it, the same table and the same holdout check as from ISO dates.
    args = [
        *run,
        "--transactions",
        str(dayfirst),
        "--date-format",
        "%d/%m/%Y",
        "--out-dir",
        str(tmp_path / "a"),
    ]
    assert main(args) == 0
    out_a = capsys.readouterr().out
    iso_run = ["run", "--no-plots", "--calibration-end", "1997-09-30", "--transactions", str(cdnow_csv)]
    assert main([*iso_run, "--out-dir", str(tmp_path / "b")]) == 0
    out_b = capsys.readouterr().out
    assert "holdout check: models fitted up to 30/09/1997" in out_a

    def metrics(out: str) -> str:
        return out.split("predicting the holdout period:")[1].split("\n\n")[0]

    assert "1882.000" in metrics(out_a)
    assert metrics(out_a) == metrics(out_b)
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "a" / "targeting.csv"), pd.read_csv(tmp_path / "b" / "targeting.csv")
    )
    # The bundled data's default split is a day, not a string: --date-format does not get in its way.
    assert main(["run", "--no-plots", "--date-format", "%d/%m/%Y", "--out-dir", str(tmp_path / "c")]) == 0
    assert "1882.000" in capsys.readouterr().out


def test_model_without_a_unit_needs_time_unit(weekly_models, cdnow_csv, tmp_path, capsys):
    bg = clvlab.load(weekly_models / "bgnbd.json")
    unitless = clvlab.BetaGeo.from_params(bg.params_.to_dict())  # time_unit_ None
    unitless.save(tmp_path / "bg.json")
    models = [
        "--model-file",
        str(tmp_path / "bg.json"),
        "--spend-model-file",
        str(weekly_models / "gamma_gamma.json"),
    ]
    args = ["predict", *models, "--transactions", str(cdnow_csv), "--output", str(tmp_path / "s.csv")]
    assert main(args) == 2
    err = _one_line_error(capsys)
    assert "the model records no time unit" in err
    assert "--time-unit" in err
    assert main([*args, "--time-unit", "W"]) == 0
    assert "CLV over 52 W at 10% per 52 W" in capsys.readouterr().out
    assert pd.read_csv(tmp_path / "s.csv")["clv"].mean() == pytest.approx(29.22, abs=0.01)
