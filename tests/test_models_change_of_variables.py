"""Change of variables: transformed log-densities against scipy, closed forms and quadrature."""

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from scipy import integrate, stats

import fisherkit as fk
from fisherkit.models.change_of_variables import Transform, transformed_logpdf

MU, S = 0.3, 0.8


def normal_logpdf(x):
    return -0.5 * ((x - MU) / S) ** 2 - anp.log(S) - 0.5 * anp.log(2 * anp.pi)


def standard_normal_2d(x):
    return -0.5 * anp.sum(x ** 2, axis=-1) - anp.log(2 * anp.pi)


MEAN = np.array([1.0, -1.0])
COV = np.array([[2.0, 0.6], [0.6, 1.0]])
A = np.array([[1.5, -0.4], [0.7, 2.0]])
B = np.array([0.5, 3.0])


def mvn_logpdf(x):
    r = x - MEAN
    quad = anp.sum(anp.dot(r, np.linalg.inv(COV)) * r, axis=-1)
    return -0.5 * quad - 0.5 * np.linalg.slogdet(COV)[1] - np.log(2 * np.pi)


def logit(y):
    return anp.log(y) - anp.log1p(-y)


# a curved map of the plane: y1 = x1, y2 = x2 exp(x1 / 2) + x1^2, whose Jacobian varies
def banana_inverse(y):
    y1, y2 = y[..., 0], y[..., 1]
    return anp.stack([y1, (y2 - y1 ** 2) * anp.exp(-y1 / 2)], axis=-1)


def banana_closed(y):
    x = banana_inverse(np.asarray(y))
    return stats.norm.logpdf(x[..., 0]) + stats.norm.logpdf(x[..., 1]) - y[..., 0] / 2


LOGNORMAL = {"closed form": Transform.exp(), "autograd": Transform(inverse=anp.log, forward=anp.exp)}
LOGIT_NORMAL = {"closed form": Transform.sigmoid(), "autograd": Transform(inverse=logit)}
AFFINE = {"closed form": Transform.affine(A, B),
          "autograd": Transform(inverse=lambda y: anp.dot(y - B, np.linalg.inv(A).T),
                                elementwise=False)}


@pytest.mark.parametrize("path", list(LOGNORMAL))
def test_log_normal_from_normal_matches_scipy(path):
    y = np.geomspace(1e-3, 50.0, 41)
    got = transformed_logpdf(normal_logpdf, LOGNORMAL[path])(y)
    np.testing.assert_allclose(got, stats.lognorm.logpdf(y, S, scale=np.exp(MU)), rtol=0, atol=1e-12)


@pytest.mark.parametrize("path", list(AFFINE))
def test_affine_map_of_a_multivariate_normal_matches_scipy(path):
    y = np.random.default_rng(0).normal(size=(25, 2)) * 3.0
    reference = stats.multivariate_normal(A @ MEAN + B, A @ COV @ A.T)
    log_density = transformed_logpdf(mvn_logpdf, AFFINE[path])
    np.testing.assert_allclose(log_density(y), reference.logpdf(y), rtol=0, atol=1e-12)
    np.testing.assert_allclose(log_density(y[3]), reference.logpdf(y[3]), rtol=0, atol=1e-12)


@pytest.mark.parametrize("path", list(LOGIT_NORMAL))
def test_logit_normal_matches_its_closed_form(path):
    y = np.linspace(0.001, 0.999, 37)
    # logit-normal density (Aitchison and Shen, 1980): phi((logit y - mu) / s) / (s y (1 - y))
    closed = (-0.5 * ((np.log(y / (1 - y)) - MU) / S) ** 2 - np.log(S * np.sqrt(2 * np.pi))
              - np.log(y) - np.log1p(-y))
    got = transformed_logpdf(normal_logpdf, LOGIT_NORMAL[path])(y)
    np.testing.assert_allclose(got, closed, rtol=0, atol=1e-12)


def test_curved_vector_map_matches_its_closed_form():
    y = np.random.default_rng(2).normal(size=(30, 2)) * 2.0
    log_density = transformed_logpdf(standard_normal_2d, Transform(inverse=banana_inverse,
                                                                   elementwise=False))
    np.testing.assert_allclose(log_density(y), banana_closed(y), rtol=0, atol=1e-12)
    # row-by-row Jacobians of a batch equal one Jacobian per point
    t = Transform(inverse=banana_inverse, elementwise=False)
    one_by_one = [np.linalg.slogdet(autograd.jacobian(banana_inverse)(row))[1] for row in y]
    np.testing.assert_allclose(t.inverse_log_det(y), one_by_one, rtol=0, atol=1e-13)


