"""The ``clvlab`` command line: a thin argparse layer over the public API.

``clvlab run`` is the main job (summary, fit, value, targeting table, saved models); ``fit``, ``predict``
and ``summary`` split it into steps for scoring jobs. Every error a user can fix ends the program with a
one-line message and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from clvlab.errors import DataError, ModelFileError, NotFittedError
from clvlab.models import GammaGamma, TransactionModel

__all__ = ["main"]

T = TypeVar("T")

_MODELS = {"bgnbd": "BetaGeo", "pareto-nbd": "ParetoNBD", "mbgnbd": "ModifiedBetaGeo"}
_MODEL_FILES = {"bgnbd": "bgnbd.json", "pareto-nbd": "pareto_nbd.json", "mbgnbd": "mbgnbd.json"}


def _step(message: str, fn: Callable[[], T]) -> T:
    """Run one step of a job and report it with its duration."""
    print(f"  {message} ...", end="", flush=True)
    t0 = time.perf_counter()
    result = fn()
    print(f" done ({time.perf_counter() - t0:.2f} s)", flush=True)
    return result


def _read_table(path: Path, what: str) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"{what} file not found: {path}")
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return pd.read_parquet(path)
    if name.endswith((".csv", ".csv.gz", ".txt")):
        return pd.read_csv(path)
    raise DataError(f"{path}: {what} must be a .csv or .parquet file")


def _write_table(table: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in {".parquet", ".pq"}:
        table.to_parquet(path)
    elif path.suffix.lower() == ".csv":
        table.to_csv(path)
    else:
        raise DataError(f"{path}: output must end in .csv or .parquet")
    return path


def _load_log(args: argparse.Namespace) -> tuple[pd.DataFrame, str]:
    import clvlab

    if args.transactions is None:
        return clvlab.datasets.load_cdnow_transactions(), "the bundled CDNOW 1/10 sample"
    return _read_table(Path(args.transactions), "transactions"), str(args.transactions)


def _summarise(log: pd.DataFrame, args: argparse.Namespace, time_unit: str) -> pd.DataFrame:
    import clvlab

    return clvlab.rfm_summary(
        log,
        customer_id=args.customer_id,
        datetime=args.datetime,
        monetary_value=args.amount,
        observation_end=args.observation_end,
        time_unit=time_unit,
        drop_after_end=args.observation_end is not None,
    )


def _value_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "horizon": float(args.horizon),
        "discount_rate": float(args.discount_rate),
        "discount_period": float(args.discount_period),
        "interval": args.interval,
    }


def _channel_costs(items: Sequence[str]) -> dict[str, float]:
    costs: dict[str, float] = {}
    for item in items:
        name, sep, value = item.rpartition("=")
        try:
            cost = float(value)
        except ValueError:
            cost = float("nan")
        if not sep or not name or not (cost >= 0 and cost < float("inf")):
            raise DataError(f"--channel-cost {item!r}: expected CHANNEL=COST with a non-negative cost")
        costs[name] = cost
    return costs


def _segment_kwargs(args: argparse.Namespace, index: pd.Index) -> dict[str, Any]:
    """Acquisition cost and action-segment arguments of predict_customer_value from the options."""
    kw: dict[str, Any] = {
        "high_value_share": float(args.high_value_share),
        "active_threshold": float(args.active_threshold),
    }
    channel_costs = _channel_costs(args.channel_cost)
    source = args.acquisition_cost
    try:
        number = float(source) if source is not None else None
    except ValueError:
        number = None
    if source is None or number is not None:
        if channel_costs:
            raise DataError("--channel-cost needs --acquisition-cost FILE, a table with a 'channel' column")
        if number is not None:
            kw["acquisition_cost"] = number
        return kw
    path = Path(source)
    costs = _read_table(path, "acquisition cost")
    if args.customer_id not in costs.columns:
        raise DataError(
            f"{path}: no customer id column {args.customer_id!r} (set it with --customer-id); "
            f"columns: {list(costs.columns)}"
        )
    costs = costs.set_index(args.customer_id)
    if costs.index.dtype != index.dtype:
        # Ids read as numbers where the summary has strings (or back); if that fails,
        # predict_customer_value names the customers it cannot find.
        with contextlib.suppress(TypeError, ValueError):
            costs.index = costs.index.astype(index.dtype)
    if channel_costs:
        if "channel" not in costs.columns:
            raise DataError(
                f"{path}: --channel-cost needs a 'channel' column; columns: {list(costs.columns)}"
            )
        kw["acquisition_cost"] = channel_costs
        kw["channel"] = costs["channel"].astype(str)
    elif "acquisition_cost" in costs.columns:
        kw["acquisition_cost"] = costs["acquisition_cost"]
    else:
        raise DataError(
            f"{path}: expected an 'acquisition_cost' column (a cost per customer), or a 'channel' column "
            f"with --channel-cost CHANNEL=COST; columns: {list(costs.columns)}"
        )
    return kw


def _print_segments(
    table: pd.DataFrame, args: argparse.Namespace, unit: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Print the value-tier and action-segment summaries (and CLV:CAC) and return the two tables."""
    import clvlab

    tiers = clvlab.segment_summary(table)
    actions = clvlab.segment_summary(table, by="action_segment")
    print("\nvalue tiers (platinum: top 5% by CLV, gold: next 15%, silver: next 30%, bronze: bottom half):")
    print(tiers.round(3).to_string())
    print(
        f"\naction segments (high value: top {100 * args.high_value_share:g}% by CLV; active: P(alive) >= "
        f"{args.active_threshold:g}):"
    )
    print(actions.round(3).to_string())
    for name, _, action in clvlab.ACTION_SEGMENTS:
        print(f"  {name}: {action}")
    if "acquisition_cost" in table.columns:
        paid = np.isfinite(table["payback_horizon"].to_numpy())
        payback = table.loc[paid, "payback_horizon"]
        median = f"{payback.median():.1f} {unit}" if len(payback) else "none"
        cac = float(table["acquisition_cost"].sum())
        ratio = float(table["clv"].sum()) / cac if cac > 0 else float("inf")
        print(
            f"\nCLV:CAC {ratio:.2f} overall; "
            f"{100 * paid.mean():.1f}% of customers pay back their acquisition cost within the horizon "
            f"(median payback {median})"
        )
    return tiers, actions


