"""The benchmark runner: every speed and memory comparison in one process, into RESULTS.md.

Run ``python benchmarks/run.py`` (about eight minutes on two cores) to rewrite
``benchmarks/RESULTS.md``: the targets first (ratios measured in this run against what is
required), then the logit, the user-written likelihood, the families, sizes, information
kinds and memory, and a profile of one logit fit. Sections written by the stochastic and
Dask benchmarks, below the marker, are kept. ``--quick`` runs small sizes as a smoke test and
prints the text instead (``--output`` writes it somewhere else).

Every ratio is of times measured in the same process, each the median of ``--repeats`` runs
after one untimed run.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import statsmodels

import fisherkit as fk

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_likelihood  # noqa: E402
import bench_logit  # noqa: E402
import bench_mixed  # noqa: E402
import bench_models  # noqa: E402
from bench_logit import MARKER  # noqa: E402

RESULTS = Path(__file__).with_name("RESULTS.md")
PROFILE_TITLE = "## Where the time of one logit fit goes (profile)"
#: sections this runner writes; older copies of them below the marker are dropped
TITLES = (bench_logit.TITLE, bench_likelihood.TITLE, bench_models.TITLE, bench_mixed.TITLE,
          PROFILE_TITLE)


def profile_rows(n: int, p: int, top: int = 10) -> tuple[list[dict], float]:
    """The ``top`` functions by own time in one logit fit with standard errors, after a
    warm-up fit, and the total seconds under the profiler."""
    df = bench_logit.make_data(n, p)
    formula = "y ~ " + " + ".join(c for c in df.columns if c != "y")
    _ = fk.fit(formula, data=df, family="logit").se
    profiler = cProfile.Profile()
    profiler.enable()
    _ = fk.fit(formula, data=df, family="logit").se
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (path, line, name), (_, calls, own, cumulative, _) in stats.stats.items():
        where = Path(path).name if path != "~" else "builtin"
        rows.append({"calls": calls, "own seconds": own, "with callees": cumulative,
                     "function": f"`{where}:{name}`" if where != "builtin" else f"`{name}`"})
    rows.sort(key=lambda r: -r["own seconds"])
    return rows[:top], stats.total_tt


def profile_section(rows: list[dict], total: float, n: int, p: int) -> str:
    return f"""{PROFILE_TITLE}

`cProfile` around one `fk.fit(formula, data=df, family="logit").se` after a warm-up fit,
n = {n:,}, p = {p}, the data of the logit table; {total:.2f} s in all under the profiler,
sorted by own time. `linalg.py:gram_and_product` is the weighted product `X' W X` and the
score `X' u` of each Newton iteration (dsyrk on column-major blocks of `sqrt(w) X`);
`formula.py:_plain_design` copies the DataFrame's columns into the column-major design;
autograd's `f_wrapped` and the primitives are the elementwise log-likelihood and its eta
derivatives; `index_model.py:eta_matrix` is `X theta`.

