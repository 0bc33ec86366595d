"""fisherkit.autodiff.derivatives: the differential operators against closed forms and
central differences, and the classification of stationary points."""

import autograd.numpy as anp
import numpy as np
import pytest
from scipy import optimize

import fisherkit as fk
from fisherkit.autodiff import derivatives
from fisherkit.autodiff.derivatives import classify_stationary_point, gradient, hessian

SPECTOR = "GRADE ~ GPA + TUCE + PSI"


def test_gradient_closed_form():
    x = np.array([0.3, -1.2, 2.0])

    def f(t):
        return anp.sum(anp.sin(t)) + t[0] * t[1] ** 2

    expected = np.cos(x) + np.array([x[1] ** 2, 2 * x[0] * x[1], 0.0])
    np.testing.assert_allclose(derivatives.gradient(f, x), expected, rtol=1e-14)


def test_jacobian_closed_form():
    x = np.array([1.5, -0.5])

    def f(t):
        return anp.array([t[0] ** 2 * t[1], 5 * t[0] + anp.sin(t[1]), anp.exp(t[0])])

    expected = np.array([[2 * x[0] * x[1], x[0] ** 2],
                         [5.0, np.cos(x[1])],
                         [np.exp(x[0]), 0.0]])
    J = derivatives.jacobian(f, x)
    assert J.shape == (3, 2)
    np.testing.assert_allclose(J, expected, rtol=1e-14)


def test_hessian_closed_form_and_symmetrized():
    A = np.array([[2.0, 1.0, 0.0], [3.0, -1.0, 0.5], [0.0, 0.5, 4.0]])  # not symmetric
    x = np.array([0.1, -0.4, 0.7])

    def f(t):
        return 0.5 * anp.dot(t, anp.dot(A, t)) + anp.sum(anp.exp(t))

    expected = 0.5 * (A + A.T) + np.diag(np.exp(x))
    H = derivatives.hessian(f, x)
    np.testing.assert_allclose(H, expected, rtol=1e-14)
    assert np.array_equal(H, H.T)


def test_hessian_vector_product_closed_form():
    x = np.array([1.0, 2.0, -1.0])
    v = np.array([0.5, -1.0, 2.0])

    def f(t):
        return anp.sum(t ** 3) + t[0] * t[1] * t[2]

    H = np.diag(6 * x) + np.array([[0, x[2], x[1]], [x[2], 0, x[0]], [x[1], x[0], 0]])
    np.testing.assert_allclose(derivatives.hessian_vector_product(f, x, v), H @ v, rtol=1e-14)


def test_value_gradient_hessian_from_one_trace_equals_the_separate_operators():
    A = np.array([[2.0, 1.0, 0.0], [3.0, -1.0, 0.5], [0.0, 0.5, 4.0]])
    x = np.array([0.1, -0.4, 0.7])

    def f(t):
        return 0.5 * anp.dot(t, anp.dot(A, t)) + anp.sum(anp.exp(t)) + t[0] * t[1] * t[2]

    value, grad, H = derivatives.value_gradient_hessian(f, x)
    assert value == f(x)
    np.testing.assert_allclose(grad, derivatives.gradient(f, x), rtol=1e-15)
    np.testing.assert_allclose(H, derivatives.hessian(f, x), rtol=1e-15)
    assert np.array_equal(H, H.T)
    # and against central differences of the gradient (step 1e-6: error ~1e-9)
    fd = np.array([(derivatives.gradient(f, x + 1e-6 * e) - derivatives.gradient(f, x - 1e-6 * e))
                   / 2e-6 for e in np.eye(3)])
    np.testing.assert_allclose(H, fd, rtol=1e-8, atol=1e-8)


def test_value_gradient_hessian_outside_the_domain_is_nan_without_reverse_passes():
    # the reverse passes would give the finite -1 / t^2 on the diagonal; outside the
    # domain none are made and the Hessian is NaN
    with np.errstate(invalid="ignore"):
        value, _, H = derivatives.value_gradient_hessian(lambda t: anp.sum(anp.log(t)),
                                                         np.array([1.0, -1.0]))
    assert np.isnan(value) and H.shape == (2, 2) and np.all(np.isnan(H))


def test_eta_derivatives_closed_form():
    # normal in (mu, log sigma): l = -s - (y - m)^2 exp(-2 s) / 2 - log(2 pi) / 2
    rng = np.random.default_rng(5)
    y = rng.normal(size=6)
    E = np.column_stack([rng.normal(size=6), 0.3 * rng.normal(size=6)])

    def rows(A):
        r = y - A[:, 0]
        return -A[:, 1] - 0.5 * r * r * anp.exp(-2 * A[:, 1]) - 0.5 * np.log(2 * np.pi)

    values, U, W = derivatives.eta_derivatives(rows, E)
    r, q = y - E[:, 0], np.exp(-2 * E[:, 1])
    np.testing.assert_allclose(values, rows(E), rtol=1e-14)
    np.testing.assert_allclose(U, np.column_stack([r * q, -1 + r * r * q]), rtol=1e-13)
    assert W.shape == (6, 2, 2)
    np.testing.assert_allclose(W[:, 0, 0], -q, rtol=1e-13)
    np.testing.assert_allclose(W[:, 0, 1], -2 * r * q, rtol=1e-13)
    np.testing.assert_allclose(W[:, 1, 0], -2 * r * q, rtol=1e-13)
    np.testing.assert_allclose(W[:, 1, 1], -2 * r * r * q, rtol=1e-13)
    values2, U2, none = derivatives.eta_derivatives(rows, E, second=False)
    assert none is None
    np.testing.assert_array_equal(U2, U)


