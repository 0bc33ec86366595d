"""Stopping rules: the decrement tests, the step each ends with, the mini-batch criterion."""

import numpy as np

from fisherkit.optimize.directions import GradientDirection
from fisherkit.optimize.stopping import (
    AbsoluteDecrement,
    FullDataCriterion,
    RelativeDecrement,
    StoppingRule,
)
from fisherkit.optimize.trace import Objective, Point


class Quadratic:
    n_params = 1

    def loglik(self, theta):
        return -float((theta[0] - 1.0) ** 2) if theta[0] < 3.0 else -np.inf

    def derivatives(self, theta, second=True):
        return (self.loglik(theta), np.array([-2.0 * (theta[0] - 1.0)]),
                np.array([[-2.0]]) if second else None)


def test_newtons_rule_is_relative_to_the_log_likelihood():
    rule = RelativeDecrement()
    assert rule.reached(Point(np.zeros(1), -1e6), 1e-5, tol=1e-10)
    assert not rule.reached(Point(np.zeros(1), -1.0), 1e-5, tol=1e-10)
    assert rule.converged == "converged: Newton decrement below tolerance"
    assert rule.exhausted == "maximum number of iterations reached"


def test_newton_ends_with_a_full_step_only_where_minus_h_is_positive_definite():
    objective = Objective(Quadratic(), second=True)
    point = objective.at(np.array([0.999]))
    final, t = RelativeDecrement().finish(objective, point, np.array([0.001]), exact=True)
    assert t == 1.0 and final.loglik > point.loglik and final.hessian is not None
    assert RelativeDecrement().finish(objective, point, np.array([0.001]), exact=False) \
        == (point, 0.0)


def test_the_ascent_rule_is_absolute_and_keeps_a_final_step_that_does_not_lose():
    rule = AbsoluteDecrement("natural gradient", rate=0.5)
    assert rule.reached(Point(np.zeros(1), -1e6), 1e-11, tol=1e-10)
    assert not rule.reached(Point(np.zeros(1), -1e6), 1e-5, tol=1e-10)
    assert rule.converged == "converged: natural gradient decrement below tolerance"
    objective = Objective(Quadratic(), second=False)
    point = objective.at(np.array([0.9]))
    final, t = rule.finish(objective, point, np.array([0.2]), exact=True)
    assert t == 0.5 and final.theta.tolist() == [1.0]
    # a final step that would lower the log-likelihood, or leave the domain, is not taken
    assert rule.finish(objective, point, np.array([2.0]), exact=True) == (point, 0.0)
    assert AbsoluteDecrement("gradient", None).finish(objective, point, np.array([5.0]),
                                                       exact=True) == (point, 0.0)


def test_the_mini_batch_rule_judges_recorded_points():
    rule = FullDataCriterion(GradientDirection())
    assert not rule.reached(Point(np.zeros(1), -1.0), 0.0, tol=1.0)  # never before a step
    assert rule.after_record(None, Point(np.zeros(1), -1.0, np.array([1e-6])), tol=1e-10) \
        == (True, "converged: full-data criterion below tolerance")
    assert rule.after_record(None, Point(np.zeros(1), -1.0, np.array([1e-3])), tol=1e-10) is None
    assert rule.after_record(None, Point(np.zeros(1), -np.inf, np.array([np.nan])), tol=1.0) \
        == (False, "a mini-batch step left the model's domain; lower the learning rate")
    assert rule.exhausted == "maximum number of mini-batch steps reached"


def test_the_default_rule_never_stops():
    rule = StoppingRule()
    point = Point(np.zeros(1), 0.0, np.zeros(1))
    assert not rule.reached(point, 0.0, 1.0) and rule.after_record(None, point, 1.0) is None
