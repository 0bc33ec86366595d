"""Several families and sizes against statsmodels; information kinds; growth in n; memory.

Run ``python benchmarks/bench_models.py`` to print its tables; ``benchmarks/run.py`` runs it
with the others and writes ``benchmarks/RESULTS.md``. ``--quick`` runs small sizes as a
smoke test. Every ratio is of times measured in the same process, median of ``--repeats``
runs.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.miscmodels.ordinal_model import OrderedModel

import fisherkit as fk

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_logit import MARKER, median_time  # noqa: E402

TITLE = "## Families, sizes, information kinds and memory"


def make_data(family: str, n: int, p: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p - 1))
    beta = rng.normal(scale=0.1, size=p - 1)
    eta = 0.2 + X @ beta
    if family == "logit":
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    elif family == "poisson":
        y = rng.poisson(np.exp(eta)).astype(float)
    elif family == "negbin":
        mu = np.exp(eta)
        y = rng.negative_binomial(1 / 0.5, 1 / (1 + 0.5 * mu)).astype(float)
    else:  # ordinal: a latent logistic variable cut into four levels
        latent = eta + rng.logistic(size=n)
        y = np.digitize(latent, [-1.0, 0.2, 1.4]).astype(float)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p - 1)])
    df["y"] = y
    return df


def statsmodels_fit(family: str, df: pd.DataFrame):
    X = df.drop(columns="y").to_numpy()
    y = df["y"].to_numpy()
    if family == "ordinal":
        res = OrderedModel(y, X, distr="logit").fit(method="bfgs", disp=0, maxiter=1000)
        return res.params, res.bse
    X = sm.add_constant(X)
    model = {"logit": sm.Logit, "poisson": sm.Poisson,
             "negbin": sm.NegativeBinomial}[family](y, X)
    res = model.fit(disp=0, method="newton", maxiter=100) if family == "negbin" else model.fit(
        disp=0)
    return res.params, res.bse


def family_row(family: str, n: int, p: int, repeats: int, sm_repeats: int) -> dict:
    df = make_data(family, n, p)
    formula = "y ~ " + " + ".join(c for c in df.columns if c != "y")
    X = np.column_stack([np.ones(n), df.drop(columns="y").to_numpy()])
    w = np.random.default_rng(1).random(n)
    t_floor, _ = median_time(lambda: X.T @ (w[:, None] * X), repeats, warmup=True)

    def fisherkit_fit():
        res = fk.fit(formula, data=df, family=family)
        return res, res.se

    t_fk, (res, se) = median_time(fisherkit_fit, repeats, warmup=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_sm, (_, se_sm) = median_time(lambda: statsmodels_fit(family, df), sm_repeats,
                                       warmup=sm_repeats > 1)
    se_fk = se.to_numpy()
    if family == "ordinal":
        # statsmodels reports the first cut and log gaps; compare the slopes only
        se_sm, se_fk = se_sm[:p - 1], se_fk[:p - 1]
    return {"family": family, "n": n, "p": p, "fisherkit s": t_fk, "statsmodels s": t_sm,
            "fisherkit / statsmodels": t_fk / t_sm, "fisherkit in floors": t_fk / t_floor,
            "iterations": res.n_iter,
            "max rel. se diff": float(np.max(np.abs(se_fk - se_sm) / np.abs(se_sm))),
            "statsmodels runs": sm_repeats}


def growth_rows(sizes, p: int, repeats: int) -> list[dict]:
    rows = []
    for n in sizes:
        df = make_data("logit", n, p)
        formula = "y ~ " + " + ".join(c for c in df.columns if c != "y")
        def fit_and_se():
            res = fk.fit(formula, data=df, family="logit")
            _ = res.se
            return res

        t, res = median_time(fit_and_se, repeats, warmup=True)
        rows.append({"n": n, "seconds": t, "seconds per million rows": t / n * 1e6,
                     "iterations": res.n_iter})
        del df
        gc.collect()
    return rows


def information_rows(n: int, p: int, repeats: int) -> list[dict]:
    df = make_data("negbin", n, p)
    formula = "y ~ " + " + ".join(c for c in df.columns if c != "y")
    X = np.column_stack([np.ones(n), df.drop(columns="y").to_numpy()])
    w = np.random.default_rng(1).random(n)
    t_floor, _ = median_time(lambda: X.T @ (w[:, None] * X), repeats, warmup=True)
    rows = []
    for kind in ("observed", "expected", "opg", "sandwich"):
        # a fresh view each time: the information matrices are shared between views
        def fresh():
            view = fk.fit(formula, data=df, family="negbin", cov=kind)
            return view.se
        t_total, _ = median_time(fresh, repeats, warmup=kind == "observed")
        rows.append({"kind": kind, "fit + se seconds": t_total,
                     "in floors": t_total / t_floor})
    return rows


def peak_memory(n: int, p: int) -> dict:
    df = make_data("logit", n, p)
    formula = "y ~ " + " + ".join(c for c in df.columns if c != "y")
    gc.collect()
    tracemalloc.start()
    res = fk.fit(formula, data=df, family="logit")
    _ = res.se
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    design = n * p * 8
    return {"n": n, "p": p, "peak MB": peak / 2 ** 20, "design MB": design / 2 ** 20,
            "peak / design": peak / design}


def table(rows, columns=None) -> str:
    frame = pd.DataFrame(rows)
    columns = list(frame.columns) if columns is None else columns
    head = "| " + " | ".join(columns) + " |\n|" + " --- |" * len(columns)

    def cell(v):
        if isinstance(v, (float, np.floating)):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        if isinstance(v, (int, np.integer)):
            return f"{v:,}"
        return str(v)
    return head + "\n" + "\n".join("| " + " | ".join(cell(r[c]) for c in columns) + " |"
                                   for r in rows)


def run(quick: bool, repeats: int) -> dict:
    big, small = (20_000, 5_000) if quick else (1_000_000, 100_000)
    out = {"families": []}
    for family in ("logit", "poisson", "negbin", "ordinal"):
        sizes = [small] if family == "ordinal" else [small, big]
        for n in sizes:
            out["families"].append(family_row(family, n, 20 if family != "ordinal" else 10,
                                              repeats, repeats))
    out["growth"] = growth_rows([small, big, 4 * big] if not quick else [small, big], 50,
                                repeats)
    out["information_n"] = 200_000 if not quick else small
    out["information"] = information_rows(out["information_n"], 20, repeats)
    out["memory"] = peak_memory(big, 50)
    return out


def section(r: dict, repeats: int) -> str:
    mem = r["memory"]
    return f"""{TITLE}

