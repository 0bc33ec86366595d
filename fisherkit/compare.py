"""``compare``: one model, one data set, several optimizers, one table."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from .exceptions import FisherkitWarning
from .fitting import fit

__all__ = ["compare"]

class Traces(dict):
    """Method name to trace. Compared by identity, so that pandas can carry it in ``attrs``
    (pandas compares attrs with ``==``, which is ambiguous for DataFrames)."""

    __eq__ = object.__eq__
    __hash__ = object.__hash__


DEFAULT_METHODS = ("newton", "fisher_scoring", "natural_gradient", "gradient", "bfgs", "lbfgs")


def compare(formula: str, data: pd.DataFrame, family="normal", *, methods=DEFAULT_METHODS,
            maxiter: int = 100, options: dict | None = None, **fit_kwargs) -> pd.DataFrame:
    """Fit one model with several methods under the same iteration budget.

    Parameters
    ----------
    formula, data, family
        As for :func:`fisherkit.fit`.
    methods : sequence of str
        Optimizers to run.
    maxiter : int
        The same iteration budget for every method.
    options : dict, optional
        Per-method optimizer settings, ``{"natural_gradient": {"learning_rate": 0.5}}``.
    **fit_kwargs
        Passed to every fit (``link=``, ``offset=``, ...).

    Returns
    -------
    pandas.DataFrame
        A row per method: ``converged``, ``n_iter``, ``loglik``, ``loglik_gap`` (to the best),
        ``grad_norm``, ``seconds``, ``max_param_diff_se`` (largest difference from the best
        fit's estimates in units of its standard errors). ``attrs["traces"]`` maps each
        method to its trace.

    Examples
    --------
    >>> import fisherkit as fk
    >>> table = fk.compare("GRADE ~ GPA", fk.datasets.load("spector"), "logit",
    ...                    methods=("newton", "bfgs"))
    >>> list(table.index)
    ['newton', 'bfgs']
    """
    results, seconds = {}, {}
    for method in methods:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FisherkitWarning)  # reported in the table instead
            results[method] = fit(formula, data, family, method=method, maxiter=maxiter,
                                  options=(options or {}).get(method), **fit_kwargs)
        seconds[method] = time.perf_counter() - start
    best = max(results.values(), key=lambda r: r.loglik)
    rows = {}
    for method, res in results.items():
        rows[method] = {
            "converged": res.converged,
            "n_iter": res.n_iter,
            "loglik": res.loglik,
            "loglik_gap": best.loglik - res.loglik,
            "grad_norm": float(np.linalg.norm(res.optimize_result.score)),
            "seconds": seconds[method],
            "max_param_diff_se": float(np.max(np.abs(res.params - best.params) / best.se)),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "method"
    table.attrs["traces"] = Traces({m: r.trace for m, r in results.items()})
    return table
