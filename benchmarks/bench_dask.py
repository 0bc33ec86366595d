"""Out of core: a logit on parquet data about ten times the memory allowed per Dask worker.

Run ``python benchmarks/bench_dask.py`` (40 million rows, p = 32, two workers of 1 GB each)
to write its section of ``benchmarks/RESULTS.md``; ``--rows`` and ``--memory-limit`` change
the size, ``--quick`` runs a small one and writes nothing. The data are written partition by
partition, never held whole, to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import dask
import dask.dataframe as dd
import distributed
import numpy as np
import pandas as pd

import fisherkit as fk

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_models import write_section  # noqa: E402

TITLE = "## Out of core on Dask"
P = 32
ROWS_PER_PARTITION = 125_000
BETA = np.linspace(-0.4, 0.4, P)


def partition(seed: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, P - 1))
    eta = BETA[0] + X @ BETA[1:]
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(1, P)])
    frame["y"] = (rng.random(rows) < 1 / (1 + np.exp(-eta))).astype(float)
    return frame


def write_data(folder: Path, rows: int) -> int:
    parts = [dask.delayed(partition)(k, min(ROWS_PER_PARTITION, rows - k * ROWS_PER_PARTITION))
             for k in range(-(-rows // ROWS_PER_PARTITION))]
    meta = partition(0, 1).iloc[:0]
    dd.from_delayed(parts, meta=meta).to_parquet(folder, write_index=False)
    return len(parts)


def worker_peak_rss() -> int:
    # Linux reports the peak resident set size in kilobytes
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run(rows: int, memory_limit: str) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="fisherkit-bench-"))
    try:
        start = time.perf_counter()
        with dask.config.set(scheduler="threads", num_workers=2):
            n_partitions = write_data(folder / "data.parquet", rows)
        write_seconds = time.perf_counter() - start
        data_bytes = rows * P * 8
        formula = "y ~ " + " + ".join(f"x{j}" for j in range(1, P))
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      memory_limit=memory_limit, dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            limit = next(iter(client.scheduler_info()["workers"].values()))["memory_limit"]
            start = time.perf_counter()
            res = fk.fit(formula, data=str(folder / "data.parquet"), family="logit",
                         client=client)
            se = {kind: res.with_cov(kind).se for kind in ("observed", "opg", "sandwich")}
            seconds = time.perf_counter() - start
            peaks = client.run(worker_peak_rss)
            alive = len(client.scheduler_info()["workers"])
        return {"rows": rows, "partitions": n_partitions, "data GB": data_bytes / 1e9,
                "limit GB": limit / 1e9, "seconds": seconds, "write seconds": write_seconds,
                "iterations": res.n_iter, "converged": res.converged,
                "peak GB": {w: v / 1e9 for w, v in peaks.items()}, "workers alive": alive,
                "largest |estimate - truth| / se": float(np.max(np.abs(res.params.to_numpy()
                                                                         - BETA) / se["observed"].to_numpy())),
                "se": se}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def section(r: dict, command: str) -> str:
    peaks = list(r["peak GB"].values())
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python "
               f"{platform.python_version()}, dask {dask.__version__}")
    return f"""{TITLE}

Command: `{command}`

Machine: {machine}. A logit with p = {P} on {r["rows"]:,} rows in {r["partitions"]} parquet
partitions ({r["data GB"]:.1f} GB of float64 data, {r["data GB"] / r["limit GB"]:.1f} times the
{r["limit GB"]:.1f} GB memory limit of each of the two worker processes of a
`distributed.LocalCluster`), fitted by `fk.fit(formula, data=path, client=client)` with
observed, OPG and sandwich standard errors. Each Newton iteration reads the partitions
again and sends back `p x p` pieces; nothing is persisted.

| quantity | value |
| --- | --- |
| fit + standard errors, seconds | {r["seconds"]:.1f} |
| Newton iterations | {r["iterations"]} (converged: {r["converged"]}) |
| peak resident memory per worker, GB | {", ".join(f"{p:.2f}" for p in peaks)} |
| worker memory limit, GB | {r["limit GB"]:.2f} |
| workers alive at the end | {r["workers alive"]} of 2 |
| largest abs(estimate - truth) / se | {r["largest |estimate - truth| / se"]:.2f} |
| writing the data, seconds (not part of the fit) | {r["write seconds"]:.1f} |

**Every worker stayed under its limit: the largest peak was {max(peaks):.2f} GB of
{r["limit GB"]:.2f} GB.**
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=40_000_000)
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rows = 2_000_000 if args.quick else args.rows
    r = run(rows, args.memory_limit)
    command = "python benchmarks/bench_dask.py" + (
        "" if (args.rows, args.memory_limit) == (40_000_000, "1GB")
        else f" --rows {args.rows} --memory-limit {args.memory_limit}")
    text = section(r, command)
    if args.quick:
        print(text)
    else:
        write_section(Path(__file__).with_name("RESULTS.md"), text, TITLE)
    return 0 if max(r["peak GB"].values()) < r["limit GB"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