Medians of {repeats} run(s) in one process, after one untimed run. fisherkit is
`fk.fit(formula, data=DataFrame, family=...)` then `.se`, design building from the DataFrame
included; statsmodels is the model class on ready arrays (`Logit`, `Poisson`,
`NegativeBinomial` NB2 by Newton, `OrderedModel` logit by BFGS) then `.bse`. A floor is one
`X.T @ (w[:, None] * X)` on the same design.

{table(r["families"])}

Growth in n (logit, p = 50, fit and `.se`; the design is built from the DataFrame each time):

{table(r["growth"])}

Each covariance kind, NB2 with n = {r["information_n"]:,}, p = 20: a fresh fit with `cov=kind` and its `.se` (the
expected information of NB2 is an exact sum over the outcome's support, row by row):

{table(r["information"])}

Peak memory of `fk.fit(...)` plus `.se` (logit, n = {mem["n"]:,}, p = {mem["p"]}), traced by
`tracemalloc` (NumPy reports its buffers to it), against the design matrix's own size:
**{mem["peak MB"]:.0f} MB at the peak, {mem["peak / design"]:.2f} times the {mem["design MB"]:.0f} MB
design**.
"""


def write_section(path: Path, text: str, title: str = TITLE) -> None:
    """Replace the section headed ``title`` below the marker (or append it); keep the rest."""
    old = path.read_text()
    head, tail = old.split(MARKER, 1)
    if title in tail:
        start = tail.index(title)
        end = tail.find("\n## ", start + len(title))
        tail = tail[:start] + text.rstrip("\n") + "\n" + (tail[end:] if end != -1 else "")
    else:
        tail = tail.rstrip("\n") + "\n\n" + text
    path.write_text(head + MARKER + tail)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    print(section(run(args.quick, repeats), repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
