"""scipy's quasi-Newton methods, BFGS and L-BFGS-B, fed autograd's exact gradient.

They keep their own loop, inside :func:`scipy.optimize.minimize`; this module gives them
the same trace and :class:`~fisherkit.optimize.trace.OptimizeResult` as the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar

import numpy as np
from scipy import optimize as sopt

from .options import Optimizer
from .trace import OptimizeResult, Trace, check_start

__all__ = ["BFGS", "LBFGS", "minimize_with_scipy"]


def minimize_with_scipy(method: str, model, theta0: np.ndarray, *, maxiter: int, tol: float,
                        callback: Callable | None = None) -> OptimizeResult:
    """Maximize the log-likelihood by ``scipy.optimize.minimize`` on its negative.

    Parameters
    ----------
    method : {"BFGS", "L-BFGS-B"}
        scipy's method; ``tol`` becomes BFGS's ``gtol`` as ``sqrt(tol)`` (a gradient norm,
        not its square) and L-BFGS-B's ``gtol`` as it is, with ``ftol = 1e-15``.
    model : LikelihoodModel
    theta0 : ndarray
    maxiter : int
    tol : float
    callback : callable, optional
        Called with each trace row, one per scipy iteration.

    Examples
    --------
    >>> import fisherkit as fk
    >>> model = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit").model
    >>> minimize_with_scipy("BFGS", model, model.start_values(), maxiter=100, tol=1e-10).converged
    True
    """
    trace = Trace(callback, model)

    last = {}

    def evaluate(th):
        # scipy's callback sees the iterate it has just evaluated: recording it costs no pass
        if "theta" not in last or not np.array_equal(last["theta"], th):
            # a trial point of the line search outside the domain is an infinite objective
            # to scipy, not a warning to the user
            with np.errstate(all="ignore"):
                last["theta"], last["value"] = np.array(th), model.derivatives(th, second=False)
        return last["value"]

    def objective(th):
        ll, g, _ = evaluate(th)
        if not np.isfinite(ll):
            return np.inf, np.zeros_like(th)
        return -ll, -g

    def record(th):
        ll, g, _ = evaluate(th)
        trace.record(len(trace.rows), th, ll, g, np.nan, np.nan)

    record(np.asarray(theta0, dtype=float))
    check_start(last["value"][0])
    out = sopt.minimize(objective, np.asarray(theta0, dtype=float), jac=True, method=method,
                        callback=lambda xk, *a: record(np.asarray(xk)),
                        options={"maxiter": maxiter, "gtol": tol ** 0.5 if method == "BFGS" else tol,
                                 **({"ftol": 1e-15} if method == "L-BFGS-B" else {})})
    theta = np.asarray(out.x, dtype=float)
    ll, g, _ = evaluate(theta)
    return OptimizeResult(theta, ll, g, None, bool(out.success), int(out.nit), trace.frame(),
                          str(out.message), trace.path())


@dataclass(frozen=True, kw_only=True)
class BFGS(Optimizer):
    """scipy's BFGS on the negative log-likelihood with autograd's exact gradient; ``tol``
    is the square of its gradient-norm tolerance.

    Examples
    --------
    >>> import fisherkit as fk
    >>> fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit",
    ...        method=fk.optimize.BFGS()).converged
    True
    """

    name: ClassVar[str] = "bfgs"

    def run(self, model, theta0: np.ndarray, *, maxiter: int, tol: float,
            callback: Callable | None = None) -> OptimizeResult:
        return minimize_with_scipy("BFGS", model, theta0, maxiter=maxiter, tol=tol,
                                   callback=callback)


@dataclass(frozen=True, kw_only=True)
class LBFGS(Optimizer):
    """scipy's L-BFGS-B on the negative log-likelihood with autograd's exact gradient.

    Examples
    --------
    >>> import fisherkit as fk
    >>> fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit",
    ...        method=fk.optimize.LBFGS()).converged
    True
    """

    name: ClassVar[str] = "lbfgs"

    def run(self, model, theta0: np.ndarray, *, maxiter: int, tol: float,
            callback: Callable | None = None) -> OptimizeResult:
        return minimize_with_scipy("L-BFGS-B", model, theta0, maxiter=maxiter, tol=tol,
                                   callback=callback)
