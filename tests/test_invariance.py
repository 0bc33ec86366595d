"""Natural-gradient paths do not depend on the coordinates; plain-gradient paths do.

A normal sample is fitted from the same start in theta = (mu, log sigma), the built-in
normal family's working scale with its own expected information, and in phi = (mu, sigma),
a general likelihood whose Fisher metric is ``J' I_theta J`` (J = d theta / d phi). Both
paths run for the same time T = steps x rate and the phi path is mapped back to theta.
The natural gradient is the Euler discretization of one coordinate-free flow, so the two
paths differ by O(rate); plain gradient follows two different flows, so they do not meet.

Measured (n = 400, start mu = 0, sigma = 1.5, T = 3): the largest distance between the
natural-gradient paths is 0.0196, 0.0078 and 0.0035 at rates 0.1, 0.05 and 0.025; between
the plain-gradient paths (rate / n) 0.326, 0.317 and 0.315.
"""

import warnings

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
from scipy import integrate

import fisherkit as fk
from fisherkit.models.expected import expected_information

N, MU0, SIGMA0, HORIZON = 400, 0.0, 1.5, 3.0
RATES = (0.1, 0.05, 0.025)


def normal(p, data):
    z = (data["y"] - p["mu"]) / p["sigma"]
    return -0.5 * z ** 2 - anp.log(p["sigma"]) - 0.5 * anp.log(2 * anp.pi)


@pytest.fixture(scope="module")
def y():
    return np.random.default_rng(5).normal(2.0, 3.0, size=N)


def fisher_phi(phi):
    """Expected information of n normal observations in (mu, sigma)."""
    return N * np.diag([1.0 / phi[1] ** 2, 2.0 / phi[1] ** 2])


def paths(y, method, rate):
    steps = int(round(HORIZON / rate))
    common = dict(method=method, maxiter=steps, tol=1e-300)
    natural = method == "natural_gradient"
    options = {"learning_rate": rate if natural else rate / N}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.ConvergenceWarning)
        theta = fk.fit("y ~ 1", data=pd.DataFrame({"y": y}), family="normal",
                       start=[MU0, np.log(SIGMA0)], **common,
                       options={**options, **({"damping": 0.0} if natural else {})})
        lik = fk.Likelihood(normal, {"y": y}, params={"mu": MU0, "sigma": SIGMA0})
        phi = fk.fit_likelihood(lik, **common, options={
            **options, **({"damping": 0.0, "fisher": fisher_phi} if natural else {})})
    A, B = theta.optimize_result.path, phi.optimize_result.path
    assert A.shape == B.shape == (steps + 1, 2)
    return A, np.column_stack([B[:, 0], np.log(B[:, 1])])


def largest_distance(y, method, rate) -> float:
    A, B = paths(y, method, rate)
    return float(np.max(np.linalg.norm(A - B, axis=1)))


def test_the_phi_metric_is_the_transformed_expected_information(y):
    # J' I_theta J with the package's own expected information at theta = (mu, log sigma)
    res = fk.fit("y ~ 1", data=pd.DataFrame({"y": y}), family="normal")
    phi = np.array([0.7, 2.2])
    info_theta = expected_information(res.model, np.array([phi[0], np.log(phi[1])])).matrix
    J = np.diag([1.0, 1.0 / phi[1]])
    np.testing.assert_allclose(J.T @ info_theta @ J, fisher_phi(phi), rtol=1e-12)


def test_natural_gradient_paths_agree_across_coordinates_plain_gradient_paths_do_not(y):
    natural = [largest_distance(y, "natural_gradient", h) for h in RATES]
    plain = [largest_distance(y, "gradient", h) for h in RATES]
    # natural gradient: O(rate), halving with the rate (measured 0.0196, 0.0078, 0.0035)
    assert natural[-1] < 0.005
    assert all(a / b > 1.8 for a, b in zip(natural, natural[1:]))
    # plain gradient: an O(1) gap that smaller steps do not close (0.326, 0.317, 0.315),
    # nearly a hundred times the natural gradient's at the smallest rate
    assert min(plain) > 0.25
    assert plain[-1] / plain[0] > 0.9
    assert plain[-1] > 50 * natural[-1]
    # the gap the plain paths tend to is the one between the two continuous gradient flows,
    # d theta / dt = grad_theta l / n and d phi / dt = grad_phi l / n, integrated here by
    # scipy (0.3126): the Euler paths approach it at first order in the rate
    flows = plain_gradient_flows(y)
    errors = [abs(gap - flows) for gap in plain]
    assert errors[-1] < 0.2 * RATES[-1]  # measured 0.0020 at rate 0.025
    assert all(a / b > 1.8 for a, b in zip(errors, errors[1:]))


def plain_gradient_flows(y) -> float:
    """The largest distance, over the horizon, between the gradient flows of the normal
    log-likelihood in theta = (mu, log sigma) and in phi = (mu, sigma), the phi flow mapped
    to theta; by scipy's solve_ivp (relative and absolute tolerance 1e-12)."""
    def in_theta(t, theta):
        r, variance = y - theta[0], np.exp(2 * theta[1])
        return np.array([r.sum() / variance, -N + (r * r).sum() / variance]) / N

    def in_phi(t, phi):
        r, sigma = y - phi[0], phi[1]
        return np.array([r.sum() / sigma ** 2, -N / sigma + (r * r).sum() / sigma ** 3]) / N

    times = np.linspace(0.0, HORIZON, 3001)
    common = dict(t_eval=times, rtol=1e-12, atol=1e-12)
    a = integrate.solve_ivp(in_theta, (0.0, HORIZON), [MU0, np.log(SIGMA0)], **common).y.T
    b = integrate.solve_ivp(in_phi, (0.0, HORIZON), [MU0, SIGMA0], **common).y.T
    return float(np.max(np.linalg.norm(a - np.column_stack([b[:, 0], np.log(b[:, 1])]), axis=1)))


def test_both_coordinates_reach_the_same_maximum(y):
    theta = fk.fit("y ~ 1", data=pd.DataFrame({"y": y}), family="normal",
                   method="natural_gradient", start=[MU0, np.log(SIGMA0)])
    lik = fk.Likelihood(normal, {"y": y}, params={"mu": MU0, "sigma": SIGMA0})
    phi = fk.fit_likelihood(lik, method="natural_gradient", options={"fisher": fisher_phi})
    assert theta.converged and phi.converged
    # the sample mean and the maximum-likelihood standard deviation
    np.testing.assert_allclose(theta.theta, [y.mean(), np.log(y.std())], rtol=1e-9)
    np.testing.assert_allclose(phi.theta, [y.mean(), y.std()], rtol=1e-9)
