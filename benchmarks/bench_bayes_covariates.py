"""Bayesian covariate BG/NBD: clvlab.bayes.BetaGeo vs pymc-marketing's BetaGeoModel, side by side.

Run ``python -m benchmarks.bench_bayes_covariates [--customers 0 100000] [--samplers nutpie pymc]``
(``--clvlab-draws`` / ``--clvlab-tune`` give clvlab other settings than the peer's; the target compares
times at equal or higher minimum ESS, which the report checks).

The same model on both sides: BG/NBD with purchase covariates, ``alpha_i = alpha exp(-g' z_i)`` (both
packages' parametrisation; pymc-marketing gives ``a`` and ``b`` separate drop-out coefficients, so the
comparison has purchase covariates only, where the two models are identical), and the same priors
(half-normal baselines, Normal(0, 1) coefficients; pymc-marketing's ``a``/``b`` configuration rather
than its default ``phi``/``kappa`` pooling). Both sample NUTS with the same chains, tuning steps, draws
and target acceptance; clvlab on nutpie, pymc-marketing on nutpie and on PyMC's own sampler (like with
like, then its default). Reported: wall time of each fit, the minimum bulk ESS over the parameters, ESS
per second, the ratios, and whether the posterior means agree within Monte Carlo error
(|difference| < 4 combined MC standard errors).

Data: ``0`` is the CDNOW calibration summary with the acquisition month (January, February, March 1997)
as two dummies; otherwise simulated daily customers with two binary covariates and known coefficients.
Needs pymc-marketing (a benchmark peer, not a clvlab dependency).
"""

from __future__ import annotations

import argparse
import inspect
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._common import machine, record

COVARIATES = ["z1", "z2"]
SIGMA = {"r": 5.0, "alpha": 100.0, "a": 10.0, "b": 10.0}  # half-normal scales of the baselines
TRUE_COEFS = np.array([0.4, -0.3])
PEER_NAMES = {"r": "r", "alpha": "alpha_scale", "a": "a", "b": "b"}


def data(n: int) -> pd.DataFrame:
    """CDNOW with cohort dummies (``n == 0``) or ``n`` simulated daily customers with two dummies."""
    import clvlab

    if n == 0:
        log = clvlab.datasets.load_cdnow_transactions()
        summary = clvlab.rfm_summary(log, observation_end="1997-09-30", time_unit="W", drop_after_end=True)
        month = log.groupby("customer_id")["date"].min().dt.month.reindex(summary.index)
        out = summary.assign(z1=(month == 2).astype(float), z2=(month == 3).astype(float))
        out.attrs = dict(summary.attrs)
        return out
    from benchmarks.bench_models import BGNBD_DAYS

    rng = np.random.default_rng(2)
    z = rng.integers(0, 2, size=(n, 2)).astype(float)
    alpha = BGNBD_DAYS["alpha"] * np.exp(-(z @ TRUE_COEFS))
    T = rng.integers(30, 731, n).astype(float)
    r, a, b = (np.full(n, BGNBD_DAYS[k]) for k in ("r", "a", "b"))
    x, t_x = clvlab.BetaGeo.formulas.simulate(r, alpha, a, b, T, rng)
    frame = pd.DataFrame(
        {"frequency": x, "recency": np.floor(t_x), "T": T, "z1": z[:, 0], "z2": z[:, 1]},
        index=pd.RangeIndex(n, name="customer_id"),
    )
    frame.attrs["time_unit"] = "D"
    return frame


def clvlab_fit(frame: pd.DataFrame, kw: dict[str, int]) -> tuple[float, pd.DataFrame]:
    """Wall time and the posterior summary (mean, sd, MC SE, bulk ESS) of clvlab's covariate BG/NBD."""
    import clvlab.bayes as cb

    priors: dict[str, tuple[str, dict[str, float]]] = {
        k: ("HalfNormal", {"sigma": s}) for k, s in SIGMA.items()
    }
    priors.update({f"purchase:{c}": ("Normal", {"mu": 0.0, "sigma": 1.0}) for c in COVARIATES})
    model = cb.BetaGeo(
        purchase_covariates=COVARIATES,
        priors=priors,
        draws=kw["draws"],
        tune=kw["tune"],
        chains=kw["chains"],
        target_accept=0.8,
        random_seed=1,
        progressbar=False,
        sampler="nutpie",
    )
    start = time.perf_counter()
    model.fit(frame)
    elapsed = time.perf_counter() - start
    names = [str(i).replace("purchase:", "") for i in model.summary().index]
    draws = model.param_draws().reshape(kw["chains"], -1, len(names))  # chain-major (chain, draw, k)
    return elapsed, _posterior_table(draws, names)