def test_elementwise_map_of_a_vector_sums_its_log_jacobian():
    x_logpdf = lambda x: anp.sum(normal_logpdf(x), axis=-1)  # noqa: E731
    y = np.array([[0.5, 2.0, 3.0], [1.0, 0.1, 7.0]])
    got = transformed_logpdf(x_logpdf, Transform.exp())(y)
    expected = stats.lognorm.logpdf(y, S, scale=np.exp(MU)).sum(axis=1)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


# ---- the densities integrate to one (adaptive quadrature; tolerances just above its own) --


def test_one_dimensional_densities_integrate_to_one():
    for transform, lower, upper in [(Transform.exp(), 0.0, np.inf), (Transform.sigmoid(), 0.0, 1.0)]:
        log_density = transformed_logpdf(normal_logpdf, transform)
        total, error = integrate.quad(lambda v: np.exp(log_density(np.array(v))), lower, upper,
                                      epsabs=1e-12, epsrel=1e-12, limit=200)
        assert abs(total - 1.0) < 1e-9, (transform, total, error)


def _trapezoid_weights(grid):
    w = np.full(len(grid), grid[1] - grid[0])
    w[[0, -1]] /= 2
    return w


def test_two_dimensional_densities_integrate_to_one():
    # the trapezoid rule on a smooth integrand that has decayed below 1e-30 at the edges is
    # accurate far beyond the stated 1e-9 (its error falls exponentially with the spacing)
    t = np.linspace(-13.0, 13.0, 521)
    affine = transformed_logpdf(mvn_logpdf, Transform.affine(A, B))
    sd = np.sqrt(np.diag(A @ COV @ A.T))
    centre = A @ MEAN + B
    g1, g2 = centre[0] + sd[0] * t, centre[1] + sd[1] * t
    points = np.stack(np.meshgrid(g1, g2, indexing="ij"), axis=-1).reshape(-1, 2)
    weights = np.outer(_trapezoid_weights(g1), _trapezoid_weights(g2)).ravel()
    assert abs(weights @ np.exp(affine(points)) - 1.0) < 1e-9
    # the curved map: for each y1 the second coordinate spans y1^2 + exp(y1 / 2) * t
    banana = transformed_logpdf(standard_normal_2d, Transform(inverse=banana_inverse,
                                                              elementwise=False))
    y1 = np.linspace(-13.0, 13.0, 521)
    spread = np.exp(y1 / 2)
    y2 = y1[:, None] ** 2 + spread[:, None] * t[None, :]
    points = np.stack([np.broadcast_to(y1[:, None], y2.shape), y2], axis=-1).reshape(-1, 2)
    weights = np.outer(_trapezoid_weights(y1) * spread, _trapezoid_weights(t)).ravel()
    assert abs(weights @ np.exp(banana(points)) - 1.0) < 1e-9


def test_parameters_inside_a_transform_are_differentiable():
    y = np.linspace(0.2, 5.0, 9)

    def total(scale):
        t = Transform(inverse=lambda v: anp.log(v) / scale)
        return anp.sum(transformed_logpdf(lambda x: -0.5 * x ** 2, t)(y))

    h = 1e-6
    fd = (total(0.7 + h) - total(0.7 - h)) / (2 * h)
    np.testing.assert_allclose(autograd.grad(total)(0.7), fd, rtol=1e-7)


def test_forward_maps_points_back():
    t = Transform.affine(A, B)
    x = np.array([[0.3, -0.2], [1.0, 2.0]])
    np.testing.assert_allclose(t.inverse(t.forward(x)), x, rtol=1e-14)
    np.testing.assert_allclose(Transform.sigmoid().inverse(Transform.sigmoid().forward(0.4)), 0.4)
    assert repr(t) == "Transform('affine', vector)"


# ---- errors -----------------------------------------------------------------------------


def test_errors():
    with pytest.raises(fk.SpecificationError, match="'inverse' of a Transform must be callable"):
        Transform(inverse=2.0)
    with pytest.raises(fk.SpecificationError, match="given no forward map"):
        Transform(inverse=anp.log).forward(1.0)
    with pytest.raises(fk.SpecificationError, match="square matrix and a shift of its size"):
        Transform.affine(np.ones((2, 3)))
    with pytest.raises(fk.SpecificationError, match="must be invertible"):
        Transform.affine(np.ones((2, 2)))
    with pytest.raises(fk.SpecificationError, match="'logpdf' must be callable"):
        transformed_logpdf(None, Transform.exp())
    with pytest.raises(fk.SpecificationError, match="must be a fk.Transform"):
        transformed_logpdf(normal_logpdf, anp.exp)
    per_coordinate = transformed_logpdf(normal_logpdf, Transform.affine(A, B))
    with pytest.raises(fk.SpecificationError, match="one value per point"):
        per_coordinate(np.ones((4, 2)))
    vector = Transform(inverse=banana_inverse, elementwise=False)
    with pytest.raises(fk.SpecificationError, match="got a scalar"):
        vector.inverse_log_det(1.0)
