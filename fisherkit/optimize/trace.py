"""What every optimizer holds and reports: the point it is at, its trace and its result."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np
import pandas as pd

__all__ = ["OptimizeResult", "Trace", "TRACE_COLUMNS", "Point", "Objective", "check_start"]

TRACE_COLUMNS = ["iteration", "loglik", "grad_norm", "decrement", "step_size", "elapsed",
                 "passes"]


@dataclass(frozen=True)
class OptimizeResult:
    """Where an optimizer stopped and how it got there.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
    >>> opt = res.optimize_result
    >>> opt.converged, opt.message
    (True, 'converged: Newton decrement below tolerance')
    """

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


class Point(NamedTuple):
    """An iterate and what is known there: the log-likelihood, score and (for methods that
    use it) Hessian. A step that does not look at the data leaves them None.

    Examples
    --------
    >>> Point(np.zeros(2)).evaluated
    False
    """

    theta: np.ndarray
    loglik: float | None = None
    score: np.ndarray | None = None
    hessian: np.ndarray | None = None

    @property
    def evaluated(self) -> bool:
        return self.score is not None


class Objective:
    """A model's log-likelihood as an optimizer evaluates it: with the Hessian or without,
    as its direction needs.

    Parameters
    ----------
    model : LikelihoodModel
    second : bool
        Whether every evaluation also computes the Hessian.

    Examples
    --------
    >>> import fisherkit as fk
    >>> model = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit").model
    >>> Objective(model, second=False).at(np.zeros(2)).hessian is None
    True
    """

    def __init__(self, model, second: bool):
        self.model, self.second = model, second

    def at(self, theta: np.ndarray) -> Point:
        """The derivatives at ``theta``."""
        return Point(theta, *self.model.derivatives(theta, self.second))

    def trial(self, theta: np.ndarray) -> Point:
        """The derivatives at a trial point, which may lie outside the model's domain."""
        with np.errstate(all="ignore"):
            return Point(theta, *self.model.derivatives(theta, self.second))

    def loglik(self, theta: np.ndarray) -> float:
        """The log-likelihood alone (``-inf`` outside the domain), for line searches."""
        return self.model.loglik(theta)


class Trace:
    """Rows of an optimizer's trace, timed from creation, passed to a callback as made.

    The parameters of every row are kept too (``path``): the optimizer's route, for plots
    and for the divergence of each step, which the result computes when first asked. Given
    the model, rows count the passes over the data made since the trace began (NaN for a
    model that does not count them).

    Examples
    --------
    >>> trace = Trace()
    >>> trace.record(0, np.zeros(2), -3.0, np.array([3.0, 4.0]), np.nan, np.nan, passes=1)
    >>> trace.frame()[["iteration", "loglik", "grad_norm", "passes"]].values.tolist()
    [[0.0, -3.0, 5.0, 1.0]]
    """

    def __init__(self, callback: Callable | None = None, model=None):
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
    """Refuse a start where the log-likelihood is not finite: no step can be judged from it.

    Examples
    --------
    >>> check_start(-np.inf)
    Traceback (most recent call last):
    ...
    FloatingPointError: The log-likelihood is not finite at the starting values.
    """
    if not np.isfinite(loglik):
        raise FloatingPointError("The log-likelihood is not finite at the starting values.")