def _posterior_table(draws: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Mean, sd, Monte Carlo standard error of the mean and bulk ESS of (chain, draw, parameter) draws."""
    import arviz as az

    rows = {}
    for j, name in enumerate(names):
        x = np.asarray(draws[..., j], dtype=np.float64)
        ess = float(az.ess(x, method="bulk"))
        rows[name] = {
            "mean": x.mean(),
            "sd": x.std(ddof=1),
            "ess_bulk": ess,
            "mcse": x.std(ddof=1) / ess**0.5,
        }
    return pd.DataFrame(rows).T


def peer_fit(frame: pd.DataFrame, sampler: str, kw: dict[str, int]) -> tuple[float, pd.DataFrame]:
    """Wall time and the posterior summary of pymc-marketing's covariate BG/NBD (0.x or 1.x API)."""
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel

    config: dict[str, Any] = {k: Prior("HalfNormal", sigma=s) for k, s in SIGMA.items()}
    config["purchase_coefficient"] = Prior("Normal", mu=0, sigma=1)
    config["purchase_covariate_cols"] = COVARIATES
    peer_data = frame.reset_index()[["customer_id", "frequency", "recency", "T", *COVARIATES]]
    sample = {
        "random_seed": 1,
        "progressbar": False,
        "chains": kw["chains"],
        "draws": kw["draws"],
        "tune": kw["tune"],
        "target_accept": 0.8,
    }
    if sampler != "pymc":
        sample["nuts_sampler"] = sampler
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "data" in inspect.signature(BetaGeoModel.__init__).parameters:
            peer = BetaGeoModel(data=peer_data, model_config=config)
            peer.fit(**sample)
        else:
            peer = BetaGeoModel(model_config=config)
            peer.fit(peer_data, **sample)
    elapsed = time.perf_counter() - start
    post = peer.idata.posterior
    columns = [np.asarray(post[PEER_NAMES[k]]) for k in ("r", "alpha", "a", "b")]
    coef = np.asarray(post["purchase_coefficient_alpha"])
    draws = np.stack([*columns, *(coef[..., j] for j in range(coef.shape[-1]))], axis=-1)
    return elapsed, _posterior_table(draws, ["r", "alpha", "a", "b", *COVARIATES])


def compare(
    n: int, samplers: list[str], kw: dict[str, int], out: Path | None, ours_kw: dict[str, int] | None = None
) -> None:
    frame = data(n)
    label = "CDNOW calibration (2,357 customers)" if n == 0 else f"{n:,} simulated customers"
    ours_kw = ours_kw or kw
    t_ours, ours = clvlab_fit(frame, ours_kw)
    print(
        f"BG/NBD with two purchase covariates, {label}; peer: chains {kw['chains']}, tune {kw['tune']}, "
        f"draws {kw['draws']}; clvlab: chains {ours_kw['chains']}, tune {ours_kw['tune']}, "
        f"draws {ours_kw['draws']}"
    )
    print(f"  clvlab (nutpie): {t_ours:.1f} s, min bulk ESS {ours['ess_bulk'].min():.0f}")
    print(ours.round(4).to_string())
    results: dict[str, Any] = {"clvlab": ours.to_dict()}
    for sampler in samplers:
        t_peer, peer = peer_fit(frame, sampler, kw)
        z = (ours["mean"] - peer["mean"]) / np.sqrt(ours["mcse"] ** 2 + peer["mcse"] ** 2)
        agree = bool((z.abs() < 4).all())
        ratio = t_peer / t_ours
        ess_ok = ours["ess_bulk"].min() >= peer["ess_bulk"].min()
        print(f"  pymc-marketing ({sampler}): {t_peer:.1f} s, min bulk ESS {peer['ess_bulk'].min():.0f}")
        print(peer.round(4).to_string())
        print(
            f"  speed-up {ratio:.1f}x; clvlab min ESS >= peer's: {ess_ok}; ESS/s ratio "
            f"{(ours['ess_bulk'].min() / t_ours) / (peer['ess_bulk'].min() / t_peer):.1f}x; "
            f"posterior means agree within 4 MC SE: {agree} (largest |z| {z.abs().max():.2f})"
        )
        results[f"pymc-marketing ({sampler})"] = peer.to_dict()
        record(
            f"Bayesian covariate BG/NBD (NUTS) vs pymc-marketing on {sampler}",
            label,
            f"{t_ours:.1f} s",
            f"{t_peer:.1f} s",
            f"**{ratio:.1f}x** (min ESS {ours['ess_bulk'].min():.0f} vs {peer['ess_bulk'].min():.0f})",
            ">= 10x at equal or higher min ESS"
            + ("" if ours_kw == kw else f" (clvlab {ours_kw['tune']} tune + {ours_kw['draws']} draws)"),
            f"python -m benchmarks.bench_bayes_covariates --customers {n}",
        )
    if out is not None:
        out.write_text(json.dumps(results, indent=1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, nargs="*", default=[0, 100_000])
    parser.add_argument("--samplers", nargs="*", default=["nutpie", "pymc"])
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument(
        "--clvlab-draws",
        type=int,
        help="clvlab's draws per chain (default --draws): the target is speed at equal or higher minimum "
        "ESS, so clvlab may draw fewer when its ESS per draw is higher; the report says whether its "
        "minimum ESS still reaches the peer's",
    )
    parser.add_argument("--clvlab-tune", type=int, help="clvlab's tuning steps per chain (default --tune)")
    parser.add_argument("--json", type=Path, default=None, help="write the posterior tables here")
    args = parser.parse_args(argv)
    print(machine())
    kw = {"draws": args.draws, "tune": args.tune, "chains": args.chains}
    ours_kw = {
        "draws": args.clvlab_draws if args.clvlab_draws is not None else args.draws,
        "tune": args.clvlab_tune if args.clvlab_tune is not None else args.tune,
        "chains": args.chains,
    }
    for n in args.customers:
        compare(n, args.samplers, kw, args.json, ours_kw)


if __name__ == "__main__":
    main()
