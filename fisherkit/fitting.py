"""Fitting: a formula, data and a family in (or any model); a :class:`FitResult` out.

Every fit goes through one core, :func:`fit_model`: one check of the settings, the optimizer,
one set of checks when it ends (convergence, the model's own, a maximum), one result.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import pandas as pd

from .autodiff.derivatives import classify_stationary_point
from .building import build_model
from .exceptions import (
    ConvergenceWarning,
    DataError,
    SaddlePointWarning,
    SpecificationError,
    user_stacklevel,
)
from .models.family import Family
from .models.likelihood import Likelihood
from .models.protocol import Finding, LikelihoodModel
from .models.weights import refuse_model_based
from .optimize import Optimizer, resolve_optimizer
from .optimize.directions import newton_direction
from .optimize.progress import split_callback, with_progress
from .results import COV_TYPES, FitResult

__all__ = ["fit", "fit_likelihood", "fit_model", "build_model", "FitSettings"]

#: the Newton decrement ``g' (-H)^-1 g`` a fit may end with and still count as converged:
#: its square root is how many standard errors (in the worst direction) the estimate lies
#: from the maximum of the local quadratic, here a hundredth of one
FINAL_DECREMENT = 1e-4


def fit(formula: str, data: pd.DataFrame, family: str | Family = "normal", *,
        link: str | None = None, offset=None, trials=None, event=None, cluster=None,
        weights=None, weight_type: str | None = None,
        cov: str | None = None, method: str | Optimizer = "newton", maxiter: int = 100,
        tol: float = 1e-10,
        missing: str = "drop", start=None, options: dict | None = None, progress=False,
        client=None, levels: dict | None = None, retries: int | None = None,
        nagq: int | None = None, **aux) -> FitResult:
    """Fit a likelihood model by maximum likelihood.

    Parameters
    ----------
    formula : str
        ``"outcome ~ terms"``, in formulaic syntax (``C(x)``, ``a:b``, ``np.log(x)``).
    data : pandas.DataFrame, dask DataFrame or str
        A Dask DataFrame, or a path to parquet data, is fitted partition by partition with
        the same results (see :func:`fisherkit.distributed.build.distributed_model` for
        ``client=``, ``levels=`` and ``retries=``).
    family : str or Family
        A built-in family name (``"normal"``, ``"logit"``, ``"probit"``, ``"binomial"``,
        ``"poisson"``, ``"negbin"``, ``"gamma"``, ``"exponential"``, ``"weibull"``,
        ``"student_t"``, ``"ordinal"``) or a user's :class:`Family`. A random-effects term
        ``(1 | g)`` or ``(1 + x | g)`` (lme4's syntax, one grouping column) makes a mixed
        model fitted by maximum likelihood of its marginal likelihood
        (:mod:`fisherkit.models.mixed`).
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
    weights : str or array-like, optional
        Observation weights, each multiplying its row's log-likelihood; rows of zero weight
        are dropped (counted in ``n_dropped``). Needs ``weight_type``.
    weight_type : {"frequency", "analytic", "probability"}
        What the weights mean; there is no default. ``"frequency"`` (Stata's fweights):
        row ``i`` stands for ``w_i`` identical rows, whole numbers, ``n_obs`` is their sum
        and every number equals the fit on the replicated rows. ``"analytic"`` (aweights):
        rescaled to sum to the number of rows. ``"probability"`` (pweights): survey
        weights; a pseudo-likelihood, so ``cov`` defaults to ``"robust"`` and the
        model-based kinds are refused. See :mod:`fisherkit.models.weights`.
    cov : str, optional
        How standard errors are computed: ``"observed"`` (the default; minus the Hessian at
        the estimate, Stata's OIM), ``"expected"`` (Fisher information under the model),
        ``"opg"`` (outer product of scores), ``"sandwich"`` or ``"HC0"`` (Huber-White, no
        small-sample factor), ``"HC1"`` (times ``n / (n - p)``), ``"robust"`` (times
        ``N / (N - 1)``, Stata's ``vce(robust)``), ``"cluster"`` (scores summed within
        ``cluster=`` groups, times ``G / (G - 1)`` as Stata's ML commands). With
        probability weights the default is ``"robust"``. The meat of the sandwich kinds is
        ``sum w s s'`` for frequency weights and ``sum (w s)(w s)'`` for analytic and
        probability weights; ``n`` and ``N`` count frequency weights.
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
    client, levels, retries
        For data in Dask only: the cluster (a ``distributed.Client`` or a scheduler
        address), categorical levels known in advance, and how often a task that raised is
        run again (see :func:`fisherkit.distributed.build.distributed_model`).
    nagq : int, optional
        For formulas with a random-effects term: quadrature points per group, 1 (the
        default) for the Laplace approximation, more for adaptive Gauss-Hermite quadrature
        with that many points per random effect (the product rule: ``nagq ** q`` nodes per
        group, at most 400). Refused for formulas without random effects.
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
    run = FitSettings.check(method, options, cov, maxiter, tol, progress)
    model = build_model(formula, data, family, link=link, offset=offset, trials=trials,
                        event=event, cluster=cluster, weights=weights, weight_type=weight_type,
                        missing=missing, client=client, levels=levels, retries=retries,
                        nagq=nagq, **aux)
    return run.fit(model, start=start, formula=formula)


def fit_likelihood(likelihood: Likelihood, *, method: str | Optimizer = "newton",
                   cov: str | None = None, maxiter: int = 100, tol: float = 1e-10, start=None,
                   options: dict | None = None, progress=False) -> FitResult:
    """Fit a :class:`fisherkit.Likelihood` by maximum likelihood.

    Parameters
    ----------
    likelihood : Likelihood
    method, cov, maxiter, tol, options, progress
        As for :func:`fit`. ``cov="expected"`` and ``method="fisher_scoring"`` need the
        likelihood's ``sample=`` (Monte Carlo expected information).
    start : array-like, optional
        Starting values on the working scale, in the order of ``working_names``.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> import fisherkit as fk
    >>> def exponential(p, data):
    ...     return anp.log(p["rate"]) - p["rate"] * data["t"]
    >>> data = {"t": np.array([0.5, 1.0, 2.5])}
    >>> res = fit_likelihood(fk.Likelihood(exponential, data, params={"rate": fk.Scalar("positive")}))
    >>> round(float(res.params["rate"]), 6), round(float(res.se["rate"]), 6)  # 1/mean, rate/sqrt(n)
    (0.75, 0.433013)
    """
    if not isinstance(likelihood, Likelihood):
        raise SpecificationError(f"fit_likelihood takes a fk.Likelihood; got {type(likelihood).__name__}.")
    return fit_model(likelihood, method=method, cov=cov, maxiter=maxiter, tol=tol, start=start,
                     options=options, progress=progress)


def fit_model(model: LikelihoodModel, *, method: str | Optimizer = "newton",
              cov: str | None = None, maxiter: int = 100, tol: float = 1e-10, start=None,
              options: dict | None = None, progress=False, formula: str | None = None
              ) -> FitResult:
    """Fit any model of the protocol (:mod:`fisherkit.models.protocol`): the one core that
    :func:`fit`, :func:`fit_likelihood` and :meth:`fisherkit.Flow.fit` go through.

    Parameters
    ----------
    model : LikelihoodModel
        An index model (:func:`fisherkit.building.build_model`), a :class:`fisherkit.Likelihood`
        or a model over Dask partitions.
    method, cov, maxiter, tol, start, options, progress
        As for :func:`fit`.
    formula : str, optional
        What the result calls the model; the model's label by default.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import fisherkit as fk
    >>> model = build_model("GRADE ~ GPA", fk.datasets.load("spector"), "logit")
    >>> fit_model(model, method="fisher_scoring").converged
    True
    """
    run = FitSettings.check(method, options, cov, maxiter, tol, progress)
    return run.fit(model, start=start, formula=formula)


@dataclass(frozen=True)
class FitSettings:
    """How a fit runs, checked before any model is built: the optimizer with its settings,
    the covariance kind, the stopping rule and the callback for each trace row."""

    optimizer: Optimizer
    cov: str | None
    maxiter: int
    tol: float
    callback: Callable | None

    @classmethod
    def check(cls, method, options, cov, maxiter, tol, progress) -> "FitSettings":
        """The settings of :func:`fit`, each refused with a message naming it."""
        settings, callback = split_callback(options)
        optimizer = resolve_optimizer(method, settings)
        if cov is not None and cov not in COV_TYPES:
            raise SpecificationError(f"Unknown cov {cov!r}; choose one of {list(COV_TYPES)}.")
        # bool is an int to Python, but True is no number of iterations or tolerance
        if not (isinstance(maxiter, (int, np.integer)) and not isinstance(maxiter, bool)
                and maxiter > 0):
            raise SpecificationError(f"The 'maxiter' must be a positive integer; got {maxiter!r}.")
        if not (isinstance(tol, (float, int, np.floating, np.integer)) and not isinstance(tol, bool)
                and np.isfinite(tol) and tol > 0):
            raise SpecificationError(f"The 'tol' must be a positive number; got {tol!r}.")
        return cls(optimizer, cov, maxiter, tol, with_progress(callback, progress, optimizer.name))

    def fit(self, model: LikelihoodModel, *, start=None, formula: str | None = None) -> FitResult:
        """Run the optimizer on ``model``, warn about what the fit ran into and return the
        result (whose covariance is checked here, so that a singular information warns at
        the fit)."""
        theta0 = model.start_values() if start is None else _check_start(start, model)
        # a pseudo-likelihood (probability weights) has no model-based covariance
        cov = self.cov or ("robust" if model.weight_type == "probability" else "observed")
        refuse_model_based(cov, model.weight_type)
        method = self.optimizer.name
        model.prefetch(self.optimizer.pieces)
        try:
            opt = self.optimizer.run(model, theta0, maxiter=self.maxiter, tol=self.tol,
                                     callback=self.callback)
        except FloatingPointError:
            refuse_nonfinite_start(model, theta0, given=start is not None)
            raise
        hessian = opt.hessian
        if opt.converged and hessian is None:
            # every method's claim of convergence is judged on the same footing, the
            # Newton decrement; the Hessian also serves the default standard errors
            hessian = model.hessian(opt.theta)
        opt = _judge_convergence(model, opt, hessian, self.tol)
        flags = set()
        for finding in _findings(model, opt, method, hessian):
            flags.add(finding.flag)
            warnings.warn(finding.message, finding.category, stacklevel=user_stacklevel())
        result = FitResult(model, opt.theta, optimize_result=opt, method=method,
                           formula=model.label if formula is None else formula,
                           cov_type=cov, flags=flags, hessian=hessian)
        _ = result.flags  # an information that cannot be inverted warns here, at the fit
        return result


def _check_start(start, model: LikelihoodModel) -> np.ndarray:
    """``start`` as working-scale values, refused unless it is one finite real number per
    parameter (text that reads as a number is refused too: it is a mistake, not a value)."""
    values = np.asarray(start, dtype=object)
    listed = f"({', '.join(model.working_names)})"
    if values.shape != (model.n_params,):
        raise SpecificationError(f"The 'start' must have {model.n_params} values {listed}; got "
                                 f"shape {values.shape}.")
    for name, value in zip(model.working_names, values):
        if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                          np.floating))
                or not np.isfinite(value)):
            raise SpecificationError(f"The 'start' must hold finite real numbers {listed}; got "
                                     f"{value!r} for {name!r}.")
    return values.astype(float)


def _judge_convergence(model: LikelihoodModel, opt, hessian, tol: float):
    """The optimizer's outcome, its convergence withdrawn where the Newton decrement at the
    end is not small (a quasi-Newton line search that gave up at its first iterate reports
    success with the gradient as large as at the start)."""
    if not opt.converged or hessian is None or opt.score is None:
        return opt
    score = np.asarray(opt.score, dtype=float)
    if not (np.all(np.isfinite(score)) and np.all(np.isfinite(hessian))):
        return opt
    direction, _ = newton_direction(score, hessian)
    decrement = float(score @ direction)
    if decrement <= max(FINAL_DECREMENT, tol * (1.0 + abs(float(opt.loglik)))):
        return opt
    scaled = np.abs(score) / np.sqrt(np.maximum(np.abs(np.diag(hessian)), np.finfo(float).tiny))
    worst = model.working_names[int(np.argmax(scaled))]
    message = (f"it stopped with {opt.message!r}, but the gradient at its end is not small: "
               f"the Newton decrement is {decrement:.3g}, so the estimates lie about "
               f"{np.sqrt(decrement):.3g} standard errors from the maximum (largest scaled "
               f"gradient in {worst}); try method='newton' or a smaller tol")
    return replace(opt, converged=False, message=message)


def refuse_nonfinite_start(model: LikelihoodModel, theta0: np.ndarray, *, given: bool) -> None:
    """Refuse a fit whose log-likelihood is not finite at its starting values, naming the
    start and, where the rows are in memory, the first rows at fault; returns quietly
    when the log-likelihood is finite there (the error came from elsewhere).

    Raises
    ------
    DataError
        At the default starting values (the data are the likelier culprit).
    SpecificationError
        At starting values given as ``start=``.

    Examples
    --------
    >>> import fisherkit as fk
    >>> model = build_model("GRADE ~ GPA", fk.datasets.load("spector"), "logit")
    >>> refuse_nonfinite_start(model, np.zeros(2), given=True) is None
    True
    """
    if np.isfinite(model.loglik(theta0)):
        return
    starts = ", ".join(f"{n}={v:.6g}" for n, v in zip(model.working_names, theta0))
    rows = _nonfinite_rows(model, theta0)
    where = f" It is not finite in {rows}." if rows else ""
    advice = ("Give other starting values with start= (working scale, in the order of "
              "params_working), or check those rows of the data for extreme or invalid values.")
    text = (f"The log-likelihood of the {model.label} model is not finite at the "
            f"{'given' if given else 'default'} starting values ({starts}).{where} {advice}")
    raise (SpecificationError if given else DataError)(text)


def _nonfinite_rows(model, theta0) -> str | None:
    """The first row labels where the per-row log-likelihood is not finite, for models
    holding their rows in memory (None for the others)."""
    try:
        with np.errstate(all="ignore"):
            values = np.asarray(model.loglik_obs(theta0), dtype=float)
    except Exception:  # a model over partitions keeps no rows to point at
        return None
    bad = np.flatnonzero(~np.isfinite(values))
    if not bad.size:
        return None
    index = getattr(model.data, "index", None)
    labels = [index[k] if index is not None else k for k in bad[:5]]
    return f"{bad.size} row(s), the first labelled {', '.join(repr(v) for v in labels)}"


def _findings(model: LikelihoodModel, opt, method: str, hessian=None) -> list[Finding]:
    """What every fit checks when it ends: convergence, the model's own checks
    (separation and the like), and whether the point reached is a maximum."""
    found = []
    if not opt.converged:
        found.append(Finding("not_converged", ConvergenceWarning,
                             f"The {method} optimizer did not converge ({opt.message}) after "
                             f"{opt.n_iter} iterations; estimates are not reliable."))
    found += model.post_fit_checks(opt.theta)
    hessian = opt.hessian if hessian is None else hessian
    if hessian is not None and np.all(np.isfinite(hessian)):
        kind = classify_stationary_point(hessian)
        if kind in ("saddle", "minimum"):
            found.append(Finding("saddle", SaddlePointWarning,
                                 f"The optimizer stopped at a {kind} of the log-likelihood, not "
                                 "a maximum; try other starting values."))
    return found