def _fit_models(summary: pd.DataFrame, model_key: str) -> tuple[Any, Any]:
    import clvlab

    cls = getattr(clvlab, _MODELS[model_key])
    transaction = _step(f"fitting {cls.__name__}", lambda: cls().fit(summary))
    spend = _step("fitting GammaGamma", lambda: clvlab.GammaGamma().fit(summary))
    return transaction, spend


def _print_models(*models: Any) -> None:
    for model in models:
        print(f"\n{type(model).__name__} (time unit {model.time_unit_!r}):")
        print(model.summary().round(4).to_string())


def _cmd_run(args: argparse.Namespace) -> int:
    import clvlab

    out = Path(args.out)
    models_dir = Path(args.models_dir)
    log, source = _load_log(args)
    print(f"clvlab {clvlab.__version__}: main job on {source}")
    summary = _step(f"summarising {len(log):,} transactions", lambda: _summarise(log, args, args.time_unit))
    print(
        f"  {len(summary):,} customers, {int(summary['frequency'].sum()):,} repeat purchases, "
        f"time unit {args.time_unit!r}"
    )
    kwargs = {**_value_kwargs(args), **_segment_kwargs(args, summary.index)}  # option errors before fitting
    transaction, spend = _fit_models(summary, args.model)
    _print_models(transaction, spend)
    print()
    table = _step(
        "valuing customers",
        lambda: clvlab.predict_customer_value(transaction, spend, summary, **kwargs),
    )
    written = [_write_table(table, out / "targeting.csv"), _write_table(table, out / "targeting.parquet")]
    calibration_end = _calibration_end(args)
    split, holdout_models = None, None
    if calibration_end is not None:
        split, holdout_models = _holdout_check(log, args, calibration_end)
    if not args.no_plots:
        written += _step(
            "drawing diagnostic plots",
            lambda: _report_plots(transaction, spend, summary, table, log, args, split, holdout_models),
        )
    print(
        f"\nCLV over {args.horizon:g} {args.time_unit} at {100 * args.discount_rate:g}% per "
        f"{args.discount_period:g} {args.time_unit}; top customers:"
    )
    print(table.sort_values("clv_rank").head(args.top).round(3).to_string())
    tiers, actions = _print_segments(table, args, args.time_unit)
    written.append(_write_table(tiers, out / "segments.csv"))
    written.append(_write_table(actions, out / "action_segments.csv"))
    written.append(transaction.save(models_dir / _MODEL_FILES[args.model]))
    written.append(spend.save(models_dir / "gamma_gamma.json"))
    print("\nwrote:")
    for path in written:
        print(f"  {path}")
    return 0


#: The published CDNOW split (Fader, Hardie & Lee 2005): calibration weeks 1-39, holdout weeks 40-78.
_CDNOW_CALIBRATION_END = "1997-09-30"


def _calibration_end(args: argparse.Namespace) -> str | None:
    """The holdout split requested: --calibration-end, else the published split for the bundled data."""
    if args.calibration_end is not None:
        return None if args.calibration_end.lower() == "none" else str(args.calibration_end)
    return _CDNOW_CALIBRATION_END if args.transactions is None else None


