"""Logit fit plus standard errors: fisherkit against statsmodels and the BLAS floor.

Run ``python benchmarks/bench_logit.py`` (n = 1,000,000, p = 50) to print its table;
``benchmarks/run.py`` runs it with the others and writes ``benchmarks/RESULTS.md``.
``--quick`` runs a small size as a smoke test. Ratios are of times measured in the same
process, median of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm

import fisherkit as fk
from fisherkit.fitting import build_model


def make_data(n: int, p: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p - 1))
    beta = rng.normal(scale=0.1, size=p - 1)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(0.2 + X @ beta)))).astype(float)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p - 1)])
    df["y"] = y
    return df


def median_time(fn, repeats: int, warmup: bool = False):
    """Median seconds of ``repeats`` calls and the last result; ``warmup`` makes one
    untimed call first (first calls in a process pay for imports, caches and memory the
    operating system has not yet handed out)."""
    times, out = [], None
    if warmup:
        out = fn()
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def interleaved_times(fns: dict, repeats: int) -> tuple[dict, dict]:
    """Median seconds of each of ``fns`` over ``repeats`` rounds, each round calling every
    one in turn after one untimed call of each, so that all meet the same state of the
    machine (memory the operating system hands out slowly at first, other load); and the
    last result of each."""
    out = {name: fn() for name, fn in fns.items()}
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            out[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}, out


def run(n: int, p: int, repeats: int) -> dict:
    df = make_data(n, p)
    predictors = [c for c in df.columns if c != "y"]
    formula = "y ~ " + " + ".join(predictors)
    X = sm.add_constant(df[predictors].to_numpy())
    y = df["y"].to_numpy()
    iterations = []

    def fisherkit_fit():
        res = fk.fit(formula, data=df, family="logit")
        # each trace row after the first is one Newton iteration: a direction, then the
        # log-likelihood, score and Hessian at the new point (the raw trace: the public one
        # also works out the divergence of each step, which is not part of the fit)
        iterations.extend(np.diff(res.optimize_result.trace["elapsed"].to_numpy()))
        return res, res.se

    def statsmodels_fit():
        res = sm.Logit(y, X).fit(disp=0)
        return res, res.bse

    w = np.random.default_rng(1).random(n)
    times, out = interleaved_times({
        "floor": lambda: X.T @ (w[:, None] * X), "fisherkit": fisherkit_fit,
        "statsmodels": statsmodels_fit,
        "table": lambda: fk.fit(formula, data=df, family="logit").se_table(),
        "build": lambda: build_model(formula, df, "logit")}, repeats)
    t_floor, t_fk, t_sm = times["floor"], times["fisherkit"], times["statsmodels"]
    t_table, t_build = times["table"], times["build"]
    (res_fk, se_fk), (res_sm, se_sm) = out["fisherkit"], out["statsmodels"]
    # every fit takes the same iterations; those of the untimed warm-up are not counted
    iterations = iterations[len(iterations) // (repeats + 1):]
    return {
        "n": n, "p": p, "fisherkit_s": t_fk, "statsmodels_s": t_sm, "floor_s": t_floor,
        "ratio_statsmodels": t_fk / t_sm, "fit_and_se_table_s": t_table,
        "se_table_over_fit": (t_table - t_fk) / t_fk, "fisherkit_iterations": res_fk.n_iter,
        "fit_in_floors": t_fk / t_floor, "design_s": t_build,
        "iteration_s_median": float(np.median(iterations)),
        "iteration_s_max": float(np.max(iterations)),
        "iteration_in_floors_median": float(np.median(iterations)) / t_floor,
        "iteration_in_floors_max": float(np.max(iterations)) / t_floor,
        "iterations_timed": len(iterations),
        "max_rel_param_diff": float(np.max(np.abs(res_fk.params.to_numpy() - res_sm.params)
                                           / np.abs(res_sm.params))),
        "max_rel_se_diff": float(np.max(np.abs(se_fk.to_numpy() - se_sm) / se_sm)),
    }


def section(row: dict, repeats: int) -> str:
    """The logit table, for ``benchmarks/run.py``."""
    return f"""{TITLE}

fisherkit is `fk.fit(formula, data=DataFrame, family="logit")` then `.se`, building the
design from the DataFrame included; statsmodels is `Logit(y, X).fit()` then `.bse` on a
ready array; the floor is one `X.T @ (w[:, None] * X)`. Medians of {repeats} rounds, each
round running every contender in turn, after one untimed round. A Newton iteration is the
time between two rows of the fit's trace (a direction, then log-likelihood, score and
Hessian at the new point); all {row['iterations_timed']} timed iterations are summarized.

| quantity | value |
| --- | --- |
| fisherkit / statsmodels | {row['ratio_statsmodels']:.3f} |
| Newton iteration / floor, median | {row['iteration_in_floors_median']:.2f} |
| Newton iteration / floor, slowest | {row['iteration_in_floors_max']:.2f} |
| fisherkit fit in floors | {row['fit_in_floors']:.2f} |
| fisherkit seconds | {row['fisherkit_s']:.3f} |
| of which building the model from the DataFrame | {row['design_s']:.3f} |
| Newton iteration seconds, median | {row['iteration_s_median']:.3f} |
| statsmodels seconds | {row['statsmodels_s']:.3f} |
| floor seconds | {row['floor_s']:.3f} |
| fisherkit Newton iterations | {row['fisherkit_iterations']} |
| se_table (observed, expected, opg, sandwich) time / fit time | {row['se_table_over_fit']:.2f} |
| largest relative difference, params | {row['max_rel_param_diff']:.2e} |
| largest relative difference, se | {row['max_rel_se_diff']:.2e} |
| n, p | {row['n']:,}, {row['p']} |
"""


TITLE = "## Logit fit with standard errors"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--p", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args(argv)
    row = run(20_000, 10, 1) if args.quick else run(args.n, args.p, args.repeats)
    print(section(row, 1 if args.quick else args.repeats))
    return 0


MARKER = "<!-- sections below are kept when the runner rewrites this file -->"


def write_results(path: Path, head: str, drop=()) -> None:
    """Replace the part of ``path`` above ``MARKER`` with ``head``; keep the sections below
    it, except those whose heading starts with one of ``drop``."""
    old = path.read_text() if path.exists() else ""
    tail = old.split(MARKER, 1)[1] if MARKER in old else "\n"
    kept = [part for part in ("\n" + tail).split("\n## ")[1:]
            if not any(("## " + part).startswith(title) for title in drop)]
    body = "".join("\n## " + part.rstrip("\n") + "\n" for part in kept)
    path.write_text(head.rstrip("\n") + "\n\n" + MARKER + "\n" + body)


if __name__ == "__main__":
    raise SystemExit(main())
