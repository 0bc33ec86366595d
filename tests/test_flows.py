"""Normalizing flows: the Gaussian case in closed form, the density's normalization and
log-determinant, sampling, and a maximum-likelihood fit with standard errors."""

import autograd.numpy as anp
import numpy as np
import pytest
from scipy import stats

import fisherkit as fk
from fisherkit.flows import Flow

TRUE = {"affine1_shift": np.array([1.0, -2.0]), "affine1_scale": np.array([1.0, 0.5]),
        "affine1_shear": np.array([0.8]), "planar1_u": np.array([2.0, 0.5]),
        "planar1_w": np.array([1.5, -0.5]), "planar1_b": np.array(0.3)}
LAYERS = ["affine", "planar"]


def standard_normal(z):
    return -0.5 * anp.sum(z ** 2, axis=-1) - anp.log(2 * anp.pi)


def test_an_affine_flow_is_the_gaussian_maximum_likelihood_fit():
    x = np.random.default_rng(5).multivariate_normal([1.0, 2.0], [[2.0, 0.6], [0.6, 1.0]], 500)
    res = Flow(["affine"]).fit(x, method="newton")
    mean, S = x.mean(axis=0), np.cov(x.T, bias=True)
    L = np.linalg.cholesky(S)
    np.testing.assert_allclose(res.params[["affine1_shift[0]", "affine1_shift[1]"]], mean,
                               atol=1e-10)
    np.testing.assert_allclose(res.params[["affine1_scale[0]", "affine1_scale[1]",
                                           "affine1_shear[0]"]], [L[0, 0], L[1, 1], L[1, 0]],
                               rtol=1e-9)
    assert res.loglik == pytest.approx(stats.multivariate_normal(mean, S).logpdf(x).sum(),
                                       rel=1e-12)
    # the mean's information is n S^-1, orthogonal to the covariance parameters
    np.testing.assert_allclose(res.se[["affine1_shift[0]", "affine1_shift[1]"]],
                               np.sqrt(np.diag(S) / len(x)), rtol=1e-8)


def test_closed_form_log_determinant_equals_autograd_and_sampling_inverts_the_flow():
    flow = Flow(LAYERS)
    x = flow.sample(TRUE, 300, seed=2)
    closed = flow.logpdf(TRUE, x)
    by_autograd = fk.transformed_logpdf(standard_normal, flow.transform(TRUE))(x)
    np.testing.assert_allclose(closed, by_autograd, rtol=1e-12, atol=1e-12)
    z, _ = flow.to_normal(TRUE, x)
    np.testing.assert_allclose(z, np.random.default_rng(2).standard_normal((300, 2)),
                               atol=1e-10)


def test_the_flow_density_integrates_to_one():
    grid = np.linspace(-12.0, 12.0, 1201)
    gx, gy = np.meshgrid(grid, grid)
    density = np.exp(Flow(LAYERS).logpdf(TRUE, np.column_stack([gx.ravel(), gy.ravel()])))
    total = np.trapezoid(np.trapezoid(density.reshape(gx.shape), grid, axis=1), grid)
    assert total == pytest.approx(1.0, abs=1e-6)


@pytest.fixture(scope="module")
def fitted():
    flow = Flow(LAYERS)
    x = flow.sample(TRUE, 3000, seed=7)
    return flow, flow.fit(x), x


@pytest.mark.slow
def test_fit_reaches_a_maximum_with_finite_standard_errors(fitted):
    flow, res, x = fitted
    assert res.converged and not res.flags
    assert np.all(np.isfinite(res.se)) and np.all(res.se > 0)
    info = res.information("observed", scale="working").to_numpy()
    assert np.linalg.eigvalsh(info).min() > 0
    assert np.abs(res.model.score(res.theta)).max() < 1e-3
    # the autograd Hessian against central differences of the autograd gradient
    theta, h = np.array(res.theta), 1e-5
    columns = [(res.model.score(theta + h * e) - res.model.score(theta - h * e)) / (2 * h)
               for e in np.eye(theta.size)]
    np.testing.assert_allclose(np.column_stack(columns), -info, rtol=1e-5,
                               atol=1e-6 * np.abs(info).max())
    # the standard errors from second differences of the log-likelihood alone (h = 1e-4:
    # rounding ~ eps |l| / h^2 = 1e-7 of these entries; measured 7e-7 on the SEs), carried
    # to the natural scale by central differences of to_natural
    model, p = res.model, theta.size
    E = np.eye(p) * 1e-4
    fd_hessian = np.empty((p, p))
    for a in range(p):
        for b in range(a, p):
            fd_hessian[a, b] = fd_hessian[b, a] = (
                model.loglik(theta + E[a] + E[b]) - model.loglik(theta + E[a] - E[b])
                - model.loglik(theta - E[a] + E[b]) + model.loglik(theta - E[a] - E[b])) / 4e-8
    fd_jacobian = np.column_stack([(np.asarray(model.to_natural(theta + h * e))
                                    - np.asarray(model.to_natural(theta - h * e))) / (2 * h)
                                   for e in np.eye(p)])
    fd_cov = fd_jacobian @ np.linalg.inv(-fd_hessian) @ fd_jacobian.T
    np.testing.assert_allclose(res.se, np.sqrt(np.diag(fd_cov)), rtol=1e-5)


@pytest.mark.slow
def test_fitted_density_is_close_to_the_true_one_on_new_data(fitted):
    flow, res, x = fitted
    params = res.model.unpack(res.model.to_natural(res.theta))
    fresh = flow.sample(TRUE, 5000, seed=99)
    gap = flow.logpdf(params, fresh) - flow.logpdf(TRUE, fresh)
    # the average log-density ratio estimates minus the KL divergence: small and of the
    # order of (number of parameters) / (2 n)
    assert abs(gap.mean()) < 0.02
    assert res.loglik >= flow.logpdf(TRUE, x).sum()


@pytest.mark.slow
def test_single_start_can_stop_at_a_worse_local_maximum(fitted):
    flow, res, x = fitted
    single = flow.fit(x, n_starts=1)
    assert single.loglik <= res.loglik + 1e-8
    with pytest.raises(fk.SpecificationError, match="'n_starts' must be a positive integer"):
        flow.fit(x, n_starts=0)


def test_flow_errors():
    with pytest.raises(fk.SpecificationError, match="Flow layers"):
        Flow(["radial"])
    with pytest.raises(fk.SpecificationError, match="'dim' must be a positive integer"):
        Flow(["affine"], dim=0)
    with pytest.raises(fk.DataError, match=r"needs an \(n, 2\) array"):
        Flow(["affine"]).fit(np.zeros((10, 3)))
    bad = np.ones((10, 2))
    bad[4, 1] = np.inf
    with pytest.raises(fk.DataError, match="row 4, column 1"):
        Flow(["affine"]).fit(bad)