def _holdout_check(
    log: pd.DataFrame, args: argparse.Namespace, calibration_end: str
) -> tuple[pd.DataFrame, tuple[Any, Any]]:
    """Fit the models on the calibration period and print how they predict the holdout period."""
    import clvlab

    split = _step(
        f"splitting at {calibration_end} (calibration / holdout)",
        lambda: clvlab.calibration_holdout_split(
            log,
            customer_id=args.customer_id,
            datetime=args.datetime,
            monetary_value=args.amount,
            calibration_end=calibration_end,
            observation_end=args.observation_end,
            time_unit=args.time_unit,
        ),
    )
    cal = split[["frequency", "recency", "T", "monetary_value"]]
    cal.attrs = dict(split.attrs)
    models = _fit_models(cal, args.model)
    metrics = clvlab.evaluate(models[0], split, spend_model=models[1])
    print(f"\nholdout check: models fitted up to {calibration_end}, predicting the holdout period:")
    print(metrics["value"].round(3).to_string())
    return split, models


def _report_plots(
    transaction: Any,
    spend: Any,
    summary: pd.DataFrame,
    table: pd.DataFrame,
    log: pd.DataFrame,
    args: argparse.Namespace,
    split: pd.DataFrame | None,
    holdout_models: tuple[Any, Any] | None,
) -> list[Path]:
    """The diagnostic PNGs: of the final models, and of the calibration-period models on the holdout."""
    from clvlab.plotting import write_report_plots

    out = Path(args.out)
    paths = write_report_plots(transaction, spend, summary, out, table=table)
    if split is not None and holdout_models is not None:
        paths += write_report_plots(
            *holdout_models,
            split,
            out / "holdout",
            calibration_holdout=split,
            transactions=log,
            calibration_end=_calibration_end(args),
            observation_end=args.observation_end,
            customer_id=args.customer_id,
            datetime=args.datetime,
        )
    return paths


def _cmd_fit(args: argparse.Namespace) -> int:
    log, source = _load_log(args)
    print(f"fitting on {source}")
    summary = _step("summarising", lambda: _summarise(log, args, args.time_unit))
    transaction, spend = _fit_models(summary, args.model)
    _print_models(transaction, spend)
    out = Path(args.out)
    paths = [transaction.save(out / _MODEL_FILES[args.model]), spend.save(out / "gamma_gamma.json")]
    print("\nwrote:\n" + "\n".join(f"  {p}" for p in paths))
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    import clvlab

    transaction = clvlab.load(args.model)
    spend = clvlab.load(args.spend_model)
    if not isinstance(transaction, TransactionModel):
        raise DataError(f"--model {args.model} holds a {type(transaction).__name__}, not a transaction model")
    if not isinstance(spend, GammaGamma):
        raise DataError(
            f"--spend-model {args.spend_model} holds a {type(spend).__name__}, not a GammaGamma model"
        )
    unit = transaction.time_unit_ or "D"
    if args.summary is not None:
        summary = _read_table(Path(args.summary), "summary")
        if args.customer_id in summary.columns:
            summary = summary.set_index(args.customer_id)
        summary.attrs["time_unit"] = unit
    else:
        log, _ = _load_log(args)
        summary = _summarise(log, args, unit)
    kwargs = {**_value_kwargs(args), **_segment_kwargs(args, summary.index)}
    table = _step(
        f"scoring {len(summary):,} customers",
        lambda: clvlab.predict_customer_value(transaction, spend, summary, **kwargs),
    )
    path = _write_table(table, Path(args.output))
    _print_segments(table, args, unit)
    print(f"\nwrote {path} ({len(table):,} rows)")
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    import clvlab

    for path in args.models:
        model = clvlab.load(path)
        print(f"{path}:")
        _print_models(model)
    return 0


def _add_log_options(p: argparse.ArgumentParser, *, with_time_unit: bool = True) -> None:
    g = p.add_argument_group("transaction log")
    g.add_argument("--transactions", help="CSV or Parquet transaction log (default: the bundled CDNOW log)")
    g.add_argument("--customer-id", default="customer_id", help="customer id column (default: %(default)s)")
    g.add_argument("--datetime", default="date", help="date column (default: %(default)s)")
    g.add_argument("--amount", default="amount", help="amount column (default: %(default)s)")
    g.add_argument(
        "--observation-end", help="last day of observation; later rows are ignored (default: last date)"
    )
    if with_time_unit:
        g.add_argument(
            "--time-unit", default="W", choices=["D", "W", "M", "Y"], help="time unit (default: W)"
        )


