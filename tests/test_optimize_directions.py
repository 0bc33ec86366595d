"""Direction rules: Newton's modified direction, damped Fisher solves, user metrics."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fisherkit as fk
from fisherkit.optimize.directions import (
    GradientDirection,
    NewtonDirection,
    Preconditioned,
    UserMetric,
    empirical_fisher,
    expected_fisher,
    newton_direction,
    solve_damped,
)
from fisherkit.optimize.trace import Point


@pytest.fixture(scope="module")
def model():
    return fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"),
                  family="logit").model


@given(st.integers(min_value=1, max_value=6), st.integers(min_value=0, max_value=10**6))
@settings(max_examples=30, deadline=None)
def test_newton_direction_solves_where_minus_h_is_positive_definite(p, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(p, p))
    scales = 10.0 ** rng.integers(-3, 4, size=p)  # parameters on very different scales
    H = -np.outer(scales, scales) * (A @ A.T + 0.1 * np.eye(p))
    g = rng.normal(size=p) * scales
    direction, exact = newton_direction(g, H)
    assert exact
    np.testing.assert_allclose(-H @ direction, g, rtol=1e-8, atol=1e-8 * np.abs(g).max())


@given(st.integers(min_value=2, max_value=6), st.integers(min_value=0, max_value=10**6))
@settings(max_examples=30, deadline=None)
def test_newton_direction_ascends_where_minus_h_is_not_positive_definite(p, seed):
    rng = np.random.default_rng(seed)
    V, _ = np.linalg.qr(rng.normal(size=(p, p)))
    lam = rng.uniform(0.5, 2.0, size=p) * np.where(np.arange(p) == 0, -1.0, 1.0)
    H = -(V * lam) @ V.T  # one upward direction
    g = rng.normal(size=p)
    direction, exact = newton_direction(g, H)
    assert not exact and g @ direction > 0


def test_solve_damped_is_a_plain_solve_for_a_positive_definite_matrix():
    P = np.array([[4.0, 1.0], [1.0, 3.0]])
    g = np.array([1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(solve_damped(P, g, 0.0), np.linalg.solve(P, g), rtol=1e-14)
    # damping is relative to the mean diagonal
    np.testing.assert_allclose(solve_damped(P, g, 0.5), np.linalg.solve(P + 1.75 * np.eye(2), g),
                               rtol=1e-14)


def test_solve_damped_raises_the_damping_of_a_singular_matrix_and_warns():
    P = np.array([[1.0, 1.0], [1.0, 1.0]])
    with pytest.warns(fk.ConvergenceWarning, match=r"damping raised to 1\.0e-12 of its mean"):
        direction = solve_damped(P, np.array([1.0, 1.0]), 0.0)
    assert np.all(np.isfinite(direction))


def test_the_rules_on_a_model(model):
    theta = model.start_values()
    loglik, score, hessian = model.derivatives(theta)
    point = Point(theta, loglik, score, hessian)
    info = model.expected_information(theta).matrix
    direction, exact = Preconditioned(expected_fisher, 0.0)(model, point, 1.0)
    np.testing.assert_allclose(direction, np.linalg.solve(info, score), rtol=1e-10)
    direction, _ = Preconditioned(empirical_fisher, 0.0)(model, point, 1.0)
    np.testing.assert_allclose(direction, np.linalg.solve(model.opg(theta), score), rtol=1e-10)
    # the logit link is canonical: Newton and Fisher scoring directions coincide
    np.testing.assert_allclose(NewtonDirection()(model, point, 1.0)[0],
                               np.linalg.solve(info, score), rtol=1e-10)
    assert NewtonDirection.second and not Preconditioned.second and not GradientDirection.second
    np.testing.assert_array_equal(GradientDirection()(model, point, 3.0)[0], 3.0 * score)


@pytest.mark.parametrize("metric, message", [
    (lambda th: np.eye(3), "must return a 4 x 4 matrix; got shape"),
    (lambda th: np.triu(np.ones((4, 4))), "not symmetric"),
    (lambda th: np.full((4, 4), np.inf), "returned non-finite entries at theta"),
])
def test_a_user_metric_is_checked_at_every_call(model, metric, message):
    with pytest.raises(fk.SpecificationError, match=message):
        UserMetric(metric)(model, model.start_values())