def test_is_symmetric():
    S = np.array([[2.0, 1.0], [1.0, 3.0]])
    assert derivatives.is_symmetric(S)
    assert derivatives.is_symmetric(S + np.array([[0, 1e-12], [0, 0]]))  # within 1e-10 of 3
    assert not derivatives.is_symmetric(S + np.array([[0, 1e-6], [0, 0]]))
    # relative to the largest entry, not absolute
    assert not derivatives.is_symmetric((S + np.array([[0, 1e-6], [0, 0]])) * 1e-200)
    assert derivatives.is_symmetric((S + np.array([[0, 1e-12], [0, 0]])) * 1e200)
    assert not derivatives.is_symmetric(np.array([[0.0, 1.0], [0.0, 0.0]]))
    assert derivatives.is_symmetric(np.zeros((3, 3)))


@pytest.mark.parametrize("eigenvalues,kind", [
    ([-3.0, -1.0, -0.5], "maximum"),
    ([3.0, 1.0, 0.5], "minimum"),
    ([-3.0, 1.0, 0.5], "saddle"),
    ([-3.0, -1.0, 0.0], "degenerate"),
    ([-3.0, -1.0, 1e-12], "degenerate"),  # under rtol * largest: counts as zero
    ([0.0, 0.0], "degenerate"),
    ([-3.0, 0.0, 2.0], "saddle"),  # a sign change decides even with a zero eigenvalue
])
def test_classify_stationary_point(eigenvalues, kind):
    Q, _ = np.linalg.qr(np.random.default_rng(6).standard_normal((len(eigenvalues),) * 2))
    H = Q @ np.diag(eigenvalues) @ Q.T  # a rotated, non-diagonal Hessian
    assert derivatives.classify_stationary_point(H) == kind


def test_classify_stationary_point_on_a_real_maximum_and_saddle():
    # f = -(x^2 + 2 y^2) has a maximum at 0; g = x^2 - y^2 a saddle; h = -x^4 - y^2 is a
    # maximum that the second order cannot see (degenerate)
    zero = np.zeros(2)

    def f(t):
        return -(t[0] ** 2 + 2 * t[1] ** 2)

    def g(t):
        return t[0] ** 2 - t[1] ** 2

    def h(t):
        return -t[0] ** 4 - t[1] ** 2

    assert derivatives.classify_stationary_point(derivatives.hessian(f, zero)) == "maximum"
    assert derivatives.classify_stationary_point(derivatives.hessian(g, zero)) == "saddle"
    assert derivatives.classify_stationary_point(derivatives.hessian(h, zero)) == "degenerate"


def mixture_loglik(y):
    """Two normal components, equal weights, unit variance; parameters (mu1, mu2)."""
    def loglik(mu):
        a, b = -0.5 * (y - mu[0]) ** 2, -0.5 * (y - mu[1]) ** 2
        return anp.sum(anp.logaddexp(a, b) - np.log(2.0) - 0.5 * np.log(2 * np.pi))
    return loglik


def test_classify_stationary_point_on_a_mixture_saddle():
    rng = np.random.default_rng(3)
    y = np.concatenate([rng.normal(-3.0, 1.0, 100), rng.normal(3.0, 1.0, 100)])
    loglik = mixture_loglik(y)
    symmetric = np.full(2, y.mean())
    assert np.max(np.abs(gradient(loglik, symmetric))) < 1e-9  # a stationary point
    H = hessian(loglik, symmetric)
    # by hand: eigenvalue -n/2 along (1, 1) and n (s^2 - 1)/2 along (1, -1), s^2 the
    # sample variance about the mean (here about 10, so well-separated)
    n, s2 = len(y), np.mean((y - y.mean()) ** 2)
    np.testing.assert_allclose(np.linalg.eigvalsh(H), [-n / 2, n * (s2 - 1) / 2], rtol=1e-10)
    assert classify_stationary_point(H) == "saddle"
    best = optimize.minimize(lambda m: -loglik(m), x0=[-1.0, 1.0],
                             jac=lambda m: -gradient(loglik, m), method="BFGS")
    assert classify_stationary_point(hessian(loglik, best.x)) == "maximum"
    res = fk.fit(SPECTOR, data=fk.datasets.load("spector"), family="logit")
    assert res.curvature().classification == "maximum"
