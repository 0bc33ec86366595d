"""Stochastic natural gradient against SGD with its best learning rate from a grid.

A logistic regression with n = 1,000,000 rows and features on scales from 1 to about 30
(the ill-conditioning of raw, unstandardized covariates). Each method runs on mini-batches
of 10,000 rows; the trace records the full-data log-likelihood every tenth of an epoch. The
quantity compared is the number of passes over the data (the optimizer's own batch work)
until the log-likelihood is within 1e-3 per observation of the maximum found by Newton.

Run ``python benchmarks/bench_stochastic.py`` (about five minutes on 2 cores) to rewrite
this benchmark's section of ``benchmarks/RESULTS.md``; ``--n`` and ``--passes`` make it
smaller.
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import fisherkit as fk

HEADING = "## Stochastic natural gradient versus SGD"
MARKER = "<!-- sections below are kept when the runner rewrites this file -->"
GAP_PER_OBS = 1e-3
GRID = (0.25, 0.5, 1.0, 2.0, 4.0)


def make_data(n: int, p: int, seed: int = 7) -> tuple[str, pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    scales = np.logspace(0.0, 1.5, p)
    # mildly correlated features on very different scales
    Z = rng.normal(size=(n, p)) + 0.3 * rng.normal(size=(n, 1))
    X = Z * scales
    beta = rng.normal(scale=0.5, size=p) / scales
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.2 + X @ beta)))).astype(float)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["y"] = y
    design = np.column_stack([np.ones(n), X])
    return "y ~ " + " + ".join(df.columns[:-1]), df, design


def passes_to_target(trace: pd.DataFrame, target: float) -> float:
    """The first recorded pass count at which the log-likelihood reaches ``target``."""
    hit = trace.loc[trace["loglik"] >= target, "passes"]
    return float(hit.iloc[0]) if len(hit) else np.nan


def run(n: int, p: int, batch: int, passes: int) -> tuple[pd.DataFrame, dict]:
    formula, df, design = make_data(n, p)
    best = fk.fit(formula, data=df, family="logit")
    target = best.loglik - GAP_PER_OBS * n
    steps_per_epoch = n // batch
    # one budget in passes: a natural-gradient step costs two batch evaluations, SGD's one
    maxiter = {"natural_gradient": passes * steps_per_epoch // 2,
               "gradient": passes * steps_per_epoch}
    record = max(steps_per_epoch // 10, 1)
    # the classical safe rate 1 / L of full-batch gradient ascent, with L = lambda_max(Z'Z)/4
    # bounding the logistic log-likelihood's curvature; the grid spans it
    safe = 4.0 / np.linalg.eigvalsh(design.T @ design)[-1]
    runs = [("stochastic natural gradient", "natural_gradient",
             {"learning_rate": 1.0, "decay": steps_per_epoch})]
    runs += [(f"SGD, rate {c:g} / L", "gradient", {"learning_rate": c * safe})
             for c in GRID]
    runs += [(f"SGD, rate {c:g} / L, decaying", "gradient",
              {"learning_rate": c * safe, "decay": steps_per_epoch}) for c in GRID]
    rows = []
    for label, method, options in runs:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", fk.ConvergenceWarning)
            res = fk.fit(formula, data=df, family="logit", method=method, tol=1e-300,
                         maxiter=maxiter[method],
                         options={"batch_size": batch, "record_every": record, "seed": 0,
                                  **options})
        trace = res.trace
        finite = np.isfinite(trace["loglik"])
        rows.append({"method": label,
                     "passes_to_1e-3_per_obs": passes_to_target(trace, target),
                     "final_gap_per_obs": (best.loglik - trace["loglik"].iloc[-1]) / n
                     if finite.iloc[-1] else np.inf,
                     "max_param_diff_se": float(np.max(np.abs(res.params - best.params)
                                                       / best.se)),
                     "passes_run": float(trace["passes"].iloc[-1]),
                     "seconds": time.perf_counter() - start})
    table = pd.DataFrame(rows).set_index("method")
    info = {"n": n, "p": p + 1, "batch": batch, "passes": passes, "safe_rate": safe,
            "newton_loglik": best.loglik}
    return table, info


def markdown(table: pd.DataFrame, info: dict, command: str) -> str:
    sgd = table[table.index.str.startswith("SGD")]
    best_sgd = sgd["passes_to_1e-3_per_obs"].min()
    natural = table.loc["stochastic natural gradient", "passes_to_1e-3_per_obs"]
    lines = [HEADING, "",
             f"Command: `{command}`", "",
             f"Machine: {platform.machine()}, 2 cores, Python {platform.python_version()}, "
             f"NumPy {np.__version__}; other jobs shared the machine, but the comparison is "
             "in passes over the data, not seconds.", "",
             f"Logistic regression, n = {info['n']:,}, p = {info['p']} (features on scales "
             f"1 to 32), mini-batches of {info['batch']:,} rows, a budget of {info['passes']} "
             "passes over the data for each method, full-data log-likelihood recorded every "
             "tenth of an epoch of steps. Target: "
             f"within {GAP_PER_OBS:g} per observation of Newton's maximum "
             f"({info['newton_loglik']:.1f}). The stochastic natural gradient preconditions "
             "each step by the batch's expected Fisher, rate 1 decaying as 1 / (1 + t / "
             "epoch); SGD takes the batch score times n / b at rates from a grid around "
             f"1 / L = {info['safe_rate']:.3g} (L = lambda_max(X'X) / 4), constant or "
             "decaying the same way. Passes count the optimizer's own batch work (the "
             "natural gradient's batch Fisher costs as much as its batch score).", "",
             "| method | passes to target | final gap / obs | max param diff (se) | passes run | seconds |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, r in table.iterrows():
        reach = "not reached" if np.isnan(r["passes_to_1e-3_per_obs"]) else \
            f"{r['passes_to_1e-3_per_obs']:.2f}"
        lines.append(f"| {name} | {reach} | {r['final_gap_per_obs']:.3g} | "
                     f"{r['max_param_diff_se']:.3g} | {r['passes_run']:.1f} | "
                     f"{r['seconds']:.1f} |")
    best_text = "no SGD run reached it" if np.isnan(best_sgd) else \
        f"the best SGD run needed {best_sgd:.2f}"
    lines += ["", f"The stochastic natural gradient reached the target in {natural:.2f} "
              f"passes; {best_text}.", ""]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{MARKER}\n"
    if MARKER not in text:
        text = text.rstrip() + f"\n\n{MARKER}\n"
    head, tail = text.split(MARKER, 1)
    if HEADING in tail:
        before, rest = tail.split(HEADING, 1)
        following = rest.find("\n## ")
        after = rest[following + 1:] if following >= 0 else ""
        tail = before.rstrip() + "\n\n" + section.rstrip() + "\n\n" + after
    else:
        tail = tail.rstrip() + "\n\n" + section
    path.write_text(head + MARKER + tail.rstrip() + "\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--p", type=int, default=10)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--passes", type=int, default=10,
                        help="the budget of each method in passes over the data")
    parser.add_argument("--output", type=Path,
                        default=Path(__file__).resolve().parent / "RESULTS.md")
    args = parser.parse_args(argv)
    table, info = run(args.n, args.p, args.batch, args.passes)
    command = "python benchmarks/bench_stochastic.py" + (
        "" if (args.n, args.p, args.batch, args.passes) == (1_000_000, 10, 10_000, 10)
        else f" --n {args.n} --p {args.p} --batch {args.batch} --passes {args.passes}")
    write_section(args.output, markdown(table, info, command))
    print(table.to_string())


if __name__ == "__main__":
    main()
