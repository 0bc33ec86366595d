"""Command line: ``fisherkit fit`` prints a summary table, ``fisherkit predict`` writes a
model's predictions with their intervals as CSV, ``fisherkit compare`` prints a table of
optimizers (and saves its plots), ``fisherkit datasets`` lists the shipped data.

``predict`` reports a fisherkit error as one line ``error: ...`` on stderr and exits with
status 2, as argparse does for a bad option."""

from __future__ import annotations

import argparse
import sys
import warnings

import pandas as pd

from . import datasets
from .compare import DEFAULT_METHODS, compare
from .exceptions import DataError, FisherkitWarning, SpecificationError
from .fitting import fit

__all__ = ["main"]


#: the options of ``fit`` and ``predict`` passed to :func:`fisherkit.fit` by name
#: the options of the model itself, passed to fk.fit as they are given
MODEL_OPTIONS = ("link", "offset", "trials", "event", "weights", "weight_type")
FIT_OPTIONS = MODEL_OPTIONS + ("cluster",)


def _model_arguments(command: argparse.ArgumentParser) -> None:
    """The data and the model, shared by ``fit``, ``predict`` and ``compare``."""
    source = command.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", help="a shipped data set (see 'fisherkit datasets')")
    source.add_argument("--csv", help="path to a CSV file")
    command.add_argument("--formula", required=True, help="'outcome ~ terms'")
    command.add_argument("--family", default="normal")
    command.add_argument("--link")
    command.add_argument("--offset", help="column added to the linear predictor")
    command.add_argument("--trials", help="column of binomial trials")
    command.add_argument("--event", help="column: 1 event observed, 0 right-censored")
    command.add_argument("--weights", help="column of observation weights (needs --weight-type)")
    command.add_argument("--weight-type", dest="weight_type",
                         help="frequency, analytic or probability (Stata's f-, a- and pweights)")


def _fit_arguments(command: argparse.ArgumentParser) -> None:
    """The fit's settings, shared by ``fit`` and ``predict``."""
    _model_arguments(command)
    command.add_argument("--cov", help="observed (default), expected, opg, sandwich, HC0, "
                         "HC1, robust or cluster; robust by default with probability weights")
    command.add_argument("--method", default="newton")
    command.add_argument("--cluster", help="column of cluster labels")
    command.add_argument("--alpha", type=float, default=0.05,
                         help="intervals are 1 - alpha two-sided (default 0.05)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fisherkit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="fit a model and print its summary")
    _fit_arguments(f)
    p = sub.add_parser("predict", help="fit a model and write its predictions as CSV")
    _fit_arguments(p)
    p.add_argument("--newdata", metavar="FILE.csv",
                   help="rows to predict at (default: the fitted rows)")
    p.add_argument("--scale", default="response", help="response (default), link or "
                   "probabilities (ordinal families)")
    p.add_argument("--output", metavar="FILE.csv", help="where to write (default: stdout)")
    c = sub.add_parser("compare", help="fit one model with several optimizers and compare")
    _model_arguments(c)
    c.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                   help="comma-separated optimizers (default: all)")
    c.add_argument("--maxiter", default="100",
                   help="iteration budget: N for every method, or e.g. '100,gradient=5000'")
    c.add_argument("--tol", default="1e-10",
                   help="tolerance: one value, or e.g. '1e-10,gradient=1e-12'")
    c.add_argument("--option", action="append", default=[], metavar="METHOD.KEY=VALUE",
                   help="optimizer setting, e.g. natural_gradient.learning_rate=0.5 (repeatable)")
    c.add_argument("--plot-convergence", metavar="FILE.png",
                   help="save the log-likelihood gap per iteration")
    c.add_argument("--plot-paths", metavar="FILE.png",
                   help="save the optimizers' paths over the log-likelihood contours")
    c.add_argument("--params", help="the two parameters of --plot-paths, 'A,B'")
    c.add_argument("--profile", action="store_true",
                   help="contours with the other parameters profiled out, not held")
    sub.add_parser("datasets", help="list the shipped data sets")
    return parser


def _number(text: str, kind, what: str):
    try:
        return kind(text)
    except ValueError:
        raise SpecificationError(f"The {what} must be a number; got {text!r}.") from None