{bench_models.table(rows, ["calls", "own seconds", "with callees", "function"])}
"""


def target_lines(rows) -> list[str]:
    """Markdown rows of (what, measured, required, met)."""
    return [f"| {a} | {b} | {c} | {'yes' if ok else 'no'} |" for a, b, c, ok in rows]


def targets_table(logit: dict, likelihood: dict, models: dict, mixed: dict) -> str:
    growth = models["growth"]
    per_million = [g["seconds per million rows"] for g in growth]
    spread = max(per_million) / min(per_million)
    memory = models["memory"]["peak / design"]
    rows = [
        ("Logit n = {n:,}, p = {p}: fisherkit fit + se / statsmodels `Logit.fit` + bse".format(
            **logit), f"{logit['ratio_statsmodels']:.3f}", "at most 0.35",
         logit["ratio_statsmodels"] <= 0.35),
        ("Each Newton iteration / one `X.T @ (w[:, None] * X)` (slowest of "
         f"{logit['iterations_timed']}; median {logit['iteration_in_floors_median']:.2f})",
         f"{logit['iteration_in_floors_max']:.2f}", "at most 1.3",
         logit["iteration_in_floors_max"] <= 1.3),
        ("User-written likelihood n = {n:,}, p = {p}: `GenericLikelihoodModel` Newton / "
         "fisherkit".format(**likelihood), f"{likelihood['speedup']:.1f}", "at least 50",
         likelihood["speedup"] >= 50),
        ("Same: largest relative se difference from the analytic logit",
         f"{likelihood['max_rel_se_diff_fisherkit_vs_analytic']:.1e}", "at most 1e-10",
         likelihood["max_rel_se_diff_fisherkit_vs_analytic"] <= 1e-10),
        ("Peak memory of a fit with se / the design matrix (logit n = {n:,}, p = {p})".format(
            **models["memory"]), f"{memory:.2f}", "at most 2", memory <= 2.0),
        ("Seconds per million rows at n = " + ", ".join(f"{g['n']:,}" for g in growth)
         + " (largest / smallest)", " / ".join(f"{v:.2f}" for v in per_million)
         + f" ({spread:.2f})", "linear in n", spread <= 1.25),
    ] + bench_mixed.targets(mixed)
    lines = ["| target | measured | required | met |", "| --- | --- | --- | --- |"]
    return "\n".join(lines + target_lines(rows))


def run(quick: bool, repeats: int) -> dict:
    started = time.perf_counter()
    if quick:
        logit = bench_logit.run(20_000, 10, repeats)
        likelihood = bench_likelihood.run(5_000, 5, repeats, repeats)
        profile_n, profile_p = 20_000, 10
    else:
        logit = bench_logit.run(1_000_000, 50, repeats)
        likelihood = bench_likelihood.run(200_000, 20, repeats, repeats)
        profile_n, profile_p = 1_000_000, 50
    models = bench_models.run(quick, repeats)
    mixed = bench_mixed.run(quick, repeats)
    profile, profile_total = profile_rows(profile_n, profile_p)
    return {"logit": logit, "likelihood": likelihood, "models": models, "mixed": mixed,
            "profile": profile,
            "profile_total": profile_total, "profile_n": profile_n, "profile_p": profile_p,
            "seconds": time.perf_counter() - started}


def text(r: dict, repeats: int, command: str) -> str:
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python "
               f"{platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
               f"statsmodels {statsmodels.__version__}")
    return f"""# Benchmarks

## Targets

{targets_table(r['logit'], r['likelihood'], r['models'], r['mixed'])}

Each ratio is of times measured in this one process, each time the median of {repeats} runs
after one untimed run; the tables below give the times. Timings move with other load on the
machine; the ratios, taken in the same minutes, move less.

{bench_logit.section(r['logit'], repeats)}
{bench_likelihood.section(r['likelihood'], repeats, repeats)}
{bench_models.section(r['models'], repeats)}
{bench_mixed.section(r['mixed'], command)}
{profile_section(r['profile'], r['profile_total'], r['profile_n'], r['profile_p'])}
## Command and machine

Command: `{command}` ({r['seconds'] / 60:.1f} minutes in all).

Machine: {machine}.
"""


def write(path: Path, head: str) -> None:
    """``head`` above the marker; below it, the sections other benchmarks wrote, without
    older copies of this runner's sections."""
    bench_logit.write_results(path, head, drop=TITLES)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; print, write nothing")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=["mixed"], default=None,
                        help="run one benchmark and replace its section and targets rows")
    parser.add_argument("--output", type=Path, default=None,
                        help="write here (default: benchmarks/RESULTS.md unless --quick)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    repeats = 1 if args.quick else args.repeats
    command = ("python benchmarks/run.py " + " ".join(argv if argv is not None
                                                     else sys.argv[1:])).strip()
    output = args.output if args.output is not None else (None if args.quick else RESULTS)
    if args.only == "mixed":
        mixed = bench_mixed.run(args.quick, repeats)
        if output is None:
            print(bench_mixed.section(mixed, command))
        else:
            bench_mixed.write(output, mixed, command, target_lines)
        return 0
    result = text(run(args.quick, repeats), repeats, command)
    if output is None:
        print(result)
    else:
        write(output, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
