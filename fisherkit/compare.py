"""``compare``: one model, one data set, several optimizers, one table."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .exceptions import (
    ConvergenceWarning,
    DataError,
    FisherkitWarning,
    SpecificationError,
    user_stacklevel,
)
from .fitting import fit
from .optimize import METHODS

__all__ = ["compare", "DEFAULT_METHODS", "COMPARE_COLUMNS"]

DEFAULT_METHODS = ("newton", "fisher_scoring", "natural_gradient", "gradient", "bfgs", "lbfgs")
#: ``fit``'s own defaults, for methods that ``maxiter`` or ``tol`` mappings leave out
DEFAULT_MAXITER, DEFAULT_TOL = 100, 1e-10
COMPARE_COLUMNS = ["converged", "n_iter", "maxiter", "passes", "loglik", "loglik_gap",
                   "grad_norm", "seconds", "max_param_diff_se"]


class Results(dict):
    """Method name to :class:`~fisherkit.FitResult`. Compared by identity, so that pandas
    can carry it in ``attrs`` (pandas compares attrs with ``==``)."""

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __deepcopy__(self, memo):
        # pandas deep-copies attrs into every frame derived from the table; the results
        # are immutable, so the copies share them instead of duplicating models and data
        return self


class Traces(Mapping):
    """Method name to trace, read from the results when first asked: a trace's derived
    columns (the divergence of each step) cost a pass over the data per row. Compared by
    identity, like :class:`Results`."""

    def __init__(self, results: Mapping):
        self._results = results

    def __getitem__(self, method: str) -> pd.DataFrame:
        return self._results[method].trace

    def __iter__(self):
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)

    def __repr__(self) -> str:
        return f"Traces({list(self._results)})"

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __deepcopy__(self, memo):
        return self


def _per_method(value, methods: Sequence[str], name: str, default):
    """A setting given once for all methods, or as a mapping from method name."""
    if not isinstance(value, Mapping):
        return {m: value for m in methods}
    unknown = sorted(set(value) - set(methods))
    if unknown:
        raise SpecificationError(f"The '{name}' names methods that are not compared: "
                                 f"{unknown}; the methods are {list(methods)}.")
    return {m: value.get(m, default) for m in methods}


def _check_methods(methods) -> tuple[str, ...]:
    if isinstance(methods, str):
        methods = (methods,)
    methods = tuple(methods)
    if not methods:
        raise SpecificationError("The 'methods' must name at least one optimizer.")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise SpecificationError(f"Unknown method(s) {unknown}; choose from {sorted(METHODS)}.")
    if len(set(methods)) != len(methods):
        raise SpecificationError(f"The 'methods' repeat a name: {list(methods)}.")
    return methods


def _passes(res) -> float:
    """Passes over the data the optimizer made, where its trace counts them."""
    trace = res.optimize_result.trace
    if "passes" in trace.columns and len(trace):
        return float(trace["passes"].iloc[-1])
    return np.nan


def compare(formula: str, data: pd.DataFrame, family="normal", *,
            methods: Sequence[str] = DEFAULT_METHODS,
            maxiter: int | Mapping[str, int] = DEFAULT_MAXITER,
            tol: float | Mapping[str, float] = DEFAULT_TOL,
            options: Mapping[str, dict] | None = None, **fit_kwargs) -> pd.DataFrame:
    """Fit one model with several optimizers from the same start and tabulate how they did.

    Every method starts from the same values and gets its own iteration budget ``maxiter``
    and stopping tolerance ``tol``. An iteration is not the same amount of work for every
    method: a Newton or Fisher-scoring iteration builds a ``p x p`` matrix and solves with
    it, a gradient iteration does not, and line searches add evaluations of the
    log-likelihood. So "the same budget" is a number of iterations, and the cost actually
    spent is in ``passes`` (evaluations over the whole data, where the trace counts them)
    and ``seconds``. Give the linearly converging methods a larger ``maxiter``
    (``maxiter={"gradient": 10_000}``) to see whether they get there at all.

    Parameters
    ----------
    formula, data, family
        As for :func:`fisherkit.fit`.
    methods : sequence of str
        Optimizers to run, in the order of the rows.
    maxiter : int or mapping
        Most iterations: one number for every method, or a mapping from method name to its
        budget (methods it leaves out get 100, the default of :func:`fisherkit.fit`).
    tol : float or mapping
        Convergence tolerance of :func:`fisherkit.fit`, for every method or per method
        (default 1e-10). The stopping rules differ: Newton's is relative to
        ``1 + |loglik|``, the other ascent methods' absolute (see :mod:`fisherkit.optimize.stopping`).
    options : mapping, optional
        Per-method optimizer settings, ``{"natural_gradient": {"learning_rate": 0.5}}``.
    **fit_kwargs
        Passed to every fit (``link=``, ``offset=``, ``start=``, ...).

    Returns
    -------
    pandas.DataFrame
        A row per method, indexed by method name: ``converged``, ``n_iter``, ``maxiter``
        (the budget it had), ``passes``, ``loglik``, ``loglik_gap`` (best log-likelihood of
        all methods minus this one's), ``grad_norm`` (Euclidean norm of the working-scale
        score where it stopped), ``seconds`` (wall time of the whole fit),
        ``max_param_diff_se`` (largest ``|estimate - best estimate| / se`` over the
        parameters, natural scale, standard errors of the best fit).
        ``attrs["results"]`` maps each method to its :class:`~fisherkit.FitResult` (for
        :mod:`fisherkit.plotting`), ``attrs["traces"]`` to its trace, ``attrs["messages"]``
        to the optimizer's stopping message (or the error that stopped it) and
        ``attrs["best"]`` names the method with the highest log-likelihood.

    Raises
    ------
    SpecificationError
        An unknown or repeated method, or a ``maxiter``/``tol``/``options`` mapping naming
        a method not compared; the error of the first method when every method fails.

    Warns
    -----
    FisherkitWarning
        Warnings of the fits other than non-convergence (which the ``converged`` column
        reports), once per distinct message, naming the methods that raised it; and a
        method that cannot be used on this model (Fisher scoring where the expected
        information is not defined), whose row is then NaN and not converged.

    Examples
    --------
    >>> import fisherkit as fk
    >>> table = fk.compare("GRADE ~ GPA", fk.datasets.load("spector"), "logit",
    ...                    methods=("newton", "gradient"), maxiter={"gradient": 20})
    >>> table["converged"].to_dict(), table["maxiter"].to_dict()
    ({'newton': True, 'gradient': False}, {'newton': 100, 'gradient': 20})
    """
    methods = _check_methods(methods)
    budgets = _per_method(maxiter, methods, "maxiter", DEFAULT_MAXITER)
    tolerances = _per_method(tol, methods, "tol", DEFAULT_TOL)
    settings = _per_method({} if options is None else options, methods, "options", None)
    results, seconds, raised, failed = Results(), {}, {}, {}
    for method in methods:
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FisherkitWarning)
            try:
                res = fit(formula, data, family, method=method, maxiter=budgets[method],
                          tol=tolerances[method], options=settings[method], **fit_kwargs)
                _ = res.se  # inverting the information warns here, inside the catch
                results[method] = res
            except (DataError, SpecificationError) as error:
                failed[method] = error
        seconds[method] = time.perf_counter() - start
        for w in caught:
            if not issubclass(w.category, FisherkitWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            elif not issubclass(w.category, ConvergenceWarning):
                raised.setdefault((w.category, str(w.message)), []).append(method)
    if not results:
        raise failed[methods[0]]
    for method, error in failed.items():
        warnings.warn(f"The {method} method cannot be used on this model: {error}",
                      FisherkitWarning, stacklevel=user_stacklevel())
    for (category, message), where in raised.items():
        warnings.warn(f"{', '.join(where)}: {message}", category, stacklevel=user_stacklevel())

    best_method = max(results, key=lambda m: results[m].loglik)
    best = results[best_method]
    rows = {}
    for method in methods:
        res = results.get(method)
        if res is None:
            rows[method] = {"converged": False, "n_iter": 0, "maxiter": budgets[method],
                            "seconds": seconds[method]}
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            diff_se = np.abs(res.params - best.params) / best.se
        rows[method] = {
            "converged": res.converged,
            "n_iter": res.n_iter,
            "maxiter": budgets[method],
            "passes": _passes(res),
            "loglik": res.loglik,
            "loglik_gap": best.loglik - res.loglik,
            "grad_norm": float(np.linalg.norm(res.optimize_result.score)),
            "seconds": seconds[method],
            # NaN where the best fit's standard errors are (its warning was passed on)
            "max_param_diff_se": float(np.max(diff_se)) if np.all(np.isfinite(diff_se))
            else np.nan,
        }
    table = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=COMPARE_COLUMNS)
    table.index.name = "method"
    table.attrs["results"] = results
    table.attrs["traces"] = Traces(results)
    table.attrs["messages"] = {m: (results[m].optimize_result.message if m in results
                                   else f"failed: {failed[m]}") for m in methods}
    table.attrs["best"] = best_method
    return table