def _per_method(text: str, kind, what: str):
    """'N' for every method, or 'N,method=M,...': a default and per-method values."""
    default, per = None, {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        if "=" in part:
            method, value = part.split("=", 1)
            per[method.strip()] = _number(value.strip(), kind, f"--{what} of {method.strip()}")
        else:
            default = _number(part, kind, f"--{what}")
    return default, per


def _budget(text: str, methods, kind, what: str):
    default, per = _per_method(text, kind, what)
    unknown = sorted(set(per) - set(methods))
    if unknown:
        raise SpecificationError(f"--{what} names methods not compared: {unknown}.")
    return {m: per.get(m, default) for m in methods if per.get(m, default) is not None}


def _options(items: list[str]) -> dict:
    """'method.key=value' settings; values are numbers where they parse as numbers."""
    options: dict = {}
    for item in items:
        target, sep, value = item.partition("=")
        method, dot, key = target.partition(".")
        if not (sep and dot and method and key):
            raise SpecificationError(f"An --option is 'METHOD.KEY=VALUE'; got {item!r}.")
        for kind in (int, float):
            try:
                value = kind(value)
                break
            except ValueError:
                continue
        options.setdefault(method, {})[key] = value
    return options


def _read_csv(path: str, what: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:  # absent, unreadable, empty or malformed
        raise DataError(f"Cannot read the {what} {path!r}: {exc}") from None


def _load(args) -> pd.DataFrame:
    return datasets.load(args.dataset) if args.dataset else _read_csv(args.csv, "CSV file")


def _fit(args, data: pd.DataFrame):
    options = {k: getattr(args, k) for k in FIT_OPTIONS if getattr(args, k) is not None}
    return fit(args.formula, data=data, family=args.family, cov=args.cov, method=args.method,
               **options)


def _predict(args) -> int:
    """Fit on the data, predict at ``--newdata`` (or the fitted rows), write CSV."""
    data = _load(args)
    new = None if args.newdata is None else _read_csv(args.newdata, "--newdata file")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FisherkitWarning)
        table = _fit(args, data).predict(new, scale=args.scale, alpha=args.alpha)
    if table.index.name is None:
        table.index.name = "row"
    if args.output is None:
        table.to_csv(sys.stdout)
    else:
        try:
            table.to_csv(args.output)
        except OSError as exc:
            raise DataError(f"Cannot write {args.output!r}: {exc}") from None
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return 0


def _compare(args) -> int:
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if args.plot_paths and not args.params:
        raise SpecificationError("--plot-paths needs --params A,B (two parameter names).")
    params = [p.strip() for p in args.params.split(",")] if args.params else None
    if params is not None and len(params) != 2:
        raise SpecificationError(f"--params takes two names, 'A,B'; got {args.params!r}.")
    maxiter = _budget(args.maxiter, methods, int, "maxiter")
    tol = _budget(args.tol, methods, float, "tol")
    kwargs = {k: getattr(args, k) for k in MODEL_OPTIONS if getattr(args, k) is not None}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FisherkitWarning)
        table = compare(args.formula, _load(args), args.family, methods=methods,
                        maxiter=maxiter, tol=tol, options=_options(args.option), **kwargs)
    best = table.attrs["results"][table.attrs["best"]]
    print(f"family: {best.model.label}   formula: {args.formula}   n_obs: {best.n_obs}")
    print(f"best: {table.attrs['best']}   loglik: {best.loglik:.6f}")
    shown = table.drop(columns=[c for c in ("passes",) if table[c].isna().all()])
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(shown.to_string(float_format=lambda v: f"{v:.6g}",
                              formatters={"loglik": lambda v: f"{v:.10g}"}))
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.plot_convergence or args.plot_paths:
        import matplotlib
        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt

        from .plotting import plot_convergence, plot_paths
        for path, draw in ((args.plot_convergence, lambda ax: plot_convergence(table, ax=ax)),
                           (args.plot_paths, lambda ax: plot_paths(table, params, ax=ax,
                                                                   profile=args.profile))):
            if path:
                fig, ax = plt.subplots(figsize=(6.5, 5))
                draw(ax)
                fig.tight_layout()
                fig.savefig(path, dpi=120)
                plt.close(fig)
                print(f"saved: {path}")
    return 0


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
    command = {"compare": _compare, "predict": _predict, "fit": _summary}[args.command]
    try:
        return command(args)
    except (DataError, SpecificationError) as exc:
        # a mistake in the command line or the data: one line, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _summary(args) -> int:
    """Fit and print the header and the table of estimates."""
    data = _load(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FisherkitWarning)
        res = _fit(args, data)
        table = res.summary(alpha=args.alpha)
    head = res.header
    print(f"family: {head['family']}   formula: {head['formula']}")
    print(f"n_obs: {head['n_obs']}   n_dropped: {head['n_dropped']}   loglik: {head['loglik']:.6f}   "
          f"aic: {head['aic']:.4f}   bic: {head['bic']:.4f}")
    print(f"converged: {head['converged']} in {head['n_iter']} iterations   cov: {head['cov']}")
    with pd.option_context("display.width", 120, "display.max_columns", 10):
        print(table.to_string(float_format=lambda v: f"{v:.6g}"))
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
