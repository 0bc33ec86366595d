"""``fit``: a formula, a DataFrame and a family in; a :class:`FitResult` out."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .autodiff.derivatives import classify_stationary_point
from .exceptions import (
    ConvergenceWarning,
    SaddlePointWarning,
    SpecificationError,
    user_stacklevel,
)
from .building import build_model
from .models.family import Family
from .optimize import METHODS, Optimizer, resolve_optimizer  # noqa: F401 (METHODS kept here)
from .optimize.progress import split_callback, with_progress
from .results import COV_TYPES, FitResult

__all__ = ["fit", "build_model"]


def fit(formula: str, data: pd.DataFrame, family: str | Family = "normal", *,
        link: str | None = None, offset=None, trials=None, event=None, cluster=None,
        cov: str = "observed", method: str | Optimizer = "newton", maxiter: int = 100,
        tol: float = 1e-10,
        missing: str = "drop", start=None, options: dict | None = None, progress=False,
        **aux) -> FitResult:
    """Fit a likelihood model by maximum likelihood.

    Parameters
    ----------
    formula : str
        ``"outcome ~ terms"``, in formulaic syntax (``C(x)``, ``a:b``, ``np.log(x)``).
    data : pandas.DataFrame, dask DataFrame or str
        A Dask DataFrame, or a path to parquet data, is fitted partition by partition with
        the same results (see :func:`fisherkit.distributed.model.distributed_model` for
        ``client=``, ``levels=`` and ``retries=``).
    family : str or Family
        A built-in family name (``"normal"``, ``"logit"``, ``"probit"``, ``"binomial"``,
        ``"poisson"``, ``"negbin"``, ``"gamma"``, ``"exponential"``, ``"weibull"``,
        ``"student_t"``, ``"ordinal"``) or a user's :class:`Family`.
    link : str, optional
        A non-default link where the family has several.
    offset : str or array-like, optional
        Added to the linear predictor; exposure enters as ``offset=np.log(exposure)``.
    trials : str or array-like, optional
        Number of trials (binomial family).
    event : str or array-like, optional
        1 where the event was observed, 0 where the time is right-censored (exponential,
        weibull).
    cluster : str or array-like, optional
        Group labels, kept for cluster-robust covariances.
    cov : str
        How standard errors are computed: ``"observed"`` (minus the Hessian at the
        estimate; Stata's OIM), ``"expected"`` (Fisher information under the model),
        ``"opg"`` (outer product of scores), ``"sandwich"`` or ``"HC0"`` (Huber-White, no
        small-sample factor), ``"HC1"`` (times ``n / (n - p)``), ``"cluster"`` (scores
        summed within ``cluster=`` groups, times ``G / (G - 1)`` as Stata's ML commands).
    method : str or Optimizer
        The optimizer, by name (``"newton"``, ``"fisher_scoring"``, ``"natural_gradient"``,
        ``"gradient"``, ``"bfgs"``, ``"lbfgs"``) or as an object with its settings
        (``fk.optimize.NaturalGradient(learning_rate=0.5)``; see :mod:`fisherkit.optimize`).
    maxiter : int
        Most iterations.
    tol : float
        Convergence tolerance on the Newton decrement relative to ``1 + |loglik|``.
    missing : {"drop", "raise"}
        Rows with missing values in used columns are dropped (counted in ``n_dropped``) or
        raise an error.
    start : array-like, optional
        Starting values on the working scale, in the order of ``params_working``.
    options : dict, optional
        Settings of a method given by name (``learning_rate``, ``damping``, ``fisher`` for
        the natural gradient; ``batch_size`` for the stochastic variants, see
        :mod:`fisherkit.optimize.stochastic`), and ``callback``, called with each trace row.
    progress : bool, stream or callable
        Opt-in progress: True writes a line per iteration to standard error, a stream
        (anything with ``write``) receives the lines, a callable receives each trace row
        (see :mod:`fisherkit.optimize.progress`). Nothing is printed by default.
    **aux
        Extra per-observation data a user's family declares in its ``aux``.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import fisherkit as fk
    >>> df = fk.datasets.load("spector")
    >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=df, family="logit")
    >>> res.summary().round(3).loc["PSI", ["estimate", "se"]].tolist()
    [2.379, 1.065]
    """
    settings, callback = split_callback(options)
    optimizer = resolve_optimizer(method, settings)
    method = optimizer.name
    if cov not in COV_TYPES:
        raise SpecificationError(f"Unknown cov {cov!r}; choose one of {list(COV_TYPES)}.")
    if not (isinstance(maxiter, (int, np.integer)) and maxiter > 0):
        raise SpecificationError(f"The 'maxiter' must be a positive integer; got {maxiter!r}.")
    if not (isinstance(tol, (float, int)) and tol > 0):
        raise SpecificationError(f"The 'tol' must be a positive number; got {tol!r}.")
    model = build_model(formula, data, family, link=link, offset=offset, trials=trials,
                        event=event, cluster=cluster, missing=missing, **aux)
    theta0 = model.start_values() if start is None else np.asarray(start, dtype=float)
    if theta0.shape != (model.n_params,):
        raise SpecificationError(f"The 'start' must have {model.n_params} values "
                                 f"({', '.join(model.working_names)}); got shape {theta0.shape}.")
    model.prefetch(optimizer.pieces)
    opt = optimizer.run(model, theta0, maxiter=maxiter, tol=tol,
                        callback=with_progress(callback, progress, method))
    flags = set()
    if not opt.converged:
        flags.add("not_converged")
        warnings.warn(f"The {method} optimizer did not converge ({opt.message}) after "
                      f"{opt.n_iter} iterations; estimates are not reliable.",
                      ConvergenceWarning, stacklevel=user_stacklevel())
    for finding in model.post_fit_checks(opt.theta):
        flags.add(finding.flag)
        warnings.warn(finding.message, finding.category, stacklevel=user_stacklevel())
    if opt.hessian is not None and np.all(np.isfinite(opt.hessian)):
        kind = classify_stationary_point(opt.hessian)
        if kind in ("saddle", "minimum"):
            flags.add("saddle")
            warnings.warn(f"The optimizer stopped at a {kind} of the log-likelihood, not a "
                          "maximum; try other starting values.", SaddlePointWarning, stacklevel=user_stacklevel())
    result = FitResult(model, opt.theta, optimize_result=opt, method=method, formula=formula,
                       cov_type=cov, flags=flags, hessian=opt.hessian)
    _ = result.flags  # an information that cannot be inverted warns here, at the fit
    return result
