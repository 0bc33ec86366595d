"""Stopping rules: when an optimizer has converged, and the step it ends with.

A full-batch rule judges the decrement ``g'd`` of each new direction before stepping along
it; where it is small enough the direction already solved for is taken once more at the
method's own rate (:meth:`finish`), which for a preconditioned method shrinks the remaining
error by the method's rate at no extra solve:

- :class:`RelativeDecrement`: Newton's rule, ``g' (-H)^-1 g <= tol (1 + |loglik|)``; the
  Newton decrement is about twice the remaining gain in log-likelihood and invariant to
  rescaling parameters, and the last full Newton step (where ``-H`` is positive definite)
  squares the remaining error;
- :class:`AbsoluteDecrement`: the ascent methods' ``g'd <= tol``, absolute because they
  converge linearly, so the remaining gain (about half the decrement) must itself be small.

A mini-batch rule (:class:`FullDataCriterion`) judges the rows of the trace instead, where
the full data is evaluated.
"""

from __future__ import annotations

import numpy as np

from .trace import Objective, Point

__all__ = ["StoppingRule", "RelativeDecrement", "AbsoluteDecrement", "FullDataCriterion"]


class StoppingRule:
    """What every stopping rule says; by default it never stops early.

    Attributes
    ----------
    exhausted : str
        The message when the iterations run out.
    converged : str
        The message when the rule is met.
    """

    exhausted = "maximum number of iterations reached"
    converged = "converged"

    def reached(self, point: Point, decrement: float, tol: float) -> bool:
        """Whether the new direction's decrement says the point has converged."""
        return False

    def finish(self, objective: Objective, point: Point, direction: np.ndarray,
               exact: bool) -> tuple[Point, float]:
        """The last point and the step that reached it, once converged."""
        return point, 0.0

    def after_record(self, model, point: Point, tol: float) -> tuple[bool, str] | None:
        """Whether to stop at a recorded point: ``(converged, message)``, or None to go on."""
        return None


class RelativeDecrement(StoppingRule):
    """Newton's rule: the decrement below ``tol * (1 + |loglik|)``, then one last full step
    where ``-H`` is positive definite.

    Examples
    --------
    >>> rule = RelativeDecrement()
    >>> rule.reached(Point(np.zeros(1), -100.0), 1e-9, tol=1e-10)
    True
    """

    converged = "converged: Newton decrement below tolerance"

    def reached(self, point: Point, decrement: float, tol: float) -> bool:
        return decrement <= tol * (1.0 + abs(point.loglik))

    def finish(self, objective: Objective, point: Point, direction: np.ndarray,
               exact: bool) -> tuple[Point, float]:
        if not exact:
            # the point is reported as it is: the curvature checks after the fit name the
            # flat or upward directions
            return point, 0.0
        return objective.at(point.theta + direction), 1.0


class AbsoluteDecrement(StoppingRule):
    """The ascent methods' rule: the decrement below ``tol``, then one last step at the
    method's rate, kept where it does not lower the log-likelihood.

    Parameters
    ----------
    name : str
        The method's name, for the message.
    rate : float, optional
        The method's learning rate; the unit step if None (a line-searched method).

    Examples
    --------
    >>> rule = AbsoluteDecrement("gradient", rate=None)
    >>> rule.reached(Point(np.zeros(1), -100.0), 1e-9, tol=1e-10), rule.converged
    (False, 'converged: gradient decrement below tolerance')
    """

    def __init__(self, name: str, rate: float | None):
        self.converged = f"converged: {name} decrement below tolerance"
        self.rate = rate

    def reached(self, point: Point, decrement: float, tol: float) -> bool:
        return decrement <= tol

    def finish(self, objective: Objective, point: Point, direction: np.ndarray,
               exact: bool) -> tuple[Point, float]:
        t = 1.0 if self.rate is None else float(self.rate)
        final = objective.trial(point.theta + t * direction)
        if np.isfinite(final.loglik) and final.loglik >= point.loglik:
            return final, t
        return point, 0.0


class FullDataCriterion(StoppingRule):
    """The mini-batch rule: at each recorded point, the full-batch method's own decrement
    on the whole data below ``tol``; a recorded point outside the domain stops the run.

    Parameters
    ----------
    direction : callable
        The full-batch method's direction rule, applied to the whole data.

    Examples
    --------
    >>> from fisherkit.optimize.directions import GradientDirection
    >>> rule = FullDataCriterion(GradientDirection())
    >>> rule.after_record(None, Point(np.zeros(1), -1.0, np.array([1e-6])), tol=1e-10)
    (True, 'converged: full-data criterion below tolerance')
    """

    exhausted = "maximum number of mini-batch steps reached"
    converged = "converged: full-data criterion below tolerance"

    def __init__(self, direction):
        self.direction = direction

    def after_record(self, model, point: Point, tol: float) -> tuple[bool, str] | None:
        if not np.isfinite(point.loglik):
            return False, "a mini-batch step left the model's domain; lower the learning rate"
        vector, _ = self.direction(model, point, 1.0)
        if float(point.score @ vector) <= tol:
            return True, self.converged
        return None
