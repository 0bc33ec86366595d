"""Step rules: Armijo backtracking, Newton's full step first, fixed and scheduled rates."""

import numpy as np
import pytest

import fisherkit as fk
from fisherkit.optimize.steps import (
    ARMIJO,
    Backtracking,
    FixedRate,
    FullStepFirst,
    Scheduled,
    line_search,
)
from fisherkit.optimize.trace import Objective, Point


class Quadratic:
    """``-(theta - 1)^2``, finite only for ``theta < limit`` (a domain that ends)."""

    n_params = 1

    def __init__(self, limit=np.inf):
        self.limit, self.calls = limit, 0

    def loglik(self, theta):
        self.calls += 1
        return -float((theta[0] - 1.0) ** 2) if theta[0] < self.limit else -np.inf

    def derivatives(self, theta, second=True):
        value = self.loglik(theta)
        score = np.array([-2.0 * (theta[0] - 1.0)])
        return value, score, np.array([[-2.0]]) if second else None


def test_line_search_halves_until_the_armijo_condition_holds():
    model = Quadratic()
    theta, direction = np.array([0.0]), np.array([4.0])  # the unit step overshoots to 4
    slope = 2.0 * 4.0
    t = line_search(model, theta, -1.0, direction, slope)
    assert t == 0.25 and model.loglik(theta + t * direction) >= -1.0 + ARMIJO * t * slope
    assert line_search(model, theta, -1.0, direction, slope, first=0.125) == 0.125


def test_line_search_gives_zero_when_no_step_increases():
    model = Quadratic()
    assert line_search(model, np.array([1.0]), 0.0, np.array([1.0]), 1.0, max_halvings=5) == 0.0
    assert model.calls == 5


def test_the_full_step_is_kept_with_its_derivatives():
    model = Quadratic()
    objective = Objective(model, second=True)
    point = objective.at(np.array([0.0]))
    moved, t = FullStepFirst()(objective, point, np.array([1.0]), 2.0, 1)
    assert t == 1.0 and moved.loglik == 0.0 and moved.hessian is not None
    assert model.calls == 2  # the start and the full step: no second evaluation


def test_a_failed_full_step_is_halved_from_one_half():
    model = Quadratic(limit=0.9)
    objective = Objective(model, second=True)
    point = objective.at(np.array([0.0]))
    moved, t = FullStepFirst()(objective, point, np.array([1.0]), 2.0, 1)
    assert t == 0.5 and moved.theta.tolist() == [0.5]


def test_backtracking_and_its_failure():
    objective = Objective(Quadratic(), second=False)
    point = objective.at(np.array([0.0]))
    moved, t = Backtracking()(objective, point, np.array([4.0]), 8.0, 1)
    assert t == 0.25 and moved.theta.tolist() == [1.0] and moved.hessian is None
    assert Backtracking()(objective, objective.at(np.array([1.0])), np.array([1.0]), 1.0, 1) \
        == (None, 0.0)


def test_a_fixed_rate_is_halved_only_to_stay_in_the_domain():
    objective = Objective(Quadratic(limit=0.3), second=False)
    point = objective.at(np.array([0.0]))
    moved, t = FixedRate(1.0)(objective, point, np.array([1.0]), np.nan, 1)
    assert t == 0.25 and moved.theta.tolist() == [0.25]
    # inside the domain the rate is kept even where it lowers the log-likelihood
    moved, t = FixedRate(0.3)(Objective(Quadratic(), False), point, np.array([10.0]), np.nan, 1)
    assert t == 0.3 and moved.loglik < point.loglik


def test_a_scheduled_rate_decays_and_looks_at_no_data():
    step = Scheduled(0.5, decay=None)
    moved, t = step(None, Point(np.array([1.0])), np.array([2.0]), np.nan, 7)
    assert t == 0.5 and moved.theta.tolist() == [2.0] and not moved.evaluated
    rates = [Scheduled(1.0, decay=4)(None, Point(np.zeros(1)), np.ones(1), np.nan, k)[1]
             for k in (1, 5, 9)]
    assert rates == [1.0, 0.5, pytest.approx(1 / 3)]


def test_newton_steps_on_a_model_stay_one_pass_per_iteration():
    model = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit").model
    objective = Objective(model, second=True)
    point = objective.at(model.start_values())
    before = model.passes
    from fisherkit.optimize.directions import newton_direction
    direction, _ = newton_direction(point.score, point.hessian)
    moved, t = FullStepFirst()(objective, point, direction, float(point.score @ direction), 1)
    assert t == 1.0 and model.passes - before == 1
