"""Covariate fits against the same model without covariates (issue 17).

Run ``python -m benchmarks.bench_covariates``.

A simulated customer base (ages of 30..730 whole days, CDNOW-like parameters per day) with two binary
covariates on each process and known coefficients; the maximum-likelihood fit with the covariates is
timed against the fit of the same data without them (target: at most 3x), and the scoring memory of
the covariate model is measured at two sizes (target: linear in customers).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from benchmarks._common import machine, median_time, peak_memory, record
from benchmarks.bench_models import BGNBD_DAYS, PARETO_DAYS

COEFS = np.array([0.4, -0.3, 0.3, 0.2])  # purchase: web, female; dropout: web, female


def simulate(model_cls, params: dict[str, float], n: int, seed: int = 0) -> pd.DataFrame:
    from clvlab.models._covariates import row_params

    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, size=(n, 2)).astype(float)
    names = list(model_cls.param_names)
    links = {p: tuple((names.index(k), s) for k, s in v) for p, v in model_cls.covariate_links.items()}
    theta = np.concatenate([[params[k] for k in names], COEFS])
    per = row_params(theta, 4, links, [("purchase", 2), ("dropout", 2)], [z[:, 0], z[:, 1], z[:, 0], z[:, 1]])
    T = rng.integers(30, 731, n).astype(float)
    x, t_x = model_cls.formulas.simulate(*[np.broadcast_to(p, (n,)) for p in per], T, rng)
    frame = pd.DataFrame(
        {"frequency": x, "recency": np.floor(t_x), "T": T, "web": z[:, 0], "female": z[:, 1]},
        index=pd.RangeIndex(n, name="customer_id"),
    )
    frame.attrs["time_unit"] = "D"
    return frame


def bench_fit(model_cls, params: dict[str, float], n: int, repeats: int) -> dict[str, float]:
    data = simulate(model_cls, params, n)
    kw = {"purchase_covariates": ["web", "female"], "dropout_covariates": ["web", "female"]}
    t_plain, _, _ = median_time(lambda: model_cls().fit(data), repeats)
    t_cov, _, model = median_time(lambda: model_cls(**kw).fit(data), repeats)
    ratio = t_cov / t_plain
    name = model_cls.__name__
    print(f"{name} fit, {n:,} customers, two binary covariates on each process")
    print(f"  without covariates median {t_plain:.2f} s; with covariates median {t_cov:.2f} s ({ratio:.2f}x)")
    print(f"  coefficients {np.round(model.params_.to_numpy()[4:], 3).tolist()} (true {COEFS.tolist()})")
    record(
        f"{name} fit with 2 + 2 binary covariates vs without (same data)",
        f"{n:,} customers",
        f"{t_cov:.2f} s",
        f"{t_plain:.2f} s (no covariates)",
        f"**{ratio:.2f}x** the plain fit",
        "<= 3x",
        f"python -m benchmarks.bench_covariates --customers {n} --repeats {repeats}",
    )
    return {"plain": t_plain, "covariates": t_cov}


def bench_memory(sizes: list[int]) -> None:
    import clvlab

    per_customer = []
    for n in sizes:
        data = simulate(clvlab.BetaGeo, BGNBD_DAYS, n, seed=1)
        model = clvlab.BetaGeo(purchase_covariates=["web", "female"], dropout_covariates=["web", "female"])
        model.fit(data.iloc[:100_000])
        peak = peak_memory(lambda: model.predict_purchases_and_p_alive(data, 90.0))  # noqa: B023
        per_customer.append(peak / n)
        print(
            f"  scoring {n:,} customers with covariates: peak {peak / 2**20:.1f} MiB "
            f"({peak / n:.0f} B/customer)"
        )
    record(
        "BG/NBD scoring with covariates, peak memory (tracemalloc)",
        " / ".join(f"{n:,}" for n in sizes) + " customers",
        " / ".join(f"{b:.0f} B/customer" for b in per_customer),
        "",
        "linear in customers" if max(per_customer) < 1.2 * min(per_customer) else "NOT linear",
        "linear",
        "python -m benchmarks.bench_covariates --memory-sizes " + " ".join(str(n) for n in sizes),
    )


def main(argv: list[str] | None = None) -> None:
    import clvlab

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[1_000_000, 2_000_000])
    args = parser.parse_args(argv)
    print(machine())
    bench_fit(clvlab.BetaGeo, BGNBD_DAYS, args.customers, args.repeats)
    bench_fit(clvlab.ParetoNBD, PARETO_DAYS, args.customers, args.repeats)
    bench_memory(args.memory_sizes)


if __name__ == "__main__":
    main()
