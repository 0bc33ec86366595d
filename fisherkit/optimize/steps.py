"""Step rules: how far an optimizer moves along its direction.

Each rule is called with the :class:`~fisherkit.optimize.trace.Objective`, the current
point, the direction, its decrement ``g'd`` (the slope of the log-likelihood along it) and
the iteration number, and returns the next point with the step size taken, or ``None``
with a step of 0 where no step increases the log-likelihood.

- :class:`FullStepFirst`: Newton's rule, the full step evaluated with its derivatives
  straight away (it usually succeeds, so an iteration costs one pass over the data), then
  Armijo halvings from 0.5;
- :class:`Backtracking`: Armijo halvings from the unit step (Nocedal and Wright, 2006,
  sec. 3.1), then the derivatives at the step found;
- :class:`FixedRate`: a fixed learning rate, halved only where it leaves the domain;
- :class:`Scheduled`: a mini-batch learning rate, decaying as ``1 / t`` if asked (Robbins
  and Monro, 1951), the step taken without looking at the data.
"""

from __future__ import annotations

import numpy as np

from .trace import Objective, Point

__all__ = ["ARMIJO", "line_search", "FullStepFirst", "Backtracking", "FixedRate", "Scheduled"]

#: the fraction of the slope a step must gain (the Armijo, or sufficient-increase, constant)
ARMIJO = 1e-4


def line_search(model, theta: np.ndarray, loglik: float, direction: np.ndarray, slope: float,
                max_halvings: int = 60, first: float = 1.0) -> float:
    """Largest step ``first * 2^-k`` meeting the Armijo condition, or 0 if none does.

    Examples
    --------
    >>> class Parabola:
    ...     def loglik(self, theta):
    ...         return -float(theta @ theta)
    >>> # the score at 1 is -2: the unit step overshoots to -1, half of it reaches 0
    >>> line_search(Parabola(), np.array([1.0]), -1.0, np.array([-2.0]), slope=4.0)
    0.5
    """
    t = first
    for _ in range(max_halvings):
        trial = model.loglik(theta + t * direction)
        if np.isfinite(trial) and trial >= loglik + ARMIJO * t * slope:
            return t
        t *= 0.5
    return 0.0


class FullStepFirst:
    """Newton's step: the full step with its derivatives, else halvings from 0.5.

    Examples
    --------
    >>> import fisherkit as fk
    >>> model = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit").model
    >>> objective = Objective(model, second=True)
    >>> point = objective.at(np.zeros(2))
    >>> from fisherkit.optimize.directions import newton_direction
    >>> direction, _ = newton_direction(point.score, point.hessian)
    >>> FullStepFirst()(objective, point, direction, float(point.score @ direction), 1)[1]
    1.0
    """

    def __call__(self, objective: Objective, point: Point, direction: np.ndarray,
                 decrement: float, iteration: int) -> tuple[Point | None, float]:
        full = objective.trial(point.theta + direction)
        if np.isfinite(full.loglik) and full.loglik >= point.loglik + ARMIJO * decrement:
            return full, 1.0
        t = line_search(objective, point.theta, point.loglik, direction, decrement, first=0.5)
        if t == 0.0:
            return None, 0.0
        return objective.at(point.theta + t * direction), t


class Backtracking:
    """Armijo halvings from the unit step on the log-likelihood alone, then the derivatives
    at the step found.

    Examples
    --------
    >>> import fisherkit as fk
    >>> model = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit").model
    >>> objective = Objective(model, second=False)
    >>> point = objective.at(np.zeros(2))
    >>> Backtracking()(objective, point, point.score, float(point.score @ point.score), 1)[1]
    0.015625
    """

    def __call__(self, objective: Objective, point: Point, direction: np.ndarray,
                 decrement: float, iteration: int) -> tuple[Point | None, float]:
        t = line_search(objective, point.theta, point.loglik, direction, decrement)
        if t == 0.0:
            return None, 0.0
        return objective.at(point.theta + t * direction), t


class FixedRate:
    """A fixed learning rate, kept unless the step leaves the model's domain.

    Examples
    --------
    >>> import fisherkit as fk
    >>> model = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit").model
    >>> objective = Objective(model, second=False)
    >>> point = objective.at(np.zeros(2))
    >>> FixedRate(0.01)(objective, point, point.score, np.nan, 1)[1]
    0.01
    """

    def __init__(self, rate: float):
        self.rate = rate

    def __call__(self, objective: Objective, point: Point, direction: np.ndarray,
                 decrement: float, iteration: int) -> tuple[Point | None, float]:
        t = float(self.rate)
        while True:
            moved = objective.trial(point.theta + t * direction)
            # a domain (a positive scale) can end short of the fixed step: halve into it
            if np.isfinite(moved.loglik) or t <= 1e-12:
                return moved, t
            t *= 0.5


class Scheduled:
    """A mini-batch step: ``rate``, or ``rate / (1 + (t - 1) / decay)`` at step ``t``, taken
    without evaluating the data (the trace evaluates it where it records).

    Examples
    --------
    >>> step = Scheduled(1.0, decay=10)
    >>> point, t = step(None, Point(np.zeros(1)), np.ones(1), np.nan, 11)
    >>> t, point.theta, point.evaluated
    (0.5, array([0.5]), False)
    """

    def __init__(self, rate: float, decay: float | None):
        self.rate, self.decay = rate, decay

    def __call__(self, objective: Objective | None, point: Point, direction: np.ndarray,
                 decrement: float, iteration: int) -> tuple[Point, float]:
        if self.decay is None:
            t = float(self.rate)
        else:
            t = self.rate / (1 + (iteration - 1) / self.decay)
        return Point(point.theta + t * direction), t
