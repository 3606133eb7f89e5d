"""The ``clvlab`` command line: a thin argparse layer over the public API.

``clvlab run`` is the main job (summary, fit, value, targeting table, saved models); ``fit``, ``predict``
and ``summary`` split it into steps for scoring jobs. Every error a user can fix ends the program with a
one-line message and exit code 2, and every option is checked before anything is fitted.
``clvlab run --engine spark`` runs the same job with the summary, the fits (on distinct rows) and the
scoring in Apache Spark (:mod:`clvlab.spark`), for logs too large for one machine's memory.

Option names mean the same in every subcommand: ``--model-kind`` is a kind of transaction model,
``--model-file`` / ``--spend-model-file`` are saved model files, ``--models-dir`` is the folder models are
saved in, ``--out-dir`` the folder of the main job's outputs and ``--output`` one output file. The older
spellings (``--model``, ``--spend-model``, ``--out``) still work and print a deprecation notice.

Covariates: ``--customers`` is a file of customer attributes (one row per customer, the ``--customer-id``
column), joined onto the summary; ``--purchase-covariates``, ``--dropout-covariates`` (``run`` / ``fit``)
and ``--spend-covariates`` name the attributes each process depends on, as a formula (``"~ channel +
log(first_spend)"``) or column names separated by commas (``channel,region``). Saved models carry the
encoding, so ``predict`` with such a model needs ``--customers`` (or a ``--summary`` holding the columns).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import numpy as np
import pandas as pd

from clvlab._guards import write_atomically
from clvlab.data.validation import summary_time_unit
from clvlab.errors import ClvlabWarning, CovariateWarning, DataError, ModelFileError, NotFittedError
from clvlab.models import GammaGamma, TransactionModel

__all__ = ["main"]

T = TypeVar("T")

_MODELS = {"bgnbd": "BetaGeo", "pareto-nbd": "ParetoNBD", "mbgnbd": "ModifiedBetaGeo"}
_MODEL_FILES = {"bgnbd": "bgnbd.json", "pareto-nbd": "pareto_nbd.json", "mbgnbd": "mbgnbd.json"}
_TIME_UNITS = ["D", "W", "M", "Y"]
#: One year in each time unit: the default horizon and discount period follow the unit chosen.
_YEAR = {"D": 365.0, "W": 52.0, "M": 12.0, "Y": 1.0}
_OUT_DIR = "clvlab-output"
#: The covariate options: the process each names (``<process>_covariates`` of the model) and its option.
_COVARIATE_OPTIONS = (
    ("purchase", "--purchase-covariates"),
    ("dropout", "--dropout-covariates"),
    ("spend", "--spend-covariates"),
)
#: Characters that make a covariate option a formula (without them it is a list of column names).
_FORMULA_CHARS = frozenset("~+*:()")

#: Whether a step line ("  fitting ... ") is open on stdout, so that an error starts on a line of its own.
_open_step = False


def _step(message: str, fn: Callable[[], T]) -> T:
    """Run one step of a job and report it with its duration."""
    global _open_step
    print(f"  {message} ...", end="", flush=True)
    _open_step = True
    t0 = time.perf_counter()
    result = fn()
    _open_step = False
    print(f" done ({time.perf_counter() - t0:.2f} s)", flush=True)
    return result


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (and exit code 2), like clvlab's own errors."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Deprecated(argparse.Action):
    """An old spelling of an option: stores into the new option's ``dest`` and prints a notice."""

    def __init__(self, option_strings: Sequence[str], dest: str, *, new: str, **kwargs: Any) -> None:
        kwargs.setdefault("default", argparse.SUPPRESS)
        kwargs.setdefault("help", argparse.SUPPRESS)
        super().__init__(option_strings, dest, **kwargs)
        self.new = new

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        print(
            f"clvlab: warning: {option_string} is deprecated and will be removed; use {self.new}",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


def _read_table(path: Path, what: str, args: argparse.Namespace) -> pd.DataFrame:
    _check_input_file(path, what)
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return pd.read_parquet(path)
    if name.endswith((".csv", ".csv.gz", ".txt")):
        return pd.read_csv(path, sep=args.sep, decimal=args.decimal)
    raise DataError(f"{path}: {what} must be a .csv or .parquet file")


def _check_input_file(path: Path, what: str) -> None:
    if not path.exists():
        raise DataError(f"{what} file not found: {path}")
    if not path.is_file():
        raise DataError(f"{what} file {path} is not a regular file")


def _check_output_file(path: Path, what: str) -> None:
    if path.suffix.lower() not in {".csv", ".parquet", ".pq"}:
        raise DataError(f"{what} {path}: output must end in .csv or .parquet")
    if path.is_dir():
        raise DataError(f"{what} {path} is a directory, not a file")
    _check_output_dir(path.parent, what)


def _check_output_dir(path: Path, what: str) -> None:
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                raise DataError(f"{what}: {folder} is a file, not a folder")
            return


def _write_table(table: pd.DataFrame, path: Path) -> Path:
    suffix = path.suffix.lower()
    if suffix not in {".parquet", ".pq", ".csv"}:
        raise DataError(f"{path}: output must end in .csv or .parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written to a temporary file and renamed into place: an interrupted run never leaves half a table.
    if suffix == ".csv":
        write_atomically(path, lambda tmp: table.to_csv(tmp))
    else:
        write_atomically(path, lambda tmp: table.to_parquet(tmp))
    return path


def _load_log(args: argparse.Namespace) -> tuple[pd.DataFrame, str]:
    import clvlab

    if args.transactions is None:
        return clvlab.datasets.load_cdnow_transactions(), "the bundled CDNOW 1/10 sample"
    return _read_table(Path(args.transactions), "transactions", args), str(args.transactions)


def _log_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Column names, observation end and date format of the log, as keywords of the log readers."""
    kw: dict[str, Any] = {
        "customer_id": args.customer_id,
        "datetime": args.datetime,
        "monetary_value": args.amount,
        "observation_end": args.observation_end,
    }
    if args.date_format is not None:
        kw["date_format"] = args.date_format
    return kw


def _summarise(log: pd.DataFrame, args: argparse.Namespace, time_unit: str) -> pd.DataFrame:
    import clvlab

    return clvlab.rfm_summary(
        log,
        **_log_kwargs(args),
        time_unit=time_unit,
        drop_after_end=args.observation_end is not None,
    )


def _number(value: float, option: str) -> float:
    if math.isnan(value):
        raise DataError(f"{option}: expected a number, got nan")
    return value


def _resolve_value_options(args: argparse.Namespace, unit: str | None) -> None:
    """Fill in the horizon and discount period (one year in ``unit``) and check the value options.

    Raises :class:`DataError` naming the option for any value the valuation would refuse later.
    """
    year = _YEAR.get(unit) if unit is not None else None
    for option, name in (("--horizon", "horizon"), ("--discount-period", "discount_period")):
        if getattr(args, name) is None:
            if year is None:
                known = "the model records no time unit" if unit is None else f"time unit {unit!r}"
                raise DataError(
                    f"{option} has no default ({known}): state --time-unit, or {option} in time units"
                )
            setattr(args, name, year)
    horizon = _number(float(args.horizon), "--horizon")
    if not horizon > 0:
        raise DataError(
            f"--horizon must be positive (in time units, 'inf' for residual value), got {horizon:g}"
        )
    period = _number(float(args.discount_period), "--discount-period")
    if not (period > 0 and math.isfinite(period)):
        raise DataError(f"--discount-period must be a positive number of time units, got {period:g}")
    rate = _number(float(args.discount_rate), "--discount-rate")
    if not (0 <= rate < math.inf):
        raise DataError(f"--discount-rate must be a non-negative fraction per discount period, got {rate:g}")
    if rate > 1:
        raise DataError(
            f"--discount-rate {rate:g} means {100 * rate:g}% per discount period; the rate is a fraction "
            f"(did you mean {rate / 100:g}?); rates above 1 are refused"
        )
    if not math.isfinite(horizon) and rate == 0:
        raise DataError(
            "--horizon inf needs a positive --discount-rate (the undiscounted value is unbounded)"
        )
    if args.interval is not None and not (0 < _number(float(args.interval), "--interval") < 1):
        raise DataError(f"--interval must lie strictly between 0 and 1, e.g. 0.9; got {args.interval:g}")
    if getattr(args, "interval_kind", "parameter") == "predictive" and args.interval is None:
        raise DataError("--interval-kind predictive needs --interval, e.g. --interval 0.9")
    margin = getattr(args, "margin", None)
    if margin is not None and not (0 < _number(float(margin), "--margin") <= 1):
        raise DataError(f"--margin is a fraction of revenue in (0, 1], e.g. 0.3 for 30%; got {margin:g}")
    if not 0 <= _number(float(args.high_value_share), "--high-value-share") <= 1:
        raise DataError(
            f"--high-value-share must lie in [0, 1] (a share of customers), got {args.high_value_share:g}"
        )
    if not 0 <= _number(float(args.active_threshold), "--active-threshold") <= 1:
        raise DataError(
            f"--active-threshold must lie in [0, 1] (a probability), got {args.active_threshold:g}"
        )
    _channel_costs(args.channel_cost)
    source = args.acquisition_cost
    if source is not None:
        try:
            float(source)
        except ValueError:
            _check_input_file(Path(source), "acquisition cost")


def _check_log_options(args: argparse.Namespace, *, folders: bool = False) -> None:
    if len(args.sep) != 1 or len(args.decimal) != 1:
        raise DataError(
            f"--sep and --decimal must be one character each, got {args.sep!r} and {args.decimal!r}"
        )
    if args.sep == args.decimal:
        raise DataError(f"--sep and --decimal must differ, both are {args.sep!r}")
    if getattr(args, "transactions", None) is not None:
        if folders and Path(args.transactions).is_dir():  # a folder of Parquet files, for Spark
            return
        _check_input_file(Path(args.transactions), "transactions")


def _value_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "horizon": float(args.horizon),
        "discount_rate": float(args.discount_rate),
        "discount_period": float(args.discount_period),
        "interval": args.interval,
    }


def _table_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """:func:`_value_kwargs` and the pandas engine's interval kind and margin."""
    out = _value_kwargs(args)
    if getattr(args, "interval_kind", "parameter") != "parameter":
        out["interval_kind"] = args.interval_kind
    if getattr(args, "margin", None) is not None:
        out["margin"] = float(args.margin)
    return out


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


def _cost_options(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, float], Path | None]:
    """Segment keywords (a CAC given as a number among them), the channel costs, a cost file's path or None.

    Shared by both engines; each reads a cost file its own way.
    """
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
        return kw, channel_costs, None
    return kw, channel_costs, Path(source)


def _segment_kwargs(args: argparse.Namespace, index: pd.Index) -> dict[str, Any]:
    """Acquisition cost and action-segment arguments of predict_customer_value from the options."""
    kw, channel_costs, path = _cost_options(args)
    if path is None:
        return kw
    costs = _read_table(path, "acquisition cost", args)
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
    note = actions.attrs.get("segment_note")
    if note:
        print(f"  NOTE: the action segments are degenerate: {note}")
    if "acquisition_cost" in table.columns:
        paid = np.isfinite(table["payback_horizon"].to_numpy())
        payback = table.loc[paid, "payback_horizon"]
        median = f"{payback.median():.1f} {unit}" if len(payback) else "none"
        cac = float(table["acquisition_cost"].sum())
        ratio = float(table[table.attrs.get("value_column", "clv")].sum()) / cac if cac > 0 else float("inf")
        print(
            f"\nCLV:CAC {ratio:.2f} overall; "
            f"{100 * paid.mean():.1f}% of customers pay back their acquisition cost within the horizon "
            f"(median payback {median})"
        )
    return tiers, actions


def _fit_models(summary: pd.DataFrame, args: argparse.Namespace) -> tuple[Any, Any]:
    import clvlab

    cls = getattr(clvlab, _MODELS[args.model_kind])
    kw, spend_kw = _covariate_kwargs(args)
    transaction = _step(f"fitting {cls.__name__}", lambda: cls(**kw).fit(summary))
    spend = _step("fitting GammaGamma", lambda: clvlab.GammaGamma(**spend_kw).fit(summary))
    return transaction, spend


def _covariate_kwargs(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """The transaction model's and the spend model's covariate keywords from the options."""
    specs: dict[str, Any] = getattr(args, "covariate_specs", {})
    kw = {f"{p}_covariates": spec for p, spec in specs.items() if p != "spend"}
    spend_kw = {"spend_covariates": specs["spend"]} if "spend" in specs else {}
    return kw, spend_kw


def _covariate_note(model: Any) -> str:
    """``"; purchase covariates ~ channel"`` for each process of a covariate model (empty without)."""
    designs = getattr(model, "covariates_", None) or {}
    return "".join(f"; {process} covariates {d.formula}" for process, d in designs.items())


def _print_models(*models: Any) -> None:
    for model in models:
        print(f"\n{type(model).__name__} (time unit {model.time_unit_!r}{_covariate_note(model)}):")
        print(model.summary().round(4).to_string())


# -- covariates --------------------------------------------------------------------------------------


def _covariate_spec(text: str, option: str) -> str | list[str]:
    """An option's covariates: a formula (with ``~`` or formula operators) or comma-separated names."""
    from clvlab.covariates import covariate_formula

    spec = text.strip()
    if _FORMULA_CHARS & set(spec):
        covariate_formula(spec if "~" in spec else f"~ {spec}", option)  # refuses 'y ~ x' and '~'
        return spec if "~" in spec else f"~ {spec}"
    names = [name.strip() for name in spec.split(",")]
    if not all(names):
        raise DataError(
            f"{option} {text!r}: expected a formula such as '~ channel + region' or column names "
            "separated by commas, e.g. channel,region"
        )
    covariate_formula(names, option)  # refuses a name given twice
    return names


def _check_covariate_options(args: argparse.Namespace) -> None:
    """Read the covariate options into ``args.covariate_specs`` and check them against the model kind.

    Covariates need ``--customers``, and ``--customers`` is read only for covariates.
    """
    import clvlab

    specs: dict[str, str | list[str]] = {}
    for process, option in _COVARIATE_OPTIONS:
        text = getattr(args, f"{process}_covariates", None)
        if text is not None:
            specs[process] = _covariate_spec(text, option)
    cls = getattr(clvlab, _MODELS[args.model_kind])
    for process, option in _COVARIATE_OPTIONS:
        if process in specs and process != "spend" and process not in cls.covariate_links:
            takes = [o for p, o in _COVARIATE_OPTIONS if p in cls.covariate_links]
            raise DataError(
                f"{option}: --model-kind {args.model_kind} ({cls.__name__}) takes no {process} covariates"
                + (f"; it takes {' and '.join(takes)}" if takes else "; leave out the covariate options")
            )
    given = [option for process, option in _COVARIATE_OPTIONS if process in specs]
    if specs and args.customers is None:
        raise DataError(
            f"{' and '.join(given)} need --customers FILE: a CSV or Parquet file of customer attributes "
            f"with the customer id column {args.customer_id!r} and the covariate columns"
        )
    if args.customers is not None:
        if not specs:
            raise DataError(
                "--customers FILE is read for covariates only: add --purchase-covariates, "
                "--dropout-covariates or --spend-covariates, e.g. --purchase-covariates '~ channel'"
            )
        if not (getattr(args, "engine", "pandas") == "spark" and Path(args.customers).is_dir()):
            _check_input_file(Path(args.customers), "customers")  # Spark also reads a Parquet folder
    args.covariate_specs = specs


def _read_customers(args: argparse.Namespace) -> pd.DataFrame:
    """The ``--customers`` file, indexed by the customer id (``--customer-id``)."""
    path = Path(args.customers)
    customers = _read_table(path, "customers", args)
    if args.customer_id in customers.columns:
        customers = customers.set_index(args.customer_id)
    elif customers.index.name != args.customer_id:
        raise DataError(
            f"--customers {path}: no customer id column {args.customer_id!r} (set it with --customer-id); "
            f"columns: {list(customers.columns)}"
        )
    return customers


def _join_customers(summary: pd.DataFrame, customers: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame:
    """``summary`` with the attributes of ``customers`` joined (ids read as numbers matched to strings)."""
    from clvlab.data.summary import join_customers

    if customers.index.dtype != summary.index.dtype:
        # Ids read as numbers where the summary has strings (or back); if that fails, join_customers
        # names a customer it cannot find.
        strings = pd.api.types.infer_dtype(summary.index) == "string"
        with contextlib.suppress(TypeError, ValueError):
            ids = customers.index.astype(str) if strings else customers.index.astype(summary.index.dtype)
            customers = customers.set_axis(ids)
    try:
        return join_customers(summary, customers, args.customer_id)
    except DataError as exc:
        raise DataError(f"--customers {args.customers}: {exc}") from None


#: The columns of a summary (and of a calibration/holdout split) that are not customer attributes.
_SUMMARY_COLUMNS = frozenset(
    {
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "frequency_holdout",
        "monetary_value_holdout",
        "duration_holdout",
    }
)


def _check_covariates(summary: pd.DataFrame, args: argparse.Namespace) -> None:
    """Build each covariate design on the joined summary, so a bad formula fails before any fit."""
    from clvlab.covariates import Design

    attributes = [c for c in summary.columns if c not in _SUMMARY_COLUMNS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CovariateWarning)  # the fit warns, once
        for process, spec in args.covariate_specs.items():
            try:
                Design.fit(spec, summary, process)
            except DataError as exc:
                reason = str(exc).removeprefix(f"{process}_covariates: ")
                raise DataError(
                    f"--{process}-covariates: {reason}; the columns of --customers {args.customers} are "
                    f"{attributes}"
                ) from None


def _model_covariates(*models: Any) -> list[str]:
    """The data columns the covariate models read (customer attributes), in order of first use."""
    needed: list[str] = []
    for model in models:
        for design in (getattr(model, "covariates_", None) or {}).values():
            needed += [v for v in design.variables if v not in needed]
    return needed


def _models_dir(args: argparse.Namespace) -> Path:
    """``--models-dir``, by default ``models/`` under the output folder (never the committed models/)."""
    if args.models_dir is not None:
        return Path(args.models_dir)
    return Path(getattr(args, "out_dir", _OUT_DIR)) / "models"


def _cmd_run(args: argparse.Namespace) -> int:
    import clvlab

    if args.engine == "spark":
        return _cmd_run_spark(args)
    if args.spark_master is not None:
        raise DataError("--spark-master is for --engine spark")

    # Every option is checked before the data are read and anything is fitted.
    _check_log_options(args)
    _resolve_value_options(args, args.time_unit)
    out = Path(args.out_dir)
    models_dir = _models_dir(args)
    _check_output_dir(out, "--out-dir")
    _check_output_dir(models_dir, "--models-dir")
    if args.top < 0:
        raise DataError(f"--top must be a non-negative number of rows, got {args.top}")
    _check_covariate_options(args)
    log, source = _load_log(args)
    customers = None if args.customers is None else _read_customers(args)
    print(f"clvlab {clvlab.__version__}: main job on {source}")
    summary = _step(f"summarising {len(log):,} transactions", lambda: _summarise(log, args, args.time_unit))
    print(
        f"  {len(summary):,} customers, {int(summary['frequency'].sum()):,} repeat purchases, "
        f"time unit {args.time_unit!r}"
    )
    if customers is not None:
        summary = _join_customers(summary, customers, args)
        _check_covariates(summary, args)
        print(f"  customer attributes joined from {args.customers}")
    kwargs = {**_table_kwargs(args), **_segment_kwargs(args, summary.index)}  # option errors before fitting
    calibration_end = _calibration_end(args)
    split = None if calibration_end is None else _holdout_split(log, args, calibration_end)
    if split is not None and customers is not None:
        split = _join_customers(split, customers, args)
    transaction, spend = _fit_models(summary, args)
    _print_models(transaction, spend)
    print()
    table = _step(
        "valuing customers",
        lambda: clvlab.predict_customer_value(transaction, spend, summary, **kwargs),
    )
    written = [_write_table(table, out / "targeting.csv"), _write_table(table, out / "targeting.parquet")]
    holdout_models = None
    if split is not None and calibration_end is not None:
        holdout_models = _holdout_check(split, args, calibration_end)
    if not args.no_plots:
        written += _draw_plots(
            lambda: _report_plots(transaction, spend, summary, table, log, args, split, holdout_models),
            covariates=bool(args.covariate_specs),
        )
    print(
        f"\nCLV over {args.horizon:g} {args.time_unit} at {100 * args.discount_rate:g}% per "
        f"{args.discount_period:g} {args.time_unit}; top customers:"
    )
    print(table.sort_values("clv_rank").head(args.top).round(3).to_string())
    tiers, actions = _print_segments(table, args, args.time_unit)
    written.append(_write_table(tiers, out / "segments.csv"))
    written.append(_write_table(actions, out / "action_segments.csv"))
    written.append(transaction.save(models_dir / _MODEL_FILES[args.model_kind]))
    written.append(spend.save(models_dir / "gamma_gamma.json"))
    print("\nwrote:")
    for path in written:
        print(f"  {path}")
    return 0


# -- the Spark engine (run --engine spark) ------------------------------------------------------------
#: Customers of the calibration/holdout split the Spark engine brings to the driver for the holdout metrics
#: (a uniform random sample beyond this many, so driver memory does not grow with the customers).
_SPARK_HOLDOUT_CUSTOMERS = 1_000_000
#: strftime directives and the Spark datetime patterns that read the same text.
_SPARK_PATTERNS = {
    "Y": "yyyy",
    "y": "yy",
    "m": "MM",
    "d": "dd",
    "H": "HH",
    "M": "mm",
    "S": "ss",
    "f": "SSSSSS",
    "b": "MMM",
    "B": "MMMM",
    "%": "%",
}


def _spark_pattern(date_format: str) -> str:
    """The Spark datetime pattern of a strftime ``--date-format`` (letters outside directives quoted)."""
    out, i = [], 0
    while i < len(date_format):
        char = date_format[i]
        if char == "%":
            directive = date_format[i + 1 : i + 2]
            if directive not in _SPARK_PATTERNS:
                raise DataError(
                    f"--date-format {date_format!r}: %{directive} has no Spark equivalent here; --engine "
                    f"spark reads {', '.join('%' + d for d in _SPARK_PATTERNS)} (or give the log as Parquet "
                    "with dates)"
                )
            out.append(_SPARK_PATTERNS[directive])
            i += 2
            continue
        out.append(f"'{char}'" if char.isalpha() else ("''" if char == "'" else char))
        i += 1
    return "".join(out)


def _spark_session(args: argparse.Namespace) -> tuple[Any, bool]:
    """The SparkSession of the job, and whether this job started it (and so stops it).

    A session already running in this process is reused (``--spark-master`` then does not apply).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DataError(
            '--engine spark needs PySpark 4 and a Java 17 runtime: pip install "clvlab[spark]"'
        ) from None
    master = args.spark_master or "local[*]"
    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise DataError(
            "--engine spark needs a Java 17 runtime (PySpark runs on the JVM): install one (e.g. "
            "openjdk-17-jre) and put java on PATH or set JAVA_HOME"
        )
    # Local Python workers run this interpreter, which has clvlab, not whatever python3 is on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName("clvlab run")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.showConsoleProgress", "false")
    )
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # PySpark's gateway errors have no common public base class
        raise DataError(f"could not start Spark ({master}): {_one_line(exc)}") from None
    session.sparkContext.setLogLevel("ERROR")
    return session, True


def _spark_read(spark: Any, path: Path, what: str, args: argparse.Namespace) -> Any:
    """A CSV or Parquet file (or a folder of Parquet files written by Spark) as a Spark DataFrame."""
    if not path.exists():
        raise DataError(f"{what} file not found: {path}")
    name = path.name.lower()
    if path.is_dir() or name.endswith((".parquet", ".pq")):
        return spark.read.parquet(str(path))
    if name.endswith((".csv", ".csv.gz", ".txt")):
        if args.decimal != ".":
            raise DataError("--engine spark reads CSV numbers with a '.' decimal mark only; convert the file")
        return spark.read.csv(str(path), header=True, sep=args.sep, inferSchema=True)
    raise DataError(f"{path}: {what} must be a .csv or .parquet file, or a folder of Parquet files")


def _spark_log(spark: Any, args: argparse.Namespace) -> tuple[Any, str]:
    """The transaction log as a Spark DataFrame with its date column as dates (string dates parsed)."""
    from pyspark.sql import functions as sf
    from pyspark.sql import types as st

    import clvlab

    if args.transactions is None:
        log = spark.createDataFrame(clvlab.datasets.load_cdnow_transactions())
        source = "the bundled CDNOW 1/10 sample"
    else:
        log, source = _spark_read(spark, Path(args.transactions), "transactions", args), args.transactions
    if args.datetime not in log.columns:
        raise DataError(
            f"transactions: no date column {args.datetime!r} (set it with --datetime); columns: {log.columns}"
        )
    if not isinstance(log.schema[args.datetime].dataType, st.StringType):
        return log, str(source)
    raw = sf.col(args.datetime)
    if args.date_format is None:
        parsed = sf.try_to_timestamp(raw)
    else:
        parsed = sf.try_to_timestamp(raw, sf.lit(_spark_pattern(args.date_format)))
    bad = log.filter(raw.isNotNull() & parsed.isNull()).select(args.datetime).first()
    if bad is not None:
        raise DataError(
            f"column {args.datetime!r} has text that does not read as a date, e.g. {bad[0]!r}: pass its "
            "format with --date-format (e.g. %d/%m/%Y)"
        )
    return log.withColumn(args.datetime, sf.to_date(parsed)), str(source)


def _spark_costs(spark: Any, summary: Any, args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The summary with the acquisition costs of ``--acquisition-cost FILE`` joined, and the keywords."""
    from pyspark.sql import functions as sf

    kw, channel_costs, path = _cost_options(args)
    if path is None:
        return summary, kw
    costs = _spark_read(spark, path, "acquisition cost", args)
    column = "channel" if channel_costs else "acquisition_cost"
    for needed in (args.customer_id, column):
        if needed not in costs.columns:
            raise DataError(f"{path}: no column {needed!r}; columns: {costs.columns}")
    ident = summary.schema[args.customer_id].dataType
    costs = costs.select(sf.col(args.customer_id).cast(ident).alias(args.customer_id), column)
    if channel_costs:
        costs = costs.withColumn(column, sf.col(column).cast("string"))
        kw.update(acquisition_cost=channel_costs, channel=column)
    else:
        kw["acquisition_cost"] = column
    # A customer without a row in the file gets a missing cost, which the scoring refuses by name.
    return summary.join(costs, args.customer_id, "left"), kw


#: Customers of the summary on which the Spark engine builds the covariate designs before fitting (to refuse a
#: bad formula early; the fits build them on the distinct rows).
_SPARK_DESIGN_CHECK_ROWS = 10_000


def _spark_join_customers(summary: Any, customers: Any, args: argparse.Namespace) -> Any:
    """The Spark summary with the ``--customers`` attributes joined, refused as the pandas engine does.

    One row per customer of the summary is needed: duplicated ids, attribute columns the summary already
    holds and customers without a row are DataErrors naming an example (each checked by a Spark query).
    """
    from pyspark.sql import functions as sf

    from clvlab.spark._common import plain

    where = f"--customers {args.customers}"
    ident = args.customer_id
    if ident not in customers.columns:
        raise DataError(
            f"{where}: no customer id column {ident!r} (set it with --customer-id); "
            f"columns: {customers.columns}"
        )
    clash = [c for c in customers.columns if c != ident and c in summary.columns]
    if clash:
        raise DataError(f"{where}: column(s) {clash} that the summary already holds; rename or drop them")
    customers = customers.withColumn(ident, sf.col(ident).cast(summary.schema[ident].dataType))
    dup = customers.groupBy(ident).count().filter(sf.col("count") > 1)
    first = dup.agg(sf.count(sf.lit(1)).alias("n"), sf.min(ident).alias("id")).first()
    if first is not None and first["n"]:
        raise DataError(
            f"{where}: {first['n']} duplicated customer id(s), e.g. {plain(first['id'])!r}: one row per "
            "customer is needed"
        )
    marker = "__clvlab_has_attributes"
    joined = summary.join(customers.withColumn(marker, sf.lit(True)), ident, "left")
    missing = (
        joined.filter(sf.col(marker).isNull())
        .agg(sf.count(sf.lit(1)).alias("n"), sf.min(ident).alias("id"))
        .first()
    )
    if missing is not None and missing["n"]:
        raise DataError(
            f"{where}: {missing['n']} customer(s) of the summary have no row in it, e.g. customer id "
            f"{plain(missing['id'])!r} (check that the ids have the same type, e.g. int vs str)"
        )
    return joined.drop(marker)


def _replace_folder(write: Callable[[Path], None], path: Path) -> Path:
    """Write a folder (a Spark output) beside ``path`` and move it into place once it is complete."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    write(tmp)
    if path.exists():
        path.rename(old)
    tmp.rename(path)
    if old.is_dir():
        shutil.rmtree(old)
    elif old.exists():  # a table file of an earlier pandas run
        old.unlink()
    return path


def _spark_holdout(split: Any, args: argparse.Namespace, calibration_end: str) -> pd.DataFrame:
    """Fit on the calibration period (distinct rows); print the holdout metrics of (a sample of) customers."""
    import clvlab
    from clvlab import spark as cs

    cls = getattr(clvlab, _MODELS[args.model_kind])
    kw, spend_kw = _covariate_kwargs(args)
    transaction = _step(f"fitting {cls.__name__} on the calibration period", lambda: cs.fit(cls(**kw), split))
    spend = _step(
        "fitting GammaGamma on the calibration period",
        lambda: cs.fit(clvlab.GammaGamma(**spend_kw), split),
    )
    n = transaction.n_customers_
    sample = (
        split
        if n <= _SPARK_HOLDOUT_CUSTOMERS
        else split.sample(fraction=_SPARK_HOLDOUT_CUSTOMERS / n, seed=0)
    )
    frame = sample.toPandas().set_index(args.customer_id)
    frame.attrs["time_unit"] = cs.summary_time_unit(split)
    metrics = clvlab.evaluate(transaction, frame, spend_model=spend)
    of = "" if len(frame) == n else f" (on a random sample of {len(frame):,} of the {n:,} customers)"
    print(f"\nholdout check: models fitted up to {calibration_end}, predicting the holdout period{of}:")
    print(metrics["value"].round(3).to_string())
    return metrics


def _parameter_table(*models: Any) -> pd.DataFrame:
    """The models' parameter summaries stacked, with a ``model`` column."""
    tables = [m.summary().assign(model=type(m).__name__).set_index("model", append=True) for m in models]
    stacked: pd.DataFrame = pd.concat(tables).swaplevel()
    return stacked


def _cmd_run_spark(args: argparse.Namespace) -> int:
    """``clvlab run --engine spark``: the main job with the summary, fit and scoring in Spark."""
    if args.interval_kind != "parameter":
        raise DataError(
            "--engine spark gives parameter bounds only (--interval-kind parameter): predictive CLV bounds "
            "are simulated batch by batch, so a customer's would depend on its partition; use the pandas "
            "engine for them"
        )
    _check_log_options(args, folders=True)
    _resolve_value_options(args, args.time_unit)
    _channel_costs(args.channel_cost)
    out = Path(args.out_dir)
    models_dir = _models_dir(args)
    _check_output_dir(out, "--out-dir")
    _check_output_dir(models_dir, "--models-dir")
    if args.top < 0:
        raise DataError(f"--top must be a non-negative number of rows, got {args.top}")
    _check_covariate_options(args)
    spark, started = _spark_session(args)
    try:
        with warnings.catch_warnings():
            # PySpark 4's notice that it is not tested with pandas 3 is not the user's concern here.
            warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
            return _spark_job(spark, args, out, models_dir)
    finally:
        if started:
            spark.stop()


def _spark_job(spark: Any, args: argparse.Namespace, out: Path, models_dir: Path) -> int:
    """The Spark job of :func:`_cmd_run_spark` in a running session."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as sf

    import clvlab
    from clvlab import spark as cs

    log, source = _spark_log(spark, args)
    master = spark.sparkContext.master
    print(f"clvlab {clvlab.__version__}: main job on {source} (Spark {spark.version}, {master})")
    log_kw = {**_log_kwargs(args), "time_unit": args.time_unit}
    summary = _step(
        "summarising in Spark",
        lambda: cs.rfm_summary(log, **log_kw, drop_after_end=args.observation_end is not None),
    )
    summary, kwargs = _spark_costs(spark, summary, args)
    customers = None
    if args.customers is not None:
        customers = _spark_read(spark, Path(args.customers), "customers", args)
        summary = _spark_join_customers(summary, customers, args)
    summary = summary.persist(StorageLevel.MEMORY_AND_DISK)  # read by the fits, the checks and the scoring
    split = None
    try:
        totals = summary.agg(sf.count(sf.lit(1)).alias("n"), sf.sum("frequency").alias("x")).first()
        print(
            f"  {totals['n']:,} customers, {int(totals['x']):,} repeat purchases, time unit "
            f"{args.time_unit!r}"
        )
        if customers is not None:
            # A bad formula fails here, before any fit (designs built on the first customers).
            _check_covariates(summary.limit(_SPARK_DESIGN_CHECK_ROWS).toPandas(), args)
            print(f"  customer attributes joined from {args.customers}")
        calibration_end = _calibration_end(args)
        if calibration_end is not None:
            split = _step(
                f"splitting at {calibration_end} (calibration / holdout) in Spark",
                lambda: cs.calibration_holdout_split(log, **log_kw, calibration_end=_calibration_day(args)),
            )
            if customers is not None:
                split = _spark_join_customers(split, customers, args)
            split = split.persist(StorageLevel.MEMORY_AND_DISK)  # read by two fits and the sample
        cls = getattr(clvlab, _MODELS[args.model_kind])
        kw, spend_kw = _covariate_kwargs(args)
        transaction = _step(f"fitting {cls.__name__} on distinct rows", lambda: cs.fit(cls(**kw), summary))
        spend = _step(
            "fitting GammaGamma on distinct rows", lambda: cs.fit(clvlab.GammaGamma(**spend_kw), summary)
        )
        _print_models(transaction, spend)
        print()
        table = cs.predict_customer_value(transaction, spend, summary, **_table_kwargs(args), **kwargs)
        target = out / "targeting.parquet"
        written = [
            _step(
                "valuing customers in Spark",
                lambda: _replace_folder(lambda tmp: table.write.parquet(str(tmp)), target),
            )
        ]
        holdout = None
        if split is not None and calibration_end is not None:
            holdout = _spark_holdout(split, args, calibration_end)
    finally:
        summary.unpersist()
        if split is not None:
            split.unpersist()
    scored = spark.read.parquet(str(target))
    print(
        f"\nCLV over {args.horizon:g} {args.time_unit} at {100 * args.discount_rate:g}% per "
        f"{args.discount_period:g} {args.time_unit}; top customers:"
    )
    top = scored.filter(sf.col("clv_rank") <= args.top).toPandas().set_index(args.customer_id)
    print(top.sort_values("clv_rank").round(3).to_string())
    tiers, actions = _print_spark_segments(scored, args)
    written.append(_write_table(tiers, out / "segments.csv"))
    written.append(_write_table(actions, out / "action_segments.csv"))
    written.append(_write_table(_parameter_table(transaction, spend), out / "parameters.csv"))
    if holdout is not None:
        written.append(_write_table(holdout, out / "holdout_metrics.csv"))
    written.append(transaction.save(models_dir / _MODEL_FILES[args.model_kind]))
    written.append(spend.save(models_dir / "gamma_gamma.json"))
    print("\nwrote (no diagnostic plots with --engine spark):")
    for path in written:
        print(f"  {path}")
    return 0


def _print_spark_segments(scored: Any, args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Print the value-tier and action-segment summaries of a Spark table (aggregated in Spark)."""
    import clvlab
    from clvlab import spark as cs

    tiers = cs.segment_summary(scored)
    actions = cs.segment_summary(scored, by="action_segment")
    print("\nvalue tiers (platinum: top 5% by CLV, gold: next 15%, silver: next 30%, bronze: bottom half):")
    print(tiers.round(3).to_string())
    print(
        f"\naction segments (high value: top {100 * args.high_value_share:g}% by CLV; active: P(alive) >= "
        f"{args.active_threshold:g}):"
    )
    print(actions.round(3).to_string())
    for name, _, action in clvlab.ACTION_SEGMENTS:
        print(f"  {name}: {action}")
    if "acquisition_cost_total" in tiers.columns:
        cac = float(tiers["acquisition_cost_total"].sum())
        ratio = float(tiers["clv_total"].sum()) / cac if cac > 0 else float("inf")
        paid = float(
            (tiers["paid_back_share"].fillna(0.0) * tiers["customers"]).sum() / tiers["customers"].sum()
        )
        print(
            f"\nCLV:CAC {ratio:.2f} overall; {100 * paid:.1f}% of customers pay back their acquisition cost "
            "within the horizon"
        )
    return tiers, actions


#: The published CDNOW split (Fader, Hardie & Lee 2005): calibration weeks 1-39, holdout weeks 40-78.
_CDNOW_CALIBRATION_END = "1997-09-30"


def _calibration_end(args: argparse.Namespace) -> str | None:
    """The holdout split requested: --calibration-end, else the published split for the bundled data."""
    if args.calibration_end is not None:
        return None if args.calibration_end.lower() == "none" else str(args.calibration_end)
    return _CDNOW_CALIBRATION_END if args.transactions is None else None


def _calibration_day(args: argparse.Namespace) -> Any:
    """The calibration end to pass on: the user's string (read with --date-format), or the CDNOW day."""
    if args.calibration_end is None and args.transactions is None:
        return pd.Timestamp(_CDNOW_CALIBRATION_END)  # not a string: --date-format does not apply to it
    return _calibration_end(args)


def _holdout_split(log: pd.DataFrame, args: argparse.Namespace, calibration_end: str) -> pd.DataFrame:
    """The calibration/holdout summary (made before any fit, so a bad --calibration-end fails fast)."""
    import clvlab

    return _step(
        f"splitting at {calibration_end} (calibration / holdout)",
        lambda: clvlab.calibration_holdout_split(
            log, **_log_kwargs(args), calibration_end=_calibration_day(args), time_unit=args.time_unit
        ),
    )


def _holdout_check(split: pd.DataFrame, args: argparse.Namespace, calibration_end: str) -> tuple[Any, Any]:
    """Fit the models on the calibration period and print how they predict the holdout period."""
    import clvlab

    holdout = [c for c in ("frequency_holdout", "monetary_value_holdout", "duration_holdout") if c in split]
    cal = split.drop(columns=holdout)  # the calibration summary and the customer attributes
    cal.attrs = dict(split.attrs)
    models = _fit_models(cal, args)
    metrics = clvlab.evaluate(models[0], split, spend_model=models[1])
    print(f"\nholdout check: models fitted up to {calibration_end}, predicting the holdout period:")
    print(metrics["value"].round(3).to_string())
    return models


def _draw_plots(draw: Callable[[], list[Path]], *, covariates: bool) -> list[Path]:
    """Draw the diagnostic plots; with covariate models, a plot that fails is a warning, not an error.

    Not every plot takes per-customer parameters yet; the table and the models are written regardless.
    """
    global _open_step
    if not covariates:
        return _step("drawing diagnostic plots", draw)
    try:
        return _step("drawing diagnostic plots", draw)
    except (DataError, ValueError, TypeError, NotImplementedError) as exc:
        if _open_step:
            print(flush=True)
            _open_step = False
        print(
            "clvlab: warning: diagnostic plots not drawn: the plots could not handle the covariate models "
            f"({type(exc).__name__}: {_one_line(exc)}); the table and models are written as usual",
            file=sys.stderr,
        )
        return []


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

    out = Path(args.out_dir)
    paths = write_report_plots(transaction, spend, summary, out, table=table)
    if split is not None and holdout_models is not None:
        paths += write_report_plots(
            *holdout_models,
            split,
            out / "holdout",
            calibration_holdout=split,
            transactions=log,
            calibration_end=_calibration_day(args),
            observation_end=args.observation_end,
            customer_id=args.customer_id,
            datetime=args.datetime,
            date_format=args.date_format,
        )
    return paths


#: Fader & Hardie's (2007) published cohorts (active customers after 0..7 years), the contract job's
#: data when no log is given (tests/references.md [SBG-FH2007-COHORTS]).
_FH2007_COHORTS = {
    "regular": [1000, 631, 468, 382, 326, 289, 262, 241],
    "high end": [1000, 869, 743, 653, 593, 551, 517, 491],
}
_CONTRACT_MODELS = {"sbg": "ShiftedBetaGeometric", "bdw": "BetaDiscreteWeibull"}


def _contract_summary(args: argparse.Namespace) -> tuple[pd.DataFrame, str]:
    """The subscribers' summary (duration, churned, cohort) of ``--subscriptions``, or FH2007's cohorts."""
    import clvlab

    if args.subscriptions is None:
        parts: list[pd.DataFrame] = []
        for name, active in _FH2007_COHORTS.items():
            part = clvlab.survivors_to_summary(active, period="Y", expand=True)
            parts.append(part.assign(cohort=name).set_axis(part.index + len(parts) * 1000))
        summary = pd.concat(parts)
        summary.index.name = "customer_id"
        summary.attrs["time_unit"] = "Y"
        return summary, "Fader & Hardie's (2007) regular and high-end cohorts (2,000 customers, 7 years)"
    log = _read_table(Path(args.subscriptions), "subscriptions", args)
    kw: dict[str, Any] = {
        "customer_id": args.customer_id,
        "start": args.start,
        "end": args.end,
        "period": args.period,
        "observation_end": args.observation_end,
        "multiple": args.multiple,
    }
    if args.date_format is not None:
        kw["date_format"] = args.date_format
    summary = clvlab.subscription_summary(log, **kw)
    summary = summary.assign(cohort=summary["cohort"].astype(str))
    return summary, str(args.subscriptions)


def _cohort_survivors(summary: pd.DataFrame, cohort: Any) -> list[float]:
    """Active customers of one cohort after 0, 1, ... periods, up to the tenure all of them were observed."""
    part = summary[summary["cohort"] == cohort]
    duration = part["duration"].to_numpy()
    churned = part["churned"].to_numpy(dtype=bool)
    # Observed through tenure n: every customer churned by then or still active at n or later.
    open_ = duration[~churned]
    n = int(open_.min()) if len(open_) else int(duration.max())
    return [float(np.sum((duration > t) | (~churned & (duration >= t)))) for t in range(n + 1)]


def _cmd_contract(args: argparse.Namespace) -> int:
    """``clvlab contract``: subscribers' retention, residual value, targeting table and saved model."""
    import clvlab

    if not (args.margin_per_period > 0 and math.isfinite(args.margin_per_period)):
        raise DataError(f"--margin-per-period must be a positive amount, got {args.margin_per_period:g}")
    if args.discount_rate is not None:
        rate = _number(float(args.discount_rate), "--discount-rate")
        if not 0 <= rate <= 1:
            raise DataError(f"--discount-rate is a fraction per period in [0, 1], e.g. 0.01; got {rate:g}")
    if args.interval is not None and not 0 < _number(float(args.interval), "--interval") < 1:
        raise DataError(f"--interval must lie strictly between 0 and 1, e.g. 0.9; got {args.interval:g}")
    cost = None
    if args.acquisition_cost is not None:
        cost = _number(float(args.acquisition_cost), "--acquisition-cost")
        if not (0 <= cost < math.inf):
            raise DataError(f"--acquisition-cost must be finite and non-negative, got {cost:g}")
    out = Path(args.out_dir)
    models_dir = Path(args.models_dir) if args.models_dir is not None else out / "models"
    _check_output_dir(out, "--out-dir")
    _check_output_dir(models_dir, "--models-dir")
    summary, source = _step("summarising subscriptions", lambda: _contract_summary(args))
    unit = summary.attrs["time_unit"]
    if args.discount_rate is None:  # 10% a year, compounded per period
        rate = 1.10 ** (1.0 / {**_YEAR, "Q": 4.0}[unit]) - 1.0
    print(f"clvlab {clvlab.__version__}: subscriptions job on {source}")
    churned = int(summary["churned"].sum())
    print(f"  {len(summary):,} subscribers, {churned:,} churned, period {unit!r}")
    cls = getattr(clvlab, _CONTRACT_MODELS[args.model_kind])
    kw = (
        {}
        if args.churn_covariates is None
        else {"dropout_covariates": _covariate_spec(args.churn_covariates, "--churn-covariates")}
    )
    model = _step(f"fitting {cls.__name__}", lambda: cls(**kw).fit(summary))
    print(model.summary().round(4).to_string())
    table = _step(
        "valuing subscribers",
        lambda: clvlab.predict_subscriber_value(
            model,
            summary,
            margin_per_period=float(args.margin_per_period),
            discount_rate=rate,
            first_payment=args.first_payment,
            high_value_share=float(args.high_value_share),
            acquisition_cost=cost,
            interval=args.interval,
        ),
    )
    if np.isinf(table["subscriber_value"].to_numpy()).any():
        raise DataError(
            f"the expected residual lifetime is unbounded without discounting ({cls.__name__}'s churn "
            "probabilities fall so fast with tenure that the expected lifetime is infinite): pass a "
            "positive --discount-rate"
        )
    written = [_write_table(table, out / "subscribers.csv"), _write_table(table, out / "subscribers.parquet")]
    print(
        f"\nresidual value: margin {args.margin_per_period:g} per {unit!r} period x discounted expected "
        f"residual lifetime at {100 * rate:g}% per period (first payment {args.first_payment}); "
        "top subscribers:"
    )
    print(table.sort_values("value_rank").head(args.top).round(3).to_string())
    segments = clvlab.segment_summary(table)
    print("\nsubscriber segments:")
    print(segments.round(3).to_string())
    for name, _, action in clvlab.SUBSCRIBER_SEGMENTS:
        print(f"  {name}: {action}")
    written.append(_write_table(segments, out / "subscriber_segments.csv"))
    if not args.no_plots and not model.has_covariates:
        written += _step("drawing retention plots", lambda: _contract_plots(model, summary, out))
    models_dir.mkdir(parents=True, exist_ok=True)
    written.append(Path(model.save(models_dir / f"{args.model_kind}.json")))
    print("\nwrote:")
    for path in written:
        print(f"  {path}")
    return 0


def _contract_plots(model: Any, summary: pd.DataFrame, out: Path) -> list[Path]:
    """Observed vs fitted survival and retention of the earliest cohort (the longest observed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from clvlab.plotting import plot_retention

    cohort = sorted(summary["cohort"].unique())[0]
    active = _cohort_survivors(summary, cohort)
    paths = []
    for kind in ("survival", "retention"):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        plot_retention(model, active, kind=kind, horizon=len(active) + 4, ax=ax)
        ax.set_title(f"{ax.get_title()}: cohort {cohort}")
        path = out / f"{kind}.png"
        write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))  # noqa: B023
        plt.close(fig)
        paths.append(path)
    return paths


def _write_summary(summary: pd.DataFrame, path: Path) -> Path:
    """Write a summary with its time unit: a ``time_unit`` column (CSV and Parquet) and, in Parquet, attrs."""
    unit = summary.attrs.get("time_unit")
    labelled = summary.assign(time_unit=unit)  # a new frame; attrs (the unit) go into Parquet's metadata
    labelled.attrs = dict(summary.attrs)
    return _write_table(labelled, path)


def _cmd_fit(args: argparse.Namespace) -> int:
    _check_log_options(args)
    models_dir = _models_dir(args)
    _check_output_dir(models_dir, "--models-dir")
    if args.summary_output is not None:
        _check_output_file(Path(args.summary_output), "--summary-output")
    _check_covariate_options(args)
    log, source = _load_log(args)
    customers = None if args.customers is None else _read_customers(args)
    print(f"fitting on {source}")
    summary = _step("summarising", lambda: _summarise(log, args, args.time_unit))
    if customers is not None:
        summary = _join_customers(summary, customers, args)
        _check_covariates(summary, args)
        print(f"  customer attributes joined from {args.customers}")
    transaction, spend = _fit_models(summary, args)
    _print_models(transaction, spend)
    paths = [
        transaction.save(models_dir / _MODEL_FILES[args.model_kind]),
        spend.save(models_dir / "gamma_gamma.json"),
    ]
    if args.summary_output is not None:
        paths.append(_write_summary(summary, Path(args.summary_output)))
    print("\nwrote:\n" + "\n".join(f"  {p}" for p in paths))
    return 0


def _read_summary(path: Path, args: argparse.Namespace) -> tuple[pd.DataFrame, str]:
    """Read a summary file and its time unit: recorded in the file, else stated with --time-unit.

    The unit is read from the Parquet metadata (``attrs["time_unit"]``) or from a ``time_unit`` column
    (which clvlab writes into CSV and Parquet); a unit stated with ``--time-unit`` must agree with it.
    """
    summary = _read_table(path, "summary", args)
    try:
        recorded = summary_time_unit(summary)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
    if "time_unit" in summary.columns:
        summary = summary.drop(columns="time_unit")
    if args.customer_id in summary.columns:
        summary = summary.set_index(args.customer_id)
    stated = args.time_unit
    if recorded is None and stated is None:
        raise DataError(
            f"{path} records no time unit (no attrs['time_unit'] in its Parquet metadata, no time_unit "
            "column): state the unit of its recency and T with --time-unit"
        )
    if recorded is not None and stated is not None and str(recorded) != stated:
        raise DataError(f"--time-unit {stated!r} but {path} records time unit {recorded!r}")
    unit = str(recorded) if recorded is not None else str(stated)
    summary.attrs = {**summary.attrs, "time_unit": unit}  # summary is this function's own frame
    return summary, unit


def _cmd_predict(args: argparse.Namespace) -> int:
    import clvlab

    # Options first, then the model files, then the data: nothing is read before the options are checked.
    if args.transactions is None and args.summary is None:
        raise DataError(
            "predict needs the customers to score: --transactions FILE (a transaction log) or --summary "
            "FILE (a customer summary); the bundled CDNOW data are the default of 'clvlab run' only"
        )
    if args.transactions is not None and args.summary is not None:
        raise DataError("give either --transactions or --summary, not both")
    for option, name in (("--model-file", "model_file"), ("--spend-model-file", "spend_model_file")):
        if getattr(args, name) is None:
            raise DataError(f"predict needs {option} FILE (a model saved by 'clvlab fit' or 'clvlab run')")
    _check_log_options(args)
    output = Path(args.output)
    _check_output_file(output, "--output")
    if args.summary is not None:
        _check_input_file(Path(args.summary), "summary")
    if args.customers is not None:
        _check_input_file(Path(args.customers), "customers")
    transaction = clvlab.load(args.model_file)
    spend = clvlab.load(args.spend_model_file)
    if not isinstance(transaction, TransactionModel):
        raise DataError(
            f"--model-file {args.model_file} holds a {type(transaction).__name__}, not a transaction model"
        )
    if not isinstance(spend, GammaGamma):
        raise DataError(
            f"--spend-model-file {args.spend_model_file} holds a {type(spend).__name__}, "
            "not a GammaGamma model"
        )
    fitted = transaction.time_unit_
    if (
        args.time_unit is not None
        and fitted is not None
        and args.time_unit != fitted
        and args.summary is None
    ):
        raise DataError(
            f"--time-unit {args.time_unit!r} but the model {args.model_file} was fitted in time unit "
            f"{fitted!r}"
        )
    _resolve_value_options(args, fitted if fitted is not None else args.time_unit)
    needed = _model_covariates(transaction, spend)
    files = [
        f for f, m in ((args.model_file, transaction), (args.spend_model_file, spend)) if _covariate_note(m)
    ]
    if needed and args.customers is None and args.summary is None:
        raise DataError(_needs_customers(files, (transaction, spend), needed, args))
    customers = None if args.customers is None or not needed else _read_customers(args)
    if args.summary is not None:
        summary, unit = _read_summary(Path(args.summary), args)
        if fitted is not None and unit != fitted:
            raise DataError(
                f"the summary {args.summary} is in time unit {unit!r} but the model {args.model_file} was "
                f"fitted in {fitted!r}: rebuild the summary in {fitted!r} (or fit the model in {unit!r})"
            )
    else:
        unit = fitted if fitted is not None else args.time_unit
        if unit is None:
            raise DataError(f"the model {args.model_file} records no time unit: state it with --time-unit")
        log, _ = _load_log(args)
        summary = _summarise(log, args, unit)
    if customers is not None:
        summary = _join_customers(summary, customers, args)
    elif args.customers is not None:
        print(f"note: the models have no covariates; --customers {args.customers} is not read")
    missing = [v for v in needed if v not in summary.columns]
    if missing and args.customers is None:
        raise DataError(_needs_customers(files, (transaction, spend), missing, args))
    if missing:
        raise DataError(
            f"--customers {args.customers} lacks the covariate column(s) {missing} that "
            f"{' and '.join(files)} were fitted with"
        )
    kwargs = {**_table_kwargs(args), **_segment_kwargs(args, summary.index)}
    table = _step(
        f"scoring {len(summary):,} customers",
        lambda: clvlab.predict_customer_value(transaction, spend, summary, **kwargs),
    )
    path = _write_table(table, output)
    print(
        f"\nCLV over {args.horizon:g} {unit} at {100 * args.discount_rate:g}% per "
        f"{args.discount_period:g} {unit}"
    )
    _print_segments(table, args, unit)
    print(f"\nwrote {path} ({len(table):,} rows)")
    return 0


def _needs_customers(
    files: list[str], models: Sequence[Any], columns: list[str], args: argparse.Namespace
) -> str:
    """The error of a covariate model scored without the customer attributes."""
    formulas = "".join(_covariate_note(m) for m in models).removeprefix("; ")
    where = f"--summary {args.summary} has no column(s)" if args.summary is not None else "it needs column(s)"
    return (
        f"{' and '.join(files)} {'was' if len(files) == 1 else 'were'} fitted with covariates ({formulas}): "
        f"pass --customers FILE, the customer attributes (CSV or Parquet with the {args.customer_id!r} "
        f"column); {where} {columns}"
    )


def _cmd_summary(args: argparse.Namespace) -> int:
    import clvlab

    for path in args.models:
        model = clvlab.load(path)
        print(f"{path}:")
        _print_models(model)
    return 0


def _add_log_options(p: argparse.ArgumentParser, *, transactions_help: str) -> argparse._ArgumentGroup:
    g = p.add_argument_group("transaction log")
    g.add_argument("--transactions", metavar="FILE", help=transactions_help)
    g.add_argument("--customer-id", default="customer_id", help="customer id column (default: %(default)s)")
    g.add_argument("--datetime", default="date", help="date column (default: %(default)s)")
    g.add_argument("--amount", default="amount", help="amount column (default: %(default)s)")
    g.add_argument(
        "--date-format",
        metavar="FORMAT",
        help="strftime format of string dates, e.g. %%d/%%m/%%Y, also for the date options "
        "(--observation-end, --calibration-end); without it, dates that read both day-first and "
        "month-first are refused",
    )
    g.add_argument(
        "--observation-end", help="last day of observation; later rows are ignored (default: last date)"
    )
    g.add_argument(
        "--sep", default=",", help="column separator of CSV input files, e.g. ';' (default: %(default)s)"
    )
    g.add_argument(
        "--decimal",
        default=".",
        help="decimal mark of numbers in CSV input files; --decimal , for 1,5 (default: %(default)s)",
    )
    return g


def _add_time_unit(g: argparse._ArgumentGroup) -> None:
    g.add_argument(
        "--time-unit",
        default="W",
        choices=_TIME_UNITS,
        help="time unit of the summary and the models: days, weeks, months, years (default: W)",
    )


def _add_model_kind(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model-kind",
        choices=sorted(_MODELS),
        default="bgnbd",
        help="kind of transaction model (default: %(default)s)",
    )
    p.add_argument(
        "--model", dest="model_kind", choices=sorted(_MODELS), action=_Deprecated, new="--model-kind"
    )


def _add_customer_options(p: argparse.ArgumentParser, *, covariates: bool) -> None:
    g = p.add_argument_group("customer attributes (covariates)")
    if not covariates:
        g.add_argument(
            "--customers",
            metavar="FILE",
            help="CSV or Parquet file of customer attributes (one row per customer, the --customer-id "
            "column); needed when the models were fitted with covariates, unless --summary holds them",
        )
        return
    g.add_argument(
        "--customers",
        metavar="FILE",
        help="CSV or Parquet file of customer attributes, one row per customer: the --customer-id column "
        "and the covariate columns, read like --transactions (--sep, --decimal); every customer of the log "
        "needs a row",
    )
    formula = (
        "a formula such as '~ channel + log(first_spend)' (text columns, and C(code) for numeric codes, "
        "are categorical: compared with their first level), or column names separated by commas, e.g. "
        "channel,region"
    )
    g.add_argument(
        "--purchase-covariates",
        metavar="FORMULA|COLUMNS",
        help=f"attributes of --customers that shift the purchase rate: {formula}",
    )
    g.add_argument(
        "--dropout-covariates",
        metavar="FORMULA|COLUMNS",
        help="attributes that shift the drop-out process, as --purchase-covariates",
    )
    g.add_argument(
        "--spend-covariates",
        metavar="FORMULA|COLUMNS",
        help="attributes that shift the mean spend (Gamma-Gamma), as --purchase-covariates",
    )


def _add_value_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("value")
    g.add_argument(
        "--horizon",
        type=float,
        help="horizon in time units; 'inf' for residual value (default: one year: 365 D, 52 W, 12 M, 1 Y)",
    )
    g.add_argument(
        "--discount-rate",
        type=float,
        default=0.10,
        help="rate per discount period, as a fraction: 0.10 for 10%% (default: 0.10)",
    )
    g.add_argument(
        "--discount-period",
        type=float,
        help="discount period in time units (default: one year: 365 D, 52 W, 12 M, 1 Y)",
    )
    g.add_argument("--interval", type=float, help="add CLV bounds at this level, e.g. 0.9")
    g.add_argument(
        "--interval-kind",
        choices=["parameter", "predictive"],
        default="parameter",
        help="with --interval: 'parameter' bounds the expected CLV (uncertainty about the model's "
        "parameters only); 'predictive' bounds each customer's own future spend (default: parameter)",
    )
    g.add_argument(
        "--margin",
        type=float,
        help="gross margin as a fraction of revenue, e.g. 0.3: CLV becomes profit (column clv_profit)",
    )
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
    parser = _Parser(
        prog="clvlab",
        description="Probabilistic customer lifetime value: BG/NBD, Pareto/NBD, MBG/NBD and Gamma-Gamma.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,fit,predict,summary,contract}")
    raw = argparse.RawDescriptionHelpFormatter

    run = sub.add_parser(
        "run",
        help="the main job: summary, fit, value, targeting table and saved models",
        formatter_class=raw,
        epilog="examples:\n  clvlab run                      # the bundled CDNOW data, into ./clvlab-output\n"
        "  clvlab run --acquisition-cost 25                # CLV:CAC and payback at a CAC of 25\n"
        "  clvlab run --acquisition-cost channels.csv --channel-cost search=40 --channel-cost referral=10\n"
        "  clvlab run --transactions log.csv --sep ';' --decimal , --date-format %d.%m.%Y \\\n"
        "      --customer-id cust --datetime day --amount value --time-unit D --out-dir results\n"
        "      # CLV over 365 days at 10% a year: the horizon and discount period follow --time-unit\n"
        "  clvlab run --transactions log.csv --customers customers.csv \\\n"
        "      --purchase-covariates '~ channel + region' --dropout-covariates channel \\\n"
        "      --spend-covariates '~ log(first_spend)'\n"
        "      # covariates: customers.csv has customer_id, channel, region and first_spend columns;\n"
        "      # the coefficients are printed with the models' summaries",
    )
    g = _add_log_options(
        run, transactions_help="CSV or Parquet transaction log (default: the bundled CDNOW log)"
    )
    _add_time_unit(g)
    _add_model_kind(run)
    _add_customer_options(run, covariates=True)
    _add_value_options(run)
    run.add_argument(
        "--out-dir", default=_OUT_DIR, help="folder for the table, segments and plots (default: %(default)s)"
    )
    run.add_argument("--out", dest="out_dir", action=_Deprecated, new="--out-dir")
    run.add_argument(
        "--models-dir",
        help="folder for the fitted model files (default: OUT_DIR/models, i.e. clvlab-output/models)",
    )
    run.add_argument("--top", type=int, default=10, help="rows of the table to print (default: 10)")
    run.add_argument(
        "--calibration-end",
        help="also fit on the log up to this date and print how well it predicts the rest (holdout "
        f"check, with plots in OUT_DIR/holdout); default {_CDNOW_CALIBRATION_END} for the bundled CDNOW "
        "data, none otherwise; 'none' turns it off",
    )
    run.add_argument("--no-plots", action="store_true", help="do not write the diagnostic PNGs")
    g = run.add_argument_group("engine")
    g.add_argument(
        "--engine",
        choices=["pandas", "spark"],
        default="pandas",
        help="pandas (in memory, default) or spark: the summary, fits (on distinct rows) and scoring in "
        'Apache Spark (pip install "clvlab[spark]", Java 17), the table written as a Parquet folder '
        "OUT_DIR/targeting.parquet; no plots, no covariates",
    )
    g.add_argument(
        "--spark-master",
        metavar="URL",
        help="Spark master for --engine spark (default: local[*], all cores of this machine); e.g. "
        "spark://host:7077 or yarn, with OUT_DIR on a file system the executors share",
    )
    run.set_defaults(func=_cmd_run)

    fit = sub.add_parser(
        "fit",
        help="fit a transaction model and Gamma-Gamma and save them",
        formatter_class=raw,
        epilog="example:\n"
        "  clvlab fit --transactions log.csv --model-kind pareto-nbd --models-dir models \\\n"
        "      --summary-output summary.csv   # the summary, with its time unit, for predict --summary\n"
        "  clvlab fit --transactions log.csv --customers customers.csv --purchase-covariates channel,region\n"
        "      # a BG/NBD whose purchase rate depends on channel and region (columns of customers.csv);\n"
        "      # the model file keeps the encoding, so predict needs --customers too",
    )
    g = _add_log_options(
        fit, transactions_help="CSV or Parquet transaction log (default: the bundled CDNOW log)"
    )
    _add_time_unit(g)
    _add_model_kind(fit)
    _add_customer_options(fit, covariates=True)
    fit.add_argument("--models-dir", help=f"folder for the model files (default: {_OUT_DIR}/models)")
    fit.add_argument("--out", dest="models_dir", action=_Deprecated, new="--models-dir")
    fit.add_argument(
        "--summary-output",
        metavar="FILE",
        help="also write the customer summary (.csv or .parquet) with a time_unit column",
    )
    fit.set_defaults(func=_cmd_fit)

    predict = sub.add_parser(
        "predict",
        help="score customers with saved models and write the targeting table",
        formatter_class=raw,
        epilog="examples:\n  clvlab predict --model-file models/bgnbd.json \\\n"
        "      --spend-model-file models/gamma_gamma.json \\\n"
        "      --transactions new_log.csv --output scores.parquet\n"
        "  clvlab predict --model-file models/bgnbd.json --spend-model-file models/gamma_gamma.json \\\n"
        "      --summary summary.csv --time-unit W --output scores.csv\n"
        "      # --time-unit states the unit of a summary that does not record it\n"
        "  clvlab predict --model-file models/bgnbd.json --spend-model-file models/gamma_gamma.json \\\n"
        "      --transactions new_log.csv --customers customers.csv --output scores.csv\n"
        "      # models fitted with covariates score with the customers' attributes",
    )
    predict.add_argument("--model-file", metavar="FILE", help="saved transaction model (JSON); required")
    predict.add_argument("--model", dest="model_file", action=_Deprecated, new="--model-file")
    predict.add_argument(
        "--spend-model-file", metavar="FILE", help="saved Gamma-Gamma model (JSON); required"
    )
    predict.add_argument(
        "--spend-model", dest="spend_model_file", action=_Deprecated, new="--spend-model-file"
    )
    g = _add_log_options(
        predict, transactions_help="CSV or Parquet transaction log of the customers to score"
    )
    g.add_argument(
        "--summary",
        metavar="FILE",
        help="score a summary file (frequency, recency, T, monetary_value) instead of a log; its time "
        "unit is read from the file (time_unit column or Parquet metadata) or stated with --time-unit",
    )
    g.add_argument(
        "--time-unit",
        choices=_TIME_UNITS,
        help="time unit of --summary when the file does not record it (or of a model that records "
        "none); must be the model's",
    )
    _add_customer_options(predict, covariates=False)
    _add_value_options(predict)
    predict.add_argument("--output", required=True, metavar="FILE", help="output file, .csv or .parquet")
    predict.set_defaults(func=_cmd_predict)

    summary = sub.add_parser(
        "summary",
        help="print the parameter summary of saved models",
        formatter_class=raw,
        epilog="example:\n  clvlab summary models/bgnbd.json models/gamma_gamma.json",
    )
    summary.add_argument("models", nargs="+", help="saved model files")
    summary.set_defaults(func=_cmd_summary)
    _add_contract_parser(sub, raw)
    return parser


def _add_contract_parser(sub: Any, raw: type[argparse.HelpFormatter]) -> None:
    contract = sub.add_parser(
        "contract",
        help="subscriptions: retention models (sBG, BdW), residual value and a subscriber table",
        formatter_class=raw,
        epilog="examples:\n"
        "  clvlab contract              # Fader & Hardie's (2007) two cohorts, into clvlab-output/contract\n"
        "  clvlab contract --subscriptions subs.csv --start started --end cancelled --period M \\\n"
        "      --margin-per-period 12 --discount-rate 0.01 --acquisition-cost 60 --interval 0.9\n"
        "      # one row per subscription (end empty while active); value = margin x discounted\n"
        "      # expected residual lifetime; churn risk over the next renewal",
    )
    g = contract.add_argument_group("subscription log")
    g.add_argument(
        "--subscriptions",
        help="CSV or Parquet log, one row per subscription (default: Fader & Hardie's 2007 cohorts)",
    )
    g.add_argument("--customer-id", default="customer_id", help="customer id column (default: %(default)s)")
    g.add_argument("--start", default="start", help="start date column (default: %(default)s)")
    g.add_argument("--end", default="end", help="end date column, empty while active (default: %(default)s)")
    g.add_argument("--period", default="M", help="contract period: D, W, M, Q or Y (default: %(default)s)")
    g.add_argument("--observation-end", help="last day observed (default: the log's latest date)")
    g.add_argument(
        "--multiple",
        choices=["refuse", "first"],
        default="refuse",
        help="customers with several subscriptions: refuse, or keep the first (default: %(default)s)",
    )
    g.add_argument("--date-format", help="strftime format of the dates, e.g. %%d/%%m/%%Y")
    g.add_argument("--sep", default=",", help="CSV field separator (default: ,)")
    g.add_argument("--decimal", default=".", help="CSV decimal mark (default: .)")
    g = contract.add_argument_group("model and value")
    g.add_argument(
        "--model-kind",
        choices=sorted(_CONTRACT_MODELS),
        default="sbg",
        help="sbg: shifted beta-geometric (Fader & Hardie 2007); bdw: beta-discrete-Weibull (default: sbg)",
    )
    g.add_argument(
        "--churn-covariates",
        help="covariates of the churn process: a formula ('~ plan + region') or comma-separated columns "
        "of the log",
    )
    g.add_argument(
        "--margin-per-period", type=float, default=1.0, help="margin per subscriber and period (default: 1)"
    )
    g.add_argument(
        "--discount-rate",
        type=float,
        help="discount rate per period, a fraction (default: 10%% a year compounded per period, e.g. "
        "0.008 a month)",
    )
    g.add_argument(
        "--first-payment",
        choices=["now", "next"],
        default="now",
        help="'now': an active subscriber's next payment is due now (undiscounted); 'next': one period "
        "from now (default: now)",
    )
    g.add_argument("--interval", type=float, help="add value bounds at this level, e.g. 0.9")
    g.add_argument("--acquisition-cost", help="cost of acquiring a subscriber: adds value_to_cac")
    g.add_argument(
        "--high-value-share",
        type=float,
        default=0.2,
        help="share of subscribers, by value, that count as high value (default: 0.2)",
    )
    contract.add_argument(
        "--out-dir",
        default=str(Path(_OUT_DIR) / "contract"),
        help="folder for the table, segments and plots (default: %(default)s)",
    )
    contract.add_argument("--models-dir", help="folder for the model file (default: OUT_DIR/models)")
    contract.add_argument("--top", type=int, default=10, help="rows of the table to print (default: 10)")
    contract.add_argument("--no-plots", action="store_true", help="skip the retention plots")
    contract.set_defaults(func=_cmd_contract)


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line; an OSError without its errno prefix."""
    if isinstance(exc, OSError) and exc.strerror:
        reason = {
            FileNotFoundError: "no such file",
            IsADirectoryError: "is a directory, not a file",
            NotADirectoryError: "a part of the path is a file, not a folder",
            PermissionError: "permission denied",
        }.get(type(exc), exc.strerror.lower())
        where = exc.filename if exc.filename is not None else ""
        message = f"{reason}: {where}" if where != "" else reason
    else:
        message = str(exc)
    return " ".join(message.split())


_python_formatwarning = warnings.formatwarning


def _format_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, line: str | None = None
) -> str:
    """The CLI's own warnings (unidentified fits, degenerate segments) as one line; others as Python does."""
    global _open_step
    if not issubclass(category, ClvlabWarning):
        return _python_formatwarning(message, category, filename, lineno, line)
    text = message if isinstance(message, BaseException) else Warning(message)
    lead = "\n" if _open_step else ""
    _open_step = False
    return f"{lead}clvlab: warning: {_one_line(text)}\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``clvlab`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on an error the user can fix (one line on stderr), 130 when interrupted.
    """
    global _open_step
    args = _parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.formatwarning = _format_warning
            return int(args.func(args))
    except (DataError, ModelFileError, NotFittedError, ValueError, OSError) as exc:
        if _open_step:
            print(flush=True)
            _open_step = False
        print(f"clvlab: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if _open_step:
            print(flush=True)
            _open_step = False
        print("clvlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