def _add_value_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("value")
    g.add_argument(
        "--horizon",
        type=float,
        default=52.0,
        help="horizon in time units; 'inf' for residual value (default: 52)",
    )
    g.add_argument(
        "--discount-rate", type=float, default=0.10, help="rate per discount period (default: 0.10)"
    )
    g.add_argument(
        "--discount-period", type=float, default=52.0, help="period length in time units (default: 52)"
    )
    g.add_argument("--interval", type=float, help="add CLV bounds at this level, e.g. 0.9")
    g = p.add_argument_group("acquisition cost and segments")
    g.add_argument(
        "--acquisition-cost",
        metavar="COST|FILE",
        help="cost of acquiring a customer (CAC): a number for everyone, or a CSV/Parquet file with the "
        "customer id column and either 'acquisition_cost' (per customer) or 'channel' (with "
        "--channel-cost); adds clv_to_cac and payback_horizon to the table",
    )
    g.add_argument(
        "--channel-cost",
        metavar="CHANNEL=COST",
        action="append",
        default=[],
        help="acquisition cost of one channel (repeat per channel), with --acquisition-cost FILE",
    )
    g.add_argument(
        "--high-value-share",
        type=float,
        default=0.2,
        help="share of customers, by CLV, that count as high value in action_segment (default: 0.2)",
    )
    g.add_argument(
        "--active-threshold",
        type=float,
        default=0.5,
        help="P(alive) from which a customer counts as active in action_segment (default: 0.5)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clvlab",
        description="Probabilistic customer lifetime value: BG/NBD, Pareto/NBD, MBG/NBD and Gamma-Gamma.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,fit,predict,summary}")
    raw = argparse.RawDescriptionHelpFormatter

    run = sub.add_parser(
        "run",
        help="the main job: summary, fit, value, targeting table and saved models",
        formatter_class=raw,
        epilog="examples:\n  clvlab run                      # the bundled CDNOW data, into ./clvlab-output\n"
        "  clvlab run --acquisition-cost 25                # CLV:CAC and payback at a CAC of 25\n"
        "  clvlab run --acquisition-cost channels.csv --channel-cost search=40 --channel-cost referral=10\n"
        "  clvlab run --transactions log.parquet --customer-id cust --datetime day --amount value \\\n"
        "      --time-unit D --horizon 365 --discount-rate 0.1 --discount-period 365 --out results",
    )
    _add_log_options(run)
    run.add_argument(
        "--model", choices=sorted(_MODELS), default="bgnbd", help="transaction model (default: bgnbd)"
    )
    _add_value_options(run)
    run.add_argument("--out", default="clvlab-output", help="output directory (default: %(default)s)")
    run.add_argument(
        "--models-dir", default="models", help="where to save the fitted models (default: %(default)s)"
    )
    run.add_argument("--top", type=int, default=10, help="rows of the table to print (default: 10)")
    run.add_argument(
        "--calibration-end",
        help="also fit on the log up to this date and print how well it predicts the rest (holdout "
        f"check, with plots in OUT/holdout); default {_CDNOW_CALIBRATION_END} for the bundled CDNOW data, "
        "none otherwise; 'none' turns it off",
    )
    run.add_argument("--no-plots", action="store_true", help="do not write the diagnostic PNGs")
    run.set_defaults(func=_cmd_run)

    fit = sub.add_parser(
        "fit",
        help="fit a transaction model and Gamma-Gamma and save them",
        formatter_class=raw,
        epilog="example:\n  clvlab fit --transactions log.csv --model pareto-nbd --out models",
    )
    _add_log_options(fit)
    fit.add_argument(
        "--model", choices=sorted(_MODELS), default="bgnbd", help="transaction model (default: bgnbd)"
    )
    fit.add_argument("--out", default="models", help="directory for the model files (default: %(default)s)")
    fit.set_defaults(func=_cmd_fit)

    predict = sub.add_parser(
        "predict",
        help="score customers with saved models and write the targeting table",
        formatter_class=raw,
        epilog="example:\n  clvlab predict --model models/bgnbd.json \\\n"
        "      --spend-model models/gamma_gamma.json \\\n"
        "      --transactions new_log.csv --output scores.parquet",
    )
    predict.add_argument("--model", required=True, help="saved transaction model (JSON)")
    predict.add_argument("--spend-model", required=True, help="saved Gamma-Gamma model (JSON)")
    _add_log_options(predict, with_time_unit=False)
    predict.add_argument(
        "--summary", help="score a summary file (frequency, recency, T, monetary_value) instead"
    )
    _add_value_options(predict)
    predict.add_argument("--output", required=True, help="output file, .csv or .parquet")
    predict.set_defaults(func=_cmd_predict)

    summary = sub.add_parser(
        "summary",
        help="print the parameter summary of saved models",
        formatter_class=raw,
        epilog="example:\n  clvlab summary models/bgnbd.json models/gamma_gamma.json",
    )
    summary.add_argument("models", nargs="+", help="saved model files")
    summary.set_defaults(func=_cmd_summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (DataError, ModelFileError, NotFittedError, FileNotFoundError, ValueError) as exc:
        print(f"\nclvlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nclvlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
