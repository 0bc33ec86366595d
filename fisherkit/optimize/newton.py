"""Optimizers that maximize a model's log-likelihood, each leaving a trace.

``newton`` is the default: a Newton method with a backtracking (Armijo) line search that
stays safe where the Hessian is not negative definite, by flipping and flooring the
eigenvalues of the Jacobi-scaled negative Hessian (Nocedal and Wright, 2006, sec. 3.4).
Convergence is judged on the Newton decrement ``g' (-H)^-1 g``, a scaled gradient that is
about twice the remaining gain in log-likelihood and invariant to rescaling parameters.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..models.index_model import Model

__all__ = ["OptimizeResult", "newton", "newton_direction"]

TRACE_COLUMNS = ["iteration", "loglik", "grad_norm", "decrement", "step_size", "elapsed",
                 "passes"]


@dataclass(frozen=True)
class OptimizeResult:
    """Where an optimizer stopped and how it got there."""

    theta: np.ndarray
    loglik: float
    score: np.ndarray
    hessian: np.ndarray | None
    converged: bool
    n_iter: int
    trace: pd.DataFrame
    message: str
    #: working-scale parameters at each trace row, ``len(trace) x p``
    path: np.ndarray | None = None


class Trace:
    """Rows of an optimizer's trace, timed from creation, passed to a callback as made.

    The parameters of every row are kept too (``path``): the optimizer's route, for plots
    and for the divergence of each step, which the result computes when first asked. Given
    the model, rows count the passes over the data made since the trace began (NaN for a
    model that does not count them).
    """

    def __init__(self, callback=None, model=None):
        self.clock, self.rows, self.thetas, self.callback = time.perf_counter(), [], [], callback
        self.model = model
        self.first_pass = getattr(model, "passes", None)

    def _passes(self) -> float:
        if self.first_pass is None:
            return np.nan
        return float(self.model.passes - self.first_pass)

    def record(self, iteration, theta, loglik, score, decrement, step_size, passes=None):
        """One row; ``passes`` overrides the model's count (a stochastic method counts its
        mini-batches in fractions of a pass)."""
        passes = self._passes() if passes is None else float(passes)
        row = dict(zip(TRACE_COLUMNS, (iteration, loglik, float(np.linalg.norm(score)),
                                       decrement, step_size, time.perf_counter() - self.clock,
                                       passes)))
        self.rows.append(row)
        self.thetas.append(np.array(theta, dtype=float))
        if self.callback is not None:
            self.callback(row)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=TRACE_COLUMNS)

    def path(self) -> np.ndarray:
        return np.array(self.thetas)


def check_start(loglik: float) -> None:
    if not np.isfinite(loglik):
        raise FloatingPointError("The log-likelihood is not finite at the starting values.")


def newton_direction(score: np.ndarray, hessian: np.ndarray) -> tuple[np.ndarray, bool]:
    """Ascent direction ``(-H)^-1 g``, modified where ``-H`` is not positive definite.

    Returns the direction and whether ``-H`` was positive definite (so that the step is a
    true Newton step).
    """
    A = -0.5 * (hessian + hessian.T)
    diag = np.abs(np.diag(A))
    # coordinates with no curvature at all (a saturated start) are left unscaled
    d = np.where(diag > 1e-200, np.sqrt(diag), 1.0)
    S = A / np.outer(d, d)
    gs = score / d
    try:
        L = np.linalg.cholesky(S)
        step = np.linalg.solve(L.T, np.linalg.solve(L, gs))
        return step / d, True
    except np.linalg.LinAlgError:
        # flip negative and floor tiny eigenvalues of the unit-diagonal matrix; the line
        # search shortens what the floor lets through in flat directions
        lam, V = np.linalg.eigh(S)
        lam = np.maximum(np.abs(lam), 1e-8 * max(np.max(np.abs(lam)), 1.0))
        return (V @ ((V.T @ gs) / lam)) / d, False


def _line_search(model: Model, theta, loglik, direction, slope, max_halvings=60, first=1.0):
    """Largest step ``first * 2^-k`` meeting the Armijo condition, or 0 if none does."""
    t = first
    for _ in range(max_halvings):
        trial = model.loglik(theta + t * direction)
        if np.isfinite(trial) and trial >= loglik + 1e-4 * t * slope:
            return t
        t *= 0.5
    return 0.0


def newton(model: Model, theta0: np.ndarray, *, maxiter: int = 100, tol: float = 1e-10,
           callback=None) -> OptimizeResult:
    """Maximize the log-likelihood by line-searched Newton steps.

    Parameters
    ----------
    model : Model
    theta0 : ndarray
        Starting working-scale parameters.
    maxiter : int
        Most Newton iterations.
    tol : float
        Converged when the Newton decrement is below ``tol * (1 + |loglik|)``; where
        ``-H`` is positive definite one last full Newton step is then taken, which squares
        the remaining error.
    callback : callable, optional
        Called with each trace row (a dict) as it is made.

    Examples
    --------
    >>> import fisherkit as fk
    >>> from fisherkit.models.formula import build_data
    >>> fam = fk.families.make_family("logit")
    >>> m = Model(fam, build_data("GRADE ~ GPA", fk.datasets.load("spector"), fam))
    >>> newton(m, m.start_values()).converged
    True
    """
    theta = np.array(theta0, dtype=float)
    trace = Trace(callback, model)
    loglik, score, hess = model.derivatives(theta)
    check_start(loglik)
    converged, message = False, "maximum number of iterations reached"

    def record(it, dec, t):
        trace.record(it, theta, loglik, score, dec, t)

    record(0, np.nan, np.nan)
    n_iter = 0
    for n_iter in range(1, maxiter + 1):
        direction, definite = newton_direction(score, hess)
        decrement = float(score @ direction)
        if decrement <= tol * (1.0 + abs(loglik)):
            if definite:
                theta = theta + direction
                loglik, score, hess = model.derivatives(theta)
            # where -H is not positive definite the point is reported as it is: the
            # curvature checks after the fit name the flat or upward directions
            record(n_iter, decrement, 1.0 if definite else 0.0)
            converged, message = True, "converged: Newton decrement below tolerance"
            break
        # the full step usually succeeds, so its derivatives are computed straight away and
        # kept: one pass over the data per iteration instead of a trial and then a pass
        with np.errstate(all="ignore"):
            full = model.derivatives(theta + direction)
        if np.isfinite(full[0]) and full[0] >= loglik + 1e-4 * decrement:
            theta = theta + direction
            loglik, score, hess = full
            record(n_iter, decrement, 1.0)
            continue
        t = _line_search(model, theta, loglik, direction, decrement, first=0.5)
        if t == 0.0:
            record(n_iter, decrement, 0.0)
            message = "line search failed to increase the log-likelihood"
            break
        theta = theta + t * direction
        loglik, score, hess = model.derivatives(theta)
        record(n_iter, decrement, t)
    return OptimizeResult(theta, loglik, score, hess, converged, n_iter, trace.frame(), message,
                          trace.path())
