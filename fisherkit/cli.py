"""Command line: ``fisherkit fit`` prints a summary table; ``fisherkit datasets`` lists data."""

from __future__ import annotations

import argparse
import sys
import warnings

import pandas as pd

from . import datasets
from .exceptions import FisherkitWarning
from .fitting import fit

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fisherkit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="fit a model and print its summary")
    source = f.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", help="a shipped data set (see 'fisherkit datasets')")
    source.add_argument("--csv", help="path to a CSV file")
    f.add_argument("--formula", required=True, help="'outcome ~ terms'")
    f.add_argument("--family", default="normal")
    f.add_argument("--link")
    f.add_argument("--cov", default="observed")
    f.add_argument("--method", default="newton")
    f.add_argument("--offset", help="column added to the linear predictor")
    f.add_argument("--trials", help="column of binomial trials")
    f.add_argument("--event", help="column: 1 event observed, 0 right-censored")
    f.add_argument("--cluster", help="column of cluster labels")
    f.add_argument("--alpha", type=float, default=0.05)
    sub.add_parser("datasets", help="list the shipped data sets")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fisherkit`` command.

    Examples
    --------
    >>> main(["fit", "--dataset", "spector", "--formula", "GRADE ~ GPA", "--family", "logit"])
    ... # doctest: +SKIP
    """
    args = _parser().parse_args(argv)
    if args.command == "datasets":
        for name in datasets.names():
            frame = datasets.load(name)
            print(f"{name:12s} {len(frame):6d} rows  {', '.join(frame.columns)}")
        return 0
    data = datasets.load(args.dataset) if args.dataset else pd.read_csv(args.csv)
    options = {k: getattr(args, k) for k in ("link", "offset", "trials", "event", "cluster")
               if getattr(args, k) is not None}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FisherkitWarning)
        res = fit(args.formula, data=data, family=args.family, cov=args.cov, method=args.method,
                  **options)
        table = res.summary(alpha=args.alpha)
    print(f"family: {res.model.family.name}   formula: {args.formula}")
    print(f"n_obs: {res.n_obs}   n_dropped: {res.n_dropped}   loglik: {res.loglik:.6f}   "
          f"aic: {res.aic:.4f}   bic: {res.bic:.4f}")
    print(f"converged: {res.converged} in {res.n_iter} iterations   cov: {res.cov_type}")
    with pd.option_context("display.width", 120, "display.max_columns", 10):
        print(table.to_string(float_format=lambda v: f"{v:.6g}"))
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
