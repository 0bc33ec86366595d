"""Mixed logit fits with standard errors: against statsmodels' variational Bayes and against
the fixed-effect logit on the same rows.

Run ``python benchmarks/bench_mixed.py`` to print its section; ``python benchmarks/run.py
--only mixed`` runs it alone and writes its section and targets rows into
``benchmarks/RESULTS.md``; the full runner runs it with the others. ``--quick`` runs small
sizes as a smoke test. Every ratio is of times measured in the same process, interleaved.

The data: ``x ~ N(0, 1)``, groups drawn uniformly, random intercepts of standard deviation
0.8 (and, for the random slope, slopes of standard deviation 0.4 correlated 0.3 with them),
``logit P(y = 1) = -0.3 + 0.5 x + u_g + v_g x``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

import fisherkit as fk

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_logit import MARKER, interleaved_times  # noqa: E402
from bench_models import table  # noqa: E402

TITLE = "## Mixed logit (random effects by Laplace)"
INTERCEPT = "y ~ x + (1 | g)"
SLOPE = "y ~ x + (1 + x | g)"
#: (rows, groups) of the statsmodels comparison, of the ratios to the fixed logit, and of
#: the random slope; the quick sizes are a smoke test
FULL = {"statsmodels": (50_000, 500), "ratios": [(200_000, 2_000), (200_000, 20_000),
                                                 (1_000_000, 10_000)],
        "slope": (200_000, 2_000)}
QUICK = {"statsmodels": (5_000, 50), "ratios": [(5_000, 50), (5_000, 500)],
         "slope": (5_000, 50)}


def make_data(n: int, groups: int, slope: bool = False, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    g = rng.integers(0, groups, n)
    u = rng.normal(scale=0.8, size=groups)
    eta = -0.3 + 0.5 * x + u[g]
    if slope:
        v = 0.4 * (0.3 * u / 0.8 + np.sqrt(1 - 0.3 ** 2) * rng.standard_normal(groups))
        eta = eta + v[g] * x
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    return pd.DataFrame({"y": y, "x": x, "g": g})


def mixed_fit(formula: str, df: pd.DataFrame):
    res = fk.fit(formula, df, "logit")
    return res, res.se


def fixed_fit(df: pd.DataFrame):
    res = fk.fit("y ~ x", df, "logit")
    return res, res.se


def statsmodels_row(n: int, groups: int, repeats: int) -> dict:
    """fisherkit's fit + se (median of ``repeats`` after one untimed) against one
    ``fit_vb``, which is timed between fisherkit's runs so that both meet the same load."""
    df = make_data(n, groups)
    mixed_fit(INTERCEPT, df)
    times = []
    for k in range(repeats):
        start = time.perf_counter()
        res, se = mixed_fit(INTERCEPT, df)
        times.append(time.perf_counter() - start)
        if k == 0:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                vb = BinomialBayesMixedGLM.from_formula("y ~ x", {"g": "0 + C(g)"},
                                                        df).fit_vb()
            t_sm = time.perf_counter() - start
    t_fk = float(np.median(times))
    return {"n": n, "groups": groups, "fisherkit s": t_fk, "statsmodels fit_vb s": t_sm,
            "statsmodels / fisherkit": t_sm / t_fk,
            "fisherkit sd": float(res.params.iloc[-1]),
            "fisherkit se(sd)": float(se.iloc[-1]),
            "fit_vb sd": float(np.exp(vb.vcp_mean[0])),
            "fisherkit x": float(res.params.iloc[1]), "fit_vb x": float(vb.fe_mean[1])}


def ratio_row(formula: str, n: int, groups: int, repeats: int) -> dict:
    df = make_data(n, groups, slope=formula == SLOPE)
    times, out = interleaved_times({"mixed": lambda: mixed_fit(formula, df),
                                    "fixed": lambda: fixed_fit(df)}, repeats)
    res, _ = out["mixed"]
    # the bar escaped: these rows go into a markdown table
    return {"model": r"(1 + x \| g)" if formula == SLOPE else r"(1 \| g)", "n": n,
            "groups": groups, "mixed s": times["mixed"], "fixed logit s": times["fixed"],
            "mixed / fixed": times["mixed"] / times["fixed"], "iterations": res.n_iter,
            "converged": "yes" if res.converged else "no"}


