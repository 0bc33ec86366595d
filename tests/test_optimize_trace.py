"""The trace, the point and the objective every optimizer shares."""

import numpy as np
import pytest

import fisherkit as fk
from fisherkit.optimize.trace import TRACE_COLUMNS, Objective, Point, Trace, check_start


@pytest.fixture(scope="module")
def model():
    return fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit").model


def test_rows_count_the_models_passes_since_the_trace_began(model):
    model.derivatives(model.start_values())  # before the trace: not counted
    seen = []
    trace = Trace(seen.append, model)
    objective = Objective(model, second=False)
    for k in range(3):
        point = objective.at(np.full(2, 0.1 * k))
        trace.record(k, point.theta, point.loglik, point.score, np.nan, np.nan)
    frame = trace.frame()
    assert list(frame.columns) == TRACE_COLUMNS and frame["passes"].tolist() == [1.0, 2.0, 3.0]
    assert seen == trace.rows and trace.path().shape == (3, 2)
    np.testing.assert_allclose(frame["grad_norm"], [np.linalg.norm(r) for r in
                               (objective.at(np.full(2, 0.1 * k)).score for k in range(3))])


def test_a_given_count_overrides_the_models_and_rows_keep_copies():
    trace = Trace()
    theta = np.zeros(2)
    trace.record(0, theta, -1.0, np.ones(2), np.nan, np.nan, passes=0.25)
    theta[0] = 5.0
    assert trace.rows[0]["passes"] == 0.25 and trace.path().tolist() == [[0.0, 0.0]]
    trace.record(1, theta, -1.0, np.ones(2), np.nan, np.nan)
    assert np.isnan(trace.rows[1]["passes"])  # no model, no count


def test_the_objective_evaluates_with_or_without_the_hessian(model):
    theta = model.start_values()
    with_hessian = Objective(model, second=True).at(theta)
    without = Objective(model, second=False).at(theta)
    assert with_hessian.hessian.shape == (2, 2) and without.hessian is None
    assert with_hessian.loglik == without.loglik and with_hessian.evaluated
    assert Objective(model, second=False).loglik(theta) == without.loglik
    assert not Point(theta).evaluated


def test_check_start():
    check_start(-12.5)
    with pytest.raises(FloatingPointError, match="not finite at the starting values"):
        check_start(np.nan)
