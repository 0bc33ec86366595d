"""The one iteration loop behind Newton, Fisher scoring, the natural gradient and gradient
ascent, full-batch or on mini-batches.

Every iteration asks a *source* for a direction (the whole data's, or a mini-batch's, see
:mod:`fisherkit.optimize.stochastic`), asks the *stopping rule* whether that direction's
decrement says the point has converged, else moves by the *step rule*; the trace records
the whole data at every iteration, or every ``record_every`` steps on mini-batches, where
the stopping rule may stop the run too. The pieces are in
:mod:`~fisherkit.optimize.directions`, :mod:`~fisherkit.optimize.steps` and
:mod:`~fisherkit.optimize.stopping`; :mod:`~fisherkit.optimize.optimizers` assembles them.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .stopping import StoppingRule
from .trace import Objective, OptimizeResult, Point, Trace, check_start

__all__ = ["FullData", "iterate"]


class FullData:
    """The source of full-batch methods: the direction from the point's own derivatives,
    its decrement ``g'd`` judged by the stopping rule, a trace row at every iteration.

    Examples
    --------
    >>> from fisherkit.optimize.directions import GradientDirection
    >>> point = Point(np.zeros(2), -1.0, np.array([3.0, 4.0]))
    >>> FullData().direction(GradientDirection(), None, point)
    (array([3., 4.]), True, 25.0)
    """

    record_every = 1

    def start(self, model) -> None:
        """Nothing to plan over the whole data."""

    def direction(self, rule: Callable, model, point: Point) -> tuple[np.ndarray, bool, float]:
        vector, exact = rule(model, point, 1.0)
        return vector, exact, float(point.score @ vector)

    def passes(self) -> float | None:
        """None: the trace counts the model's own passes."""
        return None


def iterate(model, theta0: np.ndarray, *, direction: Callable, step: Callable,
            stop: StoppingRule, maxiter: int, tol: float, source=None,
            callback: Callable | None = None) -> OptimizeResult:
    """Maximize ``model``'s log-likelihood from ``theta0`` with the given pieces.

    Parameters
    ----------
    model : LikelihoodModel
    theta0 : ndarray
        Starting working-scale parameters.
    direction : callable
        A direction rule of :mod:`fisherkit.optimize.directions`; its ``second`` says
        whether evaluations compute the Hessian.
    step : callable
        A step rule of :mod:`fisherkit.optimize.steps`.
    stop : StoppingRule
        A rule of :mod:`fisherkit.optimize.stopping`.
    maxiter : int
        Most iterations (mini-batch steps on mini-batches).
    tol : float
        The stopping rule's tolerance.
    source : FullData or MiniBatches, optional
        What the direction is computed from; the whole data by default.
    callback : callable, optional
        Called with each trace row (a dict) as it is made.

    Examples
    --------
    >>> import fisherkit as fk
    >>> from fisherkit.optimize.directions import NewtonDirection
    >>> from fisherkit.optimize.steps import FullStepFirst
    >>> from fisherkit.optimize.stopping import RelativeDecrement
    >>> model = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit").model
    >>> res = iterate(model, model.start_values(), direction=NewtonDirection(),
    ...               step=FullStepFirst(), stop=RelativeDecrement(), maxiter=100, tol=1e-10)
    >>> res.converged, res.n_iter
    (True, 5)
    """
    source = FullData() if source is None else source
    objective = Objective(model, direction.second)
    source.start(model)
    trace = Trace(callback, model)
    # a start outside the domain is refused below, by name, not by numpy's warnings
    with np.errstate(all="ignore"):
        point = objective.at(np.array(theta0, dtype=float))
    check_start(point.loglik)

    def record(iteration, decrement, t):
        trace.record(iteration, point.theta, point.loglik, point.score, decrement, t,
                     passes=source.passes())

    record(0, np.nan, np.nan)
    converged, message = False, stop.exhausted
    n_iter = 0
    for n_iter in range(1, maxiter + 1):
        vector, exact, decrement = source.direction(direction, model, point)
        if stop.reached(point, decrement, tol):
            point, t = stop.finish(objective, point, vector, exact)
            record(n_iter, decrement, t)
            converged, message = True, stop.converged
            break
        moved, t = step(objective, point, vector, decrement, n_iter)
        if moved is None:
            record(n_iter, decrement, 0.0)
            message = "line search failed to increase the log-likelihood"
            break
        point = moved
        if n_iter % source.record_every == 0 or n_iter == maxiter:
            if not point.evaluated:
                point = objective.at(point.theta)
            record(n_iter, decrement, t)
            verdict = stop.after_record(model, point, tol)
            if verdict is not None:
                converged, message = verdict
                break
    return OptimizeResult(point.theta, point.loglik, point.score, point.hessian, converged,
                          n_iter, trace.frame(), message, trace.path())