def peak_memory(n: int, groups: int) -> dict:
    """Peak traced memory of one mixed fit + se against the fixed logit's, and against
    the rows times the columns of the fixed and random designs."""
    df = make_data(n, groups)
    peaks = {}
    for name, fn in (("mixed", lambda: mixed_fit(INTERCEPT, df)),
                     ("fixed", lambda: fixed_fit(df))):
        gc.collect()
        tracemalloc.start()
        fn()
        peaks[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    columns = n * 3 * 8  # x and the intercept of the fixed design, the intercept of Z
    return {"n": n, "groups": groups, "mixed MB": peaks["mixed"] / 2 ** 20,
            "fixed MB": peaks["fixed"] / 2 ** 20, "mixed / fixed": peaks["mixed"] / peaks["fixed"],
            "mixed / (n x columns x 8 bytes)": peaks["mixed"] / columns}


def run(quick: bool, repeats: int) -> dict:
    sizes = QUICK if quick else FULL
    started = time.perf_counter()
    out = {"statsmodels": statsmodels_row(*sizes["statsmodels"], repeats)}
    out["ratios"] = []
    for n, groups in sizes["ratios"]:
        # the largest size once after its untimed run: it alone would take minutes more
        out["ratios"].append(ratio_row(INTERCEPT, n, groups, 1 if n >= 1_000_000 else repeats))
        gc.collect()
    out["slope"] = ratio_row(SLOPE, *sizes["slope"], repeats)
    out["memory"] = peak_memory(*sizes["ratios"][0])
    out["seconds"] = time.perf_counter() - started
    out["repeats"] = repeats
    return out


def targets(r: dict) -> list[tuple]:
    """Rows of the runner's targets table: (what, measured, required, met)."""
    sm = r["statsmodels"]
    rows = [(f"Mixed logit `(1 \\| g)` n = {sm['n']:,}, {sm['groups']:,} groups: statsmodels "
             "`BinomialBayesMixedGLM.fit_vb` / fisherkit fit + se",
             f"{sm['statsmodels / fisherkit']:.1f}", "at least 20",
             sm["statsmodels / fisherkit"] >= 20)]
    for row in r["ratios"]:
        rows.append((f"Mixed logit `(1 \\| g)` n = {row['n']:,}, {row['groups']:,} groups: fit + "
                     "se / fixed-effect logit fit + se", f"{row['mixed / fixed']:.1f}",
                     "at most 10", row["mixed / fixed"] <= 10))
    s = r["slope"]
    rows.append((f"Mixed logit `(1 + x \\| g)` n = {s['n']:,}, {s['groups']:,} groups: fit + se "
                 "/ fixed-effect logit fit + se", f"{s['mixed / fixed']:.1f}",
                 "measured (no bound set)", True))
    return rows


def section(r: dict, command: str) -> str:
    sm, mem = r["statsmodels"], r["memory"]
    largest = max(r["ratios"], key=lambda row: row["n"])["n"]
    once = (f" (the {largest:,}-row size: one round after its untimed one)"
            if largest >= 1_000_000 else "")
    return f"""{TITLE}

Command: `{command}` ({r['seconds'] / 60:.1f} minutes for this section).

fisherkit is `fk.fit("y ~ x + (1 | g)", df, "logit")` then `.se` (Laplace, exact observed
information of fixed effects and the standard deviation jointly), building the model from
the DataFrame included. statsmodels' only mixed logit is
`BinomialBayesMixedGLM.from_formula("y ~ x", {{"g": "0 + C(g)"}}, df).fit_vb()`, a
variational Bayes fit (posterior means, no maximum-likelihood standard errors); it was run
once, between fisherkit's timed runs; fisherkit's time is the median of {r['repeats']} runs
after one untimed run.

{table([{k: v for k, v in sm.items()}])}

Against the fixed-effect logit `fk.fit("y ~ x", df, "logit")` then `.se` on the same rows:
each pair interleaved, medians of {r['repeats']} rounds after one untimed round{once}.

{table(r["ratios"] + [r["slope"]])}

Peak memory traced by `tracemalloc` of one fit + se at n = {mem['n']:,}, {mem['groups']:,}
groups: **{mem['mixed MB']:.0f} MB for the mixed fit, {mem['mixed / fixed']:.2f} times the
fixed logit's {mem['fixed MB']:.0f} MB, {mem['mixed / (n x columns x 8 bytes)']:.1f} times the
rows times the design columns (fixed and random) in float64**.
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    command = "python benchmarks/bench_mixed.py" + (" --quick" if args.quick else "")
    print(section(run(args.quick, repeats), command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def write(path: Path, r: dict, command: str, targets_table_rows) -> None:
    """Put this benchmark's targets rows and section into the runner's part of ``path``
    (above the marker), replacing older ones, and keep everything else."""
    text = path.read_text()
    head, marker, tail = text.partition(MARKER)
    lines = [line for line in head.split("\n") if not line.startswith("| Mixed logit")]
    # the last row of the targets table, the first table after its heading
    end = lines.index("## Targets")
    while not lines[end].startswith("| "):
        end += 1
    while end + 1 < len(lines) and lines[end + 1].startswith("| "):
        end += 1
    head = "\n".join(lines[:end + 1] + targets_table_rows(targets(r)) + lines[end + 1:])
    new = section(r, command).rstrip("\n") + "\n"
    if TITLE in head:
        start = head.index(TITLE)
        stop = head.find("\n## ", start + len(TITLE))
        head = head[:start] + new + "\n" + head[stop + 1:]
    else:
        stop = head.find("## Command and machine")
        head = head[:stop] + new + "\n" + head[stop:] if stop >= 0 else head + "\n" + new
    path.write_text(head + marker + tail)
