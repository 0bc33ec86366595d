"""scipy's quasi-Newton methods with the package's trace."""

import numpy as np
import pytest

import fisherkit as fk
from fisherkit.optimize.quasi_newton import BFGS, LBFGS, minimize_with_scipy


@pytest.fixture(scope="module")
def best():
    return fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")


@pytest.mark.parametrize("method", ["BFGS", "L-BFGS-B"])
def test_scipys_methods_reach_newtons_maximum_with_a_trace_row_per_iteration(best, method):
    model = best.model
    seen = []
    res = minimize_with_scipy(method, model, model.start_values(), maxiter=1000, tol=1e-10,
                              callback=seen.append)
    assert res.converged and res.hessian is None
    assert len(res.trace) == len(seen) == res.n_iter + 1
    assert res.trace["iteration"].tolist() == list(range(len(res.trace)))
    np.testing.assert_allclose(res.theta, best.theta, atol=1e-4)
    # the callback's iterate was already evaluated: about one pass per iteration
    assert res.trace["passes"].iloc[-1] <= 2 * res.n_iter + 2


def test_the_objects_run_scipy(best):
    model = best.model
    for opt, method in ((BFGS(), "BFGS"), (LBFGS(), "L-BFGS-B")):
        a = opt.run(model, model.start_values(), maxiter=1000, tol=1e-10)
        b = minimize_with_scipy(method, model, model.start_values(), maxiter=1000, tol=1e-10)
        np.testing.assert_array_equal(a.theta, b.theta)
        assert a.message == b.message
